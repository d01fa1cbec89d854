"""The administrative command line (issue 3 item 6, issue 4 item 8, issue 18 item 6): `hitkeep user
create/list/delete/set-password`, `hitkeep site create/list/update/delete`, `hitkeep client
create/list/delete`, `hitkeep migrate` from anywhere and `--version`, against the test database, with
clear errors and non-zero exit codes on bad input and nothing written then. Lists print a header row
and tab-separated rows, or a JSON array with --json."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from accounts import (ALL_SCOPES, CLIENT_KEYS, ULID_RE, Api, assert_json, assert_problem, counts, one_value,  # noqa: F401
                      people, run_cli, token_is_well_formed, unique, unique_domain, unique_email)
from stack import REPO


def _fails_clearly(result, *words: str) -> None:
    assert result.returncode != 0, result.stdout
    message = (result.stderr + result.stdout).lower()
    assert message.strip(), "no message"
    assert "fatal error" not in message and "stack trace" not in message and "backtrace" not in message, message
    for word in words:
        assert word.lower() in message, f"{word!r} not in {message!r}"


# --- users --------------------------------------------------------------------------------------------

def test_user_create_prints_the_id_and_the_user_can_sign_in(stack, people):
    email = unique_email("cli")
    result = run_cli(stack, "user", "create", "--email", email, "--name", "Cli User", "--password-stdin",
                     input="a good long password\n")
    assert result.returncode == 0, result.stderr
    user_id = result.stdout.strip()
    assert ULID_RE.match(user_id)
    people.ids.append(user_id)
    assert stack.sql(f"SELECT email, name, is_admin FROM users WHERE id = '{user_id}'") == [(email, "Cli User", "f")]
    login = Api(stack.base_url).post("/api/login", json={"email": email, "password": "a good long password"})
    assert assert_json(login)["user"]["id"] == user_id
    # The password never reaches the command line or the output.
    assert "a good long password" not in result.stdout + result.stderr


def test_user_create_admin_flag(stack, people):
    person = people.create(admin=True)
    assert one_value(stack, f"SELECT is_admin FROM users WHERE id = '{person.id}'") == "t"


@pytest.mark.parametrize("arguments, stdin, words", [
    (["--email", "weak@example.com"], "short\n", ["password"]),
    (["--email", "empty@example.com"], "\n", ["password"]),
    (["--email", "none@example.com"], "", ["password"]),
    (["--email", "not-an-email"], "a good long password\n", ["email"]),
    (["--email", ""], "a good long password\n", ["email"]),
    (["--email", "x" * 300 + "@example.com"], "a good long password\n", ["email"]),
    (["--email", "ctl@example.com", "--name", "bell\u0007"], "a good long password\n", ["name"]),
    (["--email", "long@example.com", "--name", "n" * 121], "a good long password\n", ["name"]),
])
def test_user_create_refuses_bad_input(stack, arguments, stdin, words):
    before = counts(stack, ["users"])
    result = run_cli(stack, "user", "create", *arguments, "--password-stdin", input=stdin)
    _fails_clearly(result, *words)
    assert counts(stack, ["users"]) == before


def test_user_create_needs_password_stdin(stack):
    before = counts(stack, ["users"])
    result = run_cli(stack, "user", "create", "--email", unique_email(), input="a good long password\n")
    _fails_clearly(result, "--password-stdin")
    assert counts(stack, ["users"]) == before


def test_user_create_refuses_a_duplicate_email_in_any_case(stack, people):
    person = people.create()
    for typed in (person.email, person.email.upper(), f" {person.email} "):
        result = run_cli(stack, "user", "create", "--email", typed, "--password-stdin", input="another password!\n")
        _fails_clearly(result, "exist")
    assert one_value(stack, f"SELECT count(*) FROM users WHERE lower(email) = '{person.email.lower()}'") == "1"


def _table(result) -> list[dict]:
    """The rows of a list command's table, keyed by its header row."""
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    columns = header.split("\t")
    return [dict(zip(columns, line.split("\t"))) for line in lines]


def test_user_list_shows_users(stack, people):
    person = people.create(name="Listed Person", admin=True)
    result = run_cli(stack, "user", "list")
    rows = [row for row in _table(result) if row["id"] == person.id]
    assert rows == [{"id": person.id, "email": person.email, "admin": "yes", "created_at": rows[0]["created_at"],
                     "name": "Listed Person"}]
    assert "argon2" not in result.stdout
    listed = json.loads(run_cli(stack, "user", "list", "--json").stdout)
    assert [user for user in listed if user["id"] == person.id] == [
        {"id": person.id, "email": person.email, "admin": True, "created_at": rows[0]["created_at"], "name": "Listed Person"}]


def test_user_delete_removes_the_account_and_what_it_owns(stack, people):
    api = people.new()
    site = api.create_site()
    token = api.create_client()["token"]
    assert run_cli(stack, "user", "delete", "--email", api.user.email.upper()).returncode == 0
    assert one_value(stack, f"SELECT count(*) FROM users WHERE id = '{api.user.id}'") == "0"
    assert one_value(stack, f"SELECT count(*) FROM sites WHERE id = '{site['id']}'") == "0"
    assert_problem(api.get("/api/user"), 401)
    assert_problem(api.with_token(token).get("/api/sites"), 401, "invalid_token")
    _fails_clearly(run_cli(stack, "user", "delete", "--email", api.user.email), "no user")


def test_user_set_password_ends_sessions_and_can_revoke_clients(stack, people):
    api = people.new()
    token = api.create_client()["token"]
    result = run_cli(stack, "user", "set-password", "--email", api.user.email, "--password-stdin",
                     input="a password from the operator\n")
    assert result.returncode == 0, result.stderr
    assert_problem(api.get("/api/user"), 401)
    assert api.with_token(token).get("/api/sites").status_code == 200, "clients stay unless asked"
    assert_problem(Api(stack.base_url).post("/api/login", json={"email": api.user.email, "password": api.user.password}),
                   401, "invalid_credentials")
    api.user.password = "a password from the operator"
    again = people.login(api.user)
    assert run_cli(stack, "user", "set-password", "--email", api.user.email, "--password-stdin", "--revoke-api-clients",
                   input="yet another password\n").returncode == 0
    assert_problem(again.get("/api/user"), 401)
    assert_problem(api.with_token(token).get("/api/sites"), 401, "invalid_token")
    actions = [row[0] for row in stack.sql(
        f"SELECT action FROM audit_log WHERE user_id = '{api.user.id}' AND actor_id IS NULL ORDER BY at, action")]
    assert actions.count("password.changed") == 2 and "api_client.deleted" in actions
    _fails_clearly(run_cli(stack, "user", "set-password", "--email", api.user.email, "--password-stdin", input="short\n"),
                   "password")
    _fails_clearly(run_cli(stack, "user", "set-password", "--email", api.user.email, input="no flag given\n"),
                   "password-stdin")


# --- sites --------------------------------------------------------------------------------------------

def test_site_create_prints_the_id_and_the_owner_sees_it(stack, people):
    api = people.new()
    domain = unique_domain()
    result = run_cli(stack, "site", "create", "--owner", api.user.email.upper(), "--domain", f"  {domain.upper()} ",
                     "--name", "From CLI", "--timezone", "Europe/Paris")
    assert result.returncode == 0, result.stderr
    site_id = result.stdout.strip()
    assert ULID_RE.match(site_id)
    site = assert_json(api.get(f"/api/sites/{site_id}"))
    assert (site["domain"], site["name"], site["timezone"], site["role"]) == (domain, "From CLI", "Europe/Paris", "owner")


@pytest.mark.parametrize("arguments, words", [
    (["--domain", "https://example.org"], ["domain"]),
    (["--domain", "www.example.org"], ["domain"]),
    (["--domain", "example.org:80"], ["domain"]),
    (["--domain", "10.1.2.3"], ["domain"]),
    (["--domain", "local"], ["domain"]),
    (["--domain", ""], ["domain"]),
    (["--domain", "DOMAIN", "--timezone", "Mars/Base"], ["timezone"]),
    (["--domain", "DOMAIN", "--name", ""], ["name"]),
])
def test_site_create_refuses_bad_input(stack, people, arguments, words):
    person = people.create()
    arguments = [unique_domain() if argument == "DOMAIN" else argument for argument in arguments]
    before = counts(stack, ["sites", "site_members"])
    _fails_clearly(run_cli(stack, "site", "create", "--owner", person.email, *arguments), *words)
    assert counts(stack, ["sites", "site_members"]) == before


def test_site_create_refuses_an_unknown_owner_and_a_taken_domain(stack, people):
    api = people.new()
    domain = unique_domain()
    _fails_clearly(run_cli(stack, "site", "create", "--owner", unique_email("ghost"), "--domain", domain), "user")
    api.create_site(domain)
    _fails_clearly(run_cli(stack, "site", "create", "--owner", api.user.email, "--domain", domain), "registered")
    assert one_value(stack, f"SELECT count(*) FROM sites WHERE domain = '{domain}'") == "1"


# --- API clients --------------------------------------------------------------------------------------

def test_client_create_prints_only_a_working_token(stack, people):
    api = people.new()
    result = run_cli(stack, "client", "create", "--owner", api.user.email, "--name", "ci-exporter")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n", "the token alone on stdout, for automation"
    assert token_is_well_formed(token)
    assert assert_json(Api(stack.base_url, token=token).get("/api/user"))["id"] == api.user.id

    clients = assert_json(api.get("/api/user/api-clients"))
    assert len(clients) == 1
    assert clients[0]["name"] == "ci-exporter" and clients[0]["scopes"] == ALL_SCOPES
    assert clients[0]["token_hint"] == "hk_live_…" + token[-4:]
    created = [entry for entry in api.audit() if entry["action"] == "api_client.created"]
    assert len(created) == 1 and created[0]["target_id"] == clients[0]["id"]


def test_client_create_with_scopes_sites_and_expiry(stack, people):
    api = people.new()
    site, other = api.create_site(), api.create_site()
    result = run_cli(stack, "client", "create", "--owner", api.user.email, "--name", "scoped",
                     "--scope", "sites:read", "--scope", "stats:read", "--site", site["id"], "--expires-in-days", "7")
    assert result.returncode == 0, result.stderr
    bearer = Api(stack.base_url, token=result.stdout.strip())
    assert [s["id"] for s in assert_json(bearer.get("/api/sites"))] == [site["id"]]
    assert_problem(bearer.get(f"/api/sites/{other['id']}"), 404, "not_found")
    assert_problem(bearer.get("/api/user"), 403, "insufficient_scope")
    client = assert_json(api.get("/api/user/api-clients"))[0]
    assert client["scopes"] == ["sites:read", "stats:read"] and client["site_ids"] == [site["id"]]
    assert client["expires_at"] is not None


@pytest.mark.parametrize("arguments, words", [
    (["--name", ""], ["name"]),
    (["--name", "n" * 121], ["name"]),
    (["--name", "ok", "--scope", "admin"], ["scope"]),
    (["--name", "ok", "--site", "not-a-ulid"], ["site"]),
    (["--name", "ok", "--site", "01JFKQ4Z7W3M9X0C5T2V8B6N1R"], ["site"]),
    (["--name", "ok", "--expires-in-days", "0"], ["expires"]),
    (["--name", "ok", "--expires-in-days", "3651"], ["expires"]),
    (["--name", "ok", "--expires-in-days", "soon"], ["expires"]),
])
def test_client_create_refuses_bad_input(stack, people, arguments, words):
    person = people.create()
    before = counts(stack, ["api_clients", "api_client_tokens"])
    result = run_cli(stack, "client", "create", "--owner", person.email, *arguments)
    _fails_clearly(result, *words)
    assert "hk_live_" not in result.stdout
    assert counts(stack, ["api_clients", "api_client_tokens"]) == before


def test_client_create_refuses_an_unknown_owner(stack):
    before = counts(stack, ["api_clients"])
    _fails_clearly(run_cli(stack, "client", "create", "--owner", unique_email("ghost"), "--name", "x"), "user")
    assert counts(stack, ["api_clients"]) == before


def test_client_list_prints_the_api_objects_without_tokens(stack, people):
    api = people.new()
    first = run_cli(stack, "client", "create", "--owner", api.user.email, "--name", "first").stdout.strip()
    api.create_client(name="second", description="two\tcolumns\nand lines")
    result = run_cli(stack, "client", "list", "--owner", api.user.email, "--json")
    assert result.returncode == 0, result.stderr
    objects = json.loads(result.stdout)
    assert [client["name"] for client in objects] == ["second", "first"], "newest first"
    assert all(set(client) == CLIENT_KEYS for client in objects)
    assert first not in result.stdout and "token\"" not in result.stdout
    assert objects == assert_json(api.get("/api/user/api-clients"))
    table = run_cli(stack, "client", "list", "--owner", api.user.email)
    rows = _table(table)
    assert [(row["name"], row["description"], row["site_ids"]) for row in rows] == [
        ("second", "two columns and lines", "-"), ("first", "", "-")]
    assert rows[0]["scopes"] == ",".join(ALL_SCOPES) and first not in table.stdout


def test_client_delete_revokes_at_once(stack, people):
    api = people.new()
    created = api.create_client()
    other = people.new()
    _fails_clearly(run_cli(stack, "client", "delete", "--owner", other.user.email, "--id", created["id"]), "no api client")
    assert api.with_token(created["token"]).get("/api/sites").status_code == 200
    assert run_cli(stack, "client", "delete", "--owner", api.user.email, "--id", created["id"]).returncode == 0
    assert_problem(api.with_token(created["token"]).get("/api/sites"), 401, "invalid_token")
    assert api.get("/api/user/api-clients").json() == []


# --- sites, listed, changed and deleted -------------------------------------------------------------------

def test_site_list_update_and_delete(stack, people):
    api = people.new()
    site = api.create_site(name="Before")
    rows = [row for row in _table(run_cli(stack, "site", "list")) if row["id"] == site["id"]]
    assert rows == [{"id": site["id"], "domain": site["domain"], "name": "Before", "timezone": "UTC",
                     "created_at": site["created_at"], "owner_email": api.user.email}]
    assert [s for s in json.loads(run_cli(stack, "site", "list", "--json").stdout) if s["id"] == site["id"]] == [
        {"id": site["id"], "domain": site["domain"], "name": "Before", "timezone": "UTC",
         "created_at": site["created_at"], "owner_email": api.user.email}]

    assert run_cli(stack, "site", "update", "--id", site["id"], "--name", "After", "--timezone", "Asia/Kolkata").returncode == 0
    shown = assert_json(api.get(f"/api/sites/{site['id']}"))
    assert (shown["name"], shown["timezone"]) == ("After", "Asia/Kolkata")
    assert [e["detail"] for e in api.audit() if e["action"] == "site.updated"] == ["name, timezone"]
    _fails_clearly(run_cli(stack, "site", "update", "--id", site["id"], "--timezone", "Mars/Base"), "timezone")
    _fails_clearly(run_cli(stack, "site", "update", "--id", site["id"]), "--name")
    _fails_clearly(run_cli(stack, "site", "update", "--id", "01JFKQ4Z7W3M9X0C5T2V8B6N1R", "--name", "x"), "no site")

    assert run_cli(stack, "site", "delete", "--id", site["id"]).returncode == 0
    assert_problem(api.get(f"/api/sites/{site['id']}"), 404)
    assert [e["action"] for e in api.audit()][0] == "site.deleted"
    _fails_clearly(run_cli(stack, "site", "delete", "--id", site["id"]), "no site")


# --- the binary ------------------------------------------------------------------------------------------

def test_version(stack):
    result = run_cli(stack, "--version")
    assert result.returncode == 0 and result.stdout.strip() == "0.1.0"


def test_migrate_finds_its_migrations_from_anywhere_or_says_where_it_looked(stack, tmp_path):
    # An installation: bin/hitkeep and share/hitkeep/migrations, run from an unrelated directory.
    root = tmp_path / "usr"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(stack.binary, root / "bin" / "hitkeep")
    environment = {"HITKEEP_DATABASE_URL": stack.database_url, "PATH": "/usr/bin:/bin"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing = subprocess.run([str(root / "bin" / "hitkeep"), "migrate", "--status"], capture_output=True, text=True,
                             cwd=elsewhere, env=environment, timeout=60)
    _fails_clearly(missing, "no migrations found", str(root / "share" / "hitkeep" / "migrations"))
    shutil.copytree(REPO / "migrations", root / "share" / "hitkeep" / "migrations")
    found = subprocess.run([str(root / "bin" / "hitkeep"), "migrate", "--status"], capture_output=True, text=True,
                           cwd=elsewhere, env=environment, timeout=60)
    assert found.returncode == 0, found.stderr
    assert "0001 accounts applied" in found.stdout

    # Found on PATH, as people type it (its first argument is then only "hitkeep"), in a directory
    # that has a migrations/ of another project: the installation's own are the ones it reads.
    foreign = elsewhere / "migrations"
    foreign.mkdir()
    (foreign / "0001_other_project.sql").write_text("CREATE TABLE other_project (id int);\n")
    by_name = subprocess.run(["hitkeep", "migrate", "--status"], capture_output=True, text=True, cwd=elsewhere,
                             env=environment | {"PATH": f"{root / 'bin'}:/usr/bin:/bin"}, timeout=60)
    assert by_name.returncode == 0, by_name.stderr
    assert "0001 accounts applied" in by_name.stdout and "other_project" not in by_name.stdout


def test_migrate_from_a_checkouts_build_finds_the_checkouts_migrations(stack, tmp_path):
    # `swift build` leaves the binary under .build/<platform>/debug, with .build/debug a link to it;
    # run from anywhere, it reads the migrations of the tree it was built in.
    checkout = tmp_path / "checkout"
    built = checkout / ".build" / "x86_64-unknown-linux-gnu" / "debug"
    built.mkdir(parents=True)
    shutil.copy2(stack.binary, built / "hitkeep")
    (checkout / ".build" / "debug").symlink_to("x86_64-unknown-linux-gnu/debug")
    shutil.copytree(REPO / "migrations", checkout / "migrations")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(checkout / ".build" / "debug" / "hitkeep"), "migrate", "--status"], capture_output=True,
                            text=True, cwd=elsewhere, env={"HITKEEP_DATABASE_URL": stack.database_url, "PATH": "/usr/bin:/bin"},
                            timeout=60)
    assert result.returncode == 0, result.stderr
    listed = ["_".join(line.split()[:2]) for line in result.stdout.splitlines()]
    assert listed == sorted(path.stem for path in (REPO / "migrations").glob("*.sql"))


def test_client_list_of_an_unknown_owner_fails(stack):
    _fails_clearly(run_cli(stack, "client", "list", "--owner", unique_email("ghost")), "user")


def test_commands_report_an_unreachable_database_clearly(stack):
    nowhere = stack.cluster.url("no_such_database_" + unique(), user="hitkeep")
    result = run_cli(stack, "user", "list", database_url=nowhere)
    _fails_clearly(result, "database")

