// Renders /openapi.json as a plain reference page (no external assets).
"use strict";

// Fill `node` with `text`, a description in Markdown: its `code` spans drawn as <code>
// (built as nodes, never parsed as HTML).
function prose(node, text) {
  text.split(/`([^`]+)`/).forEach((piece, index) => {
    if (index % 2) node.appendChild(document.createElement("code")).textContent = piece;
    else if (piece) node.appendChild(document.createTextNode(piece));
  });
  return node;
}

function cell(row, text, tag = "td") {
  return row.appendChild(prose(document.createElement(tag), text));
}

function typeOf(schema, spec) {
  if (!schema) return "";
  const options = schema.anyOf ? schema.anyOf.filter((s) => s.type !== "null") : [schema];
  return options.map((s) => {
    if (s.$ref) s = spec.components.schemas[s.$ref.split("/").pop()];
    if (s.enum) return s.enum.join(" | ");
    const range = [s.minimum !== undefined ? `≥ ${s.minimum}` : "", s.maximum !== undefined ? `≤ ${s.maximum}` : ""]
      .filter(Boolean).join(", ");
    return `${s.type || ""}${range ? ` (${range})` : ""}`;
  }).join(" | ");
}

async function render() {
  const spec = await (await fetch("openapi.json")).json();
  const examples = document.getElementById("examples");  // this server's own address
  examples.textContent = examples.textContent.replace(/http:\/\/[^/']+\//g, new URL(".", document.baseURI).href);
  prose(document.getElementById("intro"), `${spec.info.title} ${spec.info.version}: ${spec.info.description}`);
  const box = document.getElementById("endpoints");
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [verb, op] of Object.entries(operations)) {
      const section = document.createElement("section");
      section.className = "endpoint";
      const title = document.createElement("h3");
      title.innerHTML = `<span class="verb"></span> <code></code> <span class="muted"></span>`;
      title.querySelector(".verb").textContent = verb.toUpperCase();
      title.querySelector("code").textContent = path;
      prose(title.querySelector(".muted"), op.summary || "");
      section.appendChild(title);
      if (op.description) cell(section, op.description, "p");
      const params = op.parameters || [];
      if (params.length) {
        const table = document.createElement("table");
        const head = table.insertRow();
        ["parameter", "type", "default", "meaning"].forEach((t) => cell(head, t, "th"));
        for (const p of params) {
          const row = table.insertRow();
          cell(row, p.name);
          cell(row, typeOf(p.schema, spec));
          cell(row, p.schema && p.schema.default !== undefined ? String(p.schema.default) : "");
          cell(row, p.description || (p.schema && p.schema.description) || "");
        }
        section.appendChild(table);
      }
      const ok = op.responses && op.responses["200"];
      if (ok && ok.content) {
        cell(section, `200: ${ok.description} (${Object.keys(ok.content).join(", ")})`, "p");
      }
      box.appendChild(section);
    }
  }
}

render();
