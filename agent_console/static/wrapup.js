// The wrap-up form: disposition, notes, a case to create or update, a callback to schedule.
import { $, el, fill, localToIso } from "./dom.js";

export function renderDispositions(codes) {
  const select = $("wrap-up").elements.disposition;
  fill(select, el("option", { value: "" }, "— choose —"), codes.map((c) => el("option", { value: c }, c)));
}

export function renderWrapUp(st) {
  const form = $("wrap-up");
  const pending = st.wrapUp !== null && st.v2;
  if (pending && form.dataset.call !== st.wrapUp.call) {
    form.dataset.call = st.wrapUp.call; // a new wrap-up: a clean form
    form.reset();
    showCase(form);
    const open = st.wrapUp.offer?.customer?.open_cases ?? [];
    fill(form.elements.case_id, open.map((c) => el("option", { value: c.id }, `#${c.id} ${c.subject}`)));
    form.elements.case.querySelector("[value=update]").disabled = open.length === 0;
  }
  form.hidden = !pending;
}

function showCase(form) {
  const action = form.elements.case.value;
  form.querySelector(".case-create").hidden = action !== "create";
  form.querySelector(".case-update").hidden = action !== "update";
}

function caseOf(form) {
  const f = form.elements;
  if (f.case.value === "create") {
    return { action: "create", subject: f.subject.value.trim(), priority: f.priority.value };
  }
  if (f.case.value === "update") {
    return { action: "update", id: Number(f.case_id.value), status: f.status.value, comment: f.comment.value };
  }
  return null;
}

/** The `wrap-up` message for the form, or a string saying what is missing. */
function message(form, call) {
  const f = form.elements;
  if (!f.disposition.value) return "choose a disposition";
  const kase = caseOf(form);
  if (kase?.action === "create" && !kase.subject) return "the new case needs a subject";
  let callbackAt = null;
  if (f.callback_at.value) {
    callbackAt = localToIso(f.callback_at.value);
    if (callbackAt === null) return "the callback time is not a date and time";
  }
  return { type: "wrap-up", call, disposition: f.disposition.value, notes: f.notes.value, case: kase,
    callback_at: callbackAt };
}

export function bindWrapUp(st, actions) {
  const form = $("wrap-up");
  form.elements.case.addEventListener("change", () => showCase(form));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (st.wrapUp === null) return;
    const m = message(form, st.wrapUp.call);
    if (typeof m === "string") actions.alert(m); else actions.send(m);
  });
}

/** True once the agent has begun the form (a disposition or notes): it is not dropped for the next call. */
export function started() {
  const f = $("wrap-up").elements;
  return !$("wrap-up").hidden && (f.disposition.value !== "" || f.notes.value.trim() !== "");
}

export function focusNotes() {
  if (!$("wrap-up").hidden) $("wrap-up").elements.notes.focus();
}

export function save() {
  if (!$("wrap-up").hidden) $("wrap-up").requestSubmit();
}
