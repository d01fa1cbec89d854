"""The filtered rollups (migrations/0012, 0014, 0020, 0021, 0024, 0025): built from the events already there by
`hitkeep migrate` on an upgrade, kept by the trigger afterwards, and equal to the definitions over
the raw events; and 0048's and 0051's new layouts of the unfiltered `session_hours`, which keep every row."""

import concurrent.futures
import random

import pytest

from accounts import people  # noqa: F401 (a fixture)
from stack import StackError, wait_until

DIMENSIONS = {"path": "path", "referrer": "referrer_host", "device": "device", "browser": "browser", "os": "os",
              "country": "country", "language": "language", "utm_source": "utm_source",
              "utm_medium": "utm_medium", "utm_campaign": "utm_campaign", "hostname": "hostname",
              # The visitor profile (0024): a page view's five visitor values as one.
              "profile": "visitor_profile(device, browser, os, country, language)"}
# Before 0018 the events have no hostname, before 0020 the rollups count none, before 0024 no profile.
DIMENSIONS_BEFORE_0020 = {name: column for name, column in DIMENSIONS.items() if name not in ("hostname", "profile")}

# Totals of one filter value over [from, to) read from the rollups, and the same from the events
# (docs/API.md §10.3: sessions, bounces and durations of the matching page views only).
FROM_ROLLUPS = """
    SELECT coalesce(sum(pageviews), 0), coalesce(sum(session_quarters) FILTER (WHERE prev_quarter < {f}), 0),
           coalesce(sum(singles) FILTER (WHERE prev_quarter < {f} AND next_quarter >= {t}), 0),
           coalesce(sum(last_offset_us + extract(epoch FROM quarter)::numeric * 1000000 * session_quarters)
                    FILTER (WHERE next_quarter >= {t}), 0)
         - coalesce(sum(first_offset_us + extract(epoch FROM quarter)::numeric * 1000000 * session_quarters)
                    FILTER (WHERE prev_quarter < {f}), 0)
    FROM filtered_traffic t JOIN stat_values v ON v.id = t.filter
    WHERE t.site_id = '{site}' AND v.dimension = '{dimension}' AND v.value = '{value}'
      AND quarter >= {f} AND quarter < {t}"""
FROM_EVENTS = """
    SELECT coalesce(sum(n), 0), count(*), count(*) FILTER (WHERE n = 1), coalesce(sum(d), 0)
    FROM (SELECT count(*) AS n, extract(epoch FROM max(occurred_at) - min(occurred_at))::numeric * 1000000 AS d
          FROM events WHERE site_id = '{site}' AND {column} = '{value}' AND occurred_at >= {f} AND occurred_at < {t}
          GROUP BY session_id) AS sessions"""
# The rows of filtered_traffic_days (0025) that differ from their day's filtered_traffic rows added
# up as that migration defines, either way, over the days closed; rows whose sums all went back to
# 0 count as absent.
DAYS_APART_FROM_QUARTERS = """
    WITH from_quarters AS (
        SELECT t.filter, k.day,
               CASE WHEN t.prev_quarter < k.day THEN t.prev_quarter ELSE 'infinity' END AS prev_quarter,
               CASE WHEN t.next_quarter >= k.day + interval '1 day' THEN t.next_quarter ELSE '-infinity' END AS next_quarter,
               sum(t.session_quarters) AS session_quarters, sum(t.pageviews) AS pageviews, sum(t.singles) AS singles,
               sum(t.first_offset_us + t.session_quarters * k.shift) AS first_offset_us,
               sum(t.last_offset_us + t.session_quarters * k.shift) AS last_offset_us
        FROM filtered_traffic t
        CROSS JOIN LATERAL (SELECT date_bin('1 day', t.quarter, 'epoch') AS day) AS b
        CROSS JOIN LATERAL (SELECT b.day, (extract(epoch FROM t.quarter - b.day) * 1000000)::bigint AS shift) AS k
        WHERE t.site_id = '{site}' AND t.filter <> -1
          AND t.quarter < (SELECT closed_before FROM filtered_traffic_days_closed)
        GROUP BY 1, 2, 3, 4
    ), nonzero AS (
        SELECT * FROM from_quarters
        WHERE (session_quarters, pageviews, singles, first_offset_us, last_offset_us) <> (0, 0, 0, 0, 0)
    ), days AS (
        SELECT filter, day, prev_quarter, next_quarter, session_quarters, pageviews, singles, first_offset_us, last_offset_us
        FROM filtered_traffic_days
        WHERE site_id = '{site}'
          AND (session_quarters, pageviews, singles, first_offset_us, last_offset_us) <> (0, 0, 0, 0, 0)
    )
    SELECT (SELECT count(*) FROM (SELECT * FROM nonzero EXCEPT ALL SELECT * FROM days) AS missing)
         + (SELECT count(*) FROM (SELECT * FROM days EXCEPT ALL SELECT * FROM nonzero) AS extra)"""


def random_events(rng, site_id, count, sessions, hostnames=("", "blog.x.test", "docs.x.test")):
    """Sessions whose every dimension changes from one page view to the next, some of them
    spanning hours and days. Without `hostnames`, for a schema before 0018, the events have none."""
    rows = []
    for _ in range(count):
        session = f"s{rng.randrange(sessions)}"
        when = f"2026-03-0{rng.randrange(1, 4)} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}+00"
        values = [rng.choice(["/", "/a", "/b,\"c\""]), rng.choice(["", "x.test"]), rng.choice(["desktop", "mobile"]),
                  rng.choice(["Chrome", "Safari"]), rng.choice(["iOS", "Windows"]), rng.choice(["", "DE", "US"]),
                  rng.choice(["en", "de"]), rng.choice(["", "news"]), rng.choice(["", "email"]), rng.choice(["", "may"])]
        if hostnames:
            values.append(rng.choice(hostnames))
        quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
        rows.append(f"('{site_id}', '{when}', '{session}', {quoted})")
    return ("INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, device, browser, os, country, "
            "language, utm_source, utm_medium, utm_campaign" + (", hostname" if hostnames else "") + ") VALUES "
            + ", ".join(rows))


def assert_rollups_match_events(stack, database, site_id, dimensions=DIMENSIONS):
    ranges = [("'2026-03-01 00:00+00'", "'2026-03-04 00:00+00'"), ("'2026-03-01 07:00+00'", "'2026-03-02 13:00+00'"),
              ("'2026-03-02 05:00+00'", "'2026-03-02 06:00+00'"), ("'2026-03-02 23:45+00'", "'2026-03-03 02:15+00'"),
              ("'2026-03-01 18:30+00'", "'2026-03-02 18:30+00'")]
    checked = 0
    for dimension, column in dimensions.items():
        values = [row[0] for row in stack.sql(f"SELECT DISTINCT {column} FROM events WHERE site_id = '{site_id}' "
                                             "ORDER BY 1", database=database)]
        # Profiles are many (every combination of five values): a quarter of them, spread out.
        for value in values[::4] if dimension == "profile" else values:
            escaped = value.replace("'", "''")
            for f, t in ranges:
                fields = dict(site=site_id, dimension=dimension, column=column, value=escaped, f=f, t=t)
                rollup = stack.sql(FROM_ROLLUPS.format(**fields), database=database)[0]
                raw = stack.sql(FROM_EVENTS.format(**fields), database=database)[0]
                assert [int(float(x)) for x in rollup] == [int(float(x)) for x in raw], (dimension, value, f, t)
                checked += 1
    assert checked >= 60
    if stack.sql("SELECT to_regclass('filtered_traffic_days') IS NOT NULL", database=database) == [("t",)]:
        assert stack.sql(DAYS_APART_FROM_QUARTERS.format(site=site_id), database=database) == [("0",)]


def test_an_upgrade_adds_existing_events_and_the_trigger_adds_new_ones(stack, tmp_path):
    directory = tmp_path / "migrations"
    name, url = stack.installation_before(12, directory)
    stack.sql("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'a@x.test', 'x'); "
              "INSERT INTO sites (id, domain, name, owner_id) VALUES ('site1', 'x.test', 'X', 'u1'), "
              "('site2', 'y.test', 'Y', 'u1')", database=name)
    rng = random.Random(12)
    for _ in range(6):
        stack.sql(random_events(rng, "site1", 300, 150, hostnames=()), database=name)
    stack.sql(random_events(rng, "site2", 200, 40, hostnames=()), database=name)

    # Small batches, so that sessions run across batch boundaries.
    result = stack.upgrade(directory, url, "--backfill-batch", "97", through=12)
    assert result.returncode == 0, result.stderr
    assert "filtered rollups hold every event" in result.stdout
    assert stack.sql("SELECT count(*) FROM filtered_rollups_backfill", database=name) == [("0",)]
    assert_rollups_match_events(stack, name, "site1", DIMENSIONS_BEFORE_0020)

    # After the upgrade, new events join the same sessions through the trigger.
    for _ in range(3):
        stack.sql(random_events(rng, "site1", 100, 150, hostnames=()), database=name)
    assert_rollups_match_events(stack, name, "site1", DIMENSIONS_BEFORE_0020)
    assert_rollups_match_events(stack, name, "site2", DIMENSIONS_BEFORE_0020)

    # A second migrate has nothing left to add; deleting a site deletes its rollups.
    again = stack.migrate(migrations=directory, database_url=url)
    assert again.returncode == 0 and "filtered rollups" not in again.stdout
    # (This installation is at 0012, before the site keys of 0051.)
    stack.sql("DELETE FROM sites WHERE id = 'site1'", database=name)
    for table in ["filtered_traffic", "filtered_counts", "filtered_session_ends"]:
        assert stack.sql(f"SELECT count(*) FROM {table} WHERE site_id = 'site1'", database=name) == [("0",)]


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_the_trigger_keeps_the_rollups_exact_whatever_the_batches(stack, people, batch):
    # Events of the same sessions arriving out of order, one to hundreds per statement.
    api = people.new()
    site = api.create_site()
    rng = random.Random(batch)
    statements = []
    remaining = 900
    while remaining:
        size = min(remaining, rng.randrange(1, batch + 1))
        statements.append(random_events(rng, site["id"], size, 60))
        remaining -= size
    for statement in statements:
        stack.sql(statement)
    assert_rollups_match_events(stack, "hitkeep", site["id"])


# Every row a site's filtered rollups hold, with nothing of the site's own identity (nor event ids),
# zero sums left out: two sites with the same events compare equal however they were written.
TRAFFIC_ROWS = """
    SELECT filter, {start}, prev_quarter, next_quarter, session_quarters, pageviews, singles, first_offset_us,
           last_offset_us
    FROM {table}
    WHERE site_id = '{{site}}' AND (session_quarters, pageviews, singles, first_offset_us, last_offset_us) <> (0, 0, 0, 0, 0)
    ORDER BY 1, 2, 3, 4"""
ROLLUP_ROWS = {
    "filtered_traffic": TRAFFIC_ROWS.format(table="filtered_traffic", start="quarter"),
    "filtered_traffic_days": TRAFFIC_ROWS.format(table="filtered_traffic_days", start="day"),
    "filtered_counts": """
        SELECT span, bucket, filter, u.value_id, u.n
        FROM filtered_counts, unnest(value_ids, pageviews) AS u (value_id, n)
        WHERE site_id = '{site}' AND u.n <> 0 ORDER BY 1, 2, 3, 4""",
    "filtered_session_ends": """
        SELECT span, bucket, filter, kind, boundary, u.path_id, u.n
        FROM filtered_session_ends, unnest(path_ids, sessions) AS u (path_id, n)
        WHERE site_id = '{site}' AND u.n <> 0 ORDER BY 1, 2, 3, 4, 5, 6""",
    "filtered_session_quarters": """
        SELECT session_id, filter, dimension, quarter, pageviews, first_key[1], first_key[3], last_key[1], last_key[3]
        FROM filtered_session_quarters WHERE site_id = '{site}' ORDER BY 1, 2, 4""",
    "quarter_counts": """
        SELECT quarter, u.value_id, u.n
        FROM quarter_counts, unnest(value_ids, pageviews) AS u (value_id, n)
        WHERE site_id = '{site}' AND u.n <> 0 ORDER BY 1, 2""",
    "quarter_session_ends": """
        SELECT span, bucket, kind, boundary, u.path_id, u.n
        FROM quarter_session_ends, unnest(path_ids, sessions) AS u (path_id, n)
        WHERE site_id = '{site}' AND u.n <> 0 ORDER BY 1, 2, 3, 4, 5""",
    "mixed_session_quarters": """
        SELECT session_id, profile, quarter, pageviews
        FROM mixed_session_quarters WHERE site_id = '{site}' AND pageviews <> 0 ORDER BY 1, 2, 3""",
}


def test_long_sessions_are_kept_from_their_stored_quarters_and_stay_exact(stack, people):
    # A few sessions of hundreds of page views each (a script sending everything under one
    # session_id), arriving a few at a time, out of order, every dimension changing: past the
    # threshold (large_session_events(), 128) their writes are computed from stored quarters.
    api = people.new()
    site = api.create_site()
    rng = random.Random(128)
    remaining = 1500
    while remaining:
        size = min(remaining, rng.randrange(1, 40))
        stack.sql(random_events(rng, site["id"], size, 4))
        remaining -= size
    stored = stack.sql(f"SELECT count(DISTINCT session_id) FROM filtered_session_quarters WHERE site_id = '{site['id']}'")
    assert stored == [("4",)]
    assert_rollups_match_events(stack, "hitkeep", site["id"])

    # The same events written at once to another site are added from the sessions' events alone;
    # every rollup row, and the stored quarters, come out the same.
    fresh = api.create_site()
    stack.sql(f"""
        INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, device, browser, os, country, language,
                            utm_source, utm_medium, utm_campaign, hostname)
        SELECT '{fresh['id']}', occurred_at, session_id, path, referrer_host, device, browser, os, country, language,
               utm_source, utm_medium, utm_campaign, hostname
        FROM events WHERE site_id = '{site['id']}' ORDER BY id""")
    for table, query in ROLLUP_ROWS.items():
        incremental = stack.sql(query.format(site=site["id"]))
        at_once = stack.sql(query.format(site=fresh["id"]))
        assert incremental == at_once, table
        # Every session is long in the end: none is left counted as a short one that changed profile.
        assert bool(incremental) == (table != "mixed_session_quarters"), table


@pytest.mark.parametrize("before", [20, 12])
def test_an_upgrade_adds_hostnames_and_keeps_long_sessions_stored(stack, tmp_path, before):
    # From an installation before 0020, whose events have subdomains (0018) and whose long sessions
    # have stored quarters without a hostname filter (0014); or from one before 0012, whose backfill
    # then runs with 0020's functions, beside 0020's own.
    directory = tmp_path / "migrations"
    name, url = stack.installation_before(before, directory, prefix=f"hostnames_{before}")
    stack.sql("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'a@x.test', 'x'); "
              "INSERT INTO sites (id, domain, name, owner_id) VALUES ('site1', 'x.test', 'X', 'u1'), "
              "('site2', 'y.test', 'Y', 'u1'), ('site3', 'z.test', 'Z', 'u1')", database=name)
    rng = random.Random(before)
    old = {"hostnames": ()} if before < 18 else {}
    for _ in range(4):
        stack.sql(random_events(rng, "site1", 300, 150, **old), database=name)
    # Two sessions of some hundred page views each, written a few at a time: long ones.
    for _ in range(10):
        stack.sql(random_events(rng, "site1", 30, 2, **old), database=name)
    stack.sql(random_events(rng, "site2", 200, 40, **old), database=name)
    if before > 14:
        assert stack.sql("SELECT count(DISTINCT session_id) FROM filtered_session_quarters WHERE site_id = 'site1'",
                         database=name) == [("2",)]

    result = stack.upgrade(directory, url, "--backfill-batch", "97")
    assert result.returncode == 0, result.stderr
    assert "adding existing events' hostnames to the filtered rollups" in result.stderr
    assert "adding existing events' visitor profiles to the filtered rollups" in result.stderr
    assert "filtered rollups hold every event" in result.stdout
    assert "adding existing events to the top lists by quarter hour" in result.stderr
    for table in ["filtered_rollups_backfill", "hostname_rollups_backfill", "profile_rollups_backfill",
                  "quarter_lists_backfill"]:
        assert stack.sql(f"SELECT count(*) FROM {table}", database=name) == [("0",)]
    # The long sessions have their stored quarters, with hostnames (0021), before anything is
    # written to them: their next fold merges into them instead of rereading every event, which for
    # a session of a few hundred thousand page views outlasts the statement timeout.
    assert stack.sql("SELECT count(DISTINCT session_id), count(*) FILTER (WHERE dimension = 11) > 0, "
                     "count(*) FILTER (WHERE dimension = 12) > 0 "
                     "FROM filtered_session_quarters WHERE site_id = 'site1'", database=name) == [("2", "t", "t")]
    assert_rollups_match_events(stack, name, "site1")
    assert_rollups_match_events(stack, name, "site2")
    # Partitioned during the upgrade (from before 0019: by the latest partition_events), events keeps
    # the indexes it had, and the first partition's became the partitioned ones' parts.
    indexes = stack.sql("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
                        "(SELECT count(*) FROM pg_inherits WHERE inhparent = i.indexrelid) > 0 "
                        "FROM pg_index i WHERE i.indrelid = 'events'::regclass ORDER BY 1", database=name)
    keys = {"events_session_idx": "hashtext(session_id)", "events_site_hour_idx": "date_bin(", "events_values_idx": "gin (event_value_keys("}
    assert [(index, keys.get(index, "?") in definition, parted) for index, definition, parted in indexes] == \
        [("events_session_idx", True, "t"), ("events_site_hour_idx", True, "t"), ("events_values_idx", True, "t")]

    # New events join the old sessions, long ones among them, through the trigger.
    for _ in range(3):
        stack.sql(random_events(rng, "site1", 100, 150), database=name)
        stack.sql(random_events(rng, "site1", 20, 2), database=name)
    assert_rollups_match_events(stack, name, "site1")

    # Every row of the rollups is as if the same events had been written after the upgrade at once.
    stack.sql("""
        INSERT INTO events (site_id, occurred_at, session_id, path, referrer_host, device, browser, os, country, language,
                            utm_source, utm_medium, utm_campaign, hostname)
        SELECT 'site3', occurred_at, session_id, path, referrer_host, device, browser, os, country, language,
               utm_source, utm_medium, utm_campaign, hostname
        FROM events WHERE site_id = 'site1' ORDER BY id""", database=name)
    for table, query in ROLLUP_ROWS.items():
        assert stack.sql(query.format(site="site1"), database=name) == \
            stack.sql(query.format(site="site3"), database=name), table
    counts = ("SELECT span, bucket, dimension, value, pageviews FROM dimension_counts WHERE site_id = '{site}' "
              "AND pageviews <> 0 ORDER BY 1, 2, 3, 4")
    assert stack.sql(counts.format(site="site1"), database=name) == stack.sql(counts.format(site="site3"), database=name)



SESSION_HOURS = ("SELECT site_id, session_id, hour, pageviews, first_at, first_id, first_path, last_at, last_id, "
                 "last_path, prev_hour, next_hour FROM session_hours ORDER BY site_id, session_id, hour")
# The same rows since 0051, which names the site by its key (`session_hours` is a view of them).
KEYED_SESSION_HOURS = ("SELECT s.id, h.session_id, h.hour, h.pageviews, h.first_at, h.first_id, h.first_path, "
                       "h.last_at, h.last_id, h.last_path, h.prev_hour, h.next_hour "
                       "FROM keyed_session_hours h JOIN sites s ON s.key = h.site_key ORDER BY 1, 2, 3")


def test_an_upgrade_lays_session_hours_out_anew_and_keeps_every_row(stack, tmp_path):
    """0048 copies `session_hours` into a table with its fixed-width columns first, and 0051 into
    one that names the site by its key: the same rows, and the fold goes on writing into it as it
    does on a new installation."""
    def write(database: str, batches: range):
        rng = random.Random(48)
        for batch in range(batches.stop):
            events = random_events(rng, "site1", 300, 120)
            if batch in batches:
                stack.sql(events, database=database)

    def add_site(database: str):
        stack.sql("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'a@x.test', 'x'); "
                  "INSERT INTO sites (id, domain, name, owner_id) VALUES ('site1', 'x.test', 'X', 'u1')",
                  database=database)

    directory = tmp_path / "migrations"
    upgraded, url = stack.installation_before(48, directory, prefix="session_hours")
    add_site(upgraded)
    write(upgraded, range(0, 3))
    before = stack.sql(SESSION_HOURS, database=upgraded)
    assert len(before) > 300

    # A fold under way has read the table and goes on to write to it while the migration starts:
    # the migration waits for it and copies its rows too (locked for writes only, then again for
    # the swap, the two waited for each other until PostgreSQL failed one of them).
    fold = stack.cluster.background_session(upgraded)
    try:
        fold.begin("SELECT count(*) FROM session_hours")
        with concurrent.futures.ThreadPoolExecutor(1) as background:
            upgrading = background.submit(stack.upgrade, directory, url, through=48)
            wait_until(lambda: stack.sql("SELECT 1 FROM pg_locks WHERE relation = 'session_hours'::regclass "
                                         "AND NOT granted", database=upgraded), 30, "the migration did not wait")
            fold.send("INSERT INTO session_hours (site_id, session_id, hour, pageviews, first_at, first_id, first_path, "
                      "last_at, last_id, last_path, prev_hour, next_hour) VALUES ('site1', 'during', "
                      "'2026-03-05 00:00+00', 1, '2026-03-05 00:10+00', 0, '/', '2026-03-05 00:10+00', 0, '/', "
                      "'-infinity', 'infinity'); COMMIT;")
            result = upgrading.result(timeout=120)
    finally:
        fold.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["applied 0048 session_hours_fixed_width_first"]
    after = stack.sql(SESSION_HOURS, database=upgraded)
    assert [row for row in after if row[1] != "during"] == before
    assert [row[1] for row in after if row[1] == "during"] == ["during"]
    stack.sql("DELETE FROM session_hours WHERE session_id = 'during'", database=upgraded)
    columns = stack.sql("SELECT attname FROM pg_attribute WHERE attrelid = 'session_hours'::regclass "
                        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", database=upgraded)
    assert [name for (name,) in columns][-4:] == ["site_id", "session_id", "first_path", "last_path"]
    indexes = stack.sql("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'session_hours'::regclass "
                        "ORDER BY 1", database=upgraded)
    assert indexes == [("session_hours_hour_brin",), ("session_hours_pkey",)]

    # Later page views continue the same sessions: the rows are a new installation's for all of them.
    write(upgraded, range(3, 5))
    # 0051 then copies them once more, naming the site by its key: the same rows again.
    before_keys = stack.sql(SESSION_HOURS, database=upgraded)
    result = stack.upgrade(directory, url)
    assert result.returncode == 0, result.stderr
    assert "applied 0051 session_hours_site_keys" in result.stdout.splitlines()
    assert stack.sql(KEYED_SESSION_HOURS, database=upgraded) == before_keys
    # A build before 0051 still reads them by site id.
    assert stack.sql(SESSION_HOURS, database=upgraded) == before_keys
    write(upgraded, range(5, 7))
    fresh = f"fresh_{upgraded}"
    assert stack.migrate(database_url=stack.create_database(fresh)).returncode == 0
    add_site(fresh)
    write(fresh, range(0, 7))
    assert stack.sql(KEYED_SESSION_HOURS, database=upgraded) == stack.sql(KEYED_SESSION_HOURS, database=fresh)
    assert_rollups_match_events(stack, upgraded, "site1")

    # A session-hour still has to name a site, and deleting the site still removes its rows.
    with pytest.raises(StackError, match="names a site that does not exist"):
        stack.sql("INSERT INTO keyed_session_hours (site_key, session_id, hour, pageviews, first_at, first_id, first_path, "
                  "last_at, last_id, last_path, prev_hour, next_hour) VALUES (-1, 's', '2026-03-01 00:00+00', "
                  "1, now(), 1, '/', now(), 1, '/', '-infinity', 'infinity')", database=upgraded)
    stack.sql("DELETE FROM sites WHERE id = 'site1'", database=upgraded)
    assert stack.sql("SELECT count(*) FROM keyed_session_hours", database=upgraded) == [("0",)]
