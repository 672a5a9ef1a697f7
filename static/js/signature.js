// The drawn signature on the pledge step, with the signature_pad package (static/vendor, copied from
// node_modules by `make setup`): smooth strokes, sharp on high-density screens. Each finished stroke puts
// the drawing, as a PNG data URL, into the hidden "signature" field the server checks (qzt/pledges/forms.py);
// [重写] empties both. Without JavaScript the canvas stays blank and the typed name is the signature.
(function () {
  var pad = document.querySelector("[data-signature-pad]");
  if (!pad || typeof window.SignaturePad !== "function") return;
  var canvas = pad.querySelector("canvas");
  var form = pad.closest("form");
  var field = form && form.querySelector("input[name=signature]");
  var clear = pad.querySelector("[data-signature-clear]");
  if (!canvas || !field || !canvas.getContext) return;

  // The PNG sent is at most this wide, whatever the screen's density (the server takes up to 2000×1000).
  var EXPORT_WIDTH = 900;
  var signature = new window.SignaturePad(canvas, { minWidth: 1, maxWidth: 3.2, penColor: "#111" });
  var shownWidth = 0;

  function save() {
    if (signature.isEmpty()) {
      field.value = "";
      return;
    }
    var out = document.createElement("canvas");
    out.width = Math.min(EXPORT_WIDTH, canvas.width);
    out.height = Math.round((out.width * canvas.height) / canvas.width);
    out.getContext("2d").drawImage(canvas, 0, 0, out.width, out.height);
    field.value = out.toDataURL("image/png");
  }

  // The field still holds the drawing when the page comes back with an error (a wrong password, say),
  // or after the pad changed shape (a phone's pad is taller): draw it again, scaled to fit, centred.
  function restore() {
    var url = field.value;
    if (!/^data:image\/png;base64,/.test(url)) return;
    var image = new Image();
    image.onload = function () {
      var w = canvas.offsetWidth, h = canvas.offsetHeight;
      var scale = Math.min(w / image.width, h / image.height);
      var options = { width: image.width * scale, height: image.height * scale };
      options.xOffset = (w - options.width) / 2;
      options.yOffset = (h - options.height) / 2;
      if (field.value === url) signature.fromDataURL(url, options);
    };
    image.src = url;
  }

  // The drawing surface is the displayed size times the screen's pixel density. Only a new width
  // (turning the phone) redraws: a phone's toolbar coming and going changes the height of the window only.
  function fit() {
    if (!canvas.offsetWidth || canvas.offsetWidth === shownWidth) return;
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    shownWidth = canvas.offsetWidth;
    canvas.width = Math.round(canvas.offsetWidth * ratio);
    canvas.height = Math.round(canvas.offsetHeight * ratio);
    canvas.getContext("2d").scale(ratio, ratio);
    signature.clear();
    restore();
  }

  signature.addEventListener("endStroke", save);
  window.addEventListener("resize", fit);
  fit();
  if (clear) {
    clear.hidden = false;
    clear.addEventListener("click", function () {
      signature.clear();
      field.value = "";
    });
  }
})();
