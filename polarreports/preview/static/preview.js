// The live preview page: it shows the state the server sends (server-sent events), builds the
// parameter form from the report's parameters, and asks for page images. Every text it shows
// is set with textContent, never parsed as markup.
"use strict";

const $ = (id) => document.getElementById(id);
let shown = { render: null, page: 1, pages: null, parametersKey: null };

function post(path, body) {
  return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

function element(tag, properties = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(properties)) {
    if (key === "text") node.textContent = value;
    else if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const INPUT_TYPES = { integer: "number", float: "number", decimal: "number", date: "date", datetime: "datetime-local", string: "text" };

function control(parameter, value) {
  const id = "param-" + parameter.name;
  const common = { id, name: parameter.name, "data-parameter": parameter.name };
  let input;
  if (parameter.allowed) {
    input = element("select", common);
    if (!parameter.required) input.append(element("option", { value: "", text: "(not set)" }));
    for (const allowed of parameter.allowed) input.append(element("option", { value: allowed, text: allowed }));
    input.value = value ?? "";
  } else if (parameter.type === "boolean") {
    input = element("input", { ...common, type: "checkbox" });
    input.checked = ["true", "yes", "1", "on"].includes(String(value ?? "").toLowerCase());
  } else {
    const type = INPUT_TYPES[parameter.type] || "text";
    input = element("input", { ...common, type, placeholder: parameter.required ? "required" : "not set" });
    if (parameter.type === "integer") input.step = "1";
    if (parameter.type === "float" || parameter.type === "decimal") input.step = "any";
    input.value = value ?? "";
  }
  input.addEventListener("change", () => {
    const sent = input.type === "checkbox" ? String(input.checked) : (input.value === "" ? null : input.value);
    post("/api/params", { [parameter.name]: sent });
  });
  const label = element("label", { for: id, text: parameter.name + (parameter.required ? " *" : "") });
  const note = element("small", { text: [parameter.type, parameter.description].filter(Boolean).join(" · ") });
  const kind = parameter.type === "boolean" && !parameter.allowed ? "field checkbox" : "field";
  return element("div", { class: kind }, parameter.type === "boolean" && !parameter.allowed ? [input, label, note] : [label, input, note]);
}

function showForm(state) {
  const key = JSON.stringify(state.parameters);
  if (key === shown.parametersKey) return;  // unchanged: leave what is being typed alone
  shown.parametersKey = key;
  const fields = $("fields");
  fields.replaceChildren(...state.parameters.map((p) => control(p, state.values[p.name] ?? p.default)));
  $("no-parameters").hidden = state.parameters.length > 0;
}

function showError(error) {
  $("error").hidden = !error;
  if (!error) return;
  $("error-kind").textContent = error.kind;
  $("error-where").replaceChildren(...(error.where ? ["in ", element("code", { text: error.where })] : []));
  $("error-message").textContent = error.message;
  $("error-issues").replaceChildren(...(error.issues.length > 1 ? error.issues.map((issue) => element("li", { text: issue })) : []));
}

function showPage() {
  const image = $("page");
  if (shown.render === null) { image.hidden = true; return; }
  const source = `/page/${shown.render}/${shown.page}.png`;
  if (image.getAttribute("src") !== source) {
    image.setAttribute("src", source);
    image.dataset.render = String(shown.render);
    image.dataset.page = String(shown.page);
    image.alt = `page ${shown.page}`;
  }
  image.hidden = false;
  $("page-number").value = String(shown.page);
  $("page-count").textContent = shown.pages ?? "?";
  $("first").disabled = $("previous").disabled = shown.page <= 1;
  $("next").disabled = $("last").disabled = shown.pages !== null && shown.page >= shown.pages;
}

function turnTo(page) {
  const last = shown.pages ?? Infinity;
  shown.page = Math.max(1, Math.min(last, page | 0 || 1));
  showPage();
}

function show(state) {
  $("title").textContent = state.title || "polarreports preview";
  document.title = `${state.title || state.definition} · polarreports preview`;
  $("files").textContent = `${state.definition} over ${state.data}`;
  showForm(state);
  const rendering = state.status === "rendering";
  const progress = state.progress;
  $("progress").value = rendering && progress ? progress.fraction : (state.status === "done" ? 1 : 0);
  const count = progress && progress.total ? ` ${progress.done.toLocaleString()}/${progress.total.toLocaleString()} ${progress.unit}` : "";
  $("status").textContent = rendering
    ? `rendering: ${progress ? progress.phase + count : ""}`
    : { done: `rendered in ${state.seconds} s`, error: "failed: see the message", cancelled: "cancelled", idle: "" }[state.status] ?? state.status;
  $("cancel").disabled = !rendering;
  $("summary").textContent = state.summary.join(" · ");
  const plural = (count, word) => `${count === null ? "?" : count.toLocaleString()} ${word}${count === 1 ? "" : "s"}`;
  $("rows").textContent = state.rows === null ? "" : `${plural(state.rows, "row")}, ${plural(state.pages, "page")}`;
  showError(state.error);
  $("page").classList.toggle("stale", state.status === "error");
  document.body.dataset.status = state.status;
  document.body.dataset.version = String(state.version);
  if (state.render !== shown.render) {
    shown.render = state.render;
    shown.pages = state.pages;
    if (shown.pages !== null && shown.page > shown.pages) shown.page = shown.pages;
  }
  shown.pages = state.pages;
  showPage();
}

function connect() {
  const events = new EventSource("/events");
  events.onmessage = (event) => show(JSON.parse(event.data));
  events.onerror = () => { $("status").textContent = "reconnecting…"; };
}

document.addEventListener("DOMContentLoaded", () => {
  $("cancel").addEventListener("click", () => post("/api/cancel", {}));
  $("first").addEventListener("click", () => turnTo(1));
  $("previous").addEventListener("click", () => turnTo(shown.page - 1));
  $("next").addEventListener("click", () => turnTo(shown.page + 1));
  $("last").addEventListener("click", () => turnTo(shown.pages ?? shown.page));
  $("page-number").addEventListener("change", (event) => turnTo(Number(event.target.value)));
  $("parameters").addEventListener("submit", (event) => event.preventDefault());
  document.addEventListener("keydown", (event) => {  // ← and → turn the pages, outside the form
    if (event.target.closest("input, select, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowLeft") turnTo(shown.page - 1);
    if (event.key === "ArrowRight") turnTo(shown.page + 1);
  });
  connect();
});
