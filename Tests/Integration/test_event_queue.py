"""The ingest queue (migrations/0008): a page view is queued by one plain INSERT, and the pool's
roll-up process, or the next stats request for its site, moves it into the events and rollups."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import signal
import time

import pytest
import requests

from accounts import assert_json, deployment, people  # noqa: F401 (people: a fixture)
from stack import REQUEST_TIMEOUT, StackError, wait_until


def track(stack, site, path, session="queue-1"):
    response = requests.post(stack.base_url + "/ingest", data=json.dumps({"path": path, "session_id": session}),
                             headers={"Origin": "https://" + site["domain"], "Content-Type": "text/plain",
                                      "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
                             timeout=REQUEST_TIMEOUT)
    assert response.status_code == 202, response.text


def counts(stack, site):
    """(queued, folded) page views of the site."""
    row = stack.sql(f"SELECT (SELECT count(*) FROM event_queue WHERE site_id = '{site['id']}'), "
                    f"(SELECT count(*) FROM events WHERE site_id = '{site['id']}')")[0]
    return int(row[0]), int(row[1])


@contextlib.contextmanager
def roll_up_paused(pool):
    """Stops the pool's roll-up process (SIGSTOP) for the block, so that queued events stay queued."""
    [pid] = wait_until(pool.roll_up_pids, 5, "the pool has no roll-up process")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture
def site(people):
    api = people.new()
    return api, api.create_site(timezone="UTC")


def test_the_roll_up_process_folds_acknowledged_events_within_seconds(stack, site):
    api, created = site
    for path in ("/a", "/b", "/a"):
        track(stack, created, path)
    wait_until(lambda: counts(stack, created) == (0, 3), 5, "the roll-up did not fold the queue")
    # Readers of the rollups that do not fold for themselves see them too.
    assert stack.sql(f"SELECT pageviews, sessions FROM reporting.daily_stats WHERE site_id = '{created['id']}'") \
        == [("3", "1")]


def test_stats_count_events_the_roll_up_has_not_reached(stack, site):
    api, created = site
    with roll_up_paused(stack.pool):
        for path in ("/x", "/y"):
            track(stack, created, path)
        assert counts(stack, created) == (2, 0)
        body = assert_json(api.get(f"/api/sites/{created['id']}/stats"))
        assert body["total_pageviews"] == 2 and body["unique_sessions"] == 1
        assert body["top_exit_pages"] == [{"name": "/y", "value": 1}]
        assert counts(stack, created) == (0, 2)


def test_a_killed_roll_up_process_is_replaced_and_nothing_queued_is_lost(stack, site):
    _, created = site
    pool = stack.pool
    [victim] = wait_until(pool.roll_up_pids, 5, "the pool has no roll-up process")
    os.kill(victim, signal.SIGSTOP)
    track(stack, created, "/before-the-kill")
    os.kill(victim, signal.SIGKILL)
    replacement = wait_until(lambda: [pid for pid in pool.roll_up_pids() if pid != victim], 3,
                             "no new roll-up process")
    assert len(replacement) == 1 and len(pool.roll_up_pids()) == 1
    track(stack, created, "/after-the-kill")
    wait_until(lambda: counts(stack, created) == (0, 2), 5, "the new roll-up did not fold the queue")


def test_deleting_a_site_deletes_its_queued_events(stack, site):
    api, created = site
    with roll_up_paused(stack.pool):
        track(stack, created, "/gone")
        assert counts(stack, created) == (1, 0)
        assert api.delete(f"/api/sites/{created['id']}").status_code == 204
        assert counts(stack, created) == (0, 0)


def test_a_fold_waits_for_a_deletion_of_its_site_under_way_and_then_moves_nothing(stack, site):
    # A deletion locks the site's row, then empties its queue (0008's trigger); a fold that took the
    # queued page views before the site's lock deadlocked with it. Since 0037 it waits for the site.
    api, created = site
    with roll_up_paused(stack.pool):
        track(stack, created, "/deleting")
        assert counts(stack, created) == (1, 0)
        deleter = stack.cluster.background_session("hitkeep")
        try:
            deleter.begin(f"SELECT 1 FROM sites WHERE id = '{created['id']}' FOR UPDATE")
            with concurrent.futures.ThreadPoolExecutor(1) as background:
                folded = background.submit(stack.sql, f"SELECT fold_queued_events('{created['id']}')")
                time.sleep(1)
                assert not folded.done(), "the fold did not wait for the site's deletion"
                deleter.send(f"DELETE FROM sites WHERE id = '{created['id']}';")
                deleter.send("COMMIT;")
                assert folded.result(timeout=20) == [("0",)]
        finally:
            assert deleter.close() == 0, "the deletion failed"
    assert counts(stack, created) == (0, 0)


def test_a_backlog_is_folded_in_order_and_in_batches(stack, site):
    # An outage of the roll-up leaves more than one batch queued; the events then take the
    # arrival order of the queue, which decides ties of entry and exit pages.
    api, created = site
    with roll_up_paused(stack.pool):
        stack.sql(f"""
            INSERT INTO event_queue (site_id, occurred_at, session_id, path)
            SELECT '{created['id']}', date_trunc('minute', now()) - interval '1 hour', 's' || (g % 1000), '/p' || g
            FROM generate_series(1, 45000) g""")
        # The roll-up's call: every site, the oldest 20 000 events.
        assert stack.sql("SELECT fold_queued_events(NULL, 20000)") == [("20000",)]
        # The rest of this site's, as a stats request would fold them, but in batches.
        moved = []
        while not moved or moved[-1]:
            moved.append(int(stack.sql(f"SELECT fold_queued_events('{created['id']}', 20000)")[0][0]))
    assert max(moved) == 20000 and moved[-1] == 0
    assert counts(stack, created) == (0, 45000)
    assert stack.sql(f"SELECT bool_and(ordered) FROM (SELECT path = '/p' || row_number() OVER (ORDER BY id) AS ordered "
                     f"FROM events WHERE site_id = '{created['id']}') AS e") == [("t",)]


def test_a_fold_longer_than_the_request_timeout_still_finishes(stack):
    # The requests' statement timeout (here 100 ms) does not cut a fold short: cancelled, it would be
    # retried every second with the same events, and the queue would never drain again.
    served = deployment(stack, {"HITKEEP_STATEMENT_TIMEOUT_MS": "100"}, fresh_database=True)
    with roll_up_paused(served.pool):
        stack.sql("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'a@x.test', 'x'); "
                  "INSERT INTO sites (id, domain, name, owner_id) VALUES ('slow', 'x.test', 'X', 'u1'); "
                  "INSERT INTO event_queue (site_id, occurred_at, session_id, path) "
                  "SELECT 'slow', date_trunc('minute', now()) - interval '1 hour', 's' || (g % 700), '/p' || (g % 90) "
                  "FROM generate_series(1, 8000) g", database=served.database)
        # What the roll-up would do, under the requests' timeout: too slow for it.
        with pytest.raises(StackError, match="statement timeout"):
            stack.sql("SET statement_timeout = 100; SELECT fold_queued_events(NULL, 20000)", database=served.database)
    wait_until(lambda: stack.sql("SELECT count(*) FROM event_queue", database=served.database) == [("0",)], 120,
               "the roll-up did not fold the queue")
    assert stack.sql("SELECT count(*) FROM events", database=served.database) == [("8000",)]
    assert "roll-up failed" not in served.pool.log_text()
