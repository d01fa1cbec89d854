// The dashboard: a small client-side router over real URLs (nginx answers every non-file path
// with index.html), the signed-in person, the top navigation, and the way back to sign-in when
// a session ends in the middle of use.

import { get, post } from "./api.js";
import { h, announce } from "./dom.js";
import * as setupView from "./views/setup.js";
import * as loginView from "./views/login.js";
import * as sitesView from "./views/sites.js";
import * as statsView from "./views/stats.js";
import * as breakdownView from "./views/breakdown.js";
import * as apiClientsView from "./views/api-clients.js";
import * as siteAPIClientsView from "./views/site-api-clients.js";
import * as passwordView from "./views/password.js";
import * as securityLogView from "./views/security-log.js";
import * as tokenPolicyView from "./views/token-policy.js";
import * as apiReferenceView from "./views/api-reference.js";

const routes = [
  { pattern: /^\/$/, redirect: "/sites" },
  { pattern: /^\/index\.html$/, redirect: "/sites" },
  { pattern: /^\/login(?:\.html)?$/, view: loginView, public: true },
  { pattern: /^\/setup(?:\.html)?$/, view: setupView, public: true },
  { pattern: /^\/sites\/?$/, view: sitesView, section: "sites" },
  { pattern: /^\/sites\/(?<siteId>[0-9A-Za-z]{26})\/?$/, view: statsView, section: "sites" },
  { pattern: /^\/sites\/(?<siteId>[0-9A-Za-z]{26})\/breakdown\/(?<dimension>[a-z_]+)\/?$/, view: breakdownView, section: "sites" },
  { pattern: /^\/sites\/(?<siteId>[0-9A-Za-z]{26})\/settings\/api-clients\/?$/, view: siteAPIClientsView, section: "sites" },
  { pattern: /^\/settings\/?$/, redirect: "/settings/api-clients" },
  { pattern: /^\/settings\/api-clients\/?$/, view: apiClientsView, section: "settings" },
  { pattern: /^\/settings\/password\/?$/, view: passwordView, section: "settings" },
  { pattern: /^\/settings\/security\/?$/, view: securityLogView, section: "settings" },
  { pattern: /^\/settings\/token-policy\/?$/, view: tokenPolicyView, section: "settings" },
  // Open: readable signed out too (the document is public), with the navigation when signed in.
  { pattern: /^\/api-reference\/?$/, view: apiReferenceView, section: "api", open: true },
];

const session = {
  user: null,
  // Where `hitkeep:unauthenticated` already sent the person, so a burst of 401s redirects once.
  redirecting: false,
};

let current = null; // { controller, cleanup }
let firstRender = true;

/** A `next` value that is a path on this origin (never another site, never the sign-in page). */
export function safeNext(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  try {
    const url = new URL(value, window.location.origin);
    if (url.origin !== window.location.origin) return null;
    if (/^\/(login|setup)(\.html)?$/.test(url.pathname)) return null;
    return url.pathname + url.search + url.hash;
  } catch (error) {
    return null;
  }
}

function here() {
  return window.location.pathname + window.location.search + window.location.hash;
}

export function signInUrl(reason) {
  const next = safeNext(here());
  const query = new URLSearchParams();
  if (next && next !== "/" && next !== "/sites") query.set("next", next);
  if (reason) query.set("reason", reason);
  const text = query.toString();
  return `/login${text ? `?${text}` : ""}`;
}

export function navigate(url, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  render();
}

/** The person signed in, or null: asks the API once and remembers. */
async function currentUser() {
  if (session.user) return session.user;
  try {
    session.user = await get("/api/user", { expectSignedOut: true });
  } catch (error) {
    if (error.status !== 401) throw error;
    session.user = null;
  }
  return session.user;
}

export function setSignedIn(user) {
  session.user = user;
  session.redirecting = false;
}

async function signOut() {
  try {
    await post("/api/logout", undefined, { expectSignedOut: true });
  } catch (error) {
    // Signed out already (401) or the server is away: the local state is cleared all the same.
  }
  session.user = null;
  navigate("/login?reason=signed-out");
}

function renderNav(route) {
  const nav = document.getElementById("topnav");
  nav.replaceChildren();
  if (route.public || !session.user) {
    nav.hidden = true;
    return;
  }
  const link = (href, label, section) => h("a", {
    href, class: "topnav-link", "aria-current": route.section === section ? "page" : null,
  }, label);
  nav.append(
    h("ul", { class: "topnav-links" },
      h("li", {}, link("/sites", "Sites", "sites")),
      h("li", {}, link("/settings/api-clients", "Settings", "settings")),
      h("li", {}, link("/api-reference", "API", "api"))),
    h("div", { class: "topnav-user" },
      h("span", { class: "topnav-email", title: session.user.email }, session.user.email),
      h("button", { type: "button", class: "button subtle", onclick: signOut }, "Sign out")),
  );
  nav.hidden = false;
}

function match(pathname) {
  for (const route of routes) {
    const found = route.pattern.exec(pathname);
    if (found) return { route, params: found.groups || {} };
  }
  return null;
}

function notFoundView(context) {
  context.setTitle("Page not found");
  context.main.append(h("div", { class: "page narrow" },
    h("h1", { tabindex: "-1" }, "Page not found"),
    h("p", {}, "There is nothing at this address."),
    h("p", {}, h("a", { href: "/sites" }, "Go to your sites"))));
}

async function render() {
  if (current) {
    current.controller.abort();
    if (current.cleanup) current.cleanup();
  }
  const controller = new AbortController();
  current = { controller, cleanup: null };
  const main = document.getElementById("main");
  const url = new URL(window.location.href);
  const matched = match(url.pathname);

  if (matched && matched.route.redirect) {
    window.history.replaceState(null, "", matched.route.redirect);
    return render();
  }

  main.setAttribute("aria-busy", "true");
  try {
    if (matched && matched.route.open) {
      await currentUser();
      if (controller.signal.aborted) return;
    } else if (matched && !matched.route.public) {
      const user = await currentUser();
      if (controller.signal.aborted) return;
      if (!user) {
        const status = await get("/api/status", { expectSignedOut: true });
        if (controller.signal.aborted) return;
        navigate(status.needs_setup ? "/setup" : signInUrl(), { replace: true });
        return;
      }
    }
    session.redirecting = false;
    const route = matched ? matched.route : { section: null, public: !session.user };
    renderNav(route);
    main.replaceChildren();
    const context = {
      main,
      params: matched ? matched.params : {},
      query: url.searchParams,
      user: session.user,
      signal: controller.signal,
      navigate,
      setSignedIn,
      safeNext,
      setTitle(title) {
        document.title = `${title} · HitKeep`;
      },
    };
    const view = matched ? matched.route.view : { render: notFoundView };
    const cleanup = await view.render(context);
    if (typeof cleanup === "function") {
      if (controller.signal.aborted) cleanup();
      else current.cleanup = cleanup;
    }
  } catch (error) {
    if (controller.signal.aborted || (error && error.handled)) return;
    console.error(error);
    main.replaceChildren(h("div", { class: "page narrow" },
      h("h1", { tabindex: "-1" }, "Something went wrong"),
      h("p", { class: "form-alert", role: "alert" }, (error && error.detail) || String(error)),
      h("p", {}, h("button", { type: "button", class: "button", onclick: () => render() }, "Try again"))));
  } finally {
    if (!controller.signal.aborted) {
      main.removeAttribute("aria-busy");
      // After a navigation (not the first load), move focus to the new page's heading so that
      // keyboard and screen-reader users start there, and say which page it is.
      if (!firstRender) {
        const heading = main.querySelector("h1");
        if (heading) {
          if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
          heading.focus({ preventScroll: false });
        }
        announce(document.title.replace(/ · HitKeep$/, ""));
      }
      firstRender = false;
    }
  }
  return undefined;
}

// Internal links move within the app without reloading it.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/api/") || /\.[a-z0-9]+$/i.test(url.pathname) && !/\.html$/.test(url.pathname)) return;
  event.preventDefault();
  if (url.pathname + url.search === window.location.pathname + window.location.search && url.hash) {
    window.location.hash = url.hash;
    return;
  }
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener("popstate", () => render());

// Any API call answered 401 on a signed-in page: the session ended (expired, signed out
// elsewhere, password changed on another device). Back to sign-in, remembering where they were.
window.addEventListener("hitkeep:unauthenticated", () => {
  const matched = match(window.location.pathname);
  if (session.redirecting || (matched && matched.route.public)) return;
  session.redirecting = true;
  session.user = null;
  navigate(signInUrl("expired"), { replace: true });
});

render();
