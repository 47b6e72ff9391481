// During the call: hang up, hold / resume, blind transfer to a queue, an agent or an outside number.
import { $, el, fill } from "./dom.js";

export function renderTargets(queues, agents, me) {
  const form = $("transfer");
  fill(form.elements.queue, queues.map((q) => el("option", { value: q.id }, q.name)));
  fill(form.elements.agent, agents.filter((a) => a.id !== me).map((a) => el("option", { value: a.id }, a.name)));
}

export function renderCallControls(st) {
  const live = st.shown !== null && st.shown.live;
  $("call-controls").hidden = !live || !st.v2;
  if (!live) return;
  const connected = st.shown.connectedAt !== null || st.state === "on-call";
  $("hang-up").textContent = connected ? "Hang up" : "Decline"; // hang-up while ringing declines
  $("hold").textContent = st.shown.held ? "Resume" : "Hold";
  $("hold").disabled = !connected;
  $("transfer").querySelector("button").disabled = !connected;
}

function showTarget(form) {
  const to = form.elements.to.value;
  form.elements.queue.hidden = to !== "queue";
  form.elements.agent.hidden = to !== "agent";
  form.elements.number.hidden = to !== "number";
}

export function bindCallControls(st, actions) {
  const form = $("transfer");
  $("hang-up").addEventListener("click", actions.hangUp);
  $("hold").addEventListener("click", () => (st.shown?.held ? actions.resume() : actions.hold()));
  form.elements.to.addEventListener("change", () => showTarget(form));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const to = form.elements.to.value;
    const target = form.elements[to].value.trim();
    if (!target) { actions.alert(`choose the ${to} to transfer to`); return; }
    actions.transfer(to, target);
  });
}

export function focusTransfer() {
  if (!$("call-controls").hidden) $("transfer").elements.to.focus();
}
