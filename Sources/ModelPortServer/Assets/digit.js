// The digit page: draw (Pointer Events: mouse, touch, pen), upload, drop or
// paste; the server preprocesses like `modelport predict` and answers.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const statusLine = document.getElementById("status");
const undoButton = document.getElementById("undo");
const clearButton = document.getElementById("clear");
const modelSelect = document.getElementById("model");
// MNIST strokes are about 1/8 of the digit's height: on a 280-px pad with a
// digit ~200 px tall, 22 px with round ends.
const STROKE_WIDTH = 22;
const strokes = [];
let current = null;
let timer = null;
let requestNumber = 0;
let batchRows = [];

function redraw() {
  ctx.fillStyle = "#0d1117";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#ffffff";
  ctx.fillStyle = "#ffffff";
  ctx.lineWidth = STROKE_WIDTH;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of strokes) {
    if (stroke.length === 1) {
      ctx.beginPath();
      ctx.arc(stroke[0][0], stroke[0][1], STROKE_WIDTH / 2, 0, Math.PI * 2);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(stroke[0][0], stroke[0][1]);
    for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }
  const empty = strokes.length === 0;
  undoButton.disabled = empty;
  clearButton.disabled = empty;
  document.getElementById("pad-hint").hidden = !empty;
}

function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  current = [padPoint(event)];
  strokes.push(current);
  clearTimeout(timer);
  redraw();
});
pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  const points = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const p of (points.length ? points : [event])) current.push(padPoint(p));
  redraw();
});
function endStroke() {
  if (!current) return;
  current = null;
  schedulePrediction();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

function schedulePrediction() {
  clearTimeout(timer);
  timer = setTimeout(predictDrawing, 300);
}

function undo() {
  strokes.pop();
  redraw();
  if (strokes.length) schedulePrediction(); else resetResult("Draw a digit to start.");
}
function clearPad() {
  strokes.length = 0;
  redraw();
  resetResult("Draw a digit to start.");
}
undoButton.addEventListener("click", undo);
clearButton.addEventListener("click", clearPad);
pad.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); undo(); }
  if (event.key === "Delete" || event.key === "Backspace" || event.key === "Escape") { event.preventDefault(); clearPad(); }
});

function modelQuery() { return modelSelect.value ? `?model=${encodeURIComponent(modelSelect.value)}` : ""; }

async function predictDrawing() {
  if (!strokes.length) return;
  const blob = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
  await predictBody(blob, "image/png", "your drawing");
}

async function predictBody(body, type, what) {
  const mine = ++requestNumber;
  setStatus(`Reading ${what}…`);
  try {
    const result = await apiJSON(`/api/predict${modelQuery()}`, { method: "POST", headers: { "Content-Type": type }, body });
    if (mine === requestNumber) showResult(result, what);
  } catch (error) {
    if (mine === requestNumber) showError(error);
  }
}

function setStatus(text, isError) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", Boolean(isError));
}

function resetResult(text) {
  requestNumber++;
  setStatus(text);
  document.getElementById("answer").hidden = true;
  document.getElementById("timing").textContent = "";
  renderBars(null);
}

function showError(error) {
  document.getElementById("answer").hidden = true;
  renderBars(null);
  setStatus(error.message, true);
}

function showResult(result, what) {
  document.getElementById("answer").hidden = false;
  document.getElementById("label").textContent = result.label >= 0 ? String(result.label) : "?";
  document.getElementById("confidence").textContent = `${percent(result.confidence)} sure`;
  drawSeen(document.getElementById("seen"), result.preprocessed);
  renderBars(result.probabilities, result.label);
  setStatus(`The model reads ${what} as ${result.label}.`);
  document.getElementById("timing").textContent =
    `Server time ${result.elapsed_ms.toFixed(1)} ms · model ${result.model}` + (result.inverted ? " · light background inverted" : "");
}

function renderBars(probabilities, label) {
  const list = document.getElementById("bars");
  list.replaceChildren();
  for (let digit = 0; digit < 10; digit++) {
    const p = probabilities ? probabilities[digit] : null;
    const fill = el("div", { class: "fill" });
    fill.style.width = p ? `${Math.max(0, Math.min(1, p)) * 100}%` : "0";
    list.append(el("li", { class: probabilities && digit === label ? "best" : null, "aria-label": `${digit}: ${percent(p)}` },
      el("span", {}, String(digit)), el("div", { class: "track", "aria-hidden": "true" }, fill),
      el("span", { class: "pct", "aria-hidden": "true" }, probabilities ? percent(p) : "")));
  }
}

// MARK: files: upload, drop, paste

async function predictFiles(files) {
  files = Array.from(files).filter((f) => f && f.size >= 0);
  if (!files.length) return;
  if (files.length === 1) {
    const file = files[0];
    strokes.length = 0;
    redraw();
    showUploadPreview(file);
    await predictBody(file, file.type || "image/png", file.name || "the image");
    return;
  }
  const form = new FormData();
  for (const file of files) form.append("image", file, file.name);
  setStatus(`Reading ${files.length} images…`);
  const mine = ++requestNumber;
  try {
    const result = await apiJSON(`/api/predict${modelQuery()}`, { method: "POST", body: form });
    if (mine !== requestNumber) return;
    document.getElementById("answer").hidden = true;
    renderBars(null);
    document.getElementById("timing").textContent = "";
    showBatch(result);
    setStatus(`Read ${result.predictions.length} images in ${result.elapsed_ms.toFixed(1)} ms: see the table below.`);
  } catch (error) {
    if (mine === requestNumber) showError(error);
  }
}

function showUploadPreview(file) {
  const url = URL.createObjectURL(file);
  const image = new Image();
  image.onload = () => {
    redraw();
    const scale = Math.min(pad.width / image.width, pad.height / image.height);
    const w = image.width * scale, h = image.height * scale;
    ctx.drawImage(image, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    document.getElementById("pad-hint").hidden = true;
    clearButton.disabled = false;
    URL.revokeObjectURL(url);
  };
  image.onerror = () => URL.revokeObjectURL(url);
  image.src = url;
}

function showBatch(result) {
  batchRows = result.predictions;
  const body = document.querySelector("#batch-table tbody");
  body.replaceChildren();
  for (const row of batchRows) {
    const seen = el("canvas", { width: 28, height: 28, "aria-hidden": "true" });
    seen.style.width = seen.style.height = "42px";
    drawSeen(seen, row.preprocessed);
    body.append(el("tr", {}, el("td", {}, row.file), el("td", { class: "num" }, String(row.label)),
      el("td", { class: "num" }, percent(row.confidence)), el("td", {}, seen)));
  }
  document.getElementById("batch").hidden = false;
}

document.getElementById("csv").addEventListener("click", () => {
  const quote = (s) => /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  const lines = [["file", "label", "confidence", ...Array.from({ length: 10 }, (_, k) => `p${k}`)].join(",")];
  for (const row of batchRows) {
    lines.push([quote(row.file || ""), row.label, row.confidence.toFixed(6), ...row.probabilities.map((p) => (p ?? NaN).toFixed(6))].join(","));
  }
  saveBlob(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }), "predictions.csv");
});

document.getElementById("file").addEventListener("change", (event) => {
  predictFiles(event.target.files);
  event.target.value = "";
});
const dropZone = document.getElementById("drop-zone");
dropZone.addEventListener("dragover", (event) => { event.preventDefault(); dropZone.classList.add("dragging"); });
dropZone.addEventListener("dragleave", (event) => { if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("dragging"); });
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  predictFiles(event.dataTransfer.files);
});
document.addEventListener("paste", (event) => {
  const files = Array.from(event.clipboardData ? event.clipboardData.files : []);
  if (files.length) { event.preventDefault(); predictFiles(files); }
});

// MARK: start

async function loadModels() {
  try {
    const { models } = await apiJSON("/api/models");
    const digitModels = models.filter((m) => m.digits);
    for (const m of digitModels) modelSelect.append(el("option", { value: m.id }, `${m.id} (${m.file})`));
    document.getElementById("model-pick").hidden = digitModels.length < 2;
    if (!digitModels.length) setStatus("None of the served models takes 28×28 digits.", true);
  } catch (error) {
    setStatus(error.message, true);
  }
}
modelSelect.addEventListener("change", () => { if (strokes.length) schedulePrediction(); });
redraw();
renderBars(null);
loadModels();
