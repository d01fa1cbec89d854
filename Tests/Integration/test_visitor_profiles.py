"""Several filters on who the visitor is — device, browser, os, country, language — are answered
from the rollups' visitor profiles (migrations/0024): exactly, after the raw events are gone, and
corrected by its own raw events for a session in the range that changed its profile on the way
between two profiles that both match (0044, `MixedSessionCorrection`)."""

from __future__ import annotations

import datetime as dt
import random
import urllib.parse

import pytest

from accounts import People, assert_problem, deployment
from test_partitions import OLD_DAY, ingest, remove_every_raw_event, stats
from test_stats import CHROME_ANDROID, CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE, RawEvents, expected_response
from test_stats_properties import ORDER_BY, PROFILE_COLUMNS, ZONES, differences, expected_breakdown

PURE_HOURS = f"from={OLD_DAY}T08:00:00Z&to={OLD_DAY}T13:00:00Z"
# (query, filters as the oracle reads them); none holds the session that changed device.
FROM_PROFILES = [
    (f"{PURE_HOURS}&filter=device:mobile&filter=os:iOS", {"device": "mobile", "os": "iOS"}),
    (f"{PURE_HOURS}&filter=device:desktop&filter=browser:Chrome&interval=hour",
     {"device": "desktop", "browser": "Chrome"}),
    # Hours at :30 in India: quarter-hour buckets; three filters, one of them on no country.
    (f"{PURE_HOURS}&timezone=Asia/Kolkata&interval=hour&filter=device:mobile&filter=browser:Chrome"
     f"&filter=country:(none)", {"device": "mobile", "browser": "Chrome", "country": ""}),
    # In any case, as single filters are.
    (f"{PURE_HOURS}&filter=device:Desktop&filter=os:windows", {"device": "desktop", "os": "Windows"}),
    # Two values of one dimension: no page view has both.
    (f"{PURE_HOURS}&filter=device:desktop&filter=device:mobile", {"device": "no device has both"}),
    # A value nobody had.
    (f"{PURE_HOURS}&filter=device:tablet&filter=os:Android", {"device": "tablet", "os": "Android"}),
]
# (dimension, filters) of breakdowns the profiles answer: one filter on another dimension, on the
# same one, two filters, a filter no profile matches.
PROFILE_BREAKDOWNS = [("browser", {"device": "mobile"}), ("device", {"device": "desktop"}),
                      ("country", {"device": "desktop", "browser": "Chrome"}), ("os", {"device": "tablet", "os": "Android"})]
# The whole day holds the session that changed device, from Chrome on Windows to Chrome on Android:
# both its profiles match the first question, which that session's raw events correct; one matches
# the second, which that profile's rows answer.
WITH_MIXED_SESSION = (f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC&filter=browser:Chrome&filter=country:(none)",
                      {"browser": "Chrome", "country": ""})
WITH_PART_OF_MIXED_SESSION = (f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC&filter=device:desktop&filter=browser:Chrome",
                              {"device": "desktop", "browser": "Chrome"})


def test_profile_filters_are_answered_from_the_rollups_and_a_changed_profile_corrected_by_its_raw_events(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    rng = random.Random(24)
    agents = [CHROME_WINDOWS, SAFARI_IPHONE, CHROME_ANDROID, FIREFOX_LINUX]
    for number in range(40):
        for step in range(rng.randrange(1, 5)):
            when = f"{OLD_DAY}T{8 + number % 5:02d}:{(number * 7 + step * 13) % 60:02d}:{step:02d}Z"
            ingest(api, site["id"], f"s{number}", when, rng.choice(["/", "/a", "/b", "/c"]), agents[number % 4])
    # One visit that changed device on the way: its two profiles would count it twice.
    ingest(api, site["id"], "changed", f"{OLD_DAY}T14:05:00Z", "/", CHROME_WINDOWS)
    ingest(api, site["id"], "changed", f"{OLD_DAY}T14:06:00Z", "/a", CHROME_ANDROID)
    ingest(api, site["id"], "changed", f"{OLD_DAY}T14:07:00Z", "/b", CHROME_WINDOWS)
    raw = RawEvents(own, site["id"])  # reads the deployment's own database

    answers = {}
    for query, filters in FROM_PROFILES + [WITH_MIXED_SESSION, WITH_PART_OF_MIXED_SESSION]:
        body = stats(api, site["id"], query)
        zone = "Asia/Kolkata" if "Kolkata" in query else "UTC"
        for key, value in expected_response(raw, body, filters, 10, zone, f"from={OLD_DAY}&" in query).items():
            assert body[key] == value, (query, key)
        answers[query] = body
    assert answers[FROM_PROFILES[0][0]]["total_pageviews"] > 0
    assert answers[WITH_MIXED_SESSION[0]]["unique_sessions"] > 1
    assert answers[WITH_PART_OF_MIXED_SESSION[0]]["unique_sessions"] > 0
    # A breakdown of a profile's dimension under profile filters, as the raw events count it.
    start, end = dt.datetime.fromisoformat(f"{OLD_DAY}T08:00:00+00:00"), dt.datetime.fromisoformat(f"{OLD_DAY}T13:00:00+00:00")
    profile_breakdowns = {}
    for dimension, filters in PROFILE_BREAKDOWNS:
        query = f"{PURE_HOURS}&dimension={dimension}&" + "&".join(f"filter={k}:{v}" for k, v in filters.items())
        profile_breakdowns[query] = breakdown_rows(api, site["id"], query)
        assert profile_breakdowns[query] == expected_breakdown(raw, start, end, filters, dimension), query
    assert profile_breakdowns[next(iter(profile_breakdowns))]
    day_start = dt.datetime.fromisoformat(f"{OLD_DAY}T00:00:00+00:00")
    desktop_browsers = breakdown_rows(api, site["id"], f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC&dimension=browser"
                                      f"&filter=device:desktop")
    assert desktop_browsers == expected_breakdown(raw, day_start, day_start + dt.timedelta(days=1), {"device": "desktop"},
                                                  "browser")
    assert desktop_browsers
    path_under_profile = f"{PURE_HOURS}&dimension=path&filter=device:mobile"
    assert breakdown_rows(api, site["id"], path_under_profile) == expected_breakdown(raw, start, end, {"device": "mobile"}, "path")

    # So for a breakdown: the changed visit is one Chrome visitor from no known country, where its
    # two profiles' rows count two.
    chrome_countries_query = f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC&dimension=country&filter=browser:Chrome"
    chrome_countries = breakdown_rows(api, site["id"], chrome_countries_query)
    assert chrome_countries == expected_breakdown(raw, day_start, day_start + dt.timedelta(days=1),
                                                  {"browser": "Chrome"}, "country")
    # Where both profiles of the changed visit match, its own page views are read and no others:
    # with every other session's raw events gone the answers stay, where the raw events alone
    # would count one visit.
    own.sql(f"DELETE FROM events WHERE site_id = '{site['id']}' AND session_id <> 'changed'")
    again = stats(api, site["id"], WITH_MIXED_SESSION[0])
    assert again == answers[WITH_MIXED_SESSION[0]] | {"live_visitors": again["live_visitors"]}
    assert breakdown_rows(api, site["id"], chrome_countries_query) == chrome_countries

    # Without the raw events, what the profiles hold is answered as before, the rest is 422.
    remove_every_raw_event(own, api, site["id"])
    for query, _ in FROM_PROFILES + [WITH_PART_OF_MIXED_SESSION]:
        again = stats(api, site["id"], query)
        assert again == answers[query] | {"live_visitors": again["live_visitors"]}, query
    assert_problem(api.get(f"/api/sites/{site['id']}/stats?{WITH_MIXED_SESSION[0]}"), 422, "raw_events_removed")
    for query, rows in profile_breakdowns.items():
        assert breakdown_rows(api, site["id"], query) == rows, query
    # Paths under a profile filter are counted from the raw events; a range holding the session
    # that changed device needs its raw events when both its profiles match, not when one does.
    assert_problem(api.get(f"/api/sites/{site['id']}/stats/breakdown?{path_under_profile}"), 422, "raw_events_removed")
    assert_problem(api.get(f"/api/sites/{site['id']}/stats/breakdown?{chrome_countries_query}"), 422, "raw_events_removed")
    assert breakdown_rows(api, site["id"], f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC&dimension=browser"
                          f"&filter=device:desktop") == desktop_browsers
    # One filter alone never needed the raw events.
    assert stats(api, site["id"], f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC&filter=device:desktop")["total_pageviews"] > 0


# (device, browser, os, country, language): each session keeps one.
PROFILES = [("desktop", "Chrome", "Windows", "DE", "de-DE"), ("desktop", "Firefox", "Linux", "US", "en-US"),
            ("mobile", "Safari", "iOS", "US", "en-US"), ("mobile", "Chrome", "Android", "IN", "hi-IN"),
            ("tablet", "Safari", "iOS", "", ""), ("desktop", "Chrome", "macOS", "DE", "en-US"),
            ("mobile", "Chrome", "iOS", "NP", "en-US")]
FIRST_DAY = dt.date(2026, 3, 6)   # New York's summer time starts on the 8th


# What `profiled_site` gives each page view beside its profile, by events column ('' for none).
PAGE_VIEW_VALUES = {"path": ["/", "/a", "/b"], "referrer_host": ["", "t.co", "bing.com"], "utm_source": ["", "news", "x"],
                    "utm_medium": ["", "email"], "utm_campaign": ["", "spring"], "hostname": ["", "docs.example.org"]}


@pytest.fixture(scope="module")
def profiled_site(stack):
    """Four days of sessions that each keep one profile (their page views' referrers, UTM values and
    hostnames vary), some across quarter hours, hours and midnight, written out of order in
    statements of a few dozen page views."""
    yield from site_with_profiled_traffic(stack)


@pytest.fixture(scope="module")
def profile_changing_site(stack):
    """As `profiled_site`, but a fifth of the sessions of more than one page view change some of
    their profile's values on the way (a country, a browser), as a visitor on a phone between
    networks does."""
    yield from site_with_profiled_traffic(stack, changing=0.2)


def site_with_profiled_traffic(stack, changing: float = 0):
    """(api, site, raw events) of a new owner's site with `write_profiled_traffic`'s page views,
    the owner removed afterwards."""
    crowd = People(stack)
    try:
        api = crowd.new()
        site = api.create_site()
        write_profiled_traffic(stack, site["id"], changing)
        yield api, site, RawEvents(stack, site["id"])
    finally:
        crowd.cleanup()


def write_profiled_traffic(stack, site_id: str, changing: float = 0):
    """`profiled_site`'s page views, for the site `site_id`; a share `changing` of the sessions
    takes some values of another profile after their first page view."""
    rng = random.Random(240)
    rows = []
    start = dt.datetime.combine(FIRST_DAY, dt.time(), dt.timezone.utc)
    for number in range(400):
        profile = rng.choice(PROFILES)
        at = start + dt.timedelta(seconds=rng.randrange(4 * 86_400 - 7_200))
        for step in range(rng.choice([1, 1, 2, 3, 6])):
            if step == 1 and changing and rng.random() < changing:
                other = rng.choice(PROFILES)
                profile = tuple(theirs if rng.random() < 0.5 else ours for ours, theirs in zip(profile, other))
            at += dt.timedelta(seconds=rng.choice([0, 40, 500, 1_000, 3_700]))
            values = [*(rng.choice(choices) for choices in PAGE_VIEW_VALUES.values()), *profile]
            quoted = ", ".join(f"'{value}'" for value in values)
            rows.append(f"('{site_id}', '{at.isoformat()}', 'p{number}', {quoted})")
    rng.shuffle(rows)
    for index in range(0, len(rows), 37):
        stack.sql(f"INSERT INTO events (site_id, occurred_at, session_id, {', '.join([*PAGE_VIEW_VALUES, *PROFILE_COLUMNS])}) "
                  "VALUES " + ", ".join(rows[index:index + 37]))


@pytest.mark.parametrize("seed", range(4))
def test_random_profile_questions_agree_with_the_raw_events(stack, profiled_site, seed):
    api, site, raw = profiled_site
    # No session changed profile: every question below is the profiles' rollups'.
    assert stack.sql(f"SELECT count(*) FROM filtered_traffic WHERE site_id = '{site['id']}' AND filter = -1") == [("0",)]
    ask_random_profile_questions(api, site, raw, seed)


@pytest.mark.parametrize("seed", range(4, 7))
def test_random_profile_questions_agree_with_the_raw_events_where_sessions_change_profile(stack, profile_changing_site,
                                                                                          seed):
    api, site, raw = profile_changing_site
    # The rollups answer the questions that no changing session's two profiles match.
    changed = stack.sql(f"SELECT count(DISTINCT session_id) FROM mixed_session_quarters WHERE site_id = '{site['id']}'")
    assert int(changed[0][0]) > 20, changed
    ask_random_profile_questions(api, site, raw, seed)


def ask_random_profile_questions(api, site, raw, seed: int):
    """Fifteen questions with two or three filters on profiles' dimensions, mostly values that one
    profile has together, over random days, zones and intervals, each checked against the raw
    events."""
    rng = random.Random(seed)
    for number in range(15):
        profile = rng.choice(PROFILES)
        filters = {}
        for column in rng.sample(PROFILE_COLUMNS, rng.choice([2, 2, 3])):
            index = PROFILE_COLUMNS.index(column)
            filters[column] = profile[index] if rng.random() < 0.8 else rng.choice(PROFILES)[index]
        zone = rng.choice(ZONES)
        first = FIRST_DAY + dt.timedelta(days=rng.randrange(4))
        last = first + dt.timedelta(days=rng.randrange(3))
        query = (f"from={first}&to={last}&timezone={zone}&interval={rng.choice(['hour', 'day'])}&limit=100&"
                 + "&".join(f"filter={column}:{value or '(none)'}" for column, value in filters.items()))
        body = stats(api, site["id"], query)
        for key, value in expected_response(raw, body, filters, 100, zone, from_is_date=True).items():
            assert body[key] == value, (seed, number, query, key)


def breakdown_rows(api, site_id: str, query: str, page_size: int = 100) -> list[dict]:
    """Every row of a breakdown, following the cursors."""
    rows, cursor = [], None
    while True:
        response = api.get(f"/api/sites/{site_id}/stats/breakdown?{query}&page_size={page_size}"
                           + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, (query, response.status_code, response.text[:300])
        body = response.json()
        rows += body["rows"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def breakdown_differences(api, site, raw, query: str, filters: dict, dimension: str, order_by: str = "pageviews",
                          order: str = "desc", page_size: int = 100) -> list[str]:
    """How every row of the breakdown `query` asks for differs from the raw events' answer over the
    range the server resolved (read from the first page)."""
    first_page = api.get(f"/api/sites/{site['id']}/stats/breakdown?{query}&page_size=1")
    assert first_page.status_code == 200, (query, first_page.text[:300])
    start, end = (dt.datetime.fromisoformat(first_page.json()[key].replace("Z", "+00:00")) for key in ("from", "to"))
    expected = expected_breakdown(raw, start, end, filters, dimension, order_by, order)
    return differences(breakdown_rows(api, site["id"], query, page_size), expected)


@pytest.mark.parametrize("seed", range(2))
def test_random_profile_breakdowns_agree_with_the_raw_events(stack, profiled_site, seed):
    api, site, raw = profiled_site
    check_random_profile_breakdowns(api, site, raw, seed)


def test_random_profile_breakdowns_agree_with_the_raw_events_where_sessions_change_profile(stack, profile_changing_site):
    api, site, raw = profile_changing_site
    check_random_profile_breakdowns(api, site, raw, 2)


def check_random_profile_breakdowns(api, site, raw, seed: int):
    """Twelve breakdowns by profiles' dimensions under one to three filters on them, over random
    days, zones, orders and page sizes, each checked against the raw events."""
    rng = random.Random(100 + seed)
    failures = []
    for number in range(12):
        dimension = rng.choice(PROFILE_COLUMNS)
        profile = rng.choice(PROFILES)
        filters = {column: profile[PROFILE_COLUMNS.index(column)] for column in rng.sample(PROFILE_COLUMNS, rng.choice([1, 1, 2, 3]))}
        zone = rng.choice(ZONES)
        first = FIRST_DAY + dt.timedelta(days=rng.randrange(4))
        last = first + dt.timedelta(days=rng.randrange(3))
        order_by, order = rng.choice(ORDER_BY), rng.choice(["asc", "desc"])
        query = (f"from={first}&to={last}&timezone={urllib.parse.quote(zone)}&dimension={dimension}&order_by={order_by}"
                 f"&order={order}&" + "&".join(f"filter={column}:{value or '(none)'}" for column, value in filters.items()))
        found = breakdown_differences(api, site, raw, query, filters, dimension, order_by, order, rng.choice([1, 2, 3, 100]))
        if found:
            failures.append(f"seed {seed} question {number}: {query}\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("seed", range(2))
def test_profile_questions_over_ranges_ending_inside_a_quarter_hour_agree_with_the_raw_events(stack, profile_changing_site,
                                                                                              seed):
    """From one odd instant to another (10:07:13, as Grafana asks): the profiles' rollups answer for
    the whole quarter hours inside, the visits with page views of two matching profiles corrected,
    and the sessions with matching page views in the partial quarters at the ends are read; stats
    under two or three filters and breakdowns by a profile's dimension under one to three."""
    api, site, raw = profile_changing_site
    rng = random.Random(300 + seed)
    failures = []
    origin = dt.datetime.combine(FIRST_DAY, dt.time(), dt.timezone.utc)
    for number in range(10):
        profile = rng.choice(PROFILES)
        start = origin + dt.timedelta(seconds=rng.randrange(3 * 86_400))
        end = start + dt.timedelta(seconds=rng.choice([rng.randrange(1_800, 7_200), rng.randrange(7_200, 2 * 86_400)]))
        span = f"from={start:%Y-%m-%dT%H:%M:%SZ}&to={end:%Y-%m-%dT%H:%M:%SZ}"
        zone = rng.choice(ZONES)

        filters = {column: profile[PROFILE_COLUMNS.index(column)] for column in rng.sample(PROFILE_COLUMNS, rng.choice([2, 2, 3]))}
        query = (f"{span}&timezone={urllib.parse.quote(zone)}&interval={rng.choice(['hour', 'day'])}&limit=100&"
                 + "&".join(f"filter={column}:{value or '(none)'}" for column, value in filters.items()))
        body = stats(api, site["id"], query)
        for key, value in expected_response(raw, body, filters, 100, zone).items():
            if body[key] != value:
                failures.append(f"seed {seed} question {number}: stats?{query}: {key}")

        dimension = rng.choice(PROFILE_COLUMNS)
        filters = {column: profile[PROFILE_COLUMNS.index(column)] for column in rng.sample(PROFILE_COLUMNS, rng.choice([1, 2, 3]))}
        order_by, order = rng.choice(ORDER_BY), rng.choice(["asc", "desc"])
        query = (f"{span}&dimension={dimension}&order_by={order_by}&order={order}&"
                 + "&".join(f"filter={column}:{value or '(none)'}" for column, value in filters.items()))
        found = breakdown_differences(api, site, raw, query, filters, dimension, order_by, order)
        if found:
            failures.append(f"seed {seed} question {number}: breakdown?{query}\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


def write_script_session(sql, site_id: str, session: str, start: dt.datetime, profiles: list[tuple], statements: list[int]):
    """A session of the kind one script sends under a single id: page views a minute apart, written
    `statements[i]` at a time, the i-th statement with profile `profiles[i]`. Past 128 page views
    the fold keeps it as a long session (migrations/0014)."""
    at = start
    for count, profile in zip(statements, profiles):
        rows = []
        for _ in range(count):
            rows.append(f"('{site_id}', '{at.isoformat()}', '{session}', '/api', "
                        + ", ".join(f"'{value}'" for value in profile) + ")")
            at += dt.timedelta(minutes=1)
        sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, {', '.join(PROFILE_COLUMNS)}) "
            "VALUES " + ", ".join(rows))


def test_a_long_session_keeps_the_profiles_answering_unless_two_of_its_profiles_match(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    pure_day = dt.date.fromisoformat(OLD_DAY)
    mixed_day = pure_day + dt.timedelta(days=1)
    rng = random.Random(34)
    rows = []
    for number in range(120):
        day = pure_day if number % 2 else mixed_day
        at = dt.datetime.combine(day, dt.time(8), dt.timezone.utc) + dt.timedelta(seconds=rng.randrange(5 * 3600))
        profile = rng.choice(PROFILES)
        for step in range(rng.choice([1, 2, 3])):
            rows.append(f"('{site['id']}', '{(at + dt.timedelta(seconds=300 * step)).isoformat()}', 'v{number}', "
                        f"'{rng.choice(['/', '/a', '/b'])}', " + ", ".join(f"'{value}'" for value in profile) + ")")
    own.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, {', '.join(PROFILE_COLUMNS)}) VALUES "
            + ", ".join(rows))
    # One script's session a day, across hours: short, then long, then written to as a long one.
    # The first keeps its profile; the second's last page views come from another system.
    write_script_session(own.sql, site["id"], "script-1", dt.datetime.combine(pure_day, dt.time(9, 10), dt.timezone.utc),
                         [PROFILES[0]] * 3, [100, 60, 30])
    write_script_session(own.sql, site["id"], "script-2", dt.datetime.combine(mixed_day, dt.time(9, 10), dt.timezone.utc),
                         [PROFILES[0], PROFILES[0], PROFILES[5]], [100, 60, 20])
    assert own.sql("SELECT count(DISTINCT session_id) FROM filtered_session_quarters") == [("2",)]
    raw = RawEvents(own, site["id"])

    # Both of script-2's systems are desktops in Germany; only the first runs Windows.
    both = ({"device": "desktop", "country": "DE"}, "&filter=device:desktop&filter=country:DE")
    one = ({"device": "desktop", "os": "Windows"}, "&filter=device:desktop&filter=os:Windows")
    answers, breakdowns = {}, {}
    for filters, asked in (both, one):
        for day in (pure_day, mixed_day):
            query = f"from={day}&to={day}&timezone=UTC{asked}"
            body = stats(api, site["id"], query)
            for key, value in expected_response(raw, body, filters, 10, "UTC", True).items():
                assert body[key] == value, (query, key)
            answers[day, asked] = body
            start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
            breakdown = f"from={day}&to={day}&timezone=UTC&dimension=browser{asked}"
            breakdowns[day, asked] = breakdown_rows(api, site["id"], breakdown)
            expected = expected_breakdown(raw, start, start + dt.timedelta(days=1), filters, "browser")
            assert breakdowns[day, asked] == expected, breakdown
    assert answers[pure_day, both[1]]["total_pageviews"] > 190
    assert answers[mixed_day, both[1]]["total_pageviews"] > 160
    assert answers[mixed_day, one[1]]["total_pageviews"] >= 160

    # Without the raw events, what the profiles' rollups answer is still answered: every question
    # on the day whose long session kept one profile, and on the other day the one that only one
    # of its profiles matches. Where both match, the raw events were needed.
    remove_every_raw_event(own, api, site["id"])
    for day, asked in ((pure_day, both[1]), (pure_day, one[1]), (mixed_day, one[1])):
        again = stats(api, site["id"], f"from={day}&to={day}&timezone=UTC{asked}")
        assert again == answers[day, asked] | {"live_visitors": again["live_visitors"]}, (day, asked)
        assert breakdown_rows(api, site["id"], f"from={day}&to={day}&timezone=UTC&dimension=browser{asked}") \
            == breakdowns[day, asked]
    assert_problem(api.get(f"/api/sites/{site['id']}/stats?from={mixed_day}&to={mixed_day}&timezone=UTC{both[1]}"),
                   422, "raw_events_removed")
    assert_problem(api.get(f"/api/sites/{site['id']}/stats/breakdown?from={mixed_day}&to={mixed_day}&timezone=UTC"
                           f"&dimension=browser{both[1]}"), 422, "raw_events_removed")


def site_one(stack, database: str):
    """Statements on `database`, whose tables get a user and the site `site1` written directly, as
    an installation of an older migration holds them."""
    def sql(statement: str):
        return stack.sql(statement, database=database)
    sql("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'a@x.test', 'x'); "
        "INSERT INTO sites (id, domain, name, owner_id) VALUES ('site1', 'x.test', 'X', 'u1')")
    return sql


def test_an_upgrade_takes_out_the_markers_of_long_sessions_with_one_profile(stack, tmp_path):
    """0034 counts the marker again where long sessions left theirs: what stays is what the fold
    of a new installation marks for the same page views."""
    def write(database: str):
        sql = site_one(stack, database)
        start = dt.datetime(2026, 2, 3, 9, 10, tzinfo=dt.timezone.utc)
        write_script_session(sql, "site1", "script", start, [PROFILES[0]] * 3, [100, 60, 30])
        # Short sessions that changed profile: one in the long session's quarters, one outside them.
        write_script_session(sql, "site1", "changed", start + dt.timedelta(minutes=20), [PROFILES[1], PROFILES[2]], [2, 2])
        write_script_session(sql, "site1", "elsewhere", start + dt.timedelta(hours=6), [PROFILES[3], PROFILES[4]], [1, 1])
        write_script_session(sql, "site1", "kept", start + dt.timedelta(minutes=40), [PROFILES[1]], [3])
        return sql("SELECT quarter, prev_quarter, next_quarter, session_quarters, pageviews FROM filtered_traffic "
                   "WHERE filter = -1 AND (session_quarters <> 0 OR pageviews <> 0) ORDER BY 1, 2, 3")

    directory = tmp_path / "migrations"
    upgraded, url = stack.installation_before(34, directory)
    before = write(upgraded)
    assert len(before) > 4, before  # the long session's quarters were marked
    result = stack.upgrade(directory, url)
    assert result.returncode == 0, result.stderr
    after = stack.sql("SELECT quarter, prev_quarter, next_quarter, session_quarters, pageviews FROM filtered_traffic "
                      "WHERE filter = -1 AND (session_quarters <> 0 OR pageviews <> 0) ORDER BY 1, 2, 3", database=upgraded)

    fresh = f"fresh_{upgraded}"
    assert stack.migrate(database_url=stack.create_database(fresh)).returncode == 0
    assert after == write(fresh)
    assert {row[0][:16] for row in after} == {"2026-02-03 09:30", "2026-02-03 15:00"}, after


@pytest.mark.parametrize("before", [24, 44])
def test_an_upgrade_names_the_profiles_of_the_sessions_that_changed_profile(stack, tmp_path, before):
    """0044 names the profiles of the short sessions the marker counts, as the fold of a new
    installation does for the same page views: from the marker's quarters (before 0044), or, for
    the events an installation had before profiles (0024), through their backfill."""
    def write(database: str):
        sql = site_one(stack, database)
        start = dt.datetime(2026, 2, 3, 9, 10, tzinfo=dt.timezone.utc)
        write_script_session(sql, "site1", "changed", start, [PROFILES[1], PROFILES[2]], [2, 2])
        write_script_session(sql, "site1", "back", start + dt.timedelta(hours=3), [PROFILES[0], PROFILES[5], PROFILES[0]],
                             [1, 20, 1])
        write_script_session(sql, "site1", "kept", start + dt.timedelta(minutes=40), [PROFILES[1]], [3])
        # Changed profile, then became long: no longer counted as a short one.
        write_script_session(sql, "site1", "grown", start + dt.timedelta(hours=6), [PROFILES[3], PROFILES[4], PROFILES[3]],
                             [2, 2, 130])

    def named(database: str):
        return stack.sql("SELECT m.session_id, v.value, m.quarter, m.pageviews FROM mixed_session_quarters m "
                         "JOIN stat_values v ON v.id = m.profile WHERE m.pageviews <> 0 ORDER BY 1, 2, 3", database=database)

    directory = tmp_path / "migrations"
    upgraded, url = stack.installation_before(before, directory, prefix=f"mixed_{before}")
    write(upgraded)
    result = stack.upgrade(directory, url)
    assert result.returncode == 0, result.stderr

    fresh = f"fresh_{upgraded}"
    assert stack.migrate(database_url=stack.create_database(fresh)).returncode == 0
    write(fresh)
    rows = named(fresh)
    assert named(upgraded) == rows
    assert {row[0] for row in rows} == {"changed", "back"}, rows
    # "back" returned to its first profile: page views of two profiles in its first and last quarters.
    assert sorted(int(row[3]) for row in rows if row[0] == "back") == [1, 1, 1, 4, 15], rows
