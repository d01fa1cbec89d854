// Settings → Password: change it; every other session of the account ends, and, if the person says
// so, every API client is revoked (a token an intruder made would otherwise outlive the change).

import { get, put } from "../api.js";
import { announce, h, uid } from "../dom.js";
import { formAlert, onSubmit, setFieldError, textField } from "../forms.js";
import { settingsNav } from "./settings-nav.js";

export async function render(context) {
  context.setTitle("Password");
  const current = textField({ label: "Current password", name: "current_password", type: "password", autocomplete: "current-password", required: true });
  const next = textField({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters." });
  const confirm = textField({ label: "Repeat the new password", name: "confirm", type: "password", autocomplete: "new-password", required: true });
  const clients = await get("/api/user/api-clients");
  if (context.signal.aborted) return;
  const revokeId = uid("revoke-clients");
  const revoke = clients.length === 0 ? null : h("div", { class: "check" },
    h("input", { type: "checkbox", id: revokeId, name: "revoke_api_clients", value: "yes" }),
    h("label", { for: revokeId }, `Also revoke all ${clients.length} API client${clients.length === 1 ? "" : "s"}`,
      h("span", { class: "check-text" }, "Do this if someone else may have used your account: a token they made would keep working after the password change.")));
  const result = h("div", { class: "result-panel", role: "status" });
  const form = h("form", { class: "stack narrow-form", "aria-labelledby": "password-heading" },
    formAlert(), current.wrapper, next.wrapper, confirm.wrapper, revoke,
    h("div", {}, h("button", { type: "submit", class: "button primary" }, "Change password")));

  onSubmit(form, async (data) => {
    result.replaceChildren();
    if (data.get("new_password") !== data.get("confirm")) {
      setFieldError(confirm.wrapper, "The two new passwords differ. Type the same password twice.");
      confirm.input.focus();
      return;
    }
    const revoked = data.get("revoke_api_clients") === "yes";
    await put("/api/user/password", { current_password: data.get("current_password"), new_password: data.get("new_password"),
      revoke_api_clients: revoked });
    form.reset();
    if (revoke && revoked) revoke.remove();
    result.replaceChildren(h("p", { class: "notice success" },
      "Password changed. You stay signed in here; every other session of your account was signed out.",
      revoked ? " Every API client was revoked: their tokens no longer work." : ""));
    announce("Password changed.");
  }, (error) => {
    if (error.code === "invalid_credentials") return "current_password";
    if (error.code === "invalid_password") return /current/.test(error.detail || "") ? "current_password" : "new_password";
    return null;
  });

  context.main.append(h("div", { class: "page" },
    settingsNav("/settings/password"),
    h("h1", { id: "password-heading" }, "Password"),
    h("p", { class: "lead" }, `Signed in as ${context.user.email}.`),
    h("div", { class: "card" }, form, result)));
}
