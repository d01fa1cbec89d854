"""Filters that select the same page views give the same numbers (`RedundantFilters`): a filter
that every page view of the range matches is left out (`hostname:<domain>` beside another filter,
on a site whose page views are all on its domain, is answered from the rollups like the other
filter alone), so is one that every page view of another filter matches, and filters that no page
view matches together are answered as nothing without reading any. Seen here through retention:
without the raw events, such questions are still answered, and one whose filters all select part
of the page views is `422 raw_events_removed`."""

from __future__ import annotations

import datetime as dt
import random

from accounts import assert_problem, deployment
from test_partitions import OLD_DAY, remove_every_raw_event, stats
from test_stats import RawEvents, expected_response
from test_stats_properties import expected_breakdown
from test_visitor_profiles import PROFILE_COLUMNS, PROFILES, breakdown_rows

# OLD_DAY's page views are all on the site's own domain; the next day's include a subdomain's.
NEXT_DAY = (dt.date.fromisoformat(OLD_DAY) + dt.timedelta(days=1)).isoformat()
ONE_HOST_DAY = f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC"
BOTH_DAYS = f"from={OLD_DAY}&to={NEXT_DAY}&timezone=UTC"


def insert_sessions(own, site_id: str, day: str, sessions: int, hostnames: list[str], rng: random.Random):
    rows = []
    start = dt.datetime.fromisoformat(f"{day}T00:00:00+00:00")
    for number in range(sessions):
        profile = rng.choice(PROFILES)
        at = start + dt.timedelta(seconds=rng.randrange(86_400 - 7_200))
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            at += dt.timedelta(seconds=rng.choice([0, 30, 700, 3_000]))
            values = [rng.choice(["/", "/a", "/b"]), rng.choice(["", "t.co"]), rng.choice(hostnames), *profile]
            rows.append(f"('{site_id}', '{at.isoformat()}', '{day}-{number}', " + ", ".join(f"'{v}'" for v in values) + ")")
    own.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, hostname, {', '.join(PROFILE_COLUMNS)}) "
            "VALUES " + ", ".join(rows))


def test_filters_that_change_nothing_are_left_out_and_the_rest_answered_from_the_rollups(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    domain = site["domain"]
    rng = random.Random(31)
    insert_sessions(own, site["id"], OLD_DAY, 60, [""], rng)
    insert_sessions(own, site["id"], NEXT_DAY, 60, ["", f"docs.{domain}"], rng)
    own.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path) VALUES ('{site['id']}', '{NEXT_DAY}T09:00:00Z', 'late', '/c')")
    # Every newsletter link says email, and so do some others.
    campaigns = ", ".join(f"('{site['id']}', '{OLD_DAY}T{10 + n % 8:02d}:{n * 7 % 60:02d}:00Z', 'mail-{n}', '{rng.choice(['/', '/a'])}', "
                          f"'{'newsletter' if n % 3 else 'digest'}', 'email')" for n in range(30))
    own.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, utm_source, utm_medium) VALUES {campaigns}")
    raw = RawEvents(own, site["id"])

    own_domain = {"hostname": ""}
    # (query, filters as the oracle reads them)
    reduced = [
        (f"{ONE_HOST_DAY}&filter=hostname:{domain}&filter=path:/a", own_domain | {"path": "/a"}),
        (f"{ONE_HOST_DAY}&filter=hostname:{domain}&filter=device:mobile&interval=hour&compare=none",
         own_domain | {"device": "mobile"}),
        # Three filters, two left: both on visitor profiles.
        (f"{ONE_HOST_DAY}&filter=device:desktop&filter=hostname:{domain}&filter=browser:Chrome",
         own_domain | {"device": "desktop", "browser": "Chrome"}),
        # Every newsletter page view has medium email: the source's numbers.
        (f"{ONE_HOST_DAY}&filter=utm_medium:email&filter=utm_source:newsletter", {"utm_medium": "email", "utm_source": "newsletter"}),
        # A filter no page view of the range matches selects nothing, whatever the others.
        (f"{ONE_HOST_DAY}&filter=path:/c&filter=device:mobile", {"path": "/c", "device": "mobile"}),
        (f"{ONE_HOST_DAY}&filter=referrer:t.co&filter=utm_source:never-seen", {"referrer_host": "t.co", "utm_source": "never-seen"}),
        # Two filters that each match page views, but none together: the digest never links to /b.
        (f"{ONE_HOST_DAY}&filter=utm_source:digest&filter=path:/b&interval=hour", {"utm_source": "digest", "path": "/b"}),
        (f"{ONE_HOST_DAY}&filter=path:/a&filter=path:/b&filter=device:mobile", {"path": "no page view has two"}),
        # Ends inside quarter hours: the quarter hours that hold the range decide.
        (f"from={OLD_DAY}T00:07:00Z&to={OLD_DAY}T20:52:00Z&timezone=Asia/Kolkata&filter=hostname:{domain}"
         f"&filter=referrer:t.co", own_domain | {"referrer_host": "t.co"}),
    ]
    selecting = [
        # The subdomain's page views of the next day fail the hostname filter.
        (f"{BOTH_DAYS}&filter=hostname:{domain}&filter=path:/a", own_domain | {"path": "/a"}),
        (f"{ONE_HOST_DAY}&filter=path:/a&filter=device:mobile", {"path": "/a", "device": "mobile"}),
        # Not every email page view is the newsletter's.
        (f"{ONE_HOST_DAY}&filter=utm_medium:email&filter=path:/a", {"utm_medium": "email", "path": "/a"}),
    ]
    matching_nothing = [query for query, _ in reduced[4:8]]
    answers = {}
    for query, filters in reduced + selecting:
        body = stats(api, site["id"], query)
        zone = "Asia/Kolkata" if "Kolkata" in query else "UTC"
        for key, value in expected_response(raw, body, filters, 10, zone, from_is_date=f"from={OLD_DAY}&" in query).items():
            assert body[key] == value, (query, key)
        assert (body["total_pageviews"] > 0) == (query not in matching_nothing), query
        answers[query] = body
    # A redundant filter changes nothing: the numbers are the other filters' alone.
    assert answers[reduced[0][0]] == stats(api, site["id"], f"{ONE_HOST_DAY}&filter=path:/a")
    assert answers[reduced[3][0]] == stats(api, site["id"], f"{ONE_HOST_DAY}&filter=utm_source:newsletter")
    with_subdomain = stats(api, site["id"], f"{BOTH_DAYS}&filter=path:/a")
    assert answers[selecting[0][0]]["total_pageviews"] < with_subdomain["total_pageviews"]

    start, end = dt.datetime.fromisoformat(f"{OLD_DAY}T00:00:00+00:00"), dt.datetime.fromisoformat(f"{NEXT_DAY}T00:00:00+00:00")
    browsers = f"{ONE_HOST_DAY}&dimension=browser&filter=hostname:{domain}&filter=device:mobile"
    browser_rows = breakdown_rows(api, site["id"], browsers)
    disjoint = f"{ONE_HOST_DAY}&dimension=landing&filter=utm_source:digest&filter=path:/b"
    assert breakdown_rows(api, site["id"], disjoint) == expected_breakdown(raw, start, end, {"utm_source": "digest", "path": "/b"}, "landing") == []
    csv = api.get(f"/api/sites/{site['id']}/stats/breakdown?{disjoint}&format=csv")
    assert csv.status_code == 200 and csv.text.strip() == "name,pageviews,visitors,bounce_rate,avg_session_duration"
    assert browser_rows == expected_breakdown(raw, start, end, own_domain | {"device": "mobile"}, "browser")
    assert browser_rows

    # Without the raw events, the questions whose filters shrink are the rollups'.
    remove_every_raw_event(own, api, site["id"])
    for query, _ in reduced[:8]:
        again = stats(api, site["id"], query)
        assert again == answers[query] | {"live_visitors": again["live_visitors"]}, query
    assert breakdown_rows(api, site["id"], browsers) == browser_rows
    assert breakdown_rows(api, site["id"], disjoint) == []
    # A range end inside a quarter hour needs the raw events of its edges; so do filters that all select.
    assert_problem(api.get(f"/api/sites/{site['id']}/stats?{reduced[8][0]}"), 422, "raw_events_removed")
    for query, _ in selecting:
        assert_problem(api.get(f"/api/sites/{site['id']}/stats?{query}"), 422, "raw_events_removed")
