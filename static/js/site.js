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

document.addEventListener("htmx:afterSettle", function (event) {
  // After 上一页/下一页 the new page starts at the top of the results, not where the pager was;
  // focus moves to the result count so screen readers announce the new page.
  var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!trigger || !trigger.closest || !trigger.closest(".pager")) return;
  var count = document.getElementById("result-count");
  if (!count) return;
  count.focus({ preventScroll: true });
  var top = count.getBoundingClientRect().top;
  if (top < 0) count.scrollIntoView({ block: "start" });
});

document.addEventListener("htmx:beforeSwap", function (event) {
  // "Too many requests" is said where the answer was expected (e.g. under [获取验证码]), not silently.
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
