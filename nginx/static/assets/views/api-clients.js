// API Clients: named bearer tokens. List, create (the token shown once, in a copy box), rename in
// place, rotate (optionally keeping the old token alive for a grace period), delete one, or revoke
// them all at once (after a suspected break-in). One component for every owner of clients: the
// signed-in person (Settings → API Clients) and a site (the site's Settings → API Clients), told
// apart by the owner it is given.

import { del, get, post, put } from "../api.js";
import { announce, h, uid } from "../dom.js";
import { badge, copyBox, openDialog } from "../components.js";
import { fieldGroup, formAlert, onSubmit, setFieldError, textField } from "../forms.js";
import * as format from "../format.js";
import { settingsNav } from "./settings-nav.js";
import { usageChart } from "./client-usage.js";

const SCOPES = [
  ["stats:read", "Read site statistics"],
  ["sites:read", "List and read sites"],
  ["sites:write", "Create, change and delete sites"],
  ["ingest:write", "Send page views from a server"],
  ["user:read", "Read your name and email"],
];

const EXPIRY_CHOICES = [
  ["never", "Never"],
  ["7", "In 7 days"],
  ["30", "In 30 days"],
  ["90", "In 90 days"],
  ["365", "In 1 year"],
  ["date", "On a date…"],
];

const GRACE_CHOICES = [
  ["0", "Stops working immediately"],
  ["300", "Keeps working for 5 minutes"],
  ["3600", "Keeps working for 1 hour"],
  ["86400", "Keeps working for 24 hours"],
];

function isExpired(client, now = Date.now()) {
  return Boolean(client.expires_at) && new Date(client.expires_at).getTime() <= now;
}

/** Whether a token this client's last rotation replaced still works (its grace period). */
function stillWorks(client, now = Date.now()) {
  return Boolean(client.previous_token_expires_at) && new Date(client.previous_token_expires_at).getTime() > now;
}

/** The server says so: within 7 days of expiring (docs/API.md §6.1). */
function expiresSoon(client) {
  return client.expires_soon === true;
}

/** Local midnight at the end of an <input type=date> day, as an RFC 3339 UTC time. */
function endOfDay(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(year, month - 1, day + 1, 0, 0, 0, 0).toISOString();
}

/** Settings → API Clients: the signed-in person's own clients. */
export async function render(context) {
  context.setTitle("API Clients");
  const [clients, sites] = await Promise.all([get("/api/user/api-clients"), get("/api/sites")]);
  if (context.signal.aborted) return;
  renderClients(context, clients, {
    base: "/api/user/api-clients",
    sites,
    nav: settingsNav("/settings/api-clients"),
    heading: "API Clients",
    lead: ["Named, long-lived tokens for dashboards, CI jobs and internal tools. Each is sent as ",
      h("code", {}, "Authorization: Bearer <token>"), " and can be revoked on its own."],
  });
}

/**
 * The list and the New API Client form for the clients under `owner.base` (`/api/user/api-clients`
 * or `/api/sites/{id}/api-clients`). `owner.site`, when given, is the site that owns them: its
 * clients reach that site alone and can never hold `user:read`, so the form offers neither, and
 * there is no "revoke all"; `owner.members` names who created each. `owner.sites` are the sites a
 * user's client may be limited to.
 */
export function renderClients(context, clients, owner) {
  const site = owner.site || null;
  const sites = site ? [site] : owner.sites;
  const siteNames = new Map(sites.map((item) => [item.id, item.name]));
  const memberNames = new Map((owner.members || []).filter((m) => m.user_id).map((m) => [m.user_id, m.name || m.email]));
  const clientPath = (client) => `${owner.base}/${client.id}`;

  const tokenSlot = h("div", { class: "token-slot" });
  const list = h("ul", { class: "client-list", "aria-label": "API clients" });
  const empty = h("div", { class: "card empty-state" },
    h("h2", {}, "No API clients yet"),
    h("p", {}, "Create one per integration (a Grafana dashboard, a CI job, an internal tool) so that each can be revoked on its own."));

  // --- the list -------------------------------------------------------------------------------

  function sitesText(client) {
    if (site) return `${site.name} only`;
    if (client.site_ids === null) return "All sites, including ones added later";
    return client.site_ids.map((id) => siteNames.get(id) || "a site you no longer see").join(", ");
  }

  function fact(term, ...description) {
    return [h("dt", {}, term), h("dd", {}, description)];
  }

  function clientCard(client) {
    const expired = isExpired(client);
    const nameHeading = h("h3", { class: "client-name" }, client.name);
    const headSlot = h("div", { class: "client-title" }, nameHeading,
      expired ? badge("Expired", "danger") : expiresSoon(client) ? badge("Expires soon", "warning") : null);
    const renameButton = h("button", { type: "button", class: "button", "aria-label": `Rename ${client.name}` }, "Rename");
    const rotateButton = expired ? null
      : h("button", { type: "button", class: "button", "aria-label": `Rotate the token of ${client.name}` }, "Rotate token");
    const deleteButton = h("button", { type: "button", class: "button danger", "aria-label": `Delete ${client.name}` }, "Delete");
    const card = h("li", { class: ["card", "client-card", expired ? "expired" : null], dataset: { clientId: client.id } },
      h("div", { class: "client-head" }, headSlot),
      client.description ? h("p", { class: "client-description" }, client.description) : null,
      h("dl", { class: "facts" },
        fact("Token", h("code", { class: "token-hint" }, client.token_hint)),
        stillWorks(client) ? fact("Previous token", h("code", { class: "token-hint" }, client.previous_token_hint),
          " keeps working until ", h("time", { datetime: client.previous_token_expires_at }, format.dateTime(client.previous_token_expires_at)))
          : [],
        fact("Scopes", h("ul", { class: "scope-list" }, client.scopes.map((scope) => h("li", {}, h("code", {}, scope))))),
        fact("Sites", sitesText(client)),
        fact("Created", format.dateTime(client.created_at),
          site ? (client.created_by ? ` by ${memberNames.get(client.created_by) || "a former member"}` : " at the server's command line") : null),
        fact("Last used", client.last_used_at
          ? h("time", { datetime: client.last_used_at, title: format.dateTime(client.last_used_at) }, format.relative(client.last_used_at))
          : "Never"),
        fact("Expires", client.expires_at
          ? h("time", { datetime: client.expires_at, class: expired ? "expired-text" : null },
            expired ? `Expired ${format.dateTime(client.expires_at)}` : format.dateTime(client.expires_at))
          : "Never"),
        fact("Rate limit", `${format.integer(client.rate_limit_per_minute)} requests a minute`)),
      usageChart(`${clientPath(client)}/usage`, client.name),
      expired ? h("p", { class: "client-note" }, "This token no longer works. Delete the client, or create a new one to replace it.") : null,
      h("div", { class: "client-actions" }, renameButton, rotateButton, deleteButton));

    renameButton.addEventListener("click", () => startRename(client, card, headSlot, renameButton));
    if (rotateButton) rotateButton.addEventListener("click", () => rotate(client, card));
    deleteButton.addEventListener("click", () => remove(client, card));
    if (stillWorks(client)) forgetPreviousTokenWhenItEnds(client, card);
    return card;
  }

  /** The previous token's line stays exactly as long as that token works: the card is drawn
   *  again without it when the grace period ends, on an open page too. */
  function forgetPreviousTokenWhenItEnds(client, card) {
    const left = new Date(client.previous_token_expires_at).getTime() - Date.now();
    const timer = setTimeout(() => {
      if (card.isConnected) replaceCard(card, client);
    }, Math.min(left, 2 ** 31 - 1));
    context.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }

  function renderList(items) {
    list.replaceChildren(...items.map(clientCard));
    empty.hidden = items.length > 0;
    list.hidden = items.length === 0;
    revokeAllButton.hidden = site !== null || items.length === 0;
  }

  function replaceCard(card, client) {
    const index = clients.findIndex((item) => item.id === client.id);
    if (index >= 0) clients[index] = client;
    const fresh = clientCard(client);
    card.replaceWith(fresh);
    return fresh;
  }

  // --- the token, shown once --------------------------------------------------------------------

  function showToken(client, { rotated = false, graceSeconds = 0 } = {}) {
    const headingId = uid("token-heading");
    const heading = h("h2", { id: headingId, tabindex: "-1" }, rotated ? `New token for ${client.name}` : `Token for ${client.name}`);
    const done = h("button", { type: "button", class: "button primary" }, "Done: I have copied it");
    const panel = h("section", { class: "card token-panel", "aria-labelledby": headingId, dataset: { clientId: client.id } },
      heading,
      h("p", { class: "warning" },
        h("strong", {}, "Copy this token now. You will not see it again."),
        " HitKeep keeps only a hash of it. If it is lost, rotate the client to get a new one."),
      copyBox({ label: `API token for ${client.name}`, value: client.token, className: "token-box" }),
      rotated ? h("p", {}, graceSeconds > 0
        ? `The old token keeps working until ${format.dateTime(new Date(Date.now() + graceSeconds * 1000).toISOString())}.`
        : "The old token has stopped working.") : null,
      h("p", { class: "usage" }, "Send it in the ", h("code", {}, "Authorization: Bearer …"), " header. Keep it in an environment variable or a secrets manager, never in source code or client-side JavaScript."),
      done);
    done.addEventListener("click", () => {
      panel.remove();
      const card = list.querySelector(`[data-client-id="${client.id}"]`);
      const target = card ? card.querySelector("button") : document.querySelector("h1");
      if (target) target.focus();
    });
    tokenSlot.replaceChildren(panel);
    heading.focus();
    announce(rotated ? `Token of ${client.name} rotated. Copy the new token now: it is shown once.`
      : `API client ${client.name} created. Copy its token now: it is shown once.`);
  }

  // --- rename in place --------------------------------------------------------------------------

  function startRename(client, card, headSlot, renameButton) {
    const field = textField({ label: "Name", name: "name", value: client.name, autocomplete: "off", maxLength: 120 });
    const cancel = h("button", { type: "button", class: "button subtle" }, "Cancel");
    const form = h("form", { class: "rename-form", "aria-label": `Rename ${client.name}` },
      field.wrapper, h("div", { class: "inline-actions" }, h("button", { type: "submit", class: "button primary" }, "Save"), cancel));
    const finish = (focusTarget) => {
      form.replaceWith(headSlot);
      renameButton.disabled = false;
      if (focusTarget) focusTarget.focus();
    };
    cancel.addEventListener("click", () => finish(renameButton));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish(renameButton);
      }
    });
    onSubmit(form, async (data) => {
      const updated = await put(clientPath(client), { name: data.get("name") });
      const fresh = replaceCard(card, updated);
      fresh.querySelector(".client-actions button").focus();
      announce(`Renamed to ${updated.name}.`);
    }, (error) => (error.code === "invalid_name" ? "name" : null));
    form.prepend(formAlert());
    headSlot.replaceWith(form);
    renameButton.disabled = true;
    field.input.focus();
    field.input.select();
  }

  // --- rotate -------------------------------------------------------------------------------------

  async function rotate(client, card) {
    const rotated = await openDialog({
      title: `Rotate the token of “${client.name}”?`,
      build(close) {
        const grace = textField({
          label: "The current token", name: "grace_seconds",
          control: h("select", {}, GRACE_CHOICES.map(([value, label]) => h("option", { value }, label))),
          hint: "A grace period lets you deploy the new token before the old one stops working.",
        });
        const form = h("form", { class: "stack" },
          h("p", {}, "HitKeep makes a new token for this client and shows it once. Its name, scopes and sites stay the same."),
          formAlert(), grace.wrapper,
          h("div", { class: "dialog-actions" },
            h("button", { type: "button", class: "button subtle", onclick: () => close(null) }, "Cancel"),
            h("button", { type: "submit", class: "button primary" }, "Rotate token")));
        onSubmit(form, async (data) => {
          const graceSeconds = Number(data.get("grace_seconds"));
          const result = await post(`${clientPath(client)}/rotate`, { grace_seconds: graceSeconds });
          close({ result, graceSeconds });
        }, (error) => (error.code === "invalid_grace_seconds" ? "grace_seconds" : null));
        return form;
      },
    });
    if (!rotated) return;
    const { token, ...updated } = rotated.result;
    replaceCard(card, updated);
    showToken({ ...updated, token }, { rotated: true, graceSeconds: rotated.graceSeconds });
  }

  // --- delete -------------------------------------------------------------------------------------

  async function remove(client, card) {
    const deleted = await openDialog({
      title: `Delete “${client.name}”?`,
      build(close) {
        const keep = h("button", { type: "button", class: "button subtle", autofocus: true, onclick: () => close(false) }, "Keep it");
        const form = h("form", { class: "stack" },
          h("p", {}, "Its token stops working immediately: integrations that use it get “401 Unauthorized” from their next request on. This cannot be undone."),
          formAlert(),
          h("div", { class: "dialog-actions" }, keep,
            h("button", { type: "submit", class: "button danger" }, "Delete API client")));
        onSubmit(form, async () => {
          await del(clientPath(client));
          close(true);
        });
        return form;
      },
    });
    if (!deleted) return;
    const index = clients.findIndex((item) => item.id === client.id);
    if (index >= 0) clients.splice(index, 1);
    const next = card.nextElementSibling || card.previousElementSibling;
    card.remove();
    const panel = tokenSlot.querySelector(`[data-client-id="${client.id}"]`);
    if (panel) panel.remove();
    empty.hidden = clients.length > 0;
    list.hidden = clients.length === 0;
    revokeAllButton.hidden = site !== null || clients.length === 0;
    (next ? next.querySelector("button") : newButton).focus();
    announce(`${client.name} deleted. Its token no longer works.`);
  }

  // --- revoke all --------------------------------------------------------------------------------

  const revokeAllButton = h("button", { type: "button", class: "button danger" }, "Revoke all");

  async function revokeAll() {
    const count = clients.length;
    const revoked = await openDialog({
      title: `Revoke all ${count} API client${count === 1 ? "" : "s"}?`,
      build(close) {
        const keep = h("button", { type: "button", class: "button subtle", autofocus: true, onclick: () => close(null) }, "Keep them");
        const form = h("form", { class: "stack" },
          h("p", {}, "Every client is deleted and every token stops working immediately, including any token someone else may have made with your account. Integrations that still need access need new clients. This cannot be undone."),
          formAlert(),
          h("div", { class: "dialog-actions" }, keep,
            h("button", { type: "submit", class: "button danger" }, "Revoke all API clients")));
        onSubmit(form, async () => close(await del(owner.base)));
        return form;
      },
    });
    if (!revoked) return;
    clients.splice(0, clients.length);
    tokenSlot.replaceChildren();
    renderList(clients);
    newButton.focus();
    announce(`${revoked.revoked} API client${revoked.revoked === 1 ? "" : "s"} revoked. Their tokens no longer work.`);
  }

  revokeAllButton.addEventListener("click", revokeAll);

  // --- the New API Client form ------------------------------------------------------------------

  const formId = uid("new-client");
  const newButton = h("button", { type: "button", class: "button primary", "aria-expanded": "false", "aria-controls": formId }, "New API Client");
  const name = textField({
    label: "Name", name: "name", autocomplete: "off", maxLength: 120,
    hint: "Say what uses it, e.g. grafana-reader or ci-exporter.",
  });
  const description = textField({ label: "Description", name: "description", autocomplete: "off", maxLength: 1000, hint: "Optional." });
  // A site's client acts for no person, so it cannot read one.
  const scopeBoxes = SCOPES.filter(([scope]) => !(site && scope === "user:read")).map(([scope, label]) => {
    const id = uid("scope");
    return h("div", { class: "check" },
      h("input", { type: "checkbox", id, name: "scopes", value: scope, checked: true }),
      h("label", { for: id }, h("code", {}, scope), h("span", { class: "check-text" }, label)));
  });
  const scopes = fieldGroup({ legend: "Scopes", name: "scopes", hint: "What the token may do. Give it no more than the integration needs.", children: scopeBoxes });

  const allSitesId = uid("all-sites");
  const someSitesId = uid("some-sites");
  const siteBoxes = site ? [] : sites.map((item) => {
    const id = uid("site");
    return h("div", { class: "check nested" },
      h("input", { type: "checkbox", id, name: "site_ids", value: item.id, disabled: true }),
      h("label", { for: id }, item.name, h("span", { class: "check-text" }, item.domain)));
  });
  const siteChoice = site ? null : fieldGroup({
    legend: "Sites", name: "sites", children: [
      h("div", { class: "check" },
        h("input", { type: "radio", id: allSitesId, name: "site_mode", value: "all", checked: true }),
        h("label", { for: allSitesId }, "All my sites, including ones added later")),
      sites.length ? h("div", { class: "check" },
        h("input", { type: "radio", id: someSitesId, name: "site_mode", value: "some" }),
        h("label", { for: someSitesId }, "Only these sites:")) : null,
      siteBoxes,
    ],
  });
  siteChoice?.wrapper.addEventListener("change", (event) => {
    if (event.target.name !== "site_mode") return;
    const some = event.target.value === "some";
    for (const box of siteChoice.wrapper.querySelectorAll('input[name="site_ids"]')) box.disabled = !some;
  });

  const expiryDate = h("input", { type: "date", name: "expires_on", id: uid("expires-on"), hidden: true, "aria-label": "Expiry date" });
  const expiry = textField({
    label: "Expires", name: "expiry",
    control: h("select", { name: "expires" }, EXPIRY_CHOICES.map(([value, label]) => h("option", { value }, label))),
    hint: "After this the token stops working. A date means the end of that day, your time.",
  });
  expiry.wrapper.insertBefore(expiryDate, expiry.error);
  expiry.input.addEventListener("change", () => {
    expiryDate.hidden = expiry.input.value !== "date";
    if (!expiryDate.hidden) {
      const tomorrow = new Date(Date.now() + 86400000);
      expiryDate.min = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, "0")}-${String(tomorrow.getDate()).padStart(2, "0")}`;
      expiryDate.focus();
    }
  });

  const rateLimit = textField({
    label: "Rate limit", name: "rate_limit_per_minute", type: "number", min: 1, step: 1, autocomplete: "off",
    hint: "Requests a minute. Leave empty for the server's default.",
  });

  const cancelNew = h("button", { type: "button", class: "button subtle" }, "Cancel");
  const form = h("form", { class: "new-client-form", "aria-labelledby": `${formId}-heading` },
    formAlert(),
    h("div", { class: "form-grid two" }, name.wrapper, description.wrapper),
    scopes.wrapper, siteChoice ? siteChoice.wrapper : h("p", { class: "hint" }, `Its token reaches ${site?.name} only, and keeps working whoever leaves the site.`),
    h("div", { class: "form-grid two" }, expiry.wrapper, rateLimit.wrapper),
    h("div", { class: "inline-actions" }, h("button", { type: "submit", class: "button primary" }, "Create API client"), cancelNew));
  const formSection = h("section", { class: "card new-client", id: formId, hidden: true, "aria-labelledby": `${formId}-heading` },
    h("h2", { id: `${formId}-heading` }, "New API Client"), form);

  function toggleForm(open) {
    formSection.hidden = !open;
    newButton.setAttribute("aria-expanded", String(open));
    if (open) name.input.focus();
    else newButton.focus();
  }
  newButton.addEventListener("click", () => toggleForm(formSection.hidden));
  cancelNew.addEventListener("click", () => {
    form.reset();
    toggleForm(false);
  });

  onSubmit(form, async (data) => {
    const body = { name: data.get("name") };
    if ((data.get("description") || "").trim()) body.description = data.get("description");
    const chosenScopes = data.getAll("scopes");
    if (chosenScopes.length === 0) {
      setFieldError(scopes.wrapper, "Choose at least one scope.");
      scopes.wrapper.querySelector("input").focus();
      return;
    }
    body.scopes = chosenScopes;
    if (siteChoice && data.get("site_mode") === "some") {
      const chosenSites = data.getAll("site_ids");
      if (chosenSites.length === 0) {
        setFieldError(siteChoice.wrapper, "Choose at least one site, or allow all sites.");
        siteChoice.wrapper.querySelector('input[name="site_ids"]').focus();
        return;
      }
      body.site_ids = chosenSites;
    }
    const choice = data.get("expires");
    if (choice === "date") {
      if (!format.isIsoDate(data.get("expires_on"))) {
        setFieldError(expiry.wrapper, "Choose the date on which the token stops working.");
        expiryDate.focus();
        return;
      }
      body.expires_at = endOfDay(data.get("expires_on"));
    } else if (choice !== "never") {
      body.expires_in_days = Number(choice);
    }
    if ((data.get("rate_limit_per_minute") || "").trim()) body.rate_limit_per_minute = Number(data.get("rate_limit_per_minute"));
    const created = await post(owner.base, body);
    const { token, ...client } = created;
    clients.unshift(client);
    renderList(clients);
    form.reset();
    for (const box of siteChoice?.wrapper.querySelectorAll('input[name="site_ids"]') || []) box.disabled = true;
    expiryDate.hidden = true;
    formSection.hidden = true;
    newButton.setAttribute("aria-expanded", "false");
    showToken({ ...client, token });
  }, (error) => ({
    invalid_name: "name", invalid_description: "description", invalid_scope: "scopes",
    invalid_site_ids: "sites", forbidden: "sites", invalid_expiry: "expiry", expiry_required: "expiry",
    scope_not_allowed: "scopes", invalid_rate_limit: "rate_limit_per_minute", rate_limit_too_high: "rate_limit_per_minute",
  })[error.code] || null);

  renderList(clients);
  context.main.append(h("div", { class: "page" },
    owner.nav,
    h("div", { class: "page-head" },
      h("h1", {}, owner.heading),
      h("div", { class: "inline-actions" }, site ? null : revokeAllButton, newButton)),
    h("p", { class: "lead" }, owner.lead),
    tokenSlot,
    formSection,
    empty,
    list));
}
