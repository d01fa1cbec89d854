"""Accounts (issue 3, API.md §2.2, §6): first-run setup, sign-in, sign-out, the user, password
changes, the audit log, sign-in throttling and the bad input each of them must refuse with a 4xx.

Through nginx and real PostgreSQL. Tests that need an empty `users` table or other throttling limits
run a pool of their own on a database of their own, so that the shared database's state (and its
failed-login budget for 127.0.0.1) is not disturbed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import re
import threading
import time

import pytest

from accounts import (PASSWORD, TIME_RE, ULID_RE, USER_KEYS, Api, assert_json, assert_problem,
                      cookie_attributes, counts, deployment, empty_deployment,  # noqa: F401
                      one_value, people, session_cookie, set_cookies, unique_email)


# --- first-run setup ----------------------------------------------------------------------------------

def test_initial_user_is_created_once_on_an_empty_database(stack):
    own = deployment(stack, fresh_database=True)
    api = Api(own.base_url)
    assert assert_json(api.get("/api/status"))["needs_setup"] is True

    email = unique_email("first")
    response = api.post("/api/initial-user", json={"email": f"  {email}  ", "password": PASSWORD, "name": "First One"})
    user = assert_json(response, 201)
    assert set(user) == USER_KEYS
    assert ULID_RE.match(user["id"])
    assert user["email"] == email, "the email is stored trimmed"
    assert user["name"] == "First One"
    assert TIME_RE.match(user["created_at"])
    cookie = session_cookie(response)
    assert cookie and re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)

    # The first user is an instance admin, and signed in.
    assert one_value(stack, f"SELECT is_admin FROM users WHERE id = '{user['id']}'", database=own.database) == "t"
    assert assert_json(Api(own.base_url, cookie=cookie).get("/api/user")) == user
    assert assert_json(api.get("/api/status"))["needs_setup"] is False

    # Only while no user exists.
    again = api.post("/api/initial-user", json={"email": unique_email(), "password": PASSWORD})
    assert_problem(again, 403, "setup_completed")
    assert session_cookie(again) is None
    assert one_value(stack, "SELECT count(*) FROM users", database=own.database) == "1"
    assert one_value(stack, "SELECT count(*) FROM sessions", database=own.database) == "1"


@pytest.mark.parametrize("body, code", [
    (b'{"email": "a@example.com", "password": ', "invalid_json"),
    (b'[]', "invalid_json"),
    (b'', "invalid_json"),
    (b'{"email": "a@example.com", "password": "long enough pass", "admin": true}', "invalid_json"),
    (b'{"email": 7, "password": "long enough pass"}', "invalid_json"),
    (b'{"email": "a@example.com", "password": ["long enough pass"]}', "invalid_json"),
    (b'{"email": "a@example.com", "password": "long enough pass", "name": 5}', "invalid_json"),
    (b'{"password": "long enough pass"}', None),
    (b'{"email": "a@example.com"}', None),
    (b'{"email": "", "password": "long enough pass"}', None),
    (b'{"email": "not-an-email", "password": "long enough pass"}', None),
    (b'{"email": "a\\u0000b@example.com", "password": "long enough pass"}', None),
    (b'{"email": "' + b"a" * 10240 + b'@example.com", "password": "long enough pass"}', None),
    (b'{"email": "a@example.com", "password": "short"}', None),
    (b'{"email": "a@example.com", "password": "' + b"p" * 1025 + b'"}', None),
    (b'{"email": "a@example.com", "password": "long enough pass", "name": "' + b"n" * 10240 + b'"}', "invalid_name"),
    (b'{"email": "a@example.com", "password": "long enough pass", "name": "nul\\u0000name"}', "invalid_name"),
    (b'{"email": "a@example.com", "password": "long enough pass", "name": "bell\\u0007"}', "invalid_name"),
    (b'{"email": "\xff\xfe@example.com", "password": "long enough pass"}', "invalid_json"),
    (b'{"email": "a@example.com", "password": "long enough pass", "name": "\\ud800"}', "invalid_json"),
    (b'{"email": "a@example.com", "email": "b@example.com", "password": "long enough pass"}', "invalid_json"),
])
def test_initial_user_refuses_bad_input_without_writing(stack, empty_deployment, body, code):
    response = Api(empty_deployment.base_url).post("/api/initial-user", data=body,
                                                   headers={"Content-Type": "application/json"})
    assert_problem(response, 400, code)
    assert session_cookie(response) is None
    assert counts(stack, ["users", "sessions", "audit_log"], database=empty_deployment.database) == \
        {"users": 0, "sessions": 0, "audit_log": 0}
    assert assert_json(Api(empty_deployment.base_url).get("/api/status"))["needs_setup"] is True


def test_concurrent_initial_user_requests_make_exactly_one_user(stack):
    own = deployment(stack, fresh_database=True, workers=4)
    barrier = threading.Barrier(6)

    def attempt(number):
        api = Api(own.base_url)
        barrier.wait(timeout=10)
        return api.post("/api/initial-user", json={"email": unique_email(f"race{number}-"), "password": PASSWORD})

    with concurrent.futures.ThreadPoolExecutor(6) as executor:
        responses = list(executor.map(attempt, range(6)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 403, 403, 403, 403, 403], [response.text for response in responses]
    for response in responses:
        if response.status_code == 403:
            assert_problem(response, 403, "setup_completed")
    assert one_value(stack, "SELECT count(*) FROM users", database=own.database) == "1"


# --- sign-in ------------------------------------------------------------------------------------------

def test_login_returns_the_user_and_a_session_cookie(stack, people):
    person = people.create(name="Ada")
    api = Api(stack.base_url)
    response = api.post("/api/login", json={"email": person.email, "password": person.password},
                        headers={"User-Agent": "accounts-test/1.0"})
    body = assert_json(response)
    assert body["status"] == "ok"
    assert body["user"]["id"] == person.id
    assert body["user"]["email"] == person.email
    assert body["user"]["name"] == "Ada"
    assert "password" not in response.text and "argon2" not in response.text

    cookies = set_cookies(response)
    assert len(cookies) == 1, cookies
    name, value, attributes = cookie_attributes(cookies[0])
    assert name == "hk_token"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), "32 random bytes, base64url"
    assert attributes.get("httponly") is True
    assert attributes.get("samesite", "").lower() == "lax"
    assert attributes.get("path") == "/"
    assert attributes.get("max-age") == str(7 * 86400)
    assert "secure" not in attributes, "no https public URL is configured"

    # Only the SHA-256 of the secret is stored, with the user agent.
    digest = hashlib.sha256(value.encode()).hexdigest()
    rows = stack.sql(f"SELECT user_id, user_agent FROM sessions WHERE token_hash = '\\x{digest}'::bytea")
    assert rows == [(person.id, "accounts-test/1.0")]


def test_login_email_is_trimmed_and_case_insensitive(stack, people):
    person = people.create(email=unique_email("MiXeD"))
    api = Api(stack.base_url)
    for typed in (person.email.upper(), f"  {person.email.lower()}\t", person.email.swapcase()):
        response = api.post("/api/login", json={"email": typed, "password": person.password})
        assert assert_json(response)["user"]["id"] == person.id, typed


def test_unknown_email_and_wrong_password_are_indistinguishable(stack, people):
    person = people.create()
    unknown = unique_email("nobody")
    wrong = people.failed_login(person.email, "not the password")
    missing = people.failed_login(unknown, "not the password")
    for response in (wrong, missing):
        assert_problem(response, 401, "invalid_credentials")
        assert session_cookie(response) is None
    assert wrong.json() == missing.json()
    assert set(wrong.headers) - {"Date"} == set(missing.headers) - {"Date"}

    # Similar in time: an unknown email is verified against a decoy hash, not answered at once.
    # Interleaved samples, compared by their minimum (the least disturbed by other load on the host);
    # the throttle rows are cleared as we go so that neither email reaches its limit.
    samples = {person.email: [], unknown: []}
    for round_number in range(8):
        for email in samples:
            started = time.perf_counter()
            people.failed_login(email, "not the password")
            samples[email].append(time.perf_counter() - started)
        if round_number % 4 == 3:
            people.sql("DELETE FROM login_failures WHERE email IN ('%s', '%s')" % (person.email.lower(), unknown))
    known_time, unknown_time = min(samples[person.email]), min(samples[unknown])
    ratio = unknown_time / known_time
    assert 0.5 < ratio < 2.0, f"unknown email {unknown_time * 1000:.1f} ms vs wrong password {known_time * 1000:.1f} ms"


def test_password_is_stored_as_argon2id_with_the_documented_floor(stack, people):
    person = people.create()
    stored = one_value(stack, f"SELECT password_hash FROM users WHERE id = '{person.id}'")
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+", stored)
    assert match, stored
    memory, iterations, _ = map(int, match.groups())
    assert memory >= 19 * 1024 and iterations >= 2
    assert person.password not in stored


def test_get_user_is_the_signed_in_user_only(stack, people):
    api = people.new(name="Grace Hopper")
    body = assert_json(api.get("/api/user"))
    assert set(body) == USER_KEYS
    assert body == {"id": api.user.id, "email": api.user.email, "name": "Grace Hopper", "created_at": body["created_at"]}
    assert TIME_RE.match(body["created_at"])


# --- sign-out -----------------------------------------------------------------------------------------

def test_logout_deletes_the_session_and_clears_the_cookie(stack, people):
    api = people.new()
    digest = hashlib.sha256(api.cookie.encode()).hexdigest()
    assert one_value(stack, f"SELECT count(*) FROM sessions WHERE token_hash = '\\x{digest}'::bytea") == "1"

    response = api.post("/api/logout")
    assert response.status_code == 204, response.text
    assert response.content == b""
    cookies = set_cookies(response)
    assert len(cookies) == 1
    name, value, attributes = cookie_attributes(cookies[0])
    assert (name, value, attributes.get("max-age"), attributes.get("path")) == ("hk_token", "", "0", "/")
    assert one_value(stack, f"SELECT count(*) FROM sessions WHERE token_hash = '\\x{digest}'::bytea") == "0"

    # The old cookie no longer works, on any worker.
    for _ in range(6):
        assert_problem(api.get("/api/user"), 401, "unauthenticated")
    assert_problem(api.post("/api/logout"), 401, "unauthenticated")


def test_logout_needs_a_session(stack):
    assert_problem(Api(stack.base_url).post("/api/logout"), 401, "unauthenticated")


# --- password change ----------------------------------------------------------------------------------

def test_password_change_checks_the_current_password_and_ends_other_sessions(stack, people):
    person = people.create()
    here = people.login(person)
    elsewhere = people.login(person)
    new_password = "a brand new passphrase"

    wrong = here.put("/api/user/password", json={"current_password": "not it at all", "new_password": new_password})
    assert_problem(wrong, 403, "invalid_credentials")
    weak = here.put("/api/user/password", json={"current_password": person.password, "new_password": "short"})
    assert_problem(weak, 400)  # the code is not documented
    # Neither changed anything: the other session and the old password still work.
    assert elsewhere.get("/api/user").status_code == 200
    before = one_value(stack, f"SELECT password_hash FROM users WHERE id = '{person.id}'")

    changed = here.put("/api/user/password", json={"current_password": person.password, "new_password": new_password})
    assert changed.status_code == 204, changed.text
    assert changed.content == b""
    assert one_value(stack, f"SELECT password_hash FROM users WHERE id = '{person.id}'") != before

    assert here.get("/api/user").status_code == 200, "the session that changed it lives on"
    for _ in range(4):
        assert_problem(elsewhere.get("/api/user"), 401, "unauthenticated")
    assert one_value(stack, f"SELECT count(*) FROM sessions WHERE user_id = '{person.id}'") == "1"

    assert_problem(people.failed_login(person.email, person.password), 401, "invalid_credentials")
    person.password = new_password
    assert people.login(person).get("/api/user").status_code == 200


@pytest.mark.parametrize("body", [
    b'{"current_password": "x"',
    b'{"current_password": 1, "new_password": "long enough pass"}',
    b'{"current_password": "correct horse battery staple"}',
    b'{"new_password": "long enough pass"}',
    b'{"current_password": "correct horse battery staple", "new_password": "long enough pass", "user_id": "x"}',
    b'{"current_password": "correct horse battery staple", "new_password": "' + b"n" * 1025 + b'"}',
    b'{"current_password": "correct horse battery staple", "new_password": "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"}',
])
def test_password_change_refuses_bad_input(stack, people, body):
    person = people.create()
    api = people.login(person)
    before = one_value(stack, f"SELECT password_hash FROM users WHERE id = '{person.id}'")
    response = api.put("/api/user/password", data=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
    assert one_value(stack, f"SELECT password_hash FROM users WHERE id = '{person.id}'") == before


def test_password_with_nul_and_sql_characters_round_trips(stack, people):
    """Passwords are opaque bytes to Argon2: odd characters must neither break storage nor sign-in."""
    person = people.create()
    api = people.login(person)
    odd = "it's'; DROP TABLE users;--\u0000\u00e9\U0001F600"
    changed = api.put("/api/user/password", json={"current_password": person.password, "new_password": odd})
    assert changed.status_code in (204, 400), changed.text
    if changed.status_code == 204:
        person.password = odd
        assert people.login(person).get("/api/user").status_code == 200
        # A prefix of the password (what a C string would keep) must not be enough.
        assert_problem(people.failed_login(person.email, "it's'; DROP TABLE users;--"), 401, "invalid_credentials")
    else:
        assert_problem(changed, 400)
    assert one_value(stack, "SELECT count(*) > 0 FROM users") == "t"


# --- sign-in bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("body, status, code", [
    (b'{"email": "a@example.com", "password": "x"', 400, "invalid_json"),
    (b'"a@example.com"', 400, "invalid_json"),
    (b'', 400, "invalid_json"),
    (b'{"email": "a@example.com", "password": "long enough pass", "remember": true}', 400, "invalid_json"),
    (b'{"email": ["a@example.com"], "password": "long enough pass"}', 400, "invalid_json"),
    (b'{"email": "a@example.com", "password": 12345678}', 400, "invalid_json"),
    (b'{"password": "long enough pass"}', 400, None),
    (b'{"email": "a@example.com"}', 400, None),
    (b'{"email": "", "password": "long enough pass"}', 400, None),
    (b'{"email": "' + b"e" * 10240 + b'@example.com", "password": "long enough pass"}', 400, None),
    (b'{"email": "a\\u0000@example.com", "password": "long enough pass"}', 400, None),
    (b'{"email": "\xc3\x28@example.com", "password": "long enough pass"}', 400, "invalid_json"),
    (b'{"email": "x\'OR\'1\'=\'1\'--@example.com", "password": "\' OR \'1\'=\'1"}', 401, "invalid_credentials"),
    (b'{"email": "SOMEONE@example.com", "password": "' + b"p" * 10240 + b'"}', 401, "invalid_credentials"),
    (b'{"email": "someone@example.com", "password": "nul\\u0000nul"}', 401, "invalid_credentials"),
])
def test_login_refuses_bad_input(stack, people, body, status, code):
    people.emails.update({"a@example.com", "someone@example.com", "x'or'1'='1'--@example.com"})
    response = Api(stack.base_url).post("/api/login", data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, status, code)
    assert session_cookie(response) is None
    assert one_value(stack, "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                            "WHERE lower(u.email) IN ('a@example.com', 'someone@example.com')") == "0"


def test_login_with_a_non_utf8_user_agent_still_works(stack, people):
    person = people.create()
    response = Api(stack.base_url).post("/api/login", json={"email": person.email, "password": person.password},
                                        headers={"User-Agent": b"Mozilla/5.0 (caf\xe9; \xff)"})
    assert_json(response)
    assert session_cookie(response)


# --- audit log ----------------------------------------------------------------------------------------

def test_audit_log_records_sign_in_events_with_actor_ip_and_user_agent(stack, people):
    person = people.create()
    assert_problem(people.failed_login(person.email, "wrong password"), 401, "invalid_credentials")
    api = people.login(person, user_agent="audit-test/2.0")
    other = people.login(person, user_agent="audit-test/other")
    assert other.post("/api/logout").status_code == 204
    changed = api.put("/api/user/password", json={"current_password": person.password, "new_password": "new passphrase!"},
                      headers={"User-Agent": "audit-test/3.0"})
    assert changed.status_code == 204

    entries = api.audit()
    actions = [entry["action"] for entry in entries]
    assert actions == ["password.changed", "logout", "login.succeeded", "login.succeeded", "login.failed"], actions
    for entry in entries:
        assert set(entry) == {"id", "at", "action", "actor", "target_id", "site_id", "detail", "ip", "user_agent"}
        assert ULID_RE.match(entry["id"]) and TIME_RE.match(entry["at"])
        assert entry["ip"] == "127.0.0.1"
        assert entry["actor"]["type"] == "user"
    assert entries[0]["actor"]["id"] == person.id and entries[0]["user_agent"] == "audit-test/3.0"
    assert [entry["user_agent"] for entry in entries[2:4]] == ["audit-test/other", "audit-test/2.0"]
    assert [entry["at"] for entry in entries] == sorted((entry["at"] for entry in entries), reverse=True)

    assert len(api.audit(limit=2)) == 2
    for bad in ("0", "-1", "abc", "100000", "1.5"):
        assert_problem(api.get(f"/api/user/audit-log?limit={bad}"), 400)

    # Nobody else's events.
    stranger = people.new()
    assert [entry["action"] for entry in stranger.audit()] == ["login.succeeded"]


def test_audit_log_needs_a_session(stack):
    assert_problem(Api(stack.base_url).get("/api/user/audit-log"), 401, "unauthenticated")


# --- throttling ---------------------------------------------------------------------------------------

def _retry_after(response) -> int:
    value = response.headers.get("Retry-After")
    assert value and value.isdigit(), response.headers
    return int(value)


def test_ten_failures_for_one_email_are_throttled_with_429(stack):
    own = deployment(stack, fresh_database=True)  # default limits, a failure budget of its own
    person = own.people.create()
    for attempt in range(10):
        assert_problem(own.people.failed_login(person.email.upper()), 401, "invalid_credentials")
    refused = own.people.failed_login(person.email)
    assert_problem(refused, 429, "too_many_attempts")
    assert 0 < _retry_after(refused) <= 15 * 60
    # Even the right password waits now; a person with another email does not.
    right = Api(own.base_url).post("/api/login", json={"email": person.email, "password": person.password})
    assert_problem(right, 429, "too_many_attempts")
    assert session_cookie(right) is None
    someone_else = own.people.create()
    assert own.people.login(someone_else).get("/api/user").status_code == 200
    # The window passing (simulated) lets the person in again.
    own.sql("UPDATE login_failures SET at = at - interval '16 minutes'")
    assert own.people.login(person).get("/api/user").status_code == 200


def test_fifty_failures_from_one_address_are_throttled_with_429(stack):
    own = deployment(stack, fresh_database=True, workers=4)
    person = own.people.create()

    def fail(number):
        return own.people.failed_login(unique_email(f"guess{number}-")).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as executor:
        statuses = list(executor.map(fail, range(50)))
    assert statuses == [401] * 50
    refused = own.people.failed_login(unique_email("one-more"))
    assert_problem(refused, 429, "too_many_attempts")
    assert 0 < _retry_after(refused) <= 15 * 60
    # The address is throttled for everyone behind it, and a forged X-Forwarded-For does not help.
    forged = Api(own.base_url).post("/api/login", json={"email": person.email, "password": person.password},
                                    headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"})
    assert_problem(forged, 429, "too_many_attempts")


def test_throttle_limits_come_from_the_environment(stack):
    own = deployment(stack, fresh_database=True, environment={
        "HITKEEP_LOGIN_FAILURES_PER_EMAIL": "3", "HITKEEP_LOGIN_FAILURES_PER_IP": "5"})
    person = own.people.create()
    for _ in range(3):
        assert_problem(own.people.failed_login(person.email), 401, "invalid_credentials")
    assert_problem(own.people.failed_login(person.email), 429, "too_many_attempts")
    for number in range(2):
        assert_problem(own.people.failed_login(unique_email(f"other{number}-")), 401, "invalid_credentials")
    assert_problem(own.people.failed_login(unique_email("sixth")), 429, "too_many_attempts")
    # Throttled attempts are not failures that extend the block.
    assert one_value(stack, "SELECT count(*) FROM login_failures", database=own.database) == "5"


# --- CLI-made and deleted users -----------------------------------------------------------------------

def test_deleting_a_user_leaves_no_orphan_rows(stack, people):
    owner = people.new()
    member = people.new()
    site = owner.create_site()
    owner.add_member(site["id"], member.user.email, "viewer")
    owner.create_client(site_ids=[site["id"]])
    member.create_client()
    shared = member.create_site()
    member.add_member(shared["id"], owner.user.email, "admin")

    stack.sql(f"DELETE FROM users WHERE id = '{owner.user.id}'")
    references = {
        "sessions": "user_id", "audit_log": "user_id", "sites": "owner_id", "site_members": "user_id",
        "api_clients": "user_id",
    }
    for table, column in references.items():
        assert one_value(stack, f"SELECT count(*) FROM {table} WHERE {column} = '{owner.user.id}'") == "0", table
    assert one_value(stack, f"SELECT count(*) FROM site_members WHERE site_id = '{site['id']}'") == "0"
    assert one_value(stack, f"SELECT count(*) FROM api_client_sites WHERE site_id = '{site['id']}'") == "0"
    assert one_value(stack, "SELECT count(*) FROM api_client_tokens t LEFT JOIN api_clients c ON c.id = t.client_id "
                            "WHERE c.id IS NULL") == "0"
    # The member keeps their own things.
    assert [s["id"] for s in assert_json(member.get("/api/sites"))] == [shared["id"]]


def test_concurrent_guesses_cannot_exceed_the_limit_for_one_email(stack):
    """The limit holds under parallel attempts: 24 simultaneous wrong passwords for one email through
    4 workers get at most 10 answers of 401; the rest are 429."""
    own = deployment(stack, fresh_database=True, workers=4)
    person = own.people.create()
    barrier = threading.Barrier(24)

    def guess(number):
        api = Api(own.base_url)
        barrier.wait(timeout=10)
        return api.post("/api/login", json={"email": person.email, "password": f"guess number {number}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(24) as executor:
        statuses = list(executor.map(guess, range(24)))
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 10, f"{statuses.count(401)} password guesses were checked, the limit is 10"
    assert int(one_value(stack, "SELECT count(*) FROM login_failures", database=own.database)) <= 10
