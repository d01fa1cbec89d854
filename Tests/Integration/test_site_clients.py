"""Site-owned API clients (issue 15, item 1; API.md §6.5), through nginx and PostgreSQL.

A site's owners and admins manage its clients with the session cookie under
/api/sites/{id}/api-clients; the token reaches that site alone, outlives its creator, and stops with
the site. Viewers, strangers and other sites see nothing (404), bad input writes nothing, and every
change is in the security log of the site's owners and admins.
"""

from __future__ import annotations

import json

import pytest

from accounts import (CLIENT_KEYS, SITE_KEYS, ULID_RE, assert_json, assert_problem, counts, one_value, people,  # noqa: F401
                      run_cli, token_is_well_formed, unique)

SITE_SCOPES = ["ingest:write", "sites:read", "sites:write", "stats:read"]
CLIENT_TABLES = ["api_clients", "api_client_tokens", "api_client_sites", "api_client_revoked_tokens", "audit_log"]


def clients_path(site_id: str) -> str:
    return f"/api/sites/{site_id}/api-clients"


def team(people):
    """A site with its owner, an admin and a viewer, each signed in and a member."""
    owner, admin, viewer = people.new(), people.new(), people.new()
    site = owner.create_site()
    owner.add_member(site["id"], admin.user.email, "admin")
    owner.add_member(site["id"], viewer.user.email, "viewer")
    for member in (admin, viewer):
        assert member.get("/api/user").status_code == 200  # accepts the invitation
    return site, owner, admin, viewer


def create_site_client(api, site_id: str, **fields) -> dict:
    return assert_json(api.post(clients_path(site_id), json={"name": unique("site-client-"), **fields}), 201)


def pageview(site: dict) -> dict:
    return {"site_id": site["id"], "url": f"https://{site['domain']}/pricing",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleTexWebKit/537.36 Chrome/120.0 Safari/537.36"}


# --- create, read, list, rename, rotate, delete ------------------------------------------------------

def test_an_admin_creates_a_site_client_with_an_owner_and_a_creator(stack, people):
    site, owner, admin, _ = team(people)
    client = create_site_client(admin, site["id"], name="ci-deploys", description="from CI")
    assert set(client) == CLIENT_KEYS | {"token"}
    assert token_is_well_formed(client["token"])
    assert client["owner"] == {"type": "site", "id": site["id"]}
    assert client["created_by"] == admin.user.id
    # Without scopes: every scope a site's client can hold, which excludes user:read.
    assert client["scopes"] == SITE_SCOPES
    assert client["site_ids"] == [site["id"]]

    row = stack.sql(f"SELECT user_id, site_id, created_by, restricted_to_sites FROM api_clients WHERE id = '{client['id']}'")
    assert row == [(None, site["id"], admin.user.id, "t")]
    # The owner sees it, listed, read one by one, without the token.
    shown = {key: value for key, value in client.items() if key != "token"}
    assert assert_json(owner.get(clients_path(site["id"]))) == [shown]
    assert assert_json(owner.get(f"{clients_path(site['id'])}/{client['id']}")) == shown
    # It is not the admin's own client.
    assert client["id"] not in {c["id"] for c in assert_json(admin.get("/api/user/api-clients"))}


def test_user_clients_say_who_owns_them(stack, people):
    api = people.new()
    client = api.create_client()
    assert client["owner"] == {"type": "user", "id": api.user.id}
    assert client["created_by"] == api.user.id


def test_rename_rotate_and_delete_a_site_client(stack, people):
    site, owner, admin, _ = team(people)
    client = create_site_client(owner, site["id"])
    path = f"{clients_path(site['id'])}/{client['id']}"
    renamed = assert_json(admin.put(path, json={"name": "renamed", "scopes": ["stats:read"]}))
    assert (renamed["name"], renamed["scopes"], renamed["owner"]) == ("renamed", ["stats:read"], client["owner"])
    assert renamed["created_by"] == owner.user.id

    rotated = assert_json(admin.post(f"{path}/rotate"))
    assert rotated["token"] != client["token"] and token_is_well_formed(rotated["token"])
    old, new = owner.with_token(client["token"]), owner.with_token(rotated["token"])
    assert_problem(old.get(f"/api/sites/{site['id']}/stats"), 401, "invalid_token")
    assert assert_json(new.get(f"/api/sites/{site['id']}/stats"))["site_id"] == site["id"]

    response = admin.delete(path)
    assert response.status_code == 204
    assert_problem(new.get(f"/api/sites/{site['id']}/stats"), 401, "invalid_token")
    assert_problem(owner.get(path), 404, "not_found")
    assert assert_json(owner.get(clients_path(site["id"]))) == []


def test_every_change_is_in_the_security_log_of_the_owners_and_admins(stack, people):
    site, owner, admin, viewer = team(people)
    client = create_site_client(admin, site["id"], name="logged")
    path = f"{clients_path(site['id'])}/{client['id']}"
    assert_json(owner.put(path, json={"name": "logged-2"}))
    assert_json(owner.post(f"{path}/rotate"))
    assert admin.delete(path).status_code == 204

    expected = [("api_client.deleted", "logged-2", admin.user.id), ("api_client.rotated", "logged-2", owner.user.id),
                ("api_client.updated", "logged-2", owner.user.id), ("api_client.created", "logged", admin.user.id)]
    for reader in (owner, admin):
        entries = [e for e in reader.audit() if e["action"].startswith("api_client.")]
        assert [(e["action"], e["detail"], e["actor"]["id"]) for e in entries] == expected, reader.user.email
        assert {(e["site_id"], e["target_id"], e["actor"]["type"]) for e in entries} == {(site["id"], client["id"], "user")}
    # A viewer is not told.
    assert [e for e in viewer.audit() if e["action"].startswith("api_client.")] == []


# --- what the token reaches ----------------------------------------------------------------------------

def test_the_token_reaches_its_site_only(stack, people):
    site, owner, admin, _ = team(people)
    other = owner.create_site()  # the same owner's other site
    elsewhere = people.new().create_site()
    token = create_site_client(admin, site["id"])["token"]
    bearer = owner.with_token(token)

    listed = assert_json(bearer.get("/api/sites"))
    assert [s["id"] for s in listed] == [site["id"]]
    assert set(listed[0]) == SITE_KEYS and listed[0]["role"] == "admin"
    assert assert_json(bearer.get(f"/api/sites/{site['id']}"))["domain"] == site["domain"]
    assert assert_json(bearer.get(f"/api/sites/{site['id']}/stats"))["site_id"] == site["id"]
    response = bearer.post("/api/ingest/server/pageview", json=pageview(site))
    assert response.status_code in (202, 204), response.text
    # Within its scopes it changes the site (an admin's right), never deletes it (the owner's).
    assert assert_json(bearer.put(f"/api/sites/{site['id']}", json={"name": "Renamed by CI"}))["name"] == "Renamed by CI"
    assert_problem(bearer.delete(f"/api/sites/{site['id']}"), 403)

    for foreign in (other, elsewhere):
        assert_problem(bearer.get(f"/api/sites/{foreign['id']}"), 404, "not_found")
        assert_problem(bearer.get(f"/api/sites/{foreign['id']}/stats"), 404, "not_found")
        assert_problem(bearer.post("/api/ingest/server/pageview", json=pageview(foreign)), 404, "not_found")
    # No sites of its own, no person, no client management.
    assert_problem(bearer.post("/api/sites", json={"domain": unique() + ".example.com"}), 403)
    assert_problem(bearer.get("/api/user"), 403, "insufficient_scope")
    assert_problem(bearer.get(clients_path(site["id"])), 401)
    assert_problem(bearer.get("/api/user/api-clients"), 401)


def test_the_token_acts_within_its_scopes(stack, people):
    site, owner, _, _ = team(people)
    bearer = owner.with_token(create_site_client(owner, site["id"], scopes=["stats:read"])["token"])
    assert assert_json(bearer.get(f"/api/sites/{site['id']}/stats"))["site_id"] == site["id"]
    assert_problem(bearer.get("/api/sites"), 403, "insufficient_scope")
    assert_problem(bearer.post("/api/ingest/server/pageview", json=pageview(site)), 403, "insufficient_scope")


def test_token_introspection_names_the_site_as_owner(stack, people):
    site, owner, admin, _ = team(people)
    client = create_site_client(admin, site["id"])
    body = assert_json(owner.with_token(client["token"]).get("/api/token"))
    assert body["owner"] == {"type": "site", "id": site["id"]}
    assert body["client"]["id"] == client["id"] and body["client"]["owner"] == body["owner"]
    assert body["user"] is None

    mine = owner.create_client()
    body = assert_json(owner.with_token(mine["token"]).get("/api/token"))
    assert body["owner"] == {"type": "user", "id": owner.user.id}
    assert body["user"]["id"] == owner.user.id


def test_the_token_outlives_its_creator(stack, people):
    site, owner, admin, _ = team(people)
    client = create_site_client(admin, site["id"])
    bearer = owner.with_token(client["token"])
    # The creator leaves the site, then their account is deleted.
    assert owner.delete(f"/api/sites/{site['id']}/members/{admin.user.id}").status_code == 204
    assert assert_json(bearer.get(f"/api/sites/{site['id']}"))["id"] == site["id"]
    stack.sql(f"DELETE FROM users WHERE id = '{admin.user.id}'")
    assert assert_json(bearer.get(f"/api/sites/{site['id']}/stats"))["site_id"] == site["id"]
    assert [s["id"] for s in assert_json(bearer.get("/api/sites"))] == [site["id"]]
    shown = assert_json(owner.get(f"{clients_path(site['id'])}/{client['id']}"))
    assert shown["created_by"] is None and shown["owner"] == {"type": "site", "id": site["id"]}


def test_deleting_the_site_stops_the_token_at_the_next_request(stack, people):
    site, owner, admin, _ = team(people)
    client = create_site_client(admin, site["id"])
    bearer = owner.with_token(client["token"])
    assert bearer.get(f"/api/sites/{site['id']}").status_code == 200
    assert owner.delete(f"/api/sites/{site['id']}").status_code == 204
    assert_problem(bearer.get("/api/sites"), 401, "invalid_token")
    assert_problem(bearer.get(f"/api/sites/{site['id']}/stats"), 401, "invalid_token")
    assert stack.sql(f"SELECT count(*) FROM api_clients WHERE id = '{client['id']}'") == [("0",)]


def test_revoking_all_of_a_users_clients_leaves_the_sites_clients(stack, people):
    site, owner, _, _ = team(people)
    site_client = create_site_client(owner, site["id"])
    owner.create_client()
    assert assert_json(owner.delete("/api/user/api-clients")) == {"revoked": 1}
    assert owner.with_token(site_client["token"]).get(f"/api/sites/{site['id']}").status_code == 200


# --- who may manage them --------------------------------------------------------------------------------

def test_viewers_strangers_and_other_sites_get_404(stack, people):
    site, owner, admin, viewer = team(people)
    stranger = people.new()
    other_site = stranger.create_site()
    client = create_site_client(owner, site["id"])
    path = f"{clients_path(site['id'])}/{client['id']}"
    before = counts(stack, CLIENT_TABLES)
    for outsider in (viewer, stranger):
        assert_problem(outsider.get(clients_path(site["id"])), 404, "not_found")
        assert_problem(outsider.post(clients_path(site["id"]), json={"name": "x"}), 404, "not_found")
        assert_problem(outsider.get(path), 404, "not_found")
        assert_problem(outsider.put(path, json={"name": "taken over"}), 404, "not_found")
        assert_problem(outsider.post(f"{path}/rotate"), 404, "not_found")
        assert_problem(outsider.delete(path), 404, "not_found")
    # The client through another site's path, even one the caller manages.
    other_path = f"{clients_path(other_site['id'])}/{client['id']}"
    for method in ("get", "put", "delete"):
        assert_problem(getattr(stranger, method)(other_path, **({"json": {"name": "x"}} if method == "put" else {})), 404)
    assert_problem(stranger.post(f"{other_path}/rotate"), 404)
    assert_problem(owner.get(f"{clients_path(unique())}"), 404)
    assert counts(stack, CLIENT_TABLES) == before
    assert one_value(stack, f"SELECT name FROM api_clients WHERE id = '{client['id']}'") == client["name"]


def test_a_user_client_through_the_site_path_and_the_reverse_are_404(stack, people):
    site, owner, _, _ = team(people)
    user_client = owner.create_client()
    site_client = create_site_client(owner, site["id"])
    before = counts(stack, CLIENT_TABLES)
    wrong = [f"{clients_path(site['id'])}/{user_client['id']}", f"/api/user/api-clients/{site_client['id']}"]
    for path in wrong:
        assert_problem(owner.get(path), 404, "not_found")
        assert_problem(owner.put(path, json={"name": "moved"}), 404, "not_found")
        assert_problem(owner.post(f"{path}/rotate"), 404, "not_found")
        assert_problem(owner.delete(path), 404, "not_found")
    assert [c["id"] for c in assert_json(owner.get("/api/user/api-clients"))] == [user_client["id"]]
    assert counts(stack, CLIENT_TABLES) == before


def test_a_token_cannot_manage_site_clients(stack, people):
    site, owner, _, _ = team(people)
    for token in (owner.create_client()["token"], create_site_client(owner, site["id"])["token"]):
        bearer = owner.with_token(token)
        assert_problem(bearer.get(clients_path(site["id"])), 401)
        assert_problem(bearer.post(clients_path(site["id"]), json={"name": "x"}), 401)


# --- bad input: the right 4xx and nothing written ------------------------------------------------------

@pytest.mark.parametrize("body, code", [
    ({"name": "x", "scopes": ["user:read"]}, "invalid_scope"),
    ({"name": "x", "scopes": ["stats:read", "user:read"]}, "invalid_scope"),
    ({"name": "x", "scopes": []}, "invalid_scope"),
    ({"name": "x", "scopes": ["admin"]}, "invalid_scope"),
    ({"name": "x", "site_ids": []}, "invalid_site_ids"),
    ({"name": ""}, "invalid_name"),
    ({"name": "x", "expires_in_days": 0}, "invalid_expiry"),
])
def test_bad_input_is_refused_without_a_write(stack, people, body, code):
    site, owner, _, _ = team(people)
    before = counts(stack, CLIENT_TABLES)
    assert_problem(owner.post(clients_path(site["id"]), json=body), 400, code)
    assert counts(stack, CLIENT_TABLES) == before


def test_another_sites_id_is_refused_without_a_write(stack, people):
    site, owner, _, _ = team(people)
    other = owner.create_site()  # one the same person owns: still not this client's to reach
    before = counts(stack, CLIENT_TABLES)
    for site_ids in ([other["id"]], [site["id"], other["id"]], ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]):
        assert_problem(owner.post(clients_path(site["id"]), json={"name": "x", "site_ids": site_ids}), 403, "forbidden")
    assert_problem(owner.post(clients_path(site["id"]), json={"name": "x", "site_ids": ["not-a-site"]}), 400, "invalid_site_ids")
    assert counts(stack, CLIENT_TABLES) == before

    # Its own site, or null ("every site of the owner", which for a site is itself), change nothing.
    for site_ids in ([site["id"]], None):
        client = create_site_client(owner, site["id"], site_ids=site_ids)
        assert client["site_ids"] == [site["id"]]
    path = f"{clients_path(site['id'])}/{client['id']}"
    before = counts(stack, CLIENT_TABLES)
    assert_problem(owner.put(path, json={"name": "y", "site_ids": [other["id"]]}), 403, "forbidden")
    assert_problem(owner.put(path, json={"name": "y", "scopes": ["user:read"]}), 400, "invalid_scope")
    assert counts(stack, CLIENT_TABLES) == before
    assert assert_json(owner.get(path))["name"] == client["name"]
    assert assert_json(owner.put(path, json={"site_ids": None}))["site_ids"] == [site["id"]]
    assert [s["id"] for s in assert_json(owner.with_token(client["token"]).get("/api/sites"))] == [site["id"]]


# --- the command line and psql ---------------------------------------------------------------------------

def test_cli_creates_lists_and_deletes_a_sites_clients(stack, people):
    site, owner, _, _ = team(people)
    created = run_cli(stack, "client", "create", "--site", site["id"], "--name", "cron-import", "--scope", "ingest:write")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token_is_well_formed(token)
    response = owner.with_token(token).post("/api/ingest/server/pageview", json=pageview(site))
    assert response.status_code in (202, 204), response.text

    listed = run_cli(stack, "client", "list", "--site", site["id"], "--json")
    assert listed.returncode == 0, listed.stderr
    (client,) = json.loads(listed.stdout)
    assert (client["name"], client["scopes"], client["owner"], client["created_by"]) == \
        ("cron-import", ["ingest:write"], {"type": "site", "id": site["id"]}, None)
    assert token not in listed.stdout
    # Logged for the site's owners and admins, made by an operator.
    (entry,) = [e for e in owner.audit() if e["action"] == "api_client.created"]
    assert (entry["site_id"], entry["target_id"], entry["user_agent"]) == (site["id"], client["id"], "hitkeep-cli")

    # Deleted from the command line, it stops at the next request and is logged as its creation was.
    deleted = run_cli(stack, "client", "delete", "--site", site["id"], "--id", client["id"])
    assert deleted.returncode == 0, deleted.stderr
    assert_problem(owner.with_token(token).get(f"/api/sites/{site['id']}"), 401, "invalid_token")
    assert [e["target_id"] for e in owner.audit() if e["action"] == "api_client.deleted"] == [client["id"]]
    again = run_cli(stack, "client", "delete", "--site", site["id"], "--id", client["id"])
    assert again.returncode != 0 and client["id"] in again.stderr

    refused = run_cli(stack, "client", "create", "--site", site["id"], "--name", "x", "--scope", "user:read")
    assert refused.returncode != 0 and "user:read" in refused.stderr
    neither = run_cli(stack, "client", "list")
    assert neither.returncode != 0
    unknown = run_cli(stack, "client", "list", "--site", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert unknown.returncode != 0 and "01ARZ3NDEKTSV4RRFFQ69G5FAV" in unknown.stderr


def test_reporting_view_shows_the_owner_type(stack, people):
    site, owner, _, _ = team(people)
    site_client = create_site_client(owner, site["id"])
    user_client = owner.create_client()
    rows = stack.sql("SELECT client_id, owner_type, owner_site_id, owner_email, site_ids FROM reporting.api_clients "
                     f"WHERE client_id IN ('{site_client['id']}', '{user_client['id']}') ORDER BY owner_type")
    assert rows == [(site_client["id"], "site", site["id"], None, "{" + site["id"] + "}"),
                    (user_client["id"], "user", None, owner.user.email.lower(), None)]
