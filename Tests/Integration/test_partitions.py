"""Raw events partitioned by month with a retention period (migrations/0019, issue 19 item 3):
partitions made ahead of time, page views of any time stored and counted, a retention that removes
old raw events in batches while the rollups keep answering about them, a clear 422 for questions
that need the removed events, bad retention values refused, and an installation's populated
`events` converted by `hitkeep migrate` keeping every event and every rollup."""

from __future__ import annotations

import datetime as dt
import random
import re

from accounts import Deployment, assert_json, assert_problem, deployment, run_cli, start_pool
from stack import wait_until
from test_filtered_rollups import assert_rollups_match_events, random_events
from test_stats import CHROME_ANDROID, CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE

OLD_DAY = "2026-01-10"


def ingest(api, site_id, session, when, path, user_agent):
    response = api.post("/api/ingest/server/pageview", json={
        "site_id": site_id, "url": "https://x.test" + path, "user_agent": user_agent, "session_id": session,
        "timestamp": when})
    assert response.status_code == 202, response.text


def stats(api, site_id, query, status=200):
    return assert_json(api.get(f"/api/sites/{site_id}/stats?{query}"), status)


def remove_every_raw_event(own, api, site_id):
    """A retention of 30 days for a site whose page views are all older, applied at once: only its
    rollups remain."""
    assert api.put(f"/api/sites/{site_id}", json={"retention_days": 30}).status_code == 200
    own.sql("SELECT advance_raw_event_horizons(NULL)")
    while own.sql("SELECT remove_expired_events(1000)") != [("0",)]:
        pass
    roll_up_once(own)
    assert own.sql(f"SELECT count(*) FROM events WHERE site_id = '{site_id}'") == [("0",)]


def partitions(own) -> dict[str, str]:
    return dict(own.sql("""
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass"""))


def month_start(day: dt.date, months_later: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months_later
    return dt.date(index // 12, index % 12 + 1, 1)


def roll_up_once(own, **environment):
    result = run_cli(own.stack, "roll-up", "--once", database_url=own.database_url, extra_env=environment)
    assert result.returncode == 0, result.stderr


def test_partitions_exist_ahead_and_page_views_of_any_time_are_stored_and_counted(stack):
    own = deployment(stack, fresh_database=True)
    assert own.sql("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'events'::regclass") == [("1",)]
    # The month partitions start where the first one (everything before) ends, and reach three
    # months past the current one.
    boundary = dt.date.fromisoformat(own.sql("SELECT boundary::date FROM events_partitioning")[0][0])
    today = dt.datetime.now(dt.timezone.utc).date()
    names = partitions(own)
    assert names[f"events_before_{boundary:%Y_%m}"].startswith("FOR VALUES FROM (MINVALUE)")
    assert names["events_default"] == "DEFAULT"
    month = boundary
    while month <= month_start(today, 3):
        assert f"events_{month:%Y_%m}" in names, (month, names)
        month = month_start(month, 1)

    api = own.people.new()
    site = api.create_site()
    ingest(api, site["id"], "early", "1971-02-03T04:05:06Z", "/first", CHROME_WINDOWS)
    ingest(api, site["id"], "early", "1971-02-03T04:07:06Z", "/second", CHROME_WINDOWS)
    ingest(api, site["id"], "now", dt.datetime.now(dt.timezone.utc).isoformat(), "/", SAFARI_IPHONE)
    early = stats(api, site["id"], "from=1971-02-03&to=1971-02-03&timezone=UTC")
    assert (early["total_pageviews"], early["unique_sessions"]) == (2, 1)
    assert own.sql(f"SELECT tableoid::regclass::text, count(*) FROM events WHERE site_id = '{site['id']}' "
                   "AND occurred_at < '1972-01-01' GROUP BY 1") == [(f"events_before_{boundary:%Y_%m}", "2")]

    # A month with no partition yet (here: far ahead, as `hitkeep dev seed` or psql may write)
    # lands in the default partition; creating its partition later moves the rows into it, and the
    # rollups, which counted them once, are unchanged.
    own.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path) VALUES "
            f"('{site['id']}', '2100-05-06 07:08:09+00', 'late', '/future'), "
            f"('{site['id']}', '2100-05-20 07:08:09+00', 'late', '/future')")
    assert own.sql("SELECT count(*) FROM events_default") == [("2",)]
    before = own.sql(f"SELECT sum(pageviews) FROM traffic_hourly WHERE site_id = '{site['id']}'")
    assert own.sql("SELECT create_event_partition('2100-05-01 00:00+00')") == [("t",)]
    assert own.sql("SELECT count(*) FROM events_default") == [("0",)]
    assert own.sql("SELECT tableoid::regclass::text, count(*) FROM events WHERE occurred_at >= '2100-01-01' "
                   "GROUP BY 1") == [("events_2100_05", "2")]
    assert own.sql(f"SELECT sum(pageviews) FROM traffic_hourly WHERE site_id = '{site['id']}'") == before
    # The first and every month partition's primary key fills its pages: event ids only grow
    # (migrations/0031; the default partition holds the odd page view of a month without one).
    assert own.sql("SELECT DISTINCT c.reloptions::text FROM pg_inherits i JOIN pg_index x ON x.indrelid = i.inhrelid "
                   "AND x.indisprimary JOIN pg_class c ON c.oid = x.indexrelid WHERE i.inhparent = 'events'::regclass "
                   "AND i.inhrelid <> 'events_default'::regclass") == [("{fillfactor=100}",)]
    future = stats(api, site["id"], "from=2100-05-01&to=2100-05-31&timezone=UTC")
    assert (future["total_pageviews"], future["unique_sessions"]) == (2, 1)

    # Deleting the site removes its events from every partition (in the background, migrations/0049).
    assert api.delete(f"/api/sites/{site['id']}").status_code == 204
    wait_until(lambda: own.sql(f"SELECT count(*) FROM events WHERE site_id = '{site['id']}'") == [("0",)], 60,
               "the deleted site's events are still there")


def test_bad_retention_values_are_refused(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    for value, code in [(0, "invalid_retention_days"), (-1, "invalid_retention_days"),
                        (36500, "invalid_retention_days"), (3651, "invalid_retention_days"),
                        (1.5, "invalid_json"), ("30", "invalid_json"), (True, "invalid_json")]:
        assert_problem(api.put(f"/api/sites/{site['id']}", json={"retention_days": value}), 400, code)
    assert own.sql(f"SELECT retention_days FROM sites WHERE id = '{site['id']}'") == [(None,)]

    changed = assert_json(api.put(f"/api/sites/{site['id']}", json={"retention_days": 30}))
    assert (changed["retention_days"], changed["raw_events_since"]) == (30, None)
    assert assert_json(api.get(f"/api/sites/{site['id']}"))["retention_days"] == 30
    cleared = assert_json(api.put(f"/api/sites/{site['id']}", json={"retention_days": None}))
    assert cleared["retention_days"] is None

    for bad in ["0", "-1", "36500"]:
        result = run_cli(stack, "site", "update", "--id", site["id"], "--retention-days", bad,
                         database_url=own.database_url)
        assert result.returncode != 0 and "retention" in result.stderr, result.stderr
    assert run_cli(stack, "site", "update", "--id", site["id"], "--retention-days", "45",
                   database_url=own.database_url).returncode == 0
    assert own.sql(f"SELECT retention_days FROM sites WHERE id = '{site['id']}'") == [("45",)]
    assert run_cli(stack, "site", "update", "--id", site["id"], "--retention-days", "instance",
                   database_url=own.database_url).returncode == 0
    assert own.sql(f"SELECT retention_days FROM sites WHERE id = '{site['id']}'") == [(None,)]

    for bad in ["0", "-1", "36500", "a month"]:
        result = run_cli(stack, "serve", "--workers", "1", extra_env={"HITKEEP_RETENTION_DAYS": bad}, timeout=20)
        assert result.returncode != 0 and "HITKEEP_RETENTION_DAYS" in result.stderr, (bad, result.stderr)


def test_retention_removes_old_raw_events_in_batches_and_the_rollups_still_answer(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site, other = api.create_site(), api.create_site()
    rng = random.Random(19)
    agents = [CHROME_WINDOWS, SAFARI_IPHONE, CHROME_ANDROID, FIREFOX_LINUX]
    for number in range(12):
        for step in range(rng.randrange(1, 4)):
            when = f"{OLD_DAY}T{10 + number % 5:02d}:{step * 7 + number:02d}:00Z"
            ingest(api, site["id"], f"old{number}", when, rng.choice(["/", "/a", "/b"]), agents[number % 4])
    ingest(api, other["id"], "kept", f"{OLD_DAY}T12:00:00Z", "/", CHROME_WINDOWS)
    recent = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    for number in range(3):
        ingest(api, site["id"], f"new{number}", (recent + dt.timedelta(minutes=number)).isoformat(), "/a",
               agents[number])

    old = f"from={OLD_DAY}&to={OLD_DAY}&timezone=UTC"
    rollup_questions = [old, old + "&filter=device:mobile", old + "&filter=path:/a",
                        f"from={OLD_DAY}T10:00:00Z&to={OLD_DAY}T14:00:00Z&interval=hour",
                        old + "&filter=device:mobile&filter=browser:Safari"]   # visitor profiles (0024)
    # Two filters that each leave out some of the page views the other selects: the raw events count them.
    raw_question = old + "&filter=device:mobile&filter=path:/a"
    answers = [stats(api, site["id"], question) for question in rollup_questions]
    path_rows = assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{old}"))["rows"]
    landing_rows = assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=landing&{old}"))["rows"]
    # A profile dimension under a profile filter: the matching profiles' rollups (0024).
    browser_rows = assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=browser&{old}"
                                       "&filter=device:mobile"))["rows"]
    assert browser_rows
    before = stats(api, site["id"], raw_question)
    assert before["total_pageviews"] > 0
    old_events = int(own.sql(f"SELECT count(*) FROM events WHERE site_id = '{site['id']}' "
                             f"AND occurred_at < '{OLD_DAY}'::date + 1")[0][0])
    assert old_events >= 12

    assert_json(api.put(f"/api/sites/{site['id']}", json={"retention_days": 30}))
    # The horizon moves first; each call of the removal then takes one batch (here of 5 events).
    assert own.sql("SELECT advance_raw_event_horizons(NULL)") == [("1",)]
    assert own.sql("SELECT remove_expired_events(5)") == [("5",)]
    assert int(own.sql(f"SELECT count(*) FROM events WHERE site_id = '{site['id']}'")[0][0]) == old_events + 3 - 5
    roll_up_once(own)

    horizon = own.sql(f"SELECT raw_events_since FROM sites WHERE id = '{site['id']}'")[0][0]
    assert own.sql(f"SELECT count(*) FROM events WHERE site_id = '{site['id']}' AND occurred_at < '{horizon}'") \
        == [("0",)]
    assert own.sql(f"SELECT count(*) FROM events WHERE site_id = '{site['id']}'") == [("3",)]
    # Another site without retention keeps its old events.
    assert own.sql(f"SELECT count(*) FROM events WHERE site_id = '{other['id']}'") == [("1",)]
    shown = assert_json(api.get(f"/api/sites/{site['id']}"))
    assert shown["raw_events_since"] is not None

    # What the rollups answer about the old day is what it was.
    assert [stats(api, site["id"], question) for question in rollup_questions] == answers
    assert assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{old}"))["rows"] == path_rows
    assert assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=landing&{old}"))["rows"] \
        == landing_rows
    assert assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=browser&{old}"
                               "&filter=device:mobile"))["rows"] == browser_rows
    # What needs the removed raw events says so, with the first time it could answer from.
    for response in [api.get(f"/api/sites/{site['id']}/stats?{raw_question}"),
                     api.get(f"/api/sites/{site['id']}/stats?from={OLD_DAY}T10:10:00Z&to={OLD_DAY}T12:00:00Z"),
                     api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=landing&from={OLD_DAY}T10:10:00Z"
                             f"&to={OLD_DAY}T12:00:00Z"),
                     api.get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path&{old}&filter=device:mobile")]:
        problem = assert_problem(response, 422, "raw_events_removed")
        assert dt.datetime.fromisoformat(problem["available_from"].replace("Z", "+00:00")) > \
            dt.datetime(2026, 1, 11, tzinfo=dt.timezone.utc)
    # From the horizon on, raw questions answer as before.
    since = assert_problem(api.get(f"/api/sites/{site['id']}/stats?{raw_question}"), 422)["available_from"]
    until = (recent + dt.timedelta(hours=1)).replace(second=7).strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh = stats(api, site["id"], f"from={since}&to={until}&filter=path:/a&filter=device:desktop")
    assert fresh["total_pageviews"] == 1
    # Their previous period starts before the horizon, inside a quarter hour: the period asked for
    # answers, without a comparison where that needs the raw events...
    everything = stats(api, site["id"], f"from={since}&to={until}")
    assert everything["total_pageviews"] == 3 and everything["comparison"] is None
    # ...and with the numbers of no page views where the rollups show that none matches the filters.
    assert fresh["comparison"]["total_pageviews"] == 0

    # Once every site is past a partition, it is dropped whole; the rollups stay.
    own.sql("UPDATE sites SET raw_events_since = '2100-01-01'")
    dropped = own.sql("SELECT remove_expired_events(5)")[0][0]
    assert int(dropped) == 4
    assert [name for name in partitions(own) if name != "events_default"] == []
    assert own.sql(f"SELECT sum(pageviews) FROM traffic_hourly WHERE site_id = '{site['id']}'") == \
        [(str(old_events + 3),)]


def test_migrate_converts_a_populated_events_table_keeping_every_event_and_rollup(stack, tmp_path):
    directory = tmp_path / "migrations"
    name, url = stack.installation_before(19, directory, prefix="partition")
    stack.sql("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'a@x.test', 'x'); "
              "INSERT INTO sites (id, domain, name, owner_id) VALUES ('01J0000000000000000000000A', 'a.test', 'a', 'u1')",
              database=name)
    site_id = "01J0000000000000000000000A"
    stack.sql(random_events(random.Random(7), site_id, 3000, 400), database=name)
    events_sql = "SELECT md5(string_agg(e::text, ',' ORDER BY id)), count(*), max(id) FROM events e"
    rollups_sql = ("SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM traffic_hourly t), "
                   "(SELECT md5(string_agg(f::text, ',' ORDER BY f::text)) FROM filtered_traffic f), "
                   "(SELECT md5(string_agg(c::text, ',' ORDER BY c::text)) FROM filtered_counts c)")
    events_before, rollups_before = stack.sql(events_sql, database=name), stack.sql(rollups_sql, database=name)
    report_before = stack.sql("SELECT count(*), count(DISTINCT session_id) FROM reporting.page_views", database=name)

    # 0019 alone: later migrations add rollup rows of their own (0020's hostnames).
    converted = stack.upgrade(directory, url, through=19)
    assert converted.returncode == 0, converted.stderr
    assert converted.stdout.splitlines()[0] == "applied 0019 event_partitions_and_retention"
    report = re.search(r"events partitioned by month in [0-9.]+ s; events was locked for (\d+) ms", converted.stdout)
    assert report, converted.stdout
    assert stack.sql("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'events'::regclass",
                     database=name) == [("1",)]
    assert stack.sql(events_sql, database=name) == events_before
    assert stack.sql(rollups_sql, database=name) == rollups_before
    assert stack.sql("SELECT count(*), count(DISTINCT session_id) FROM reporting.page_views",
                     database=name) == report_before
    assert stack.migrate(database_url=url).returncode == 0
    assert stack.migrate(database_url=url).stdout.strip().startswith("database is up to date")

    # New events get new ids and reach the same rollups, which still equal the events.
    stack.sql(random_events(random.Random(8), site_id, 500, 450), database=name)
    assert int(stack.sql("SELECT min(id) FROM events WHERE id > " + events_before[0][2], database=name)[0][0]) \
        == int(events_before[0][2]) + 1
    assert_rollups_match_events(stack, name, site_id)

    # The stats through nginx count the converted events.
    pool = start_pool(stack, database_url=url)
    nginx = stack.start_nginx([pool.upstream])
    own = Deployment(stack, pool, nginx.base_url, name, url)
    owner = own.people.create()
    own.sql(f"INSERT INTO site_members (site_id, user_id, role) VALUES ('{site_id}', '{owner.id}', 'owner')")
    api = own.people.login(owner)
    body = stats(api, site_id, "from=2026-03-01&to=2026-03-03&timezone=UTC&filter=device:mobile&filter=os:iOS")
    expected = own.sql("SELECT count(*), count(DISTINCT session_id) FROM events WHERE device = 'mobile' AND os = 'iOS'")
    assert [(str(body["total_pageviews"]), str(body["unique_sessions"]))] == expected


def test_the_roll_up_rebuilds_loose_rollup_indexes_at_most_once_a_day(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    rng = random.Random(25)
    for _ in range(4):
        own.sql(random_events(rng, site["id"], 200, 60))
    questions = ["from=2026-03-01&to=2026-03-03&timezone=UTC&filter=device:mobile",
                 "from=2026-03-01&to=2026-03-03&timezone=Asia/Kolkata&filter=device:desktop&filter=os:iOS&interval=hour"]
    answers = [stats(api, site["id"], question) for question in questions]
    # What a rebuild that failed half way leaves: an invalid copy under the name REINDEX gives it.
    try:
        own.sql("CREATE UNIQUE INDEX CONCURRENTLY keyed_filtered_traffic_pkey_ccnew ON keyed_filtered_traffic (site_key)")
    except Exception:  # noqa: BLE001 (the duplicates make it fail, which is the point)
        pass
    invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
    assert own.sql(invalid) == [("1",)]

    def files():
        return dict(own.sql("SELECT relname, relfilenode FROM pg_class WHERE relname IN "
                            "('keyed_session_hours_pkey', 'keyed_filtered_traffic_pkey', 'keyed_filtered_traffic_days_pkey', "
                            "'filtered_counts_pkey', 'filtered_session_ends_pkey')"))

    # However small, with no minimum: each is rebuilt once, recorded, and the leftover is gone.
    before = files()
    roll_up_once(own, HITKEEP_ROLLUP_INDEX_MINIMUM_MB="0")
    after = files()
    assert sorted(after) == sorted(before) and all(after[name] != before[name] for name in before)
    assert own.sql(invalid) == [("0",)]
    recorded = own.sql("SELECT index_name, claimed_at IS NULL, rebuilt_at IS NOT NULL, bytes_per_entry > 0 "
                       "FROM rollup_index_rebuilds ORDER BY 1")
    assert recorded == [(name, "t", "t", "t") for name in sorted(before)]
    # Within the day nothing is rebuilt again; with the default minimum, nothing this small ever is.
    roll_up_once(own, HITKEEP_ROLLUP_INDEX_MINIMUM_MB="0")
    roll_up_once(own)
    assert files() == after
    # The rebuilt indexes answer as before, and the folds go on writing through them.
    assert [stats(api, site["id"], question) for question in questions] == answers
    own.sql(random_events(rng, site["id"], 100, 60))
    assert_rollups_match_events(stack, own.database, site["id"])


def test_days_are_added_up_once_over_and_answers_are_the_same_before_and_after(stack):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    # As if the roll-up process had last closed the days before 2 March: later ones are quarters.
    own.sql("UPDATE filtered_traffic_days_closed SET closed_before = '2026-03-02'")
    rng = random.Random(26)
    for _ in range(4):
        own.sql(random_events(rng, site["id"], 200, 60))
    days = "SELECT DISTINCT day::date::text FROM filtered_traffic_days ORDER BY 1"
    assert own.sql(days) == [("2026-03-01",)]
    span = "from=2026-03-01&to=2026-03-03&timezone=UTC"

    def answers():
        return [stats(api, site["id"], f"{span}&filter=device:mobile"),
                stats(api, site["id"], f"{span}&filter=device:desktop&filter=os:iOS&interval=hour"),
                assert_json(api.get(f"/api/sites/{site['id']}/stats/breakdown?{span}&dimension=country&filter=device:mobile"))]

    before = answers()
    roll_up_once(own)
    assert own.sql("SELECT closed_before = date_bin('1 day', now(), 'epoch') FROM filtered_traffic_days_closed") == [("t",)]
    assert own.sql(days) == [("2026-03-01",), ("2026-03-02",), ("2026-03-03",)]
    assert answers() == before
    assert_rollups_match_events(stack, own.database, site["id"])
    # A second pass has nothing left to close.
    rows = own.sql("SELECT count(*), sum(pageviews) FROM filtered_traffic_days")
    roll_up_once(own)
    assert own.sql("SELECT count(*), sum(pageviews) FROM filtered_traffic_days") == rows
