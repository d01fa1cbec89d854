"""The hostname as a stats dimension (issue 18, item 2): a subdomain's page views, counted for its
registered parent, are listed and filtered by their host, the domain's own page views by the
domain; the same answers from every source (the rollups, the rollups with edge corrections, the
filtered rollups, the raw events), in breakdowns and their CSV, through nginx against PostgreSQL."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest

from accounts import assert_json, assert_problem, people  # noqa: F401 (people: a fixture)
from test_stats import CHROME_WINDOWS, SAFARI_IPHONE, ranked, stats

# (session, UTC time, host, path, user agent) on 2026-03-02. `{d}` is the site's domain.
EVENTS = [
    ("a", "2026-03-02T10:00:00Z", "{d}", "/", CHROME_WINDOWS),
    ("a", "2026-03-02T10:05:00Z", "blog.{d}", "/post", CHROME_WINDOWS),
    ("a", "2026-03-02T10:20:00Z", "blog.{d}", "/post-2", CHROME_WINDOWS),
    ("b", "2026-03-02T11:00:00Z", "www.{d}", "/pricing", SAFARI_IPHONE),
    ("c", "2026-03-02T12:00:00Z", "Blog.{d}", "/post", SAFARI_IPHONE),
    ("d", "2026-03-02T13:00:00Z", "docs.{d}", "/guide", CHROME_WINDOWS),
    ("d", "2026-03-02T13:30:00Z", "docs.{d}", "/guide/2", CHROME_WINDOWS),
    ("e", "2026-03-02T14:10:00Z", "{d}", "/", SAFARI_IPHONE),
    ("e", "2026-03-02T14:40:00Z", "{d}", "/pricing", SAFARI_IPHONE),
]
DAYS = "from=2026-03-02&to=2026-03-02&timezone=UTC"
DAY = DAYS + "&compare=none"


@pytest.fixture
def site(stack, people):
    api = people.new()
    created = api.create_site(timezone="UTC")
    for session, when, host, path, agent in EVENTS:
        body = {"site_id": created["id"], "url": "https://" + host.format(d=created["domain"]) + path,
                "user_agent": agent, "session_id": session, "timestamp": when}
        response = api.post("/api/ingest/server/pageview", json=body)
        assert response.status_code == 202 and "HitKeep-Dropped" not in response.headers, response.text
    return api, created


def hostnames(domain):
    """The hostname list of the whole day: the domain's page views under its name, www. included."""
    return ranked((domain, 4), (f"blog.{domain}", 3), (f"docs.{domain}", 2))


def filtered(api, site_id, query, *filters):
    return stats(api, site_id, query + "".join("&filter=" + quote(text, safe="") for text in filters))


def test_page_views_are_listed_under_their_host_and_the_domain_under_its_name(stack, site):
    api, created = site
    domain = created["domain"]
    # Whole hours (the hourly rollups), a range cut mid-hour (the rollups and the partial hours'
    # events), under a filter that every page view matches (the filtered rollups) and under two
    # (the raw events): the same list.
    whole = stats(api, created["id"], DAY)
    assert whole["top_hostnames"] == hostnames(domain)
    # The site's own page views are stored with an empty hostname (which costs no bytes per row).
    stored = stack.sql(f"SELECT hostname, count(*) FROM events WHERE site_id = '{created['id']}' GROUP BY 1 ORDER BY 1")
    assert stored == [("", "4"), (f"blog.{domain}", "3"), (f"docs.{domain}", "2")]
    cut = stats(api, created["id"], "from=2026-03-02T09:59:00Z&to=2026-03-02T14:41:00Z&compare=none")
    assert cut["top_hostnames"] == hostnames(domain)
    for filters in [("referrer:(none)",), ("referrer:(none)", "utm_source:(none)")]:
        assert filtered(api, created["id"], DAY, *filters)["top_hostnames"] == hostnames(domain), filters
    # Under a filter on another dimension, the hosts of its page views only.
    mobile = filtered(api, created["id"], DAY, "device:mobile")
    assert mobile["top_hostnames"] == [{"name": domain, "value": 3}, {"name": f"blog.{domain}", "value": 1}]


@pytest.mark.parametrize("value, pageviews, sessions, pages", [
    ("{d}", 4, 3, [("/", 2), ("/pricing", 2)]),
    ("WWW.{d}", 4, 3, [("/", 2), ("/pricing", 2)]),
    ("blog.{d}", 3, 2, [("/post", 2), ("/post-2", 1)]),
    ("BLOG.{d}", 3, 2, [("/post", 2), ("/post-2", 1)]),
    ("docs.{d}", 2, 1, [("/guide", 1), ("/guide/2", 1)]),
])
def test_a_filter_on_a_host_selects_its_page_views_from_every_source(stack, site, value, pageviews, sessions, pages):
    api, created = site
    name = value.format(d=created["domain"])
    answers = [
        filtered(api, created["id"], DAY, f"hostname:{name}"),                                   # filtered rollups
        filtered(api, created["id"], "from=2026-03-02T09:45:00Z&to=2026-03-02T14:45:00Z&compare=none",
                 f"hostname:{name}"),                                                            # + partial hours
        filtered(api, created["id"], DAY, f"hostname:{name}", "utm_campaign:(none)"),            # raw events
    ]
    for answer in answers:
        assert answer["total_pageviews"] == pageviews and answer["unique_sessions"] == sessions
        assert answer["top_pages"] == [{"name": path, "value": count} for path, count in pages]
        assert answer["top_hostnames"] == [{"name": name.lower().removeprefix("www."), "value": pageviews}]
    # The sessions' numbers count the host's page views only: session a spent 15 minutes on the blog.
    if name.lower() == f"blog.{created['domain']}":
        assert answers[0]["avg_session_duration"] == answers[2]["avg_session_duration"] == 450
        assert answers[0]["bounce_rate"] == answers[2]["bounce_rate"] == 50


def test_an_unknown_host_matches_nothing(stack, site):
    api, created = site
    for filters in [("hostname:shop.example.org",), ("hostname:shop.example.org", "device:desktop")]:
        answer = filtered(api, created["id"], DAY, *filters)
        assert answer["total_pageviews"] == 0 and answer["unique_sessions"] == 0
        assert answer["top_hostnames"] == [] and answer["top_pages"] == []
        assert all(point["pageviews"] == 0 for point in answer["chart_data"])


def test_no_hostname_is_not_a_filter(stack, site):
    # The site's own page views are named by the domain; `(none)` would quietly mean the same.
    api, created = site
    for path in ["stats?", "stats/breakdown?dimension=path&"]:
        body = assert_problem(api.get(f"/api/sites/{created['id']}/{path}filter=hostname:%28none%29"),
                              400, "invalid_filter")
        assert "hostname:<the site's domain>" in body["detail"]


def test_a_breakdown_by_hostname_and_its_csv(stack, site):
    api, created = site
    domain = created["domain"]
    expected = [
        {"name": domain, "pageviews": 4, "visitors": 2 + 1, "bounce_rate": 66.67, "avg_session_duration": 600},
        {"name": f"blog.{domain}", "pageviews": 3, "visitors": 2, "bounce_rate": 50, "avg_session_duration": 450},
        {"name": f"docs.{domain}", "pageviews": 2, "visitors": 1, "bounce_rate": 0, "avg_session_duration": 1800},
    ]
    # Whole quarter hours without a filter (the filtered rollups), and cut (the raw events).
    for query in [DAYS, "from=2026-03-02T09:59:00Z&to=2026-03-02T14:41:00Z"]:
        body = assert_json(api.get(f"/api/sites/{created['id']}/stats/breakdown?dimension=hostname&{query}"))
        assert body["rows"] == expected, query
        assert body["dimension"] == "hostname"
    # Two rows a page: the cursor carries the domain's row (stored as '') across pages.
    first = assert_json(api.get(f"/api/sites/{created['id']}/stats/breakdown?dimension=hostname&{DAYS}&page_size=2"))
    assert first["rows"] == expected[:2]
    rest = assert_json(api.get(f"/api/sites/{created['id']}/stats/breakdown?dimension=hostname&{DAYS}&page_size=2"
                               f"&cursor={first['next_cursor']}"))
    assert rest["rows"] == expected[2:] and rest["next_cursor"] is None
    # Within one host, the pages.
    pages = assert_json(api.get(f"/api/sites/{created['id']}/stats/breakdown?dimension=path&{DAYS}"
                                f"&filter=hostname:{domain}"))
    assert [(item["name"], item["pageviews"]) for item in pages["rows"]] == [("/", 2), ("/pricing", 2)]

    response = api.get(f"/api/sites/{created['id']}/stats/breakdown?dimension=hostname&{DAYS}&format=csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{domain}-hostname-2026-03-02-2026-03-02.csv"' in response.headers["Content-Disposition"]
    records = list(csv.reader(io.StringIO(response.content.decode())))
    assert records == [["name", "pageviews", "visitors", "bounce_rate", "avg_session_duration"],
                       [domain, "4", "3", "66.67", "600"], [f"blog.{domain}", "3", "2", "50", "450"],
                       [f"docs.{domain}", "2", "1", "0", "1800"]]


def test_the_rollups_count_hostnames_as_the_events_hold_them(stack, site):
    api, created = site
    stats(api, created["id"], DAY)   # folds the queue
    rollups = stack.sql(f"SELECT span, bucket, value, pageviews FROM dimension_counts WHERE site_id = '{created['id']}' "
                        "AND dimension = 'hostname' ORDER BY 1, 2, 3")
    events = stack.sql(f"""
        SELECT s.span, s.bucket, hostname, count(*) FROM events,
               LATERAL (VALUES ('day', date_trunc('day', occurred_at, 'UTC')),
                               ('hour', date_trunc('hour', occurred_at, 'UTC'))) AS s (span, bucket)
        WHERE site_id = '{created['id']}' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    assert rollups == events and len(rollups) == 3 + 6
