"""The web page's JavaScript, part 1: :mod:`explainer.data.own_image`, ported (the network: :mod:`.network_js`).

``PREPARE_JS`` is plain JavaScript with no DOM in it (so that it also runs under Node for a test). It
follows ``own_image.py`` step for step, with the same names, and keeps its float32 arithmetic
(``Math.fround`` where NumPy computes in float32) and its rounding (Python's ``round`` sends halves to
the even number; ``Math.round`` would not):

- ``readInk``: the paper is the median of the border; ink is the distance from it, divided by the
  strongest, cut below ``INK_LEVEL``; then the same refusals (``checkDigitLike``);
- ``resize``: Pillow's LANCZOS resampling of a float ("F") image (``libImaging/Resample.c``): for each
  output pixel a window of 3 input pixels (times the shrink factor) each side, weights
  ``sinc(x) sinc(x / 3)`` normalised to sum to 1, summed in double and stored as float32, first along
  the rows, then along the columns;
- ``mnistStyle``: crop, fit in 20x20, centre of mass at (14, 14) in 28x28;
- ``digitsStyle``: ``deskew`` (the slant, ``mu11 / mu02``, summed as NumPy sums, limited to ``MAX_SLANT``
  and rounded to 1/64 column per row; each row shifted by an exact binary fraction, interpolated in
  float32 in NumPy's order: the pixel's share first, its left neighbour's added), crop, scale into 32
  rows by at most 20 columns of a 32x32 bitmap, black and white at 0.5, strokes one pixel wider
  (Pillow's MaxFilter(3)), ink counted in 4x4 blocks, divided by 16.

``C`` holds own_image's constants, written into the page from Python, so there is one set of numbers.
The centre of mass is summed as NumPy sums (``pairwiseSum``: pairwise, eight at a time, the box's total
in float32), since a symmetric drawing puts it on a half pixel, where the last bit decides the rounding;
so are the slant's moments.
"""

__all__ = ["PREPARE_JS"]

PREPARE_JS = r"""
"use strict";
const F = Math.fround;  // float32, as NumPy computes own_image's arrays

function pyRound(x) {  // Python's round(): a half goes to the even neighbour
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

class Refused extends Error {}

function percent(share) { return Math.round(share * 100) + "%"; }

function median(values) {  // np.median of float32 values
  const s = Float32Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : F(F(s[m - 1] + s[m]) / 2);
}

function greyFromRGBA(rgba, w, h) {  // canvas pixels -> Pillow's "L" grey levels, 0-255
  const grey = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) {
    grey[i] = (rgba[4 * i] * 19595 + rgba[4 * i + 1] * 38470 + rgba[4 * i + 2] * 7471 + 0x8000) >> 16;
  }
  return grey;
}

function prepareImage(grey255, h, w, C) {  // prepare_image(array, image_shape): (h * w) grey levels 0-255
  const grey = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) grey[i] = F(grey255[i] / 255);
  const ink = readInk(grey, h, w, C);
  return C.image_shape[0] === 28 ? mnistStyle(ink) : digitsStyle(ink, C);
}

function readInk(grey, h, w, C) {
  if (Math.min(h, w) < C.MIN_SIDE || Math.max(h, w) > C.MAX_SIDE) {
    throw new Refused(`the picture is ${w}x${h} pixels; a digit picture must be ${C.MIN_SIDE} to ${C.MAX_SIDE} ` +
                      "pixels on each side: crop or resize it");
  }
  const border = [];
  for (let x = 0; x < w; x++) border.push(grey[x], grey[(h - 1) * w + x]);
  for (let y = 0; y < h; y++) border.push(grey[y * w], grey[y * w + w - 1]);
  const paper = median(border);
  const ink = new Float32Array(h * w);  // distance from the paper's colour
  let strongest = 0;
  for (let i = 0; i < h * w; i++) {
    ink[i] = F(Math.abs(F(grey[i] - paper)));
    if (ink[i] > strongest) strongest = ink[i];
  }
  if (strongest < C.MIN_CONTRAST) {
    throw new Refused("the picture is blank: no stroke stands out from the paper. Draw or photograph a digit " +
                      "in dark ink on light paper (or light on dark)");
  }
  for (let i = 0; i < h * w; i++) {
    const v = F(ink[i] / strongest);
    ink[i] = v < C.INK_LEVEL ? 0 : v;  // paper texture, noise and JPEG ringing are not ink
  }
  const near = widen(ink, h, w, Math.max(1, Math.floor(Math.min(h, w) / 32)));  // the strokes, widened
  const background = [];  // the paper away from the strokes' blurred edges
  for (let i = 0; i < h * w; i++) if (!near[i]) background.push(F(F(Math.abs(F(grey[i] - paper))) / strongest));
  const picture = { data: ink, h, w };
  checkDigitLike(picture, background, C);
  return picture;
}

function widen(ink, h, w, r) {  // scipy's maximum_filter(ink > 0, size=2r+1): each pixel near ink
  const rows = new Uint8Array(h * w), out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let on = 0;
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r) && !on; k++) on = ink[y * w + k] > 0 ? 1 : 0;
      rows[y * w + x] = on;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let on = 0;
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r) && !on; k++) on = rows[k * w + x];
      out[y * w + x] = on;
    }
  }
  return out;
}

function checkDigitLike(ink, background, C) {
  const notADigit = "this does not look like a digit: ";
  const { data, h, w } = ink;
  let nInk = 0;
  for (let i = 0; i < h * w; i++) if (data[i] > 0) nInk++;
  const share = nInk / (h * w);
  if (share > C.MAX_INK_SHARE) {
    throw new Refused(`${notADigit}${percent(share)} of the picture is ink. Use a picture of one digit on an ` +
                      "even background, with the digit in the middle");
  }
  const cropped = crop(ink);
  const extent = Math.max(cropped.h, cropped.w) / Math.min(h, w);
  if (nInk < C.MIN_INK_PIXELS || extent < C.MIN_EXTENT) {
    throw new Refused(`${notADigit}too little ink (${nInk} pixels spanning ${percent(extent)} of the picture), ` +
                      "a speck rather than a digit. Draw the digit larger, or crop the picture around it");
  }
  if (cropped.w > C.MAX_WIDTH_RATIO * cropped.h) {
    throw new Refused(`${notADigit}the ink is ${(cropped.w / cropped.h).toFixed(1)} times as wide as it is tall, a ` +
                      "dash or a row of several digits. Give one digit per picture");
  }
  const mass = pieces(data, h, w).sort((a, b) => b - a);  // ink per 8-connected piece, largest first
  const total = mass.reduce((s, m) => s + m, 0);
  if ((mass.slice(0, 3).reduce((s, m) => s + m, 0)) / total < C.MIN_CONNECTED) {
    throw new Refused(`${notADigit}the ink is scattered over ${mass.length} specks, like noise or grain, not ` +
                      "drawn in strokes. Use a clean picture of one digit");
  }
  if (background.length && percentile(background, 90) >= C.MAX_PAPER_TEXTURE) {
    throw new Refused(`${notADigit}the background is not plain paper: it varies like a photo or a shaded ` +
                      "gradient. Use a picture of one digit on plain paper in even light, cropped close");
  }
  const box = fit(cropped, 20);
  const mask = box.data.map(v => (v > C.INK_LEVEL ? 1 : 0));
  if (thickness(mask, box.h, box.w) >= C.MAX_THICKNESS) {
    throw new Refused(`${notADigit}the ink is one solid blob (a dot or a smudge), not strokes. Draw the ` +
                      "digit with lines, larger than the pen is wide");
  }
}

function pieces(data, h, w) {  // scipy's ndimage.label with 8 neighbours, and the ink of each piece
  const seen = new Uint8Array(h * w), masses = [];
  for (let start = 0; start < h * w; start++) {
    if (!(data[start] > 0) || seen[start]) continue;
    let mass = 0;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop(), y = Math.floor(i / w), x = i % w;
      mass += data[i];
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx, j = yy * w + xx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w && !seen[j] && data[j] > 0) { seen[j] = 1; stack.push(j); }
        }
      }
    }
    masses.push(mass);
  }
  return masses;
}

function percentile(values, q) {  // np.percentile's default (linear between the nearest ranks)
  const s = Float64Array.from(values).sort();
  const at = (q / 100) * (s.length - 1), lo = Math.floor(at), hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

function thickness(mask, h, w) {  // twice the area over the outline, as a share of the box
  let area = 0, outline = 0;
  const on = (y, x) => y >= 0 && y < h && x >= 0 && x < w && mask[y * w + x] === 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!on(y, x)) continue;
      area++;
      if (!(on(y - 1, x) && on(y + 1, x) && on(y, x - 1) && on(y, x + 1))) outline++;
    }
  }
  return 2 * area / Math.max(outline, 1) / Math.max(h, w);
}

function crop(ink) {  // the smallest box holding every inked pixel
  const { data, h, w } = ink;
  let top = h, bottom = -1, left = w, right = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[y * w + x] > 0) {
        top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x);
      }
    }
  }
  const ch = bottom - top + 1, cw = right - left + 1, out = new Float32Array(ch * cw);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) out[y * cw + x] = data[(top + y) * w + left + x];
  return { data: out, h: ch, w: cw };
}

function fit(ink, side) {  // the longer side scaled to `side`, keeping the aspect ratio
  const factor = side / Math.max(ink.h, ink.w);
  return resize(ink, Math.max(1, pyRound(ink.w * factor)), Math.max(1, pyRound(ink.h * factor)));
}

function lanczos(x) {
  const sinc = t => (t === 0.0 ? 1.0 : Math.sin(t * Math.PI) / (t * Math.PI));
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

function coefficients(inSize, outSize) {  // Pillow's precompute_coeffs
  const scale = inSize / outSize, filterscale = Math.max(scale, 1.0), support = 3.0 * filterscale;
  const windows = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const k = [], ss = 1.0 / filterscale;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const weight = lanczos((x + xmin - center + 0.5) * ss);
      k.push(weight);
      ww += weight;
    }
    windows.push({ xmin, k: ww !== 0.0 ? k.map(v => v / ww) : k });
  }
  return windows;
}

function resize(ink, width, height) {  // Image.fromarray(ink, "F").resize((width, height), LANCZOS), clipped to [0, 1]
  let { data, h, w } = ink;
  if (width !== w) {  // along the rows
    const windows = coefficients(w, width), out = new Float32Array(h * width);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < width; xx++) {
        const { xmin, k } = windows[xx];
        let ss = 0.0;
        for (let x = 0; x < k.length; x++) ss += data[y * w + xmin + x] * k[x];
        out[y * width + xx] = ss;  // a Float32Array stores float32, as Pillow's "F" pixels
      }
    }
    data = out; w = width;
  }
  if (height !== h) {  // along the columns
    const windows = coefficients(h, height), out = new Float32Array(height * w);
    for (let yy = 0; yy < height; yy++) {
      const { xmin, k } = windows[yy];
      for (let x = 0; x < w; x++) {
        let ss = 0.0;
        for (let y = 0; y < k.length; y++) ss += data[(xmin + y) * w + x] * k[y];
        out[yy * w + x] = ss;
      }
    }
    data = out; h = height;
  }
  return { data: data.map(v => Math.min(1, Math.max(0, v))), h, w };
}

function mnistStyle(ink) {  // crop, fit in 20x20, centre of mass at (14, 14) in 28x28
  const box = fit(crop(ink), 20);
  const rowsTimesBox = [], colsTimesBox = [];
  for (let y = 0; y < box.h; y++) {
    for (let x = 0; x < box.w; x++) { rowsTimesBox.push(y * box.data[y * box.w + x]); colsTimesBox.push(x * box.data[y * box.w + x]); }
  }
  const total = pairwiseSum(box.data, F);  // box.sum(): float32
  const cy = pairwiseSum(rowsTimesBox, v => v) / total, cx = pairwiseSum(colsTimesBox, v => v) / total;
  const top = 20 + pyRound(14 - cy), left = 20 + pyRound(14 - cx);
  const field = new Float32Array(28 * 28);  // the 68x68 field's window [20:48, 20:48]
  for (let y = 0; y < box.h; y++) {
    for (let x = 0; x < box.w; x++) {
      const fy = top + y - 20, fx = left + x - 20;
      if (fy >= 0 && fy < 28 && fx >= 0 && fx < 28) field[fy * 28 + fx] = box.data[y * box.w + x];
    }
  }
  return field;
}

function pairwiseSum(a, round, lo = 0, n = a.length) {  // NumPy's sum: pairwise, 8 at a time, in float32 or double
  if (n < 8) {
    let res = 0;
    for (let i = lo; i < lo + n; i++) res = round(res + a[i]);
    return res;
  }
  if (n <= 128) {
    const r = [];
    for (let j = 0; j < 8; j++) r.push(round(a[lo + j]));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = round(r[j] + a[lo + i + j]);
    let res = round(round(round(r[0] + r[1]) + round(r[2] + r[3])) + round(round(r[4] + r[5]) + round(r[6] + r[7])));
    for (; i < n; i++) res = round(res + a[lo + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return round(pairwiseSum(a, round, lo, n2) + pairwiseSum(a, round, lo + n2, n - n2));
}

function slant(ink) {  // mu11 / mu02: columns per row down, each sum as NumPy's (pairwise, in double)
  const { data, h, w } = ink, n = h * w, id = v => v;
  const byRow = new Float64Array(n), byCol = new Float64Array(n);
  for (let i = 0; i < n; i++) { byRow[i] = data[i] * Math.floor(i / w); byCol[i] = data[i] * (i % w); }
  const mass = pairwiseSum(data, id), cy = pairwiseSum(byRow, id) / mass, cx = pairwiseSum(byCol, id) / mass;
  const mu11 = new Float64Array(n), mu02 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dy = Math.floor(i / w) - cy, dx = (i % w) - cx;
    mu11[i] = data[i] * dy * dx;
    mu02[i] = data[i] * (dy * dy);
  }
  const spread = pairwiseSum(mu02, id);
  return spread > 0 ? pairwiseSum(mu11, id) / spread : 0;
}

function deskew(ink, C) {  // the slant sheared away: row r slides -slant * r columns; cropped
  const cropped = crop(ink), { data, h, w } = cropped, S = C.SLANT_STEPS;
  const k = pyRound(Math.min(C.MAX_SLANT, Math.max(-C.MAX_SLANT, slant(cropped))) * S);  // in 64ths
  if (k === 0) return cropped;
  const width = w + Math.floor(Math.abs(k) * (h - 1) / S) + 2, out = new Float32Array(h * width);
  for (let r = 0; r < h; r++) {
    const n = Math.max(0, k * (h - 1)) - k * r;  // this row's shift in 64ths of a column, >= 0
    const whole = Math.floor(n / S), part = (n % S) / S, at = r * width + whole;
    for (let c = 0; c < w; c++) out[at + c] = F(F(1 - part) * data[r * w + c]);  // each pixel's share...
    for (let c = 0; c < w; c++) out[at + c + 1] = F(out[at + c + 1] + F(part * data[r * w + c]));  // ...the rest
  }
  for (let i = 0; i < h * width; i++) if (out[i] < C.INK_LEVEL) out[i] = 0;  // the faint fringe is not ink
  return crop({ data: out, h, w: width });
}

function digitsStyle(ink, C) {  // the 8x8 digits' way: upright, 32x32 black and white, strokes widened, 4x4 blocks
  const [height, maxWidth] = C.DIGITS_BOX;
  const cropped = deskew(ink, C);
  const width = Math.max(1, Math.min(maxWidth, pyRound(cropped.w * height / cropped.h)));
  const left = (32 - width) >> 1, scaled = resize(cropped, width, height);
  const on = new Uint8Array(32 * 32);
  for (let y = 0; y < 32; y++) for (let x = 0; x < width; x++) on[y * 32 + left + x] = scaled.data[y * width + x] >= 0.5;
  const counts = new Float32Array(64);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      let wide = 0;  // MaxFilter(3): on where any of the 3x3 around is on
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < 32 && xx >= 0 && xx < 32 && on[yy * 32 + xx]) wide = 1;
        }
      }
      counts[(y >> 2) * 8 + (x >> 2)] += wide;
    }
  }
  return counts.map(c => c / C.DIGITS_MAX_VALUE);
}
"""
