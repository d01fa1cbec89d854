// The Settings section's own navigation.

import { h } from "../dom.js";

const PAGES = [
  ["/settings/api-clients", "API Clients"],
  ["/settings/password", "Password"],
  ["/settings/security", "Security log"],
  ["/settings/token-policy", "Token policy"],
];

export function settingsNav(active) {
  return h("nav", { class: "subnav", "aria-label": "Settings" },
    h("ul", {}, PAGES.map(([href, label]) => h("li", {},
      h("a", { href, "aria-current": href === active ? "page" : null }, label)))));
}
