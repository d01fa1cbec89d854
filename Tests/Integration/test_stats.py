"""The stats API (API.md §5.3, issue 5): known answers for hand-made traffic, agreement with the raw
events on generated traffic, and a clear 4xx for every bad parameter."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from accounts import Api, assert_json, assert_problem, people, run_cli  # noqa: F401 (people: a fixture)

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.1 Mobile/15E148 Safari/604.1")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.6099.144 Mobile Safari/537.36")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"

LISTS = ["top_pages", "top_landing_pages", "top_exit_pages", "top_referrers", "top_devices", "top_browsers", "top_os",
         "top_countries", "top_languages", "top_utm_sources", "top_utm_mediums", "top_utm_campaigns", "top_hostnames"]
RESPONSE_KEYS = ["site_id", "from", "to", "timezone", "interval", "live_visitors", "total_pageviews", "unique_sessions",
                 "bounce_rate", "avg_session_duration", "pages_per_session", "chart_data", *LISTS, "comparison"]

# Hand-made traffic around the end of summer time in Berlin (2026-10-25, 03:00 CEST → 02:00 CET,
# i.e. 01:00 UTC): (session, UTC time, URL, user agent, referrer of the first page).
KNOWN_EVENTS = [
    ("alpha", "2026-10-24T21:30:00Z", "https://x.test/", CHROME_WINDOWS, "https://www.google.com/search?q=1"),
    ("alpha", "2026-10-24T22:10:00Z", "https://x.test/pricing", CHROME_WINDOWS, None),
    ("alpha", "2026-10-24T22:20:00Z", "https://x.test/signup", CHROME_WINDOWS, None),
    ("bravo", "2026-10-25T00:30:00Z", "https://x.test/blog", SAFARI_IPHONE, None),
    ("charlie", "2026-10-25T01:30:00Z", "https://x.test/pricing?utm_source=hn&utm_medium=social&utm_campaign=launch",
     CHROME_ANDROID, "https://news.ycombinator.com/item?id=7"),
    ("charlie", "2026-10-25T01:45:00Z", "https://x.test/docs", CHROME_ANDROID, None),
    ("delta", "2026-10-25T23:30:00Z", "https://x.test/", FIREFOX_LINUX, None),
    ("delta", "2026-10-26T00:00:00Z", "https://x.test/pricing", FIREFOX_LINUX, None),
    ("echo", "2026-10-24T10:00:00Z", "https://x.test/about", CHROME_WINDOWS, None),
    ("echo", "2026-10-24T10:05:00Z", "https://x.test/about", CHROME_WINDOWS, None),
]


def ranked(*pairs):
    return [{"name": name, "value": value} for name, value in pairs]


def chart(labels, **points):
    """Zero-filled buckets with the given (pageviews, visitors) at some labels."""
    return [{"time": label, "pageviews": points.get(label, (0, 0))[0], "visitors": points.get(label, (0, 0))[1]}
            for label in labels]


def hour_labels(first_utc: str, count: int, zone: str) -> list[str]:
    start = dt.datetime.fromisoformat(first_utc.replace("Z", "+00:00"))
    return [label(start + dt.timedelta(hours=step), zone) for step in range(count)]


def label(instant: dt.datetime, zone: str) -> str:
    local = instant.astimezone(ZoneInfo(zone))
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f".000{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@pytest.fixture
def known_site(stack, people):
    api = people.new()
    site = api.create_site(timezone="Europe/Berlin")
    events = list(KNOWN_EVENTS)
    # Out of order, as imports and retries arrive: the rollups must not care.
    random.Random(5).shuffle(events)
    for session, when, url, user_agent, referrer in events:
        body = {"site_id": site["id"], "url": url, "user_agent": user_agent, "session_id": session, "timestamp": when}
        if referrer:
            body["referrer"] = referrer
        response = api.post("/api/ingest/server/pageview", json=body)
        assert response.status_code == 202, response.text
    return api, site


def stats(api, site_id, query="", status=200):
    response = api.get(f"/api/sites/{site_id}/stats" + (f"?{query}" if query else ""))
    return assert_json(response, status)


BERLIN_DAY_LISTS = {
    "top_pages": ranked(("/pricing", 2), ("/blog", 1), ("/docs", 1), ("/signup", 1)),
    "top_landing_pages": ranked(("/pricing", 2), ("/blog", 1)),
    "top_exit_pages": ranked(("/blog", 1), ("/docs", 1), ("/signup", 1)),
    "top_referrers": ranked(("(none)", 4), ("news.ycombinator.com", 1)),
    "top_devices": ranked(("mobile", 3), ("desktop", 2)),
    "top_browsers": ranked(("Chrome", 4), ("Safari", 1)),
    "top_os": ranked(("Android", 2), ("Windows", 2), ("iOS", 1)),
    "top_countries": ranked(("(none)", 5)),
    "top_languages": ranked(("(none)", 5)),
    "top_utm_sources": ranked(("(none)", 4), ("hn", 1)),
    "top_utm_mediums": ranked(("(none)", 4), ("social", 1)),
    "top_utm_campaigns": ranked(("(none)", 4), ("launch", 1)),
    # The known events' URLs are on x.test, no subdomain of the site's domain: the server-side
    # ingest API keeps the host it is given.
    "top_hostnames": ranked(("x.test", 5)),
}


def test_known_answers_for_the_day_summer_time_ends(stack, known_site):
    api, site = known_site
    body = stats(api, site["id"], "from=2026-10-25&to=2026-10-25&interval=hour")
    assert list(body) == RESPONSE_KEYS
    # The 25-hour day: two 02:00 buckets, +02:00 then +01:00.
    labels = hour_labels("2026-10-24T22:00:00Z", 25, "Europe/Berlin")
    assert labels[2:4] == ["2026-10-25T02:00:00.000+02:00", "2026-10-25T02:00:00.000+01:00"]
    assert labels[-1] == "2026-10-25T23:00:00.000+01:00"
    # The day before has 24 hours.
    previous_labels = hour_labels("2026-10-23T22:00:00Z", 24, "Europe/Berlin")
    assert body == {
        "site_id": site["id"], "from": "2026-10-24T22:00:00.000Z", "to": "2026-10-25T23:00:00.000Z",
        "timezone": "Europe/Berlin", "interval": "hour", "live_visitors": 0,
        # alpha (2 of its 3 pages fall in the day, 10 min apart), bravo (a bounce), charlie (15 min).
        "total_pageviews": 5, "unique_sessions": 3, "bounce_rate": 33.33, "avg_session_duration": 500.0,
        "pages_per_session": 1.67,
        "chart_data": chart(labels, **{
            "2026-10-25T00:00:00.000+02:00": (2, 1),
            "2026-10-25T02:00:00.000+02:00": (1, 1),
            "2026-10-25T02:00:00.000+01:00": (2, 1)}),
        **BERLIN_DAY_LISTS,
        # The day before (a date range is compared with as many days just before it, whatever
        # their hours): echo (2 pages, 5 min) and alpha's first page alone (a bounce there).
        "comparison": {
            "from": "2026-10-23T22:00:00.000Z", "to": "2026-10-24T22:00:00.000Z",
            "total_pageviews": 3, "unique_sessions": 2, "bounce_rate": 50.0, "avg_session_duration": 150.0,
            "pages_per_session": 1.5,
            "chart_data": chart(previous_labels, **{
                "2026-10-24T12:00:00.000+02:00": (2, 1),
                "2026-10-24T23:00:00.000+02:00": (1, 1)}),
        },
    }


def test_known_answers_over_three_days_by_day(stack, known_site):
    api, site = known_site
    body = stats(api, site["id"], "from=2026-10-24&to=2026-10-26&limit=3")
    assert body["interval"] == "day"  # 73 hours: more than 2 days
    assert (body["from"], body["to"]) == ("2026-10-23T22:00:00.000Z", "2026-10-26T23:00:00.000Z")
    assert (body["total_pageviews"], body["unique_sessions"]) == (10, 5)
    assert (body["bounce_rate"], body["avg_session_duration"], body["pages_per_session"]) == (20.0, 1200.0, 2.0)
    # alpha is a visitor on both of the days it was seen.
    assert body["chart_data"] == [
        {"time": "2026-10-24T00:00:00.000+02:00", "pageviews": 3, "visitors": 2},
        {"time": "2026-10-25T00:00:00.000+02:00", "pageviews": 5, "visitors": 3},
        {"time": "2026-10-26T00:00:00.000+01:00", "pageviews": 2, "visitors": 1},
    ]
    assert body["top_pages"] == ranked(("/pricing", 3), ("/", 2), ("/about", 2))
    assert body["top_landing_pages"] == ranked(("/", 2), ("/about", 1), ("/blog", 1))
    assert body["top_exit_pages"] == ranked(("/about", 1), ("/blog", 1), ("/docs", 1))
    assert all(len(body[key]) <= 3 for key in LISTS)
    comparison = body["comparison"]
    # The three days before, in the same day buckets (72 hours: not the 73 hours before, which
    # would start at 23:00 on the 20th and give the chart a fourth bucket).
    assert (comparison["from"], comparison["to"]) == ("2026-10-20T22:00:00.000Z", "2026-10-23T22:00:00.000Z")
    assert (comparison["total_pageviews"], comparison["unique_sessions"], comparison["bounce_rate"],
            comparison["avg_session_duration"], comparison["pages_per_session"]) == (0, 0, 0, 0, 0)
    assert comparison["chart_data"] == chart(["2026-10-21T00:00:00.000+02:00", "2026-10-22T00:00:00.000+02:00",
                                              "2026-10-23T00:00:00.000+02:00"])


def test_known_answers_in_another_timezone(stack, known_site):
    api, site = known_site
    body = stats(api, site["id"], "from=2026-10-25&to=2026-10-25&timezone=UTC&interval=day")
    assert (body["from"], body["to"], body["timezone"]) == ("2026-10-25T00:00:00.000Z", "2026-10-26T00:00:00.000Z", "UTC")
    # bravo and delta (its 00:00 page is the next day) bounce; charlie stays 15 minutes.
    assert (body["total_pageviews"], body["unique_sessions"], body["bounce_rate"], body["avg_session_duration"],
            body["pages_per_session"]) == (4, 3, 66.67, 300.0, 1.33)
    assert body["chart_data"] == [{"time": "2026-10-25T00:00:00.000+00:00", "pageviews": 4, "visitors": 3}]
    assert body["top_landing_pages"] == ranked(("/", 1), ("/blog", 1), ("/pricing", 1))
    assert body["top_exit_pages"] == ranked(("/", 1), ("/blog", 1), ("/docs", 1))
    comparison = body["comparison"]
    assert (comparison["total_pageviews"], comparison["unique_sessions"], comparison["bounce_rate"],
            comparison["avg_session_duration"], comparison["pages_per_session"]) == (5, 2, 0.0, 1650.0, 2.5)
    assert comparison["chart_data"] == [{"time": "2026-10-24T00:00:00.000+00:00", "pageviews": 5, "visitors": 2}]


@pytest.mark.parametrize("filters, expected", [
    ("filter=device:mobile", (3, 2, 50.0, 450.0, 1.5)),
    ("filter=referrer:(none)&filter=device:desktop", (2, 1, 0.0, 600.0, 2.0)),
    ("filter=utm_source:hn", (1, 1, 100.0, 0.0, 1.0)),
    ("filter=os:iOS&filter=browser:Chrome", (0, 0, 0, 0, 0)),
    ("filter=path:/pricing", (2, 2, 100.0, 0.0, 1.0)),
    # alpha's two pages, bravo, and charlie's second page only (its first carries the campaign).
    ("filter=country:(none)&filter=language:(none)&filter=utm_medium:(none)&filter=utm_campaign:(none)",
     (4, 3, 66.67, 200.0, 1.33)),
])
def test_known_answers_with_filters(stack, known_site, filters, expected):
    api, site = known_site
    body = stats(api, site["id"], f"from=2026-10-25&to=2026-10-25&{filters}")
    assert (body["total_pageviews"], body["unique_sessions"], body["bounce_rate"], body["avg_session_duration"],
            body["pages_per_session"]) == expected
    assert sum(point["pageviews"] for point in body["chart_data"]) == expected[0]


def test_known_answers_filtered_by_device_in_full(stack, known_site):
    api, site = known_site
    body = stats(api, site["id"], "from=2026-10-25&to=2026-10-25&filter=device:mobile")
    assert body["top_pages"] == ranked(("/blog", 1), ("/docs", 1), ("/pricing", 1))
    assert body["top_landing_pages"] == ranked(("/blog", 1), ("/pricing", 1))
    assert body["top_exit_pages"] == ranked(("/blog", 1), ("/docs", 1))
    assert body["top_devices"] == ranked(("mobile", 3))
    assert body["top_countries"] == ranked(("(none)", 3))
    points = {point["time"]: (point["pageviews"], point["visitors"]) for point in body["chart_data"] if point["pageviews"]}
    assert points == {"2026-10-25T02:00:00.000+02:00": (1, 1), "2026-10-25T02:00:00.000+01:00": (2, 1)}
    # The filters hold for the comparison too: no mobile traffic the day before.
    assert body["comparison"]["total_pageviews"] == 0 and len(body["comparison"]["chart_data"]) == 24


def test_known_answers_for_a_range_that_cuts_sessions_mid_hour(stack, known_site):
    api, site = known_site
    body = stats(api, site["id"], "from=2026-10-24T22:15:00Z&to=2026-10-25T03:40:00%2B02:00&compare=none")
    assert (body["from"], body["to"], body["interval"]) == ("2026-10-24T22:15:00.000Z", "2026-10-25T01:40:00.000Z", "hour")
    # Only what lies inside counts: alpha's /signup, bravo, charlie's first page, each alone.
    assert (body["total_pageviews"], body["unique_sessions"], body["bounce_rate"], body["avg_session_duration"],
            body["pages_per_session"]) == (3, 3, 100.0, 0.0, 1.0)
    assert body["chart_data"] == chart(
        ["2026-10-25T00:00:00.000+02:00", "2026-10-25T01:00:00.000+02:00", "2026-10-25T02:00:00.000+02:00",
         "2026-10-25T02:00:00.000+01:00"],
        **{"2026-10-25T00:00:00.000+02:00": (1, 1), "2026-10-25T02:00:00.000+02:00": (1, 1),
           "2026-10-25T02:00:00.000+01:00": (1, 1)})
    assert body["top_landing_pages"] == ranked(("/blog", 1), ("/pricing", 1), ("/signup", 1))
    assert body["comparison"] is None


def test_known_lists_of_a_day_that_starts_inside_an_hour(stack, people):
    # A Kolkata day runs from 18:30 to 18:30 UTC. Both s1 and s2 were seen at 18:10, before it, and
    # again inside: s1 at 18:40 first, s2 only at 19:05, so only by the quarter hour of their last
    # page view before 19:00 can the lists tell s2's landing page from s1's (migrations/0045).
    api = people.new()
    site = api.create_site()
    visits = [("s1", "2026-03-01 18:10", "/before"), ("s1", "2026-03-01 18:40", "/head"), ("s1", "2026-03-01 19:10", "/inner"),
              ("s2", "2026-03-01 18:10", "/before"), ("s2", "2026-03-01 19:05", "/second"),
              ("s3", "2026-03-02 18:05", "/late"), ("s3", "2026-03-02 18:40", "/after"),
              ("s4", "2026-03-02 17:50", "/x"), ("s4", "2026-03-02 18:20", "/tail"),
              ("s5", "2026-03-02 18:25", "/only")]
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path) VALUES "
              + ", ".join(f"('{site['id']}', '{when}+00', '{session}', '{path}')" for session, when, path in visits))
    query = "from=2026-03-02&to=2026-03-02&timezone=Asia/Kolkata&compare=none&limit=10"
    expected = {
        "top_pages": ranked(("/head", 1), ("/inner", 1), ("/late", 1), ("/only", 1), ("/second", 1), ("/tail", 1), ("/x", 1)),
        "top_landing_pages": ranked(("/head", 1), ("/late", 1), ("/only", 1), ("/second", 1), ("/x", 1)),
        "top_exit_pages": ranked(("/inner", 1), ("/late", 1), ("/only", 1), ("/second", 1), ("/tail", 1)),
    }
    body = stats(api, site["id"], query)
    assert (body["from"], body["to"], body["total_pageviews"], body["unique_sessions"]) == \
        ("2026-03-01T18:30:00.000Z", "2026-03-02T18:30:00.000Z", 7, 5)
    assert {name: body[name] for name in expected} == expected
    assert body["top_devices"] == ranked(("(none)", 7))
    # While `hitkeep migrate` is still adding earlier events to the quarter lists, the same answer
    # comes from the partial hours' page views.
    stack.sql("INSERT INTO quarter_lists_backfill (through, next_id) VALUES (0, 1)")
    try:
        assert stats(api, site["id"], query) == body
    finally:
        stack.sql("DELETE FROM quarter_lists_backfill")


# --- compare=previous ------------------------------------------------------------------------------

def test_days_up_to_a_time_are_compared_with_the_same_days_and_time_earlier(stack, known_site):
    api, site = known_site
    # Two Berlin days, the second until 13:00, as the dashboard asks for days that end today (until
    # the end of the current hour); summer time ends in between. Compared with the two days before,
    # also until 13:00 on the second: 37 hours against 38, in as many day buckets.
    body = stats(api, site["id"], "from=2026-10-25&to=2026-10-26T13:00:00%2B01:00&interval=day")
    assert (body["from"], body["to"]) == ("2026-10-24T22:00:00.000Z", "2026-10-26T12:00:00.000Z")
    comparison = body["comparison"]
    assert (comparison["from"], comparison["to"]) == ("2026-10-22T22:00:00.000Z", "2026-10-24T11:00:00.000Z")
    # echo's two pages at 12:00 and 12:05 on the 24th; alpha's, from 23:30 that day, lie after 13:00.
    assert (comparison["total_pageviews"], comparison["unique_sessions"], comparison["avg_session_duration"]) == \
        (2, 1, 300.0)
    assert [point["time"] for point in body["chart_data"]] == ["2026-10-25T00:00:00.000+02:00",
                                                               "2026-10-26T00:00:00.000+01:00"]
    assert comparison["chart_data"] == chart(["2026-10-23T00:00:00.000+02:00", "2026-10-24T00:00:00.000+02:00"],
                                             **{"2026-10-24T00:00:00.000+02:00": (2, 1)})

    # One day until 01:00 against the day before until 01:00: alpha's two pages after midnight.
    body = stats(api, site["id"], "from=2026-10-25&to=2026-10-25T01:00:00%2B02:00")
    assert (body["comparison"]["from"], body["comparison"]["to"]) == ("2026-10-23T22:00:00.000Z",
                                                                      "2026-10-23T23:00:00.000Z")
    body = stats(api, site["id"], "from=2026-10-26&to=2026-10-26T01:00:00%2B01:00")
    assert (body["comparison"]["from"], body["comparison"]["to"]) == ("2026-10-24T22:00:00.000Z",
                                                                      "2026-10-24T23:00:00.000Z")
    assert (body["comparison"]["total_pageviews"], body["comparison"]["unique_sessions"],
            body["comparison"]["avg_session_duration"]) == (2, 1, 600.0)


def test_instants_are_compared_with_the_period_of_equal_length_just_before(stack, known_site):
    api, site = known_site
    body = stats(api, site["id"], "from=2026-10-24T12:00:00Z&to=2026-10-25T12:00:00Z")
    comparison = body["comparison"]
    assert (comparison["from"], comparison["to"]) == ("2026-10-23T12:00:00.000Z", "2026-10-24T12:00:00.000Z")
    assert (comparison["total_pageviews"], comparison["unique_sessions"]) == (2, 1)   # echo
    # A `from` that is an instant, even a local midnight, keeps the length in seconds: the 25-hour
    # day of the end of summer time against the 25 hours before it.
    body = stats(api, site["id"], "from=2026-10-24T22:00:00Z&to=2026-10-25")
    assert (body["comparison"]["from"], body["comparison"]["to"]) == ("2026-10-23T21:00:00.000Z",
                                                                      "2026-10-24T22:00:00.000Z")
    # The default range: the 30 days before.
    body = stats(api, site["id"])
    assert body["comparison"]["to"] == body["from"]
    assert parse_time(body["from"]) - parse_time(body["comparison"]["from"]) == dt.timedelta(days=30)


def test_empty_site_has_zeros_and_empty_lists(stack, people):
    api = people.new()
    site = api.create_site()
    body = stats(api, site["id"])
    assert body["interval"] == "day" and body["timezone"] == "UTC"
    start = dt.datetime.fromisoformat(body["from"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(body["to"].replace("Z", "+00:00"))
    now = dt.datetime.now(dt.timezone.utc)
    # The default: 30 days up to the end of the current hour.
    assert end - start == dt.timedelta(days=30)
    assert end.minute == 0 and end.second == 0 and dt.timedelta(0) < end - now <= dt.timedelta(hours=1)
    assert (body["total_pageviews"], body["unique_sessions"], body["bounce_rate"], body["live_visitors"]) == (0, 0, 0, 0)
    assert all(body[key] == [] for key in LISTS)
    assert len(body["chart_data"]) in (30, 31) and all(point["pageviews"] == 0 for point in body["chart_data"])
    assert body["comparison"]["chart_data"] and body["comparison"]["total_pageviews"] == 0


def test_live_visitors_are_sessions_of_the_last_five_minutes(stack, people):
    api = people.new()
    site = api.create_site()
    now = dt.datetime.now(dt.timezone.utc)
    for session, minutes_ago in (("live-a", 0), ("live-a", 1), ("live-b", 4), ("gone", 7), ("gone2", 60)):
        response = api.post("/api/ingest/server/pageview", json={
            "site_id": site["id"], "url": "https://x.test/", "user_agent": CHROME_WINDOWS, "session_id": session,
            "timestamp": (now - dt.timedelta(minutes=minutes_ago)).isoformat()})
        assert response.status_code == 202
    # Whatever the range asked for.
    assert stats(api, site["id"], "from=2020-01-01&to=2020-01-02")["live_visitors"] == 2
    assert stats(api, site["id"])["total_pageviews"] == 5


def test_stats_work_with_a_stats_read_token_within_its_sites(stack, known_site):
    api, site = known_site
    token = api.create_client(scopes=["stats:read"], site_ids=[site["id"]])["token"]
    body = stats(api.with_token(token), site["id"], "from=2026-10-25&to=2026-10-25")
    assert body["total_pageviews"] == 5
    other = api.create_site()
    assert_problem(api.with_token(token).get(f"/api/sites/{other['id']}/stats"), 404, "not_found")
    writer = api.create_client(scopes=["ingest:write"])["token"]
    assert_problem(api.with_token(writer).get(f"/api/sites/{site['id']}/stats"), 403, "insufficient_scope")
    assert_problem(Api(stack.base_url).get(f"/api/sites/{site['id']}/stats"), 401)


@pytest.mark.parametrize("query, code", [
    ("from=2026-10-26&to=2026-10-25", "invalid_range"),
    ("from=2026-10-25T10:00:00Z&to=2026-10-25T10:00:00Z", "invalid_range"),
    ("from=2015-01-01&to=2026-01-01", "invalid_range"),
    ("from=2026-02-30", "invalid_date"),
    ("from=yesterday", "invalid_date"),
    ("to=2026-10-25T25:00:00Z", "invalid_date"),
    ("from=26-10-2025", "invalid_date"),
    ("timezone=Mars/Olympus_Mons", "invalid_timezone"),
    ("timezone=", "invalid_timezone"),
    ("timezone=../../etc/passwd", "invalid_timezone"),
    ("filter=city:Berlin", "invalid_filter"),
    ("filter=nocolon", "invalid_filter"),
    ("filter=path:", "invalid_filter"),
    ("limit=0", "invalid_limit"),
    ("limit=1000", "invalid_limit"),
    ("limit=-1", "invalid_limit"),
    ("limit=abc", "invalid_limit"),
    ("interval=minute", "invalid_interval"),
    ("interval=hour&from=2020-01-01&to=2024-12-31", "invalid_interval"),
    ("compare=yesterday", "invalid_compare"),
    ("from=%ZZ", "invalid_date"),
])
def test_bad_stats_parameters_are_400(stack, known_site, query, code):
    api, site = known_site
    assert_problem(api.get(f"/api/sites/{site['id']}/stats?{query}"), 400, code)


@pytest.mark.parametrize("query, named", [
    ("fliter=device:mobile", "fliter"),
    ("timezon=Europe/Berlin", "timezon"),
    ("page=2", "page"),
    ("from=2026-10-25&Limit=5", "Limit"),
])
def test_unknown_parameters_are_named_with_the_known_ones(stack, known_site, query, named):
    api, site = known_site
    body = assert_problem(api.get(f"/api/sites/{site['id']}/stats?{query}"), 400, "invalid_parameter")
    assert f'"{named}"' in body["detail"]
    assert "from, to, timezone, interval, filter, compare, limit" in body["detail"]
    # Endpoints without parameters refuse any, and say so.
    body = assert_problem(api.get(f"/api/sites?{query}"), 400, "invalid_parameter")
    assert "takes none" in body["detail"]


def test_enumerated_filter_values_match_in_any_case_and_unknown_ones_list_the_known(stack, known_site):
    api, site = known_site
    exact = stats(api, site["id"], "from=2026-10-25&to=2026-10-25&filter=device:mobile")
    for spelled in ("Mobile", "MOBILE"):
        other = stats(api, site["id"], f"from=2026-10-25&to=2026-10-25&filter=device:{spelled}")
        assert other["total_pageviews"] == exact["total_pageviews"] == 3
    assert stats(api, site["id"], "from=2026-10-25&to=2026-10-25&filter=country:de")["total_pageviews"] == \
        stats(api, site["id"], "from=2026-10-25&to=2026-10-25&filter=country:DE")["total_pageviews"]
    body = assert_problem(api.get(f"/api/sites/{site['id']}/stats?filter=device:phone"), 400, "invalid_filter")
    assert "desktop, mobile, tablet" in body["detail"]
    body = assert_problem(api.get(f"/api/sites/{site['id']}/stats?filter=browser:netscape"), 400, "invalid_filter")
    assert "Firefox" in body["detail"] and "Chrome" in body["detail"]
    assert_problem(api.get(f"/api/sites/{site['id']}/stats?filter=country:Germany"), 400, "invalid_filter")


@pytest.mark.parametrize("site_id", ["not-a-ulid", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01arz3ndektsv4rrffq69g5fav", "%27%20OR%201=1"])
def test_stats_for_sites_that_are_not_there_are_404(stack, people, site_id):
    api = people.new()
    assert_problem(api.get(f"/api/sites/{site_id}/stats"), 404)


def test_stats_of_someone_elses_site_are_404(stack, known_site, people):
    _, site = known_site
    assert_problem(people.new().get(f"/api/sites/{site['id']}/stats"), 404, "not_found")


# --- generated traffic: the rollups against the raw events --------------------------------------------

def round2(value: float) -> float:
    """Like the server: two decimals, halves away from zero, of the same double."""
    return float(Decimal(value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) / 100


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def buckets(start: dt.datetime, end: dt.datetime, interval: str, zone: str) -> list[dt.datetime]:
    """Bucket starts computed in Python with zoneinfo, independently of PostgreSQL."""
    tz = ZoneInfo(zone)
    if interval == "hour":
        first = start.astimezone(tz).replace(minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)
        out, current = [], first
        while current < end:
            out.append(current)
            current += dt.timedelta(hours=1)
        return out
    local = start.astimezone(tz).replace(tzinfo=None)
    day = local.date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    out = []
    while True:
        instant = dt.datetime.combine(day, dt.time()).replace(tzinfo=tz).astimezone(dt.timezone.utc)
        if instant >= end:
            return out
        out.append(instant)
        if interval == "day":
            day += dt.timedelta(days=1)
        elif interval == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class RawEvents:
    """The §5.3 definitions, computed in Python over the event rows."""

    COLUMNS = ["id", "occurred_at", "session_id", "path", "referrer_host", "device", "browser", "os", "country",
               "language", "utm_source", "utm_medium", "utm_campaign", "hostname"]
    LIST_COLUMNS = {"top_pages": "path", "top_referrers": "referrer_host", "top_devices": "device",
                    "top_browsers": "browser", "top_os": "os", "top_countries": "country",
                    "top_languages": "language", "top_utm_sources": "utm_source", "top_utm_mediums": "utm_medium",
                    "top_utm_campaigns": "utm_campaign", "top_hostnames": "hostname"}

    def __init__(self, stack, site_id):
        # What a stats request does first: move the site's queued events into `events`, keeping
        # their order (migrations/0008), so that `id` orders ties as the rollups do.
        stack.sql(f"SELECT fold_queued_events('{site_id}')")
        rows = stack.sql(f"SELECT {', '.join(self.COLUMNS)}, extract(epoch FROM occurred_at)::numeric * 1000000 "
                         f"FROM events WHERE site_id = '{site_id}'")
        # The name lists give the hostname of the site's own page views (stored as '').
        self.domain = stack.sql(f"SELECT domain FROM sites WHERE id = '{site_id}'")[0][0]
        self.events = []
        for row in rows:
            event = dict(zip(self.COLUMNS, row))
            event["us"] = int(Decimal(row[-1]))
            event["id"] = int(event["id"])
            self.events.append(event)

    def select(self, start: dt.datetime, end: dt.datetime, filters: dict):
        low, high = int(start.timestamp()) * 1_000_000, int(end.timestamp()) * 1_000_000
        return [event for event in self.events if low <= event["us"] < high
                and all(event[column] == value for column, value in filters.items())]

    @staticmethod
    def totals(events):
        sessions = defaultdict(list)
        for event in events:
            sessions[event["session_id"]].append(event["us"])
        count = len(sessions)
        bounces = sum(1 for times in sessions.values() if len(times) == 1)
        duration_us = sum(max(times) - min(times) for times in sessions.values())
        result = {"total_pageviews": len(events), "unique_sessions": count,
                  "bounce_rate": round2(100 * bounces / count) if count else 0,
                  "avg_session_duration": round2(duration_us / 1_000_000 / count) if count else 0,
                  "pages_per_session": round2(len(events) / count) if count else 0}
        return result

    @staticmethod
    def chart(events, starts, start, end, zone):
        out = []
        for index, bucket in enumerate(starts):
            low = max(bucket, start)
            high = min(starts[index + 1], end) if index + 1 < len(starts) else end
            inside = [e for e in events if int(low.timestamp()) * 1_000_000 <= e["us"] < int(high.timestamp()) * 1_000_000]
            out.append({"time": label(bucket, zone), "pageviews": len(inside),
                        "visitors": len({e["session_id"] for e in inside})})
        return out

    def lists(self, events, limit):
        def top(counter, empty="(none)"):
            named = Counter()
            for value, count in counter.items():
                named[value or empty] += count
            ordered = sorted(named.items(), key=lambda item: (-item[1], item[0].encode()))
            return ranked(*ordered[:limit])

        result = {key: top(Counter(e[column] for e in events), self.domain if column == "hostname" else "(none)")
                  for key, column in self.LIST_COLUMNS.items()}
        by_session = defaultdict(list)
        for event in events:
            by_session[event["session_id"]].append(event)
        ordered = [sorted(group, key=lambda e: (e["us"], e["id"])) for group in by_session.values()]
        result["top_landing_pages"] = top(Counter(group[0]["path"] for group in ordered))
        result["top_exit_pages"] = top(Counter(group[-1]["path"] for group in ordered))
        return result


def previous_period(start: dt.datetime, end: dt.datetime, from_is_date: bool, zone: str):
    """compare=previous, computed with zoneinfo: from a date, the same clock times N calendar days
    earlier (N: the days from `from`'s to the one of the range's last instant); else the period of
    equal length just before."""
    if not from_is_date:
        return start - (end - start), start
    tz = ZoneInfo(zone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    days = ((end - dt.timedelta(microseconds=1)).astimezone(tz).date() - local_start.date()).days + 1

    def back(local: dt.datetime) -> dt.datetime:
        return (local.replace(tzinfo=None) - dt.timedelta(days=days)).replace(tzinfo=tz).astimezone(dt.timezone.utc)

    return back(local_start), back(local_end)


def expected_response(raw: RawEvents, body: dict, filters: dict, limit: int, zone: str,
                      from_is_date: bool = False) -> dict:
    start, end = parse_time(body["from"]), parse_time(body["to"])
    events = raw.select(start, end, filters)
    expected = {**raw.totals(events),
                "chart_data": raw.chart(events, buckets(start, end, body["interval"], zone), start, end, zone),
                **raw.lists(events, limit)}
    if body["comparison"] is not None:
        previous_start, previous_end = previous_period(start, end, from_is_date, zone)
        before = raw.select(previous_start, previous_end, filters)
        expected["comparison"] = {
            "from": iso(previous_start), "to": iso(previous_end), **raw.totals(before),
            "chart_data": raw.chart(before, buckets(previous_start, previous_end, body["interval"], zone),
                                    previous_start, previous_end, zone)}
    return expected


def iso(instant: dt.datetime) -> str:
    """As the API writes instants: UTC, milliseconds, Z."""
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


@pytest.fixture(scope="module")
def generated_site(stack):
    """A site in New York (summer time ended within the last 30 days of the seed when run in
    November; any time of year, the rollups must agree with the events) with 30 days of generated traffic."""
    from accounts import People
    crowd = People(stack)
    try:
        api = crowd.new()
        site = api.create_site(timezone="America/New_York")
        result = run_cli(stack, "dev", "seed", "--site", site["id"], "--events", "20000", "--days", "45",
                         "--seed", "3", "--batch-size", "700", "--no-closings", timeout=300)
        assert result.returncode == 0, result.stderr
        assert "20,000 events" in result.stderr
        yield api, site, RawEvents(stack, site["id"])
    finally:
        crowd.cleanup()


def test_generated_traffic_is_the_size_asked_for(stack, generated_site):
    _, site, raw = generated_site
    assert len(raw.events) == 20_000
    sessions = Counter(e["session_id"] for e in raw.events)
    assert 3_000 < len(sessions) < 12_000 and max(sessions.values()) > 3
    assert {e["device"] for e in raw.events} == {"desktop", "mobile", "tablet"}
    assert len({e["utm_campaign"] for e in raw.events}) > 3 and len({e["country"] for e in raw.events}) > 10
    # The rollups' totals agree with a direct SQL computation over the events.
    sql = stack.sql(f"""
        SELECT count(*), count(DISTINCT session_id) FROM events WHERE site_id = '{site['id']}'""")[0]
    rollup = stack.sql(f"""
        SELECT sum(pageviews), sum(session_hours) FILTER (WHERE prev_hour = '-infinity')
        FROM traffic_hourly WHERE site_id = '{site['id']}'""")[0]
    assert sql == rollup == ("20000", str(len(sessions)))


@pytest.mark.parametrize("query, zone", [
    ("", "America/New_York"),                                               # the default 30 days, from the rollups
    ("interval=hour&from={d10}&to={d8}", "America/New_York"),
    ("interval=week&from={d40}&to={d1}", "America/New_York"),
    ("interval=month&from={d44}&to={d0}&limit=100", "America/New_York"),
    ("timezone=Asia/Tokyo&from={d20}&to={d2}&limit=25", "Asia/Tokyo"),
    ("timezone=UTC&from={t25}&to={t3}", "UTC"),                             # whole hours, not days
    ("timezone=Asia/Kolkata&from={d12}&to={d4}", "Asia/Kolkata"),            # half-hour offset: raw events
    ("from={m15}&to={m5}", "America/New_York"),                             # not whole hours: raw events
    ("filter=device:mobile&filter=utm_source:(none)", "America/New_York"),  # filters: raw events
    # Filters on visitor profiles' dimensions only: the matching profiles' rollups (migrations/0024).
    ("filter=device:desktop&filter=os:Windows", "America/New_York"),
    ("interval=hour&from={d10}&to={d8}&filter=browser:Chrome&filter=country:(none)", "America/New_York"),
    ("timezone=Asia/Kolkata&from={d12}&to={d4}&filter=country:DE&filter=device:mobile&filter=language:de-DE",
     "Asia/Kolkata"),
    ("filter=path:/pricing&interval=week", "America/New_York"),
    ("from={d6}&to={h0}", "America/New_York"),                              # the dashboard's "last 7 days"
    ("from={d1}&to={h0}&timezone=Asia/Kolkata", "Asia/Kolkata"),            # yesterday and today, half-hour zone
    ("timezone=Asia/Kolkata", "Asia/Kolkata"),                              # the default 30 days: hourly totals, quarter-hour chart
    ("timezone=Asia/Kathmandu&interval=hour&from={t5}", "Asia/Kathmandu"),  # hours at :45 over whole UTC hours
    # One filter, ends inside a quarter hour: the whole quarters' rollups corrected by the sessions
    # with matching page views in the partial quarters (FilteredEdgeCorrection).
    ("from={m15}&to={m5}&filter=device:mobile", "America/New_York"),
    ("from={m15}&to={m5}&filter=path:/pricing&interval=hour", "America/New_York"),
    ("timezone=Asia/Kolkata&from={m9}&to={m1}&filter=country:DE", "Asia/Kolkata"),
])
def test_rollups_agree_with_the_raw_events(stack, generated_site, query, zone):
    api, site, raw = generated_site
    now = dt.datetime.now(dt.timezone.utc)
    local_today = now.astimezone(ZoneInfo(zone)).date()
    values = {f"d{n}": (local_today - dt.timedelta(days=n)).isoformat() for n in range(46)}
    hour = now.replace(minute=0, second=0, microsecond=0)
    values.update({f"t{n}": (hour - dt.timedelta(hours=n * 24 + 7)).strftime("%Y-%m-%dT%H:%M:%SZ") for n in range(30)})
    values.update({f"m{n}": (hour - dt.timedelta(days=n, minutes=17)).strftime("%Y-%m-%dT%H:%M:%SZ") for n in range(30)})
    values["h0"] = (hour + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")   # the end of the current hour
    from_is_date = "from={d" in query
    query = query.format(**values)
    body = stats(api, site["id"], query)
    limit = int(dict(part.split("=", 1) for part in query.split("&") if part).get("limit", 10))
    filters = {}
    for part in query.split("&"):
        if part.startswith("filter="):
            kind, value = part[len("filter="):].split(":", 1)
            filters["referrer_host" if kind == "referrer" else kind] = "" if value == "(none)" else value
    expected = expected_response(raw, body, filters, limit, zone, from_is_date)
    assert body["total_pageviews"] > 0
    for key, value in expected.items():
        assert body[key] == value, key


def test_a_busy_hour_does_not_overflow_the_sums(stack, people):
    # 6000 sessions starting in one hour: hour (µs since 1970) × sessions passes 2^63.
    api = people.new()
    site = api.create_site()
    stack.sql(f"""
        INSERT INTO events (site_id, occurred_at, session_id, path)
        SELECT '{site['id']}', timestamptz '2026-06-01 12:00:00+00' + n * interval '500 ms', 'busy' || n, '/'
        FROM generate_series(0, 5999) AS n""")
    body = stats(api, site["id"], "from=2026-06-01&to=2026-06-01&compare=none")
    assert (body["total_pageviews"], body["unique_sessions"], body["bounce_rate"], body["avg_session_duration"]) == \
        (6000, 6000, 100.0, 0.0)
    assert stack.sql(f"SELECT pageviews, sessions, bounces FROM reporting.daily_stats WHERE site_id = '{site['id']}'") == \
        [("6000", "6000", "6000")]


def test_a_filtered_range_ending_inside_quarter_hours_counts_the_sessions_at_its_edges(stack, people):
    # from 10:07 and to 12:50: the whole quarters are 10:15–12:45, the partial ones 10:07–10:15 and
    # 12:45–12:50. Each session below changes in its own way between the two.
    api = people.new()
    site = api.create_site(timezone="UTC")
    day = "2026-06-02"
    events = [
        ("edge-then-inner", "10:07:00", "mobile"), ("edge-then-inner", "10:20:00", "mobile"),  # no longer a bounce
        ("edge-only", "10:10:30", "mobile"),                                                   # a new session
        ("inner-only", "10:20:00", "mobile"), ("inner-only", "10:25:00", "mobile"),            # unchanged
        ("before-from", "10:05:00", "mobile"), ("before-from", "10:20:00", "mobile"),          # one page view in range
        ("inner-then-edge", "12:40:00", "mobile"), ("inner-then-edge", "12:47:00", "mobile"),  # no longer a bounce
        ("edge-at-end", "12:48:00", "mobile"), ("edge-at-end", "12:55:00", "mobile"),          # one page view in range
        ("not-matching", "10:08:00", "desktop"), ("not-matching", "12:46:00", "desktop"),      # another device
        ("mixed", "10:09:00", "desktop"), ("mixed", "10:30:00", "mobile"),                     # its mobile view alone
    ]
    values = ", ".join(f"('{site['id']}', '{day}T{time}Z', '{session}', '/', '{device}')" for session, time, device in events)
    stack.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, device) VALUES {values}")
    body = stats(api, site["id"], f"from={day}T10:07:00Z&to={day}T12:50:00Z&interval=hour&filter=device:mobile&compare=none")
    # 10 page views in 7 sessions; bounces: edge-only, before-from, edge-at-end, mixed; durations
    # 13 + 5 + 7 minutes.
    assert (body["total_pageviews"], body["unique_sessions"], body["bounce_rate"], body["avg_session_duration"]) == \
        (10, 7, round(400 / 7, 2), round(25 * 60 / 7, 2))
    assert [(point["pageviews"], point["visitors"]) for point in body["chart_data"]] == [(7, 5), (0, 0), (3, 2)]
    assert [(page["name"], page["value"]) for page in body["top_landing_pages"]] == [("/", 7)]


@pytest.fixture(scope="module")
def adversarial_site(stack):
    """Events meant to trip the rollups: long sessions with gaps of days, events exactly on hour
    boundaries, equal timestamps within a session, written out of order in batches of 1 to 60."""
    from accounts import People
    crowd = People(stack)
    try:
        api = crowd.new()
        site = api.create_site(timezone="UTC")
        rng = random.Random(20261126)
        start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
        rows = []
        for number in range(80):
            session = f"adv{number}"
            when = start + dt.timedelta(seconds=rng.randrange(0, 5 * 86_400))
            for _ in range(rng.choice([1, 1, 2, 3, 5, 12, 40])):
                rows.append((session, when, rng.choice(["/", "/a", "/b", "/c", "/d/e", "/f"])))
                step = rng.choice(["same", "boundary", "minutes", "hours", "days"])
                if step == "boundary":
                    when = (when + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
                elif step == "minutes":
                    when += dt.timedelta(minutes=rng.randrange(1, 50), microseconds=rng.randrange(0, 10 ** 6))
                elif step == "hours":
                    when += dt.timedelta(hours=rng.randrange(1, 30))
                elif step == "days":
                    when += dt.timedelta(days=rng.randrange(1, 3), minutes=rng.randrange(0, 600))
        rng.shuffle(rows)
        index = 0
        while index < len(rows):
            size = rng.choice([1, 1, 1, 3, 10, 60])
            values = ", ".join(f"('{site['id']}', '{when.isoformat()}', '{session}', '{path}')"
                               for session, when, path in rows[index:index + size])
            stack.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path) VALUES {values}")
            index += size
        yield api, site, RawEvents(stack, site["id"]), start
    finally:
        crowd.cleanup()


def assert_matches_raw_events(api, site, raw, query, zone="UTC"):
    """The stats API's answer to `query` (limit 100) equals the §5.3 numbers computed from `raw`."""
    body = stats(api, site["id"], f"{query}&limit=100" + (f"&timezone={zone}" if zone != "UTC" else ""))
    expected = expected_response(raw, body, {}, 100, zone)
    for key, value in expected.items():
        assert body[key] == value, (key, query, zone)


def span_query(begin, end, interval):
    return (f"from={begin.strftime('%Y-%m-%dT%H:%M:%SZ')}&to={end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            f"&interval={interval}")


@pytest.mark.parametrize("seed", range(24))
def test_rollups_agree_with_the_raw_events_on_adversarial_traffic(stack, adversarial_site, seed):
    api, site, raw, start = adversarial_site
    rng = random.Random(seed)
    first = rng.randrange(-24, 7 * 24)
    length = rng.choice([1, 2, 5, 23, 24, 49, 100, 24 * 7])
    begin = start + dt.timedelta(hours=first)
    end = begin + dt.timedelta(hours=length)
    interval = rng.choice(["hour", "day", "week"]) if length <= 24 * 7 else "day"
    assert_matches_raw_events(api, site, raw, span_query(begin, end, interval))


@pytest.mark.parametrize("seed", range(24))
def test_ranges_with_partial_hours_agree_with_the_raw_events(stack, adversarial_site, seed):
    # Rollups for the whole hours inside, corrected by the events of the partial hours at the ends.
    api, site, raw, start = adversarial_site
    rng = random.Random(1000 + seed)
    begin = start + dt.timedelta(hours=rng.randrange(-2, 6 * 24), minutes=rng.randrange(0, 60),
                                 seconds=rng.randrange(0, 60))
    end = begin + dt.timedelta(hours=rng.choice([1, 2, 3, 7, 30, 100]), minutes=rng.randrange(-59, 60),
                               seconds=rng.randrange(0, 60))
    interval = rng.choice(["hour", "day"])
    assert_matches_raw_events(api, site, raw, span_query(begin, end, interval))


@pytest.mark.parametrize("seed", range(16))
def test_zones_with_partial_hour_offsets_agree_with_the_raw_events(stack, adversarial_site, seed):
    # Day and hour buckets in India (+05:30) and Nepal (+05:45) start inside UTC hours.
    api, site, raw, start = adversarial_site
    rng = random.Random(2000 + seed)
    zone = rng.choice(["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
    if rng.random() < 0.5:
        day = (start + dt.timedelta(days=rng.randrange(-1, 6))).date()
        query = f"from={day}&to={day + dt.timedelta(days=rng.randrange(0, 4))}&interval={rng.choice(['hour', 'day'])}"
    else:
        begin = start + dt.timedelta(hours=rng.randrange(0, 5 * 24), minutes=rng.choice([0, 15, 30, 45, 7]))
        end = begin + dt.timedelta(hours=rng.choice([2, 5, 26, 80]), minutes=rng.choice([0, 30, 13]))
        query = span_query(begin, end, rng.choice(['hour', 'day', 'week']))
    assert_matches_raw_events(api, site, raw, query, zone)


def test_concurrent_writers_keep_the_rollups_exact(stack, people):
    # Eight clients at once, sharing sessions, tracker events (server clock) and backfills in the
    # past hours: the per-site lock must serialise their rollup updates without losing any.
    import json as json_module
    from concurrent.futures import ThreadPoolExecutor

    import requests

    api = people.new()
    site = api.create_site(timezone="UTC")
    now = dt.datetime.now(dt.timezone.utc)

    def client(number):
        rng = random.Random(number)
        statuses = []
        with requests.Session() as http:
            for step in range(40):
                session = f"shared{rng.randrange(6)}"
                if step % 2:
                    response = http.post(stack.base_url + "/ingest", timeout=10, data=json_module.dumps(
                        {"path": f"/p{rng.randrange(5)}", "session_id": session}),
                        headers={"Origin": f"https://{site['domain']}", "Content-Type": "text/plain",
                                 "User-Agent": CHROME_WINDOWS})
                else:
                    when = now - dt.timedelta(minutes=rng.randrange(0, 300))
                    response = http.post(stack.base_url + "/api/ingest/server/pageview", timeout=10, json={
                        "site_id": site["id"], "url": f"https://x.test/q{rng.randrange(5)}", "user_agent": SAFARI_IPHONE,
                        "session_id": session, "timestamp": when.isoformat()}, headers={"Cookie": f"hk_token={api.cookie}"})
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [status for result in pool.map(client, range(8)) for status in result]
    assert statuses == [202] * 320
    raw = RawEvents(stack, site["id"])
    assert len(raw.events) == 320
    body = stats(api, site["id"], "limit=100")
    expected = expected_response(raw, body, {}, 100, "UTC")
    for key, value in expected.items():
        assert body[key] == value, key
    assert body["total_pageviews"] == 320 and body["live_visitors"] >= 1
