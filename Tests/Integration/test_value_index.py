"""Several filters that select few page views together are counted from the page views the index of
values finds (migrations/0033, `RedundantFilters.Reduction`) instead of every page view of the
range: the numbers are the same, stats and breakdowns alike, and the index is what PostgreSQL reads.
Filters that select many are read as before."""

from __future__ import annotations

import datetime as dt

from accounts import deployment, wait_until
from test_partitions import OLD_DAY, stats
from test_stats import RawEvents, expected_response
from test_stats_properties import expected_breakdown
from test_visitor_profiles import PROFILE_COLUMNS, PROFILES, breakdown_rows

DAY = f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC"


def value_index_scans(own) -> int:
    """Scans of the index of values, over the partitioned index and every partition's."""
    return int(own.sql("""
        SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes
        WHERE indexrelid = 'events_values_idx'::regclass
           OR indexrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events_values_idx'::regclass)
        """)[0][0])


def insert_traffic(own, site_id: str):
    """40 000 page views of 20 000 two-page sessions over OLD_DAY, and a few on /rare."""
    profiles = {column: "ARRAY[" + ", ".join(f"'{profile[index]}'" for profile in PROFILES) + "]"
                for index, column in enumerate(PROFILE_COLUMNS)}
    picked = ", ".join(f"({profiles[column]})[1 + (g / 2) % {len(PROFILES)}]" for column in PROFILE_COLUMNS)
    own.sql(f"""
        INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, {', '.join(PROFILE_COLUMNS)})
        SELECT '{site_id}', '{OLD_DAY}T00:00:00Z'::timestamptz + g * interval '2.1 seconds', 'common-' || g / 2,
               '/p' || g % 20, CASE WHEN g % 3 = 0 THEN 't.co' ELSE '' END, {picked}
        FROM generate_series(0, 39999) AS g
        """)
    # Sessions on /rare: one page, two, a common page and /rare, and one on /rare hours apart.
    rare = [
        ("rare-1", "09:00:00", "/rare", "t.co", PROFILES[0]),
        ("rare-2", "10:00:00", "/rare", "", PROFILES[0]),
        ("rare-2", "10:03:10", "/rare", "", PROFILES[0]),
        ("rare-3", "11:00:00", "/p1", "", PROFILES[5]),
        ("rare-3", "11:00:40", "/rare", "", PROFILES[5]),
        ("rare-4", "12:00:00", "/rare", "", PROFILES[1]),
        ("rare-5", "01:00:00", "/rare", "", PROFILES[5]),
        ("rare-5", "21:30:00", "/rare", "t.co", PROFILES[5]),
    ]
    rows = ", ".join(f"('{site_id}', '{OLD_DAY}T{at}Z', '{session}', '{path}', '{referrer}', "
                     + ", ".join(f"'{value}'" for value in profile) + ")"
                     for session, at, path, referrer, profile in rare)
    own.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, {', '.join(PROFILE_COLUMNS)}) "
            f"VALUES {rows}")
    # As autovacuum would: the planner weighs the index by what it knows of the keys.
    own.sql("ANALYZE events")


def test_selective_filters_are_found_through_the_index_and_counted_exactly(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    insert_traffic(own, site["id"])
    raw = RawEvents(own, site["id"])
    start = dt.datetime.fromisoformat(f"{OLD_DAY}T00:00:00+00:00")
    end = start + dt.timedelta(days=1)
    scans = value_index_scans(own)

    # (query, filters as the oracle reads them): DE is rare-1's, rare-2's, rare-3's and rare-5's
    # country; (none) has no key, so path:/rare alone finds those page views.
    selective = [
        (f"{DAY}&filter=path:/rare&filter=country:DE", {"path": "/rare", "country": "DE"}),
        (f"{DAY}&filter=path:/rare&filter=country:DE&filter=device:desktop&interval=hour",
         {"path": "/rare", "country": "DE", "device": "desktop"}),
        (f"{DAY}&filter=referrer:(none)&filter=path:/rare", {"referrer_host": "", "path": "/rare"}),
    ]
    for query, filters in selective:
        body = stats(api, site["id"], query)
        assert body["total_pageviews"] > 0, query
        for key, value in expected_response(raw, body, filters, 10, "UTC", from_is_date=True).items():
            assert body[key] == value, (query, key)
    for dimension in ("browser", "landing", "exit", "path"):
        query = f"{DAY}&dimension={dimension}&filter=path:/rare&filter=country:DE"
        rows = breakdown_rows(api, site["id"], query, page_size=2)
        assert rows and rows == expected_breakdown(raw, start, end, {"path": "/rare", "country": "DE"}, dimension), query
    # Worker backends publish their counters when idle, up to several seconds later.
    wait_until(lambda: value_index_scans(own) >= scans + len(selective) + 4, timeout=30,
               message="the index of values to be scanned for each selective question")

    # Filters that select many page views together read the range as before, and count the same.
    broad = (f"{DAY}&filter=path:/p1&filter=device:mobile", {"path": "/p1", "device": "mobile"})
    body = stats(api, site["id"], broad[0])
    assert body["total_pageviews"] > 500
    for key, value in expected_response(raw, body, broad[1], 10, "UTC", from_is_date=True).items():
        assert body[key] == value, key


def test_events_are_analysed_as_autovacuum_analyses_them(stack):
    # Autovacuum (and a restore of pg_dump's output) evaluates the index's expression with an empty
    # search_path; until 0043 that failed, and the partitions of `events` were never analysed.
    own = deployment(stack, fresh_database=True)
    site = own.people.new().create_site()
    insert_traffic(own, site["id"])
    expression_statistics = """
        SELECT count(*) FROM pg_stats
        WHERE schemaname = 'public'
          AND tablename IN (SELECT inhrelid::regclass::text FROM pg_inherits
                            WHERE inhparent = 'events_values_idx'::regclass)
        """
    own.sql("DELETE FROM pg_statistic WHERE starelid IN "
            "(SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events_values_idx'::regclass)")
    assert own.sql(expression_statistics) == [("0",)]

    own.sql("SET search_path TO ''; ANALYZE public.events")

    assert int(own.sql(expression_statistics)[0][0]) > 0
