"""Stats and breakdowns from a streaming standby (HITKEEP_READ_DATABASE_URL), everything else on the
primary; a standby that is down or too far behind is passed over within the same request."""

import os
import subprocess
import time

import pytest

from accounts import Api, deployment, people  # noqa: F401 (a fixture)
from stack import wait_until


@pytest.fixture
def standby(stack):
    replica = stack.cluster.create_standby(stack.root / stack._name("standby"))
    replica.start()
    try:
        wait_until(lambda: replica.psql("SELECT pg_is_in_recovery()") == [("t",)], 15, "the standby did not start")
        yield replica
    finally:
        if replica.is_running():
            replica.stop()


def replayed(stack, replica):
    """Waits until the standby has replayed everything the primary has written so far."""
    target = stack.sql("SELECT pg_current_wal_insert_lsn()")[0][0]
    wait_until(lambda: replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'") == [("t",)], 15,
               "the standby did not catch up")


def write_events(stack, site_id, count):
    stack.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path) "
              f"SELECT '{site_id}', now() - interval '1 minute' * g, 'standby-' || g || '-' || random(), '/' "
              f"FROM generate_series(1, {count}) AS g")


def serving(stack, replica, max_lag_seconds):
    """A pool reading stats from `replica`, behind an nginx of its own."""
    return deployment(stack, {"HITKEEP_READ_DATABASE_URL": replica.url("hitkeep", user="hitkeep"),
                              "HITKEEP_READ_MAX_LAG_SECONDS": str(max_lag_seconds)})


def site_read_from(stack, people, replica, events, max_lag_seconds):
    """A new site with `events` page views, replicated, a stats token for it, and a deployment whose
    stats reads go to `replica`."""
    api = people.new()
    site = api.create_site()
    token = api.create_client(scopes=["stats:read"])["token"]
    write_events(stack, site["id"], events)
    replayed(stack, replica)
    return serving(stack, replica, max_lag_seconds), token, site["id"]


def pageviews(served, token, site_id):
    response = Api(served.base_url, token=token).get(f"/api/sites/{site_id}/stats")
    assert response.status_code == 200, response.text
    return response.json()["total_pageviews"]


def test_stats_are_read_on_the_standby_and_revocation_acts_at_once(stack, people, standby):
    api = people.new()
    site = api.create_site()
    client = api.create_client(scopes=["stats:read"])
    write_events(stack, site["id"], 30)
    replayed(stack, standby)
    served = serving(stack, standby, max_lag_seconds=3600)
    assert pageviews(served, client["token"], site["id"]) == 30
    readers = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hitkeep-reads'"
    assert int(standby.psql(readers)[0][0]) >= 1
    assert stack.sql(readers) == [("0",)]

    # Held back: the standby stops replaying, the primary gets 5 more page views. Within the
    # allowed lag the standby still answers, with what it has: the read really is there.
    standby.psql("SELECT pg_wal_replay_pause()")
    write_events(stack, site["id"], 5)
    assert pageviews(served, client["token"], site["id"]) == 30
    breakdown = Api(served.base_url, token=client["token"]).get(f"/api/sites/{site['id']}/stats/breakdown?dimension=path")
    assert breakdown.status_code == 200 and breakdown.json()["rows"][0]["pageviews"] == 30

    # The token's lookup is on the primary: deleted there, refused at once, whatever the standby holds.
    assert api.delete(f"/api/user/api-clients/{client['id']}").status_code == 204
    assert Api(served.base_url, token=client["token"]).get(f"/api/sites/{site['id']}/stats").status_code == 401
    standby.psql("SELECT pg_wal_replay_resume()")


def test_a_standby_too_far_behind_is_passed_over_for_the_primary(stack, people, standby):
    served, token, site_id = site_read_from(stack, people, standby, events=10, max_lag_seconds=1)
    assert pageviews(served, token, site_id) == 10
    standby.psql("SELECT pg_wal_replay_pause()")
    write_events(stack, site_id, 7)
    time.sleep(2.5)  # the last transaction the standby replayed is now older than the allowed lag
    assert pageviews(served, token, site_id) == 17
    assert "the standby is skipped" in served.pool.log_text() and "behind" in served.pool.log_text()
    standby.psql("SELECT pg_wal_replay_resume()")


def test_a_stopped_standby_changes_nothing_for_clients(stack, people, standby):
    served, token, site_id = site_read_from(stack, people, standby, events=12, max_lag_seconds=3600)
    assert pageviews(served, token, site_id) == 12
    standby.stop()
    write_events(stack, site_id, 3)
    for _ in range(6):
        assert pageviews(served, token, site_id) == 15
    assert "the standby is skipped" in served.pool.log_text() and "unavailable" in served.pool.log_text()


def test_a_promoted_standby_keeps_serving_reads(stack, people, standby):
    served, token, site_id = site_read_from(stack, people, standby, events=4, max_lag_seconds=3600)
    assert pageviews(served, token, site_id) == 4
    standby.psql("SELECT pg_promote()")
    wait_until(lambda: standby.psql("SELECT pg_is_in_recovery()") == [("f",)], 15, "the standby was not promoted")
    for _ in range(4):
        assert pageviews(served, token, site_id) == 4


def test_serve_refuses_a_read_url_libpq_cannot_read(stack, tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HITKEEP_")}
    environment.update(HITKEEP_DATABASE_URL=stack.database_url, HITKEEP_READ_DATABASE_URL="postgresql://[::1/hitkeep")
    result = subprocess.run([str(stack.binary), "serve", "--socket", str(tmp_path / "s.sock"), "--workers", "1"],
                            capture_output=True, text=True, timeout=30, env=environment, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "HITKEEP_READ_DATABASE_URL is not a libpq URI or conninfo string" in result.stderr


def test_a_standby_that_is_not_there_yet_is_reported_and_reads_use_the_primary(stack, people, tmp_path):
    api = people.new()
    site = api.create_site()
    token = api.create_client(scopes=["stats:read"])["token"]
    write_events(stack, site["id"], 6)
    nowhere = f"postgresql://hitkeep@/hitkeep?host={tmp_path / 'no-standby-here'}"
    served = deployment(stack, {"HITKEEP_READ_DATABASE_URL": nowhere})
    assert "the standby of HITKEEP_READ_DATABASE_URL does not answer" in served.pool.log_text()
    assert pageviews(served, token, site["id"]) == 6
