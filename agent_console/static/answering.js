// Answering service: the business the call is for (greeting, script, instructions, on-call list),
// escalation to the on-call chain, and taking a message for the business: on a line with message forms,
// the form the server chose for the call type the agent picks (its fields, required marks and the
// server's errors inline); then each delivery of the message, live as the delivery worker changes it.
import { $, el, fill } from "./dom.js";

let ask = () => {}; // sends a message to the server (bindAnswering)
const INPUT_TYPE = { name: "text", phone: "tel", date: "date", "date-of-birth": "date" };

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
  if (biz !== null && shown.messageForm === undefined) {
    shown.messageForm = null; // asked: which form this call takes is the server's choice (time, call type)
    ask({ type: "message-form", call: shown.offer.call, call_type: null });
  }
  renderForm(form, shown);
  if (biz !== null) renderBusiness(biz);
  const underWay = ["ringing", "prompted", "consulting"].includes(shown.escalation?.status);
  // A warm patch: the person who accepted talks with the agent; the agent connects them or takes the caller back.
  $("warm-patch").hidden = !shown.live || shown.escalation?.status !== "consulting";
  // Without a business we do not know the chain: the server says no-on-call if there is none.
  $("escalate").disabled = !shown.live || underWay || biz?.on_call.length === 0;
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
  const now = { ringing: `ringing ${esc.person ?? "…"}`, prompted: `${esc.person} picked up, deciding`,
    consulting: `${esc.person} accepted: announce the caller`, answered: `${esc.person} answered`,
    failed: "nobody answered", cancelled: `back with the caller (${esc.person} not connected)` }[esc.status]
    ?? esc.status;
  fill(box, el("strong", { class: `esc-${esc.status}` }, `Escalation: ${now}`),
    el("ul", {}, esc.attempts.map((a) => el("li", {}, `${a.person}: ${a.result}`))));
}

/** The call type picker and, when the server chose a form, its fields instead of the plain message. */
function renderForm(form, shown) {
  const chosen = shown.messageForm ?? null;
  const box = $("message-form");
  const key = chosen === null ? "" : `${shown.offer.call}|${chosen.call_type ?? ""}|${chosen.form?.name ?? ""}`;
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    fill(box, chosen === null ? [] : [typePicker(chosen), chosen.form ? fields(chosen.form) : null]);
  }
  for (const plain of form.querySelectorAll(".plain-message")) plain.hidden = Boolean(chosen?.form);
  form.elements.message.required = !chosen?.form; // a hidden required box would block the form's submit
  const errors = shown.refused ?? [];
  for (const node of box.querySelectorAll(".field-error")) node.textContent = "";
  for (const input of box.querySelectorAll("[name^='field-']")) input.removeAttribute("aria-invalid");
  const unplaced = [];
  for (const { field, error } of errors) {
    const at = $(`error-${field}`);
    if (at && box.contains(at)) {
      at.textContent = error;
      $(`field-${field}`)?.setAttribute("aria-invalid", "true");
    } else unplaced.push(`${field}: ${error}`);
  }
  $("message-errors").textContent = unplaced.join("; ");
}

function typePicker(chosen) {
  if (!chosen.call_types.length) return null;
  const options = [el("option", { value: "" }, "General"),
    ...chosen.call_types.map((t) => el("option", { value: t, selected: t === chosen.call_type }, t))];
  return el("label", {}, "Call type ", el("select", { name: "call_type", id: "call-type" }, options));
}

function fields(form) {
  return el("fieldset", { class: "form-fields" }, el("legend", {}, form.title), form.fields.map(fieldOf));
}

function fieldOf(f) {
  const id = `field-${f.name}`;
  const props = { id, name: id, "aria-describedby": `error-${f.name}`, "aria-required": f.required ? "true" : null };
  let input;
  if (f.choices.length) {
    input = el("select", props, el("option", { value: "" }, "—"), f.choices.map((c) => el("option", { value: c }, c)));
  } else if (f.type === "text") {
    input = el("textarea", { ...props, rows: 3, maxlength: f.max_length });
  } else {
    input = el("input", { ...props, type: INPUT_TYPE[f.type] ?? "text", maxlength: f.max_length });
  }
  return el("div", { class: "form-field" },
    el("label", { for: id }, f.label, f.required ? el("span", { class: "required", "aria-hidden": "true" }, " *") : null),
    input, el("span", { class: "field-error", id: `error-${f.name}`, "aria-live": "polite" }));
}

function renderMessage(msg) {
  const p = $("message-status");
  renderDeliveries(msg?.deliveries ?? {});
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

const STATUS = { queued: "queued", sent: "sent", delivered: "delivered", failed: "failed", read: "read", filed: "filed" };

function renderDeliveries(byId) {
  fill($("deliveries"), Object.values(byId).sort((a, b) => a.delivery - b.delivery).map((d) => {
    let why = "";
    if (d.status === "failed") why = ` — ${d.detail ?? "no answer"}`;
    else if (d.status === "queued" && d.attempts > 0) why = ` — retrying after attempt ${d.attempts}: ${d.detail ?? ""}`;
    return el("li", { class: `delivery delivery-${d.status}`, "data-delivery": String(d.delivery) },
      `${d.channel} to ${d.recipient}: `, el("strong", { class: "delivery-status" }, STATUS[d.status] ?? d.status), why);
  }));
}

/** The handlers of the server's messages about forms and deliveries (console.js adds them to its own). */
export function answeringHandlers(onCall, log, handlers) {
  const taken = handlers["message-taken"];
  return {
    "message-taken": (m) => { taken(m); onCall(m, (s) => { s.refused = null; }); },
    "message-form": (m) => { onCall(m, (s) => { s.messageForm = m; s.refused = null; }); },
    "message-refused": (m) => {
      onCall(m, (s) => { s.refused = m.errors; });
      log(`message refused: ${m.errors.map((e) => `${e.field}: ${e.error}`).join("; ")}`);
    },
    delivery: (m) => {
      onCall(m, (s) => {
        // A tab that was not there when the message was taken (a reload, a tab on another instance) learns
        // of it from its deliveries: the server sends those of the call's newest message when a tab joins.
        if (!s.message || s.message.case_id < m.case_id) s.message = { case_id: m.case_id, urgent: false, notified: null };
        if (s.message.case_id === m.case_id) s.message.deliveries = { ...s.message.deliveries, [m.delivery]: m };
      });
      log(`delivery ${m.delivery} (${m.channel}): ${m.status}`);
    },
  };
}

export function bindAnswering(st, actions) {
  ask = actions.send;
  const form = $("take-message");
  for (const name of ["urgent", "message", "caller_name", "callback_number"]) {
    form.elements[name].closest("label").classList.add("plain-message");
  }
  form.querySelector("h3").after(el("div", { id: "message-form" }));
  $("message-status").before(el("p", { id: "message-errors", class: "field-error", "aria-live": "polite" }));
  $("message-status").after(el("ul", { id: "deliveries", "aria-label": "deliveries" }));
  $("escalate").addEventListener("click", actions.escalate);
  $("connect-caller").addEventListener("click", () => ask({ type: "connect-caller" }));
  $("back-to-caller").addEventListener("click", () => ask({ type: "back-to-caller" }));
  $("take-message").addEventListener("change", (e) => {
    if (e.target.name !== "call_type" || !st.shown) return;
    ask({ type: "message-form", call: st.shown.offer.call, call_type: e.target.value || null });
  });
  $("take-message").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!st.shown) return;
    const f = e.target.elements;
    const text = (name) => f[name].value.trim() || null;
    const chosen = st.shown.messageForm ?? null;
    const base = { type: "take-message", call: st.shown.offer.call, call_type: chosen?.call_type ?? null };
    if (chosen?.form) {
      const values = Object.fromEntries(chosen.form.fields.map((x) => [x.name, f[`field-${x.name}`].value]));
      actions.send({ ...base, urgent: false, message: "", caller_name: null, callback_number: null,
        form: chosen.form.name, values });
      return;
    }
    if (!text("message")) { actions.alert("write the message first"); return; }
    actions.send({ ...base, urgent: f.urgent.checked, message: f.message.value.trim(), caller_name: text("caller_name"),
      callback_number: text("callback_number"), form: null, values: null });
  });
}

export function escalate(actions) {
  if (!$("answering-actions").hidden && !$("escalate").disabled) actions.escalate();
}

export function focusMessage() {
  if ($("answering-actions").hidden) return;
  const field = $("message-form").querySelector(".form-field :is(input, select, textarea)"); // a form's first
  (field ?? $("take-message").elements.message).focus();
}
