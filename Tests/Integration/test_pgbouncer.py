"""Workers through a transaction-pooling PgBouncer (README, "PgBouncer"): run as part of the suite's
PgBouncer pass (`HITKEEP_TEST_PGBOUNCER=1`, see the Makefile), which also runs the API, API-client
and stats tests through it."""

import concurrent.futures
import os
import subprocess

import pytest
import requests

from accounts import people  # noqa: F401 (a fixture)
from stack import REPO, REQUEST_TIMEOUT

through_pgbouncer = pytest.mark.skipif(os.environ.get("HITKEEP_TEST_PGBOUNCER") != "1",
                                       reason="the PgBouncer pass of the suite runs this")


def run_hitkeep(stack, *arguments, pool_mode, database_url=None):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HITKEEP_")}
    environment.update(HITKEEP_DATABASE_URL=database_url or stack.database_url, HITKEEP_DATABASE_POOL_MODE=pool_mode)
    return subprocess.run([str(stack.binary), *arguments], capture_output=True, text=True, timeout=30,
                          env=environment, stdin=subprocess.DEVNULL)


def test_an_unknown_pool_mode_stops_serve_before_it_starts(stack, tmp_path):
    result = run_hitkeep(stack, "serve", "--socket", str(tmp_path / "s.sock"), "--workers", "1", pool_mode="statement")
    assert result.returncode != 0
    assert "HITKEEP_DATABASE_POOL_MODE must be session or transaction" in result.stderr


def test_migrate_refuses_a_transaction_pooler(stack):
    result = run_hitkeep(stack, "migrate", "--migrations", str(REPO / "migrations"), pool_mode="transaction")
    assert result.returncode != 0
    assert "hitkeep migrate needs a connection of its own to PostgreSQL" in result.stderr


def server_sessions(stack) -> int:
    return int(stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'hitkeep' AND backend_type = 'client backend'")[0][0])


@through_pgbouncer
def test_sixteen_workers_share_four_server_sessions(stack, people):
    api = people.new()
    site = api.create_site()
    token = api.create_client(scopes=["sites:read", "stats:read"])["token"]

    paths = ["/api/sites", f"/api/sites/{site['id']}/stats", "/api/token"]

    def ask(index):
        # A session of its own per request: requests' sessions are not made for sharing by threads.
        return requests.get(stack.base_url + paths[index % 3], headers={"Authorization": f"Bearer {token}"},
                            timeout=REQUEST_TIMEOUT).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as executor:
        statuses = list(executor.map(ask, range(240)))
    # A statement prepared by name on one server session and used on another would fail here.
    assert statuses == [200] * 240
    assert len(stack.pool.worker_pids()) == 16
    assert 1 <= server_sessions(stack) <= 4


@through_pgbouncer
def test_a_revoked_token_is_refused_at_once(stack, people):
    api = people.new()
    client = api.create_client(scopes=["sites:read"])
    headers = {"Authorization": f"Bearer {client['token']}"}
    assert stack.http.get(f"{stack.base_url}/api/sites", headers=headers).status_code == 200
    assert api.delete(f"/api/user/api-clients/{client['id']}").status_code == 204
    for _ in range(16):
        assert stack.http.get(f"{stack.base_url}/api/sites", headers=headers).status_code == 401


@through_pgbouncer
def test_the_cli_works_through_pgbouncer(stack, people):
    api = people.new()
    listed = run_hitkeep(stack, "user", "list", "--json", pool_mode="transaction", database_url=stack.pgbouncer.url())
    assert listed.returncode == 0, listed.stderr
    assert api.user.email in listed.stdout
