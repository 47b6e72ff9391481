// The agent console: wiring. The server's messages (docs/console-protocol.md, protocol v2) update one
// state object, and every module renders from it. Plain ES modules, no build step.
import {
  answeringHandlers, bindAnswering, escalate as escalateKey, focusMessage, renderAnswering,
} from "./answering.js";
import { bindCallControls, focusTransfer, renderCallControls, renderTargets } from "./callcontrol.js";
import { $, el } from "./dom.js";
import { bindPop, callStatus, focusMatches, renderPop } from "./pop.js";
import { checkServerMessage, loadBundle } from "./schema.js";
import { bindShortcuts } from "./shortcuts.js";
import { bindSignIn, currentUser, signOut } from "./signin.js";
import { Socket } from "./socket.js";
import { bindStatus, renderReasons, renderState, tick } from "./status.js";
import {
  bindWrapUp, focusNotes, renderDispositions, renderWrapUp, save as saveWrapUp, started as wrapUpStarted,
} from "./wrapup.js";

const st = {
  me: null, // who the session cookie says we are (GET /session, POST /login)
  v2: false, // the server speaks protocol v2 (hello.version)
  mode: "agent",
  state: "logged-out", reason: null, since: null, until: null,
  shown: null, // the pop on screen: {offer, live, connectedAt, held, escalation, ended, message}
  wrapUp: null, // {call (the logged id), until, offer}
};

function log(text) {
  $("log").prepend(el("li", {}, `${new Date().toLocaleTimeString()} ${text}`));
}

function alert(text) { $("error").textContent = text; }

function render() {
  renderState(st);
  renderPop(st, actions.pick);
  renderCallControls(st);
  renderWrapUp(st);
  renderAnswering(st);
}

// --- the server's messages ---------------------------------------------------------------------
const sameCall = (shown, call) => shown !== null && shown.offer.call === String(call).split("~")[0];

function showOffer(offer, fields = {}) {
  const keep = sameCall(st.shown, offer.call) ? st.shown : {};
  st.shown = { offer, live: true, connectedAt: null, held: false, escalation: null, ended: null,
    message: keep.message ?? null, ...fields };
  socket.send({ type: "ack", offer: offer.offer });
}

function applySnapshot(m) {
  Object.assign(st, { v2: true, mode: m.mode, state: m.state, reason: m.reason, since: m.since, until: m.until });
  $("who").textContent = `${m.name} (agent ${m.agent}${m.role === "agent" ? "" : `, ${m.role}`})`;
  renderReasons(m.pause_reasons);
  renderDispositions(m.disposition_codes);
  renderTargets(m.queues, m.agents, m.agent);
  if (m.call) {
    showOffer(m.call.offer, { connectedAt: m.call.connected_at, held: m.call.held, escalation: m.call.escalation });
  } else if (m.wrap_up?.offer && !sameCall(st.shown, m.wrap_up.call)) {
    st.shown = { offer: m.wrap_up.offer, live: false, connectedAt: null, held: false, escalation: null,
      ended: { outcome: null }, message: null };
  } else if (st.shown?.live) {
    Object.assign(st.shown, { live: false, held: false, ended: { outcome: null } }); // it ended while we were away
  }
  st.wrapUp = m.wrap_up ? { ...m.wrap_up } : null;
}

function onCall(m, apply) { if (sameCall(st.shown, m.call)) apply(st.shown); }

function withCustomer(offer, customer) { return { ...offer, customer, customer_pending: false }; }

const handlers = {
  // The session says who we are; "login" only joins the ACD as our agent.
  hello: (m) => { st.v2 = m.version >= 2; if (st.me?.agent) socket.send({ type: "login" }); },
  snapshot: applySnapshot,
  state: (m) => Object.assign(st, { state: m.state, reason: m.reason, since: m.since, until: m.until }),
  offer: (m) => {
    // The server forgets a wrap-up nobody started once the next call rings; so do we (tabs agree).
    if (st.wrapUp !== null && !wrapUpStarted()) st.wrapUp = null;
    showOffer(m);
    log(`ringing: ${m.caller.display ?? m.caller.number ?? "withheld"} on ${m.line.name} (${m.source})`);
  },
  // The pop went out before the store answered, or the call was attached to a customer.
  "offer-customer": (m) => {
    onCall(m, (s) => { s.offer = withCustomer(s.offer, m.customer); });
    if (st.wrapUp?.offer && st.wrapUp.offer.call === m.call) st.wrapUp.offer = withCustomer(st.wrapUp.offer, m.customer);
  },
  "offer-withdrawn": (m) => {
    if (st.shown?.offer.offer === m.offer) st.shown = null;
    log(`offer withdrawn: ${m.reason}`);
  },
  "call-connected": (m) => { onCall(m, (s) => { s.connectedAt = m.at; }); log("connected"); },
  training: (m) => {
    const badge = $("training");
    badge.hidden = m.per_minute === null;
    badge.textContent = m.per_minute === null ? "" : `training: practice callers only (${m.per_minute}/min)`;
    log(m.per_minute === null ? "training ended: real callers again" : `in training (${m.by}): practice callers only`);
  },
  "call-held": (m) => { onCall(m, (s) => { s.held = m.held; }); log(m.held ? "on hold" : "resumed"); },
  escalation: (m) => { onCall(m, (s) => { s.escalation = m; }); log(`escalation: ${m.status} ${m.person ?? ""}`); },
  "call-ended": (m) => {
    onCall(m, (s) => Object.assign(s, { live: false, held: false, ended: { outcome: m.outcome, by: m.hung_up_by } }));
    const offer = sameCall(st.shown, m.call) ? st.shown.offer : null;
    if (st.v2) st.wrapUp = { call: m.logged_as ?? m.call, until: null, offer };
    log(`call ended (${m.outcome}, ${m.hung_up_by} hung up)`);
  },
  "wrap-up-saved": (m) => {
    if (st.wrapUp?.call === m.call) st.wrapUp = null;
    onCall(m, (s) => { if (s.offer.customer) s.offer = { ...s.offer, customer: { ...s.offer.customer, recent_calls: m.recent_calls } }; });
    log(`wrap-up saved: ${m.disposition}${m.case_id ? `, case #${m.case_id}` : ""}${m.callback ? `, callback case #${m.callback.case_id}` : ""}`);
  },
  "message-taken": (m) => {
    onCall(m, (s) => { s.message = { case_id: m.case_id, urgent: m.urgent, notify: m.notify, notified: null }; });
    log(`message taken: case #${m.case_id}`);
  },
  "message-notified": (m) => {
    onCall(m, (s) => { if (s.message) s.message.notified = m; });
    log(`message ${m.ok ? "delivered" : `not delivered: ${m.error}`}`);
  },
  error: (m) => { alert(`${m.error}: ${m.message}`); log(`error ${m.error}`); },
};
Object.assign(handlers, answeringHandlers(onCall, log, handlers)); // message forms, deliveries

// The schema bundle, fetched once; null: this server serves none (protocol v1), so nothing is checked.
const bundle = loadBundle().catch((err) => { log(`schemas unavailable (${err.message}); not validating`); return null; });
let inbox = Promise.resolve(); // messages are applied one at a time, in order, once the bundle is here

async function receive(raw) {
  let m;
  try { m = JSON.parse(raw); } catch { log("a message that is not JSON was dropped"); return; }
  const schemas = await bundle;
  const errors = schemas ? checkServerMessage(schemas, m) : [];
  if (errors.length) {
    log(`invalid ${m?.type} message not applied: ${errors.join("; ")}`);
    console.warn("invalid server message", m, errors);
    return;
  }
  const handler = handlers[m.type];
  if (handler === undefined) { log(`unknown message ${m.type}`); return; }
  handler(m);
  render();
}

const socket = new Socket({
  onOpen: () => { $("connection").textContent = "connected"; },
  onMessage: (raw) => {
    // One message that breaks the page must not stop the ones after it.
    inbox = inbox.then(() => receive(raw)).catch((err) => { log(`a message failed: ${err}`); console.error(err); });
  },
  onClose: () => { $("connection").textContent = st.me === null ? "signed out" : "reconnecting…"; },
  reconnect: () => { start(); },
});

// --- sign-in -----------------------------------------------------------------------------------
function signedIn(user) {
  st.me = user;
  $("who").textContent = user.agent ? `${user.name} (agent ${user.agent})` : `${user.name} (${user.role})`;
  $("login").hidden = true;
  $("desk").hidden = false;
  socket.connect();
}

function signedOut() {
  socket.stop();
  Object.assign(st, { me: null, state: "logged-out", reason: null, since: null, until: null, shown: null, wrapUp: null });
  $("who").textContent = "";
  $("login").hidden = false;
  $("desk").hidden = true;
  $("connection").textContent = "signed out";
  render();
}

/** On load and after a dropped connection (the session may have ended meanwhile): connect if still
 * signed in; no network: try again later. */
async function start() {
  let user;
  try {
    user = await currentUser();
  } catch {
    socket.retry();
    return;
  }
  if (user === null) signedOut(); else signedIn(user);
}

bindSignIn($("login"), {
  onSignedIn: (user) => { alert(""); signedIn(user); },
  onRefused: (_, body) => alert(`${body.error}: ${body.message}`),
});

// --- the agent's actions -----------------------------------------------------------------------
function send(message) {
  alert("");
  if (!socket.send(message)) alert("not connected: try again in a moment");
}

const call = () => st.shown?.offer.call;
const actions = {
  send, log, alert,
  ready: () => send({ type: "ready" }),
  pause: (reason) => send({ type: "pause", reason }),
  extend: (seconds) => send({ type: "extend-wrap-up", seconds }),
  logout: async () => {
    send({ type: "logout" });
    await signOut();
    signedOut();
  },
  hangUp: () => send({ type: "hang-up" }),
  hold: () => send({ type: "hold" }),
  resume: () => send({ type: "resume" }),
  transfer: (to, target) => send({ type: "transfer", to, target }),
  escalate: () => send({ type: "escalate" }),
  attach: (callId, customerId) => send({ type: "attach-customer", call: callId ?? call(), customer_id: customerId }),
  // One of the customers sharing the caller's number, as the pop offered them (the server checks it).
  pick: (customerId) => send({ type: "pick-customer", call: call(), customer_id: customerId }),
  render: () => render(),
};

bindStatus(actions);
bindPop(st, actions);
bindCallControls(st, actions);
bindWrapUp(st, actions);
bindAnswering(st, actions);
const live = () => st.shown?.live;
bindShortcuts({
  KeyR: actions.ready,
  KeyN: () => actions.pause($("reason").value),
  KeyH: () => { if (live()) actions.hangUp(); },
  KeyO: () => { if (live()) (st.shown.held ? actions.resume() : actions.hold()); },
  KeyT: focusTransfer,
  KeyW: focusNotes,
  KeyS: saveWrapUp,
  KeyE: () => escalateKey(actions),
  KeyM: focusMessage,
  KeyC: () => focusMatches(st),
});
setInterval(() => {
  tick(st);
  if (st.shown) $("call-status").textContent = callStatus(st);
}, 1000);
$("desk").hidden = true;
start();
