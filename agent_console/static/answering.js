// Answering service: the business the call is for (greeting, script, instructions, on-call list),
// escalation to the on-call chain, and taking a message for the business.
import { $, el, fill } from "./dom.js";

export function renderAnswering(st) {
  const shown = st.shown;
  const biz = shown?.offer.business ?? null;
  // An answering desk may take a message or escalate on any call; an agent desk on answering lines.
  const actions = shown !== null && st.v2 && (biz !== null || st.mode === "answering");
  $("business").hidden = biz === null;
  $("answering-actions").hidden = !actions;
  document.body.classList.toggle("answering-mode", st.mode === "answering");
  if (!actions) return;
  const form = $("take-message");
  if (form.dataset.call !== shown.offer.call) {
    form.dataset.call = shown.offer.call; // a new call: a clean message form
    form.reset();
    form.elements.callback_number.value = shown.offer.caller.number ?? "";
    form.elements.caller_name.value = shown.offer.caller.name ?? "";
  }
  if (biz !== null) renderBusiness(biz);
  const ringing = shown.escalation?.status === "ringing";
  // Without a business we do not know the chain: the server says no-on-call if there is none.
  $("escalate").disabled = !shown.live || ringing || biz?.on_call.length === 0;
  renderEscalation(shown.escalation);
  renderMessage(shown.message);
}

function renderBusiness(biz) {
  $("biz-name").textContent = biz.name;
  $("biz-greeting").textContent = biz.greeting ?? "";
  $("biz-script").textContent = biz.script ?? "";
  $("biz-instructions").textContent = biz.instructions ?? "";
  fill($("biz-on-call"), biz.on_call.length ? biz.on_call.map((n) => el("li", {}, n)) : [el("li", {}, "nobody")]);
}

function renderEscalation(esc) {
  const box = $("escalation");
  if (!esc) { fill(box); return; }
  const now = { ringing: `ringing ${esc.person ?? "…"}`, answered: `${esc.person} answered`,
    failed: "nobody answered" }[esc.status] ?? esc.status;
  fill(box, el("strong", { class: `esc-${esc.status}` }, `Escalation: ${now}`),
    el("ul", {}, esc.attempts.map((a) => el("li", {}, `${a.person}: ${a.result}`))));
}

function renderMessage(msg) {
  const p = $("message-status");
  if (!msg) { p.textContent = ""; return; }
  const what = `Message taken: case #${msg.case_id}${msg.urgent ? " (urgent)" : ""}`;
  let notify = "";
  const n = msg.notified;
  if (n && n.attempts === 0) {  // the line's delivery rules: queued, sent by the delivery worker
    notify = (n.ok ? " — deliveries queued" : " — no delivery queued") + (n.error ? ` (${n.error})` : "");
  } else if (n) {
    notify = n.ok ? " — business notified"
      : ` — notifying the business failed after ${n.attempts} attempts: ${n.error}`;
  } else if (msg.notify === "pending") notify = " — notifying the business…";
  p.textContent = what + notify;
}

export function bindAnswering(st, actions) {
  $("escalate").addEventListener("click", actions.escalate);
  $("take-message").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!st.shown) return;
    const f = e.target.elements;
    const text = (name) => f[name].value.trim() || null;
    if (!text("message")) { actions.alert("write the message first"); return; }
    actions.send({ type: "take-message", call: st.shown.offer.call, urgent: f.urgent.checked,
      message: f.message.value.trim(), caller_name: text("caller_name"), callback_number: text("callback_number") });
  });
}

export function escalate(actions) {
  if (!$("answering-actions").hidden && !$("escalate").disabled) actions.escalate();
}

export function focusMessage() {
  if (!$("answering-actions").hidden) $("take-message").elements.message.focus();
}
