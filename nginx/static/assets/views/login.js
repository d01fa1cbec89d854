// Sign in. Arrives here with ?next=<path> when a page needed a session, and goes back there after.

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { formAlert, onSubmit, textField } from "../forms.js";

const REASONS = {
  expired: "Your session has ended. Sign in again to continue where you were.",
  "signed-out": "You have signed out.",
};

export async function render(context) {
  context.setTitle("Sign in");
  const status = await get("/api/status", { expectSignedOut: true });
  if (status.needs_setup) {
    context.navigate("/setup", { replace: true });
    return;
  }
  const next = context.safeNext(context.query.get("next")) || "/sites";

  // Someone already signed in (a second tab, the back button) goes straight on.
  try {
    const user = await get("/api/user", { expectSignedOut: true });
    if (context.signal.aborted) return;
    context.setSignedIn(user);
    context.navigate(next, { replace: true });
    return;
  } catch (error) {
    if (error.status !== 401) throw error;
  }

  const email = textField({ label: "Email", name: "email", type: "email", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const password = textField({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const reason = REASONS[context.query.get("reason")];
  const form = h("form", { class: "stack", method: "post", action: "/login" },
    formAlert(),
    email.wrapper,
    password.wrapper,
    h("button", { type: "submit", class: "button primary wide" }, "Sign in"));

  onSubmit(form, async (data) => {
    const result = await post("/api/login", { email: data.get("email"), password: data.get("password") }, { expectSignedOut: true });
    context.setSignedIn(result.user);
    context.navigate(next, { replace: true });
  }, (error) => {
    if (error.code === "invalid_email") return "email";
    if (error.code === "invalid_password") return "password";
    return null; // invalid_credentials, too_many_attempts: about the pair, shown above the form
  });

  context.main.append(h("div", { class: "page auth" },
    h("div", { class: "card auth-card" },
      h("h1", {}, "Sign in to HitKeep"),
      reason ? h("p", { class: "notice", role: "status" }, reason) : null,
      form)));
  email.input.focus();
}
