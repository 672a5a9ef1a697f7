// Progressive enhancement only: every page works without this file.
document.addEventListener("htmx:configRequest", function (event) {
  // Keep bookmarked URLs short: drop empty filter fields from GET requests.
  if (event.detail.verb !== "get") return;
  var params = event.detail.parameters;
  var names = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
  names.forEach(function (name) {
    var value = params instanceof FormData ? params.get(name) : params[name];
    if (value === "" || value === null) {
      if (params instanceof FormData) params.delete(name); else delete params[name];
    }
  });
});
