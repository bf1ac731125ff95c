// The report's behaviour: charts from embedded Plotly JSON, and the item table (DataTables,
// from the itables bundle). Every string from the run is untrusted (item text, model output,
// model, suite, task and tag names): it only ever reaches the page as a text node
// (textContent / DataTables' text renderer) or, where a library takes HTML (DataTables column
// titles), escaped first. The page's CSP allows this script by its hash.
"use strict";

function readJSON(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

// For the few library options that are HTML, not text.
function escapeHTML(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The table library is an ES module; it is imported from this page's own bytes via a blob URL
// (allowed by the CSP's `blob:` script source), revoked as soon as it has loaded.
async function loadTableLibrary() {
  const b64 = document.getElementById("table-bundle").textContent.trim();
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: "text/javascript" }));
  try { return await import(url); } finally { URL.revokeObjectURL(url); }
}

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children || []) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Control characters are shown as visible marks instead of vanishing.
function visibleText(text) {
  const out = document.createDocumentFragment();
  let plain = "";
  for (const ch of String(text ?? "")) {
    const code = ch.codePointAt(0);
    if ((code < 32 && ch !== "\n" && ch !== "\t") || code === 127) {
      if (plain) { out.append(plain); plain = ""; }
      out.append(el("span", { class: "ctl", title: "control character" }, ["^" + code.toString(16).padStart(2, "0")]));
    } else {
      plain += ch;
    }
  }
  if (plain) out.append(plain);
  return out;
}

// Word-level for Latin text, character-level for CJK.
const TOKEN = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|[\p{L}\p{N}_]+|\s+|[^\s\p{L}\p{N}_]/gu;

function diffNodes(reference, output) {
  const a = String(reference ?? "").match(TOKEN) || [];
  const b = String(output ?? "").match(TOKEN) || [];
  const frag = document.createDocumentFragment();
  if (a.length * b.length > 4e6) { frag.append(visibleText(output)); return frag; }
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  let i = 0, j = 0;
  const push = (tag, text) => {
    const last = frag.lastChild;
    if (last && last.nodeName.toLowerCase() === tag) last.append(visibleText(text));
    else if (tag === "span") frag.append(visibleText(text));
    else frag.append(el(tag, {}, [visibleText(text)]));
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { push("span", b[j]); i++; j++; }
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) { push("ins", b[j]); j++; }
    else { push("del", a[i]); i++; }
  }
  return frag;
}

function renderCharts() {
  const charts = readJSON("chart-data");
  for (const [name, figure] of Object.entries(charts)) {
    const target = document.getElementById("chart-" + name);
    if (target) Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
  }
}

function mark(score, right) {
  if (score === null || score === undefined) return "–";
  if (score >= right) return score === 1 ? "✓" : "✓ " + score.toFixed(2);
  return score === 0 ? "✗" : "✗ " + score.toFixed(2);
}

// The judge's scores with its reasons, and the experts' mean scores, under a model's output.
function ratingNodes(item, k) {
  const nodes = [];
  const verdict = item.judge ? item.judge[k] : null;
  if (verdict) {
    const lines = Object.entries(verdict.scores).map(([name, [score, reason]]) =>
      `${name}: ${score === null ? "–" : score}${reason ? " — " + reason : ""}`);
    if (verdict.outcome) lines.push(`pairwise vs the reference: ${verdict.outcome}`);
    nodes.push(el("div", { class: "judge" }, [el("span", { class: "muted" }, ["judge "]), lines.join("; ")]));
  }
  const experts = item.expert ? item.expert[k] : null;
  if (experts) {
    const text = Object.entries(experts).map(([name, v]) => `${name}: ${v.toFixed(2)}`).join("; ");
    nodes.push(el("div", { class: "expert" }, [el("span", { class: "muted" }, ["experts (0–1) "]), text]));
  }
  return nodes;
}

function itemDetail(item, models, right) {
  const refs = item.reference.length ? item.reference : [""];
  const outputs = el("div", { class: "outputs" });
  models.forEach((model, k) => {
    const score = item.score[k];
    const cls = score === null ? "none" : score >= right ? "right" : "wrong";
    const fmt = item.format[k] === null ? "" : item.format[k] >= 1 ? "format ok" : "format ✗";
    const pre = el("pre", { class: "model-output" });
    pre.append(item.output[k] === null ? "(no output)" : diffNodes(refs[0], item.output[k]));
    outputs.append(el("div", { class: "output" }, [
      el("div", { class: "head" }, [el("span", {}, [model]), el("span", { class: cls }, [mark(score, right) + " " + fmt])]),
      pre,
      ...ratingNodes(item, k),
    ]));
  });
  const input = el("div", { class: "input" });
  input.append(visibleText(item.input));
  const ref = el("div", { class: "ref" });
  ref.append(visibleText(item.reference.join("\n— or —\n")));
  return el("div", { class: "detail" }, [
    el("div", { class: "muted" }, ["input"]), input,
    el("div", { class: "muted" }, ["reference"]), ref,
    el("div", { class: "muted" }, ["outputs (green: added to the reference, red: missing from it)"]),
    outputs,
  ]);
}

async function renderItems(tableLibrary) {
  const { items, models, right } = readJSON("item-data");
  const { default: DataTable, jQuery: $ } = await tableLibrary;
  const columns = [
    { data: null, className: "dt-control", orderable: false, defaultContent: "", title: "" },
    { data: "suite", title: "suite" },
    { data: "id", title: "item" },
    { data: "task", title: "task" },
    { data: "language", title: "lang" },
    { data: (row) => row.tags.join(", "), title: "tags" },
    ...models.map((model, k) => ({
      data: (row, type) => type === "sort" || type === "type" ? (row.score[k] ?? -1) : mark(row.score[k], right),
      title: escapeHTML(model),  // DataTables puts titles in as HTML
      className: "dt-center model-col",
    })),
  ];
  for (const c of columns) if (c.render === undefined && c.data !== null) c.render = DataTable.render.text();
  const table = new DataTable(document.getElementById("item-table"), {
    data: items, columns, deferRender: true, pageLength: 25, order: [[1, "asc"], [2, "asc"]],
    layout: { topStart: "pageLength", topEnd: "search" },
  });
  // Filters beyond the free-text search: task, language, tag, and right/wrong per model.
  const filters = { task: "", language: "", tag: "", model: "", outcome: "", regressed: null };
  DataTable.ext.search.push((settings, _, index) => {
    if (settings.nTable.id !== "item-table") return true;
    const row = items[index];
    if (filters.task && row.task !== filters.task) return false;
    if (filters.language && row.language !== filters.language) return false;
    if (filters.tag && !row.tags.includes(filters.tag)) return false;
    if (filters.model !== "" && filters.outcome) {
      const s = row.score[Number(filters.model)];
      if (filters.outcome === "right" && !(s !== null && s >= right)) return false;
      if (filters.outcome === "wrong" && !(s !== null && s < right)) return false;
    }
    // Exactly the items the regression table lists for that candidate, suite and task.
    if (filters.regressed && !(row.suite === filters.regressed.suite && filters.regressed.ids.has(row.id))) return false;
    return true;
  });
  for (const name of ["task", "language", "tag", "model", "outcome"]) {
    document.getElementById("filter-" + name).addEventListener("change", (e) => {
      filters[name] = e.target.value;
      table.draw();
    });
  }
  document.querySelectorAll("a.show-regressed").forEach((a) => a.addEventListener("click", () => {
    const ids = JSON.parse(a.dataset.lost);
    filters.regressed = { suite: a.dataset.suite, ids: new Set(ids) };
    table.draw();
    document.getElementById("regressed-note").textContent =
      `showing the ${ids.length} ${a.dataset.suite} · ${a.dataset.task} items the baseline got right and ${a.dataset.candidate} got wrong`;
  }));
  document.getElementById("clear-regressed").addEventListener("click", () => {
    filters.regressed = null;
    document.getElementById("regressed-note").textContent = "";
    table.draw();
  });
  $("#item-table tbody").on("click", "td.dt-control", function () {
    const row = table.row(this.closest("tr"));
    if (row.child.isShown()) row.child.hide();
    else row.child(itemDetail(row.data(), models, right)).show();
  });
  document.body.dataset.itemsReady = "true";
}

const tableLibrary = loadTableLibrary();  // compiles while the charts are drawn
renderCharts();
renderItems(tableLibrary).catch((e) => console.error(e));
