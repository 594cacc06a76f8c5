"""The web page's JavaScript, part 3: the drawing pad and what the page shows.

``PAGE_JS`` runs after ``PREPARE_JS`` (:mod:`explainer.export.own_image_js`) and ``NETWORK_JS``
(:mod:`explainer.export.network_js`), in the page only. It
decodes the network written into the page, lets a finger, a pen or the mouse draw on the 280x280 pad
(pointer events; ``touch-action: none`` keeps the page from scrolling under the finger), and, while
drawing (once a frame) and when the pen is lifted, reads the pad: Pillow's grey levels of its pixels,
``prepareImage``, ``forward``. It shows the prepared input, the answer, "not sure" or the reason for a
refusal, and a bar per digit. The last reading is kept in ``window.explainerReading`` (the pad's grey
levels, the input, the probabilities), which is what the browser test compares with NumPy.
"""

__all__ = ["PAGE_JS"]

PAGE_JS = r"""
const NET = JSON.parse(document.getElementById("network").textContent);
const C = NET.constants;
LEAKY_RELU_SLOPE = C.LEAKY_RELU_SLOPE;
for (const layer of NET.layers) {  // pooling and flatten layers have no weights
  if (layer.W) { layer.W = decodeFloats(layer.W); layer.b = decodeFloats(layer.b); }
}

const pad = document.getElementById("pad"), ctx = pad.getContext("2d", { willReadFrequently: true });
const seen = document.getElementById("seen"), seenCtx = seen.getContext("2d");
const SIDE = pad.width, PEN = Math.round(SIDE * 0.08);
const STYLE = getComputedStyle(document.documentElement);  // the colours come from explainer.colours, as CSS
const PAPER = STYLE.getPropertyValue("--pad-paper").trim(), INK = STYLE.getPropertyValue("--pen").trim();

function blank() {
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, SIDE, SIDE);
  seenCtx.fillStyle = PAPER;
  seenCtx.fillRect(0, 0, seen.width, seen.height);
  show(null);
}

function at(e) {  // the pointer in the canvas's own pixels, whatever size it is drawn at
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * SIDE / r.width, (e.clientY - r.top) * SIDE / r.height];
}

let drawing = false, last = null, pending = false;
pad.addEventListener("pointerdown", e => {
  e.preventDefault();
  try { pad.setPointerCapture(e.pointerId); } catch (error) { /* a synthetic event's pointer: nothing to capture */ }
  drawing = true;
  last = at(e);
  stroke(last, last);
});
pad.addEventListener("pointermove", e => {
  if (!drawing) return;
  e.preventDefault();
  const next = at(e);
  stroke(last, next);
  last = next;
  if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; read(); }); }
});
for (const end of ["pointerup", "pointercancel"]) {
  pad.addEventListener(end, () => { if (drawing) { drawing = false; read(); } });
}
document.getElementById("clear").addEventListener("click", blank);

function stroke(from, to) {
  Object.assign(ctx, { strokeStyle: INK, lineWidth: PEN, lineCap: "round", lineJoin: "round" });
  ctx.beginPath();
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0] + 0.01, to[1]);  // a tap draws a dot
  ctx.stroke();
}

function read() {  // prepare the drawing as own_image.py does, run the network, show what it reads
  const grey = greyFromRGBA(ctx.getImageData(0, 0, SIDE, SIDE).data, SIDE, SIDE);
  const reading = { grey: Array.from(grey), h: SIDE, w: SIDE, x: null, p: null, refused: null, unsure: null };
  try {
    reading.x = Array.from(prepareImage(grey, SIDE, SIDE, C));
    reading.p = Array.from(forward(NET, reading.x));
    reading.unsure = Math.max(...reading.p) < C.UNSURE_BELOW;
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    reading.refused = e.message;
  }
  window.explainerReading = reading;  // for the browser test: the pixels, the input and the probabilities
  show(reading);
}

function show(reading) {
  const digit = document.getElementById("digit"), verdict = document.getElementById("verdict");
  const [h, w] = C.image_shape;
  const image = seenCtx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const v = reading && reading.x ? Math.round(255 * (1 - reading.x[i])) : 255;
    image.data.set([v, v, v, 255], 4 * i);
  }
  seenCtx.putImageData(image, 0, 0);
  const p = reading && reading.p ? reading.p : new Array(10).fill(0);
  const best = p.indexOf(Math.max(...p));
  document.querySelectorAll("#bars li").forEach((row, k) => {
    row.querySelector(".fill").style.width = (100 * p[k]).toFixed(1) + "%";
    row.querySelector(".pct").textContent = reading && reading.p ? (100 * p[k]).toFixed(1) + "%" : "";
    row.classList.toggle("best", Boolean(reading && reading.p) && k === best && !reading.unsure);
  });
  digit.classList.toggle("unsure", Boolean(reading && (reading.unsure || reading.refused)));
  document.getElementById("bars").hidden = Boolean(reading && reading.refused);  // room for the reason
  if (!reading) {
    digit.textContent = "?";
    verdict.textContent = "Draw a digit in the box, with your finger or the mouse.";
  } else if (reading.refused) {
    digit.textContent = "–";
    verdict.textContent = reading.refused.charAt(0).toUpperCase() + reading.refused.slice(1) + ".";
  } else if (reading.unsure) {
    digit.textContent = String(best);
    verdict.textContent = `Not sure: ${best} is likeliest, at ${(100 * p[best]).toFixed(0)}% ` +
                          `(under ${(100 * C.UNSURE_BELOW).toFixed(0)}% is not sure).`;
  } else {
    digit.textContent = String(best);
    verdict.textContent = `It reads a ${best}, ${(100 * p[best]).toFixed(0)}% sure.`;
  }
}

blank();
"""
