"""No silent drops and development sites (issue 18, items 1 and 2), through nginx to the pool and
PostgreSQL: a page view that is answered 202 and not stored says why (`HitKeep-Dropped`) and is
counted where the site's owner sees it (`GET /api/sites/{id}/dropped`); a `localhost` site takes
page views from any port; a subdomain counts for its registered parent unless it is a site itself,
and the event keeps the host it came from.

The module runs on a database of its own: the instance's own counter and the one `localhost` site
are instance-wide.
"""

from __future__ import annotations

import json
import math
import time

import pytest
import requests

from accounts import assert_json, assert_problem, lasting_deployment, unique_domain
from stack import REQUEST_TIMEOUT, wait_until

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
WORKERS = 2


@pytest.fixture(scope="module")
def deployed(stack):
    with lasting_deployment(stack, "hk_dropped_", workers=WORKERS) as deployment:
        yield deployment
        deployment.people.cleanup()


@pytest.fixture(scope="module")
def owner(deployed):
    return deployed.people.new()


def track(deployed, origin, session="s1", path="/", user_agent=CHROME):
    return requests.post(deployed.base_url + "/ingest", data=json.dumps({"path": path, "session_id": session}),
                         headers={"Origin": origin, "Content-Type": "text/plain", "User-Agent": user_agent},
                         timeout=REQUEST_TIMEOUT)


def stored(deployed, site_id):
    """(path, hostname) of the site's page views, queued or folded, in arrival order."""
    return deployed.sql(f"SELECT path, hostname FROM (SELECT 0 AS q, * FROM events UNION ALL SELECT 1, * FROM event_queue) e "
                        f"WHERE site_id = '{site_id}' ORDER BY q, id")


def dropped(api, site_id):
    return assert_json(api.get(f"/api/sites/{site_id}/dropped"))


def today_counts(api, site_id):
    body = dropped(api, site_id)
    days = {day["date"]: day for day in body["days"]}
    return days.get(body["today"], {"unknown_origin": 0, "bot": 0, "prefetch": 0, "total": 0})


def wait_for_counts(api, site_id, expected):
    """Workers write their counts between requests (at most once a second each), so a count shows
    up shortly after the 202: wait for it, then it must be exactly this."""
    wait_until(lambda: today_counts(api, site_id)["total"] >= sum(expected.values()), 15, "dropped page views counted")
    counts = today_counts(api, site_id)
    assert {reason: counts[reason] for reason in ("unknown_origin", "bot", "prefetch")} == \
        {"unknown_origin": 0, "bot": 0, "prefetch": 0, **expected}
    assert counts["total"] == sum(expected.values())


def instance_counts(deployed, reason):
    rows = deployed.sql(f"SELECT coalesce(sum(page_views), 0) FROM dropped_page_views WHERE site_id IS NULL AND reason = '{reason}'")
    return int(rows[0][0])


# --- item 1: no silent drops ------------------------------------------------------------------------

def test_a_quiet_site_has_no_drops_and_says_which_day_is_today(deployed, owner):
    site = owner.create_site(timezone="Pacific/Kiritimati")
    body = dropped(owner, site["id"])
    assert body["site_id"] == site["id"] and body["days"] == []
    # Today is the site's calendar day (UTC+14 here), not the server's.
    today = deployed.sql("SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date::text")[0][0]
    assert body["today"] == today


def test_bots_and_prefetches_of_a_site_are_counted_for_it(deployed, owner):
    site = owner.create_site()
    origin = "https://www." + site["domain"] + ":8443"
    for session in ("b1", "b2", "b3"):
        response = track(deployed, origin, session, user_agent=GOOGLEBOT)
        assert response.status_code == 202 and response.headers["HitKeep-Dropped"] == "bot"
    prefetch = requests.post(deployed.base_url + "/ingest", data=json.dumps({"path": "/", "session_id": "p1"}),
                             headers={"Origin": origin, "User-Agent": CHROME, "Sec-Purpose": "prefetch"},
                             timeout=REQUEST_TIMEOUT)
    assert prefetch.status_code == 202 and prefetch.headers["HitKeep-Dropped"] == "prefetch"
    wait_for_counts(owner, site["id"], {"bot": 3, "prefetch": 1})
    assert stored(deployed, site["id"]) == []


def test_server_side_bots_are_counted_for_their_site(deployed, owner):
    site = owner.create_site()
    response = owner.post("/api/ingest/server/pageview", json={
        "site_id": site["id"], "url": f"https://{site['domain']}/", "user_agent": "curl/8.5.0"})
    assert response.status_code == 202 and response.headers["HitKeep-Dropped"] == "bot"
    wait_for_counts(owner, site["id"], {"bot": 1})


def test_an_unknown_origin_counts_for_the_one_site_it_is_the_parent_of(deployed, owner):
    parent = unique_domain("parent")
    site = owner.create_site("shop." + parent)
    response = track(deployed, "https://" + parent)
    assert response.status_code == 202 and response.headers["HitKeep-Dropped"] == "unknown-origin"
    wait_for_counts(owner, site["id"], {"unknown_origin": 1})


def test_an_unknown_origin_that_could_be_several_sites_counts_for_the_instance(deployed, owner):
    parent = unique_domain("shared")
    first, second = owner.create_site("a." + parent), owner.create_site("b." + parent)
    before = instance_counts(deployed, "unknown-origin")
    response = track(deployed, "https://" + parent)
    assert response.status_code == 202 and response.headers["HitKeep-Dropped"] == "unknown-origin"
    wait_until(lambda: instance_counts(deployed, "unknown-origin") > before, 15, "instance counter")
    assert instance_counts(deployed, "unknown-origin") == before + 1
    assert today_counts(owner, first["id"])["total"] == 0 and today_counts(owner, second["id"])["total"] == 0
    # Operators read the instance's counts in psql.
    rows = deployed.sql("SELECT domain, reason, page_views FROM reporting.dropped_page_views "
                        "WHERE site_id IS NULL AND day = (now() AT TIME ZONE 'UTC')::date")
    assert rows == [(None, "unknown-origin", str(before + 1))]


def test_dropped_counts_are_visible_to_the_sites_people_only(deployed, owner):
    site = owner.create_site()
    stranger = deployed.people.new()
    assert_problem(stranger.get(f"/api/sites/{site['id']}/dropped"), 404)
    assert_problem(requests.get(f"{deployed.base_url}/api/sites/{site['id']}/dropped", timeout=REQUEST_TIMEOUT), 401)
    assert_problem(owner.get(f"/api/sites/{site['id']}/dropped?day=today"), 400, "invalid_parameter")


def test_a_flood_of_dropped_page_views_is_written_in_batches(deployed, owner):
    site = owner.create_site()
    origin = "https://" + site["domain"]
    flood = 300

    def table_writes():
        rows = deployed.sql("SELECT n_tup_ins + n_tup_upd FROM pg_stat_user_tables WHERE relname = 'dropped_page_views'")
        return int(rows[0][0])

    def settled_table_writes(at_least):
        # A worker's backend publishes its table counters when it goes idle, but at most once a
        # second (PostgreSQL's PGSTAT_MIN_INTERVAL), so the last writes show up to a second late:
        # wait for a figure that holds still for longer than that.
        last = None

        def settled():
            nonlocal last
            now = table_writes()
            done = now == last and now >= at_least
            last = now
            return done

        wait_until(settled, timeout=20, message="the table's write counters to settle", interval=1.5)
        return last

    writes_before = settled_table_writes(0)
    started = time.monotonic()
    with requests.Session() as session:
        for number in range(flood):
            response = session.post(deployed.base_url + "/ingest", data=json.dumps({"path": "/", "session_id": f"f{number}"}),
                                    headers={"Origin": origin, "User-Agent": GOOGLEBOT}, timeout=REQUEST_TIMEOUT)
            assert response.status_code == 202 and response.headers["HitKeep-Dropped"] == "bot"
    elapsed = time.monotonic() - started
    wait_for_counts(owner, site["id"], {"bot": flood})
    # Each worker writes at most once a second, plus once at the end: far fewer rows written than
    # page views dropped, however fast they came.
    writes = settled_table_writes(writes_before + 1) - writes_before
    assert 1 <= writes <= WORKERS * (math.ceil(elapsed) + 2), (writes, elapsed)
    assert writes < flood / 10
    print(f"flood: {flood} dropped page views in {elapsed:.2f} s, {writes} rows written")


# --- item 2: development sites and subdomains --------------------------------------------------------

@pytest.fixture(scope="module")
def localhost_site(owner):
    return owner.create_site("localhost", name="Development")


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://localhost:3000", "http://localhost"])
def test_a_localhost_site_takes_page_views_from_any_port(deployed, localhost_site, origin):
    before = len(stored(deployed, localhost_site["id"]))
    response = track(deployed, origin, path="/dev")
    assert response.status_code == 202 and "HitKeep-Dropped" not in response.headers
    assert stored(deployed, localhost_site["id"])[before:] == [("/dev", "")]


def test_a_localhost_sites_bots_are_counted_for_it(deployed, owner, localhost_site):
    response = track(deployed, "http://localhost:8080", user_agent=CHROME.replace("Chrome/", "HeadlessChrome/"))
    assert response.status_code == 202 and response.headers["HitKeep-Dropped"] == "bot"
    wait_for_counts(owner, localhost_site["id"], {"bot": 1})


@pytest.mark.parametrize("domain", ["localhost:3000", "127.0.0.1", "local", "www.localhost"])
def test_only_plain_localhost_is_a_one_label_site(owner, domain):
    assert_problem(owner.post("/api/sites", json={"domain": domain}), 400, "invalid_domain")


def test_a_subdomain_counts_for_its_registered_parent_and_keeps_its_host(deployed, owner):
    site = owner.create_site()
    for origin, path in [("https://" + site["domain"], "/home"), ("https://blog." + site["domain"], "/post"),
                         ("https://www.docs." + site["domain"] + ":8443", "/guide")]:
        response = track(deployed, origin, path=path)
        assert response.status_code == 202 and "HitKeep-Dropped" not in response.headers
    # The site's own domain is stored as '' (no bytes spent on the typical row).
    assert stored(deployed, site["id"]) == [("/home", ""), ("/post", "blog." + site["domain"]),
                                            ("/guide", "docs." + site["domain"])]
    # The pool's roll-up process may be folding them this moment: a fold here skips the page views
    # it holds, so wait until none of the site's is left in the queue.
    def folded():
        deployed.sql("SELECT fold_queued_events()")
        return deployed.sql(f"SELECT count(*) FROM event_queue WHERE site_id = '{site['id']}'") == [("0",)]
    wait_until(folded, 15, "the site's page views folded")
    rows = deployed.sql(f"SELECT hostname, path FROM reporting.page_views WHERE site_id = '{site['id']}' ORDER BY occurred_at, path")
    assert sorted(rows) == sorted([(site["domain"], "/home"), ("blog." + site["domain"], "/post"),
                                   ("docs." + site["domain"], "/guide")])


def test_a_subdomain_that_is_a_site_counts_for_itself(deployed, owner):
    parent = owner.create_site()
    child = owner.create_site("blog." + parent["domain"])
    for origin in ("https://blog." + parent["domain"], "https://deep.blog." + parent["domain"]):
        assert track(deployed, origin, path="/child").status_code == 202
    assert stored(deployed, child["id"]) == [("/child", ""), ("/child", "deep.blog." + parent["domain"])]
    assert stored(deployed, parent["id"]) == []


def test_a_look_alike_domain_is_no_subdomain(deployed, owner):
    site = owner.create_site()
    response = track(deployed, "https://not" + site["domain"])
    assert response.headers["HitKeep-Dropped"] == "unknown-origin"
    assert stored(deployed, site["id"]) == []


def test_server_side_page_views_keep_a_subdomains_host(deployed, owner):
    site = owner.create_site()
    for url in (f"https://{site['domain']}/a", f"https://www.shop.{site['domain']}/b"):
        response = owner.post("/api/ingest/server/pageview", json={"site_id": site["id"], "url": url, "user_agent": CHROME})
        assert response.status_code == 202, response.text
    assert stored(deployed, site["id"]) == [("/a", ""), ("/b", "shop." + site["domain"])]
