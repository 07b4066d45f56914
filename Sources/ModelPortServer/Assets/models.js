// The model workbench: inspect, validate and convert the served models, and,
// when the server allows it, a person's own uploaded model.
"use strict";

const card = document.getElementById("model-card");
let models = [];

function shape(s) { return `(None, ${s.join(", ")})`; }
function grouped(n) { return Number(n).toLocaleString("en-US"); }

function factsList(info) {
  const rows = [
    ["File", info.file], ["Format", info.format + (info.keras_generation ? `, written by ${info.keras_generation}` : "")],
    ["Keras", info.keras_version ? info.keras_version + (info.backend ? ` (backend: ${info.backend})` : "") : null],
    ["Producer", info.producer], ["Compiled", info.compiled ? `loss ${info.compiled.loss}, optimizer ${info.compiled.optimizer}` : null],
    ["Model", `${info.model_name} (${info.model_class})`], ["Input", shape(info.input_shape)], ["Output", shape(info.output_shape)],
    ["Parameters", `${grouped(info.total_parameters)} (${(info.parameter_bytes / 1024).toFixed(2)} KB)`],
    ["Reference", info.reference || "none beside the model"],
  ].filter(([, v]) => v !== null && v !== undefined);
  return el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function layerTable(info) {
  const functional = info.model_class === "Functional";
  const head = el("tr", {}, el("th", { scope: "col" }, "Layer (type)"), el("th", { scope: "col" }, "Output shape"),
    el("th", { scope: "col", class: "num" }, "Param #"), functional ? el("th", { scope: "col" }, "Connected to") : null);
  const rows = info.layers.map((l) => el("tr", {}, el("td", {}, `${l.name} (${l.type})`), el("td", {}, shape(l.output_shape)),
    el("td", { class: "num" }, grouped(l.parameters)), functional ? el("td", {}, l.inbound.length ? l.inbound.join(", ") : "–") : null));
  return el("div", { class: "table-scroll" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows)));
}

/** The graph of a functional model: layers top to bottom, an arrow per connection. */
function graphSVG(info) {
  const ns = "http://www.w3.org/2000/svg";
  const index = new Map(info.layers.map((l, i) => [l.name, i]));
  const rowH = 44, boxW = 240, boxH = 28, left = 70;
  const height = info.layers.length * rowH + 10, width = left + boxW + 120;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Graph of ${info.model_name}: ${info.layers.length} layers`);
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    svg.append(node);
    return node;
  };
  info.layers.forEach((layer, i) => {
    layer.inbound.forEach((source, k) => {
      const j = index.get(source);
      if (j === undefined) return;
      const y1 = j * rowH + 5 + boxH, y2 = i * rowH + 5;
      if (i - j === 1) add("line", { x1: left + boxW / 2, y1, x2: left + boxW / 2, y2, stroke: "#7b8aa3", "stroke-width": 1.5 });
      else {
        const bend = left + boxW + 20 + 14 * k;
        add("path", { d: `M ${left + boxW} ${y1 - boxH / 2} C ${bend + 30} ${y1}, ${bend + 30} ${y2}, ${left + boxW} ${y2 + boxH / 2}`,
          fill: "none", stroke: "#1f5fbf", "stroke-width": 1.5 });
      }
    });
  });
  info.layers.forEach((layer, i) => {
    const y = i * rowH + 5;
    add("rect", { x: left, y, width: boxW, height: boxH, rx: 7, fill: "#eef4fd", stroke: "#1f5fbf" });
    add("text", { x: left + 10, y: y + 18, fill: "#17202e" }, `${layer.name} · ${layer.type}`);
    add("text", { x: left - 8, y: y + 18, fill: "#5b6678", "text-anchor": "end" }, layer.output_shape.join("×"));
  });
  return el("div", { class: "graph" }, svg);
}

function validationReport(r) {
  const num = (x) => typeof x === "number" ? x.toExponential(2) : String(x);
  return el("div", { class: "report", "data-testid": "validation" },
    el("h3", {}, "Validation ", el("span", { class: `badge ${r.passed ? "pass" : "fail"}` }, r.passed ? "PASSED" : "FAILED")),
    el("dl", { class: "facts" },
      el("dt", {}, "Compared"), el("dd", {}, `${r.samples} samples (${grouped(r.elements)} output elements) of ${r.model} against ${r.reference}`),
      el("dt", {}, "Max |modelport − reference|"), el("dd", {}, `${num(r.max_abs_error)} (atol ${num(r.atol)}, rtol ${num(r.rtol)})`),
      el("dt", {}, "Elements outside tolerance"), el("dd", {}, String(r.elements_outside_tolerance)),
      el("dt", {}, "Predicted class agrees"), el("dd", {}, `${r.argmax_agreement}/${r.samples}`),
      r.accuracy !== undefined ? [el("dt", {}, "Accuracy vs labels"),
        el("dd", {}, `modelport ${percent(r.accuracy)}, reference ${percent(r.reference_accuracy)}`)] : null));
}

function conversionReport(v) {
  return el("div", { class: "report", "data-testid": "conversion" },
    el("h3", {}, `${v.file} `, el("span", { class: `badge ${v.passed ? "pass" : "fail"}` }, v.passed ? "VERIFIED" : "DIFFERS")),
    el("p", { class: "small" }, `Wrote ${v.file}: ${v.written}. Verified on ${v.inputs}:`),
    el("ul", { class: "small" }, v.outputs.map((o) => el("li", {},
      `max |converted − source| ${o.max_abs_error.toExponential(2)} (atol ${v.atol.toExponential(2)}); predicted class agrees ${o.argmax_agreement}/${o.samples}`))));
}

/** Fetches a conversion, shows its verification and saves the file. */
async function download(url, options, into) {
  const status = el("p", { class: "muted" }, "Converting and verifying…");
  into.replaceChildren(status);
  try {
    const response = await fetch(url, options);
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    const verification = JSON.parse(response.headers.get("X-ModelPort-Verification"));
    const blob = await response.blob();
    into.replaceChildren(conversionReport(verification));
    saveBlob(blob, verification.file);
  } catch (error) {
    into.replaceChildren(el("p", { class: "status error", role: "alert" }, error.message));
  }
}

async function showModel(id) {
  for (const tab of document.querySelectorAll("#tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.id === id));
  card.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    const info = await apiJSON(`/api/models/${encodeURIComponent(id)}`);
    const output = el("div", { "aria-live": "polite" });
    const converted = el("div", { "aria-live": "polite" });
    const validate = el("button", { type: "button", class: "primary", id: "validate", disabled: !info.has_reference,
      title: info.has_reference ? null : "No reference file beside this model",
      onclick: async () => {
        output.replaceChildren(el("p", { class: "muted" }, "Running the reference inputs…"));
        try { output.replaceChildren(validationReport(await apiJSON(`/api/models/${encodeURIComponent(id)}/validate`, { method: "POST" }))); }
        catch (error) { output.replaceChildren(el("p", { class: "status error", role: "alert" }, error.message)); }
      } }, "Validate against the reference");
    const convertButton = (label, query, testId) => el("button", { type: "button", "data-testid": testId,
      onclick: () => download(`/api/models/${encodeURIComponent(id)}/convert?${query}`, {}, converted) }, label);
    card.replaceChildren(
      el("h2", {}, info.id),
      factsList(info),
      el("div", { class: "actions" }, validate,
        convertButton("Download ONNX", "to=onnx", "convert-onnx"),
        convertButton("Download .keras", "to=keras", "convert-keras"),
        convertButton(".h5 (Keras 3)", "to=h5&keras_version=3", "convert-h5-3"),
        convertButton(".h5 (Keras 2)", "to=h5&keras_version=2", "convert-h5-2")),
      output, converted,
      el("h3", {}, "Layers"), layerTable(info),
      ...(info.model_class === "Functional" ? [el("h3", {}, "Graph"), graphSVG(info)] : []));
  } catch (error) {
    card.replaceChildren(el("p", { class: "status error", role: "alert" }, error.message));
  }
}

// MARK: uploads

function setUpUploads() {
  const modelInput = document.getElementById("upload-model");
  const referenceInput = document.getElementById("upload-reference");
  const result = document.getElementById("upload-result");
  const wire = (box, input, label) => {
    input.addEventListener("change", () => { document.getElementById(label).textContent = input.files[0] ? input.files[0].name : ""; });
    box.addEventListener("dragover", (e) => { e.preventDefault(); box.classList.add("dragging"); });
    box.addEventListener("dragleave", () => box.classList.remove("dragging"));
    box.addEventListener("drop", (e) => {
      e.preventDefault();
      box.classList.remove("dragging");
      if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; input.dispatchEvent(new Event("change")); }
    });
  };
  wire(document.getElementById("model-drop"), modelInput, "model-name");
  wire(document.getElementById("reference-drop"), referenceInput, "reference-name");
  const form = () => {
    const data = new FormData();
    if (!modelInput.files[0]) throw new Error("Choose a model file first.");
    data.append("model", modelInput.files[0], modelInput.files[0].name);
    if (referenceInput.files[0]) data.append("reference", referenceInput.files[0], referenceInput.files[0].name);
    return data;
  };
  const fail = (error) => result.replaceChildren(el("p", { class: "status error", role: "alert" }, error.message));
  document.getElementById("upload-inspect").addEventListener("click", async () => {
    try {
      result.replaceChildren(el("p", { class: "muted" }, "Reading the file in an isolated process…"));
      const info = await apiJSON("/api/uploads/inspect", { method: "POST", body: form() });
      result.replaceChildren(factsList(info), el("h3", {}, "Layers"), layerTable(info));
    } catch (error) { fail(error); }
  });
  document.getElementById("upload-validate").addEventListener("click", async () => {
    try {
      result.replaceChildren(el("p", { class: "muted" }, "Reading the files in an isolated process…"));
      result.replaceChildren(validationReport(await apiJSON("/api/uploads/validate", { method: "POST", body: form() })));
    } catch (error) { fail(error); }
  });
  for (const [id, query] of [["upload-onnx", "to=onnx"], ["upload-keras", "to=keras"], ["upload-h5", "to=h5&keras_version=3"]]) {
    document.getElementById(id).addEventListener("click", () => {
      try { download(`/api/uploads/convert?${query}`, { method: "POST", body: form() }, result); } catch (error) { fail(error); }
    });
  }
}

async function start() {
  try {
    const [server, list] = await Promise.all([apiJSON("/api/server"), apiJSON("/api/models")]);
    models = list.models;
    const tabs = document.getElementById("tabs");
    for (const m of models) {
      tabs.append(el("button", { type: "button", role: "tab", "data-id": m.id, "aria-selected": "false",
        onclick: () => { history.replaceState(null, "", `#${m.id}`); showModel(m.id); } }, m.id));
    }
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (models.length) showModel(models.some((m) => m.id === wanted) ? wanted : models[0].id);
    if (server.uploads_allowed) { document.getElementById("upload-card").hidden = false; setUpUploads(); }
  } catch (error) {
    card.replaceChildren(el("p", { class: "status error", role: "alert" }, error.message));
  }
}
start();
