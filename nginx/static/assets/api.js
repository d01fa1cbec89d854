// The JSON API (docs/API.md), called with the session cookie: same origin, so the browser sends
// hk_token by itself and the Origin header that passes the server's CSRF check.

const REQUEST_TIMEOUT_MS = 20000;

/** An RFC 9457 problem document from the API, or a network failure dressed as one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `request failed with status ${status}`);
    this.status = status;
    this.code = problem.code || "error";
    this.detail = problem.detail || this.message;
    // Set when the error has been dealt with already (the session ended and sign-in is showing).
    this.handled = false;
  }
}

function queryString(query) {
  if (!query) return "";
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) parameters.append(key, String(item));
  }
  const text = parameters.toString();
  return text ? `?${text}` : "";
}

/**
 * Calls the API. Resolves with the parsed JSON (null for 204), rejects with ApiError.
 * A 401 on a signed-in page means the session ended: unless `expectSignedOut` is set, the app is
 * told (event `hitkeep:unauthenticated`) and sends the person to sign in, then back here.
 * `cache: "default"` lets the browser answer from its cache what the server marked cacheable.
 */
export async function api(method, path, { body, query, expectSignedOut = false, cache = "no-store" } = {}) {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path + queryString(query), {
      method,
      headers: body === undefined ? { Accept: "application/json" }
        : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache,
      signal: controller.signal,
    });
  } catch (error) {
    const timedOut = error && error.name === "AbortError";
    throw new ApiError(0, {
      code: timedOut ? "timeout" : "network_error",
      detail: timedOut ? "The server took too long to answer. Try again."
        : "Could not reach the HitKeep server. Check your connection and try again.",
    });
  } finally {
    window.clearTimeout(timer);
  }

  let payload = null;
  const text = response.status === 204 ? "" : await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch (error) {
      payload = null;
    }
  }
  if (response.ok) return payload;

  const problem = payload && typeof payload === "object" ? payload
    : { detail: `The server answered ${response.status} ${response.statusText}.` };
  const failure = new ApiError(response.status, problem);
  if (response.status === 401 && !expectSignedOut) {
    failure.handled = true;
    window.dispatchEvent(new CustomEvent("hitkeep:unauthenticated"));
  }
  throw failure;
}

export const get = (path, options) => api("GET", path, options);
export const post = (path, body, options) => api("POST", path, { ...options, body });
export const put = (path, body, options) => api("PUT", path, { ...options, body });
export const del = (path, options) => api("DELETE", path, options);
