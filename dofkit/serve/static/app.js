// dofkit web app: one photo, its focus map with ROI boxes, and the stylised result, updated
// live from the HTTP API of the same server (no other origin is ever contacted).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  original: null, name: "", preview: null, size: null, scale: 1, styles: null, params: {},
  view: "grey", urls: {}, styleBusy: false, styleAgain: false, timer: 0, generation: 0, latest: {},
  health: null,
};
//: What the server reads (dofkit.io.formats: Pillow's signatures of JPEG, PNG, TIFF, BMP, WebP).
const READS = "JPEG, PNG, TIFF, BMP or WebP";
const SIGNATURES = [/^\xFF\xD8\xFF/, /^\x89PNG\r\n\x1A\n/, /^(MM\0[*+]|II[*+]\0|MM\*\0|II\0\*)/, /^BM/,
                    /^RIFF[^]{4}WEBP/];
//: The style parameters under headings, in this order (any other under "Other").
const GROUPS = [
  ["Smoothing", ["feather", "radius", "subject_radius", "iterations", "range_sigma", "background_range"]],
  ["Toon", ["levels", "toon_sharpness", "toon_gradient", "flow_smoothing"]],
  ["Colour", ["saturation", "desaturate", "fade"]],
  ["Lines", ["edge_sigma", "flow_sigma", "edge_tau", "edge_threshold", "edge_sharpness", "edge_strength",
             "background_edges", "line_coherence"]],
];

// ---------- small helpers ----------
function toast(message, action = null) {
  // One line for the user; with `action` (a function), a Retry button, and the line stays
  // until it is used or dismissed.
  $("toast-text").textContent = message;
  $("toast-retry").hidden = !action;
  toast.action = action;
  $("toast").hidden = false;
  clearTimeout(toast.timer);
  if (!action) toast.timer = setTimeout(hideToast, 6000);
}

function hideToast() { $("toast").hidden = true; }

function show(img, blob) {
  if (state.urls[img.id]) URL.revokeObjectURL(state.urls[img.id]);
  state.urls[img.id] = URL.createObjectURL(blob);
  img.src = state.urls[img.id];
  img.closest(".frame").classList.add("loaded");
}

function busy(frameId, on) {
  // The frame's picture dimmed under a spinner; after 2 s, what the wait is for.
  const frame = $(frameId);
  frame.classList.toggle("busy", on);
  clearTimeout(frame.waitTimer);
  delete frame.dataset.note;
  if (on) frame.waitTimer = setTimeout(() => explainWait(frame), 2000);
}

async function explainWait(frame) {
  // Say so when this page's request waits behind another one on the one worker (a
  // full-resolution download, this page's or an earlier one's), and for how long it has run.
  const health = await checkHealth();
  if (!frame.classList.contains("busy")) return;
  const running = health && health.queue.running;
  if (running && !(state.preview && running.bytes === state.preview.size)) {
    frame.dataset.note = `Waiting for the server to finish another request (${running.path.replace("/v1/", "")} of a ` +
      `${megabytes(running.bytes)} photo, running for ${Math.round(running.seconds)} s)`;
  } else {
    delete frame.dataset.note;
  }
  clearTimeout(frame.waitTimer); // (busy again meanwhile: one timer, not two)
  frame.waitTimer = setTimeout(() => explainWait(frame), 2000);
}

function megabytes(bytes) { return `${(bytes / 2 ** 20).toFixed(1)} MB`; }

async function checkHealth() {
  // The header says what the server runs, or that it does not answer; the health or null.
  try {
    const answer = await fetch("v1/health");
    if (!answer.ok) throw new Error(`${answer.status}`);
    state.health = await answer.json();
    const h = state.health;
    $("health").textContent = `v${h.version} · auto = ${h.method} · ${h.backend.toUpperCase()} render`;
    return h;
  } catch (e) {
    $("health").textContent = "server unreachable";
    return null;
  }
}

function ticket(kind) {
  // A request of `kind` ("map", "rois"): the returned check is true while it is the newest of
  // its kind for the same photo, so an answer arriving late never replaces a newer one.
  const generation = state.generation;
  const number = (state.latest[kind] || 0) + 1;
  state.latest[kind] = number;
  return () => generation === state.generation && state.latest[kind] === number;
}

function serverTiming(header) {
  // "decode;dur=12.3, map;dur=0.1;desc="cached"" -> [{name, ms, note}]
  return (header || "").split(",").filter((s) => s.trim()).map((part) => {
    const [name, ...fields] = part.trim().split(";");
    const item = { name, ms: 0, note: "" };
    for (const field of fields) {
      const [key, value] = field.split("=");
      if (key === "dur") item.ms = parseFloat(value);
      if (key === "desc") item.note = value.replace(/"/g, "");
    }
    return item;
  });
}

function showTiming(id, response, started) {
  const steps = serverTiming(response.headers.get("Server-Timing"));
  const total = performance.now() - started;
  const parts = steps.map((s) => `${s.name} <b>${s.note === "cached" ? "cached" : Math.round(s.ms) + " ms"}</b>`);
  parts.push(`round trip <b>${Math.round(total)} ms</b>`);
  $(id).innerHTML = parts.map((part) => `<span>${part}</span>`).join("");
}

async function api(path, params, body, accept) {
  const query = new URLSearchParams(params).toString();
  let response;
  try {
    response = await fetch(`${path}${query ? "?" + query : ""}`, {
      method: "POST", body, headers: { "Content-Type": "application/octet-stream", Accept: accept },
    });
  } catch (e) {
    $("health").textContent = "server unreachable";
    throw new Error("the server did not answer (is dofkit serve still running?)");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    const error = new Error(message.replace(/^-: /, `${state.name || "photo"}: `));
    error.status = response.status;
    throw error;
  }
  return response;
}

function photoRefused(error) {
  // True when the answer says the photo itself cannot be used (400 bad image, 413 too
  // large), not that the server was busy, slow or unreachable, which a retry may fix.
  return error.status === 400 || error.status === 413;
}

// ---------- controls ----------
function styleValues(scale = 1) {
  // The settings, for the photo resized by `scale`: lengths in px (and amounts per px) follow
  // the resize (pixel_power), so that the preview looks as the full-resolution result will.
  const values = {};
  for (const p of state.styles.parameters) {
    const value = state.params[p.name] * scale ** p.pixel_power;
    values[p.name] = p.pixel_power ? +Math.min(p.high, Math.max(p.low, value)).toPrecision(4) : value;
  }
  return values;
}

function step(p) {
  if (p.integer) return 1;
  const span = p.high - p.low;
  return span > 100 ? 1 : span > 10 ? 0.1 : span > 1 ? 0.05 : 0.01;
}

function format(p, value) {
  return p.integer ? String(value) : Number(value).toFixed(step(p) >= 1 ? 0 : step(p) >= 0.1 ? 1 : 2);
}

function buildParams() {
  const box = $("params");
  box.textContent = "";
  const groups = new Map([...GROUPS.map(([title]) => [title, []]), ["Other", []]]);
  for (const p of state.styles.parameters) {
    const group = GROUPS.find(([, names]) => names.includes(p.name));
    groups.get(group ? group[0] : "Other").push(p);
  }
  for (const [title, params] of groups) {
    if (!params.length) continue;
    const heading = document.createElement("h3");
    heading.textContent = title;
    box.appendChild(heading);
    for (const p of params) box.appendChild(paramControl(p));
  }
}

function paramControl(p) {
  // The slider of style parameter `p`, with its name, value and help.
  const wrap = document.createElement("div");
  wrap.className = "param";
  wrap.dataset.name = p.name;
  const id = `param-${p.name}`;
  wrap.innerHTML = `<div class="param-head"><label for="${id}"></label><output></output></div>
    <input id="${id}" type="range" min="${p.low}" max="${p.high}" step="${step(p)}">
    <p class="help"></p>`;
  wrap.querySelector("label").textContent = p.name.replace(/_/g, " ");
  wrap.querySelector(".help").textContent = `${p.help} [${p.low}–${p.high}]`;
  const slider = wrap.querySelector("input");
  slider.addEventListener("input", () => {
    state.params[p.name] = p.integer ? parseInt(slider.value, 10) : parseFloat(slider.value);
    syncParam(p);
    scheduleStyle();
  });
  return wrap;
}

function syncParam(p) {
  const wrap = document.querySelector(`.param[data-name="${p.name}"]`);
  const value = state.params[p.name];
  wrap.querySelector("input").value = value;
  wrap.querySelector("output").textContent = format(p, value);
  const preset = state.styles.styles[$("style").value][p.name];
  wrap.classList.toggle("changed", Math.abs(value - preset) > 1e-9);
}

function loadPreset() {
  const preset = state.styles.styles[$("style").value];
  for (const p of state.styles.parameters) {
    state.params[p.name] = preset[p.name];
    syncParam(p);
  }
  $("style-info").textContent = $("style").value;
}

// ---------- the photo ----------
function transparent(context, width, height) {
  // True if any pixel drawn on the canvas is not fully opaque.
  const data = context.getImageData(0, 0, width, height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] < 255) return true;
  return false;
}

async function makePreview(blob) {
  // A copy at most N px on its long side (EXIF orientation applied by the browser), JPEG;
  // a photo with transparency is sent as it is (a canvas loses the colour under transparent
  // pixels, which the server's map reads, and a JPEG loses the transparency).
  const limit = parseInt($("preview").value, 10);
  try {
    const bitmap = await createImageBitmap(blob);
    const scale = Math.min(1, limit / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext("2d");
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const full = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    if (transparent(context, canvas.width, canvas.height)) {
      return { preview: blob, full, size: full, alpha: true };
    }
    const preview = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.95));
    return { preview, full, size: { width: canvas.width, height: canvas.height } };
  } catch (e) {
    return { preview: blob, full: null, size: null }; // e.g. TIFF: the server decodes it
  }
}

async function unreadable(blob, name) {
  // Why the server would refuse this file, from its first bytes, before anything is sent
  // (the browser shows formats the server does not read, e.g. GIF); else "".
  const head = String.fromCharCode(...new Uint8Array(await blob.slice(0, 12).arrayBuffer()));
  if (SIGNATURES.some((signature) => signature.test(head))) return "";
  const kind = /^image\/([a-z0-9.-]+)/i.exec(blob.type); // from the name: true if it decodes
  const decodes = await createImageBitmap(blob).then((bitmap) => bitmap.close() || true, () => false);
  return kind && decodes ? `${name} is a ${kind[1].toUpperCase()} image; dofkit reads ${READS} photos.`
    : `${name}: not an image dofkit reads (${READS}).`;
}

function overLimit(blob, name) {
  // True, saying so under the downloads, for a photo over the server's upload limit: it is
  // previewed (a copy is sent), not downloaded (the whole file would be).
  const status = $("download-status");
  const limit = state.health && state.health.max_upload_bytes;
  status.textContent = "";
  if (!limit || blob.size <= limit) return false;
  const option = document.createElement("code");
  option.className = "option";  // never broken at its hyphens
  option.textContent = "--max-upload-mb";
  status.append(`${name} is ${megabytes(blob.size)}, over this server's ${megabytes(limit)} upload ` +
                "limit: it is previewed, but not downloaded at full resolution (the limit is set by " +
                "dofkit serve ", option, ").");
  return true;
}

async function choosePhoto(blob, name) {
  if (!state.styles) return; // the server never answered
  const generation = ++state.generation;
  hideToast();
  const refusal = await unreadable(blob, name);
  const made = refusal ? null : await makePreview(blob);
  if (generation !== state.generation) return; // a later choice won while this one decoded
  if (refusal) {
    clearResults();
    toast(refusal);
    return;
  }
  forgetResults();
  busy("result-frame", true);
  state.original = blob;
  state.name = name;
  state.preview = made.preview;
  state.alpha = Boolean(made.alpha);
  state.size = made.size;
  state.scale = made.full ? made.size.width / made.full.width : 1; // preview px per photo px
  if (made.size) {
    show($("photo"), made.preview);
    fitFrames(made.size);
  } else { // the browser cannot show it (e.g. TIFF): say so, not a broken picture
    unshow("photo");
    $("photo-frame").querySelector(".empty").textContent =
      "This browser cannot show this format; the map and result come from the server.";
  }
  const dims = made.full ? `${made.full.width}×${made.full.height}` : "";
  $("photo-info").textContent = [name, dims].filter(Boolean).join(" · ");
  const preview = made.alpha ? "the photo itself (transparent)" : made.size && `${made.size.width}×${made.size.height}`;
  $("photo-timing").innerHTML = preview
    ? `<span>preview <b>${preview}</b></span><span>upload <b>${Math.round(made.preview.size / 1024)} kB</b></span>`
    : "";
  $("download-result").disabled = $("download-map").disabled = overLimit(blob, name);
  await refreshMap();
  refreshStyle();
}

function mapParams() {
  // The map request as the view shows it: grey, rainbow colours, or over the photo.
  const params = { method: $("method").value };
  if (state.view === "rainbow") params.colormap = "rainbow";
  if (state.view === "overlay") params.overlay = "true";
  return params;
}

async function refreshMap() {
  if (!state.preview) return;
  const current = ticket("map");
  const params = mapParams();
  busy("map-frame", true);
  const started = performance.now();
  try {
    const response = await api("v1/map", params, state.preview, "image/png");
    const blob = await response.blob();
    if (!current()) return;
    show($("map"), blob);
    showTiming("map-timing", response, started);
    await refreshRois();
  } catch (error) {
    if (!current()) return;
    if (photoRefused(error)) {
      clearResults();
      toast(error.message);
    } else {  // busy, timed out or unreachable: the photo stays, to be tried again
      busy("result-frame", false);
      toast(error.message, refreshAll);
    }
  } finally {
    if (current()) busy("map-frame", false);
  }
}

async function refreshAll() {
  // The map (and its boxes), then the result.
  await refreshMap();
  refreshStyle();
}

function unshow(id) {
  if (state.urls[id]) URL.revokeObjectURL(state.urls[id]);
  delete state.urls[id];
  $(id).removeAttribute("src");
  $(id).closest(".frame").classList.remove("loaded");
}

function fitFrames(size) {
  // The panels take the photo's shape (their height capped to the screen's by the CSS); a
  // small photo is scaled up with its pixels kept sharp.
  for (const frame of document.querySelectorAll(".frame")) {
    frame.style.aspectRatio = `${size.width} / ${size.height}`;
  }
  document.querySelector(".panels").classList.toggle("pixelated", Math.max(size.width, size.height) < 256);
}

function forgetResults() {
  // A new photo: nothing of the last one's map, boxes or result stays on screen meanwhile.
  for (const id of ["map", "result"]) unshow(id);
  $("peek").removeAttribute("src");
  $("boxes").textContent = "";
  for (const id of ["map-timing", "result-timing"]) $(id).textContent = "";
}

function clearResults() {
  // The photo could not be used: neither it nor an earlier photo's map, boxes or result stay.
  forgetResults();
  unshow("photo");
  busy("result-frame", false);
  $("photo-frame").querySelector(".empty").textContent = "Pick a sample or drop a photo";
  for (const id of ["photo-info", "photo-timing"]) $(id).textContent = "";
  $("download-result").disabled = $("download-map").disabled = $("copy").disabled = true;
  $("download-status").textContent = "";
  $("curl").textContent = "Pick a photo to see the request.";
  state.preview = state.original = null;  // a refused file is not sent again
  state.name = "";
}

async function refreshRois() {
  const svg = $("boxes");
  const current = ticket("rois");
  svg.textContent = "";
  svg.classList.toggle("on", $("rois").checked);
  if (!state.preview || !$("rois").checked) return;
  const params = { method: $("method").value };
  if (!$("otsu").checked) params.threshold = $("threshold").value;
  try {
    const response = await api("v1/roi", params, state.preview, "application/json");
    const record = await response.json();
    if (!current()) return;
    svg.setAttribute("viewBox", `0 0 ${record.width} ${record.height}`);
    svg.dataset.width = record.width;
    const ns = "http://www.w3.org/2000/svg";
    record.rois.forEach((roi, index) => {
      const [x, y, w, h] = roi.bbox;
      const rect = document.createElementNS(ns, "rect");
      Object.entries({ x, y, width: w, height: h }).forEach(([k, v]) => rect.setAttribute(k, v));
      const label = document.createElementNS(ns, "text");
      label.dataset.x = x;
      label.dataset.y = y;
      label.textContent = `${index} · ${roi.score.toFixed(2)}`;
      svg.append(rect, label);
    });
    placeBoxes();
  } catch (error) {
    if (current()) toast(error.message);
  }
}

function placeBoxes() {
  // Put the SVG exactly over the map as drawn (fitted in its frame, centred), its labels 12 px
  // tall on screen whatever the map's size (the SVG's units are the map's pixels).
  const img = $("map");
  const svg = $("boxes");
  const fit = img.naturalWidth ? Math.min(img.clientWidth / img.naturalWidth, img.clientHeight / img.naturalHeight) : 0;
  const width = img.naturalWidth * fit;
  const height = img.naturalHeight * fit;
  Object.assign(svg.style, { left: `${img.offsetLeft + (img.clientWidth - width) / 2}px`,
    top: `${img.offsetTop + (img.clientHeight - height) / 2}px`, width: `${width}px`, height: `${height}px` });
  const unit = width ? svg.dataset.width / width : 1; // map px per screen px
  for (const label of svg.querySelectorAll("text")) {
    label.setAttribute("font-size", 12 * unit);
    label.setAttribute("stroke-width", 3 * unit);
    label.setAttribute("x", +label.dataset.x + 5 * unit);
    label.setAttribute("y", +label.dataset.y + 15 * unit);
  }
}

function scheduleStyle() {
  clearTimeout(state.timer);
  state.timer = setTimeout(refreshStyle, 120);
}

async function refreshStyle() {
  if (!state.preview) return;
  if (state.styleBusy) { state.styleAgain = true; return; } // latest settings win
  state.styleBusy = true;
  busy("result-frame", true);
  const generation = state.generation;
  const started = performance.now();
  try {
    const params = { style: $("style").value, method: $("method").value, ...styleValues(state.scale) };
    showRecipe();
    const response = await api("v1/stylize", params, state.preview,
                               state.alpha ? "image/png" : "image/jpeg");
    const blob = await response.blob();
    if (generation === state.generation) {
      show($("result"), blob);
      $("peek").src = $("result").src;
      showTiming("result-timing", response, started);
      // the server answers again (restarted?): the map it could not give comes back too
      if (!$("map-frame").matches(".loaded, .busy")) refreshMap();
    }
  } catch (error) {
    if (generation === state.generation) toast(error.message, photoRefused(error) ? null : refreshAll);
  } finally {
    state.styleBusy = false;
    busy("result-frame", false);
    if (state.styleAgain) { state.styleAgain = false; refreshStyle(); }
  }
}

function shellQuote(text) {
  // One shell word, whatever the text holds (quotes, ;, spaces, $).
  return `'${text.replace(/'/g, "'\\''")}'`;
}

function showRecipe() {
  // The curl command giving the current result at full resolution.
  const preset = state.styles.styles[$("style").value];
  const params = { style: $("style").value };
  if ($("method").value !== "auto") params.method = $("method").value;
  for (const p of state.styles.parameters) {
    if (Math.abs(state.params[p.name] - preset[p.name]) > 1e-9) params[p.name] = state.params[p.name];
  }
  const url = new URL(`v1/stylize?${new URLSearchParams(params)}`, document.baseURI);
  const name = state.name || "photo.jpg";
  // curl reads ';' and ',' in a file name as field options unless the name is in double quotes
  const field = `image=@"${name.replace(/["\\]/g, "\\$&")}"`;
  $("copy").disabled = false;
  $("curl").textContent = `curl -sf -F ${shellQuote(field)} ${shellQuote(url.href)} -o ${shellQuote(`${stem()}-${params.style}.png`)}`;
}

// ---------- downloads (the original photo, full resolution) ----------
function stem() { return (state.name || "photo").replace(/\.[^.]+$/, ""); }

async function download(kind) {
  // While it renders, the button stays focusable (aria-disabled, not disabled: a disabled
  // button drops the keyboard's focus to the page) and ignores clicks.
  const status = $("download-status");
  const button = $(`download-${kind}`);
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  status.textContent = `Rendering the full-resolution ${kind}…`;
  const started = performance.now();
  try {
    const response = kind === "result"
      ? await api("v1/stylize", { style: $("style").value, method: $("method").value, ...styleValues() },
                  state.original, "image/png")
      : await api("v1/map", mapParams(), state.original, "image/png");
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    const view = state.view === "grey" ? "" : `-${state.view}`;
    link.download = kind === "result" ? `${stem()}-${$("style").value}.png` : `${stem()}-map${view}.png`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    const steps = serverTiming(response.headers.get("Server-Timing"))
      .map((s) => `${s.name} ${s.note === "cached" ? "cached" : Math.round(s.ms) + " ms"}`).join(", ");
    status.textContent = `${link.download}: ${Math.round(blob.size / 1024)} kB in ${Math.round(performance.now() - started)} ms (${steps})`;
  } catch (error) {
    status.textContent = "";
    toast(error.message);
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

// ---------- start ----------
async function loadSamples() {
  const list = await (await fetch("v1/samples")).json();
  const box = $("samples");
  for (const sample of list) {
    const button = document.createElement("button");
    button.type = "button";
    button.title = `Use the bundled sample ${sample.name}`;
    button.dataset.sample = sample.name;
    button.innerHTML = `<img alt=""><span></span>`;
    button.querySelector("img").src = sample.url;
    button.querySelector("span").textContent = sample.name.replace(/\.[^.]+$/, "");
    button.addEventListener("click", async () => {
      document.querySelectorAll(".samples button").forEach((b) => b.classList.toggle("on", b === button));
      const blob = await (await fetch(sample.url)).blob();
      choosePhoto(blob, sample.name);
    });
    box.appendChild(button);
  }
}

function wire() {
  $("file").addEventListener("change", () => {
    const file = $("file").files[0];
    if (!file) return;
    document.querySelectorAll(".samples button").forEach((b) => b.classList.remove("on"));
    choosePhoto(file, file.name);
  });
  const drop = $("drop");
  document.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) choosePhoto(file, file.name);
  });
  $("method").addEventListener("change", refreshAll);
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); }
  });
  const views = [...document.querySelectorAll("#view button")];
  const chooseView = (button) => {
    state.view = button.dataset.view;
    for (const b of views) {
      b.classList.toggle("on", b === button);
      b.setAttribute("aria-checked", String(b === button));
      b.tabIndex = b === button ? 0 : -1;
    }
    refreshMap();
  };
  $("view").addEventListener("click", (e) => { if (views.includes(e.target)) chooseView(e.target); });
  $("view").addEventListener("keydown", (e) => {  // a radio group: arrows move the choice
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    const next = views[(views.indexOf(document.activeElement) + step + views.length) % views.length];
    next.focus();
    chooseView(next);
  });
  $("rois").addEventListener("change", refreshRois);
  $("otsu").addEventListener("change", () => {
    $("threshold").disabled = $("otsu").checked;
    $("threshold-value").textContent = $("otsu").checked ? "otsu" : $("threshold").value;
    refreshRois();
  });
  let roiTimer = 0;
  $("threshold").addEventListener("input", () => {
    $("threshold-value").textContent = Number($("threshold").value).toFixed(2);
    clearTimeout(roiTimer);
    roiTimer = setTimeout(refreshRois, 120);
  });
  $("style").addEventListener("change", () => { loadPreset(); scheduleStyle(); });
  $("reset").addEventListener("click", () => { loadPreset(); scheduleStyle(); });
  $("preview").addEventListener("change", () => { if (state.original) choosePhoto(state.original, state.name); });
  $("download-result").addEventListener("click", () => download("result"));
  $("download-map").addEventListener("click", () => download("map"));
  $("map").addEventListener("load", () => {
    // a photo the browser cannot show: the frames take the map's shape (the photo's)
    if (!state.size) fitFrames({ width: $("map").naturalWidth, height: $("map").naturalHeight });
    placeBoxes();
  });
  $("toast-retry").addEventListener("click", () => { hideToast(); toast.action(); });
  $("toast-close").addEventListener("click", hideToast);
  $("copy").addEventListener("click", () => navigator.clipboard.writeText($("curl").textContent)
    .then(() => { $("copy").textContent = "Copied"; setTimeout(() => { $("copy").textContent = "Copy"; }, 1500); }));
  window.addEventListener("resize", placeBoxes);
  // Stacked panels (a narrow screen): while the result is scrolled out of sight (settings
  // being moved), a thumbnail of it stays in a corner; a tap brings the result back.
  new IntersectionObserver(([seen]) => $("peek").classList.toggle("away", !seen.isIntersecting))
    .observe($("result-frame"));
  $("peek").addEventListener("click", () => $("result-frame").scrollIntoView({ block: "center" }));
}

async function start() {
  wire();
  try {
    const answer = await fetch("v1/styles");
    if (!answer.ok) throw new Error(`${answer.status}`);
    state.styles = await answer.json();
  } catch (e) {  // nothing works without the server: say so, and offer nothing to click
    $("health").textContent = "server unreachable";
    document.querySelectorAll(".layout :is(input, select, button)").forEach((control) => { control.disabled = true; });
    $("drop").removeAttribute("tabindex");
    $("drop").classList.add("off");
    toast("The dofkit server does not answer: start `dofkit serve` and reload this page.", () => location.reload());
    $("toast-retry").textContent = "Reload";
    return;
  }
  for (const method of state.styles.methods) $("method").add(new Option(method, method));
  for (const name of Object.keys(state.styles.styles)) $("style").add(new Option(name, name));
  $("style").value = state.styles.default;
  buildParams();
  loadPreset();
  await loadSamples();
  await checkHealth();
  // the header follows the server: "server unreachable" while it is down
  setInterval(() => { if (!document.hidden) checkHealth(); }, 5000);
}

start();
