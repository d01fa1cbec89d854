"""Reporting with psql (API.md §7, issue 5): the `reporting` views, the `hitkeep_reporting` role that
reads them and nothing else, and the README's three example queries, run as printed."""

from __future__ import annotations

import re

import pytest

from accounts import unique
from stack import REPO, StackError

README = REPO / "README.md"
SECRET_TABLES = ["users", "sessions", "api_clients", "api_client_tokens", "api_client_revoked_tokens", "events",
                 "token_policy", "api_client_rate_windows", "api_client_usage", "session_hours",
                 "keyed_session_hours", "traffic_hourly", "dimension_counts", "entry_exit_counts", "sites", "audit_log"]
VIEWS = ["reporting.sites", "reporting.daily_stats", "reporting.top_pages_daily", "reporting.api_clients",
         "reporting.api_client_usage", "reporting.page_views", "reporting.dropped_page_views"]
TOKEN_HASH = "c0ffee" * 10 + "abcd"


@pytest.fixture(scope="module")
def reporting_db(stack):
    """A fresh database, migrated after the role exists (the application role of the test cluster
    may not create roles), with one site, a few events and an API client."""
    stack.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hitkeep_reporting') "
              "THEN CREATE ROLE hitkeep_reporting NOLOGIN; END IF; END $$")
    database = unique("hk_reporting_")
    url = stack.create_database(database)
    migrated = stack.migrate(database_url=url)
    assert migrated.returncode == 0, migrated.stderr
    stack.sql(f"""
        INSERT INTO users (id, email, password_hash) VALUES ('01JFKQ4Z7W3M9X0C5T2V8B6N1R', 'owner@example.com', 'argon2-secret-hash');
        INSERT INTO sites (id, domain, name, timezone, owner_id)
        VALUES ('01JFKQ4Z7W3M9X0C5T2V8B6N1S', 'example.com', 'Example', 'Europe/Berlin', '01JFKQ4Z7W3M9X0C5T2V8B6N1R');
        -- Today at 10:00 UTC (noon in Berlin): this month, within the last two weeks, one Berlin day.
        INSERT INTO events (site_id, occurred_at, session_id, path)
        SELECT '01JFKQ4Z7W3M9X0C5T2V8B6N1S', (current_date AT TIME ZONE 'UTC') + interval '10 hours' + offset_, session, path
        FROM (VALUES (interval '0 s', 'one', '/'), (interval '1 min', 'one', '/pricing'), (interval '2 min', 'two', '/'))
             AS v (offset_, session, path);
        INSERT INTO api_clients (id, user_id, name, scopes)
        VALUES ('01JFKQ4Z7W3M9X0C5T2V8B6N1T', '01JFKQ4Z7W3M9X0C5T2V8B6N1R', 'grafana-reader', ARRAY['stats:read']);
        INSERT INTO api_client_tokens (token_hash, client_id, hint)
        VALUES (decode('{TOKEN_HASH}', 'hex'), '01JFKQ4Z7W3M9X0C5T2V8B6N1T', 'hk_live_…x7Qa');
        """, database=database)
    return database


def as_reporting(stack, database, query):
    return stack.sql("SET ROLE hitkeep_reporting; " + query, database=database)


def test_page_views_name_their_utc_hour_for_reports_over_a_few_hours(stack, reporting_db):
    # The fixture's page views are at 10:00, 10:01 and 10:02 UTC today.
    hours = as_reporting(stack, reporting_db, """
        SELECT to_char(hour AT TIME ZONE 'UTC', 'HH24:MI'), count(*) FROM reporting.page_views
        WHERE site_id = '01JFKQ4Z7W3M9X0C5T2V8B6N1S'
          AND hour >= (current_date AT TIME ZONE 'UTC') + interval '10 hours'
          AND hour < (current_date AT TIME ZONE 'UTC') + interval '11 hours'
        GROUP BY 1""")
    assert hours == [("10:00", "3")]
    assert as_reporting(stack, reporting_db, """
        SELECT count(*) FROM reporting.page_views WHERE hour < (current_date AT TIME ZONE 'UTC') + interval '10 hours'""") == [("0",)]


def test_the_role_reads_every_view(stack, reporting_db):
    for view in VIEWS:
        as_reporting(stack, reporting_db, f"SELECT * FROM {view}")
    # Each view is documented in the database.
    comments = stack.sql("SELECT c.relname, obj_description(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE n.nspname = 'reporting' ORDER BY 1", database=reporting_db)
    assert [name for name, _ in comments] == ["api_client_usage", "api_clients", "daily_stats", "dropped_page_views",
                                              "page_views", "sites", "top_pages_daily"]
    assert all(comment for _, comment in comments)


def test_every_column_of_every_view_is_commented(stack, reporting_db):
    # What `\d+ reporting.*` shows in its Description column.
    columns = stack.sql("""
        SELECT c.relname || '.' || a.attname, col_description(c.oid, a.attnum)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = 'reporting' ORDER BY 1
        """, database=reporting_db)
    assert len(columns) == 65
    assert [name for name, comment in columns if not comment] == []


@pytest.mark.parametrize("table", SECRET_TABLES)
def test_the_role_reads_no_table(stack, reporting_db, table):
    with pytest.raises(StackError, match="permission denied"):
        as_reporting(stack, reporting_db, f"SELECT * FROM public.{table} LIMIT 1")


def test_the_role_may_only_select(stack, reporting_db):
    rows = stack.sql("SELECT v, p, has_table_privilege('hitkeep_reporting', v, p) FROM unnest(ARRAY['"
                     + "','".join(VIEWS) + "']) v, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p",
                     database=reporting_db)
    assert {(view, privilege) for view, privilege, granted in rows if granted == "t"} == {(view, "SELECT") for view in VIEWS}
    with pytest.raises(StackError, match="permission denied"):
        as_reporting(stack, reporting_db, "CREATE TABLE reporting.mine (x int)")


def test_views_hold_numbers_and_no_secrets(stack, reporting_db):
    daily = as_reporting(stack, reporting_db, "SELECT domain, pageviews, sessions, bounces, bounce_rate, avg_session_seconds "
                                              "FROM reporting.daily_stats")
    assert daily == [("example.com", "3", "2", "1", "50.00", "30.00")]
    pages = as_reporting(stack, reporting_db, "SELECT path, pageviews FROM reporting.top_pages_daily ORDER BY path")
    assert pages == [("/", "2"), ("/pricing", "1")]
    clients = as_reporting(stack, reporting_db, "SELECT name, owner_email, scopes, site_ids, token_hint, expired "
                                                "FROM reporting.api_clients")
    assert clients == [("grafana-reader", "owner@example.com", "{stats:read}", None, "hk_live_…x7Qa", "f")]
    assert as_reporting(stack, reporting_db, "SELECT owner_type, owner_site_id FROM reporting.api_clients") == [("user", None)]
    everything = as_reporting(stack, reporting_db, " UNION ALL ".join(f"SELECT ({view}.*)::text FROM {view}" for view in VIEWS))
    text = " ".join(row[0] for row in everything)
    assert TOKEN_HASH not in text and "argon2" not in text


def test_the_three_documented_queries_work_as_printed(stack, reporting_db):
    section = README.read_text().split("### Three examples", 1)[1].split("\n## ", 1)[0]
    queries = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(queries) == 3
    daily, pages, clients = (as_reporting(stack, reporting_db, query) for query in queries)
    assert [row[1:3] for row in daily] == [("3", "2")]
    assert pages[:2] == [("example.com", "/", "2"), ("example.com", "/pricing", "1")]
    assert [row[1] for row in clients] == ["grafana-reader"]


def test_events_are_append_only_and_written_in_read_committed(stack, reporting_db):
    with pytest.raises(StackError, match="append-only"):
        stack.sql("UPDATE events SET path = '/changed'", database=reporting_db)
    with pytest.raises(StackError, match="append-only"):
        stack.sql("TRUNCATE events", database=reporting_db)
    with pytest.raises(StackError, match="READ COMMITTED"):
        stack.sql("BEGIN ISOLATION LEVEL REPEATABLE READ; INSERT INTO events (site_id, occurred_at, session_id, path) "
                  "VALUES ('01JFKQ4Z7W3M9X0C5T2V8B6N1S', now(), 'x', '/'); COMMIT", database=reporting_db)
    assert stack.sql("SELECT count(*) FROM events", database=reporting_db) == [("3",)]
    # Deleting the site takes its events and every rollup row with it.
    other = unique("hk_reporting_delete_")
    stack.sql(f"CREATE DATABASE {other} TEMPLATE {reporting_db}")
    stack.sql("DELETE FROM sites", database=other)
    assert stack.sql("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM keyed_session_hours) "
                     "+ (SELECT count(*) FROM traffic_hourly) + (SELECT count(*) FROM dimension_counts) "
                     "+ (SELECT count(*) FROM entry_exit_counts)", database=other) == [("0",)]
