"""Who may see what (issue 3, "Isolation tests (three users, through nginx)"; API.md §2.1, §4).

Alice owns a site, Bob owns another and is a viewer on Alice's, Carol is an admin on Alice's. A site
one may not see answers 404 on every site route, exactly like one that does not exist; seeing it
without the role is 403; removing a member takes effect on the very next request; cross-origin
cookie writes are refused with 403 csrf_rejected while curl-style requests pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts import Api, assert_json, assert_problem, counts, people, unique_domain  # noqa: F401

NO_SUCH_SITE = "01JFKQ4Z7W3M9X0C5T2V8B6N1R"


@dataclass
class World:
    alice: Api
    bob: Api
    carol: Api
    alice_site: dict
    bob_site: dict


@pytest.fixture
def world(people) -> World:
    alice, bob, carol = people.new(name="Alice"), people.new(name="Bob"), people.new(name="Carol")
    alice_site = alice.create_site()
    bob_site = bob.create_site()
    alice.add_member(alice_site["id"], bob.user.email, "viewer")
    alice.add_member(alice_site["id"], carol.user.email, "admin")
    # An invitation becomes a membership with its person's next request.
    for member in (bob, carol):
        assert member.get("/api/user").status_code == 200
    return World(alice, bob, carol, alice_site, bob_site)


def _site_routes(site_id: str, user_id: str, email: str):
    return [
        ("GET", f"/api/sites/{site_id}", None),
        ("PUT", f"/api/sites/{site_id}", {"name": "taken over"}),
        ("DELETE", f"/api/sites/{site_id}", None),
        ("GET", f"/api/sites/{site_id}/members", None),
        ("POST", f"/api/sites/{site_id}/members", {"email": email, "role": "admin"}),
        ("DELETE", f"/api/sites/{site_id}/members/{user_id}", None),
    ]


def test_each_user_lists_only_own_and_shared_sites(world):
    def listed(api):
        return {(site["id"], site["role"]) for site in assert_json(api.get("/api/sites"))}

    assert listed(world.alice) == {(world.alice_site["id"], "owner")}
    assert listed(world.bob) == {(world.bob_site["id"], "owner"), (world.alice_site["id"], "viewer")}
    assert listed(world.carol) == {(world.alice_site["id"], "admin")}


def test_another_users_site_is_404_on_every_site_route_like_a_missing_one(stack, world):
    before = counts(stack, ["sites", "site_members"])
    for intruder in (world.alice, world.carol):
        for method, path, body in _site_routes(world.bob_site["id"], world.bob.user.id, intruder.user.email):
            hidden = intruder.request(method, path, json=body)
            missing = intruder.request(method, path.replace(world.bob_site["id"], NO_SUCH_SITE), json=body)
            assert_problem(hidden, 404, "not_found")
            assert_problem(missing, 404, "not_found")
            assert hidden.json() == missing.json(), f"{method} {path}: an existence oracle"
    assert counts(stack, ["sites", "site_members"]) == before
    assert assert_json(world.bob.get(f"/api/sites/{world.bob_site['id']}")) == world.bob_site


def test_a_viewer_can_read_but_not_update_delete_or_manage_members(stack, world):
    site_id = world.alice_site["id"]
    assert assert_json(world.bob.get(f"/api/sites/{site_id}"))["role"] == "viewer"
    assert_problem(world.bob.put(f"/api/sites/{site_id}", json={"name": "mine now"}), 403, "forbidden")
    assert_problem(world.bob.delete(f"/api/sites/{site_id}"), 403, "forbidden")
    assert_problem(world.bob.get(f"/api/sites/{site_id}/members"), 403, "forbidden")
    assert_problem(world.bob.post(f"/api/sites/{site_id}/members", json={"email": world.bob.user.email, "role": "admin"}),
                   403, "forbidden")
    assert_problem(world.bob.delete(f"/api/sites/{site_id}/members/{world.carol.user.id}"), 403, "forbidden")
    assert assert_json(world.alice.get(f"/api/sites/{site_id}")) == world.alice_site
    assert len(assert_json(world.alice.get(f"/api/sites/{site_id}/members"))) == 3


def test_an_admin_can_update_and_manage_members_but_not_delete(stack, world, people):
    site_id = world.alice_site["id"]
    updated = assert_json(world.carol.put(f"/api/sites/{site_id}", json={"name": "Renamed by admin"}))
    assert updated["name"] == "Renamed by admin" and updated["role"] == "admin"
    assert_problem(world.carol.delete(f"/api/sites/{site_id}"), 403, "forbidden")
    dave = people.create()
    world.carol.add_member(site_id, dave.email, "viewer")
    people.login(dave)
    assert world.carol.delete(f"/api/sites/{site_id}/members/{dave.id}").status_code == 204
    assert assert_json(world.alice.get(f"/api/sites/{site_id}"))["name"] == "Renamed by admin"


def test_removing_a_member_removes_access_at_once(stack, world):
    site_id = world.alice_site["id"]
    assert world.bob.get(f"/api/sites/{site_id}").status_code == 200
    response = world.alice.delete(f"/api/sites/{site_id}/members/{world.bob.user.id}")
    assert response.status_code == 204
    # The very next request, on whichever worker, and every one after it.
    for _ in range(8):
        assert_problem(world.bob.get(f"/api/sites/{site_id}"), 404, "not_found")
    assert site_id not in {site["id"] for site in assert_json(world.bob.get("/api/sites"))}


def test_removing_a_member_removes_access_of_their_tokens_too(stack, world):
    site_id = world.alice_site["id"]
    token = world.bob.create_client(scopes=["sites:read"])["token"]
    bearer = world.bob.with_token(token)
    assert bearer.get(f"/api/sites/{site_id}").status_code == 200
    assert world.alice.delete(f"/api/sites/{site_id}/members/{world.bob.user.id}").status_code == 204
    for _ in range(4):
        assert_problem(bearer.get(f"/api/sites/{site_id}"), 404, "not_found")
    assert {site["id"] for site in assert_json(bearer.get("/api/sites"))} == {world.bob_site["id"]}


def test_a_viewers_token_cannot_do_more_than_the_viewer(stack, world):
    site_id = world.alice_site["id"]
    bearer = world.bob.with_token(world.bob.create_client()["token"])
    assert_problem(bearer.put(f"/api/sites/{site_id}", json={"name": "via token"}), 403, "forbidden")
    assert_problem(bearer.delete(f"/api/sites/{site_id}"), 403, "forbidden")
    assert assert_json(world.alice.get(f"/api/sites/{site_id}")) == world.alice_site


# --- CSRF ---------------------------------------------------------------------------------------------

CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "SAME"},
]


def _writes(world, people_fixture):
    site_id = world.alice_site["id"]
    return [
        ("POST", "/api/sites", lambda: {"domain": unique_domain()}),
        ("PUT", f"/api/sites/{site_id}", lambda: {"name": "csrf"}),
        ("POST", f"/api/sites/{site_id}/members", lambda: {"email": people_fixture.create().email, "role": "viewer"}),
        ("DELETE", f"/api/sites/{site_id}/members/{world.bob.user.id}", lambda: None),
        ("POST", "/api/user/api-clients", lambda: {"name": "csrf"}),
        ("PUT", "/api/user/password", lambda: {"current_password": world.alice.user.password,
                                               "new_password": "csrf csrf csrf"}),
        ("DELETE", f"/api/sites/{site_id}", lambda: None),
        ("POST", "/api/logout", lambda: None),
    ]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items()))
def test_cross_origin_cookie_writes_are_refused(stack, world, people, headers):
    same_origin = world.alice.base_url
    headers = {key: (same_origin if value == "SAME" else value) for key, value in headers.items()}
    tables = ["sites", "site_members", "api_clients", "sessions"]
    for method, path, body in _writes(world, people):
        before = counts(stack, tables)
        response = world.alice.request(method, path, json=body(), headers=headers)
        assert_problem(response, 403, "csrf_rejected")
        assert counts(stack, tables) == before, f"{method} {path} wrote despite the refusal"
    assert world.alice.get("/api/user").status_code == 200, "the session survived the refused logout"
    assert assert_json(world.alice.get(f"/api/sites/{world.alice_site['id']}")) == world.alice_site


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "SAME"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "SAME"},
], ids=["curl", "same-origin", "sec-fetch-same-origin", "sec-fetch-none", "both"])
def test_same_origin_and_curl_style_cookie_writes_pass(stack, world, people, headers):
    same_origin = world.alice.base_url
    headers = {key: (same_origin if value == "SAME" else value) for key, value in headers.items()}
    expected = {"POST": {201, 204}, "PUT": {200, 204}, "DELETE": {204}}
    for method, path, body in _writes(world, people):
        response = world.alice.request(method, path, json=body(), headers=headers)
        assert response.status_code in expected[method], f"{method} {path}: {response.status_code} {response.text}"
        if path == "/api/user/password":
            world.alice.user.password = "csrf csrf csrf"


def test_cross_origin_reads_and_bearer_writes_are_not_csrf(stack, world):
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert world.alice.get("/api/sites", headers=evil).status_code == 200
    # A bearer token is not ambient authority: a browser never attaches it by itself.
    bearer = world.alice.with_token(world.alice.create_client()["token"])
    assert bearer.post("/api/sites", json={"domain": unique_domain()}, headers=evil).status_code == 201


def test_csrf_uses_the_configured_public_origin(stack, people):
    from accounts import deployment
    own = deployment(stack, environment={"HITKEEP_PUBLIC_URL": "https://stats.example.com/"})
    person = people.create()
    api = people.login(person)
    # Under an https public URL the session cookie is __Host-hk_token.
    here = Api(own.base_url, cookie=api.cookie, cookie_name="__Host-hk_token")
    body = lambda: {"domain": unique_domain()}  # noqa: E731
    assert here.post("/api/sites", json=body(), headers={"Origin": "https://stats.example.com"}).status_code == 201
    assert here.post("/api/sites", json=body(), headers={"Origin": "https://STATS.example.com"}).status_code == 201
    for origin in (own.base_url, "http://stats.example.com", "https://stats.example.com:8443", "https://evil.example"):
        assert_problem(here.post("/api/sites", json=body(), headers={"Origin": origin}), 403, "csrf_rejected")

