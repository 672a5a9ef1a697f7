// Draws a handwritten signature on the canvas and puts it, as a PNG data URL, into the hidden
// "signature" field. Without JavaScript the canvas stays blank and the typed name is the signature.
// The canvas keeps its 600x200 drawing surface; CSS scales it to the width of the screen, so pointer
// positions are mapped from the displayed size (inside any border) to the drawing surface.
(function () {
  var pad = document.querySelector("[data-signature-pad]");
  if (!pad) return;
  var canvas = pad.querySelector("canvas");
  var form = pad.closest("form");
  var field = form && form.querySelector("input[name=signature]");
  var clear = pad.querySelector("[data-signature-clear]");
  if (!canvas || !field || !canvas.getContext) return;
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var last = null;

  function pen() {
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    ctx.fillStyle = "#111";
  }
  pen();
  if (clear) clear.hidden = false;

  // A page sent back with an error (wrong password, say) still holds the drawing in the field: show it.
  if (/^data:image\/png;base64,/.test(field.value)) {
    var previous = new Image();
    previous.onload = function () { ctx.drawImage(previous, 0, 0, canvas.width, canvas.height); };
    previous.src = field.value;
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    var width = canvas.clientWidth || rect.width;
    var height = canvas.clientHeight || rect.height;
    return {
      x: (event.clientX - rect.left - canvas.clientLeft) * (canvas.width / width),
      y: (event.clientY - rect.top - canvas.clientTop) * (canvas.height / height),
    };
  }

  canvas.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    drawing = true;
    if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
    last = point(event);
    // A tap leaves a dot, as a pen would.
    ctx.beginPath();
    ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    if (!events.length) events = [event];
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    events.forEach(function (e) {
      last = point(e);
      ctx.lineTo(last.x, last.y);
    });
    ctx.stroke();
    event.preventDefault();
  });
  function stop() {
    if (!drawing) return;
    drawing = false;
    last = null;
    field.value = canvas.toDataURL("image/png");
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("lostpointercapture", stop);
  if (clear) {
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      pen();
      field.value = "";
    });
  }
})();
