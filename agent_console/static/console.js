// The minimal agent console: sign in, go ready, see the screen pop when the phone rings.
// Plain ES module, no build step. Protocol: docs/console-protocol.md; sign-in: docs/access.md.
const $ = (id) => document.getElementById(id);
let ws;
let me = null; // who the session cookie says we are (GET /session, POST /login)
let backoff = 500;
let current = null; // the pop on screen

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function log(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(li);
}

function showState(m) {
  const badge = $("state");
  badge.dataset.state = m.state;
  badge.textContent = m.reason ? `${m.state} (${m.reason})` : m.state;
  $("login").hidden = me !== null;
  $("controls").hidden = m.state === "logged-out";
}

function showPop(m) {
  const c = m.customer;
  const title = m.customer_pending ? "Looking up the caller…" : "Unknown caller";
  $("pop-title").textContent = c ? `${c.name}${c.tier === "vip" ? " ★ VIP" : ""}` : title;
  $("pop-caller").textContent = [m.caller.name, m.caller.number ?? "withheld"].filter(Boolean).join(" · ");
  $("pop-customer").textContent = c ? [c.name, c.company].filter(Boolean).join(", ") : "not in the customer store";
  const a = c?.account;
  $("pop-account").textContent = a
    ? `${a.status}${a.on_credit_hold ? " — CREDIT HOLD" : ""}, balance ${a.balance} ${a.currency}`
    : "—";
  $("pop-line").textContent = m.line.name;
  $("pop-did").textContent = m.did;
  $("pop-source").textContent = m.source;
  $("pop-waited").textContent = `${Math.round(m.waited_s)} s`;
  $("pop").className = "";
  $("pop").hidden = false;
  send({ type: "ack", offer: m.offer });
}

const handlers = {
  // The session says who we are; "login" only joins the ACD as our agent.
  hello: () => { if (me?.agent) send({ type: "login" }); },
  state: showState,
  offer: (m) => {
    current = m;
    showPop(m);
    log(`ringing: ${m.caller.number ?? "withheld"} on ${m.line.name} (${m.source})`);
  },
  // The pop went out before the customer store answered; here is the caller's record.
  "offer-customer": (m) => { if (current?.offer === m.offer) showPop({ ...current, customer: m.customer, customer_pending: false }); },
  "offer-withdrawn": (m) => { $("pop").hidden = true; log(`offer withdrawn: ${m.reason}`); },
  "call-connected": () => { $("pop").className = "connected"; log("connected"); },
  "call-ended": (m) => { $("pop").hidden = true; log(`call ended (${m.outcome}, ${m.hung_up_by} hung up)`); },
  error: (m) => { $("error").textContent = `${m.error}: ${m.message}`; },
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.onopen = () => { $("connection").textContent = "connected"; backoff = 500; };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type !== "error") $("error").textContent = "";
    (handlers[m.type] ?? (() => log(`unknown message ${m.type}`)))(m);
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
  $("who").textContent = user.agent ? `${user.name} (agent ${user.agent})` : `${user.name} (${user.role})`;
  $("login").hidden = true;
  connect();
}

function signedOut() {
  me = null;
  $("who").textContent = "";
  $("login").hidden = false;
  $("controls").hidden = true;
  $("connection").textContent = "signed out";
}

// On load and after a dropped connection: still signed in? (The session may have expired.)
async function resume() {
  const r = await fetch("/session", { credentials: "same-origin" });
  if (r.ok) signedIn(await r.json()); else signedOut();
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await fetch("/login", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  const body = await r.json();
  e.target.reset();
  if (r.ok) { $("error").textContent = ""; signedIn(body); } else $("error").textContent = `${body.error}: ${body.message}`;
});
$("ready").addEventListener("click", () => send({ type: "ready" }));
$("pause").addEventListener("click", () => send({ type: "pause", reason: $("reason").value }));
$("logout").addEventListener("click", async () => {
  send({ type: "logout" });
  await fetch("/logout", { method: "POST", credentials: "same-origin" });
  signedOut();
  ws?.close();
});
resume();
