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

document.addEventListener("toggle", function (event) {
  // Review actions (.review-action): one form open at a time, even where <details name> is not known;
  // the opened form's field with the error, else its first field, gets the focus.
  var opened = event.target;
  if (!opened.matches || !opened.matches("details.review-action") || !opened.open) return;
  document.querySelectorAll("details.review-action[open]").forEach(function (other) {
    if (other !== opened) other.open = false;
  });
  var field = opened.querySelector("[aria-invalid=true]") || opened.querySelector("textarea, input:not([type=hidden])");
  if (field) field.focus();
}, true);

// Wizard fields: an error clears once the field is put right. A field the server checks (hx-post) gets
// its message element swapped in, and the field is marked by it; a required field without such a check
// is right as soon as it is filled in. A hint the error replaced (data-hint) shows again.
function markField(input, problem) {
  if (problem) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  var field = input.closest(".field");
  if (field) field.classList.toggle("has-error", problem);
}

function showHint(message, hint) {
  message.removeAttribute("role");
  message.className = hint ? "hint" : "field-msg";
  message.textContent = hint || "";
}

document.addEventListener("htmx:load", function (event) {
  var elt = event.detail.elt;
  if (!elt.matches) return;
  if (elt.matches(".row-card")) {
    // A row added in place ([添加服务项目]): its first field takes the focus.
    var first = elt.querySelector("input, select, textarea");
    if (first) first.focus();
    return;
  }
  if (!elt.id || !/-msg$/.test(elt.id)) return;
  var input = document.querySelector('[aria-describedby~="' + elt.id + '"]');
  if (!input) return;
  var problem = elt.classList.contains("field-error");
  markField(input, problem);
  if (!problem && !elt.textContent.trim() && input.dataset.hint) showHint(elt, input.dataset.hint);
});

function clearWhenFilled(event) {
  var input = event.target;
  if (!input.matches || !input.matches('[aria-invalid="true"][aria-required="true"]:not([hx-post])')) return;
  var filled = input.type === "checkbox" ? input.checked
    : input.type === "file" ? input.files.length > 0
    : input.value.trim() !== "";
  if (!filled) return;
  markField(input, false);
  var message = document.getElementById((input.getAttribute("aria-describedby") || "").split(" ")[0]);
  if (message) showHint(message, input.dataset.hint);
}
document.addEventListener("input", clearWhenFilled);
document.addEventListener("change", clearWhenFilled);

// A row's add button that htmx could not get an answer for (a lost connection, an expired page) sends
// its form the plain way instead, so that the press is never lost silently.
function addRowThePlainWay(event) {
  var button = event.detail.elt;
  if (!button || !button.form || !button.matches('button[value^="add-"]')) return;
  setTimeout(function () { button.disabled = false; button.form.requestSubmit(button); }, 0);
}
document.addEventListener("htmx:responseError", addRowThePlainWay);
document.addEventListener("htmx:sendError", addRowThePlainWay);
