// The agent's state in the header: the badge, the time in the state (ticking; wrap-up counts down to
// `until`), the not-ready reasons from the snapshot, and the wrap-up "extend" button.
import { $, clock, el, fill, now } from "./dom.js";

export const EXTEND_S = 60;

export function renderReasons(reasons) {
  const select = $("reason");
  const chosen = select.value;
  fill(select, reasons.map((r) => el("option", { value: r }, r)));
  if (reasons.includes(chosen)) select.value = chosen;
}

export function renderState(st) {
  const badge = $("state");
  badge.dataset.state = st.state;
  badge.textContent = st.reason ? `${st.state} (${st.reason})` : st.state;
  $("controls").hidden = st.me === null || st.state === "logged-out";
  $("extend").hidden = st.state !== "wrap-up" || !st.v2;
  tick(st);
}

/** Called every second: the time since the state began, or what is left of a timed state. */
export function tick(st) {
  const timer = $("state-timer");
  if (st.since === null || st.state === "logged-out") { timer.textContent = ""; return; }
  timer.textContent = st.until !== null
    ? `${clock(st.until - now())} left`
    : clock(now() - st.since);
}

export function bindStatus(actions) {
  $("ready").addEventListener("click", actions.ready);
  $("pause").addEventListener("click", () => actions.pause($("reason").value));
  $("extend").addEventListener("click", () => actions.extend(EXTEND_S));
  $("logout").addEventListener("click", actions.logout);
}
