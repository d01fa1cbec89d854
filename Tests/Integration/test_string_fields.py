"""SQL metacharacters and NUL bytes in every string field of issues 3 and 4 (issue 3, "Bad input"):
never a 5xx, never a partial write; a NUL is refused with a 4xx wherever the value would be stored
(PostgreSQL text cannot hold one, and silently cutting it off would store something else); SQL
metacharacters are either refused or stored verbatim."""

from __future__ import annotations

import pytest

from accounts import Api, assert_problem, counts, empty_deployment, people, unique_domain  # noqa: F401

NUL = "before\u0000after"
SQL = "x'); DROP TABLE users; --\"\\"
TABLES = ["users", "sessions", "sites", "site_members", "api_clients", "api_client_tokens", "api_client_sites",
          "audit_log"]

# (case id, method, path, body builder(api, site, client, value) → body, field, stored-only-as-a-hash)
FIELDS = [
    ("login.email", "POST", "/api/login", lambda a, s, c, v: {"email": v, "password": "whatever it is"}, "email", False),
    ("login.password", "POST", "/api/login", lambda a, s, c, v: {"email": a.user.email, "password": v}, "password", True),
    ("password.current", "PUT", "/api/user/password",
     lambda a, s, c, v: {"current_password": v, "new_password": "a fine new password"}, "current_password", True),
    ("password.new", "PUT", "/api/user/password",
     lambda a, s, c, v: {"current_password": a.user.password, "new_password": v + "padding!"}, "new_password", True),
    ("site.create.domain", "POST", "/api/sites", lambda a, s, c, v: {"domain": v}, "domain", False),
    ("site.create.name", "POST", "/api/sites", lambda a, s, c, v: {"domain": unique_domain(), "name": v}, "name", False),
    ("site.create.timezone", "POST", "/api/sites", lambda a, s, c, v: {"domain": unique_domain(), "timezone": v},
     "timezone", False),
    ("site.update.name", "PUT", "/api/sites/{site}", lambda a, s, c, v: {"name": v}, "name", False),
    ("site.update.timezone", "PUT", "/api/sites/{site}", lambda a, s, c, v: {"timezone": v}, "timezone", False),
    ("member.email", "POST", "/api/sites/{site}/members", lambda a, s, c, v: {"email": v, "role": "viewer"}, "email", False),
    ("member.role", "POST", "/api/sites/{site}/members", lambda a, s, c, v: {"email": "MEMBER", "role": v}, "role", False),
    ("client.create.name", "POST", "/api/user/api-clients", lambda a, s, c, v: {"name": v}, "name", False),
    ("client.create.description", "POST", "/api/user/api-clients", lambda a, s, c, v: {"name": "n", "description": v},
     "description", False),
    ("client.create.scopes", "POST", "/api/user/api-clients", lambda a, s, c, v: {"name": "n", "scopes": [v]},
     "scopes", False),
    ("client.create.site_ids", "POST", "/api/user/api-clients", lambda a, s, c, v: {"name": "n", "site_ids": [v]},
     "site_ids", False),
    ("client.create.expires_at", "POST", "/api/user/api-clients", lambda a, s, c, v: {"name": "n", "expires_at": v},
     "expires_at", False),
    ("client.update.name", "PUT", "/api/user/api-clients/{client}", lambda a, s, c, v: {"name": v}, "name", False),
    ("client.update.description", "PUT", "/api/user/api-clients/{client}", lambda a, s, c, v: {"description": v},
     "description", False),
    ("client.update.scopes", "PUT", "/api/user/api-clients/{client}", lambda a, s, c, v: {"scopes": [v]}, "scopes", False),
    ("client.update.site_ids", "PUT", "/api/user/api-clients/{client}", lambda a, s, c, v: {"site_ids": [v]},
     "site_ids", False),
    ("client.update.expires_at", "PUT", "/api/user/api-clients/{client}", lambda a, s, c, v: {"expires_at": v},
     "expires_at", False),
]


@pytest.mark.parametrize("value", [NUL, SQL], ids=["nul", "sql"])
@pytest.mark.parametrize("case", FIELDS, ids=[case[0] for case in FIELDS])
def test_string_field(stack, people, case, value):
    _, method, path, build, field, hashed = case
    api = people.new()
    member = people.create()
    site = api.create_site()
    client = api.create_client()
    path = path.replace("{site}", site["id"]).replace("{client}", client["id"])
    body = build(api, site, client, value)
    body = {key: (member.email if item == "MEMBER" else item) for key, item in body.items()}
    if path == "/api/login":
        people.emails.add(str(body["email"]).lower())
    before = counts(stack, TABLES)

    response = api.request(method, path, json=body, cookie=None if path == "/api/login" else api.cookie)

    assert response.status_code < 500, f"{response.status_code} {response.text}"
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
        after = counts(stack, TABLES)
        if path == "/api/login" or (path == "/api/user/password" and response.status_code == 403):
            # A refused sign-in or password change writes its audit entry (login.failed,
            # password.change_failed), nothing else.
            after["audit_log"] = before["audit_log"]
        assert after == before, "a refused request wrote something"
    else:
        assert not (value == NUL and not hashed), f"a NUL byte in {field} was accepted: {response.text}"
        stored = response.json() if response.content else {}
        if isinstance(stored.get(field), str) and not hashed:
            assert stored[field] == value.strip(), "stored verbatim"
    # Every table is still there and readable.
    assert set(counts(stack, TABLES)) == set(TABLES)


@pytest.mark.parametrize("value", [NUL, SQL], ids=["nul", "sql"])
@pytest.mark.parametrize("field", ["email", "password", "name"])
def test_initial_user_string_field(stack, empty_deployment, field, value):
    body = {"email": "first@example.com", "password": "a good long password", "name": "First"}
    body[field] = value if field != "password" else value + "padding!"
    response = Api(empty_deployment.base_url).post("/api/initial-user", json=body)
    assert response.status_code < 500, response.text
    if response.status_code == 201:
        try:
            assert field == "password" or (value == SQL and field == "name"), f"accepted {field}={value!r}"
            assert response.json()[field if field != "password" else "email"] == body[field if field != "password" else "email"]
        finally:
            empty_deployment.sql("DELETE FROM users")
    else:
        assert_problem(response, response.status_code)
        assert empty_deployment.sql("SELECT count(*) FROM users") == [("0",)]
