"""Helpers for the account, session, site, isolation and API-client tests (issues 3 and 4).

Every user a test makes comes from the CLI (`hitkeep user create --password-stdin`) and signs in
through nginx with POST /api/login; the `people` fixture deletes those users (and with them their
sessions, sites, clients and audit entries) and their failed-login rows when the test ends, so the
shared database looks untouched to the other test modules (e.g. `/api/status` still needs setup).

`Api` sends exactly the credentials a test gives it: no cookie jar, no proxy from the environment,
a timeout on every request.
"""

from __future__ import annotations

import contextlib
import errno
import http.cookiejar
import os
import re
import secrets
import statistics
import subprocess
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import pytest
import requests

from stack import REQUEST_TIMEOUT, Nginx, Pool, http_session, wait_until

PASSWORD = "correct horse battery staple"
ALL_SCOPES = ["ingest:write", "sites:read", "sites:write", "stats:read", "user:read"]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_RE = re.compile(r"^hk_live_[0-9A-Za-z]{38}$")
ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CLIENT_KEYS = {"id", "name", "description", "token_hint", "scopes", "site_ids", "created_at", "updated_at",
               "previous_token_hint", "previous_token_expires_at",
               "expires_at", "last_used_at", "owner", "created_by", "rate_limit_per_minute", "expires_soon"}
SITE_KEYS = {"id", "domain", "name", "timezone", "created_at", "role", "retention_days", "raw_events_since"}
USER_KEYS = {"id", "email", "name", "created_at"}


# --- names --------------------------------------------------------------------------------------

def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def unique_email(prefix: str = "user") -> str:
    return f"{unique(prefix)}@example.com"


def unique_domain(prefix: str = "site") -> str:
    return f"{unique(prefix)}.example.com"


# --- tokens -------------------------------------------------------------------------------------

def token_checksum(secret: str) -> str:
    """The 6 base62 digits of the CRC-32 of the secret (API.md §3.1)."""
    value = zlib.crc32(secret.encode())
    digits = []
    for _ in range(6):
        digits.append(BASE62[value % 62])
        value //= 62
    return "".join(reversed(digits))


def well_formed_token(secret: Optional[str] = None) -> str:
    """A token of the right form and checksum that the server never issued."""
    secret = secret or "".join(secrets.choice(BASE62) for _ in range(32))
    return "hk_live_" + secret + token_checksum(secret)


def token_is_well_formed(token: str) -> bool:
    return bool(TOKEN_RE.match(token)) and token_checksum(token[8:40]) == token[40:]


def parse_challenge(header: Optional[str]) -> dict:
    """`Bearer realm="hitkeep", error="…"` → {"scheme": "Bearer", "realm": "hitkeep", "error": "…"}."""
    assert header, "no WWW-Authenticate header"
    scheme, _, rest = header.partition(" ")
    params = dict(re.findall(r'([a-z_]+)="([^"]*)"', rest))
    params["scheme"] = scheme
    return params


# --- HTTP ---------------------------------------------------------------------------------------

def set_cookies(response: requests.Response) -> list[str]:
    """Every Set-Cookie header of the response, unmerged."""
    return response.raw.headers.getlist("Set-Cookie") if response.raw is not None else []


def cookie_attributes(header: str) -> tuple[str, str, dict]:
    """`hk_token=v; Path=/; Max-Age=60; HttpOnly` → ("hk_token", "v", {"path": "/", "max-age": "60", "httponly": True})."""
    parts = [part.strip() for part in header.split(";")]
    name, _, value = parts[0].partition("=")
    attributes: dict[str, Any] = {}
    for part in parts[1:]:
        key, equals, val = part.partition("=")
        attributes[key.strip().lower()] = val.strip() if equals else True
    return name.strip(), value.strip(), attributes


def session_cookie(response: requests.Response) -> Optional[str]:
    """The hk_token value the response sets, or None."""
    for header in set_cookies(response):
        name, value, _ = cookie_attributes(header)
        if name == "hk_token":
            return value
    return None


def new_http_session() -> requests.Session:
    """A session whose cookie jar accepts nothing: each request carries only what the test put on it."""
    session = http_session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


class Api:
    """HTTP for one principal: a session cookie, a bearer token, both or neither."""

    def __init__(self, base_url: str, cookie: Optional[str] = None, token: Optional[str] = None,
                 user: Optional["Person"] = None, cookie_name: str = "hk_token"):
        """`cookie_name`: `__Host-hk_token` for a server whose public URL is https."""
        self.base_url = base_url
        self.cookie = cookie
        self.cookie_name = cookie_name
        self.token = token
        self.user = user
        self.http = new_http_session()

    def with_token(self, token: Optional[str]) -> "Api":
        return Api(self.base_url, token=token, user=self.user)

    def request(self, method: str, path: str, *, json: Any = None, data: Any = None,
                headers: Optional[dict] = None, cookie: Any = ..., token: Any = ...,
                timeout: float = REQUEST_TIMEOUT) -> requests.Response:
        cookie = self.cookie if cookie is ... else cookie
        token = self.token if token is ... else token
        sent = {}
        if cookie is not None:
            sent["Cookie"] = f"{self.cookie_name}={cookie}"
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        # requests adds its own default User-Agent unless told otherwise; keep it, it is realistic.
        return self.http.request(method, self.base_url + path, json=json, data=data, headers=sent,
                                 timeout=timeout, allow_redirects=False)

    def get(self, path, **options):
        return self.request("GET", path, **options)

    def post(self, path, **options):
        return self.request("POST", path, **options)

    def put(self, path, **options):
        return self.request("PUT", path, **options)

    def delete(self, path, **options):
        return self.request("DELETE", path, **options)

    # --- shortcuts --------------------------------------------------------------------------------

    def create_site(self, domain: Optional[str] = None, **fields) -> dict:
        response = self.post("/api/sites", json={"domain": domain or unique_domain(), **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def create_client(self, name: Optional[str] = None, **fields) -> dict:
        response = self.post("/api/user/api-clients", json={"name": name or unique("client-"), **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def add_member(self, site_id: str, email: str, role: str) -> dict:
        response = self.post(f"/api/sites/{site_id}/members", json={"email": email, "role": role})
        assert response.status_code == 201, response.text
        return response.json()

    def audit(self, limit: int = 50) -> list[dict]:
        response = self.get(f"/api/user/audit-log?limit={limit}")
        assert response.status_code == 200, response.text
        return response.json()


def assert_problem(response: requests.Response, status: int, code: Optional[str] = None) -> dict:
    """An RFC 9457 problem document with this status (and code), API.md §1."""
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers.get("Content-Type") == "application/problem+json", response.headers
    assert response.headers.get("Cache-Control") == "no-store"
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("title"), str) and body["title"]
    return body


def assert_json(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers.get("Content-Type") == "application/json; charset=utf-8"
    assert response.headers.get("Cache-Control") == "no-store"
    return response.json()


# --- the command line -----------------------------------------------------------------------------

def run_cli(stack, *arguments: str, input: Optional[str] = None, database_url: Optional[str] = None,
            extra_env: Optional[dict] = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`hitkeep …` against the test database with `input` on stdin (the harness's helper has none)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HITKEEP_")}
    environment["HITKEEP_DATABASE_URL"] = database_url or stack.database_url
    environment.update(extra_env or {})
    for attempt in range(20):
        try:
            return subprocess.run([str(stack.binary), *arguments], input=input if input is not None else "",
                                  capture_output=True, text=True, timeout=timeout, env=environment, cwd=stack.root)
        except OSError as error:
            # ETXTBSY: `swift build` (run by others in this working tree) is replacing the binary.
            if error.errno != errno.ETXTBSY or attempt == 19:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")


# --- people -------------------------------------------------------------------------------------

@dataclass
class Person:
    id: str
    email: str
    password: str
    name: str = ""


class People:
    """Users made with the CLI and signed in through nginx; all deleted again by `cleanup`."""

    def __init__(self, stack, base_url: Optional[str] = None, database_url: Optional[str] = None,
                 database: str = "hitkeep"):
        self.stack = stack
        self.base_url = base_url or stack.base_url
        self.database_url = database_url or stack.database_url
        self.database = database
        self.ids: list[str] = []
        self.emails: set[str] = set()

    def sql(self, query: str) -> list[tuple]:
        return self.stack.sql(query, database=self.database)

    def create(self, email: Optional[str] = None, password: str = PASSWORD, name: str = "",
               admin: bool = False) -> Person:
        email = email or unique_email()
        arguments = ["user", "create", "--email", email, "--password-stdin"]
        if name:
            arguments += ["--name", name]
        if admin:
            arguments.append("--admin")
        result = run_cli(self.stack, *arguments, input=password + "\n", database_url=self.database_url)
        assert result.returncode == 0, f"user create failed: {result.stdout}{result.stderr}"
        user_id = result.stdout.strip()
        assert ULID_RE.match(user_id), result.stdout
        self.ids.append(user_id)
        self.emails.add(email.strip().lower())
        return Person(user_id, email, password, name)

    def login(self, person: Person, user_agent: Optional[str] = None) -> Api:
        api = Api(self.base_url, user=person)
        headers = {"User-Agent": user_agent} if user_agent else None
        response = api.post("/api/login", json={"email": person.email, "password": person.password}, headers=headers)
        assert response.status_code == 200, response.text
        api.cookie = session_cookie(response)
        assert api.cookie, set_cookies(response)
        return api

    def new(self, **options) -> Api:
        """A new user, signed in."""
        return self.login(self.create(**options))

    def failed_login(self, email: str, password: str = "wrong password!") -> requests.Response:
        """A sign-in that should fail; the email is remembered so that its throttle rows are removed."""
        self.emails.add(email.strip().lower())
        return Api(self.base_url).post("/api/login", json={"email": email, "password": password})

    def cleanup(self) -> None:
        if self.ids:
            listed = ",".join(f"'{user_id}'" for user_id in self.ids)
            self.sql(f"DELETE FROM users WHERE id IN ({listed})")
        if any("\x00" not in email for email in self.emails):
            listed = ",".join("'" + email.replace("'", "''") + "'" for email in self.emails if "\x00" not in email)
            self.sql(f"DELETE FROM login_failures WHERE email IN ({listed})")
        self.ids.clear()
        self.emails.clear()


@pytest.fixture
def people(stack):
    crowd = People(stack)
    yield crowd
    crowd.cleanup()


# --- deployments of a test's own ----------------------------------------------------------------------

@dataclass
class Deployment:
    """A pool (and nginx) of a test's own, possibly with a database of its own and other settings."""
    stack: Any
    pool: Pool
    base_url: str
    database: str
    database_url: str
    people: People = field(init=False)

    def __post_init__(self):
        self.people = People(self.stack, base_url=self.base_url, database_url=self.database_url,
                             database=self.database)

    def sql(self, query: str) -> list[tuple]:
        return self.stack.sql(query, database=self.database)


def start_pool(stack, environment: Optional[dict] = None, database_url: Optional[str] = None,
               workers: int = 2) -> Pool:
    """A pool with extra HITKEEP_… settings; stopped when the calling test ends (stack.extras)."""
    name = unique("accpool")
    pool = Pool(stack.binary, stack.root / "run" / f"{name}.sock", database_url or stack.database_url,
                stack.root / "log" / f"{name}.log", workers=workers, extra_environment=dict(environment or {}))
    stack.extras.append(pool)
    return pool.start()


def deployment(stack, environment: Optional[dict] = None, fresh_database: bool = False,
               workers: int = 2) -> Deployment:
    """A pool behind an nginx of its own, on the shared database or on a new, migrated one."""
    database, database_url = "hitkeep", stack.database_url
    if fresh_database:
        database = unique("hk_")
        database_url = stack.create_database(database)
        migrated = stack.migrate(database_url=database_url)
        assert migrated.returncode == 0, migrated.stderr
    pool = start_pool(stack, environment, database_url=database_url, workers=workers)
    nginx = stack.start_nginx([pool.upstream])
    return Deployment(stack, pool, nginx.base_url, database, database_url)


@contextlib.contextmanager
def lasting_deployment(stack, prefix: str, workers: int = 2):
    """A pool behind an nginx of its own on a new, migrated database, for as long as the `with` lasts
    (a module fixture's whole life, where `deployment()`'s end with the calling test)."""
    database = unique(prefix)
    database_url = stack.create_database(database)
    migrated = stack.migrate(database_url=database_url)
    assert migrated.returncode == 0, migrated.stderr
    pool = Pool(stack.binary, stack.root / "run" / f"{database}.sock", database_url,
                stack.root / "log" / f"{database}.log", workers=workers)
    nginx = Nginx(stack.root / "run" / f"{database}-nginx", stack.static_root, [pool.upstream])
    try:
        pool.start()
        nginx.start()
        yield Deployment(stack, pool, nginx.base_url, database, database_url)
    finally:
        nginx.stop()
        pool.stop()


@pytest.fixture(scope="module")
def empty_deployment(stack):
    """A migrated database with no users and a one-worker pool behind an nginx, for a whole module
    (tests of first-run setup must see an empty users table, and must leave it empty)."""
    with lasting_deployment(stack, "hk_empty_", workers=1) as deployed:
        yield deployed


# --- the database ---------------------------------------------------------------------------------

SEARCHABLE_TYPES = ("text", "character varying", "character", "bytea", "json", "jsonb", "ARRAY", "name")


def columns_to_search(stack, database: str = "hitkeep") -> list[tuple[str, str, str, str]]:
    """(schema, table, column, type) of every text-like column of every table and view in every schema."""
    rows = stack.sql(f"""
        SELECT c.table_schema, c.table_name, c.column_name, c.data_type
        FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
          AND c.data_type IN ({",".join(f"'{kind}'" for kind in SEARCHABLE_TYPES)})
        ORDER BY 1, 2, 3
        """, database=database)
    return [tuple(row) for row in rows]  # type: ignore[misc]


def where_stored(stack, needles: Iterable[str], database: str = "hitkeep") -> list[str]:
    """`schema.table.column` of every searchable column that holds any of `needles` as a substring."""
    needles = [needle for needle in needles if needle]
    checks = []
    for schema, table, column, kind in columns_to_search(stack, database):
        target = f'"{schema}"."{table}"'
        column_ref = f'"{column}"'
        conditions = []
        for needle in needles:
            literal = "'" + needle.replace("'", "''") + "'"
            if kind == "bytea":
                conditions.append(f"position(convert_to({literal}, 'UTF8') in {column_ref}) > 0")
            else:
                conditions.append(f"strpos({column_ref}::text, {literal}) > 0")
        label = f"{schema}.{table}.{column}".replace("'", "''")
        checks.append(f"SELECT '{label}' WHERE EXISTS (SELECT 1 FROM {target} WHERE {' OR '.join(conditions)})")
    # In batches: one statement for every column would outgrow what one argument to psql may hold
    # (128 KiB on Linux).
    batch = 40
    return [row[0] for start in range(0, len(checks), batch)
            for row in stack.sql(" UNION ALL ".join(checks[start:start + batch]), database=database)]


def one_value(stack, query: str, database: str = "hitkeep") -> Optional[str]:
    rows = stack.sql(query, database=database)
    assert len(rows) == 1, rows
    return rows[0][0]


# A deleted site's row is removed later, by the roll-up process, after its page views (migrations/
# 0049): while other tests' deleted sites go, the sites a request could have written are those not
# being deleted.
COUNTED_ROWS = {"sites": "sites WHERE NOT EXISTS (SELECT 1 FROM site_deletions d WHERE d.site_id = sites.id)"}


def counts(stack, tables: Iterable[str], database: str = "hitkeep") -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{table}', count(*) FROM {COUNTED_ROWS.get(table, table)}" for table in tables)
    return {name: int(count) for name, count in stack.sql(query, database=database)}


# --- worker logs ----------------------------------------------------------------------------------

def log_size(pool: Pool) -> int:
    return pool.log.stat().st_size if pool.log.exists() else 0


def worker_pids_since(pool: Pool, offset: int, path: str) -> set[str]:
    """Pids of the workers that logged a request for `path` after byte `offset` of the pool's log
    (either log format: `path=/x` metadata or `GET /x 200` in the message)."""
    with open(pool.log, "rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    pattern = re.compile(rf"(?:path={re.escape(path)}|[A-Z]+ {re.escape(path)}) ")
    pids = set()
    for line in text.splitlines():
        if "hitkeep.worker" in line and pattern.search(line + " "):
            match = re.search(r"\bpid=(\d+)", line)
            if match:
                pids.add(match.group(1))
    return pids


# --- timing -------------------------------------------------------------------------------------

def median_seconds(action, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)

