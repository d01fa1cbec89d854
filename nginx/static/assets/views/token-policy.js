// Settings → Token policy (instance admins): the rules every API client must follow, and the
// clients made before a change that no longer follow them (listed, never revoked).

import { get, put } from "../api.js";
import { announce, h, uid } from "../dom.js";
import { badge } from "../components.js";
import { fieldGroup, formAlert, onSubmit, textField } from "../forms.js";
import * as format from "../format.js";
import { settingsNav } from "./settings-nav.js";

const SCOPES = ["stats:read", "sites:read", "sites:write", "ingest:write", "user:read"];

const RULES = {
  expiry_required: "No expiry",
  max_lifetime: "Lives too long",
  scope_not_allowed: "Scope not allowed",
  max_rate_limit: "Rate limit too high",
};

export async function render(context) {
  context.setTitle("Token policy");
  const page = h("div", { class: "page" }, settingsNav("/settings/token-policy"),
    h("div", { class: "page-head" }, h("h1", {}, "Token policy")));
  let policy;
  let violations;
  try {
    [policy, violations] = await Promise.all([get("/api/admin/token-policy"), get("/api/admin/token-policy/violations")]);
  } catch (error) {
    if (error.status !== 403) throw error;
    if (context.signal.aborted) return;
    page.append(h("p", { class: "notice" }, "Only instance admins can see and set the token policy."));
    context.main.append(page);
    return;
  }
  if (context.signal.aborted) return;

  const lifetime = textField({
    label: "Longest lifetime (days)", name: "max_lifetime_days", type: "number", min: 1, max: 3650, step: 1,
    value: policy.max_lifetime_days ?? "", hint: "Empty: tokens may live for ever. A new client that asks for no expiry gets this one.",
  });
  const requiredId = uid("expiry-required");
  const required = h("div", { class: "check" },
    h("input", { type: "checkbox", id: requiredId, name: "expiry_required", value: "yes", checked: policy.expiry_required }),
    h("label", { for: requiredId }, "Every token must expire"));
  const scopes = fieldGroup({
    legend: "Scopes new clients may hold", name: "allowed_scopes",
    children: SCOPES.map((scope) => {
      const id = uid("scope");
      return h("div", { class: "check" },
        h("input", { type: "checkbox", id, name: "allowed_scopes", value: scope, checked: policy.allowed_scopes.includes(scope) }),
        h("label", { for: id }, h("code", {}, scope)));
    }),
  });
  const defaultLimit = textField({
    label: "Default rate limit (requests a minute)", name: "default_rate_limit_per_minute", type: "number", min: 1, step: 1,
    value: policy.default_rate_limit_per_minute, required: true,
  });
  const maxLimit = textField({
    label: "Highest rate limit (requests a minute)", name: "max_rate_limit_per_minute", type: "number", min: 1, step: 1,
    value: policy.max_rate_limit_per_minute, required: true,
  });
  const saved = h("p", { class: "muted", role: "status" }, savedText(policy));
  const form = h("form", { class: "stack narrow-form", "aria-label": "Token policy" },
    formAlert(), lifetime.wrapper, required, scopes.wrapper,
    h("div", { class: "form-grid two" }, defaultLimit.wrapper, maxLimit.wrapper),
    h("div", { class: "inline-actions" }, h("button", { type: "submit", class: "button primary" }, "Save policy")), saved);

  const list = h("ul", { class: "client-list", "aria-label": "Clients that break the policy" });
  const listHead = h("h2", {});
  function renderViolations(items) {
    listHead.textContent = items.length ? `${items.length} client${items.length === 1 ? "" : "s"} break the policy` : "Every client follows the policy";
    list.replaceChildren(...items.map((item) => h("li", { class: "card client-card", dataset: { clientId: item.client.id } },
      h("div", { class: "client-title" }, h("h3", { class: "client-name" }, item.client.name),
        item.client.expires_soon ? badge("Expires soon", "warning") : null),
      h("p", {}, `Owner: ${item.owner_email} · created ${format.dateTime(item.client.created_at)}`),
      h("ul", { class: "scope-list" }, item.violations.map((violation) =>
        h("li", {}, badge(RULES[violation.rule] || violation.rule, "danger"), " ", violation.detail))))));
  }

  onSubmit(form, async (data) => {
    const days = (data.get("max_lifetime_days") || "").trim();
    const stored = await put("/api/admin/token-policy", {
      max_lifetime_days: days ? Number(days) : null,
      expiry_required: data.get("expiry_required") === "yes",
      allowed_scopes: data.getAll("allowed_scopes"),
      default_rate_limit_per_minute: Number(data.get("default_rate_limit_per_minute")),
      max_rate_limit_per_minute: Number(data.get("max_rate_limit_per_minute")),
    });
    saved.textContent = savedText(stored);
    renderViolations(await get("/api/admin/token-policy/violations"));
    announce("Token policy saved.");
  }, (error) => ({
    invalid_max_lifetime: "max_lifetime_days", invalid_scope: "allowed_scopes",
    invalid_rate_limit: error.detail && error.detail.startsWith("max_") ? "max_rate_limit_per_minute" : "default_rate_limit_per_minute",
  })[error.code] || null);

  renderViolations(violations);
  page.append(
    h("p", { class: "lead" }, "New and changed API clients must follow these rules. Clients made before a change keep working; they are listed below so that you can ask their owners to replace them."),
    h("section", { class: "card" }, form),
    h("section", {}, listHead, list));
  context.main.append(page);
}

function savedText(policy) {
  return policy.updated_at ? `Last changed ${format.dateTime(policy.updated_at)}.` : "The server's defaults apply until you save a policy.";
}
