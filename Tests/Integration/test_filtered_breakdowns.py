"""Paths, entry and exit pages, referrers, UTM values and hostnames under one filter (on a visitor
profile's dimension, or on a page view's own: path, referrer, UTM value, hostname), read from the
whole UTC days and hours the roll-up adds up (migrations/0026, 0029, 0030) and the raw events of the
rest: exactly what the raw events give, before and after days and hours are added up, when a late
page view reopens them, and when one is written while a day is being added up."""
from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

from accounts import PASSWORD, People, deployment, people, run_cli, unique, unique_domain, unique_email  # noqa: F401 (people: a fixture)
from conftest import APP_DATABASE

from stack import wait_until
from test_stats import RawEvents
from test_stats_properties import FILTER_COLUMNS, ORDER_BY, ZONES, expected_breakdown
from test_visitor_profiles import (FIRST_DAY, PAGE_VIEW_VALUES, PROFILE_COLUMNS, PROFILES, breakdown_differences,  # noqa: F401
                                   breakdown_rows, profile_changing_site, profiled_site, write_profiled_traffic,
                                   write_script_session)


def site_days(stack, site_id: str, zone: str = "UTC") -> list[str]:
    """The first instants of the days in `zone` that hold the site's page views."""
    return [row[0] for row in stack.sql(
        f"SELECT DISTINCT local_to_instant((occurred_at AT TIME ZONE '{zone}')::date::timestamp, '{zone}') "
        f"FROM events WHERE site_id = '{site_id}' ORDER BY 1")]


# The dimensions added up, as the database and as the API name them: the profile's own only under
# the other filters (under a profile filter, they are the profiles' rollups').
DIMENSIONS = ["path", "entry", "exit", "referrer", "utm_source", "utm_medium", "utm_campaign", "hostname", *PROFILE_COLUMNS]
BREAKDOWNS = ["landing" if dimension == "entry" else dimension for dimension in DIMENSIONS]
UNDER_PROFILE_FILTERS = [breakdown for breakdown in BREAKDOWNS if breakdown not in PROFILE_COLUMNS]


def closed(stack, site_id: str, span: str = "day", dimension: str = "path") -> list[str]:
    return [row[0] for row in stack.sql(
        f"SELECT bucket FROM filtered_breakdown_closed WHERE site_id = '{site_id}' AND dimension = '{dimension}' "
        f"AND span = '{span}' ORDER BY 1")]


def add_up_every_day(stack, site_id: str, zone: str = "UTC"):
    """What the roll-up process does once a minute, until the site's days (in its zone, `zone`) are
    all added up in every dimension (other sites' days may come first: newest first)."""
    deadline = time.monotonic() + 180
    days = site_days(stack, site_id, zone)
    while any(closed(stack, site_id, "day", dimension) != days for dimension in DIMENSIONS):
        assert time.monotonic() < deadline, "the site's days were not added up"
        stack.sql("SELECT close_filtered_breakdowns(8)")


def value_number(kind: str, value: str) -> str:
    """SQL for the number `stat_values` gives a filter's value (the rollups' `filter`)."""
    return f"(SELECT id FROM stat_values WHERE dimension = '{kind}' AND value = '{value}')"


def add_to_day(stack, site_id: str, dimension: str, bucket: str, filter_number: str, pageviews: int = 1000):
    """Adds `pageviews` to every value's page views in an added-up day's row under a filter."""
    stack.sql(f"UPDATE filtered_breakdowns SET pageviews = (SELECT array_agg(n + {pageviews}) FROM unnest(pageviews) AS n) "
              f"WHERE site_id = '{site_id}' AND dimension = '{dimension}' AND span = 'day' AND bucket = '{bucket}' "
              f"AND filter = {filter_number}")


class ClosingsHeld:
    """One database session that holds the closings' lock (migrations/0026): the pool's roll-up
    process adds up nothing meanwhile (its `close_filtered_breakdowns` finds the lock taken), and the
    session's own `close_filtered_breakdown` calls still run."""

    def __init__(self, stack):
        self.process = subprocess.Popen(
            [str(stack.cluster.bindir / "psql"), "--no-psqlrc", "--quiet", "--tuples-only", "--no-align",
             "--set", "ON_ERROR_STOP=1", "--dbname", stack.cluster.url(APP_DATABASE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.query("SELECT 'locked' FROM pg_advisory_lock(72712, 0)") != "locked":
            self.close()
            raise AssertionError("the closings' lock was not taken")

    def query(self, sql: str) -> str:
        """The one value `sql` returns."""
        self.process.stdin.write(sql + ";\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


# The filter types on a page view's own values (not its profile's), by their events columns.
EVENT_FILTERS = {kind: column for kind, column in FILTER_COLUMNS.items() if column in PAGE_VIEW_VALUES}


def any_filter(rng, domain: str) -> tuple[str, str, str]:
    """A filter of `profiled_site`'s values, half the time on a profile's dimension: the API's
    `type:value`, and the events column and value it selects."""
    if rng.random() < 0.5:
        column = rng.choice(PROFILE_COLUMNS)
        value = rng.choice(PROFILES)[PROFILE_COLUMNS.index(column)]
        return f"{column}:{value or '(none)'}", column, value
    kind = rng.choice(sorted(EVENT_FILTERS))
    column = EVENT_FILTERS[kind]
    value = rng.choice(PAGE_VIEW_VALUES[column])
    shown = domain if kind == "hostname" and not value else value or "(none)"
    return f"{kind}:{urllib.parse.quote(shown)}", column, value


def random_span(rng, zones) -> str:
    """`from` and `to` over `profiled_site`'s days: dates, or 30 % of the time odd times (partial days
    at both ends), in one of `zones` (None: the site's own, the request naming none)."""
    zone = rng.choice(zones)
    first = FIRST_DAY + dt.timedelta(days=rng.randrange(4))
    if rng.random() < 0.3:
        start = dt.datetime.combine(first, dt.time(rng.randrange(24), rng.randrange(60)), dt.timezone.utc)
        end = start + dt.timedelta(seconds=rng.randrange(3_600, 4 * 86_400))
        span = (f"from={urllib.parse.quote(start.strftime('%Y-%m-%dT%H:%M:%SZ'))}"
                f"&to={urllib.parse.quote(end.strftime('%Y-%m-%dT%H:%M:%SZ'))}")
    else:
        span = f"from={first}&to={first + dt.timedelta(days=rng.randrange(4))}"
    if zone is not None:
        span += f"&timezone={urllib.parse.quote(zone)}"
    return span


def check_questions(api, site, raw, rng, count: int, label: str, zones=ZONES):
    """`count` random breakdowns under one filter, over dates and odd times in one of `zones` (None:
    the site's own, the request naming none)."""
    failures = []
    for number in range(count):
        shown, column, value = any_filter(rng, site["domain"])
        span = random_span(rng, zones)
        order_by, order = rng.choice(ORDER_BY), rng.choice(["asc", "desc"])
        dimension = rng.choice(UNDER_PROFILE_FILTERS if column in PROFILE_COLUMNS else BREAKDOWNS)
        query = f"{span}&dimension={dimension}&order_by={order_by}&order={order}&filter={shown}"
        found = breakdown_differences(api, site, raw, query, {column: value}, dimension, order_by, order, rng.choice([1, 2, 100]))
        if found:
            failures.append(f"{label} question {number}: {query}\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


def test_breakdowns_under_one_filter_agree_with_the_raw_events_before_and_after_days_are_added_up(stack, profiled_site):
    api, site, raw = profiled_site
    check_questions(api, site, raw, random.Random(1), 8, "as they come")
    add_up_every_day(stack, site["id"])
    # The fixture's sessions cross midnight: some of each day's are read from the raw events.
    crossing = stack.sql(f"SELECT sum(cardinality(crossing_sessions)) FROM filtered_breakdown_closed "
                         f"WHERE site_id = '{site['id']}'")[0][0]
    assert int(crossing) > 0
    check_questions(api, site, raw, random.Random(2), 30, "added up")

    # The added-up days are what answers: numbers changed there show in the rows, in each dimension,
    # under a profile's filter and a page view's own.
    day = closed(stack, site["id"])[1]
    date = day[:10]
    for kind, filter_column, filter_value, dimensions in [
            ("device", "device", "mobile", [("path", "path", "path"), ("referrer", "referrer", "referrer_host"),
                                            ("utm_campaign", "utm_campaign", "utm_campaign"), ("landing", "entry", None),
                                            ("exit", "exit", None)]),
            ("referrer", "referrer_host", "t.co", [("path", "path", "path"), ("hostname", "hostname", "hostname"),
                                                   ("country", "country", "country"), ("landing", "entry", None)])]:
        number = value_number(kind, filter_value)
        for breakdown, dimension, column in dimensions:
            add_to_day(stack, site["id"], dimension, day, number)
            query = f"from={date}&to={date}&timezone=UTC&dimension={breakdown}&filter={kind}:{filter_value}"
            expected = {row["name"]: row["pageviews"] for row in expected_breakdown(
                raw, dt.datetime.fromisoformat(date + "T00:00:00+00:00"), dt.datetime.fromisoformat(date + "T00:00:00+00:00")
                + dt.timedelta(days=1), {filter_column: filter_value}, breakdown)}
            tampered = {row["name"]: row["pageviews"] for row in breakdown_rows(api, site["id"], query)}
            if column is None:
                # A session's entry (exit) page comes from the day or from the raw events as a whole.
                assert tampered.keys() == expected.keys() and sum(tampered.values()) >= sum(expected.values()) + 1000
            else:
                crossing_views = {row[0] or ("(none)" if column != "hostname" else site["domain"]): int(row[1]) for row in stack.sql(
                    f"SELECT {column}, count(*) FROM events WHERE site_id = '{site['id']}' AND {filter_column} = '{filter_value}' "
                    f"AND date_bin('1 day', occurred_at, 'epoch') = '{day}' AND session_id = ANY ("
                    f"SELECT unnest(crossing_sessions) FROM filtered_breakdown_closed WHERE site_id = '{site['id']}' "
                    f"AND dimension = '{dimension}' AND span = 'day' AND bucket = '{day}') "
                    "GROUP BY 1")}
                for name, pageviews in expected.items():
                    read_from_day = pageviews > crossing_views.get(name, 0)
                    assert tampered[name] == pageviews + (1000 if read_from_day else 0), (kind, dimension, name, tampered, expected)
            # Added up again, the day reads as its events.
            stack.sql(f"SELECT close_filtered_breakdown('{site['id']}', '{dimension}', 'day', '{day}')")
    check_questions(api, site, raw, random.Random(3), 6, "added up again")


def test_sessions_that_change_profile_are_added_up_under_each_of_their_values(stack, profile_changing_site):
    """A closing counts a session's page views of a value as one piece under every filter value they
    all have (0046); where they differ (a session that changed country on the way, a page seen from
    two referrers), under each value from the page views that have it, as the raw events do."""
    api, site, raw = profile_changing_site
    add_up_every_day(stack, site["id"])
    mixed = stack.sql(f"SELECT count(*) FROM (SELECT session_id FROM events WHERE site_id = '{site['id']}' "
                      "GROUP BY session_id, date_bin('1 day', occurred_at, 'epoch') HAVING count(DISTINCT country) > 1) AS s")
    assert int(mixed[0][0]) > 5, mixed
    check_questions(api, site, raw, random.Random(5), 40, "added up, profiles changing")


def test_a_page_view_added_to_a_session_of_an_added_up_day_reopens_its_days(stack, profiled_site):
    api, site, _ = profiled_site
    add_up_every_day(stack, site["id"])
    days = closed(stack, site["id"])
    # A session of the second day alone, and the profile it has.
    session, profile = stack.sql(f"""
        SELECT session_id, min(device || '|' || browser || '|' || os || '|' || country || '|' || language)
        FROM events WHERE site_id = '{site['id']}' GROUP BY 1
        HAVING min(date_bin('1 day', occurred_at, 'epoch')) = '{days[1]}' AND max(date_bin('1 day', occurred_at, 'epoch')) = '{days[1]}'
        ORDER BY 1 LIMIT 1""")[0]
    quoted = ", ".join(f"'{value}'" for value in profile.split("|"))
    # Late, on its own day, and then on the next day: both days are its again.
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device, browser, os, country, language) "
              f"VALUES ('{site['id']}', '{days[1]}'::timestamptz + interval '23 hours 50 minutes', '{session}', '/late', {quoted})")
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device, browser, os, country, language) "
              f"VALUES ('{site['id']}', '{days[2]}'::timestamptz + interval '10 minutes', '{session}', '/late', {quoted})")
    touched = {row[0] for row in stack.sql(
        f"SELECT date_bin('1 day', hour, 'epoch') FROM filtered_breakdown_touches WHERE site_id = '{site['id']}'")}
    assert {days[1], days[2]} <= touched
    raw = RawEvents(stack, site["id"])
    check_questions(api, site, raw, random.Random(4), 10, "reopened")
    add_up_every_day(stack, site["id"])
    crossing = stack.sql(f"SELECT crossing_sessions FROM filtered_breakdown_closed "
                         f"WHERE site_id = '{site['id']}' AND span = 'day' AND bucket = '{days[1]}'")[0][0]
    assert session in crossing.strip("{}").split(",")
    check_questions(api, site, raw, random.Random(5), 10, "added up after the late page views")


def test_a_day_added_up_while_a_page_view_it_did_not_see_is_written_stays_open(stack, profiled_site):
    api, site, _ = profiled_site
    add_up_every_day(stack, site["id"])
    day = closed(stack, site["id"])[2]
    session = stack.sql(f"SELECT session_id FROM events WHERE site_id = '{site['id']}' "
                        f"AND date_bin('1 day', occurred_at, 'epoch') = '{day}' ORDER BY id LIMIT 1")[0][0]
    held = ClosingsHeld(stack)
    try:
        stack.sql(f"DELETE FROM filtered_breakdown_closed WHERE site_id = '{site['id']}' AND span = 'day' AND bucket = '{day}'")

        # A write that holds the site's fold lock, uncommitted, while the day is read; it commits after.
        def write_slowly():
            stack.sql("BEGIN; INSERT INTO events (site_id, occurred_at, session_id, path, device) "
                      f"VALUES ('{site['id']}', '{day}'::timestamptz + interval '12 hours', '{session}', '/slow', 'mobile'); "
                      "SELECT pg_sleep(3); COMMIT;")

        writer = threading.Thread(target=write_slowly)
        writer.start()
        time.sleep(1)
        assert held.query(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '{day}')") == "f"
        writer.join()
        assert day not in closed(stack, site["id"])
    finally:
        held.close()
    raw = RawEvents(stack, site["id"])
    check_questions(api, site, raw, random.Random(6), 6, "after a missed write")
    add_up_every_day(stack, site["id"])
    check_questions(api, site, raw, random.Random(7), 6, "added up after a missed write")


def test_the_hours_of_a_day_not_added_up_are_read_until_the_day_is(stack, profiled_site):
    api, site, _ = profiled_site
    add_up_every_day(stack, site["id"])
    held = ClosingsHeld(stack)
    try:
        day = closed(stack, site["id"])[3]
        stack.sql(f"DELETE FROM filtered_breakdown_closed WHERE site_id = '{site['id']}' AND span = 'day' AND bucket = '{day}'")
        start = dt.datetime.fromisoformat(day.replace("+00", "+00:00"))
        for hour in range(24):
            assert held.query(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'hour', "
                              f"'{(start + dt.timedelta(hours=hour)).isoformat()}')") == "t"
        assert len(closed(stack, site["id"], "hour")) == 24
        crossing = int(stack.sql(f"SELECT sum(cardinality(crossing_sessions)) FROM filtered_breakdown_closed "
                                 f"WHERE site_id = '{site['id']}' AND span = 'hour'")[0][0])
        assert crossing > 0
        raw = RawEvents(stack, site["id"])
        check_questions(api, site, raw, random.Random(8), 12, "hours")

        # An hour's numbers are what answers for it.
        busiest = stack.sql(f"SELECT bucket FROM filtered_breakdowns WHERE site_id = '{site['id']}' AND span = 'hour' "
                            "ORDER BY (SELECT sum(n) FROM unnest(pageviews) AS n) DESC, bucket LIMIT 1")[0][0]
        whole_day = f"from={day[:10]}&to={day[:10]}&timezone=UTC&dimension=path"
        before = breakdown_rows(api, site["id"], whole_day)
        stack.sql(f"UPDATE filtered_breakdowns SET visitors = (SELECT array_agg(n + 500) FROM unnest(visitors) AS n) "
                  f"WHERE site_id = '{site['id']}' AND span = 'hour' AND bucket = '{busiest}'")
        assert breakdown_rows(api, site["id"], whole_day) == before   # no filter: not these rows
        column, value = stack.sql(f"SELECT v.dimension, v.value FROM filtered_breakdowns d JOIN stat_values v ON v.id = d.filter "
                                  f"WHERE d.site_id = '{site['id']}' AND d.span = 'hour' AND d.bucket = '{busiest}' "
                                  "AND v.dimension IN ('device', 'browser', 'os', 'country', 'language') ORDER BY d.filter LIMIT 1")[0]
        expected = expected_breakdown(raw, start, start + dt.timedelta(days=1), {column: value}, "path")
        tampered = breakdown_rows(api, site["id"], f"{whole_day}&filter={column}:{urllib.parse.quote(value or '(none)')}")
        assert sum(row["visitors"] for row in tampered) > sum(row["visitors"] for row in expected)

        # The day added up drops its hours.
        assert held.query(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '{day}')") == "t"
        assert closed(stack, site["id"], "hour") == []
    finally:
        held.close()
    check_questions(api, site, raw, random.Random(9), 6, "the day again")


# --- the days of the site's zone (migrations/0032) -------------------------------------------------

@pytest.fixture(scope="module", params=["America/New_York", "Asia/Kolkata"])
def zoned_site(request, stack):
    """`profiled_site`'s page views on a site in another zone than UTC: New York, whose summer time
    starts on the page views' third day (a day of 23 hours), or Kolkata, half an hour off UTC."""
    crowd = People(stack)
    try:
        api = crowd.new()
        site = api.create_site(timezone=request.param)
        write_profiled_traffic(stack, site["id"])
        yield api, site, RawEvents(stack, site["id"])
    finally:
        crowd.cleanup()


def closed_day(stack, site_id: str, zone: str, local_start: str) -> tuple[str, str]:
    """Where the day added up for paths that starts at `local_start` in `zone` starts and ends."""
    return stack.sql(f"SELECT bucket, ends FROM filtered_breakdown_closed WHERE site_id = '{site_id}' AND dimension = 'path' "
                     f"AND span = 'day' AND bucket AT TIME ZONE '{zone}' = '{local_start}'")[0]


def local_days(stack, site_id: str, zone: str) -> dict[str, float]:
    """The days added up for paths, as local start → hours long."""
    return {row[0]: float(row[1]) / 3_600 for row in stack.sql(
        f"SELECT (bucket AT TIME ZONE '{zone}')::text, extract(epoch FROM ends - bucket) FROM filtered_breakdown_closed "
        f"WHERE site_id = '{site_id}' AND dimension = 'path' AND span = 'day'")}


def test_a_sites_days_are_added_up_in_its_zone_and_answer_its_dates(stack, zoned_site):
    api, site, raw = zoned_site
    zone = site["timezone"]
    add_up_every_day(stack, site["id"], zone)
    days = local_days(stack, site["id"], zone)
    # The first page views, at midnight UTC, are the evening before in New York.
    first = (FIRST_DAY - dt.timedelta(days=1)) if zone == "America/New_York" else FIRST_DAY
    assert sorted(days) == [f"{first + dt.timedelta(days=number)} 00:00:00" for number in range(len(days))]
    assert len(days) >= 4
    if zone == "America/New_York":
        assert days == {day: (23 if day.startswith("2026-03-08") else 24) for day in days}
    else:
        assert set(days.values()) == {24}
        # The UTC hour each day starts inside (23:30 in Kolkata) lies in two days: it is added up as an
        # hour, and no other hour is kept beside the days.
        boundary_hours = [row[0] for row in stack.sql(
            f"SELECT DISTINCT date_bin('1 hour', occurred_at, 'epoch') FROM events WHERE site_id = '{site['id']}' "
            "AND extract(hour FROM occurred_at AT TIME ZONE 'UTC') = 18 ORDER BY 1")]
        deadline = time.monotonic() + 120
        while closed(stack, site["id"], "hour") != boundary_hours:
            assert time.monotonic() < deadline, (closed(stack, site["id"], "hour"), boundary_hours)
            stack.sql("SELECT close_filtered_breakdowns(8)")
    check_questions(api, site, raw, random.Random(20), 20, f"dates in {zone}", zones=[None])
    check_questions(api, site, raw, random.Random(21), 8, f"{zone}'s days, other zones")

    # The local days are what answers a date of the site: their numbers changed show in the rows.
    device = PROFILES[2][0]
    number = value_number("device", device)
    for local_start in sorted(days)[1:3]:
        date = local_start[:10]
        bucket, ends = closed_day(stack, site["id"], zone, local_start)
        add_to_day(stack, site["id"], "path", bucket, number)
        start, end = (dt.datetime.fromisoformat(text.replace("+00", "+00:00")) for text in (bucket, ends))
        expected = {row["name"]: row["pageviews"]
                    for row in expected_breakdown(raw, start, end, {"device": device}, "path")}
        crossing_views = {row[0]: int(row[1]) for row in stack.sql(
            f"SELECT path, count(*) FROM events WHERE site_id = '{site['id']}' AND device = '{device}' "
            f"AND occurred_at >= '{bucket}' AND occurred_at < '{ends}' AND session_id = ANY ("
            f"SELECT unnest(crossing_sessions) FROM filtered_breakdown_closed WHERE site_id = '{site['id']}' "
            f"AND dimension = 'path' AND span = 'day' AND bucket = '{bucket}') GROUP BY 1")}
        tampered = {row["name"]: row["pageviews"] for row in breakdown_rows(
            api, site["id"], f"from={date}&to={date}&dimension=path&filter=device:{device}")}
        assert tampered == {name: pageviews + (1000 if pageviews > crossing_views.get(name, 0) else 0)
                            for name, pageviews in expected.items()}, (date, crossing_views)
        stack.sql(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '{bucket}')")
    check_questions(api, site, raw, random.Random(22), 6, f"{zone}'s days added up again", zones=[None])


# A zone whose days start a little later or earlier than the site's.
NEIGHBOUR_ZONES = {"America/New_York": "America/Chicago", "Asia/Kolkata": "Asia/Kathmandu"}


def test_a_range_in_another_zone_reads_a_day_it_holds_nearly_whole_as_that_day_less_the_rest(stack, zoned_site):
    api, site, raw = zoned_site
    add_up_every_day(stack, site["id"], site["timezone"])
    device = PROFILES[2][0]
    first = FIRST_DAY + dt.timedelta(days=1)
    query = (f"from={first}&to={first + dt.timedelta(days=1)}&timezone={urllib.parse.quote(NEIGHBOUR_ZONES[site['timezone']])}"
             f"&dimension=path&filter=device:{device}")
    page = api.get(f"/api/sites/{site['id']}/stats/breakdown?{query}&page_size=1").json()
    start, end = (dt.datetime.fromisoformat(page[key].replace("Z", "+00:00")) for key in ("from", "to"))
    assert not breakdown_differences(api, site, raw, query, {"device": device}, "path")
    # The two days in the neighbouring zone hold one day of the site's zone whole and all but an
    # hour (New York in Chicago) or a quarter of an hour (Kolkata in Kathmandu) of another.
    number = value_number("device", device)
    inside = f"(least(c.ends, '{end.isoformat()}') - greatest(c.bucket, '{start.isoformat()}'))"
    nearly_whole = stack.sql(f"""
        SELECT c.bucket, cardinality(b.value_ids) FROM filtered_breakdown_closed c
        JOIN filtered_breakdowns b USING (site_id, dimension, span, bucket)
        WHERE c.site_id = '{site['id']}' AND c.dimension = 'path' AND c.span = 'day' AND b.filter = {number}
          AND c.bucket < '{end.isoformat()}' AND c.ends > '{start.isoformat()}'
          AND NOT (c.bucket >= '{start.isoformat()}' AND c.ends <= '{end.isoformat()}')
          AND {inside} > 4 * (c.ends - c.bucket - {inside})""")
    assert len(nearly_whole) == 1
    bucket, values = nearly_whole[0][0], int(nearly_whole[0][1])
    add_to_day(stack, site["id"], "path", bucket, number)
    expected = sum(row["pageviews"] for row in expected_breakdown(raw, start, end, {"device": device}, "path"))
    tampered = sum(row["pageviews"] for row in breakdown_rows(api, site["id"], query))
    assert tampered == expected + 1000 * values
    stack.sql(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '{bucket}')")
    assert not breakdown_differences(api, site, raw, query, {"device": device}, "path")
    check_questions(api, site, raw, random.Random(25), 12, "neighbouring zones",
                    zones=[NEIGHBOUR_ZONES[site["timezone"]], "UTC"])


def test_a_late_page_view_reopens_the_day_of_the_sites_zone_it_lies_in(stack, zoned_site):
    api, site, _ = zoned_site
    zone = site["timezone"]
    add_up_every_day(stack, site["id"], zone)
    local_start = sorted(local_days(stack, site["id"], zone))[1]
    bucket, ends = closed_day(stack, site["id"], zone, local_start)
    # A session of that day alone, and a page view late in its evening: in the next UTC day in New
    # York, in the hour the next day starts inside in Kolkata.
    session, profile = stack.sql(f"""
        SELECT session_id, min(device || '|' || browser || '|' || os || '|' || country || '|' || language)
        FROM events WHERE site_id = '{site['id']}' GROUP BY 1
        HAVING min(occurred_at) >= '{bucket}' AND max(occurred_at) < '{ends}'::timestamptz - interval '1 hour'
        ORDER BY 1 LIMIT 1""")[0]
    quoted = ", ".join(f"'{value}'" for value in profile.split("|"))
    stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device, browser, os, country, language) "
              f"VALUES ('{site['id']}', '{ends}'::timestamptz - interval '10 minutes', '{session}', '/late', {quoted})")
    assert local_start not in local_days(stack, site["id"], zone)
    raw = RawEvents(stack, site["id"])
    check_questions(api, site, raw, random.Random(23), 8, f"reopened in {zone}", zones=[None])
    add_up_every_day(stack, site["id"], zone)
    assert local_start in local_days(stack, site["id"], zone)
    check_questions(api, site, raw, random.Random(24), 8, f"added up again in {zone}", zones=[None])


def test_a_site_that_changes_its_zone_reads_its_old_days_until_its_new_ones_are_added_up(stack):
    crowd = People(stack)
    try:
        api = crowd.new()
        site = api.create_site(timezone="America/New_York")
        write_profiled_traffic(stack, site["id"])
        raw = RawEvents(stack, site["id"])
        add_up_every_day(stack, site["id"], "America/New_York")
        new_york = closed(stack, site["id"])
        # From the change of zone on, the pool's roll-up would add up Kolkata's days, which are due
        # at once: held off until the one below is added up and the others are seen to stay.
        held = ClosingsHeld(stack)
        try:
            response = api.put(f"/api/sites/{site['id']}", json={"timezone": "Asia/Kolkata"})
            assert response.status_code == 200, response.text
            site = response.json()
            check_questions(api, site, raw, random.Random(30), 8, "New York's days, Kolkata's dates", zones=[None])

            # One of Kolkata's days added up: it drops the two New York days it overlaps, and the others stay.
            kolkata = site_days(stack, site["id"], "Asia/Kolkata")
            assert held.query(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'day', '{kolkata[2]}')") == "t"
            assert closed(stack, site["id"]) == sorted([kolkata[2], *new_york[:2], *new_york[4:]])
            check_questions(api, site, raw, random.Random(31), 8, "both zones' days", zones=[None, "America/New_York"])
        finally:
            held.close()

        add_up_every_day(stack, site["id"], "Asia/Kolkata")
        assert closed(stack, site["id"]) == kolkata
        check_questions(api, site, raw, random.Random(32), 8, "Kolkata's days", zones=[None, "America/New_York"])
    finally:
        crowd.cleanup()


@pytest.fixture(scope="module")
def range_start_site(stack):
    """Sessions on the days around the one a default range starts in (30 days back), some across
    hours and midnight."""
    crowd = People(stack)
    try:
        api = crowd.new()
        site = api.create_site()
        rng = random.Random(30)
        today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - dt.timedelta(days=32)
        rows = []
        for number in range(300):
            profile = rng.choice(PROFILES)
            at = start + dt.timedelta(seconds=rng.randrange(5 * 86_400))
            for _ in range(rng.choice([1, 2, 3, 5])):
                at += dt.timedelta(seconds=rng.choice([0, 60, 900, 3_700]))
                quoted = ", ".join(f"'{value}'" for value in [rng.choice(["/", "/a", "/b"]), *profile])
                rows.append(f"('{site['id']}', '{at.isoformat()}', 'r{number}', {quoted})")
        stack.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device, browser, os, country, language) "
                  "VALUES " + ", ".join(rows))
        yield api, site, RawEvents(stack, site["id"]), today
    finally:
        crowd.cleanup()


def test_the_days_a_default_range_starts_in_keep_their_hours(stack, range_start_site):
    api, site, raw, today = range_start_site
    kept_days = {today - dt.timedelta(days=30), today - dt.timedelta(days=29)}
    hours_with_traffic = {row[0] for row in stack.sql(
        f"SELECT DISTINCT date_bin('1 hour', occurred_at, 'epoch') FROM events WHERE site_id = '{site['id']}'")}
    expected_hours = sorted(hour for hour in hours_with_traffic
                            if dt.datetime.fromisoformat(hour.replace("+00", "+00:00")).replace(hour=0) in kept_days)
    held = ClosingsHeld(stack)
    try:
        deadline = time.monotonic() + 120
        while closed(stack, site["id"]) != site_days(stack, site["id"]) or closed(stack, site["id"], "hour") != expected_hours:
            assert time.monotonic() < deadline, (closed(stack, site["id"], "hour"), expected_hours)
            held.query("SELECT close_filtered_breakdowns(1)")

        # The default range, and one starting in the day 30 days back: its hours answer.
        check_default_and_partial_ranges(api, site, raw, today)
        first_kept = today - dt.timedelta(days=30)
        partial = (f"from={urllib.parse.quote((first_kept + dt.timedelta(hours=5)).strftime('%Y-%m-%dT%H:%M:%SZ'))}"
                   f"&to={urllib.parse.quote((today - dt.timedelta(days=28)).strftime('%Y-%m-%dT%H:%M:%SZ'))}"
                   "&dimension=path&filter=device:mobile")
        before = breakdown_rows(api, site["id"], partial)
        stack.sql(f"UPDATE filtered_breakdowns SET pageviews = (SELECT array_agg(n + 1000) FROM unnest(pageviews) AS n) "
                  f"WHERE site_id = '{site['id']}' AND span = 'hour' AND bucket >= '{first_kept + dt.timedelta(hours=5)}' "
                  f"AND bucket < '{first_kept + dt.timedelta(days=1)}'")
        assert sum(row["pageviews"] for row in breakdown_rows(api, site["id"], partial)) > \
            sum(row["pageviews"] for row in before) + 1000

        # Hours of an added-up day outside the two are dropped at the next closing.
        older = today - dt.timedelta(days=31)
        for hour in range(24):
            assert held.query(f"SELECT close_filtered_breakdown('{site['id']}', 'path', 'hour', "
                              f"'{(older + dt.timedelta(hours=hour)).isoformat()}')") == "t"
        held.query("SELECT close_filtered_breakdowns(1)")
        assert closed(stack, site["id"], "hour") == expected_hours
    finally:
        held.close()


def check_default_and_partial_ranges(api, site, raw, today):
    failures = []
    for column in PROFILE_COLUMNS:
        for value in sorted({profile[PROFILE_COLUMNS.index(column)] for profile in PROFILES}):
            for span in ["", f"&from={urllib.parse.quote((today - dt.timedelta(days=30, hours=-7)).strftime('%Y-%m-%dT%H:%M:%SZ'))}"
                             f"&timezone=Asia/Kolkata"]:
                query = f"dimension=path&filter={column}:{value or '(none)'}{span}"
                found = breakdown_differences(api, site, raw, query, {column: value}, "path", page_size=2)
                if found:
                    failures.append(f"{query}\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


def test_the_roll_up_folds_while_a_day_or_hour_is_being_added_up(stack):
    """A closing runs beside the folds: one that cannot finish (here: waiting for a lock on the
    table it writes) holds back neither the page views of other sites nor those of its own."""
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    closing_site, other_site = api.create_site(), api.create_site()
    hour = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=3)
    own.sql("INSERT INTO events (site_id, occurred_at, session_id, path, device) VALUES "
            f"('{closing_site['id']}', '{(hour + dt.timedelta(minutes=5)).isoformat()}', 's1', '/', 'mobile')")
    locker = stack.cluster.background_session(own.database)
    try:
        locker.send("BEGIN; LOCK TABLE filtered_breakdowns IN SHARE MODE;")
        wait_until(lambda: own.sql("SELECT 1 FROM pg_locks WHERE relation = 'filtered_breakdowns'::regclass "
                                   "AND mode = 'ShareLock' AND granted"), 5, "the lock was not taken")
        # A new roll-up process adds up what is due as it starts: the hour above, which waits.
        for pid in own.pool.roll_up_pids():
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: own.sql("SELECT 1 FROM pg_locks WHERE relation = 'filtered_breakdowns'::regclass "
                                   "AND NOT granted"), 15, "no closing started")
        for site in (other_site, closing_site):
            response = api.post("/api/ingest/server/pageview", json={
                "site_id": site["id"], "url": "https://x.test/folded", "session_id": "late",
                "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"})
            assert response.status_code == 202, response.text
        wait_until(lambda: own.sql("SELECT count(*) FROM events WHERE path = '/folded'") == [("2",)], 10,
                   "the page views were not folded while a closing waited")
        assert own.sql(f"SELECT count(*) FROM filtered_breakdown_closed WHERE site_id = '{closing_site['id']}'") == [("0",)]
    finally:
        locker.close()
    # The closing goes on once the lock is gone.
    wait_until(lambda: own.sql(f"SELECT count(*) FROM filtered_breakdown_closed WHERE site_id = '{closing_site['id']}'")
               != [("0",)], 15, "nothing was added up")


def seeded_database(stack, events: int, days: int, *seed_options: str) -> tuple[str, str, str, str]:
    """A fresh migrated database holding one site that `hitkeep dev seed` filled with `events` page
    views over the last `days` days, no pool running: (database, its URL, the site's id, what the
    seed wrote on standard error)."""
    database = unique("hk_")
    database_url = stack.create_database(database)
    assert stack.migrate(database_url=database_url).returncode == 0
    email = unique_email()
    created = run_cli(stack, "user", "create", "--email", email, "--password-stdin", input=PASSWORD + "\n",
                      database_url=database_url)
    assert created.returncode == 0, created.stderr
    site = run_cli(stack, "site", "create", "--owner", email, "--domain", unique_domain(), "--name", "Bulk",
                   database_url=database_url)
    assert site.returncode == 0, site.stderr
    site_id = site.stdout.strip()
    seeded = run_cli(stack, "dev", "seed", "--site", site_id, "--events", str(events), "--days", str(days),
                     *seed_options, database_url=database_url, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    return database, database_url, site_id, seeded.stderr


def closed_periods(stack, database: str, site_id: str, span: str) -> int:
    return int(stack.sql(f"SELECT count(*) FROM filtered_breakdown_closed WHERE site_id = '{site_id}' "
                         f"AND span = '{span}'", database=database)[0][0])


def test_roll_up_once_adds_up_every_closing_ahead_and_shows_its_progress(stack):
    """After a bulk load (`hitkeep dev seed` over past days, no pool running), `hitkeep roll-up
    --once` folds the page views, counts the closings ahead (days, and the hours no day due will
    cover), draws their progress on standard error and adds them all up."""
    database, database_url, site_id, _ = seeded_database(stack, 3000, 3, "--no-closings")
    # The seed folds as it writes: its ended days and today's ended hours are due.
    before = int(stack.sql("SELECT filtered_breakdown_closings_ahead()", database=database)[0][0])
    assert before > 0

    rolled = run_cli(stack, "roll-up", "--once", database_url=database_url, timeout=120)
    assert rolled.returncode == 0, rolled.stderr
    assert "adding up breakdowns under filters by day and hour" in rolled.stderr
    finished = [line for line in rolled.stderr.splitlines() if " closings in " in line]
    assert len(finished) == 1, rolled.stderr
    ahead = int(finished[0].split(" closings in ")[0].replace(",", ""))
    assert ahead == before
    # Every closing it counted is there, no more (the day closings removed the hours they cover),
    # and none is left: the seed's ended days in all 13 dimensions, and today's hours.
    days, hours = closed_periods(stack, database, site_id, "day"), closed_periods(stack, database, site_id, "hour")
    assert days >= 2 * len(DIMENSIONS) and days % len(DIMENSIONS) == 0
    assert days + hours == ahead
    assert stack.sql("SELECT filtered_breakdown_closings_ahead()", database=database) == [("0",)]
    # With nothing due, it says nothing about closings.
    again = run_cli(stack, "roll-up", "--once", database_url=database_url)
    assert again.returncode == 0 and "closings" not in again.stderr, again.stderr


def test_a_seed_adds_up_the_closings_of_the_days_it_wrote_before_it_exits(stack):
    """`hitkeep dev seed` leaves nothing due, so that a seeded month's filtered breakdowns read
    closings from the start (at ten million page views, raw events answered 503): every dimension
    of each ended day, and today's ended hours."""
    database, _, site_id, seeded = seeded_database(stack, 3000, 3)
    assert "adding up breakdowns under filters by day and hour" in seeded
    finished = [line for line in seeded.splitlines() if " closings in " in line]
    assert len(finished) == 1, seeded
    ahead = int(finished[0].split(" closings in ")[0].replace(",", ""))
    days, hours = closed_periods(stack, database, site_id, "day"), closed_periods(stack, database, site_id, "hour")
    assert days >= 2 * len(DIMENSIONS) and days % len(DIMENSIONS) == 0
    assert days + hours == ahead
    assert stack.sql("SELECT filtered_breakdown_closings_ahead()", database=database) == [("0",)]


def test_roll_up_once_says_so_when_another_process_is_adding_up_the_closings(stack):
    """While another roll-up's closing holds the closings' lock, `roll-up --once` leaves them to it
    and does not claim to have added them up."""
    database, database_url, site_id, _ = seeded_database(stack, 500, 2, "--no-closings")
    ahead = int(stack.sql("SELECT filtered_breakdown_closings_ahead()", database=database)[0][0])
    holder = stack.cluster.background_session(database)
    try:
        holder.send("SELECT pg_advisory_lock(72712, 0);")
        wait_until(lambda: stack.sql("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 0 AND classid = 72712 "
                                     "AND granted", database=database), 5, "the lock was not taken")
        rolled = run_cli(stack, "roll-up", "--once", database_url=database_url, timeout=120)
    finally:
        holder.close()
    assert rolled.returncode == 0, rolled.stderr
    assert f"0 of {ahead} closings added up; the rest are another roll-up process's" in rolled.stderr
    assert " closings in " not in rolled.stderr
    assert stack.sql(f"SELECT count(*) FROM filtered_breakdown_closed WHERE site_id = '{site_id}'", database=database) == [("0",)]


def test_long_sessions_across_midnight_count_under_the_filters_they_match(stack, people):
    """A long session (a script's, migrations/0014) that crosses an added-up day's midnight is read
    from the raw events under a filter its stored quarters match, and left out under one they do
    not (its page views were read whatever the filter)."""
    api = people.new()
    site = api.create_site()
    first = dt.datetime(2026, 4, 10, tzinfo=dt.timezone.utc)
    write_script_session(stack.sql, site["id"], "desktop-script", first + dt.timedelta(hours=22), [PROFILES[0]] * 2, [100, 100])
    write_script_session(stack.sql, site["id"], "phone-script", first + dt.timedelta(hours=23), [PROFILES[2]] * 2, [90, 90])
    rng = random.Random(2026)
    for number in range(60):
        at = first + dt.timedelta(hours=20, seconds=rng.randrange(6 * 3600))
        write_script_session(stack.sql, site["id"], f"visit-{number}", at, [rng.choice(PROFILES)], [rng.choice([1, 2, 3])])
    add_up_every_day(stack, site["id"])
    crossing = stack.sql(f"SELECT DISTINCT unnest(crossing_sessions) FROM filtered_breakdown_closed "
                         f"WHERE site_id = '{site['id']}' AND span = 'day' ORDER BY 1")
    assert ("desktop-script",) in crossing and ("phone-script",) in crossing

    raw = RawEvents(stack, site["id"])
    checked = 0
    # And without a filter, whose landing and exit pages the session-hours answer while a long
    # session is in the range.
    for filters in [{"device": "desktop"}, {"device": "mobile"}, {"os": "Linux"}, {"country": "US"}, {"path": "/api"}, {}]:
        kind, value = next(iter(filters.items()), ("", ""))
        for start, days in [(first, 2), (first, 1), (first + dt.timedelta(days=1), 1)]:
            end = start + dt.timedelta(days=days)
            for dimension in ["path", "landing", "exit", "browser"]:
                if dimension == "browser" and kind in PROFILE_COLUMNS:
                    continue
                query = (f"from={start.date()}&to={(end - dt.timedelta(days=1)).date()}&timezone=UTC"
                         f"&dimension={dimension}" + (f"&filter={kind}:{value}" if filters else ""))
                rows = breakdown_rows(api, site["id"], query)
                assert rows == expected_breakdown(raw, start, end, filters, dimension), query
                checked += bool(rows)
    assert checked > 20


def check_session_ends(api, site, raw, rng, count: int, label: str):
    """`count` random landing and exit breakdowns without a filter (`random_span`'s ranges)."""
    failures = []
    for number in range(count):
        span = random_span(rng, ZONES)
        dimension = rng.choice(["landing", "exit"])
        order_by, order = rng.choice(ORDER_BY), rng.choice(["asc", "desc"])
        query = f"{span}&dimension={dimension}&order_by={order_by}&order={order}"
        found = breakdown_differences(api, site, raw, query, {}, dimension, order_by, order, rng.choice([1, 2, 100]))
        if found:
            failures.append(f"{label} question {number}: {query}\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


def test_landing_and_exit_pages_without_a_filter_are_read_from_the_added_up_days(stack, profiled_site):
    api, site, _ = profiled_site
    raw = RawEvents(stack, site["id"])  # with what the tests before added
    check_session_ends(api, site, raw, random.Random(35), 8, "as they come")
    add_up_every_day(stack, site["id"])
    # The closings added the rows of no filter (0035's filter 0) to every landing and exit day.
    days = closed(stack, site["id"])
    for dimension in ["entry", "exit"]:
        assert stack.sql(f"SELECT count(DISTINCT bucket) FROM filtered_breakdowns WHERE site_id = '{site['id']}' "
                         f"AND dimension = '{dimension}' AND span = 'day' AND filter = 0") == [(str(len(days)),)]
    check_session_ends(api, site, raw, random.Random(36), 24, "added up")

    # The day's rows are what answers: a number changed there shows.
    day = days[1]
    query = f"from={day[:10]}&to={day[:10]}&timezone=UTC&dimension=landing"
    before = {row["name"]: row["pageviews"] for row in breakdown_rows(api, site["id"], query)}
    add_to_day(stack, site["id"], "entry", day, "0")
    after = {row["name"]: row["pageviews"] for row in breakdown_rows(api, site["id"], query)}
    assert after.keys() == before.keys() and sum(after.values()) >= sum(before.values()) + 1000

    # A day added up before 0035 (no rows of no filter) is not read for them: the session-hours answer.
    stack.sql(f"DELETE FROM filtered_breakdowns WHERE site_id = '{site['id']}' AND dimension = 'entry' "
              f"AND span = 'day' AND bucket = '{day}' AND filter = 0")
    assert {row["name"]: row["pageviews"] for row in breakdown_rows(api, site["id"], query)} == before
    stack.sql(f"SELECT close_filtered_breakdown('{site['id']}', 'entry', 'day', '{day}')")
    check_session_ends(api, site, raw, random.Random(37), 6, "added up again")
