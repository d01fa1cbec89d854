"""API clients (issue 4, API.md §2, §3, §6): named, scoped bearer tokens, through nginx and PostgreSQL.

Covers every test the issue names: no token plaintext in the database; a bearer token cannot manage
clients; the scopes × endpoints matrix; site restriction; another user's client is 404; rename keeps
the token; rotation with and without grace; delete under concurrent load across workers and pools;
expired tokens; malformed and checksum-broken tokens refused without a database query; bad input;
the 101st client.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import threading
import time

import pytest

from accounts import (ALL_SCOPES, CLIENT_KEYS, TIME_RE, ULID_RE, Api, People, assert_json, assert_problem,  # noqa: F401
                      counts, deployment, log_size, new_http_session, one_value, parse_challenge, people, start_pool,
                      token_checksum, token_is_well_formed, run_cli, unique, unique_domain, well_formed_token, where_stored,
                      worker_pids_since)

EXPIRED = "The access token expired"
REVOKED = "The access token was revoked"
INVALID = "The access token is invalid"


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def assert_invalid_token(response, description: str) -> None:
    assert_problem(response, 401, "invalid_token")
    challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
    assert challenge["scheme"] == "Bearer"
    assert challenge.get("realm") == "hitkeep"
    assert challenge.get("error") == "invalid_token"
    assert challenge.get("error_description") == description, response.headers.get("WWW-Authenticate")


def token_hash_literal(token: str) -> str:
    return "'\\x" + hashlib.sha256(token.encode()).hexdigest() + "'::bytea"


# --- create, read, list -----------------------------------------------------------------------------

def test_create_returns_the_client_and_its_token_once(stack, people):
    api = people.new()
    before = now_utc()
    response = api.post("/api/user/api-clients", json={"name": "grafana-reader"})
    client = assert_json(response, 201)
    assert set(client) == CLIENT_KEYS | {"token"}
    token = client["token"]
    assert token_is_well_formed(token), token
    assert len(token) == 46
    assert ULID_RE.match(client["id"])
    assert client["name"] == "grafana-reader"
    assert client["description"] == ""
    assert client["token_hint"] == "hk_live_…" + token[-4:]
    assert client["scopes"] == ALL_SCOPES, "omitted scopes: all five, sorted"
    assert client["site_ids"] is None
    assert client["expires_at"] is None and client["last_used_at"] is None
    assert TIME_RE.match(client["created_at"]) and client["updated_at"] == client["created_at"]
    assert before - datetime.timedelta(seconds=5) <= parse_time(client["created_at"]) <= now_utc() + datetime.timedelta(seconds=5)

    # Never again: not by read, not by list.
    shown = assert_json(api.get(f"/api/user/api-clients/{client['id']}"))
    assert shown == {key: value for key, value in client.items() if key != "token"}
    listed = assert_json(api.get("/api/user/api-clients"))
    assert listed == [shown]
    assert token not in api.get("/api/user/api-clients").text
    # And it works.
    assert api.with_token(token).get("/api/sites").status_code == 200


def test_create_with_every_field(stack, people):
    api = people.new()
    first, second = api.create_site(), api.create_site()
    expires = (now_utc() + datetime.timedelta(days=10)).replace(microsecond=123000)
    client = api.create_client(
        name="  ci-exporter  ", description="Nightly export\nto the warehouse",
        scopes=["stats:read", "sites:read", "stats:read"], site_ids=[second["id"], first["id"], first["id"]],
        expires_at=expires.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    assert client["name"] == "ci-exporter"
    assert client["description"] == "Nightly export\nto the warehouse"
    assert client["scopes"] == ["sites:read", "stats:read"]
    assert sorted(client["site_ids"]) == sorted({first["id"], second["id"]}) and len(client["site_ids"]) == 2
    assert parse_time(client["expires_at"]) == expires

    in_days = api.create_client(expires_in_days=30)
    delta = parse_time(in_days["expires_at"]) - parse_time(in_days["created_at"])
    assert abs(delta - datetime.timedelta(days=30)) < datetime.timedelta(seconds=1)

    offset = api.create_client(expires_at="2099-01-01T02:00:00+02:00")
    assert offset["expires_at"] == "2099-01-01T00:00:00.000Z"


def test_list_is_newest_first_and_only_the_callers(stack, people):
    api, other = people.new(), people.new()
    created = [api.create_client(name=f"client-{number}") for number in range(3)]
    other.create_client()
    listed = assert_json(api.get("/api/user/api-clients"))
    assert [client["id"] for client in listed] == [client["id"] for client in reversed(created)]
    assert all("token" not in client for client in listed)
    assert assert_json(people.new().get("/api/user/api-clients")) == []


def test_duplicate_names_are_allowed(stack, people):
    api = people.new()
    first, second = api.create_client(name="same"), api.create_client(name="same")
    assert first["id"] != second["id"] and first["token"] != second["token"]


# --- what is stored ---------------------------------------------------------------------------------

def test_the_database_holds_no_token_plaintext(stack, people):
    api = people.new()
    site = api.create_site()
    client = api.create_client(name="plaintext-probe", site_ids=[site["id"]])
    old_token = client["token"]
    rotated = assert_json(api.post(f"/api/user/api-clients/{client['id']}/rotate", json={"grace_seconds": 600}))
    new_token = rotated["token"]
    other = api.create_client()
    assert api.delete(f"/api/user/api-clients/{other['id']}").status_code == 204
    for token in (old_token, new_token):
        assert api.with_token(token).get("/api/sites").status_code == 200
    cli = run_cli(stack, "client", "create", "--owner", api.user.email, "--name", "cli-probe")
    assert cli.returncode == 0, cli.stderr
    cli_token = cli.stdout.strip()

    secrets_ = [old_token, new_token, other["token"], cli_token, api.cookie]
    # The search itself works: it finds what is stored (the client id, the hint).
    assert "public.api_clients.id" in where_stored(stack, [client["id"]])
    assert "public.api_client_tokens.hint" in where_stored(stack, [rotated["token_hint"]])
    # Neither the tokens nor the cookie secret, nor their secret parts without the prefix.
    needles = secrets_ + [token[8:] for token in secrets_[:4]] + [token[8:40] for token in secrets_[:4]]
    assert where_stored(stack, needles) == []
    # What is stored is the SHA-256.
    for token in (old_token, new_token):
        assert one_value(stack, f"SELECT client_id FROM api_client_tokens WHERE token_hash = {token_hash_literal(token)}") == client["id"]
    assert one_value(stack, f"SELECT count(*) FROM api_client_revoked_tokens WHERE token_hash = {token_hash_literal(other['token'])}") == "1"

    # Nor is any token written to a log (worker, nginx, PostgreSQL).
    logs = [path for path in (stack.root / "log").glob("*.log")] + list((stack.root / "run").glob("*/*.log"))
    logs.append(stack.cluster.log)
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in secrets_:
            assert secret not in text, f"a secret is in {path}"


def test_every_created_token_is_distinct_and_well_formed(stack, people):
    api = people.new()
    tokens = [api.create_client()["token"] for _ in range(20)]
    assert len(set(tokens)) == 20
    assert all(token_is_well_formed(token) for token in tokens)
    assert len({token[8:40] for token in tokens}) == 20


# --- bearer authentication --------------------------------------------------------------------------

def test_bearer_scheme_in_any_case_and_x_api_key(stack, people):
    api = people.new()
    token = api.create_client()["token"]
    for headers in ({"Authorization": f"Bearer {token}"}, {"Authorization": f"bearer {token}"},
                    {"Authorization": f"BEARER {token}"}, {"Authorization": f"BeArEr  {token}"},
                    {"X-Api-Key": token}, {"x-api-key": token}):
        response = api.get("/api/user", cookie=None, token=None, headers=headers)
        assert assert_json(response)["id"] == api.user.id, headers
    for headers in ({"Authorization": f"Basic {token}"}, {"Authorization": token}, {"Authorization": "Bearer"},
                    {"Authorization": f"Token {token}"}):
        response = api.get("/api/user", cookie=None, token=None, headers=headers)
        assert_problem(response, 401)


def test_a_valid_cookie_wins_over_a_bearer_token(stack, people):
    alice, bob = people.new(), people.new()
    bob_token = bob.create_client()["token"]
    response = alice.get("/api/user", token=bob_token)
    assert assert_json(response)["id"] == alice.user.id


def test_a_bearer_token_cannot_manage_clients(stack, people):
    api = people.new()
    client = api.create_client()
    bearer = api.with_token(client["token"])
    tables = ["api_clients", "api_client_tokens", "api_client_revoked_tokens", "audit_log"]
    before = counts(stack, tables)
    routes = [
        ("GET", "/api/user/api-clients", None),
        ("POST", "/api/user/api-clients", {"name": "minted by a token"}),
        ("GET", f"/api/user/api-clients/{client['id']}", None),
        ("PUT", f"/api/user/api-clients/{client['id']}", {"name": "renamed by a token", "scopes": ALL_SCOPES}),
        ("POST", f"/api/user/api-clients/{client['id']}/rotate", None),
        ("DELETE", f"/api/user/api-clients/{client['id']}", None),
        ("GET", "/api/user/audit-log", None),
        ("PUT", "/api/user/password", {"current_password": api.user.password, "new_password": "token changed it"}),
    ]
    for method, path, body in routes:
        for headers in ({"Authorization": f"Bearer {client['token']}"}, {"X-Api-Key": client["token"]}):
            response = api.request(method, path, json=body, cookie=None, token=None, headers=headers)
            assert_problem(response, 401)
            assert client["token"] not in response.text
    assert counts(stack, tables) == before
    assert assert_json(api.get(f"/api/user/api-clients/{client['id']}"))["name"] == client["name"]
    assert bearer.get("/api/sites").status_code == 200


def test_no_token_on_a_bearer_capable_endpoint_is_a_plain_challenge(stack):
    response = Api(stack.base_url).get("/api/sites")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="hitkeep"'


# --- the scopes × endpoints matrix ------------------------------------------------------------------

ENDPOINTS = [
    # (id, method, path, body, scope it needs, success status)
    ("list-sites", "GET", "/api/sites", None, "sites:read", 200),
    ("create-site", "POST", "/api/sites", "NEW_SITE", "sites:write", 201),
    ("read-site", "GET", "/api/sites/{site}", None, "sites:read", 200),
    ("update-site", "PUT", "/api/sites/{site}", {"name": "updated by token"}, "sites:write", 200),
    ("delete-site", "DELETE", "/api/sites/{site}", None, "sites:write", 204),
    ("read-user", "GET", "/api/user", None, "user:read", 200),
    ("stats", "GET", "/api/sites/{site}/stats", None, "stats:read", 200),
    ("server-pageview", "POST", "/api/ingest/server/pageview", "PAGEVIEW", "ingest:write", 202),
]


@pytest.fixture(scope="module")
def scoped(stack):
    """One user with one single-scope client per scope, for the whole matrix."""
    crowd = People(stack)
    api = crowd.new()
    tokens = {scope: api.create_client(name=f"only-{scope}", scopes=[scope])["token"] for scope in ALL_SCOPES}
    yield api, tokens
    crowd.cleanup()


def _route_exists(api: Api, method: str, path: str) -> bool:
    """Whether the router knows the path: a known path answers 405 to a method it lacks, never 404."""
    return api.request("PATCH", path).status_code == 405


@pytest.mark.parametrize("scope", ALL_SCOPES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint[0] for endpoint in ENDPOINTS])
def test_scope_matrix(stack, scoped, scope, endpoint):
    api, tokens = scoped
    _, method, path, body, needed, success = endpoint
    site = api.create_site()
    path = path.replace("{site}", site["id"])
    assert _route_exists(api, method, path), f"{method} {path.replace(site['id'], '{id}')} is not routed (Routes.swift)"
    if body == "NEW_SITE":
        body = {"domain": unique_domain()}
    elif body == "PAGEVIEW":
        body = {"site_id": site["id"], "url": f"https://{site['domain']}/pricing?utm_source=matrix",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}
    before = counts(stack, ["sites"])
    response = api.request(method, path, json=body, cookie=None, token=tokens[scope])
    if scope == needed:
        assert response.status_code == success, response.text
    else:
        assert_problem(response, 403, "insufficient_scope")
        challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
        assert challenge["scheme"] == "Bearer" and challenge.get("realm") == "hitkeep"
        assert challenge.get("error") == "insufficient_scope"
        assert challenge.get("scope") == needed
        assert counts(stack, ["sites"]) == before
        assert assert_json(api.get(f"/api/sites/{site['id']}")) == site


# --- site restriction -------------------------------------------------------------------------------

def test_a_site_restricted_token_sees_only_its_sites(stack, people):
    api = people.new()
    allowed, other, later = api.create_site(), api.create_site(), None
    client = api.create_client(site_ids=[allowed["id"]])
    bearer = api.with_token(client["token"])
    assert [site["id"] for site in assert_json(bearer.get("/api/sites"))] == [allowed["id"]]
    assert assert_json(bearer.get(f"/api/sites/{allowed['id']}"))["id"] == allowed["id"]
    assert bearer.get(f"/api/sites/{allowed['id']}/stats").status_code == 200
    for method, path, body in [("GET", f"/api/sites/{other['id']}", None),
                               ("PUT", f"/api/sites/{other['id']}", {"name": "nope"}),
                               ("DELETE", f"/api/sites/{other['id']}", None),
                               ("GET", f"/api/sites/{other['id']}/stats", None)]:
        assert_problem(bearer.request(method, path, json=body), 404, "not_found")
    pageview = bearer.post("/api/ingest/server/pageview", json={
        "site_id": other["id"], "url": f"https://{other['domain']}/", "user_agent": "Mozilla/5.0 restricted"})
    assert 400 <= pageview.status_code < 500, "no ingestion into a site outside the restriction"
    # A site created later is not in the restriction either.
    later = api.create_site()
    assert [site["id"] for site in assert_json(bearer.get("/api/sites"))] == [allowed["id"]]
    assert_problem(bearer.get(f"/api/sites/{later['id']}"), 404, "not_found")
    assert assert_json(api.get(f"/api/sites/{other['id']}")) == other


def test_an_unrestricted_token_sees_sites_created_later(stack, people):
    api = people.new()
    bearer = api.with_token(api.create_client(site_ids=None)["token"])
    site = api.create_site()
    assert [s["id"] for s in assert_json(bearer.get("/api/sites"))] == [site["id"]]


def test_a_token_lists_sites_as_its_owner_sees_them_newest_first(stack, people):
    api = people.new()
    sites = [api.create_site() for _ in range(3)]
    owner_view = assert_json(api.get("/api/sites"))
    assert [site["id"] for site in owner_view] == [site["id"] for site in reversed(sites)]
    assert assert_json(api.with_token(api.create_client(site_ids=None)["token"]).get("/api/sites")) == owner_view
    restricted = api.with_token(api.create_client(site_ids=[sites[0]["id"], sites[2]["id"]])["token"])
    assert assert_json(restricted.get("/api/sites")) == [owner_view[0], owner_view[2]]


def test_a_restricted_token_whose_sites_are_gone_sees_nothing(stack, people):
    api = people.new()
    site, other = api.create_site(), api.create_site()
    client = api.create_client(site_ids=[site["id"]])
    assert api.delete(f"/api/sites/{site['id']}").status_code == 204
    bearer = api.with_token(client["token"])
    assert assert_json(bearer.get("/api/sites")) == [], "a restriction never widens to every site"
    assert_problem(bearer.get(f"/api/sites/{other['id']}"), 404, "not_found")


def test_site_ids_must_be_the_owners_sites(stack, people):
    api, other = people.new(), people.new()
    mine, theirs = api.create_site(), other.create_site()
    before = counts(stack, ["api_clients", "api_client_sites"])
    assert_problem(api.post("/api/user/api-clients", json={"name": "x", "site_ids": [theirs["id"]]}), 403, "forbidden")
    assert_problem(api.post("/api/user/api-clients", json={"name": "x", "site_ids": [mine["id"], theirs["id"]]}), 403, "forbidden")
    assert_problem(api.post("/api/user/api-clients", json={"name": "x", "site_ids": ["01JFKQ4Z7W3M9X0C5T2V8B6N1R"]}), 403, "forbidden")
    assert_problem(api.post("/api/user/api-clients", json={"name": "x", "site_ids": []}), 400, "invalid_site_ids")
    assert_problem(api.post("/api/user/api-clients", json={"name": "x", "site_ids": ["not-a-ulid"]}), 400, "invalid_site_ids")
    assert counts(stack, ["api_clients", "api_client_sites"]) == before


# --- another user's client ----------------------------------------------------------------------------

def test_another_users_client_is_404_everywhere_and_untouched(stack, people):
    alice, bob = people.new(), people.new()
    client = alice.create_client(name="alices")
    missing = "01JFKQ4Z7W3M9X0C5T2V8B6N1R"
    for client_id in (client["id"], missing, "not-a-ulid", client["id"].lower()):
        for method, path, body in [("GET", f"/api/user/api-clients/{client_id}", None),
                                   ("PUT", f"/api/user/api-clients/{client_id}", {"name": "bobs now"}),
                                   ("POST", f"/api/user/api-clients/{client_id}/rotate", {}),
                                   ("DELETE", f"/api/user/api-clients/{client_id}", None)]:
            assert_problem(bob.request(method, path, json=body), 404, "not_found")
    shown = assert_json(alice.get(f"/api/user/api-clients/{client['id']}"))
    assert shown["name"] == "alices" and shown["updated_at"] == client["updated_at"]
    assert shown["token_hint"] == client["token_hint"]
    assert alice.with_token(client["token"]).get("/api/user").status_code == 200
    assert [entry["action"] for entry in bob.audit()] == ["login.succeeded"]


# --- update -------------------------------------------------------------------------------------------

def test_rename_keeps_the_token_working(stack, people):
    api = people.new()
    client = api.create_client(name="grafana-reader")
    time.sleep(0.01)
    renamed = assert_json(api.put(f"/api/user/api-clients/{client['id']}", json={"name": "renamed-client"}))
    assert renamed["name"] == "renamed-client"
    assert renamed["token_hint"] == client["token_hint"] and "token" not in renamed
    assert renamed["updated_at"] > client["updated_at"]
    unchanged = {key: value for key, value in client.items() if key not in ("name", "updated_at", "token")}
    assert {key: value for key, value in renamed.items() if key not in ("name", "updated_at")} == unchanged
    bearer = api.with_token(client["token"])
    for _ in range(6):
        assert bearer.get("/api/sites").status_code == 200


def test_update_changes_scopes_sites_expiry_and_description_at_once(stack, people):
    api = people.new()
    first, second = api.create_site(), api.create_site()
    client = api.create_client()
    bearer = api.with_token(client["token"])
    path = f"/api/user/api-clients/{client['id']}"

    updated = assert_json(api.put(path, json={"scopes": ["user:read"]}))
    assert updated["scopes"] == ["user:read"]
    assert_problem(bearer.get("/api/sites"), 403, "insufficient_scope")
    assert bearer.get("/api/user").status_code == 200

    updated = assert_json(api.put(path, json={"scopes": ["sites:read"], "site_ids": [first["id"]]}))
    assert updated["site_ids"] == [first["id"]]
    assert [s["id"] for s in assert_json(bearer.get("/api/sites"))] == [first["id"]]
    updated = assert_json(api.put(path, json={"site_ids": None}))
    assert updated["site_ids"] is None
    assert {s["id"] for s in assert_json(bearer.get("/api/sites"))} == {first["id"], second["id"]}

    soon = (now_utc() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    updated = assert_json(api.put(path, json={"expires_at": soon, "description": "with expiry"}))
    assert updated["expires_at"] == soon.replace("Z", ".000Z") and updated["description"] == "with expiry"
    updated = assert_json(api.put(path, json={"expires_at": None}))
    assert updated["expires_at"] is None
    assert assert_json(api.put(path, json={}))["scopes"] == ["sites:read"]
    assert bearer.get("/api/sites").status_code == 200


def test_a_token_limited_to_sites_after_use_sees_only_those_in_every_worker(stack, people):
    """Workers read a token that last acted for its owner unrestricted in a form without the site
    restriction (`MemberTokens`); once restricted, the next request of each worker must not show the rest."""
    api = people.new()
    first, second = api.create_site(), api.create_site()
    client = api.create_client()
    path, token = f"/api/user/api-clients/{client['id']}", client["token"]
    for response in _through_every_worker(stack, api, token):
        assert {site["id"] for site in assert_json(response)} == {first["id"], second["id"]}

    assert assert_json(api.put(path, json={"site_ids": [first["id"]]}))["site_ids"] == [first["id"]]
    for response in _through_every_worker(stack, api, token):
        assert [site["id"] for site in assert_json(response)] == [first["id"]]
    bearer = api.with_token(token)
    for _ in range(12):
        assert_problem(bearer.get(f"/api/sites/{second['id']}"), 404, "not_found")
        assert_problem(bearer.get(f"/api/sites/{second['id']}/stats"), 404, "not_found")
        assert assert_json(bearer.get(f"/api/sites/{first['id']}"))["id"] == first["id"]

    assert assert_json(api.put(path, json={"site_ids": None}))["site_ids"] is None
    for response in _through_every_worker(stack, api, token):
        assert {site["id"] for site in assert_json(response)} == {first["id"], second["id"]}


# --- rotation -----------------------------------------------------------------------------------------

def _through_every_worker(stack, api: Api, token: str, extra_base: str | None = None, times: int = 12):
    """Responses of `times` requests per nginx: the shared pool has 4 workers, so every one is hit."""
    results = []
    for base in [api.base_url] + ([extra_base] if extra_base else []):
        bearer = Api(base, token=token)
        results += [bearer.get("/api/sites") for _ in range(times)]
    return results


def test_rotate_without_grace_kills_the_old_token_at_once(stack, people):
    api = people.new()
    client = api.create_client()
    old = client["token"]
    assert api.with_token(old).get("/api/sites").status_code == 200
    response = api.post(f"/api/user/api-clients/{client['id']}/rotate")
    rotated = assert_json(response)
    assert set(rotated) == CLIENT_KEYS | {"token"}
    new = rotated["token"]
    assert token_is_well_formed(new) and new != old
    assert rotated["token_hint"] == "hk_live_…" + new[-4:]
    assert rotated["id"] == client["id"] and rotated["name"] == client["name"]
    for response in _through_every_worker(stack, api, old):
        assert_invalid_token(response, REVOKED)
    for response in _through_every_worker(stack, api, new):
        assert response.status_code == 200
    assert assert_json(api.get(f"/api/user/api-clients/{client['id']}"))["token_hint"] == rotated["token_hint"]
    assert one_value(stack, f"SELECT count(*) FROM api_client_tokens WHERE client_id = '{client['id']}'") == "1"


def test_rotate_with_grace_keeps_the_old_token_exactly_that_long(stack, people):
    api = people.new()
    client = api.create_client()
    old = client["token"]
    response = api.post(f"/api/user/api-clients/{client['id']}/rotate", json={"grace_seconds": 2})
    rotated_at = time.monotonic()
    new = assert_json(response)["token"]
    # The old hash carries an expiry exactly grace_seconds after the rotation (the new token's birth).
    grace = one_value(stack, f"""
        SELECT extract(epoch FROM old.expires_at - new.created_at)
        FROM api_client_tokens old, api_client_tokens new
        WHERE old.token_hash = {token_hash_literal(old)} AND new.token_hash = {token_hash_literal(new)}""")
    assert abs(float(grace) - 2.0) < 0.002, grace
    assert one_value(stack, f"SELECT expires_at IS NULL FROM api_client_tokens WHERE token_hash = {token_hash_literal(new)}") == "t"
    # Both work during the grace period…
    for token in (old, new):
        assert api.with_token(token).get("/api/sites").status_code == 200
    assert time.monotonic() - rotated_at < 1.5, "the host is too slow for this check"
    # …and only the new one after it.
    time.sleep(max(0.0, rotated_at + 2.3 - time.monotonic()))
    for response in _through_every_worker(stack, api, old, times=6):
        assert_invalid_token(response, REVOKED)
    assert api.with_token(new).get("/api/sites").status_code == 200
    # The hint shows the new token.
    assert assert_json(api.get(f"/api/user/api-clients/{client['id']}"))["token_hint"] == "hk_live_…" + new[-4:]


def test_a_second_rotation_ends_a_grace_period_that_is_over_and_keeps_one_that_is_not(stack, people):
    api = people.new()
    client = api.create_client()
    first = client["token"]
    second = assert_json(api.post(f"/api/user/api-clients/{client['id']}/rotate", json={"grace_seconds": 3600}))["token"]
    third = assert_json(api.post(f"/api/user/api-clients/{client['id']}/rotate"))["token"]
    # A rotation without grace kills every older token, including those still in a grace period.
    for token in (first, second):
        assert_invalid_token(api.with_token(token).get("/api/sites"), REVOKED)
    assert api.with_token(third).get("/api/sites").status_code == 200


@pytest.mark.parametrize("body, code", [
    (b'{"grace_seconds": -1}', "invalid_grace_seconds"),
    (b'{"grace_seconds": 86401}', "invalid_grace_seconds"),
    (b'{"grace_seconds": 99999999999999999999}', None),
    (b'{"grace_seconds": "60"}', "invalid_json"),
    (b'{"grace_seconds": 1.5}', "invalid_json"),
    (b'{"grace_seconds": true}', "invalid_json"),
    (b'{"grace": 60}', "invalid_json"),
    (b'{"grace_seconds": 60', "invalid_json"),
    (b'[60]', "invalid_json"),
])
def test_rotate_refuses_bad_grace_and_keeps_the_token(stack, people, body, code):
    api = people.new()
    client = api.create_client()
    before = counts(stack, ["api_client_tokens", "api_client_revoked_tokens"])
    response = api.post(f"/api/user/api-clients/{client['id']}/rotate", data=body,
                        headers={"Content-Type": "application/json"})
    assert_problem(response, 400, code)
    assert "token" not in response.json()
    assert counts(stack, ["api_client_tokens", "api_client_revoked_tokens"]) == before
    assert api.with_token(client["token"]).get("/api/sites").status_code == 200


def test_rotate_accepts_no_body_an_empty_object_and_the_bounds(stack, people):
    api = people.new()
    client = api.create_client()
    for body in (None, {}, {"grace_seconds": 0}, {"grace_seconds": 86400}):
        response = api.post(f"/api/user/api-clients/{client['id']}/rotate", json=body)
        assert token_is_well_formed(assert_json(response)["token"])


def test_rotating_an_expired_client_is_409(stack, people):
    api = people.new()
    client = api.create_client()
    stack.sql(f"UPDATE api_clients SET expires_at = now() - interval '1 second' WHERE id = '{client['id']}'")
    response = api.post(f"/api/user/api-clients/{client['id']}/rotate")
    assert_problem(response, 409, "client_expired")
    assert "token" not in response.json()
    assert_invalid_token(api.with_token(client["token"]).get("/api/sites"), EXPIRED)


# --- delete -------------------------------------------------------------------------------------------

def test_delete_revokes_the_token_for_the_very_next_request(stack, people):
    api = people.new()
    client = api.create_client()
    bearer = api.with_token(client["token"])
    assert bearer.get("/api/sites").status_code == 200
    response = api.delete(f"/api/user/api-clients/{client['id']}")
    assert response.status_code == 204 and response.content == b""
    for response in _through_every_worker(stack, api, client["token"]):
        assert_invalid_token(response, REVOKED)
    assert_invalid_token(api.with_token(client["token"]).get("/api/token"), REVOKED)
    assert_problem(api.get(f"/api/user/api-clients/{client['id']}"), 404, "not_found")
    assert_problem(api.delete(f"/api/user/api-clients/{client['id']}"), 404, "not_found")
    assert assert_json(api.get("/api/user/api-clients")) == []


def test_delete_under_concurrent_load_lets_no_request_succeed_after_the_204(stack, people):
    """16 connections hammer GET /api/sites with the token through two nginx instances over two pools
    (6 workers); the client is deleted mid-stream. No request that started after the 204 came back
    may succeed."""
    api = people.new()
    api.create_site()
    client = api.create_client(scopes=["sites:read"])
    second_pool = start_pool(stack, workers=2)
    second_nginx = stack.start_nginx([stack.pool.upstream, second_pool.upstream])
    bases = [stack.base_url, second_nginx.base_url]
    log_marks = {pool: log_size(pool) for pool in (stack.pool, second_pool)}

    stop = threading.Event()
    results: list[tuple[float, float, int, str]] = []
    lock = threading.Lock()

    def hammer(number: int):
        session = new_http_session()
        url = bases[number % 2] + "/api/sites"
        headers = {"Authorization": f"Bearer {client['token']}", "Connection": "close"}
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = session.get(url, headers=headers, timeout=5)
                status, text = response.status_code, response.text
            except Exception as error:  # a transport failure is not a success
                status, text = -1, repr(error)
            with lock:
                results.append((started, time.monotonic(), status, text))

    with concurrent.futures.ThreadPoolExecutor(16) as executor:
        futures = [executor.submit(hammer, number) for number in range(16)]
        time.sleep(0.8)
        response = api.delete(f"/api/user/api-clients/{client['id']}")
        deleted_at = time.monotonic()
        assert response.status_code == 204, response.text
        time.sleep(1.2)
        stop.set()
        for future in futures:
            future.result(timeout=15)

    before = [r for r in results if r[1] < deleted_at]
    after = [r for r in results if r[0] > deleted_at]
    assert sum(1 for r in before if r[2] == 200) >= 20, "the load did not get going"
    assert len(after) >= 20, "too few requests after the delete to tell"
    succeeded = [r for r in after if r[2] == 200]
    assert succeeded == [], f"{len(succeeded)} of {len(after)} requests that started after the 204 succeeded"
    assert all(r[2] == 401 for r in after), {r[2] for r in after}
    assert all('"invalid_token"' in r[3] for r in after)

    # The load really went through several workers of both pools.
    pids = set()
    for pool, mark in log_marks.items():
        pool_pids = worker_pids_since(pool, mark, "/api/sites")
        assert pool_pids, f"no request reached pool {pool.socket}"
        pids |= pool_pids
    assert len(pids) >= 4, pids


# --- expired and malformed tokens ---------------------------------------------------------------------

def test_an_expired_token_is_401_saying_expired(stack, people):
    api = people.new()
    soon = (now_utc() + datetime.timedelta(seconds=1.5)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    client = api.create_client(expires_at=soon)
    bearer = api.with_token(client["token"])
    assert bearer.get("/api/sites").status_code == 200
    time.sleep(max(0.0, (parse_time(soon) - now_utc()).total_seconds() + 0.3))
    for response in _through_every_worker(stack, api, client["token"], times=6):
        assert_invalid_token(response, EXPIRED)
    assert_invalid_token(bearer.get("/api/user"), EXPIRED)
    assert_invalid_token(bearer.get("/api/token"), EXPIRED)
    # The owner still sees it, expired.
    assert assert_json(api.get(f"/api/user/api-clients/{client['id']}"))["expires_at"] == soon


def _malformed_tokens(real: str) -> list[str]:
    secret = real[8:40]
    flipped_checksum = real[:-1] + ("A" if real[-1] != "A" else "B")
    flipped_secret = real[:8] + ("x" if secret[0] != "x" else "y") + real[9:]
    return [
        "",
        "hk_live_",
        "garbage",
        real[:-1],
        real + "A",
        real.replace("hk_live_", "hk_test_"),
        real.replace("hk_live_", "HK_LIVE_"),
        real[:20] + "-" + real[21:],
        real[:20] + "é" + real[21:],
        flipped_checksum,
        flipped_secret,
        "hk_live_" + "0" * 38,
        "hk_live_" + secret + "' OR '1'='1",
        real + "%00",
        "x" * 4000,
    ]


def test_malformed_and_checksum_broken_tokens_are_invalid(stack, people):
    api = people.new()
    real = api.create_client()["token"]
    for token in _malformed_tokens(real):
        if token == "":
            continue
        response = api.get("/api/sites", cookie=None, token=token)
        assert_invalid_token(response, INVALID)
        response = api.get("/api/sites", cookie=None, token=None, headers={"X-Api-Key": token})
        assert_invalid_token(response, INVALID)
    unknown = well_formed_token()
    assert_invalid_token(api.get("/api/sites", cookie=None, token=unknown), INVALID)
    assert api.get("/api/sites", cookie=None, token=real).status_code == 200


def test_malformed_tokens_are_refused_without_a_database_query(stack, people):
    """A pool whose database does not exist: a query would fail with 503. A malformed or
    checksum-broken token still gets 401 invalid_token, so no query was made; a well-formed token
    gets 503, so the method would notice one."""
    api = people.new()
    real = api.create_client()["token"]
    nowhere = stack.cluster.url("no_such_database_" + unique(), user="hitkeep")
    broken = start_pool(stack, database_url=nowhere, workers=2)
    nginx = stack.start_nginx([broken.upstream])
    offline = Api(nginx.base_url)
    for token in _malformed_tokens(real):
        if token == "":
            continue
        assert_invalid_token(offline.get("/api/sites", token=token), INVALID)
    for token in (real, well_formed_token()):
        assert_problem(offline.get("/api/sites", token=token), 503, "database_unavailable")


def test_a_token_of_a_deleted_user_is_invalid(stack, people):
    api = people.new()
    token = api.create_client()["token"]
    stack.sql(f"DELETE FROM users WHERE id = '{api.user.id}'")
    response = Api(stack.base_url, token=token).get("/api/sites")
    assert_problem(response, 401, "invalid_token")


# --- bad input ----------------------------------------------------------------------------------------

PAST = "2001-01-01T00:00:00Z"

CREATE_BAD = [
    ({"name": ""}, "invalid_name"),
    ({"name": "   "}, "invalid_name"),
    ({"name": "n" * 121}, "invalid_name"),
    ({"name": "n" * 10000}, "invalid_name"),
    ({"name": "tab\tname"}, "invalid_name"),
    ({"name": "new\nline"}, "invalid_name"),
    ({"name": "bell\u0007"}, "invalid_name"),
    ({"name": "nul\u0000"}, "invalid_name"),
    ({"name": "del\u007f"}, "invalid_name"),
    ({"name": "c1\u0085c1"}, "invalid_name"),
    ({"name": "esc\u001b[31m"}, "invalid_name"),
    ({}, "invalid_name"),
    ({"name": None}, "invalid_name"),
    ({"name": "x", "scopes": ["admin"]}, "invalid_scope"),
    ({"name": "x", "scopes": ["sites:READ"]}, "invalid_scope"),
    ({"name": "x", "scopes": ["sites:read", "everything"]}, "invalid_scope"),
    ({"name": "x", "scopes": [""]}, "invalid_scope"),
    ({"name": "x", "scopes": []}, "invalid_scope"),
    ({"name": "x", "site_ids": []}, "invalid_site_ids"),
    ({"name": "x", "expires_at": PAST}, "invalid_expiry"),
    ({"name": "x", "expires_at": "tomorrow"}, "invalid_expiry"),
    ({"name": "x", "expires_at": "2099-02-30T00:00:00Z"}, "invalid_expiry"),
    ({"name": "x", "expires_at": ""}, "invalid_expiry"),
    ({"name": "x", "expires_in_days": 0}, "invalid_expiry"),
    ({"name": "x", "expires_in_days": -5}, "invalid_expiry"),
    ({"name": "x", "expires_in_days": 3651}, "invalid_expiry"),
    ({"name": "x", "expires_in_days": 5, "expires_at": "2099-01-01T00:00:00Z"}, "invalid_expiry"),
    ({"name": "x", "description": "d" * 1001}, "invalid_description"),
    ({"name": "x", "description": "bell\u0007"}, "invalid_description"),
    ({"name": 5}, "invalid_json"),
    ({"name": ["x"]}, "invalid_json"),
    ({"name": "x", "scopes": "sites:read"}, "invalid_json"),
    ({"name": "x", "scopes": [1]}, "invalid_json"),
    ({"name": "x", "site_ids": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}, "invalid_json"),
    ({"name": "x", "expires_in_days": "30"}, "invalid_json"),
    ({"name": "x", "expires_in_days": 1.5}, "invalid_json"),
    ({"name": "x", "expires_at": 1893456000}, "invalid_json"),
    ({"name": "x", "description": False}, "invalid_json"),
    ({"name": "x", "token": "hk_live_" + "a" * 38}, "invalid_json"),
    ({"name": "x", "user_id": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}, "invalid_json"),
    ({"name": "x", "last_used_at": None}, "invalid_json"),
]


@pytest.mark.parametrize("body, code", CREATE_BAD, ids=[f"{i}-{c}" for i, (_, c) in enumerate(CREATE_BAD)])
def test_create_refuses_bad_input_with_the_documented_code(stack, people, body, code):
    api = people.new()
    tables = ["api_clients", "api_client_tokens", "api_client_sites", "audit_log"]
    before = counts(stack, tables)
    response = api.post("/api/user/api-clients", json=body)
    problem = assert_problem(response, 400, code)
    assert "token" not in problem
    if code == "invalid_json":
        offending = next(key for key in body if key != "name" or not isinstance(body["name"], str))
        assert offending in problem["detail"], f"the offending field is named: {problem['detail']}"
    assert counts(stack, tables) == before


@pytest.mark.parametrize("body", [
    b'{"name": "x"',
    b'{"name": "x"}}',
    b'["x"]',
    b'"x"',
    b'null',
    b'',
    b'{"name": "\xff\xfe"}',
    b'{"name": "\\ud800"}',
    b'{"name": "x", "name": "y"}',
    b"{'name': 'x'}",
    b'{"name": "x",}',
])
def test_create_refuses_malformed_json(stack, people, body):
    api = people.new()
    before = counts(stack, ["api_clients"])
    response = api.post("/api/user/api-clients", data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid_json")
    assert counts(stack, ["api_clients"]) == before


def test_names_at_the_limits_are_accepted(stack, people):
    api = people.new()
    assert api.create_client(name="n" * 120)["name"] == "n" * 120
    assert api.create_client(name="  " + "é" * 120 + "  ")["name"] == "é" * 120
    assert api.create_client(name="x")["name"] == "x"
    assert api.create_client(name="'; DROP TABLE api_clients;--")["name"] == "'; DROP TABLE api_clients;--"
    assert api.create_client(name="🚀 exporter")["name"] == "🚀 exporter"
    assert api.create_client(name="x", description="d" * 1000)["description"] == "d" * 1000


UPDATE_BAD = [
    ({"name": ""}, "invalid_name"),
    ({"name": "n" * 121}, "invalid_name"),
    ({"name": "n" * 10000}, "invalid_name"),
    ({"name": None}, "invalid_name"),
    ({"name": "ctl\u0001"}, "invalid_name"),
    ({"scopes": ["root"]}, "invalid_scope"),
    ({"scopes": None}, "invalid_scope"),
    ({"scopes": []}, "invalid_scope"),
    ({"site_ids": []}, "invalid_site_ids"),
    ({"expires_at": PAST}, "invalid_expiry"),
    ({"expires_at": "soon"}, "invalid_expiry"),
    ({"description": "d" * 1001}, "invalid_description"),
    ({"name": 1}, "invalid_json"),
    ({"scopes": "user:read"}, "invalid_json"),
    ({"expires_in_days": 5}, "invalid_json"),
    ({"token": "x"}, "invalid_json"),
    ({"id": "01JFKQ4Z7W3M9X0C5T2V8B6N1R"}, "invalid_json"),
    ({"name": "ok", "scopes": ["nope"]}, "invalid_scope"),
]


@pytest.mark.parametrize("body, code", UPDATE_BAD, ids=[f"{i}-{c}" for i, (_, c) in enumerate(UPDATE_BAD)])
def test_update_refuses_bad_input_and_changes_nothing(stack, people, body, code):
    api = people.new()
    client = api.create_client(name="unchanged")
    stored = assert_json(api.get(f"/api/user/api-clients/{client['id']}"))
    assert_problem(api.put(f"/api/user/api-clients/{client['id']}", json=body), 400, code)
    assert assert_json(api.get(f"/api/user/api-clients/{client['id']}")) == stored
    assert api.with_token(client["token"]).get("/api/sites").status_code == 200


def test_the_101st_client_is_409(stack, people):
    api = people.new()
    tokens = []
    for number in range(100):
        response = api.post("/api/user/api-clients", json={"name": f"client-{number}"})
        assert response.status_code == 201, f"client {number + 1}: {response.text}"
        tokens.append(response.json())
    refused = api.post("/api/user/api-clients", json={"name": "one too many"})
    assert_problem(refused, 409, "too_many_clients")
    assert "token" not in refused.json()
    assert one_value(stack, f"SELECT count(*) FROM api_clients WHERE user_id = '{api.user.id}'") == "100"
    # Another user is not affected, and deleting one makes room.
    assert people.new().post("/api/user/api-clients", json={"name": "elsewhere"}).status_code == 201
    assert api.delete(f"/api/user/api-clients/{tokens[0]['id']}").status_code == 204
    assert api.post("/api/user/api-clients", json={"name": "room again"}).status_code == 201


def test_concurrent_creations_never_pass_the_limit(stack, people):
    api = people.new()
    stack.sql(f"""INSERT INTO api_clients (id, user_id, name, scopes)
                  SELECT 'X' || lpad(n::text, 25, '0'), '{api.user.id}', 'bulk', ARRAY['user:read']
                  FROM generate_series(1, 95) n""")

    def create(number):
        return api.post("/api/user/api-clients", json={"name": f"race-{number}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(10) as executor:
        statuses = list(executor.map(create, range(10)))
    assert sorted(statuses) == [201] * 5 + [409] * 5, statuses
    assert one_value(stack, f"SELECT count(*) FROM api_clients WHERE user_id = '{api.user.id}'") == "100"


def test_a_server_wide_maximum_lifetime_applies(stack, people):
    own = deployment(stack, environment={"HITKEEP_TOKEN_MAX_DAYS": "30"})
    person = people.create()
    api = people.login(person)
    here = Api(own.base_url, cookie=api.cookie)
    client = assert_json(here.post("/api/user/api-clients", json={"name": "capped"}), 201)
    delta = parse_time(client["expires_at"]) - parse_time(client["created_at"])
    assert abs(delta - datetime.timedelta(days=30)) < datetime.timedelta(seconds=1)
    assert_problem(here.post("/api/user/api-clients", json={"name": "x", "expires_in_days": 31}), 400, "invalid_expiry")
    assert here.post("/api/user/api-clients", json={"name": "x", "expires_in_days": 30}).status_code == 201


# --- last_used_at -------------------------------------------------------------------------------------

def test_last_used_at_is_written_at_most_once_a_minute(stack, people):
    api = people.new()
    client = api.create_client()
    bearer = api.with_token(client["token"])
    query = f"SELECT last_used_at, extract(epoch FROM now() - last_used_at) FROM api_clients WHERE id = '{client['id']}'"
    assert stack.sql(query) == [(None, None)]

    assert bearer.get("/api/sites").status_code == 200
    first, age = stack.sql(query)[0]
    assert first is not None and float(age) < 5
    shown = assert_json(api.get(f"/api/user/api-clients/{client['id']}"))["last_used_at"]
    assert TIME_RE.match(shown)

    time.sleep(1.1)
    for _ in range(5):
        assert bearer.get("/api/sites").status_code == 200
    assert stack.sql(query)[0][0] == first, "written again within the minute"

    stack.sql(f"UPDATE api_clients SET last_used_at = now() - interval '61 seconds' WHERE id = '{client['id']}'")
    assert bearer.get("/api/user").status_code == 200
    assert float(stack.sql(query)[0][1]) < 5, "older than a minute: written again"


def test_a_request_refused_for_its_scope_still_counts_as_a_use(stack, people):
    api = people.new()
    client = api.create_client(scopes=["stats:read"])
    query = f"SELECT last_used_at FROM api_clients WHERE id = '{client['id']}'"
    assert stack.sql(query) == [(None,)]
    assert_problem(api.with_token(client["token"]).get("/api/sites", cookie=None), 403, "insufficient_scope")
    assert stack.sql(query)[0][0] is not None


# --- audit ----------------------------------------------------------------------------------------

def test_client_changes_are_audited_with_actor_ip_and_user_agent(stack, people):
    api = people.new()
    agent = {"User-Agent": "clients-audit/1.0"}
    client = assert_json(api.post("/api/user/api-clients", json={"name": "audited"}, headers=agent), 201)
    assert api.put(f"/api/user/api-clients/{client['id']}", json={"name": "audited-2"}, headers=agent).status_code == 200
    assert api.post(f"/api/user/api-clients/{client['id']}/rotate", headers=agent).status_code == 200
    assert api.delete(f"/api/user/api-clients/{client['id']}", headers=agent).status_code == 204

    entries = [entry for entry in api.audit() if entry["action"].startswith("api_client.")]
    assert [entry["action"] for entry in entries] == [
        "api_client.deleted", "api_client.rotated", "api_client.updated", "api_client.created"]
    for entry in entries:
        assert entry["actor"] == {"type": "user", "id": api.user.id}
        assert entry["target_id"] == client["id"]
        assert entry["ip"] == "127.0.0.1"
        assert entry["user_agent"] == "clients-audit/1.0"
    # Audit entries hold no token either.
    assert client["token"] not in api.get("/api/user/audit-log").text


def test_refused_changes_are_not_audited(stack, people):
    api = people.new()
    client = api.create_client()
    before = len(api.audit())
    api.put(f"/api/user/api-clients/{client['id']}", json={"name": ""})
    api.post(f"/api/user/api-clients/{client['id']}/rotate", json={"grace_seconds": -1})
    api.post("/api/user/api-clients", json={"name": "x", "scopes": ["bad"]})
    assert len(api.audit()) == before


# --- introspection ----------------------------------------------------------------------------------

def test_a_rotation_with_grace_can_be_followed(stack, people):
    api = people.new()
    client = api.create_client(name="followed")
    old_token = client["token"]
    rotated = assert_json(api.post(f"/api/user/api-clients/{client['id']}/rotate", json={"grace_seconds": 600}))
    ends = rotated["previous_token_expires_at"]
    assert TIME_RE.match(ends) and rotated["previous_token_hint"] == client["token_hint"]
    assert rotated["token_hint"] != client["token_hint"]
    # The list and the client's own page keep saying it until the grace period ends.
    listed = [c for c in assert_json(api.get("/api/user/api-clients")) if c["id"] == client["id"]][0]
    assert (listed["previous_token_hint"], listed["previous_token_expires_at"]) == (client["token_hint"], ends)

    # The old token, asked about itself, describes itself: its hint and its end.
    old = assert_json(api.with_token(old_token).get("/api/token", cookie=None))
    assert old["token"] == {"hint": client["token_hint"], "expires_at": ends, "rotated_out": True}
    new = assert_json(api.with_token(rotated["token"]).get("/api/token", cookie=None))
    assert new["token"] == {"hint": rotated["token_hint"], "expires_at": None, "rotated_out": False}

    # Once it is over, nothing is left to show.
    stack.sql(f"UPDATE api_client_tokens SET expires_at = now() - interval '1 second' WHERE client_id = '{client['id']}' "
              "AND expires_at IS NOT NULL")
    listed = [c for c in assert_json(api.get("/api/user/api-clients")) if c["id"] == client["id"]][0]
    assert (listed["previous_token_hint"], listed["previous_token_expires_at"]) == (None, None)


def test_the_security_log_keeps_a_deleted_clients_name(stack, people):
    api = people.new()
    client = api.create_client(name="soon-gone")
    assert api.delete(f"/api/user/api-clients/{client['id']}").status_code == 204
    entries = {entry["action"]: entry for entry in api.audit() if entry["target_id"] == client["id"]}
    assert entries["api_client.created"]["detail"] == "soon-gone"
    assert entries["api_client.deleted"]["detail"] == "soon-gone"


def test_token_introspection(stack, people):
    api = people.new()
    site = api.create_site()
    client = api.create_client(name="introspected", scopes=["stats:read"], site_ids=[site["id"]])
    body = assert_json(api.with_token(client["token"]).get("/api/token", cookie=None))
    assert set(body) == {"client", "token", "owner", "user"}
    assert body["token"] == {"hint": client["token_hint"], "expires_at": None, "rotated_out": False}
    assert body["user"] == {"id": api.user.id, "email": api.user.email}
    assert set(body["client"]) == CLIENT_KEYS
    assert body["client"]["id"] == client["id"] and body["client"]["scopes"] == ["stats:read"]
    assert body["client"]["site_ids"] == [site["id"]]
    assert client["token"] not in api.with_token(client["token"]).get("/api/token", cookie=None).text

    missing = Api(stack.base_url).get("/api/token")
    assert_problem(missing, 401)
    assert missing.headers.get("WWW-Authenticate") == 'Bearer realm="hitkeep"'
    assert_problem(api.get("/api/token"), 401)  # a cookie is not a token
    assert_invalid_token(Api(stack.base_url, token=well_formed_token()).get("/api/token"), INVALID)
