// The supervisors' wallboard: signs in like the console, sends "watch-wallboard", redraws on each
// "wallboard" push (at most one a second) and ticks waits and times-in-state locally in between.
// Supervisors order from it: an agent's state, listen / whisper / barge on an agent's call (their own
// phone rings), and a waiting call to the front of its queue or to another queue.
import { bindSignIn, currentUser, signOut } from "./signin.js";

const $ = (id) => document.getElementById(id);
let ws = null;
let me = null;
let board = null; // the last "wallboard" message
let skew = 0; // server clock minus ours, from the push's "at"
let backoff = 500;
let supervising = null; // the last "supervision" message with a mode, or null

const FORMULAS = {
  answered: "answered within T / answered",
  offered: "answered within T / (answered + abandoned)",
  "late-abandons": "answered within T / (answered + abandoned after T)",
  "within-both": "(answered + abandoned within T) / (answered + abandoned)",
};
const STATES = ["ready", "ringing", "on-call", "wrap-up", "not-ready", "logged-out"];

const now = () => Date.now() / 1000 + skew;
const pct = (x) => (x === null ? "—" : `${Math.round(x * 100)}%`);
const secs = (x) => (x === null ? "—" : duration(x));
function duration(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}
function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function targetOf(queue) {
  return board.targets[queue] ?? board.targets.default;
}
function slLabel(target) {
  return `SL: ${FORMULAS[target.formula] ?? target.formula}, T = ${target.answer_within_s} s, goal ${pct(target.goal)}`;
}

function order(label, cls, message, disabled = false) {
  const onclick = () => { $("error").textContent = ""; send(message()); };
  return el("button", { class: cls, type: "button", disabled, onclick }, label);
}

function waitingCall(q, c) {
  const others = board.queues.filter((o) => o.id !== q.id);
  const move = el("select", { class: "move", title: "Move to another queue" },
    el("option", { value: "" }, "Move to…"), ...others.map((o) => el("option", { value: o.id }, o.name)));
  move.addEventListener("change", () => {
    if (move.value) { $("error").textContent = ""; send({ type: "move-call", call: c.call, queue: move.value }); }
    move.blur(); // the tiles are redrawn again (they wait while a list is open)
  });
  return el("li", { "data-call": c.call },
    el("span", { class: "caller" }, c.caller ?? c.call),
    el("span", { class: "wait", "data-arrived": String(c.arrived_at) }, duration(now() - c.arrived_at)),
    order("Front", "front", () => ({ type: "call-to-front", call: c.call }), c === q.calls[0]),
    move);
}

function queueTile(q) {
  const target = targetOf(q.id);
  const figure = (label, key, value) => el("div", { "data-k": key }, el("b", {}, value), label);
  const states = STATES.filter((s) => q.agents[s]).map((s) => el("span", { "data-state": s }, `${s} ${q.agents[s]}  `));
  return el("article", { class: `tile${q.alerts.length ? " alert" : ""}`, id: `queue-${q.id}`, "data-alerts": q.alerts.join(" ") },
    el("h3", {}, q.name, el("span", { class: "alerts" }, q.alerts.join(", "))),
    el("div", { class: "big" },
      figure("waiting", "waiting", String(q.waiting)),
      figure("longest wait", "longest", q.oldest_arrived_at === null ? "—" : duration(now() - q.oldest_arrived_at)),
      figure("service level", "service_level", pct(q.service_level))),
    el("dl", {},
      el("dt", {}, "offered"), el("dd", { "data-k": "offered" }, String(q.offered)),
      el("dt", {}, "answered"), el("dd", { "data-k": "answered" }, String(q.answered)),
      el("dt", {}, "abandoned"), el("dd", { "data-k": "abandoned" }, String(q.abandoned)),
      el("dt", {}, "abandon rate"), el("dd", { "data-k": "abandonment_rate" }, pct(q.abandonment_rate)),
      el("dt", {}, "ASA"), el("dd", { "data-k": "asa" }, secs(q.asa_s)),
      el("dt", {}, "AHT"), el("dd", { "data-k": "aht" }, secs(q.aht_s))),
    el("div", { class: "states" }, ...states),
    el("ol", { class: "calls" }, ...q.calls.map((c) => waitingCall(q, c))),
    el("div", { class: "formula", title: slLabel(target) }, slLabel(target)));
}

function figuresTable(table, tiles, label) {
  const head = el("tr", {}, ...[label, "offered", "answered", "abandoned", "SL", "ASA", "AHT"].map((h) => el("th", {}, h)));
  const rows = tiles.map((t) => el("tr", { class: t.alerts.length ? "alert" : "", "data-id": t.id },
    el("td", {}, t.id), el("td", {}, String(t.offered)), el("td", {}, String(t.answered)),
    el("td", {}, String(t.abandoned)), el("td", {}, pct(t.service_level)), el("td", {}, secs(t.asa_s)),
    el("td", {}, secs(t.aht_s))));
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
}

// An agent who has not logged in since the service started has no time in state (since is 0).
function inState(since) {
  return since > 0 ? duration(now() - since) : "—";
}

function agentRow(a) {
  const state = a.reason ? `${a.state} (${a.reason})` : a.state;
  const onCall = a.state === "on-call";
  const listening = supervising !== null && supervising.agent === a.id;
  const supervise = (label, mode) => order(label, mode, () => ({ type: "supervise", agent: a.id, mode }), !onCall || supervising !== null);
  return el("tr", { id: `agent-${a.id}`, "data-agent": a.id },
    el("td", {}, a.name),
    el("td", { class: "state", "data-state": a.state }, state),
    el("td", { class: "in-state", "data-since": String(a.since) }, inState(a.since)),
    el("td", { class: "handled" }, String(a.handled)),
    el("td", {}, secs(a.average_talk_s)),
    el("td", {}, secs(a.average_wrap_up_s)),
    el("td", {}, pct(a.occupancy)),
    el("td", {}, String(a.rings_unanswered)),
    el("td", {},
      order("Not ready", "not-ready", () => ({ type: "set-agent-state", agent: a.id, state: "not-ready", reason: $("reason").value })),
      order("Log out", "log-out", () => ({ type: "set-agent-state", agent: a.id, state: "logged-out", reason: null }))),
    el("td", { class: "supervise" },
      supervise("Listen", "listen"), supervise("Whisper", "whisper"), supervise("Barge", "barge"),
      order("Stop", "stop", () => ({ type: "stop-supervising" }), !listening)));
}

function draw(m) {
  board = m;
  skew = m.at - Date.now() / 1000;
  $("day").textContent = m.day;
  const reasons = $("reason");
  if (reasons.options.length !== m.pause_reasons.length) {
    reasons.replaceChildren(...m.pause_reasons.map((r) => el("option", {}, r)));
  }
  // A queue's "Move to" list open in the supervisor's hand is not redrawn away under them.
  const choosing = document.activeElement?.tagName === "SELECT" && $("queues").contains(document.activeElement);
  if (!choosing) $("queues").replaceChildren(...m.queues.map(queueTile));
  figuresTable($("lines"), m.lines, "line");
  figuresTable($("sources"), m.sources, "dialed number / source");
  $("agents").tBodies[0].replaceChildren(...m.agents.map(agentRow));
}

// Between pushes: waits and times in state count up here, from the server's own instants.
function tick() {
  if (board === null) return;
  for (const q of board.queues) {
    const cell = document.querySelector(`#queue-${CSS.escape(q.id)} [data-k=longest] b`);
    if (cell && q.oldest_arrived_at !== null) cell.textContent = duration(now() - q.oldest_arrived_at);
  }
  for (const cell of document.querySelectorAll(".calls .wait")) {
    cell.textContent = duration(now() - Number(cell.dataset.arrived));
  }
  for (const cell of document.querySelectorAll("td.in-state")) {
    cell.textContent = inState(Number(cell.dataset.since));
  }
}
setInterval(tick, 1000);

function showSupervision(m) {
  supervising = m.mode === null ? null : m;
  $("supervision").textContent = supervising === null
    ? "not supervising"
    : `${m.mode} on ${m.agent}'s call ${m.call} (your phone ${m.supervisor})`;
  $("supervision").dataset.mode = m.mode ?? "";
  if (board !== null) $("agents").tBodies[0].replaceChildren(...board.agents.map(agentRow));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.onopen = () => { $("connection").textContent = "connected"; backoff = 500; };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "hello") send({ type: "watch-wallboard" });
    else if (m.type === "wallboard") {
      if ($("board").hidden) $("error").textContent = "";
      draw(m);
      $("board").hidden = false;
    } else if (m.type === "supervision") showSupervision(m);
    else if (m.type === "error") $("error").textContent = `${m.error}: ${m.message}`;
  };
  ws.onclose = () => {
    if (me === null) { $("connection").textContent = "signed out"; return; }
    $("connection").textContent = "reconnecting…";
    setTimeout(resume, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

function signedIn(user) {
  me = user;
  $("who").textContent = `${user.name} (${user.role})`;
  $("login").hidden = true;
  $("signout").hidden = false;
  connect();
}

function signedOut() {
  me = null;
  board = null;
  $("who").textContent = "";
  $("login").hidden = false;
  $("signout").hidden = true;
  $("board").hidden = true;
  $("connection").textContent = "signed out";
}

async function resume() {
  const user = await currentUser();
  if (user === null) signedOut(); else signedIn(user);
}

bindSignIn($("login"), {
  onSignedIn: (user) => { $("error").textContent = ""; signedIn(user); },
  onRefused: (_, body) => { $("error").textContent = `${body.error}: ${body.message}`; },
});
$("signout").addEventListener("click", async () => {
  await signOut();
  signedOut();
  ws?.close();
});
resume();
