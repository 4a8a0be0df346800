// The members of `list-members` that are people, not bots, with their login and id.
var members = context["list-members"];
result = pick(where(members, "type", "User"), ["login", "id"]);
