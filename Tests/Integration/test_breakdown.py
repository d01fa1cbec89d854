"""Breakdowns (docs/API.md §10.5, issue 14 item 3): known answers for hand-made traffic (the session
ends, `(none)`, a path with a comma and a double quote, rounding), agreement with a computation in
Python over the stored events for every dimension and order, every row reachable through pages of
any size, cursors that survive new events and refuse other questions, CSV byte for byte, and a clear
4xx for every bad request."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import random
import urllib.parse
import zlib
from collections import defaultdict

import pytest

from accounts import Api, assert_json, assert_problem, people  # noqa: F401 (people: a fixture)
from test_stats import CHROME_ANDROID, CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE, round2

QUOTED_PATH = '/a,b"c'

# (session, UTC time, path, user agent, referrer, campaign) on 2026-10-25 (the range asked for, in
# UTC), plus one page view the evening before.
KNOWN_EVENTS = [
    ("s1", "2026-10-25T10:00:00Z", "/", CHROME_WINDOWS, "https://www.google.com/search?q=1", None),
    ("s1", "2026-10-25T10:05:00Z", "/pricing", CHROME_WINDOWS, None, None),
    ("s1", "2026-10-25T10:20:00Z", QUOTED_PATH, CHROME_WINDOWS, None, None),
    ("s2", "2026-10-25T11:00:00Z", "/pricing", SAFARI_IPHONE, "https://news.ycombinator.com/item?id=7", 'spring,"24"'),
    ("s3", "2026-10-25T12:00:00Z", "/", CHROME_ANDROID, None, None),
    ("s3", "2026-10-25T12:01:00Z", "/", CHROME_ANDROID, None, None),
    ("s4", "2026-10-25T13:00:00Z", "/pricing", FIREFOX_LINUX, None, None),
    ("s4", "2026-10-25T13:30:00Z", "/docs", FIREFOX_LINUX, None, None),
    ("s5", "2026-10-24T23:50:00Z", "/old", SAFARI_IPHONE, None, None),
    ("s5", "2026-10-25T00:10:00Z", "/docs", SAFARI_IPHONE, None, None),
    ("s6", "2026-10-25T14:00:00.000Z", "/x", FIREFOX_LINUX, None, None),
    ("s6", "2026-10-25T14:00:00.125Z", "/x", FIREFOX_LINUX, None, None),
]
DAY = "from=2026-10-25&to=2026-10-25&timezone=UTC"
METRICS = ["pageviews", "visitors", "bounce_rate", "avg_session_duration"]
ROW_KEYS = ["name", *METRICS]
RESPONSE_KEYS = ["site_id", "from", "to", "timezone", "dimension", "order_by", "order", "rows", "next_cursor"]
DIMENSIONS = ["path", "landing", "exit", "referrer", "device", "browser", "os", "country", "language", "utm_source",
              "utm_medium", "utm_campaign", "hostname"]
CSV_HEADER = "name,pageviews,visitors,bounce_rate,avg_session_duration\r\n"


def ingest(api, site_id, session, when, path, user_agent, referrer=None, campaign=None, host="x.test"):
    url = f"https://{host}{path}"
    if campaign:
        url += "?" + urllib.parse.urlencode({"utm_campaign": campaign})
    body = {"site_id": site_id, "url": url, "user_agent": user_agent, "session_id": session, "timestamp": when}
    if referrer:
        body["referrer"] = referrer
    response = api.post("/api/ingest/server/pageview", json=body)
    assert response.status_code == 202, response.text
    assert "HitKeep-Dropped" not in response.headers, response.headers


def store_known_events(stack, api, site_id):
    for event in KNOWN_EVENTS:
        if event[2] != QUOTED_PATH:
            ingest(api, site_id, *event)
    # Ingestion keeps a path as the URL spells it, and a URL spells a double quote %22: this one is
    # stored as a path it might hold after an import, through the same triggers as any event,
    # with the rest of its session's fields.
    session, when, path = next(event[:3] for event in KNOWN_EVENTS if event[2] == QUOTED_PATH)
    stack.sql(f"SELECT fold_queued_events('{site_id}')")
    stack.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, device, browser, os) "
              f"SELECT site_id, '{when}', session_id, '{path}', device, browser, os FROM events "
              f"WHERE site_id = '{site_id}' AND session_id = '{session}' LIMIT 1")


@pytest.fixture
def known_site(stack, people):
    api = people.new()
    site = api.create_site(timezone="Europe/Berlin")
    store_known_events(stack, api, site["id"])
    return api, site


def row(name, pageviews, visitors, bounce_rate, duration):
    return {"name": name, "pageviews": pageviews, "visitors": visitors, "bounce_rate": bounce_rate,
            "avg_session_duration": duration}


def breakdown(api, site_id, query, status=200, headers=None):
    response = api.get(f"/api/sites/{site_id}/stats/breakdown?{query}", headers=headers)
    return assert_json(response, status)


def every_row(api, site_id, query, page_size):
    """Every row by following next_cursor, and how many pages that took."""
    rows, pages, cursor = [], 0, None
    while True:
        suffix = f"&page_size={page_size}" + (f"&cursor={cursor}" if cursor else "")
        body = breakdown(api, site_id, query + suffix)
        pages += 1
        assert len(body["rows"]) <= page_size
        rows += body["rows"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages
        assert len(body["rows"]) == page_size
        assert pages < 1000


# --- known answers --------------------------------------------------------------------------------

PATH_ROWS = [
    # s1 once (a bounce on this page) and s3 twice a minute apart.
    row("/", 3, 2, 50, 30),
    row("/pricing", 3, 3, 100, 0),
    row("/docs", 2, 2, 100, 0),
    # 0.125 s: the half rounds away from zero.
    row("/x", 2, 1, 0, 0.13),
    row(QUOTED_PATH, 1, 1, 100, 0),
]


def test_known_answers_by_path(stack, known_site):
    api, site = known_site
    body = breakdown(api, site["id"], f"dimension=path&{DAY}")
    assert list(body) == RESPONSE_KEYS
    assert body == {"site_id": site["id"], "from": "2026-10-25T00:00:00.000Z", "to": "2026-10-26T00:00:00.000Z",
                    "timezone": "UTC", "dimension": "path", "order_by": "pageviews", "order": "desc",
                    "rows": PATH_ROWS, "next_cursor": None}
    assert all(list(item) == ROW_KEYS for item in body["rows"])
    # The site's zone by default: the Berlin day starts at 22:00 UTC the day before (s5's /old).
    body = breakdown(api, site["id"], "dimension=path&from=2026-10-25&to=2026-10-25&order=asc")
    assert (body["from"], body["timezone"], body["order"]) == ("2026-10-24T22:00:00.000Z", "Europe/Berlin", "asc")
    assert body["rows"][:2] == [row(QUOTED_PATH, 1, 1, 100, 0), row("/old", 1, 1, 100, 0)]


def test_known_answers_for_landing_and_exit_pages(stack, known_site):
    api, site = known_site
    landing = breakdown(api, site["id"], f"dimension=landing&{DAY}")
    assert landing["dimension"] == "landing"
    # Sessions that started there, with all their page views in the range: s1 (3 pages, 20 min)
    # and s3 (2, 1 min) on /; s2 (a bounce) and s4 (2, 30 min) on /pricing; s6 on /x; s5 on /docs,
    # its /old being before the range.
    assert landing["rows"] == [
        row("/", 5, 2, 0, 630), row("/pricing", 3, 2, 50, 900), row("/x", 2, 1, 0, 0.13), row("/docs", 1, 1, 100, 0)]
    # The registry's name for it is accepted as well, and answered under the API's.
    assert breakdown(api, site["id"], f"dimension=entry&{DAY}") == landing
    exits = breakdown(api, site["id"], f"dimension=exit&{DAY}")
    # Ties by name in byte order: '/a…' before '/d…', '/' before '/x'.
    assert exits["rows"] == [
        row(QUOTED_PATH, 3, 1, 0, 1200), row("/docs", 3, 2, 50, 900), row("/", 2, 1, 0, 60), row("/x", 2, 1, 0, 0.13),
        row("/pricing", 1, 1, 100, 0)]
    # The sum of a session-end breakdown's visitors is every session in the range.
    assert sum(item["visitors"] for item in exits["rows"]) == sum(item["visitors"] for item in landing["rows"]) == 6
    # Ordered by visitors, then by name.
    by_visitors = breakdown(api, site["id"], f"dimension=exit&order_by=visitors&{DAY}")
    assert [item["name"] for item in by_visitors["rows"]] == ["/docs", "/", QUOTED_PATH, "/pricing", "/x"]


def test_known_answers_with_none_values_and_rounding(stack, known_site):
    api, site = known_site
    # 2760.125 s over 5 sessions is 552.025: a half, rounded away from zero.
    assert breakdown(api, site["id"], f"dimension=referrer&{DAY}")["rows"] == [
        row("(none)", 9, 5, 20, 552.03), row("google.com", 1, 1, 100, 0), row("news.ycombinator.com", 1, 1, 100, 0)]
    assert breakdown(api, site["id"], f"dimension=country&{DAY}")["rows"] == [row("(none)", 11, 6, 33.33, 510.02)]
    devices = breakdown(api, site["id"], f"dimension=device&order_by=bounce_rate&{DAY}")
    assert devices["rows"] == [row("mobile", 4, 3, 66.67, 20), row("desktop", 7, 3, 0, 1000.04)]
    campaigns = breakdown(api, site["id"], f"dimension=utm_campaign&order_by=avg_session_duration&order=asc&{DAY}")
    assert campaigns["rows"] == [row('spring,"24"', 1, 1, 100, 0), row("(none)", 10, 5, 20, 612.03)]
    # Filters narrow the page views first: desktop page views only, then by path.
    filtered = breakdown(api, site["id"], f"dimension=path&filter=device:desktop&filter=path:/pricing&{DAY}")
    assert filtered["rows"] == [row("/pricing", 2, 2, 100, 0)]
    assert breakdown(api, site["id"], f"dimension=browser&filter=os:iOS&filter=browser:Firefox&{DAY}")["rows"] == []


def test_a_row_reads_as_the_stats_filtered_on_its_value(stack, people):
    """189 s over 40 sessions is 4.725 s, which no double holds: the stats endpoint rounds the double
    nearest to it (4.72499…) to 4.72, and a breakdown row rounds the same way, so the two agree."""
    api = people.new()
    site = api.create_site(timezone="UTC")
    ingest(api, site["id"], "long", "2026-10-25T10:00:00Z", "/slow", FIREFOX_LINUX)
    ingest(api, site["id"], "long", "2026-10-25T10:03:09Z", "/slow", FIREFOX_LINUX)
    for index in range(39):
        ingest(api, site["id"], f"bounce{index}", f"2026-10-25T11:{index:02d}:00Z", "/slow", FIREFOX_LINUX)
    stats = assert_json(api.get(f"/api/sites/{site['id']}/stats?{DAY}&filter=path:/slow"))
    assert (stats["total_pageviews"], stats["unique_sessions"], stats["bounce_rate"], stats["avg_session_duration"]) == \
        (41, 40, 97.5, 4.72)
    rows = breakdown(api, site["id"], f"dimension=path&{DAY}")["rows"]
    assert rows == [row("/slow", 41, 40, 97.5, 4.72)]
    csv_text = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}&format=csv").text
    assert csv_text == CSV_HEADER + "/slow,41,40,97.5,4.72\r\n"


# --- agreement with the stored events -------------------------------------------------------------

COLUMNS = {"path": "path", "referrer": "referrer_host", "device": "device", "browser": "browser", "os": "os",
           "country": "country", "language": "language", "utm_source": "utm_source", "utm_medium": "utm_medium",
           "utm_campaign": "utm_campaign", "hostname": "hostname"}


def stored_events(stack, site_id):
    """Every event of the site, its queue folded first (as a stats request does)."""
    stack.sql(f"SELECT fold_queued_events('{site_id}')")
    columns = ", ".join(COLUMNS.values())
    rows = stack.sql(f"SELECT id, session_id, (extract(epoch FROM occurred_at) * 1000000)::bigint, {columns} "
                     f"FROM events WHERE site_id = '{site_id}'")
    return [{"id": int(item[0]), "session": item[1], "us": int(item[2]),
             **{name: item[3 + index] or "" for index, name in enumerate(COLUMNS)}} for item in rows]


def expected_rows(events, dimension, start_us, end_us, filters=(), order_by="pageviews", order="desc", domain=None):
    """docs/API.md §10.5 computed in Python from the stored events, rates and means rounded as the
    stats endpoint rounds them (`round2`: of the same double). The hostname '' is the site's
    `domain`, and named by it."""
    matching = [event for event in events if start_us <= event["us"] < end_us
                and all(event[kind] == value for kind, value in filters)]
    groups = defaultdict(lambda: defaultdict(list))  # value → session → its page views
    if dimension in ("landing", "exit"):
        sessions = defaultdict(list)
        for event in matching:
            sessions[event["session"]].append(event)
        for session, views in sessions.items():
            views.sort(key=lambda event: (event["us"], event["id"]))
            end = views[0] if dimension == "landing" else views[-1]
            groups[end["path"]][session] = views
    else:
        for event in matching:
            groups[event[dimension]][event["session"]].append(event)
    rows = []
    for value, sessions in groups.items():
        durations = sum((max(e["us"] for e in views) - min(e["us"] for e in views)) for views in sessions.values())
        rows.append({"value": value, "name": value or (domain if dimension == "hostname" else "(none)"),
                     "pageviews": sum(len(views) for views in sessions.values()), "visitors": len(sessions),
                     "bounce_rate": round2(100 * sum(len(v) == 1 for v in sessions.values()) / len(sessions)),
                     "avg_session_duration": round2(durations / 1_000_000 / len(sessions))})
    rows.sort(key=lambda item: (item["name"].encode(), item["value"].encode()))
    rows.sort(key=lambda item: item[order_by], reverse=order == "desc")
    return [{key: item[key] for key in ROW_KEYS} for item in rows]


def microseconds(text: str) -> int:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1_000_000)


@pytest.fixture
def generated_site(stack, people):
    """Some hundreds of page views in 60 sessions over a day: many values per dimension, many ties."""
    generator = random.Random(14)
    api = people.new()
    site = api.create_site(timezone="UTC")
    agents = [CHROME_WINDOWS, SAFARI_IPHONE, CHROME_ANDROID, FIREFOX_LINUX]
    referrers = [None, None, "https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/x"]
    paths = ["/", "/pricing", "/docs", "/blog", QUOTED_PATH, "/a", "/b,c"] + [f"/p{index}" for index in range(25)]
    start = dt.datetime(2026, 10, 25, tzinfo=dt.timezone.utc)
    for session in range(60):
        when = start + dt.timedelta(seconds=generator.randrange(0, 86_000))
        agent = generator.choice(agents)
        referrer = generator.choice(referrers)
        campaign = generator.choice([None, None, "launch", "b,c", 'q"q'])
        host = generator.choice([site["domain"], site["domain"], "blog." + site["domain"], "x.test"])
        for view in range(generator.choice([1, 1, 2, 3, 5])):
            ingest(api, site["id"], f"g{session}", when.isoformat().replace("+00:00", "Z"), generator.choice(paths),
                   agent, referrer if view == 0 else None, campaign if view == 0 else None, host)
            when += dt.timedelta(seconds=generator.randrange(1, 900), microseconds=generator.randrange(0, 1_000_000))
    return api, site


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_every_dimension_agrees_with_the_stored_events_in_every_order(stack, generated_site, dimension):
    api, site = generated_site
    query = f"dimension={dimension}&from=2026-10-25T03:00:00Z&to=2026-10-25T21:30:00.5Z"
    events = stored_events(stack, site["id"])
    start, end = microseconds("2026-10-25T03:00:00Z"), microseconds("2026-10-25T21:30:00.5Z")
    for order_by in METRICS:
        for order in ("desc", "asc"):
            body = breakdown(api, site["id"], f"{query}&order_by={order_by}&order={order}&page_size=1000")
            assert body["next_cursor"] is None
            assert body["rows"] == expected_rows(events, dimension, start, end, order_by=order_by, order=order,
                                                 domain=site["domain"]), \
                (order_by, order)
    filtered = breakdown(api, site["id"], f"{query}&filter=device:mobile&filter=referrer:(none)")
    assert filtered["rows"] == expected_rows(events, dimension, start, end,
                                             filters=(("device", "mobile"), ("referrer", "")),
                                             domain=site["domain"])[:100]


@pytest.mark.parametrize("dimension, order_by, order", [
    ("path", "pageviews", "desc"), ("path", "visitors", "asc"), ("landing", "bounce_rate", "desc"),
    ("exit", "avg_session_duration", "asc"), ("utm_campaign", "pageviews", "asc"), ("browser", "bounce_rate", "asc"),
])
def test_pages_of_any_size_hold_every_row_once(stack, generated_site, dimension, order_by, order):
    api, site = generated_site
    query = f"dimension={dimension}&from=2026-10-25&to=2026-10-25&order_by={order_by}&order={order}"
    whole = breakdown(api, site["id"], query + "&page_size=1000")
    assert whole["next_cursor"] is None
    assert len(whole["rows"]) == len({item["name"] for item in whole["rows"]})
    for size in (1, 2, 7):
        rows, pages = every_row(api, site["id"], query, size)
        assert rows == whole["rows"], size
        # The page that ends at the last row says so: no empty page follows.
        assert pages == max(1, -(-len(rows) // size)), size


def test_a_page_that_ends_exactly_at_the_last_row_has_no_next_cursor(stack, known_site):
    api, site = known_site
    body = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=5")
    assert len(body["rows"]) == 5 and body["next_cursor"] is None
    body = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=4")
    assert body["rows"] == PATH_ROWS[:4] and body["next_cursor"] is not None
    last = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=4&cursor={body['next_cursor']}")
    assert last["rows"] == PATH_ROWS[4:] and last["next_cursor"] is None
    # The default page is 100 rows.
    assert len(breakdown(api, site["id"], "dimension=path&from=2020-01-01&to=2020-01-01")["rows"]) == 0


def test_cursors_keep_their_place_when_new_events_arrive(stack, known_site):
    api, site = known_site
    first = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=2")
    assert first["rows"] == PATH_ROWS[:2]
    # New page views in the range: a new page that now leads (before the place the cursor holds),
    # and one more on /x, which moves up to 3 page views but still sorts after /pricing by name.
    for index in range(4):
        ingest(api, site["id"], f"late{index}", f"2026-10-25T20:0{index}:00Z", "/new", FIREFOX_LINUX)
    ingest(api, site["id"], "late9", "2026-10-25T21:00:00Z", "/x", FIREFOX_LINUX)
    second = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=2&cursor={first['next_cursor']}")
    # The rows after the last one seen (/pricing at 3 page views), as they read now.
    assert second["rows"] == [row("/x", 3, 2, 50, 0.06), row("/docs", 2, 2, 100, 0)]
    third = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=2&cursor={second['next_cursor']}")
    assert third["rows"] == [row(QUOTED_PATH, 1, 1, 100, 0)] and third["next_cursor"] is None
    # A fresh listing sees the new page first.
    assert breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=1")["rows"] == [row("/new", 4, 4, 100, 0)]


def test_a_default_range_keeps_its_period_across_pages(stack, people):
    api = people.new()
    site = api.create_site(timezone="UTC")
    now = dt.datetime.now(dt.timezone.utc)
    for index in range(3):
        ingest(api, site["id"], f"n{index}", (now - dt.timedelta(minutes=index + 1)).isoformat(), f"/{index}", FIREFOX_LINUX)
    first = breakdown(api, site["id"], "dimension=path&page_size=2")
    second = breakdown(api, site["id"], f"dimension=path&page_size=2&cursor={first['next_cursor']}")
    assert (second["from"], second["to"]) == (first["from"], first["to"])
    assert [item["name"] for item in first["rows"] + second["rows"]] == ["/0", "/1", "/2"]


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_byte_for_byte(stack, known_site):
    api, site = known_site
    response = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}&format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{site["domain"]}-path-2026-10-25-2026-10-25.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content == (CSV_HEADER + "/,3,2,50,30\r\n/pricing,3,3,100,0\r\n/docs,2,2,100,0\r\n/x,2,1,0,0.13\r\n"
                                '"/a,b""c",1,1,100,0\r\n').encode()
    # The Accept header asks for the same.
    by_header = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}", headers={"Accept": "text/csv"})
    assert by_header.content == response.content
    assert by_header.headers["Content-Type"] == "text/csv; charset=utf-8"
    # A browser's Accept list, or JSON preferred, gets JSON; format=json wins over the header.
    for accept in ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json, text/csv;q=0.5", "*/*"):
        assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}", headers={"Accept": accept}))
    assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}&format=json",
                        headers={"Accept": "text/csv"}))


def test_csv_of_the_session_ends_and_none_values_with_dates_in_the_zone(stack, known_site):
    api, site = known_site
    response = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=landing&from=2026-10-24&to=2026-10-25"
                       f"&order_by=visitors&order=asc&format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{site["domain"]}-landing-2026-10-24-2026-10-25.csv"'
    # Berlin days: s5 starts on /old at 01:50 local on the 25th, 20 minutes before its /docs.
    assert response.text.startswith(CSV_HEADER)
    lines = response.content.decode().split("\r\n")
    assert lines[-1] == "" and "\n" not in "".join(lines)
    assert lines[1:-1] == ["/old,2,1,0,1200", "/x,2,1,0,0.13", "/,5,2,0,630", "/pricing,3,2,50,900"]
    campaigns = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=utm_campaign&{DAY}",
                        headers={"Accept": "text/csv"})
    assert campaigns.content.decode() == CSV_HEADER + '(none),10,5,20,612.03\r\n"spring,""24""",1,1,100,0\r\n'
    # No rows: the header line alone.
    empty = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=os&from=2020-01-01&to=2020-01-01&format=csv")
    assert empty.content == CSV_HEADER.encode()


def test_csv_holds_every_row_beyond_the_largest_page(stack, generated_site):
    api, site = generated_site
    query = "dimension=path&from=2026-10-25&to=2026-10-25&order_by=visitors&order=asc"
    rows = breakdown(api, site["id"], query + "&page_size=1000")["rows"]
    text = api.get(f"/api/sites/{site['id']}/stats/breakdown?{query}&format=csv").content.decode()
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == CSV_HEADER.strip().split(",")
    assert [line[0] for line in parsed[1:]] == [item["name"] for item in rows]
    assert [int(line[1]) for line in parsed[1:]] == [item["pageviews"] for item in rows]
    assert [float(line[4]) for line in parsed[1:]] == [item["avg_session_duration"] for item in rows]


# --- access ---------------------------------------------------------------------------------------

def test_breakdowns_with_a_stats_read_token_within_its_sites(stack, known_site):
    api, site = known_site
    token = api.create_client(scopes=["stats:read"], site_ids=[site["id"]])["token"]
    assert breakdown(api.with_token(token), site["id"], f"dimension=path&{DAY}")["rows"] == PATH_ROWS
    other = api.create_site()
    limited = api.with_token(token)
    assert_problem(limited.get(f"/api/sites/{other['id']}/stats/breakdown?dimension=path"), 404, "not_found")
    assert_problem(limited.get(f"/api/sites/{other['id']}/stats/breakdown?dimension=path&format=csv"), 404, "not_found")
    writer = api.create_client(scopes=["ingest:write"])["token"]
    assert_problem(api.with_token(writer).get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path"), 403,
                   "insufficient_scope")
    assert_problem(Api(stack.base_url).get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path"), 401)


def test_csv_of_a_site_not_visible_is_404(stack, known_site, people):
    _, site = known_site
    stranger = people.new()
    for headers, suffix in ((None, "&format=csv"), ({"Accept": "text/csv"}, "")):
        response = stranger.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path{suffix}", headers=headers)
        assert_problem(response, 404, "not_found")
    # Even with bad parameters: whether the site exists is not told.
    assert_problem(stranger.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=nope&format=csv"), 404, "not_found")
    assert_problem(stranger.get("/api/sites/01ARZ3NDEKTSV4RRFFQ69G5FAV/stats/breakdown?dimension=path&format=csv"),
                   404, "not_found")


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, code", [
    ("", "invalid_dimension"),
    ("dimension=city", "invalid_dimension"),
    ("dimension=PATH", "invalid_dimension"),
    ("dimension=", "invalid_dimension"),
    ("dimension=path&order_by=sessions", "invalid_order"),
    ("dimension=path&order_by=", "invalid_order"),
    ("dimension=path&order=up", "invalid_order"),
    ("dimension=path&order=DESC", "invalid_order"),
    ("dimension=path&page_size=0", "invalid_page_size"),
    ("dimension=path&page_size=5000", "invalid_page_size"),
    ("dimension=path&page_size=1001", "invalid_page_size"),
    ("dimension=path&page_size=-1", "invalid_page_size"),
    ("dimension=path&page_size=ten", "invalid_page_size"),
    ("dimension=path&page_size=2.5", "invalid_page_size"),
    ("dimension=path&cursor=", "invalid_cursor"),
    ("dimension=path&cursor=not%20a%20cursor", "invalid_cursor"),
    ("dimension=path&cursor=AAAA", "invalid_cursor"),
    ("dimension=path&format=xml", "invalid_format"),
    ("dimension=path&format=csv&page_size=10", "invalid_parameter"),
    ("dimension=path&format=csv&cursor=AAAA", "invalid_parameter"),
    ("dimension=path&limit=10", "invalid_parameter"),
    ("dimension=path&interval=day", "invalid_parameter"),
    ("dimension=path&pagesize=10", "invalid_parameter"),
    ("dimension=path&from=2026-10-26&to=2026-10-25", "invalid_range"),
    ("dimension=path&from=yesterday", "invalid_date"),
    ("dimension=path&timezone=Mars/Olympus_Mons", "invalid_timezone"),
    ("dimension=path&filter=city:Berlin", "invalid_filter"),
    ("dimension=path&filter=device:phone", "invalid_filter"),
])
def test_bad_parameters_are_400(stack, known_site, query, code):
    api, site = known_site
    assert_problem(api.get(f"/api/sites/{site['id']}/stats/breakdown?{query}"), 400, code)


def test_csv_with_page_parameters_is_400_also_when_asked_for_by_accept(stack, known_site):
    api, site = known_site
    response = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&page_size=5", headers={"Accept": "text/csv"})
    body = assert_problem(response, 400, "invalid_parameter")
    assert "page_size" in body["detail"]


def tampered(cursor: str) -> list[str]:
    """The cursor cut short, lengthened, and with single characters changed throughout."""
    changed = []
    for index in range(0, len(cursor), max(1, len(cursor) // 12)):
        replacement = "A" if cursor[index] != "A" else "B"
        changed.append(cursor[:index] + replacement + cursor[index + 1:])
    # The last character carries unused bits: changing only them is a change too.
    last = cursor[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    changed.append(cursor[:-1] + alphabet[alphabet.index(last) ^ 1])
    return [cursor[:-1], cursor[:-4], cursor[:10], cursor + "A", cursor + "AAAA", cursor + "=", "x" + cursor, *changed]


def test_tampered_truncated_and_foreign_cursors_are_400(stack, known_site, people):
    api, site = known_site
    first = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=1")
    cursor = first["next_cursor"]
    assert breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=1&cursor={cursor}")["rows"] == PATH_ROWS[1:2]
    for bad in tampered(cursor):
        query = f"dimension=path&{DAY}&page_size=1&cursor={urllib.parse.quote(bad)}"
        assert_problem(api.get(f"/api/sites/{site['id']}/stats/breakdown?{query}"), 400, "invalid_cursor")
    # The same cursor for another question: each part of the question counts.
    for other in (f"dimension=exit&{DAY}", f"dimension=path&{DAY}&order=asc", f"dimension=path&{DAY}&order_by=visitors",
                  f"dimension=path&{DAY}&filter=device:mobile", "dimension=path&from=2026-10-25&to=2026-10-25",
                  "dimension=path&from=2026-10-25&to=2026-10-26&timezone=UTC", "dimension=path&timezone=UTC"):
        response = api.get(f"/api/sites/{site['id']}/stats/breakdown?{other}&page_size=1&cursor={cursor}")
        body = assert_problem(response, 400, "invalid_cursor")
        assert "another question" in body["detail"]
    # The page size may change between pages; so may the order of the filters.
    assert breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=3&cursor={cursor}")["rows"] == PATH_ROWS[1:4]
    filtered = breakdown(api, site["id"], f"dimension=path&{DAY}&filter=device:desktop&filter=os:Linux&page_size=1")
    swapped = f"dimension=path&{DAY}&filter=os:Linux&filter=device:desktop&page_size=1&cursor={filtered['next_cursor']}"
    assert breakdown(api, site["id"], swapped)["rows"] == [row("/docs", 1, 1, 100, 0)]
    # Another site's cursor, for the same question on that site, is refused here.
    other_site = api.create_site(timezone="UTC")
    store_known_events(stack, api, other_site["id"])
    foreign = breakdown(api, other_site["id"], f"dimension=path&{DAY}&page_size=1")["next_cursor"]
    assert foreign and foreign != cursor
    response = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}&page_size=1&cursor={foreign}")
    assert_problem(response, 400, "invalid_cursor")


def test_a_cursor_with_a_forged_checksum_still_belongs_to_its_question(stack, known_site):
    """The checksum is no secret: a cursor rewritten with a correct one keeps the fingerprint's check."""
    api, site = known_site
    cursor = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=1")["next_cursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[3] ^= 0xFF  # inside the fingerprint
    body = bytes(raw[:-4])
    forged = base64.urlsafe_b64encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("=")
    response = api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{DAY}&page_size=1&cursor={forged}")
    assert_problem(response, 400, "invalid_cursor")
    # A forged position with a correct fingerprint and checksum only moves the start: still 200.
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    body = bytes(raw[:-4 - len("/")]) + b"/pricing"
    forged = base64.urlsafe_b64encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("=")
    moved = breakdown(api, site["id"], f"dimension=path&{DAY}&page_size=10&cursor={forged}")
    assert moved["rows"] == PATH_ROWS[2:]


@pytest.mark.parametrize("site_id", ["not-a-ulid", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "%27%20OR%201=1"])
def test_breakdowns_of_sites_that_are_not_there_are_404(stack, people, site_id):
    assert_problem(people.new().get(f"/api/sites/{site_id}/stats/breakdown?dimension=path"), 404)
