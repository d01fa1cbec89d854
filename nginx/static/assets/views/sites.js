// Sites: the list, "Add site", the snippet that puts the tracker on a site's pages, and for admins
// and owners a site's name, time zone and raw page view retention, and its settings (the site's own API clients); an owner
// deletes a site by typing its domain.

import { del, get, post, put } from "../api.js";
import { announce, h } from "../dom.js";
import { badge, copyBox, openDialog, trackerSnippet } from "../components.js";
import { formAlert, onSubmit, textField } from "../forms.js";
import * as format from "../format.js";
import { timeZoneSelect } from "../timezones.js";

/** The dialog that changes a site's name, time zone and retention; resolves to the updated site, or null. */
function editSite(site) {
  return openDialog({
    title: `Edit ${site.name}`,
    build(close) {
      const name = textField({ label: "Name", name: "name", value: site.name, autocomplete: "off", required: true, maxLength: 120 });
      const timezone = textField({
        label: "Time zone", name: "timezone", control: timeZoneSelect(site.timezone),
        hint: "Days in reports start at midnight here; past page views are counted again in the new zone.",
      });
      const retention = textField({
        label: "Keep raw page views for (days)", name: "retention_days", type: "number", min: 1, max: 3650, step: 1,
        value: site.retention_days ?? "",
        hint: "1 to 3650; empty: as long as the server keeps them. Totals, charts and top lists stay; questions with several filters (other than on device, browser, system, country and language) or partial hours are answered only for the days kept.",
      });
      const form = h("form", { class: "stack" }, formAlert(), name.wrapper, timezone.wrapper, retention.wrapper,
        h("div", { class: "dialog-actions" },
          h("button", { type: "button", class: "button subtle", onclick: () => close(null) }, "Cancel"),
          h("button", { type: "submit", class: "button primary" }, "Save")));
      onSubmit(form, async (data) => {
        const days = data.get("retention_days").trim();
        close(await put(`/api/sites/${site.id}`, {
          name: data.get("name"), timezone: data.get("timezone"), retention_days: days === "" ? null : Number(days),
        }));
      }, (error) => ({ invalid_name: "name", invalid_timezone: "timezone", invalid_retention_days: "retention_days" })[error.code] || null);
      return form;
    },
  });
}

/** The dialog that deletes a site once its domain is typed; resolves to true when it was deleted. */
function deleteSite(site) {
  return openDialog({
    title: `Delete ${site.domain}?`,
    build(close) {
      const confirmation = textField({
        label: `Type ${site.domain} to confirm`, name: "domain", autocomplete: "off", autocapitalize: "none",
        spellcheck: "false", required: true,
      });
      const submit = h("button", { type: "submit", class: "button danger", disabled: true }, "Delete site");
      confirmation.input.addEventListener("input", () => {
        submit.disabled = confirmation.input.value.trim().toLowerCase() !== site.domain;
      });
      const form = h("form", { class: "stack" },
        h("p", {}, "Every page view recorded for it, its members and invitations go with it, and API clients limited to it lose it. This cannot be undone."),
        formAlert(), confirmation.wrapper,
        h("div", { class: "dialog-actions" },
          h("button", { type: "button", class: "button subtle", autofocus: true, onclick: () => close(false) }, "Keep it"),
          submit));
      onSubmit(form, async () => {
        await del(`/api/sites/${site.id}`);
        close(true);
      });
      return form;
    },
  });
}

function siteCard(site) {
  const snippetId = `snippet-${site.id}`;
  const actions = [];
  if (site.role === "owner" || site.role === "admin") {
    actions.push(h("button", { type: "button", class: "button", "aria-label": `Edit ${site.name}`, onclick: async (event) => {
      const updated = await editSite(site);
      if (!updated) return;
      const card = event.target.closest(".site-card");
      const fresh = siteCard(updated);
      card.replaceWith(fresh);
      fresh.querySelector(".site-actions button").focus();
      announce(`${updated.name} saved.`);
    } }, "Edit"));
    actions.push(h("a", { class: "button", href: `/sites/${site.id}/settings/api-clients` },
      "Settings", h("span", { class: "sr-only" }, ` of ${site.name}`)));
  }
  if (site.role === "owner") {
    actions.push(h("button", { type: "button", class: "button danger", "aria-label": `Delete ${site.domain}`, onclick: async (event) => {
      if (!(await deleteSite(site))) return;
      const card = event.target.closest(".site-card");
      const list = card.parentElement;
      card.remove();
      if (!list.children.length) document.querySelector(".empty-state").hidden = false;
      announce(`${site.domain} deleted.`);
    } }, "Delete"));
  }
  return h("li", { class: "card site-card", dataset: { siteId: site.id } },
    h("div", { class: "site-card-head" },
      h("h2", { class: "site-name" }, h("a", { href: `/sites/${site.id}` }, site.name)),
      site.role !== "owner" ? badge(site.role) : null),
    h("p", { class: "site-meta" },
      h("span", { class: "site-domain" }, site.domain), " · ",
      h("span", {}, site.timezone), " · ",
      h("span", {}, `added ${format.date(site.created_at)}`)),
    h("div", { class: "site-actions" },
      h("a", { class: "button primary", href: `/sites/${site.id}` }, "View stats", h("span", { class: "sr-only" }, ` for ${site.name}`)),
      h("details", { class: "snippet-details", id: snippetId },
        h("summary", {}, "Tracking snippet"),
        h("p", {}, "Put this in the ", h("code", {}, "<head>"), ` of every page on ${site.domain}:`),
        copyBox({ label: `Tracking snippet for ${site.domain}`, value: trackerSnippet() })),
      ...actions));
}

export async function render(context) {
  context.setTitle("Sites");
  const sites = await get("/api/sites");
  if (context.signal.aborted) return;

  const list = h("ul", { class: "site-list", "aria-label": "Your sites" }, sites.map(siteCard));
  const empty = h("div", { class: "card empty-state", hidden: sites.length > 0 },
    h("h2", {}, "No sites yet"),
    h("p", {}, "Add the website you want to measure. HitKeep then gives you a one-line snippet for its pages."));
  const result = h("div", { class: "result-panel", "aria-live": "polite" });

  const domain = textField({
    label: "Domain", name: "domain", autocomplete: "off", autocapitalize: "none", spellcheck: "false",
    placeholder: "example.com", required: true, maxLength: 253,
    hint: "The host name your pages are served from, without https:// or www.",
  });
  const name = textField({ label: "Name", name: "name", autocomplete: "off", maxLength: 120, hint: "Optional. Shown in the dashboard; the domain if left empty." });
  const timezone = textField({
    label: "Time zone", name: "timezone", control: timeZoneSelect(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"),
    hint: "Days in reports start at midnight here.",
  });
  const form = h("form", { class: "add-site-form", "aria-labelledby": "add-site-heading" },
    formAlert(),
    h("div", { class: "form-grid" }, domain.wrapper, name.wrapper, timezone.wrapper),
    h("button", { type: "submit", class: "button primary" }, "Add site"));

  onSubmit(form, async (data) => {
    const body = { domain: data.get("domain"), timezone: data.get("timezone") };
    if ((data.get("name") || "").trim()) body.name = data.get("name");
    const site = await post("/api/sites", body);
    form.reset();
    timezone.input.value = site.timezone;
    list.prepend(siteCard(site));
    empty.hidden = true;
    result.replaceChildren(h("div", { class: "card success-panel" },
      h("h3", { tabindex: "-1" }, `${site.name} added`),
      h("p", {}, "Paste this snippet into the ", h("code", {}, "<head>"), ` of every page on ${site.domain}. Page views appear on the stats page within seconds.`),
      copyBox({ label: `Tracking snippet for ${site.domain}`, value: trackerSnippet() }),
      h("p", {}, h("a", { href: `/sites/${site.id}` }, `View stats for ${site.name}`))));
    announce(`${site.name} added. Its tracking snippet is shown below the form.`);
    result.querySelector("h3").focus();
  }, (error) => ({
    invalid_domain: "domain", domain_taken: "domain", invalid_name: "name", invalid_timezone: "timezone",
  })[error.code] || null);

  context.main.append(h("div", { class: "page" },
    h("div", { class: "page-head" }, h("h1", {}, "Sites")),
    context.query.get("welcome") && sites.length === 0
      ? h("p", { class: "notice", role: "status" }, "You are signed in. Add your first site below to start counting page views.") : null,
    empty,
    list,
    h("section", { class: "card add-site", "aria-labelledby": "add-site-heading" },
      h("h2", { id: "add-site-heading" }, "Add a site"),
      form,
      result)));
  if (context.query.get("welcome")) domain.input.focus();
}
