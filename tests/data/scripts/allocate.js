// Grows without bound: the heap limit must stop it.
var hoard = [];
while (true) { hoard.push(new Array(100000).fill(hoard.length)); }
