// The screen pop: who is calling (the customer 360 when the store knows them); when several customers
// share the caller's number, the list to pick the caller from; and for an unknown caller (or none of
// those) a quick-create form and a search to attach the call to a customer.
import { $, clock, el, fill, now, when } from "./dom.js";

function callerText(caller) {
  const number = caller.display ?? caller.number ?? "withheld";
  return [caller.name, number].filter(Boolean).join(" · ");
}

function waited(seconds) {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function account(a) {
  if (!a) return ["—"];
  return [
    el("span", { class: `acct-${a.status}` }, a.status),
    a.on_credit_hold ? el("strong", { class: "hold" }, " — CREDIT HOLD") : null,
    `, balance ${a.balance} ${a.currency}`,
    a.credit_limit !== undefined ? ` (limit ${a.credit_limit})` : null,
    a.last_payment_on ? `, last paid ${when(a.last_payment_on)}` : null,
  ];
}

function history(calls) {
  if (!calls.length) return [el("tr", {}, el("td", { colSpan: 7 }, "no calls yet"))];
  return calls.map((c) => el("tr", { "data-call": c.call },
    el("td", {}, when(c.arrived_at)), el("td", {}, c.line ?? ""), el("td", {}, c.source ?? ""), el("td", {}, c.outcome ?? ""),
    el("td", {}, c.agent ?? ""), el("td", { class: "disposition" }, c.disposition ?? "—"),
    el("td", { class: "notes" }, c.notes ?? "")));
}

function cases(list) {
  if (!list.length) return [el("li", {}, "none")];
  return list.map((c) => el("li", { "data-case": c.id, class: `prio-${c.priority}` },
    `#${c.id} ${c.subject} — ${c.status}, ${c.priority}`, c.due_at ? `, due ${when(c.due_at)}` : ""));
}

function orders(list) {
  if (!list.length) return [el("li", {}, "none")];
  return list.map((o) => el("li", {},
    `${when(o.ordered_on)} ${o.item} × ${o.quantity}: ${o.amount} ${o.currency ?? ""}`));
}

export function callStatus(st) {
  const shown = st.shown;
  if (shown.ended) return shown.ended.outcome ? `call ended (${shown.ended.outcome})` : "call ended";
  if (shown.held) return "on hold";
  if (shown.connectedAt !== null) return `connected ${clock(now() - shown.connectedAt)}`;
  return st.state === "on-call" ? "connected" : "ringing…"; // a v1 server does not say since when
}

const shared = (offer) => (offer.matches ?? []).length > 1;

function matchText(c) {
  const phones = c.phones.map((p) => `${p.kind} ${p.display}`).join(", ");
  return [[c.name, c.company].filter(Boolean).join(", "), c.email, phones].filter(Boolean).join(" · ");
}

function matchItems(m, pick) {
  return m.matches.map((c, i) => {
    const picked = m.customer?.id === c.id;
    const key = i < 9 ? `${i + 1}` : undefined;
    return el("li", {},
      el("button", { type: "button", class: picked ? "match picked" : "match", "data-customer": c.id,
        "aria-pressed": picked ? "true" : "false", "aria-keyshortcuts": key,
        onclick: () => pick(c.id) },
        el("span", { class: "match-key" }, i < 9 ? `${i + 1}` : "·"),
        el("strong", {}, c.name), c.tier === "vip" ? " ★ VIP" : "",
        el("span", { class: "match-detail" }, matchText(c)),
        c.account?.on_credit_hold ? el("span", { class: "hold" }, " CREDIT HOLD") : null));
  });
}

function renderMatches(shown, pick) {
  const m = shown.offer;
  const box = $("matches");
  box.hidden = !shared(m);
  if (box.hidden) return;
  $("matches-title").textContent = m.customer
    ? `${m.matches.length} customers share this number; the caller is ${m.customer.name}. Not them? Pick another:`
    : `${m.matches.length} customers share this number. Ask who is calling, then pick:`;
  // Every message renders the page again: a keyboard user keeps their place in the list.
  const list = $("match-list");
  const focused = [...list.querySelectorAll("button")].indexOf(document.activeElement);
  fill(list, matchItems(m, pick));
  if (focused >= 0) list.querySelectorAll("button")[Math.min(focused, m.matches.length - 1)]?.focus();
  $("matches-more").hidden = !m.more_matches;
  $("match-none").hidden = Boolean(m.customer);
}

/** In the list: 1-9 pick the n-th customer, the arrows move, Enter or Space picks the focused one. */
function listKeys(e, st, pick) {
  const buttons = [...$("match-list").querySelectorAll("button")];
  const at = buttons.indexOf(document.activeElement);
  const m = st.shown?.offer;
  if (e.altKey || e.ctrlKey || e.metaKey || !m || !shared(m)) return;
  if (/^[1-9]$/.test(e.key) && Number(e.key) <= m.matches.length) {
    e.preventDefault();
    pick(m.matches[Number(e.key) - 1].id);
  } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && at >= 0) {
    e.preventDefault();
    buttons[(at + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length].focus();
  }
}

/** Alt+C: the focus to the list of customers sharing the number (the picked one, else the first). */
export function focusMatches(st) {
  if (st.shown && shared(st.shown.offer)) {
    const list = $("match-list");
    (list.querySelector("button[aria-pressed=true]") ?? list.querySelector("button"))?.focus();
  }
}

export function renderPop(st, pick = () => {}) {
  const shown = st.shown;
  $("pop").hidden = shown === null;
  if (shown === null) return;
  const m = shown.offer;
  const c = m.customer;
  const pop = $("pop");
  pop.classList.toggle("connected", (shown.connectedAt !== null || st.state === "on-call") && !shown.ended);
  pop.classList.toggle("held", shown.held && !shown.ended);
  pop.classList.toggle("ended", Boolean(shown.ended));
  pop.classList.toggle("vip", c?.tier === "vip");
  let pending = m.customer_pending ? "Looking up the caller…" : "Unknown caller";
  if (!c && shared(m)) pending = `Who is calling? ${m.matches.length} customers share this number`;
  $("pop-title").textContent = c ? `${c.name}${c.tier === "vip" ? " ★ VIP" : ""}` : pending;
  $("pop-tier").textContent = c?.tier && c.tier !== "vip" ? c.tier : "";
  $("call-status").textContent = callStatus(st);
  $("pop-caller").textContent = callerText(m.caller);
  const nobody = shared(m) ? "not picked yet: ask the caller's name" : "not in the customer store";
  $("pop-customer").textContent = c ? [c.name, c.company].filter(Boolean).join(", ") : nobody;
  fill($("pop-account"), account(c?.account));
  $("pop-line").textContent = m.line.name;
  $("pop-did").textContent = m.did;
  $("pop-source").textContent = m.source;
  $("pop-waited").textContent = waited(m.waited_s);
  $("pop-360").hidden = !c || c.recent_calls === undefined;
  if (c?.recent_calls !== undefined) {
    fill($("pop-history").tBodies[0], history(c.recent_calls));
    fill($("pop-cases"), cases(c.open_cases ?? []));
    fill($("pop-orders"), orders(c.recent_orders ?? []));
  }
  renderMatches(shown, pick);
  renderUnknown(shown, st);
}

function renderUnknown(shown, st) {
  const box = $("unknown");
  // Several customers share the number: the forms only once the agent says it is none of them.
  const none = !shared(shown.offer) || box.dataset.none === shown.offer.call;
  const unknown = !shown.offer.customer && !shown.offer.customer_pending && st.v2 && none;
  if (unknown && box.dataset.call !== shown.offer.call) {
    // A new unknown caller: start the forms afresh, the number already in.
    box.dataset.call = shown.offer.call;
    $("quick-create").reset();
    $("quick-create").elements.phone.value = shown.offer.caller.number ?? "";
    $("quick-create").elements.name.value = shown.offer.caller.name ?? "";
    fill($("search-results"));
  }
  box.hidden = !unknown;
}

async function api(path, options = {}) {
  const r = await fetch(`/api/v1${path}`, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    ...options,
  });
  const body = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error(`${body?.error ?? r.status}: ${body?.message ?? r.statusText}`);
  return body;
}

function createBody(form) {
  const get = (name) => form.elements[name].value.trim();
  const body = { name: get("name") };
  if (get("company")) body.company = get("company");
  if (get("email")) body.email = get("email");
  if (get("phone")) body.phones = [{ number: get("phone"), kind: "other" }];
  return body;
}

export function bindPop(st, actions) {
  $("match-list").addEventListener("keydown", (e) => listKeys(e, st, actions.pick));
  $("match-none").addEventListener("click", () => {
    // None of those sharing the number: search for the caller or add them.
    $("unknown").dataset.none = st.shown?.offer.call ?? "";
    actions.render();
    $("customer-search").elements.q.focus();
  });
  $("quick-create").addEventListener("submit", async (e) => {
    e.preventDefault();
    const call = st.shown?.offer.call;
    try {
      const customer = await api("/customers", { method: "POST", body: JSON.stringify(createBody(e.target)) });
      actions.log(`customer #${customer.id} created`);
      actions.attach(call, customer.id);
    } catch (err) {
      actions.alert(err.message);
    }
  });
  $("customer-search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = e.target.elements.q.value.trim();
    try {
      const page = await api(`/customers?q=${encodeURIComponent(q)}&limit=10`);
      fill($("search-results"), page.items.length ? page.items.map((c) => el("li", {},
        `${c.name}${c.company ? `, ${c.company}` : ""} `,
        el("button", { type: "button", "aria-label": `attach ${c.name}`,
          onclick: () => actions.attach(st.shown?.offer.call, c.id) }, "Attach"))) : [el("li", {}, "no match")]);
    } catch (err) {
      actions.alert(err.message);
    }
  });
}
