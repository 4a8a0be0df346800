// `threshold` comes from the step's `with` (rendered text, hence Number()).
var limit = Number(context.threshold);
result = context["fetch-items"].filter(function (item) { return item.stock < limit; });
