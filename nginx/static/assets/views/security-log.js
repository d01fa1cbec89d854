// Settings → Security log: the account's security events (sign-ins, password and API client
// changes, and changes to the sites the account owns or administers), newest first, from
// GET /api/user/audit-log.

import { get } from "../api.js";
import { h } from "../dom.js";
import * as format from "../format.js";
import { settingsNav } from "./settings-nav.js";

const ACTIONS = {
  "login.succeeded": "Signed in",
  "login.failed": "Failed sign-in attempt",
  logout: "Signed out",
  "password.changed": "Password changed",
  "password.change_failed": "Password change refused: wrong current password",
  "api_client.created": "API client created",
  "api_client.updated": "API client changed",
  "api_client.rotated": "API client token rotated",
  "api_client.deleted": "API client deleted",
  "site.created": "Site created",
  "site.updated": "Site changed",
  "site.deleted": "Site deleted",
  "site.member_invited": "Member invited",
  "site.member_added": "Member joined",
  "site.member_role_changed": "Member's role changed",
  "site.member_removed": "Member removed",
  "site.invitation_withdrawn": "Invitation withdrawn",
};

const PAGE_SIZES = [50, 200, 500];

/** "Chrome on Linux" from a user agent string; the raw string stays available as a tooltip. */
function browserSummary(userAgent) {
  if (!userAgent) return "—";
  const browser = /Edg\//.test(userAgent) ? "Edge" : /OPR\//.test(userAgent) ? "Opera"
    : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? (/HeadlessChrome/.test(userAgent) ? "Headless Chrome" : "Chrome")
      : /Safari\//.test(userAgent) ? "Safari" : /^curl\//.test(userAgent) ? "curl" : /python-requests/.test(userAgent) ? "Python requests" : null;
  const system = /Windows/.test(userAgent) ? "Windows" : /Android/.test(userAgent) ? "Android"
    : /iPhone|iPad/.test(userAgent) ? "iOS" : /Mac OS X/.test(userAgent) ? "macOS" : /Linux/.test(userAgent) ? "Linux" : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || userAgent.slice(0, 40);
}

export async function render(context) {
  context.setTitle("Security log");
  let limit = PAGE_SIZES.includes(Number(context.query.get("limit"))) ? Number(context.query.get("limit")) : PAGE_SIZES[0];
  const [entries, clients] = await Promise.all([get("/api/user/audit-log", { query: { limit } }), get("/api/user/api-clients")]);
  if (context.signal.aborted) return;
  const clientNames = new Map(clients.map((client) => [client.id, client.name]));

  function actor(entry) {
    if (entry.actor.type === "api_client") {
      return `API client ${clientNames.get(entry.actor.id) || "(deleted)"}`;
    }
    if (entry.action === "login.failed") return "Someone with your email";
    return entry.actor.id === context.user.id ? "You" : "A user";
  }

  function subject(entry) {
    if (entry.action.startsWith("site.")) return entry.detail ? `${entry.detail} (site ${entry.site_id})` : `site ${entry.site_id}`;
    if (!entry.target_id) return "—";
    if (entry.action.startsWith("api_client.")) {
      return clientNames.get(entry.target_id) || (entry.detail ? `${entry.detail} (deleted)` : "a deleted API client");
    }
    return entry.target_id;
  }

  const rows = entries.map((entry) => h("tr", { class: entry.action === "login.failed" || entry.action === "password.change_failed" ? "attention" : null },
    h("td", { "data-label": "When" }, h("time", { datetime: entry.at }, format.dateTimeSeconds(entry.at))),
    h("td", { "data-label": "Event" }, ACTIONS[entry.action] || entry.action),
    h("td", { "data-label": "By" }, actor(entry)),
    h("td", { "data-label": "Concerning" }, subject(entry)),
    h("td", { "data-label": "IP address" }, entry.ip || "—"),
    h("td", { "data-label": "Browser", title: entry.user_agent || "" }, browserSummary(entry.user_agent))));

  const more = PAGE_SIZES.find((size) => size > limit);
  context.main.append(h("div", { class: "page" },
    settingsNav("/settings/security"),
    h("h1", {}, "Security log"),
    h("p", { class: "lead" }, "Sign-ins, password changes and API client changes on your account, and changes to the sites you own or administer, newest first. A failed sign-in or password change you do not recognise is a reason to change your password."),
    entries.length === 0 ? h("p", { class: "card empty-state" }, "Nothing recorded yet.")
      : h("div", { class: "card table-card" },
        h("table", { class: "data-table stacked" },
          h("caption", { class: "sr-only" }, `The ${entries.length} most recent security events`),
          h("thead", {}, h("tr", {}, ["When", "Event", "By", "Concerning", "IP address", "Browser"].map((title) => h("th", { scope: "col" }, title)))),
          h("tbody", {}, rows))),
    entries.length === limit && more
      ? h("p", {}, h("a", { class: "button", href: `/settings/security?limit=${more}` }, `Show up to ${more} events`)) : null));
}
