// The supervisors' reports page: figures from /api/v1/reports (docs/api.md), three charts as inline SVG.
// Plain ES module, no library, no build step. The page loads for anyone; the data calls need a
// supervisor's or admin's session, and a refusal is shown as it came (e.g. 403 forbidden for an agent).
import { bindSignIn, currentUser } from "./signin.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const API = "/api/v1/reports";
const W = 420, H = 200, LEFT = 34, RIGHT = 8, TOP = 16, BOTTOM = 22;
const COLUMNS = [
  ["entered", "entered", "count"], ["offered", "offered", "count"], ["short_abandons", "short abandons", "count"],
  ["answered", "answered", "count"], ["answered_within", "answered within T", "count"],
  ["abandoned", "abandoned", "count"], ["abandoned_within", "abandoned within T", "count"],
  ["callbacks_chosen", "callbacks chosen", "count"], ["voicemail", "voicemail", "count"],
  ["no_agent", "no agent", "count"], ["callbacks_placed", "callbacks placed", "count"],
  ["service_level", "service level", "share"], ["asa_s", "ASA", "seconds"], ["aht_s", "AHT", "seconds"],
  ["abandonment_rate", "abandonment", "share"], ["longest_wait_s", "longest wait", "seconds"],
];

export const share = (x) => (x === null ? "—" : `${(x * 100).toFixed(1)} %`);
export const seconds = (x) => (x === null ? "—" : `${x.toFixed(1)} s`);
const shown = { count: String, share, seconds };

function el(tag, attrs = {}, text = null) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

class Refused extends Error {
  constructor(status, body) {
    super(`${status} ${body.error ?? "error"}: ${body.message ?? ""}`);
    this.status = status;
  }
}

async function getJson(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Refused(r.status, body);
  return body;
}

function query(range) {
  return new URLSearchParams(range).toString();
}

// ---- charts ----

function frame(svg, maxValue, ticks) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const plotH = H - TOP - BOTTOM;
  svg.append(el("svg:line", { class: "axis", x1: LEFT, y1: H - BOTTOM, x2: W - RIGHT, y2: H - BOTTOM }));
  svg.append(el("svg:line", { class: "axis", x1: LEFT, y1: TOP, x2: LEFT, y2: H - BOTTOM }));
  for (const [value, label] of ticks) {
    const y = H - BOTTOM - (value / maxValue) * plotH;
    svg.append(el("svg:text", { x: LEFT - 3, y: y + 3, "text-anchor": "end" }, label));
  }
  return plotH;
}

function legend(svg, items) {
  let x = LEFT + 4;
  for (const [cls, label] of items) {
    svg.append(el("svg:rect", { class: cls, x, y: 3, width: 8, height: 8 }));
    svg.append(el("svg:text", { class: "legend", x: x + 11, y: 11 }, label));
    x += 18 + label.length * 6;
  }
}

export function hourChart(svg, rows) {
  const kinds = ["offered", "answered", "abandoned"];
  const max = Math.max(1, ...rows.flatMap((r) => kinds.map((k) => r[k])));
  const plotH = frame(svg, max, [[0, "0"], [max, String(max)]]);
  const slot = (W - LEFT - RIGHT) / 24;
  for (let hour = 0; hour < 24; hour += 3) {
    svg.append(el("svg:text", { x: LEFT + hour * slot + slot / 2, y: H - 8, "text-anchor": "middle" },
      String(hour).padStart(2, "0")));
  }
  for (const row of rows) {
    const hour = Number(row.group);
    kinds.forEach((kind, i) => {
      const h = (row[kind] / max) * plotH;
      const bar = el("svg:rect", {
        class: `bar ${kind}`, "data-group": row.group, "data-value": row[kind],
        x: LEFT + hour * slot + (i + 0.5) * (slot / 4), y: H - BOTTOM - h, width: slot / 4, height: h,
      });
      bar.append(el("svg:title", {}, `${row.group}:00 ${kind} ${row[kind]}`));
      svg.append(bar);
    });
  }
  legend(svg, kinds.map((k) => [k, k]));
}

function daysBetween(first, last) {
  const days = [];
  for (let d = new Date(`${first}T00:00:00Z`); d <= new Date(`${last}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

export function dayChart(svg, report) {
  const days = daysBetween(report.from, report.to);
  const plotH = frame(svg, 1, [[0, "0 %"], [0.5, "50 %"], [1, "100 %"]]);
  const slot = (W - LEFT - RIGHT) / days.length;
  const goal = report.formula.goal;
  const byDay = new Map(report.rows.map((r) => [r.group, r]));
  const every = Math.ceil(days.length / 7);
  days.forEach((day, i) => {
    if (i % every === 0) {
      svg.append(el("svg:text", { x: LEFT + (i + 0.5) * slot, y: H - 8, "text-anchor": "middle" }, day.slice(5)));
    }
    const level = byDay.get(day)?.service_level ?? null;
    if (level === null) return; // no call in the formula's denominator: nothing to draw, never 0 %
    const h = level * plotH;
    const bar = el("svg:rect", {
      class: `bar level${level < goal ? " below" : ""}`, "data-group": day, "data-value": level,
      x: LEFT + i * slot + slot * 0.15, y: H - BOTTOM - h, width: slot * 0.7, height: h,
    });
    bar.append(el("svg:title", {}, `${day}: ${share(level)}`));
    svg.append(bar);
  });
  const y = H - BOTTOM - goal * plotH;
  svg.append(el("svg:line", { class: "goal", x1: LEFT, y1: y, x2: W - RIGHT, y2: y }));
  svg.append(el("svg:line", { class: "goal-key", x1: W - RIGHT - 90, y1: 8, x2: W - RIGHT - 70, y2: 8 }));
  svg.append(el("svg:text", { x: W - RIGHT, y: 11, "text-anchor": "end" }, `goal ${share(goal)}`));
}

export function sourceChart(svg, rows) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const sorted = [...rows].sort((a, b) => b.entered - a.entered || a.group.localeCompare(b.group));
  const max = Math.max(1, ...sorted.map((r) => r.entered));
  const label = 90, rowH = Math.min(22, (H - 8) / Math.max(1, sorted.length));
  sorted.forEach((row, i) => {
    const y = 4 + i * rowH;
    const w = (row.entered / max) * (W - label - 40);
    svg.append(el("svg:text", { x: label - 4, y: y + rowH * 0.65, "text-anchor": "end" }, row.group ?? "—"));
    const bar = el("svg:rect", {
      class: "bar source", "data-group": row.group, "data-value": row.entered,
      x: label, y: y + rowH * 0.15, width: w, height: rowH * 0.7,
    });
    bar.append(el("svg:title", {}, `${row.group}: ${row.entered} calls`));
    svg.append(bar);
    svg.append(el("svg:text", { x: label + w + 4, y: y + rowH * 0.65 }, String(row.entered)));
  });
}

// ---- tables ----

function figureRow(row, name, perQueue) {
  const tr = el("tr", { "data-group": name });
  tr.append(el("td", {}, name));
  for (const [field, , kind] of COLUMNS) tr.append(el("td", { "data-field": field }, shown[kind](row[field])));
  if (perQueue) {
    const t = row.target;
    tr.append(el("td", { "data-field": "target" }, `${t.formula}, ${t.answer_within_s} s, goal ${share(t.goal)}`));
  }
  return tr;
}

function figuresTable(report) {
  const perQueue = report.by === "queue";
  const head = el("tr");
  head.append(el("th", {}, report.by));
  for (const [, label] of COLUMNS) head.append(el("th", {}, label));
  if (perQueue) head.append(el("th", {}, "target"));
  $("figures").tHead.replaceChildren(head);
  $("figures").tBodies[0].replaceChildren(...report.rows.map((r) => figureRow(r, r.group ?? "—", perQueue)));
  $("figures").tFoot.replaceChildren(figureRow(report.total, "total", perQueue));
  const f = report.formula;
  $("formula").textContent = `Formula: ${f.label}` +
    (f.applies_to === "every row" ? "." : ` (${f.applies_to}; each queue's own target is in its row).`);
}

function agentsTable(report) {
  $("agents").tBodies[0].replaceChildren(...report.agents.map((a) => {
    const tr = el("tr", { "data-agent": a.agent });
    const notReady = Object.entries(a.not_ready_by_reason).map(([r, s]) => `${r} ${seconds(s)}`).join(", ");
    for (const text of [a.agent, String(a.handled), seconds(a.average_talk_s), seconds(a.average_wrap_up_s),
      share(a.occupancy), String(a.rings_unanswered), notReady || "—"]) tr.append(el("td", {}, text));
    return tr;
  }));
}

// ---- the page ----

function showError(error) {
  $("error").hidden = error === null;
  if (error === null) return;
  const text = error.status === 403
    ? `You may not see reports. ${error.message}`
    : error.status === 401 ? `Sign in first. ${error.message}` : String(error.message ?? error);
  $("error").textContent = text;
}

async function load() {
  const form = new FormData($("range"));
  const range = { from: form.get("from"), to: form.get("to") };
  const by = form.get("by");
  $("csv").href = `${API}/calls.csv?${query({ ...range, by })}`;
  history.replaceState(null, "", `/reports?${query({ ...range, by })}`);
  try {
    const [table, hours, days, sources, agents] = await Promise.all([
      getJson(`${API}/calls?${query({ ...range, by })}`),
      getJson(`${API}/calls?${query({ ...range, by: "hour" })}`),
      getJson(`${API}/calls?${query({ ...range, by: "day" })}`),
      getJson(`${API}/calls?${query({ ...range, by: "source" })}`),
      getJson(`${API}/agents?${query(range)}`),
    ]);
    showError(null);
    figuresTable(table);
    hourChart($("chart-hours"), hours.rows);
    dayChart($("chart-days"), days);
    sourceChart($("chart-sources"), sources.rows);
    agentsTable(agents);
    document.body.dataset.loaded = `${range.from}..${range.to} by ${by}`;
  } catch (error) {
    showError(error);
    document.body.dataset.loaded = "refused";
  }
}

function defaults() {
  const params = new URLSearchParams(location.search);
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const month = `${now.getFullYear()}-${pad(now.getMonth() + 1)}`;
  const lastDay = new Date(now.getFullYear(), now.getMonth() + 1, 0).getDate();
  const form = $("range");
  form.elements.from.value = params.get("from") ?? `${month}-01`;
  form.elements.to.value = params.get("to") ?? `${month}-${pad(lastDay)}`;
  form.elements.by.value = params.get("by") ?? "day";
}

function signedIn(me) {
  $("who").textContent = `${me.name || me.username} (${me.role})`;
  load();
}

$("range").addEventListener("submit", (e) => { e.preventDefault(); load(); });
bindSignIn($("login"), {
  onSignedIn: (me) => { $("login").hidden = true; signedIn(me); },
  onRefused: (status, body) => showError(new Refused(status, body)),
});

defaults();
const me = await currentUser();
if (me !== null) signedIn(me);
else { $("login").hidden = false; showError(new Refused(401, { error: "not-logged-in", message: "" })); }
