"""Issue 15, items 2 to 4: the instance's token policy, rate limits per API client, usage per client.

Through nginx against the real PostgreSQL. The policy is one row for the whole instance, so every
test that sets one runs on a database of its own (`deployment(fresh_database=True)`). Rate limits are
per minute of the clock (a fixed window, API.md §6.6): a burst is started with at least 25 seconds
of its minute left, so that it is counted against one window.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import os
import re
import signal
import time

import pytest

from accounts import (ALL_SCOPES, Api, assert_json, assert_problem, deployment, new_http_session, one_value,  # noqa: F401
                      people, run_cli, unique, unique_domain)
from stack import REQUEST_TIMEOUT, wait_until

RATE_LIMIT_RE = re.compile(r'^"api-client";r=(\d+);t=(\d+)$')
POLICY_RE = re.compile(r'^"api-client";q=(\d+);w=60$')

POLICY = {"max_lifetime_days": None, "expiry_required": False, "allowed_scopes": ALL_SCOPES,
          "default_rate_limit_per_minute": 600, "max_rate_limit_per_minute": 1000000}


def rate_limit(response) -> tuple[int, int]:
    """(remaining, seconds to reset) of the RateLimit field."""
    match = RATE_LIMIT_RE.match(response.headers.get("RateLimit", ""))
    assert match, response.headers
    return int(match.group(1)), int(match.group(2))


def policy_quota(response) -> int:
    match = POLICY_RE.match(response.headers.get("RateLimit-Policy", ""))
    assert match, response.headers
    return int(match.group(1))


def start_of_a_fresh_minute_window(needed: float = 25) -> None:
    """Waits, if need be, until at least `needed` seconds of the clock's minute remain."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.2)


def burst(base_url: str, token: str, count: int, path: str = "/api/sites", threads: int = 8) -> list:
    """`count` bearer GETs from `threads` threads at once; the responses in the order they came back."""
    def one(_):
        http = new_http_session()
        return http.get(base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(threads) as executor:
        return list(executor.map(one, range(count)))


def assert_rate_limited(response, limit: int) -> None:
    problem = assert_problem(response, 429, "rate_limited")
    assert str(limit) in problem["detail"]
    remaining, reset = rate_limit(response)
    assert remaining == 0
    assert 1 <= reset <= 60
    assert response.headers["Retry-After"] == str(reset)
    assert policy_quota(response) == limit


def client_count(stack, user_id: str) -> str:
    return one_value(stack, f"SELECT count(*) FROM api_clients WHERE user_id = '{user_id}'")


# --- rate_limit_per_minute at create and update ------------------------------------------------------

@pytest.mark.parametrize("value", [0, -1, 10**12, "abc", 1.5, None, [60]])
def test_a_bad_rate_limit_is_refused_and_nothing_is_written(stack, people, value):
    api = people.new()
    response = api.post("/api/user/api-clients", json={"name": "bad", "rate_limit_per_minute": value})
    problem = assert_problem(response, 400, "invalid_rate_limit")
    assert "rate_limit_per_minute" in problem["detail"]
    assert client_count(stack, api.user.id) == "0"

    client = api.create_client(rate_limit_per_minute=100)
    refused = api.put(f"/api/user/api-clients/{client['id']}", json={"name": "renamed", "rate_limit_per_minute": value})
    assert_problem(refused, 400, "invalid_rate_limit")
    shown = assert_json(api.get(f"/api/user/api-clients/{client['id']}"))
    assert (shown["name"], shown["rate_limit_per_minute"]) == (client["name"], 100)


def test_the_client_carries_its_rate_limit_the_policy_default_when_none_is_given(stack, people):
    api = people.new()
    default = api.create_client()
    assert default["rate_limit_per_minute"] == 600
    assert default["expires_soon"] is False
    chosen = api.create_client(rate_limit_per_minute=120)
    assert chosen["rate_limit_per_minute"] == 120
    changed = assert_json(api.put(f"/api/user/api-clients/{chosen['id']}", json={"rate_limit_per_minute": 90}))
    assert changed["rate_limit_per_minute"] == 90
    assert one_value(stack, f"SELECT rate_limit_per_minute FROM api_clients WHERE id = '{chosen['id']}'") == "90"
    # The bearer sees its own limit in RateLimit-Policy.
    response = api.with_token(chosen["token"]).get("/api/sites")
    assert response.status_code == 200
    assert policy_quota(response) == 90


def test_the_command_line_sets_a_rate_limit_and_refuses_a_bad_one(stack, people):
    api = people.new()
    made = run_cli(stack, "client", "create", "--owner", api.user.email, "--name", "cron", "--rate-limit", "77")
    assert made.returncode == 0, made.stderr
    assert one_value(stack, f"SELECT rate_limit_per_minute FROM api_clients WHERE user_id = '{api.user.id}'") == "77"
    for bad in ["0", "-1", str(10**12)]:
        refused = run_cli(stack, "client", "create", "--owner", api.user.email, "--name", "cron", f"--rate-limit={bad}")
        assert refused.returncode != 0 and "rate_limit_per_minute" in refused.stderr, refused.stderr
    assert client_count(stack, api.user.id) == "1"


def test_clients_expiring_within_seven_days_say_so(stack, people):
    api = people.new()
    soon = api.create_client(expires_in_days=3)
    later = api.create_client(expires_in_days=30)
    never = api.create_client()
    listed = {client["id"]: client["expires_soon"] for client in assert_json(api.get("/api/user/api-clients"))}
    assert listed == {soon["id"]: True, later["id"]: False, never["id"]: False}
    assert soon["expires_soon"] is True


# --- the token policy ----------------------------------------------------------------------------------

@pytest.fixture
def own(stack):
    """A pool and nginx on a database of their own, whose token policy a test may set; with an admin."""
    deployed = deployment(stack, fresh_database=True, environment={"HITKEEP_TOKEN_MAX_DAYS": "400"})
    deployed.admin = deployed.people.new(admin=True)
    yield deployed
    deployed.people.cleanup()


def test_the_policy_starts_from_the_servers_settings_and_only_admins_see_it(stack, own):
    policy = assert_json(own.admin.get("/api/admin/token-policy"))
    assert policy == {**POLICY, "max_lifetime_days": 400, "updated_at": None}
    member = own.people.new()
    assert_problem(member.get("/api/admin/token-policy"), 403, "forbidden")
    assert_problem(member.put("/api/admin/token-policy", json=POLICY), 403, "forbidden")
    assert_problem(member.get("/api/admin/token-policy/violations"), 403, "forbidden")
    token = own.admin.create_client()["token"]
    assert_problem(own.admin.with_token(token).get("/api/admin/token-policy"), 401)
    assert_problem(Api(own.base_url).get("/api/admin/token-policy"), 401)


@pytest.mark.parametrize("change, code", [
    ({"default_rate_limit_per_minute": 500, "max_rate_limit_per_minute": 100}, "invalid_rate_limit"),
    ({"default_rate_limit_per_minute": 0}, "invalid_rate_limit"),
    ({"max_rate_limit_per_minute": -5}, "invalid_rate_limit"),
    ({"max_rate_limit_per_minute": 10**12}, "invalid_rate_limit"),
    ({"default_rate_limit_per_minute": "many"}, "invalid_rate_limit"),
    ({"max_lifetime_days": 0}, "invalid_max_lifetime"),
    ({"max_lifetime_days": -3}, "invalid_max_lifetime"),
    ({"allowed_scopes": ["sites:read", "sites:fly"]}, "invalid_scope"),
    ({"allowed_scopes": []}, "invalid_scope"),
    ({"expiry_required": "yes"}, "invalid_json"),
])
def test_a_policy_that_contradicts_itself_is_refused_and_nothing_is_written(stack, own, change, code):
    assert_problem(own.admin.put("/api/admin/token-policy", json={**POLICY, **change}), 400, code)
    assert own.sql("SELECT count(*) FROM token_policy") == [("0",)]
    assert own.sql("SELECT count(*) FROM audit_log WHERE action = 'token_policy.updated'") == [("0",)]


def test_a_policy_needs_every_field(stack, own):
    partial = {key: value for key, value in POLICY.items() if key != "expiry_required"}
    problem = assert_problem(own.admin.put("/api/admin/token-policy", json=partial), 400, "invalid_policy")
    assert "expiry_required" in problem["detail"]
    assert own.sql("SELECT count(*) FROM token_policy") == [("0",)]


def test_new_and_changed_clients_must_satisfy_the_policy(stack, own):
    api = own.people.new()
    before = api.create_client(rate_limit_per_minute=5000)   # made under the server's defaults
    policy = {"max_lifetime_days": 30, "expiry_required": True, "allowed_scopes": ["sites:read", "stats:read"],
              "default_rate_limit_per_minute": 100, "max_rate_limit_per_minute": 1000}
    stored = assert_json(own.admin.put("/api/admin/token-policy", json=policy))
    assert {key: stored[key] for key in policy} == policy
    assert re.match(r"^\d{4}-\d\d-\d\dT", stored["updated_at"])
    assert assert_json(own.admin.get("/api/admin/token-policy")) == stored
    assert own.sql("SELECT count(*) FROM audit_log WHERE action = 'token_policy.updated'") == [("1",)]

    def create(**fields):
        return api.post("/api/user/api-clients", json={"name": unique("c-"), "scopes": ["sites:read"], **fields})

    count = own.sql(f"SELECT count(*) FROM api_clients WHERE user_id = '{api.user.id}'")
    assert_problem(create(scopes=["sites:read", "user:read"]), 400, "scope_not_allowed")
    assert_problem(create(expires_in_days=31), 400, "invalid_expiry")
    assert_problem(create(rate_limit_per_minute=1001), 400, "rate_limit_too_high")
    assert_problem(create(rate_limit_per_minute=10**12), 400, "invalid_rate_limit")
    assert own.sql(f"SELECT count(*) FROM api_clients WHERE user_id = '{api.user.id}'") == count

    # What a new client leaves open, the policy fills in: its longest lifetime and default limit.
    made = assert_json(create(), 201)
    assert made["rate_limit_per_minute"] == 100
    assert made["expires_at"] is not None
    within = assert_json(create(expires_in_days=30, rate_limit_per_minute=1000), 201)
    assert within["rate_limit_per_minute"] == 1000

    # Changes are held to it too; what is not sent is not judged.
    path = f"/api/user/api-clients/{made['id']}"
    assert_problem(api.put(path, json={"scopes": ["ingest:write"]}), 400, "scope_not_allowed")
    assert_problem(api.put(path, json={"rate_limit_per_minute": 5000}), 400, "rate_limit_too_high")
    assert_problem(api.put(path, json={"expires_at": "2099-01-01T00:00:00Z"}), 400, "invalid_expiry")
    assert assert_json(api.put(f"/api/user/api-clients/{before['id']}", json={"name": "renamed"}))["name"] == "renamed"

    # Without a maximum lifetime, a required expiry must be asked for.
    assert_json(own.admin.put("/api/admin/token-policy", json={**policy, "max_lifetime_days": None}))
    assert_problem(create(), 400, "expiry_required")
    assert_problem(api.put(path, json={"expires_at": None}), 400, "expiry_required")
    assert create(expires_in_days=400).status_code == 201


def test_clients_that_no_longer_satisfy_the_policy_are_listed_never_revoked(stack, own):
    api = own.people.new()
    wide = api.create_client(rate_limit_per_minute=5000)                 # every scope, 400 days
    narrow = api.create_client(scopes=["stats:read"], expires_in_days=10, rate_limit_per_minute=50)
    policy = {"max_lifetime_days": 90, "expiry_required": True, "allowed_scopes": ["sites:read", "stats:read"],
              "default_rate_limit_per_minute": 60, "max_rate_limit_per_minute": 1000}
    assert_json(own.admin.put("/api/admin/token-policy", json=policy))

    listed = assert_json(own.admin.get("/api/admin/token-policy/violations"))
    assert [entry["client"]["id"] for entry in listed] == [wide["id"]]
    entry = listed[0]
    assert entry["owner_email"] == api.user.email
    assert {violation["rule"] for violation in entry["violations"]} == {"max_lifetime", "scope_not_allowed", "max_rate_limit"}
    # Requiring an expiry where none is set adds that rule; the list follows the policy in force.
    own.sql(f"UPDATE api_clients SET expires_at = NULL WHERE id = '{narrow['id']}'")
    listed = assert_json(own.admin.get("/api/admin/token-policy/violations"))
    assert {entry["client"]["id"]: [v["rule"] for v in entry["violations"]] for entry in listed}[narrow["id"]] == [
        "expiry_required", "max_lifetime"]
    # Still working, still stored: nothing is revoked by a policy.
    assert api.with_token(wide["token"]).get("/api/sites").status_code == 200
    assert own.sql(f"SELECT count(*) FROM api_clients WHERE id = '{wide['id']}'") == [("1",)]


# --- rate limits ---------------------------------------------------------------------------------------

def test_sequential_requests_count_down_and_the_limit_holds_exactly_on_one_pool(stack, people):
    api = people.new()
    client = api.create_client(rate_limit_per_minute=80)
    start_of_a_fresh_minute_window()
    bearer = api.with_token(client["token"])
    seen = []
    for _ in range(10):
        response = bearer.get("/api/sites")
        assert response.status_code == 200
        assert policy_quota(response) == 80
        seen.append(rate_limit(response))
    assert [remaining for remaining, _ in seen] == list(range(79, 69, -1))
    assert all(1 <= reset <= 60 for _, reset in seen)

    responses = burst(stack.base_url, client["token"], 150)
    succeeded = [response for response in responses if response.status_code == 200]
    # One pool holds every lease it takes, so it admits exactly the limit.
    assert len(succeeded) == 70
    for response in responses:
        if response.status_code != 200:
            assert_rate_limited(response, 80)


def test_cookie_sessions_are_not_rate_limited(stack, people):
    api = people.new()
    api.create_client(rate_limit_per_minute=2)
    for _ in range(10):
        response = api.get("/api/sites")
        assert response.status_code == 200
        assert "RateLimit" not in response.headers and "RateLimit-Policy" not in response.headers


def test_two_pools_behind_one_nginx_share_one_limit(stack, people):
    first = stack.start_pool(workers=2)
    second = stack.start_pool(workers=2)
    nginx = stack.start_nginx([first.upstream, second.upstream])
    api = people.new()
    limit = 200
    client = api.create_client(rate_limit_per_minute=limit)
    start_of_a_fresh_minute_window()
    responses = burst(nginx.base_url, client["token"], 2 * limit)
    succeeded = [response for response in responses if response.status_code == 200]
    assert 0.9 * limit <= len(succeeded) <= 1.1 * limit, len(succeeded)
    assert len(succeeded) <= limit      # the ledger never hands out more than the limit
    for response in responses:
        if response.status_code != 200:
            assert_rate_limited(response, limit)
    # Both pools answered, and the remaining count went down as the burst went on.
    assert first.request_lines("/api/sites") and second.request_lines("/api/sites")
    remaining = [rate_limit(response)[0] for response in succeeded]
    quarter = len(remaining) // 4
    assert sum(remaining[:quarter]) / quarter > sum(remaining[-quarter:]) / quarter + limit / 4
    assert max(remaining) < limit


def test_a_killed_worker_and_a_rolling_restart_do_not_reset_the_limit(stack, people):
    pool = stack.start_pool(workers=2)
    nginx = stack.start_nginx([pool.upstream])
    api = people.new()
    client = api.create_client(rate_limit_per_minute=40)
    start_of_a_fresh_minute_window(40)
    first = burst(nginx.base_url, client["token"], 30, threads=4)
    assert sum(response.status_code == 200 for response in first) == 30

    for pid in pool.worker_pids():
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: len(pool.worker_pids()) == 2 and pool.is_listening(), 10, "the workers were not respawned")
    second = burst(nginx.base_url, client["token"], 20, threads=4)
    assert sum(response.status_code == 200 for response in second) == 10

    pool.send_signal(signal.SIGHUP)
    time.sleep(1)
    wait_until(lambda: len(pool.worker_pids()) == 2, 10, "the rolling restart did not finish")
    third = burst(nginx.base_url, client["token"], 10, threads=2)
    assert all(response.status_code == 429 for response in third), [r.status_code for r in third]


# --- usage ---------------------------------------------------------------------------------------------

def usage(api: Api, client_id: str, query: str = "") -> dict:
    return assert_json(api.get(f"/api/user/api-clients/{client_id}/usage{query}"))


def test_usage_counts_each_request_by_status_class_and_endpoint_group(stack, people):
    api = people.new()
    site = api.create_site()
    client = api.create_client(rate_limit_per_minute=12)
    bearer = api.with_token(client["token"])
    start_of_a_fresh_minute_window()
    sent = {("sites", "2xx"): 0, ("stats", "2xx"): 0, ("stats", "4xx"): 0, ("token", "2xx"): 0,
            ("ingest", "4xx"): 0, ("sites", "4xx"): 0, ("sites", "429"): 0}

    def send(key, response, status):
        assert response.status_code == status, response.text
        sent[key] += 1

    for _ in range(3):
        send(("sites", "2xx"), bearer.get("/api/sites"), 200)
    send(("stats", "2xx"), bearer.get(f"/api/sites/{site['id']}/stats"), 200)
    send(("stats", "4xx"), bearer.get(f"/api/sites/{site['id']}/stats?from=2026-01-03T00:00:00Z&to=2026-01-01T00:00:00Z"), 400)
    send(("token", "2xx"), bearer.get("/api/token"), 200)
    send(("ingest", "4xx"), bearer.post("/api/ingest/server/pageview", json={}), 400)
    send(("sites", "4xx"), bearer.get("/api/sites/01JFKQ4Z7W3M9X0C5T2V8B6N1R"), 404)
    for _ in range(4):
        send(("sites", "2xx"), bearer.get("/api/sites"), 200)
    for _ in range(3):
        send(("sites", "429"), bearer.get("/api/sites"), 429)
    # Not counted: a session's requests, and a token that is not this client's.
    assert api.get("/api/sites").status_code == 200

    total = sum(sent.values())
    wait_until(lambda: usage(api, client["id"])["totals"]["requests"] == total, 10, "the usage did not arrive")
    answer = usage(api, client["id"])
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert answer["to"] == today.isoformat() and len(answer["days"]) == 30
    day = answer["days"][-1]
    assert day["date"] == today.isoformat()
    assert day["requests"] == total
    for (group, status), count in sent.items():
        assert day["by_group_and_status"][group][status] == count, (group, status)
    assert day["by_status"] == {"2xx": 9, "3xx": 0, "4xx": 3, "429": 3, "5xx": 0}
    assert day["by_group"] == {"stats": 2, "sites": 11, "ingest": 1, "token": 1, "other": 0}
    assert answer["totals"]["by_status"] == day["by_status"]
    assert all(earlier["requests"] == 0 for earlier in answer["days"][:-1])

    rows = stack.sql(f"SELECT endpoint_group, status_class, requests, owner_email FROM reporting.api_client_usage "
                     f"WHERE client_id = '{client['id']}'")
    assert {(group, status): int(count) for group, status, count, _ in rows} == {key: n for key, n in sent.items() if n}
    assert {email for *_, email in rows} == {api.user.email}


def test_usage_survives_a_worker_killed_with_sigkill(stack, people):
    pool = stack.start_pool(workers=1)
    nginx = stack.start_nginx([pool.upstream])
    api = people.new()
    client = api.create_client()
    bearer = Api(nginx.base_url, token=client["token"])
    for _ in range(25):
        assert bearer.get("/api/sites").status_code == 200
    for pid in pool.worker_pids():
        os.kill(pid, signal.SIGKILL)
    reader = Api(nginx.base_url, cookie=api.cookie)

    def counted():
        response = reader.get(f"/api/user/api-clients/{client['id']}/usage")
        return response.status_code == 200 and response.json()["totals"]["requests"]

    # While the supervisor respawns the worker, nginx may answer 503; the counts are the pool's.
    wait_until(lambda: counted() == 25, 10, "counts were lost with the worker")


def test_usage_range_and_access(stack, people):
    api = people.new()
    client = api.create_client()
    answer = usage(api, client["id"], "?from=2026-01-01&to=2026-01-03")
    assert [day["date"] for day in answer["days"]] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert answer["totals"]["requests"] == 0
    for query in ["?from=2026-01-03&to=2026-01-01", "?from=2026-02-30", "?from=yesterday", "?from=2020-01-01&to=2026-01-01"]:
        assert_problem(api.get(f"/api/user/api-clients/{client['id']}/usage{query}"), 400, "invalid_range")
    assert_problem(api.get(f"/api/user/api-clients/{client['id']}/usage?since=2026-01-01"), 400, "invalid_parameter")
    stranger = people.new()
    assert_problem(stranger.get(f"/api/user/api-clients/{client['id']}/usage"), 404)
    assert_problem(api.with_token(client["token"]).get(f"/api/user/api-clients/{client['id']}/usage"), 401)
