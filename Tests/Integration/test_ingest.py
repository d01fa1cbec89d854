"""Ingestion (API.md §5.1–5.2, issue 5): the tracker's POST /ingest and the server-side
POST /api/ingest/server/pageview, through nginx to the pool and PostgreSQL.

Every bad input is a clear 4xx that stores nothing; what is stored holds no IP address and no user
agent; a 202 means the row is committed.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import requests

from accounts import (Api, assert_json, assert_problem, people, start_pool, unique,  # noqa: F401 (people: a fixture)
                      unique_domain)
from stack import REQUEST_TIMEOUT, http_session, loopback_address_works, wait_until

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.1 Mobile/15E148 Safari/604.1")
EVENT_COLUMNS = ("path, referrer_host, referrer_url, device, browser, os, country, language, utm_source, utm_medium, "
                 "utm_campaign, utm_term, utm_content, session_id")


def track(stack, origin, body, *, user_agent=CHROME_WINDOWS, headers=None, content_type="text/plain"):
    """POST /ingest as a browser would (sendBeacon: text/plain)."""
    sent = {"Content-Type": content_type, "User-Agent": user_agent}
    if origin is not None:
        sent["Origin"] = origin
    sent.update(headers or {})
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(stack.base_url + "/ingest", data=data, headers=sent, timeout=REQUEST_TIMEOUT)


# Every stored page view: those the roll-up has moved into `events`, then those still queued
# (migrations/0008), in the order they arrived. The two tables have the same columns.
STORED_EVENTS = "(SELECT 0 AS queued, * FROM events UNION ALL SELECT 1, * FROM event_queue) AS stored"


def events_of(stack, site_id, columns=EVENT_COLUMNS):
    return stack.sql(f"SELECT {columns} FROM {STORED_EVENTS} WHERE site_id = '{site_id}' ORDER BY queued, id")


def event_count(stack, site_id=None):
    where = f"WHERE site_id = '{site_id}'" if site_id else ""
    return int(stack.sql(f"SELECT count(*) FROM {STORED_EVENTS} {where}")[0][0])


@pytest.fixture
def site(people):
    api = people.new()
    created = api.create_site(timezone="Europe/Berlin")
    return api, created


# --- the tracker ----------------------------------------------------------------------------------

def test_tracker_event_is_committed_with_only_coarse_fields(stack, site):
    api, created = site
    origin = "https://www." + created["domain"]
    response = track(stack, origin, {
        "path": "/pricing?plan=pro#faq", "referrer": "https://www.Google.com/search?q=private+words",
        "session_id": "Sess-1_abc", "page_id": "p1", "lang": "de-de", "vp_w": 1280, "vp_h": 800,
        "u_src": "newsletter", "u_med": "email", "u_cmp": "november", "u_trm": "analytics", "u_cnt": "header",
    }, headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 202, response.text
    assert response.headers["Access-Control-Allow-Origin"] == origin
    # 202 means committed: the row is there for any other connection at once.
    rows = events_of(stack, created["id"])
    assert rows == [("/pricing", "google.com", "https://www.google.com/search", "desktop", "Chrome", "Windows", "",
                     "de-DE", "newsletter", "email", "november", "analytics", "header", "Sess-1_abc")]
    # Nothing identifying: no address, no user agent, no query string.
    stored = " ".join(str(value) for row in stack.sql(f"SELECT stored::text FROM {STORED_EVENTS} WHERE site_id = '{created['id']}'")
                      for value in row)
    for secret in ("127.0.0.1", "203.0.113.9", "Mozilla", "AppleWebKit", "private", "plan=pro"):
        assert secret not in stored
    columns = {row[0] for row in stack.sql("SELECT column_name FROM information_schema.columns "
                                                 "WHERE table_name IN ('events', 'event_queue')")}
    assert not {"ip", "ip_address", "user_agent", "remote_addr"} & columns


def test_page_views_leave_no_visitor_address_in_the_nginx_access_log(stack, site):
    _, created = site
    probe = unique("probe")
    response = track(stack, "https://" + created["domain"], {"path": "/", "session_id": probe},
                     headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.status_code == 202
    # A request logged after it: once its line is there, the page view's would be too.
    assert requests.get(f"{stack.base_url}/api/health?{probe}", timeout=REQUEST_TIMEOUT).status_code == 200

    def access_log():
        text = stack.nginx.access_log.read_text()
        return text if probe in text else None

    log = wait_until(access_log, 5, "the later request is not in nginx's access log")
    assert not re.search(r'"[A-Z]+ /ingest[ ?]', log) and "203.0.113.7" not in log


def test_self_referrals_and_a_client_sent_country_are_not_stored(stack, site):
    _, created = site
    origin = "https://" + created["domain"]
    response = track(stack, origin, {"path": "/docs", "referrer": f"https://www.{created['domain']}/", "session_id": "s2"},
                     headers={"X-Country": "FR"})
    assert response.status_code == 202
    # nginx owns X-Country: a visitor cannot choose the country counted for them.
    assert events_of(stack, created["id"], "referrer_host, country") == [("", "")]


def test_countries_come_from_nginxs_geoip_lookup_and_a_trusted_proxy_only(stack, site):
    # A proxy in front of nginx at 127.0.0.3, named with geoip_proxy as a deployment behind a load
    # balancer would; 81.169.145.10 is a German address in Debian's GeoIP database.
    _, created = site
    if not loopback_address_works("127.0.0.3"):
        pytest.skip("this machine cannot send from 127.0.0.3")
    nginx = stack.start_nginx([stack.pool.upstream], http_directives=["geoip_proxy 127.0.0.3;"])
    origin = "https://" + created["domain"]

    def track_from(address: str, session: str, forwarded_for: str):
        return http_session(source_address=address).post(nginx.base_url + "/ingest", data=json.dumps({"path": "/", "session_id": session}),
                           headers={"Origin": origin, "Content-Type": "text/plain", "User-Agent": CHROME_WINDOWS,
                                    "X-Forwarded-For": forwarded_for, "X-Country": "FR"}, timeout=REQUEST_TIMEOUT)

    assert track_from("127.0.0.3", "via-proxy", "81.169.145.10").status_code == 202
    assert track_from("127.0.0.1", "not-a-proxy", "81.169.145.10").status_code == 202
    assert events_of(stack, created["id"], "session_id, country") == [("via-proxy", "DE"), ("not-a-proxy", "")]
    # Only the code is kept: no address anywhere in the database.
    assert stack.sql(f"""SELECT count(*) FROM (SELECT row_to_json(e)::text AS j FROM events e WHERE site_id = '{created["id"]}'
                         UNION ALL SELECT row_to_json(q)::text FROM event_queue q WHERE site_id = '{created["id"]}') AS stored
                         WHERE j LIKE '%81.169%'""") == [("0",)]


def test_preflight_reflects_the_origin(stack, site):
    _, created = site
    origin = "https://" + created["domain"]
    response = requests.options(stack.base_url + "/ingest", timeout=REQUEST_TIMEOUT, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert response.content == b""


def test_application_json_is_accepted_too(stack, site):
    _, created = site
    response = track(stack, "https://" + created["domain"], {"path": "/", "session_id": "json1"},
                     content_type="application/json")
    assert response.status_code == 202
    assert event_count(stack, created["id"]) == 1


@pytest.mark.parametrize("case", ["unknown site", "bot", "prefetch", "purpose", "headless"])
def test_unknown_sites_bots_and_prefetches_are_accepted_and_dropped(stack, site, case):
    _, created = site
    origin = "https://" + created["domain"]
    user_agent, headers = CHROME_WINDOWS, {}
    if case == "unknown site":
        origin = "https://" + unique_domain("nobody")
    elif case == "bot":
        user_agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    elif case == "prefetch":
        headers = {"Sec-Purpose": "prefetch;prerender"}
    elif case == "purpose":
        headers = {"Purpose": "prefetch"}
    else:
        user_agent = CHROME_WINDOWS.replace("Chrome/", "HeadlessChrome/")
    before = event_count(stack)
    response = track(stack, origin, {"path": "/", "session_id": "dropped"}, user_agent=user_agent, headers=headers)
    assert response.status_code == 202, response.text
    assert event_count(stack) == before
    # Answered like an accepted one, but the reason is there for a developer to read, also from a
    # page's script on the site's origin.
    reason = {"unknown site": "unknown-origin", "bot": "bot", "headless": "bot"}.get(case, "prefetch")
    assert response.headers["HitKeep-Dropped"] == reason
    assert response.headers["Access-Control-Expose-Headers"] == "HitKeep-Dropped"
    assert response.headers["Access-Control-Allow-Origin"] == origin


def test_a_stored_page_view_carries_no_drop_reason(stack, site):
    _, created = site
    response = track(stack, "https://" + created["domain"], {"path": "/", "session_id": "kept"})
    assert response.status_code == 202
    assert "HitKeep-Dropped" not in response.headers and "Access-Control-Expose-Headers" not in response.headers


@pytest.mark.parametrize("origin", [None, "", "null", "garbage", "example.com", "ftp://example.com",
                                    "https://example.com/path", "https://"])
def test_missing_or_garbage_origin_is_400(stack, site, origin):
    _, created = site
    before = event_count(stack)
    response = track(stack, origin, {"path": "/", "session_id": "abc"})
    assert_problem(response, 400, "invalid_origin")
    assert event_count(stack) == before


@pytest.mark.parametrize("body, status, code", [
    (b"", 400, "invalid_json"),
    (b"not json", 400, "invalid_json"),
    (b"[1, 2]", 400, "invalid_json"),
    (b'{"path": "/", "session_id": "abc"', 400, "invalid_json"),
    ({"path": 5, "session_id": "abc"}, 400, "invalid_json"),
    ({"path": "/", "session_id": 12345}, 400, "invalid_json"),
    ({"path": "/", "session_id": "abc", "vp_w": "wide"}, 400, "invalid_json"),
    ({"path": "/", "session_id": "abc", "ip": "1.2.3.4"}, 400, "invalid_json"),
    ({"session_id": "abc"}, 400, "invalid_path"),
    ({"path": "no-slash", "session_id": "abc"}, 400, "invalid_path"),
    ({"path": "/" + "a" * 10_000, "session_id": "abc"}, 413, "payload_too_large"),
    ({"path": "/" + "a" * 5000, "session_id": "abc"}, 400, "invalid_path"),
    ({"path": "/a\u0001b", "session_id": "abc"}, 400, "invalid_path"),
    ({"path": "/"}, 400, "invalid_session_id"),
    ({"path": "/", "session_id": ""}, 400, "invalid_session_id"),
    ({"path": "/", "session_id": "has space"}, 400, "invalid_session_id"),
    ({"path": "/", "session_id": "x" * 65}, 400, "invalid_session_id"),
    ({"path": "/", "session_id": "'; DROP TABLE events; --"}, 400, "invalid_session_id"),
    ({"path": "/", "session_id": "abc", "referrer": "not a url"}, 400, "invalid_referrer"),
    ({"path": "/", "session_id": "abc", "lang": "not a language"}, 400, "invalid_language"),
    ({"path": "/", "session_id": "abc", "vp_w": -1}, 400, "invalid_viewport"),
    ({"path": "/", "session_id": "abc", "u_src": "x" * 300}, 400, "invalid_utm"),
    ({"path": "/", "session_id": "abc", "page_id": "bad id!"}, 400, "invalid_page_id"),
])
def test_bad_tracker_bodies_are_4xx_and_store_nothing(stack, site, body, status, code):
    _, created = site
    origin = "https://" + created["domain"]
    response = track(stack, origin, body)
    assert_problem(response, status, code)
    # The browser may read the refusal: it names its origin.
    assert response.headers.get("Access-Control-Allow-Origin") == origin
    assert event_count(stack, created["id"]) == 0


def test_bodies_over_8_kib_are_refused(stack, site):
    _, created = site
    body = json.dumps({"path": "/", "session_id": "abc", "u_cnt": "x" * 200}).encode()
    padded = body[:-1] + b" " * (8 * 1024 - len(body)) + b"}"
    assert len(padded) == 8 * 1024
    assert track(stack, "https://" + created["domain"], padded).status_code == 202
    assert_problem(track(stack, "https://" + created["domain"], padded[:-1] + b" }"), 413, "payload_too_large")
    assert event_count(stack, created["id"]) == 1


def test_ingest_is_503_when_the_database_cannot_commit(stack):
    # A pool whose database does not exist: every commit fails, and nothing is acknowledged.
    pool = start_pool(stack, database_url=stack.cluster.url(unique("missing_"), user="hitkeep"), workers=1)
    nginx = stack.start_nginx([pool.upstream])
    response = requests.post(nginx.base_url + "/ingest", data=json.dumps({"path": "/", "session_id": "abc"}),
                             headers={"Origin": "https://example.com", "Content-Type": "text/plain",
                                      "User-Agent": CHROME_WINDOWS}, timeout=REQUEST_TIMEOUT)
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "1"


def test_only_post_and_options(stack):
    response = requests.get(stack.base_url + "/ingest", timeout=REQUEST_TIMEOUT)
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}


def test_tracker_script_is_served(stack):
    response = requests.get(stack.base_url + "/hk.js", timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    script = response.text
    assert "/ingest" in script and "sessionStorage" in script and "doNotTrack" in script
    assert "document.cookie" not in script
    assert len(response.content) < 8 * 1024


# --- server-side ----------------------------------------------------------------------------------

def ingest_token(api, **fields):
    return api.create_client(scopes=["ingest:write"], **fields)["token"]


def server_pageview(api, body):
    return api.post("/api/ingest/server/pageview", json=body)


def test_server_pageview_takes_path_and_campaign_from_the_url(stack, site):
    api, created = site
    bearer = api.with_token(ingest_token(api))
    when = "2025-03-01T12:34:56.789Z"
    response = server_pageview(bearer, {
        "site_id": created["id"], "url": "https://example.org/landing/page?utm_source=partner&utm_medium=referral"
        "&utm_campaign=spring&utm_term=t&utm_content=c&other=1",
        "user_agent": SAFARI_IPHONE, "referrer": "https://news.ycombinator.com/item?id=1",
        "session_id": "backend-42", "timestamp": when})
    assert assert_json(response, 202) == {"status": "accepted"}
    assert events_of(stack, created["id"]) == [(
        "/landing/page", "news.ycombinator.com", "https://news.ycombinator.com/item", "mobile", "Safari", "iOS", "",
        "", "partner", "referral", "spring", "t", "c", "backend-42")]
    assert stack.sql(f"SELECT occurred_at = '{when}' FROM {STORED_EVENTS} WHERE site_id = '{created['id']}'") == [("t",)]


def test_server_pageviews_without_session_id_are_sessions_of_their_own(stack, site):
    api, created = site
    for _ in range(3):
        assert server_pageview(api, {"site_id": created["id"], "url": "https://example.org/",
                                     "user_agent": CHROME_WINDOWS}).status_code == 202
    sessions = {row[0] for row in events_of(stack, created["id"], "session_id")}
    assert len(sessions) == 3


def test_server_pageview_accepts_the_distant_past_and_a_little_future(stack, site):
    api, created = site
    now = dt.datetime.now(dt.timezone.utc)
    for when in ("2001-01-01T00:00:00Z", (now + dt.timedelta(minutes=4)).isoformat()):
        response = server_pageview(api, {"site_id": created["id"], "url": "https://example.org/",
                                         "user_agent": CHROME_WINDOWS, "timestamp": when})
        assert response.status_code == 202, response.text
    assert event_count(stack, created["id"]) == 2


@pytest.mark.parametrize("change, code", [
    ({"url": "/relative"}, "invalid_url"),
    ({"url": "ftp://example.org/file"}, "invalid_url"),
    ({"url": "not a url at all"}, "invalid_url"),
    ({"url": "https://example.org/" + "a" * 5000}, "invalid_url"),
    ({"url": None}, "invalid_url"),
    ({"user_agent": None}, "invalid_user_agent"),
    ({"user_agent": "x" * 3000}, "invalid_user_agent"),
    ({"timestamp": "yesterday"}, "invalid_timestamp"),
    ({"timestamp": "2026-02-30T00:00:00Z"}, "invalid_timestamp"),
    ({"timestamp": "FUTURE"}, "invalid_timestamp"),
    ({"session_id": "no spaces allowed"}, "invalid_session_id"),
    ({"referrer": "javascript:alert(1)"}, "invalid_referrer"),
    ({"url": "https://example.org/?utm_source=" + "x" * 300}, "invalid_utm"),
    ({"ip": "1.2.3.4"}, "invalid_json"),
    ({"timestamp": 1700000000}, "invalid_json"),
    ({"site_id": None}, "invalid_site_id"),
])
def test_bad_server_pageviews_are_400_and_store_nothing(stack, site, change, code):
    api, created = site
    body = {"site_id": created["id"], "url": "https://example.org/", "user_agent": CHROME_WINDOWS}
    if change.get("timestamp") == "FUTURE":
        change = {"timestamp": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)).isoformat()}
    body.update(change)
    body = {key: value for key, value in body.items() if value is not None}
    assert_problem(server_pageview(api, body), 400, code)
    assert event_count(stack, created["id"]) == 0


@pytest.mark.parametrize("site_id", ["not-a-ulid", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "'; DROP TABLE sites; --"])
def test_server_pageview_for_an_unknown_site_is_404(stack, site, site_id):
    api, _ = site
    response = server_pageview(api, {"site_id": site_id, "url": "https://example.org/", "user_agent": CHROME_WINDOWS})
    assert_problem(response, 404, "not_found")


def test_server_pageview_needs_ingest_write_and_access_to_the_site(stack, site, people):
    api, created = site
    body = {"site_id": created["id"], "url": "https://example.org/", "user_agent": CHROME_WINDOWS}
    assert_problem(Api(stack.base_url).post("/api/ingest/server/pageview", json=body), 401)
    reader = api.with_token(api.create_client(scopes=["stats:read"])["token"])
    assert_problem(server_pageview(reader, body), 403, "insufficient_scope")
    other_site = api.create_site()
    restricted = api.with_token(ingest_token(api, site_ids=[other_site["id"]]))
    assert_problem(server_pageview(restricted, body), 404, "not_found")
    stranger = people.new()
    assert_problem(server_pageview(stranger, body), 404, "not_found")
    assert event_count(stack, created["id"]) == 0
    assert server_pageview(restricted, {**body, "site_id": other_site["id"]}).status_code == 202
