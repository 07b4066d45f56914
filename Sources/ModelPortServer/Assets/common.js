// Shared by the digit page and the workbench: API calls and small DOM helpers.
"use strict";

/** Fetches JSON; throws an Error whose message is the server's `detail`. */
async function apiJSON(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : `${response.status} ${response.statusText}`;
    const error = new Error(detail);
    error.code = body && body.error;
    error.status = response.status;
    throw error;
  }
  return body;
}

/** Creates an element with attributes and children (strings become text). */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Draws 28 rows of 28 values in [0, 1] (white ink on black) on a 28x28 canvas. */
function drawSeen(canvas, rows) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  rows.forEach((row, y) => row.forEach((v, x) => {
    const g = Math.max(0, Math.min(255, Math.round(v * 255)));
    const i = (y * 28 + x) * 4;
    image.data[i] = image.data[i + 1] = image.data[i + 2] = g;
    image.data[i + 3] = 255;
  }));
  ctx.putImageData(image, 0, 0);
}

/** "0.1234" as "12.3%". */
function percent(p) { return p === null || p === undefined ? "–" : `${(p * 100).toFixed(1)}%`; }

/** Saves a Blob under `name` through a temporary link. */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
