// A site's settings: its own navigation, under the site's name, for its owners and admins.

import { h } from "../dom.js";

const PAGES = [
  ["api-clients", "API Clients"],
];

export function siteSettingsNav(site, active) {
  return h("nav", { class: "subnav", "aria-label": `Settings of ${site.name}` },
    h("ul", {},
      h("li", {}, h("a", { href: `/sites/${site.id}` }, `← ${site.name}`)),
      PAGES.map(([page, label]) => h("li", {},
        h("a", { href: `/sites/${site.id}/settings/${page}`, "aria-current": page === active ? "page" : null }, label)))));
}
