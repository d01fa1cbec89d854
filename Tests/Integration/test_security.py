"""Security hardening (issue 17): what a penetration test of a running server found, each finding
tested through nginx against real PostgreSQL as an attacker with an account of their own would try it.

Tests that count failed sign-ins, need https, or read a worker's database session run pools (and
nginx instances) of their own, on databases of their own, so that the shared deployment's throttle
budget and connections are not disturbed.
"""

from __future__ import annotations

import itertools
import re
import socket
import subprocess
from pathlib import Path

import pytest
import requests
import urllib3

from accounts import (PASSWORD, Api, assert_json, assert_problem, cookie_attributes, deployment, one_value,  # noqa: F401
                      people, run_cli, session_cookie, set_cookies, start_pool, unique, unique_domain, unique_email)
from stack import REQUEST_TIMEOUT, http_session, loopback_address_works, wait_until

FILTER_TYPES = ["path", "referrer", "device", "browser", "os", "country", "language",
                "utm_source", "utm_medium", "utm_campaign"]
# A value each filter type may take (device, browser, os and country are checked).
FILTER_VALUES = {"path": "/x", "device": "mobile", "browser": "Chrome", "os": "Linux", "country": "DE"}


def filter_query(kinds) -> str:
    return "&".join(f"filter={kind}:{FILTER_VALUES.get(kind, 'v')}" for kind in kinds)


# --- 1. prepared statements and filters --------------------------------------------------------------

def test_more_than_ten_filters_are_refused(stack, people):
    api = people.new()
    site = api.create_site()
    ten = filter_query(FILTER_TYPES)
    assert_json(api.get(f"/api/sites/{site['id']}/stats?{ten}"))
    body = assert_problem(api.get(f"/api/sites/{site['id']}/stats?{ten}&filter=path:/more"), 400, "invalid_filter")
    assert "10" in body["detail"]


def _memory_grand_total(stack, database: str, pid: str) -> int:
    """The bytes the backend `pid` holds in its memory contexts, as PostgreSQL logs them on request."""
    log = stack.cluster.log
    start = log.stat().st_size
    assert stack.sql(f"SELECT pg_log_backend_memory_contexts({pid})", database=database) == [("t",)]

    def logged():
        with open(log, "rb") as handle:
            handle.seek(start)
            text = handle.read().decode(errors="replace")
        found = re.findall(rf"\[{pid}\].*?Grand total: (\d+) bytes", text)
        return int(found[-1]) if found else None

    return wait_until(logged, 10, f"backend {pid} logged no memory contexts")


def test_distinct_filter_combinations_leave_a_workers_database_session_bounded(stack):
    # One worker, so that every request lands on the same database connection.
    own = deployment(stack, fresh_database=True, workers=1)
    api = own.people.new()
    site = api.create_site()
    # Raw-event questions only: filters all on a visitor profile's dimensions are answered from the
    # rollups by statements of another size, which would make the two halves below unlike.
    profile = {"device", "browser", "os", "country", "language"}
    combinations = (kinds for kinds in itertools.permutations(FILTER_TYPES, 3) if not set(kinds) <= profile)

    def ask(count: int) -> None:
        for kinds in itertools.islice(combinations, count):
            query = filter_query(kinds)
            assert api.get(f"/api/sites/{site['id']}/stats?compare=none&{query}").status_code == 200

    pids = own.sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hitkeep'")
    assert len(pids) == 1, pids
    pid = pids[0][0]
    # Each distinct statement costs the session tens of kilobytes until it is deallocated; past the
    # connection's limit of 200 the oldest go, so 260 more combinations (520 statements) leave it
    # where it was.
    ask(400)
    plateau = _memory_grand_total(stack, own.database, pid)
    ask(260)
    after = _memory_grand_total(stack, own.database, pid)
    assert own.sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hitkeep'") \
        == [(pid,)], "the worker kept its connection"
    assert after < plateau * 1.15, f"the session grew from {plateau} to {after} bytes over 520 new statements"


# --- 2. viewers cannot write analytics data ------------------------------------------------------------

def test_server_side_ingest_needs_the_admin_role(stack, people):
    owner = people.new()
    site = owner.create_site()
    viewer, admin = people.new(), people.new()
    owner.add_member(site["id"], viewer.user.email, "viewer")
    owner.add_member(site["id"], admin.user.email, "admin")
    viewer_token = viewer.create_client(scopes=["ingest:write"])["token"]
    page_view = {"site_id": site["id"], "url": f"https://{site['domain']}/backdated", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                 "timestamp": "2020-01-01T00:00:00Z"}

    for who in (viewer, viewer.with_token(viewer_token)):
        body = assert_problem(who.post("/api/ingest/server/pageview", json=page_view), 403, "forbidden")
        assert "admin" in body["detail"]
    assert one_value(stack, f"SELECT count(*) FROM event_queue WHERE site_id = '{site['id']}'") == "0"
    assert one_value(stack, f"SELECT count(*) FROM events WHERE site_id = '{site['id']}'") == "0"

    assert admin.post("/api/ingest/server/pageview", json=page_view).status_code == 202
    assert owner.post("/api/ingest/server/pageview", json=page_view).status_code == 202


# --- 3. sign-in forgery and lockout ----------------------------------------------------------------------

def login_from(address: str, base_url: str, email: str, password: str) -> requests.Response:
    return http_session(source_address=address).post(base_url + "/api/login", json={"email": email, "password": password},
                                                      timeout=REQUEST_TIMEOUT)


@pytest.mark.parametrize("path", ["/api/login", "/api/initial-user"])
@pytest.mark.parametrize("headers, status, code", [
    ({"Origin": "https://attacker.example"}, 403, "csrf_rejected"),
    ({"Sec-Fetch-Site": "cross-site"}, 403, "csrf_rejected"),
    ({"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
])
def test_sign_in_and_setup_refuse_what_a_foreign_page_can_send(stack, path, headers, status, code):
    own = deployment(stack, fresh_database=True, workers=1)
    person = own.people.create()
    body = {"email": person.email, "password": PASSWORD}
    data = ('{"email": "%s", "password": "%s"}' % (person.email, PASSWORD)).encode()
    response = requests.post(own.base_url + path, data=data,
                             headers={"Content-Type": "application/json", **headers}, timeout=REQUEST_TIMEOUT)
    assert_problem(response, status, code)
    assert session_cookie(response) is None
    assert own.sql("SELECT count(*) FROM sessions") == [("0",)]
    # The same request from the dashboard's own origin goes through.
    if path == "/api/login":
        same = requests.post(own.base_url + path, json=body, timeout=REQUEST_TIMEOUT,
                             headers={"Origin": own.base_url, "Sec-Fetch-Site": "same-origin"})
        assert same.status_code == 200, same.text


def test_cookie_writes_need_a_json_content_type_and_token_writes_do_not(stack, people):
    api = people.new()
    body = b'{"name": "from a form"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = api.post("/api/user/api-clients", data=body, headers=headers)
        assert_problem(response, 415, "unsupported_media_type")
    assert api.get("/api/user/api-clients").json() == []
    assert api.post("/api/user/api-clients", data=body,
                    headers={"Content-Type": "Application/JSON; charset=utf-8"}).status_code == 201

    token = api.create_client(scopes=["sites:write"])["token"]
    created = api.with_token(token).post("/api/sites", data=f'{{"domain": "{unique_domain()}"}}'.encode(),
                                         headers={"Content-Type": "text/plain"})
    assert created.status_code == 201, created.text


def test_failures_from_one_address_do_not_lock_the_owner_out_at_another(stack):
    if not loopback_address_works("127.0.0.2"):
        pytest.skip("this machine cannot send from 127.0.0.2")
    own = deployment(stack, fresh_database=True, workers=1,
                     environment={"HITKEEP_LOGIN_FAILURES_PER_EMAIL": "3", "HITKEEP_LOGIN_FAILURES_PER_IP": "5"})
    victim = own.people.create()
    for _ in range(3):
        assert login_from("127.0.0.2", own.base_url, victim.email, "not the password").status_code == 401
    locked = login_from("127.0.0.2", own.base_url, victim.email, victim.password)
    assert_problem(locked, 429, "too_many_attempts")
    assert int(locked.headers["Retry-After"]) > 0

    # The owner, elsewhere, signs in as usual; and their success does not unlock the attacker.
    assert login_from("127.0.0.1", own.base_url, victim.email, victim.password).status_code == 200
    assert_problem(login_from("127.0.0.2", own.base_url, victim.email, victim.password), 429, "too_many_attempts")

    # An address that tries many emails is stopped by its own limit, for every email.
    others = [own.people.create() for _ in range(3)]
    for other in others[:2]:
        assert login_from("127.0.0.3", own.base_url, other.email, "not the password").status_code == 401
    for other in others:
        assert login_from("127.0.0.3", own.base_url, other.email, "wrong again").status_code in (401, 429)
    assert_problem(login_from("127.0.0.3", own.base_url, others[0].email, others[0].password), 429, "too_many_attempts")
    assert login_from("127.0.0.4", own.base_url, others[0].email, others[0].password).status_code == 200


# --- 4. guessing the current password ---------------------------------------------------------------------

def test_wrong_current_passwords_are_throttled_and_audited(stack):
    own = deployment(stack, fresh_database=True, workers=1, environment={"HITKEEP_LOGIN_FAILURES_PER_EMAIL": "3"})
    api = own.people.new()
    for attempt in range(3):
        response = api.put("/api/user/password", json={"current_password": f"guess number {attempt}",
                                                       "new_password": "a brand new password"})
        assert_problem(response, 403, "invalid_credentials")
    throttled = api.put("/api/user/password", json={"current_password": PASSWORD, "new_password": "a brand new password"})
    assert_problem(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["Retry-After"]) > 0
    failures = [entry for entry in api.audit() if entry["action"] == "password.change_failed"]
    assert len(failures) == 3
    assert all(entry["actor"] == {"type": "user", "id": api.user.id} and entry["ip"] == "127.0.0.1" for entry in failures)
    # Nothing changed: the old password still signs in.
    assert Api(own.base_url).post("/api/login", json={"email": api.user.email, "password": PASSWORD}).status_code == 200

    # Once the window has passed (moved back here rather than waited for), the right password works.
    own.sql("UPDATE password_change_failures SET at = at - interval '1 hour'")
    assert api.put("/api/user/password", json={"current_password": PASSWORD,
                                               "new_password": "a brand new password"}).status_code == 204
    assert own.sql("SELECT count(*) FROM password_change_failures") == [("0",)]


# --- 5. site changes in the security log --------------------------------------------------------------------

def _actions(api: Api, site_id: str) -> list[tuple[str, str]]:
    return [(entry["action"], entry["detail"]) for entry in reversed(api.audit(200)) if entry.get("site_id") == site_id]


def test_site_and_member_changes_are_in_the_logs_of_the_actor_and_the_sites_admins(stack, people):
    owner, admin, viewer = people.new(), people.new(), people.new()
    site = owner.create_site(name="Audited")
    owner.add_member(site["id"], admin.user.email, "admin")
    owner.add_member(site["id"], viewer.user.email, "viewer")
    # Each member's next request accepts the invitation.
    assert admin.get("/api/sites").status_code == 200
    assert viewer.get("/api/sites").status_code == 200
    assert admin.put(f"/api/sites/{site['id']}", json={"name": "Renamed"}).status_code == 200
    changed = admin.put(f"/api/sites/{site['id']}/members/{viewer.user.id}", json={"role": "admin"})
    assert assert_json(changed)["role"] == "admin"
    assert admin.delete(f"/api/sites/{site['id']}/members/{viewer.user.id}").status_code == 204

    expected_tail = [
        ("site.member_added", "admin"),
        ("site.member_added", "viewer"),
        ("site.updated", "name"),
        ("site.member_role_changed", "viewer → admin"),
        ("site.member_removed", "admin"),
    ]
    owner_log = _actions(owner, site["id"])
    assert owner_log[0] == ("site.created", site["domain"])
    assert [action for action, _ in owner_log[1:3]] == ["site.member_invited", "site.member_invited"]
    assert owner_log[3:] == expected_tail
    admin_log = _actions(admin, site["id"])
    assert admin_log == expected_tail, "the admin sees the site's changes from joining on"
    # The viewer saw their own joining; as an admin they saw the rest until they were removed.
    assert _actions(viewer, site["id"]) == [("site.member_added", "viewer"), ("site.member_role_changed", "viewer → admin"),
                                            ("site.member_removed", "admin")]
    removed = [entry for entry in owner.audit(200) if entry["action"] == "site.member_removed"][0]
    assert removed["actor"] == {"type": "user", "id": admin.user.id}
    assert removed["target_id"] == viewer.user.id

    assert owner.delete(f"/api/sites/{site['id']}").status_code == 204
    for who in (owner, admin):
        assert _actions(who, site["id"])[-1] == ("site.deleted", site["domain"])


def test_the_owners_role_cannot_be_changed_and_roles_are_checked(stack, people):
    owner, admin = people.new(), people.new()
    site = owner.create_site()
    owner.add_member(site["id"], admin.user.email, "admin")
    admin.get("/api/sites")
    assert_problem(admin.put(f"/api/sites/{site['id']}/members/{owner.user.id}", json={"role": "viewer"}), 403, "forbidden")
    assert_problem(owner.put(f"/api/sites/{site['id']}/members/{admin.user.id}", json={"role": "owner"}), 400, "invalid_role")
    assert_problem(owner.put(f"/api/sites/{site['id']}/members/{admin.user.id}", json={}), 400, "invalid_role")
    assert_problem(owner.put(f"/api/sites/{site['id']}/members/01HZZZZZZZZZZZZZZZZZZZZZZZ", json={"role": "viewer"}), 404)


# --- 6. no account enumeration through members --------------------------------------------------------------

def test_inviting_an_email_answers_alike_whether_it_has_an_account_or_not(stack, people):
    owner = people.new()
    site = owner.create_site()
    existing = people.create()
    unknown_email = unique_email("nobody")

    answers = []
    for email in (existing.email, unknown_email):
        response = owner.post(f"/api/sites/{site['id']}/members", json={"email": email, "role": "viewer"})
        body = assert_json(response, 201)
        answers.append((response.status_code, sorted(body), body["user_id"], body["name"], body["status"], body["role"]))
        assert body["email"] == email.lower()
    assert answers[0] == answers[1] == (201, ["created_at", "email", "name", "role", "status", "user_id"], None, None,
                                        "invited", "viewer")
    listed = assert_json(owner.get(f"/api/sites/{site['id']}/members"))
    assert [(m["email"], m["user_id"], m["name"], m["status"]) for m in listed[1:]] == [
        (existing.email.lower(), None, None, "invited"), (unknown_email.lower(), None, None, "invited")]
    # Inviting again answers alike too.
    for email in (existing.email, unknown_email):
        assert_problem(owner.post(f"/api/sites/{site['id']}/members", json={"email": email, "role": "admin"}),
                       409, "already_invited")

    # The invitation becomes a membership when its person signs in, and for a new account when it is made.
    invitee = people.login(existing)
    assert [s["id"] for s in assert_json(invitee.get("/api/sites"))] == [site["id"]]
    newcomer = people.create(email=unknown_email, name="New Comer")
    listed = assert_json(owner.get(f"/api/sites/{site['id']}/members"))
    assert {(m["user_id"], m["status"], m["role"]) for m in listed[1:]} == {
        (existing.id, "member", "viewer"), (newcomer.id, "member", "viewer")}
    assert {m["name"] for m in listed[1:]} == {existing.name, "New Comer"}
    assert_problem(owner.post(f"/api/sites/{site['id']}/members", json={"email": existing.email, "role": "admin"}),
                   409, "already_member")


def test_an_invitation_can_be_withdrawn(stack, people):
    owner = people.new()
    site = owner.create_site()
    email = unique_email("withdrawn")
    owner.add_member(site["id"], email, "admin")
    assert owner.delete(f"/api/sites/{site['id']}/invitations/{email.upper()}").status_code == 204
    assert_problem(owner.delete(f"/api/sites/{site['id']}/invitations/{email}"), 404)
    person = people.create(email=email)
    assert assert_json(people.login(person).get("/api/sites")) == []
    assert len(assert_json(owner.get(f"/api/sites/{site['id']}/members"))) == 1


# --- 7. tokens do not outlive a password change ------------------------------------------------------------

def test_a_password_change_can_revoke_every_api_client(stack, people):
    api = people.new()
    tokens = [api.create_client()["token"] for _ in range(2)]
    kept = people.new()
    kept_token = kept.create_client()["token"]

    assert api.put("/api/user/password", json={"current_password": PASSWORD, "new_password": "another good password",
                                               "revoke_api_clients": True}).status_code == 204
    for token in tokens:
        response = api.with_token(token).get("/api/sites")
        assert_problem(response, 401, "invalid_token")
        assert "revoked" in response.json()["detail"]
    assert api.get("/api/user/api-clients").json() == []
    # All three in the same instant, in any order.
    assert sorted(e["action"] for e in api.audit()[:3]) == ["api_client.deleted", "api_client.deleted", "password.changed"]
    assert kept.with_token(kept_token).get("/api/sites").status_code == 200

    # Without the flag, clients stay.
    token = api.create_client()["token"]
    assert api.put("/api/user/password", json={"current_password": "another good password",
                                               "new_password": "yet another password"}).status_code == 204
    assert api.with_token(token).get("/api/sites").status_code == 200
    assert_problem(api.put("/api/user/password", json={"current_password": "yet another password", "new_password": "x" * 12,
                                                       "revoke_api_clients": "yes"}), 400, "invalid_json")


def test_revoke_all_deletes_every_client_of_the_user_at_once(stack, people):
    api = people.new()
    tokens = [api.create_client()["token"] for _ in range(3)]
    answer = assert_json(api.delete("/api/user/api-clients"))
    assert answer == {"revoked": 3}
    for token in tokens:
        assert_problem(api.with_token(token).get("/api/sites"), 401, "invalid_token")
    assert assert_json(api.delete("/api/user/api-clients")) == {"revoked": 0}
    # Only with the session: a token cannot revoke its siblings.
    token = api.create_client()["token"]
    assert_problem(api.with_token(token).delete("/api/user/api-clients"), 401)
    assert api.with_token(token).get("/api/sites").status_code == 200


# --- 8. cookies, TLS, redirects, purges -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    directory.chmod(0o755)
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    certificate.chmod(0o644)
    key.chmod(0o644)
    return certificate, key


def test_over_https_the_session_cookie_is_host_only_and_hsts_is_sent(stack, certificate):
    database_url = stack.create_database(unique("hk_tls_"))
    assert stack.migrate(database_url=database_url).returncode == 0
    pool = start_pool(stack, {"HITKEEP_PUBLIC_URL": "https://stats.example.test"}, database_url=database_url, workers=1)
    nginx = stack.start_nginx([pool.upstream], tls=certificate)
    plain = stack.start_nginx([pool.upstream])
    email = unique_email("tls")
    assert run_cli(stack, "user", "create", "--email", email, "--password-stdin", input=PASSWORD + "\n",
                   database_url=database_url).returncode == 0

    session = requests.Session()
    session.trust_env = False
    session.verify = False
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    response = session.post(nginx.base_url + "/api/login", json={"email": email, "password": PASSWORD},
                            timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000"
    name, secret, attributes = cookie_attributes(set_cookies(response)[0])
    assert name == "__Host-hk_token"
    assert attributes.get("secure") is True and attributes.get("path") == "/" and "domain" not in attributes

    me = session.get(nginx.base_url + "/api/user", headers={"Cookie": f"__Host-hk_token={secret}"}, timeout=REQUEST_TIMEOUT)
    assert me.status_code == 200 and me.json()["email"] == email
    # A plain hk_token, which any http page of the domain could set, is not a session here.
    wrong_name = session.get(nginx.base_url + "/api/user", headers={"Cookie": f"hk_token={secret}"}, timeout=REQUEST_TIMEOUT)
    assert_problem(wrong_name, 401, "unauthenticated")
    for path in ("/", "/hk.js", "/api/no-such-endpoint"):
        assert session.get(nginx.base_url + path, timeout=REQUEST_TIMEOUT).headers.get("Strict-Transport-Security") \
            == "max-age=63072000", path
    # Never over plain http.
    assert "Strict-Transport-Security" not in requests.get(plain.base_url + "/", timeout=REQUEST_TIMEOUT).headers


def test_over_http_the_cookie_keeps_its_plain_name_and_no_hsts_is_sent(stack, people):
    person = people.create()
    response = Api(stack.base_url).post("/api/login", json={"email": person.email, "password": PASSWORD})
    name, _, attributes = cookie_attributes(set_cookies(response)[0])
    assert name == "hk_token" and "secure" not in attributes
    assert "Strict-Transport-Security" not in response.headers


def test_only_the_first_session_cookie_is_looked_up(stack, people):
    api = people.new()
    junk = "; ".join(f"hk_token={'A' * 42}{index % 10}" for index in range(150))
    after_junk = api.get("/api/user", cookie=None, headers={"Cookie": f"{junk}; hk_token={api.cookie}"})
    assert_problem(after_junk, 401, "unauthenticated")
    first = api.get("/api/user", cookie=None, headers={"Cookie": f"hk_token={api.cookie}; {junk}"})
    assert assert_json(first)["id"] == api.user.id


def test_redirects_do_not_echo_the_clients_host(stack):
    with socket.create_connection(("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1])), timeout=REQUEST_TIMEOUT) as connection:
        connection.sendall(b"GET /assets HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 301"), head
    location = re.search(r"(?im)^Location: (.*)$", head).group(1).strip()
    assert location == "/assets/", location


def test_the_roll_up_purges_expired_sessions_and_old_throttle_rows(stack, people):
    person = people.create()
    stack.sql(f"""
        INSERT INTO sessions (token_hash, user_id, expires_at, absolute_expires_at)
        VALUES (sha256('expired-purge-probe'), '{person.id}', now() - interval '1 minute', now() + interval '1 day'),
               (sha256('ended-purge-probe'), '{person.id}', now() + interval '1 day', now() - interval '1 second'),
               (sha256('live-purge-probe'), '{person.id}', now() + interval '1 day', now() + interval '2 days');
        INSERT INTO login_failures (email, ip, at) VALUES ('purge-probe@example.com', '192.0.2.1', now() - interval '1 day'),
                                                          ('purge-probe@example.com', '192.0.2.1', now());
        INSERT INTO password_change_failures (user_id, at) VALUES ('{person.id}', now() - interval '1 day');
        """)
    # A pool's roll-up process purges when it starts and every minute after.
    stack.start_pool(workers=1)

    def purged():
        return stack.sql(f"""
            SELECT (SELECT count(*) FROM sessions WHERE user_id = '{person.id}'),
                   (SELECT count(*) FROM login_failures WHERE email = 'purge-probe@example.com'),
                   (SELECT count(*) FROM password_change_failures WHERE user_id = '{person.id}')
            """) == [("1", "1", "0")]

    wait_until(purged, 15, "expired rows were not purged")
    stack.sql("DELETE FROM login_failures WHERE email = 'purge-probe@example.com'")
