#include "dashboard/page.h"

namespace fersweep::dashboard {

const std::string& page_html() {
  static const std::string page = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>fersweep</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: sans-serif; margin: 20px; color: #222; }
a { color: #1f5fa8; cursor: pointer; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; user-select: none; }
th.sortable { cursor: pointer; }
td.text, th.text { text-align: left; }
.error { color: #a00; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
#status { color: #666; font-size: 12px; }
input[type=text] { width: 420px; }
</style></head><body>
<div><a href="#/">sweeps</a> <span id="status"></span></div>
<div id="view"></div>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
let timer = null, state = {sort: null, order: null, where: "", offset: 0, limit: 50};

function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}
async function get(url) {
  const response = await fetch(withToken(url));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function link(text, hash) { const a = el("a", text); a.href = hash; return a; }
function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return typeof v === "string" ? v : JSON.stringify(v);
}
function img(src) { const i = el("img"); i.src = withToken(src); return i; }
function table(headers, rows) {
  const t = el("table"), head = el("tr");
  for (const h of headers) head.appendChild(h instanceof Node ? h : el("th", h));
  t.appendChild(head);
  for (const r of rows) {
    const tr = el("tr");
    for (const c of r) {
      if (c instanceof Node) { const td = el("td", null, "text"); td.appendChild(c); tr.appendChild(td); }
      else tr.appendChild(el("td", fmt(c), typeof c === "string" ? "text" : ""));
    }
    t.appendChild(tr);
  }
  return t;
}
function replace(id, node) {
  const old = document.getElementById(id);
  node.id = id;
  if (old) old.replaceWith(node); else document.getElementById("view").appendChild(node);
}
function counts(c) { return Object.entries(c).map(([k, v]) => v + " " + k).join(", "); }

async function showSweeps() {
  const sweeps = await get("/api/sweeps");
  replace("title", el("h1", "Sweeps"));
  replace("body", table(["id", "name", "method", "status", "metric", "trials"],
    sweeps.map(s => [link(s.id, "#/sweep/" + s.id), s.name, s.method, s.status, s.metric,
                     counts(s.trials_by_status)])));
}

async function showSweep(id, first) {
  const sweep = await get("/api/sweeps/" + id);
  if (first) {
    state = {sort: sweep.metric, order: sweep.goal === "maximize" ? "desc" : "asc", where: "",
             offset: 0, limit: 50};
    const box = el("div"), input = el("input");
    input.type = "text";
    input.placeholder = "filter, e.g. status = finished and lr < 0.01";
    input.addEventListener("keydown", e => {
      if (e.key === "Enter") { state.where = input.value; state.offset = 0; refresh(); }
    });
    box.appendChild(el("span", "where "));
    box.appendChild(input);
    replace("title", el("h1"));
    replace("summary", el("p"));
    replace("filter", box);
    replace("board", el("div"));
    replace("figures", el("div", null, "figures"));
  }
  document.getElementById("title").textContent =
    "Sweep " + sweep.id + " \u201c" + sweep.name + "\u201d (" + sweep.method + ", " + sweep.goal +
    " " + sweep.metric + ")";
  document.getElementById("summary").textContent = sweep.status + ": " +
    counts(sweep.trials_by_status) + (sweep.best ? "; best trial " + sweep.best.trial + " " +
    fmt(sweep.best.metrics[sweep.metric]) : "");
  const q = new URLSearchParams({sort: state.sort, order: state.order, where: state.where,
                                 offset: state.offset, limit: state.limit});
  let page;
  try { page = await get("/api/sweeps/" + id + "/trials?" + q); }
  catch (e) { replace("board", el("p", e.message, "error")); return; }
  const headers = ["trial", "status", "epochs"].map(h => el("th", h));
  for (const m of ["number"].concat(sweep.metrics)) {
    const th = el("th", m === "number" ? "#" : m + (state.sort === m ? (state.order === "desc" ? " \u25bc" : " \u25b2") : ""), "sortable");
    th.addEventListener("click", () => {
      state.order = state.sort === m && state.order === "desc" ? "asc" : "desc";
      state.sort = m; state.offset = 0; refresh();
    });
    headers.push(th);
  }
  for (const p of sweep.parameters) headers.push(el("th", p, "text"));
  const rows = page.trials.map(t => [link(t.trial, "#/trial/" + t.trial), t.status,
    t.epochs_completed, t.number].concat(sweep.metrics.map(m => t.metrics[m]))
    .concat(sweep.parameters.map(p => fmt(t.params[p]))));
  const board = el("div");
  board.appendChild(table(headers, rows));
  const pager = el("div");
  pager.appendChild(el("span", (page.total ? page.offset + 1 : 0) + "\u2013" +
    (page.offset + page.trials.length) + " of " + page.total + " "));
  if (page.offset > 0) {
    const prev = link("previous", "#/sweep/" + id);
    prev.addEventListener("click", e => { e.preventDefault(); state.offset = Math.max(0, state.offset - state.limit); refresh(); });
    pager.appendChild(prev);
  }
  if (page.offset + page.trials.length < page.total) {
    const next = link(" next", "#/sweep/" + id);
    next.addEventListener("click", e => { e.preventDefault(); state.offset += state.limit; refresh(); });
    pager.appendChild(next);
  }
  board.appendChild(pager);
  replace("board", board);
  if (first || Date.now() - (state.figuresAt || 0) > 10000) {
    state.figuresAt = Date.now();
    const figures = el("div", null, "figures");
    figures.appendChild(img("/svg/sweeps/" + id + "/parallel.svg?at=" + Date.now()));
    if ((sweep.trials_by_status.finished || 0) >= 4)
      figures.appendChild(img("/svg/sweeps/" + id + "/importance.svg?at=" + Date.now()));
    replace("figures", figures);
  }
}

async function showTrial(id, first) {
  const t = await get("/api/trials/" + id);
  replace("title", el("h1", "Trial " + t.trial + " (sweep " + t.sweep + ", #" + t.number + ")"));
  replace("summary", el("p", t.status + ", " + t.epochs_completed + " epochs" +
    (t.error ? ": " + t.error : ""), t.error ? "error" : ""));
  const params = Object.entries(t.params).map(([k, v]) => [k, fmt(v)]);
  replace("params", table(["parameter", "value"].map(h => el("th", h, "text")), params));
  const schedule = el("div");
  for (const r of t.schedule.slice(1)) {
    schedule.appendChild(el("div", "after epoch " + r.epoch + ": " +
      (r.parent ? "loaded trial " + r.parent + "'s state; " : "") + JSON.stringify(r.params)));
  }
  replace("schedule", schedule);
  const names = new Set();
  for (const e of t.epochs) for (const k of Object.keys(e.values || {})) names.add(k);
  const figures = el("div", null, "figures");
  for (const m of ["val_accuracy", "val_macro_f1", "val_loss"].filter(m => names.has(m)))
    figures.appendChild(img("/svg/trials/" + id + "/curves.svg?metric=" + m + "&epochs=" + t.epochs.length));
  if (t.confusion_matrix.length) figures.appendChild(img("/svg/trials/" + id + "/confusion.svg?epochs=" + t.epochs.length));
  const shown = document.getElementById("figures");
  if (first || !shown || shown.dataset.epochs !== String(t.epochs.length)) {
    figures.dataset.epochs = String(t.epochs.length);
    replace("figures", figures);
  }
  replace("report", (t.per_class || []).length
    ? table(["class", "precision", "recall", "f1", "support"].map(h => el("th", h)),
            t.per_class.map(c => [c.name, c.precision, c.recall, c.f1, c.support]))
    : el("div"));
  replace("epochs", el("p", "epochs stored: " + t.epochs.length, ""));
}

async function refresh(first) {
  const hash = location.hash || "#/";
  const [, kind, id] = hash.split("/");
  try {
    if (kind === "sweep") await showSweep(id, first);
    else if (kind === "trial") await showTrial(id, first);
    else await showSweeps();
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = e.message;
  }
}
function route() {
  document.getElementById("view").replaceChildren();
  clearInterval(timer);
  refresh(true);
  timer = setInterval(refresh, 2000);
}
window.addEventListener("hashchange", route);
route();
</script></body></html>
)html";
  return page;
}

}  // namespace fersweep::dashboard
