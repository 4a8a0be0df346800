// What a script could reach outside V8: nothing.
var names = ["require", "process", "module", "exports", "fetch", "XMLHttpRequest", "WebSocket",
  "importScripts", "Deno", "Bun", "load", "read", "readFile", "print", "os", "quit"];
var found = names.filter(function (name) { return typeof globalThis[name] !== "undefined"; });
var probe = { imported: "pending" };
import("fs").then(
  function () { probe.imported = "loaded"; },
  function () { probe.imported = "refused"; }
);
result = { found: found, probe: probe };
