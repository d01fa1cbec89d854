"""The `hk_token` session cookie (issue 3, API.md §2.1): attributes, what is stored, sliding renewal,
the absolute limit, and every way a cookie can be bad (garbage, expired, ended, of a deleted user)."""

from __future__ import annotations

import hashlib
import time

import pytest

from accounts import (Api, assert_json, assert_problem, cookie_attributes, deployment, one_value,  # noqa: F401
                      parse_challenge, people, session_cookie, set_cookies, where_stored)

WEEK = 7 * 86400


def _hash_literal(cookie: str) -> str:
    return "'\\x" + hashlib.sha256(cookie.encode()).hexdigest() + "'::bytea"


def _session(stack, cookie: str, database: str = "hitkeep") -> dict:
    rows = stack.sql(f"""
        SELECT extract(epoch FROM expires_at - now())::int, extract(epoch FROM absolute_expires_at - now())::int,
               extract(epoch FROM now() - last_seen_at)::int
        FROM sessions WHERE token_hash = {_hash_literal(cookie)}""", database=database)
    assert len(rows) == 1, rows
    expires_in, absolute_in, seen_ago = map(int, rows[0])
    return {"expires_in": expires_in, "absolute_in": absolute_in, "seen_ago": seen_ago}


def _only_cookie(response) -> tuple[str, str, dict]:
    cookies = set_cookies(response)
    assert len(cookies) == 1, cookies
    return cookie_attributes(cookies[0])


def _assert_cleared(response) -> None:
    name, value, attributes = _only_cookie(response)
    assert (name, value, attributes.get("max-age")) == ("hk_token", "", "0")


# --- the cookie as set --------------------------------------------------------------------------------

def test_cookie_is_httponly_lax_root_with_max_age_and_only_its_hash_is_stored(stack, people):
    person = people.create()
    response = Api(stack.base_url).post("/api/login", json={"email": person.email, "password": person.password})
    name, value, attributes = _only_cookie(response)
    assert name == "hk_token"
    assert attributes == {"path": "/", "max-age": str(WEEK), "httponly": True, "samesite": "Lax"}
    session = _session(stack, value)
    assert WEEK - 10 <= session["expires_in"] <= WEEK
    assert 30 * 86400 - 10 <= session["absolute_in"] <= 30 * 86400
    assert where_stored(stack, [value]) == [], "the cookie secret itself must not be stored anywhere"


def test_cookie_is_secure_when_the_public_url_is_https(stack, people):
    own = deployment(stack, environment={"HITKEEP_PUBLIC_URL": "https://stats.example.com"})
    person = people.create()
    response = Api(own.base_url).post("/api/login", json={"email": person.email, "password": person.password})
    name, value, attributes = _only_cookie(response)
    assert name == "__Host-hk_token", "over https the cookie carries the __Host- prefix"
    assert attributes.get("secure") is True and attributes.get("path") == "/" and "domain" not in attributes
    assert attributes.get("httponly") is True and attributes.get("samesite") == "Lax"
    # Logout clears it with the same attributes, Secure included.
    logout = Api(own.base_url, cookie=value, cookie_name=name).post("/api/logout", headers={"Origin": "https://stats.example.com"})
    assert logout.status_code == 204, logout.text
    name, cleared, attributes = _only_cookie(logout)
    assert name == "__Host-hk_token"
    assert cleared == "" and attributes.get("secure") is True and attributes.get("max-age") == "0"


def test_cookie_is_not_secure_when_the_public_url_is_http(stack, people):
    own = deployment(stack, environment={"HITKEEP_PUBLIC_URL": "http://stats.example.com"})
    person = people.create()
    response = Api(own.base_url).post("/api/login", json={"email": person.email, "password": person.password})
    assert "secure" not in _only_cookie(response)[2]


def test_session_lifetime_comes_from_the_environment(stack, people):
    own = deployment(stack, environment={"HITKEEP_SESSION_HOURS": "2"})
    person = people.create()
    response = Api(own.base_url).post("/api/login", json={"email": person.email, "password": person.password})
    _, value, attributes = _only_cookie(response)
    assert attributes["max-age"] == "7200"
    assert 7190 <= _session(stack, value)["expires_in"] <= 7200


# --- sliding renewal and the absolute limit ------------------------------------------------------------

def test_session_is_renewed_only_when_less_than_half_remains(stack, people):
    api = people.new()
    fresh = api.get("/api/user")
    assert fresh.status_code == 200
    assert set_cookies(fresh) == [], "more than half remains: no renewal"

    stack.sql(f"UPDATE sessions SET expires_at = now() + interval '3 days 12 hours' + interval '1 minute' "
              f"WHERE token_hash = {_hash_literal(api.cookie)}")
    assert set_cookies(api.get("/api/user")) == [], "just over half remains: no renewal yet"

    stack.sql(f"UPDATE sessions SET expires_at = now() + interval '3 days' WHERE token_hash = {_hash_literal(api.cookie)}")
    renewed = api.get("/api/user")
    assert renewed.status_code == 200
    name, value, attributes = _only_cookie(renewed)
    assert (name, value) == ("hk_token", api.cookie), "renewal keeps the secret"
    assert WEEK - 10 <= int(attributes["max-age"]) <= WEEK
    assert attributes.get("httponly") is True and attributes.get("samesite") == "Lax" and attributes.get("path") == "/"
    assert WEEK - 10 <= _session(stack, api.cookie)["expires_in"] <= WEEK
    assert set_cookies(api.get("/api/user")) == [], "renewed once, not on every request"


def test_renewal_never_passes_the_absolute_limit(stack, people):
    api = people.new()
    stack.sql(f"UPDATE sessions SET expires_at = now() + interval '30 minutes', "
              f"absolute_expires_at = now() + interval '1 hour' WHERE token_hash = {_hash_literal(api.cookie)}")
    renewed = api.get("/api/user")
    assert renewed.status_code == 200
    max_age = int(_only_cookie(renewed)[2]["max-age"])
    assert 3500 <= max_age <= 3600, max_age
    assert 3500 <= _session(stack, api.cookie)["expires_in"] <= 3600

    stack.sql(f"UPDATE sessions SET absolute_expires_at = now() - interval '1 second' "
              f"WHERE token_hash = {_hash_literal(api.cookie)}")
    refused = api.get("/api/user")
    assert_problem(refused, 401, "unauthenticated")
    _assert_cleared(refused)


def test_last_seen_is_kept_to_the_minute(stack, people):
    api = people.new()
    stack.sql(f"UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE token_hash = {_hash_literal(api.cookie)}")
    assert api.get("/api/user").status_code == 200
    assert _session(stack, api.cookie)["seen_ago"] <= 5


# --- bad cookies ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cookie", [
    "garbage",
    "",
    "A" * 43,
    "!" * 43,
    "x" * 4000,
    "' OR '1'='1",
    "%00%00%00",
    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
])
def test_a_garbage_cookie_is_401_and_cleared(stack, cookie):
    api = Api(stack.base_url, cookie=cookie)
    for method, path in [("GET", "/api/user"), ("GET", "/api/sites"), ("GET", "/api/user/api-clients"),
                         ("POST", "/api/logout"), ("GET", "/api/user/audit-log")]:
        response = api.request(method, path)
        assert_problem(response, 401, "unauthenticated")
        _assert_cleared(response)


def test_an_expired_cookie_is_401(stack, people):
    api = people.new()
    stack.sql(f"UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = {_hash_literal(api.cookie)}")
    for _ in range(4):
        response = api.get("/api/user")
        assert_problem(response, 401, "unauthenticated")
        _assert_cleared(response)
    # An expired session is never brought back by a request.
    assert _session(stack, api.cookie)["expires_in"] < 0


def test_a_cookie_of_a_deleted_session_is_401(stack, people):
    api = people.new()
    stack.sql(f"DELETE FROM sessions WHERE token_hash = {_hash_literal(api.cookie)}")
    for path in ("/api/user", "/api/sites", "/api/user/api-clients"):
        response = api.get(path)
        assert_problem(response, 401, "unauthenticated")
        _assert_cleared(response)


def test_a_cookie_of_a_deleted_user_is_401(stack, people):
    api = people.new()
    stack.sql(f"DELETE FROM users WHERE id = '{api.user.id}'")
    assert_problem(api.get("/api/user"), 401, "unauthenticated")


def test_no_credentials_on_a_bearer_capable_endpoint_is_a_bearer_challenge(stack):
    for path in ("/api/user", "/api/sites"):
        response = Api(stack.base_url).get(path)
        assert_problem(response, 401, "unauthenticated")
        assert response.headers.get("WWW-Authenticate") == 'Bearer realm="hitkeep"'
        assert set_cookies(response) == []


def test_sessions_are_per_sign_in(stack, people):
    person = people.create()
    first, second = people.login(person), people.login(person)
    assert first.cookie != second.cookie
    assert one_value(stack, f"SELECT count(*) FROM sessions WHERE user_id = '{person.id}'") == "2"
    assert first.post("/api/logout").status_code == 204
    assert second.get("/api/user").status_code == 200, "ending one session leaves the others"
