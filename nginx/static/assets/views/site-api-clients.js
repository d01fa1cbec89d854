// A site's Settings → API Clients: the site's own clients, whose tokens belong to the site rather
// than to a person. The same component as Settings → API Clients, given the site as the owner.

import { get } from "../api.js";
import { h } from "../dom.js";
import { renderClients } from "./api-clients.js";
import { siteSettingsNav } from "./site-settings-nav.js";

export async function render(context) {
  const siteId = context.params.siteId;
  const base = `/api/sites/${siteId}/api-clients`;
  const [site, clients, members] = await Promise.all([get(`/api/sites/${siteId}`), get(base), get(`/api/sites/${siteId}/members`)]);
  if (context.signal.aborted) return;
  context.setTitle(`API Clients · ${site.name}`);
  renderClients(context, clients, {
    base,
    site,
    members,
    nav: siteSettingsNav(site, "api-clients"),
    heading: `API Clients of ${site.name}`,
    lead: ["Tokens that belong to ", h("strong", {}, site.domain), " rather than to you: each reaches this site only, within its scopes, ",
      "and keeps working when whoever created it leaves the team. Each is sent as ",
      h("code", {}, "Authorization: Bearer <token>"), " and can be revoked on its own."],
  });
}
