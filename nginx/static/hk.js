/* HitKeep tracker: <script defer src="https://stats.example.com/hk.js"></script>
 * One page view per page (and per client-side navigation) to the server the script came from.
 * No cookies, nothing stored but a random session id in sessionStorage (gone with the tab);
 * nothing is sent when the browser asks not to be tracked (Do Not Track / Global Privacy Control). */
(function () {
  "use strict";
  var w = window, d = document, n = navigator, l = location;
  if (n.doNotTrack === "1" || w.doNotTrack === "1" || n.msDoNotTrack === "1" || n.globalPrivacyControl === true) return;
  if (n.webdriver) return; // automated browsers are not visitors
  var script = d.currentScript || d.querySelector('script[src$="/hk.js"]');
  if (!script) return;
  var endpoint = new URL("/ingest", script.src).href;

  function randomId(length) {
    var alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", out = "";
    var bytes = new Uint8Array(length);
    (w.crypto || w.msCrypto).getRandomValues(bytes);
    for (var i = 0; i < length; i++) out += alphabet[bytes[i] % 62];
    return out;
  }

  function sessionId() {
    try {
      var id = w.sessionStorage.getItem("hk_sid");
      if (!id || !/^[0-9A-Za-z]{22}$/.test(id)) {
        id = randomId(22);
        w.sessionStorage.setItem("hk_sid", id);
      }
      return id;
    } catch (e) {
      // Storage disabled: one session per page load is the best that can be done without cookies.
      return sessionId.fallback || (sessionId.fallback = randomId(22));
    }
  }

  var lastPath = null, lastReferrer = d.referrer;

  function send() {
    var path = l.pathname;
    if (path === lastPath) return; // hash changes and replaceState to the same page are not page views
    var referrer = lastPath === null ? lastReferrer : "";
    lastPath = path;
    var query = new URLSearchParams(l.search), event = {
      path: path,
      referrer: referrer,
      session_id: sessionId(),
      page_id: randomId(16),
      lang: n.language || "",
      vp_w: Math.round(w.innerWidth || 0),
      vp_h: Math.round(w.innerHeight || 0)
    };
    var utm = { u_src: "utm_source", u_med: "utm_medium", u_cmp: "utm_campaign", u_trm: "utm_term", u_cnt: "utm_content" };
    for (var key in utm) {
      var value = query.get(utm[key]);
      if (value) event[key] = value.slice(0, 256);
    }
    var body = JSON.stringify(event);
    // text/plain keeps the request "simple": no CORS preflight, and sendBeacon accepts it.
    if (n.sendBeacon && n.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    if (w.fetch) {
      fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit",
                        headers: { "Content-Type": "text/plain" } }).catch(function () {});
    }
  }

  // Single-page apps change the URL with the History API; each change of path is a page view.
  var pushState = history.pushState;
  history.pushState = function () {
    var result = pushState.apply(this, arguments);
    send();
    return result;
  };
  w.addEventListener("popstate", send);

  // A prerendered page counts once it is actually shown.
  if (d.prerendering) {
    d.addEventListener("prerenderingchange", send, { once: true });
  } else {
    send();
  }
})();
