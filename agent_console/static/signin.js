// Signing in, for all three pages (console, wallboard, reports): who the session cookie says we are, the
// page's sign-in form, and signing out. The server's side is agent_console/login.py (docs/access.md);
// each page decides what to show for a user, a refusal or no session.

const SAME_ORIGIN = { credentials: "same-origin" };

/** The signed-in user ({username, name, role, agent}), or null without a session; throws when the
 * server cannot be reached (a page may try again later). */
export async function currentUser() {
  const r = await fetch("/session", SAME_ORIGIN);
  return r.ok ? r.json() : null;
}

/** On each submit of `form` (its username and password): POST /login, empty the form, then
 * `onSignedIn(user)`, or `onRefused(status, body)` with the refusal's {error, message}. */
export function bindSignIn(form, { onSignedIn, onRefused }) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fields = new FormData(form);
    const r = await fetch("/login", {
      method: "POST", ...SAME_ORIGIN, headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: fields.get("username"), password: fields.get("password") }),
    });
    const body = await r.json().catch(() => ({}));
    form.reset();
    if (r.ok) onSignedIn(body); else onRefused(r.status, body);
  });
}

/** End the session (POST /logout); the page then shows itself signed out. */
export async function signOut() {
  await fetch("/logout", { method: "POST", ...SAME_ORIGIN });
}
