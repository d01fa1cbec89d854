// First run: while no user exists, create the first one (an instance admin) and sign in as it.

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { formAlert, onSubmit, setFieldError, textField } from "../forms.js";

export async function render(context) {
  context.setTitle("Set up HitKeep");
  const status = await get("/api/status", { expectSignedOut: true });
  if (context.signal.aborted) return;
  if (!status.needs_setup) {
    context.navigate("/login", { replace: true });
    return;
  }

  const name = textField({ label: "Your name", name: "name", autocomplete: "name", maxLength: 120, hint: "Optional." });
  const email = textField({ label: "Email", name: "email", type: "email", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const password = textField({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters." });
  const confirm = textField({ label: "Repeat the password", name: "confirm", type: "password", autocomplete: "new-password", required: true });

  const form = h("form", { class: "stack", method: "post", action: "/setup" },
    formAlert(), name.wrapper, email.wrapper, password.wrapper, confirm.wrapper,
    h("button", { type: "submit", class: "button primary wide" }, "Create account and sign in"));

  onSubmit(form, async (data) => {
    if (data.get("password") !== data.get("confirm")) {
      setFieldError(confirm.wrapper, "The two passwords differ. Type the same password twice.");
      confirm.input.focus();
      return;
    }
    const user = await post("/api/initial-user", {
      email: data.get("email"), password: data.get("password"), name: data.get("name"),
    }, { expectSignedOut: true });
    context.setSignedIn(user);
    context.navigate("/sites?welcome=1", { replace: true });
  }, (error) => ({ invalid_email: "email", invalid_password: "password", invalid_name: "name" })[error.code] || null);

  context.main.append(h("div", { class: "page auth" },
    h("div", { class: "card auth-card" },
      h("h1", {}, "Welcome to HitKeep"),
      h("p", { class: "lead" }, "Create the first account. It administers this HitKeep server; you can add more people later."),
      form)));
  name.input.focus();
}
