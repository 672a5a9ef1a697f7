// Draws a handwritten signature on the canvas and puts it, as a PNG data URL, into the hidden
// "signature" field. Without JavaScript the canvas stays blank and the typed name is the signature.
(function () {
  var pad = document.querySelector("[data-signature-pad]");
  if (!pad) return;
  var canvas = pad.querySelector("canvas");
  var form = pad.closest("form");
  var field = form.querySelector("input[name=signature]");
  var clear = pad.querySelector("[data-signature-clear]");
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;

  ctx.lineWidth = 4;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#111";
  clear.hidden = false;

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - rect.left) * (canvas.width / rect.width),
      y: (event.clientY - rect.top) * (canvas.height / rect.height),
    };
  }
  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var p = point(event);
    ctx.beginPath();
    ctx.moveTo(p.x, p.y);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    var p = point(event);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    drawn = true;
  });
  function stop() {
    if (drawing && drawn) field.value = canvas.toDataURL("image/png");
    drawing = false;
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  clear.addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    field.value = "";
    drawn = false;
  });
})();
