// Helpers shared by script steps; evaluated before the main script (a `dependencies` entry).
function where(items, field, value) {
  return items.filter(function (item) { return item[field] === value; });
}

function pick(items, fields) {
  return items.map(function (item) {
    var picked = {};
    fields.forEach(function (name) { picked[name] = item[name]; });
    return picked;
  });
}
