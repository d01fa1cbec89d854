"""Fixtures: one HitKeep deployment for the whole session (PostgreSQL, a 4-worker pool, nginx),
plus helpers for tests that need pools or nginx instances of their own.

The binary is not built here (`make test` builds first): `$HITKEEP_BIN`, else .build/debug/hitkeep,
copied into the run's temporary directory.
Set HITKEEP_TEST_KEEP=1 to keep the temporary directory (logs, cluster) after the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Optional, Sequence

import pytest
import requests

from stack import (REPO, REQUEST_TIMEOUT, FastCGIRecorder, Nginx, PgBouncer, Pool, PostgresCluster, StackError,
                   free_port, http_session, openapi_document, tail)

APP_ROLE = "hitkeep"
APP_DATABASE = "hitkeep"


def _binary() -> Path:
    configured = os.environ.get("HITKEEP_BIN")
    binary = Path(configured) if configured else REPO / ".build" / "debug" / "hitkeep"
    if not os.access(binary, os.X_OK):
        pytest.exit(f"{binary} not found: run `swift build` (or `make test`) first", returncode=2)
    return binary


def copy_migrations(directory: Path, below: Optional[int]) -> None:
    """Copies the repository's migrations numbered below `below` (all for None) into `directory`."""
    for path in sorted((REPO / "migrations").glob("*.sql")):
        if below is None or int(path.name.split("_", 1)[0]) < below:
            shutil.copy(path, directory)


class Stack:
    """The session's deployment and the means to bend it."""

    def __init__(self, root: Path, binary: Path):
        self.root = root
        self.binary = binary
        self.cluster = PostgresCluster(root / "pg")
        self.static_root = root / "static"
        self.pool: Optional[Pool] = None
        self.nginx: Optional[Nginx] = None
        # With HITKEEP_TEST_PGBOUNCER=1 the session's pool reaches the database through this.
        self.pgbouncer: Optional[PgBouncer] = None
        self.http = http_session()
        # Pools and nginx instances a single test started; stopped when that test ends.
        self.extras: list = []
        self._names = 0

    # --- database -----------------------------------------------------------------------------

    @property
    def openapi_document(self) -> Path:
        """The deployment's copy of docs/openapi.json, which nginx serves at /api/openapi.json."""
        return openapi_document(self.static_root)

    @property
    def database_url(self) -> str:
        """What the workers connect with: the application's own role, not the superuser."""
        return self.cluster.url(APP_DATABASE, user=APP_ROLE)

    def sql(self, query: str, database: str = APP_DATABASE) -> list[tuple]:
        """Rows of `query` run as the superuser; values as text, NULL as None."""
        return self.cluster.psql(query, database=database)

    def create_database(self, name: str) -> str:
        """A new empty database owned by the application role; returns its URL for that role."""
        self.cluster.psql(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}')
        return self.cluster.url(name, user=APP_ROLE)

    def hitkeep(self, *arguments: str, database_url: Optional[str] = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
        """Runs a `hitkeep` subcommand (migrate, …) against the test database."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith("HITKEEP_")}
        environment["HITKEEP_DATABASE_URL"] = database_url or self.database_url
        return subprocess.run([str(self.binary), *arguments], capture_output=True, text=True,
                              timeout=timeout, env=environment, stdin=subprocess.DEVNULL, cwd=self.root)

    def migrate(self, *arguments: str, migrations: Path = REPO / "migrations",
                database_url: Optional[str] = None) -> subprocess.CompletedProcess:
        return self.hitkeep("migrate", "--migrations", str(migrations), *arguments, database_url=database_url)

    def installation_before(self, version: int, directory: Path, prefix: str = "upgrade") -> tuple[str, str]:
        """A new database as an installation had it before migration `version`: migrated with the
        earlier migrations, copied into `directory` for `upgrade` to add to. Returns (name, URL)."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        url = self.create_database(name)
        directory.mkdir(exist_ok=True)
        copy_migrations(directory, below=version)
        migrated = self.migrate(migrations=directory, database_url=url)
        assert migrated.returncode == 0, migrated.stderr
        return name, url

    def upgrade(self, directory: Path, database_url: str, *arguments: str,
                through: Optional[int] = None) -> subprocess.CompletedProcess:
        """`hitkeep migrate` of an `installation_before` with the migrations up to `through`
        (all of them by default)."""
        copy_migrations(directory, below=None if through is None else through + 1)
        return self.migrate(*arguments, migrations=directory, database_url=database_url)

    # --- HTTP ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.nginx is not None
        return self.nginx.base_url

    def request(self, method: str, path: str, base_url: Optional[str] = None, **options) -> requests.Response:
        options.setdefault("timeout", REQUEST_TIMEOUT)
        return self.http.request(method, (base_url or self.base_url) + path, **options)

    def get(self, path: str, **options) -> requests.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options) -> requests.Response:
        return self.request("POST", path, **options)

    # --- more processes -----------------------------------------------------------------------

    def _name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def start_pool(self, workers: int = 2, database_url: Optional[str] = None, name: Optional[str] = None,
                   tcp: bool = False) -> Pool:
        """Another pool on its own socket (a TCP port with `tcp`), stopped at the end of the calling test."""
        name = name or self._name("pool")
        pool = Pool(self.binary, self.root / "run" / f"{name}.sock", database_url or self.database_url,
                    self.root / "log" / f"{name}.log", workers=workers, tcp_port=free_port() if tcp else None)
        self.extras.append(pool)
        return pool.start()

    def start_nginx(self, upstreams: Sequence[str], tls: Optional[tuple[Path, Path]] = None,
                    http_directives: Sequence[str] = ()) -> Nginx:
        """Another nginx from the same templates, on a free port, stopped at the end of the calling test;
        with `tls` (certificate, key), serving https; with `http_directives` added to its http block."""
        nginx = Nginx(self.root / "run" / self._name("nginx"), self.static_root, upstreams, tls=tls,
                      http_directives=http_directives)
        self.extras.append(nginx)
        return nginx.start()

    def start_recorder(self) -> FastCGIRecorder:
        """A FastCGI responder that records what nginx passes, stopped at the end of the calling test."""
        name = self._name("recorder")
        recorder = FastCGIRecorder(self.root / "run" / f"{name}.sock", self.root / "log" / f"{name}.jsonl")
        self.extras.append(recorder)
        return recorder.start()

    def stop_extras(self) -> None:
        while self.extras:
            with contextlib.suppress(Exception):
                self.extras.pop().stop()

    def diagnostics(self) -> str:
        """Log tails worth reading when a test fails."""
        parts = []
        for path in sorted((self.root / "log").glob("*.log")) + sorted((self.root / "run").glob("*/error.log")):
            parts.append(f"--- {path.relative_to(self.root)}\n{tail(path, 25)}")
        parts.append(f"--- pg/postgresql.log\n{tail(self.cluster.log, 15)}")
        if self.pgbouncer:
            parts.append(f"--- pgbouncer/pgbouncer.log\n{tail(self.pgbouncer.log, 15)}")
        return "\n".join(parts)


def _prepare_static(destination: Path) -> None:
    """The test nginx serves a copy of nginx/static/ and of docs/openapi.json: the repository may sit
    where nginx's unprivileged workers cannot read (a home directory), a temporary directory never does."""
    shutil.copytree(REPO / "nginx" / "static", destination)
    tracker = destination / "hk.js"
    if not tracker.exists():
        # Until the real tracker exists, a stand-in proves how nginx serves the path.
        tracker.write_text("/* hk.js stand-in for the integration tests */\n")
    for path in [destination, *destination.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    # Installed beside the static files, as the README's deployment steps do.
    document = openapi_document(destination)
    shutil.copyfile(REPO / "docs" / "openapi.json", document)
    document.chmod(0o644)


@pytest.fixture(scope="session")
def stack():
    built = _binary()
    root = Path(tempfile.mkdtemp(prefix="hitkeep-it-"))
    # PostgreSQL (as postgres) and nginx's workers (as www-data) must reach their files in here.
    root.chmod(0o755)
    for directory in ("bin", "run", "log"):
        (root / directory).mkdir()
        (root / directory).chmod(0o755)
    # Every process of the run starts from one copy: a `swift build` during the run neither changes
    # the binary under the tests nor makes it briefly unexecutable ("Text file busy").
    binary = root / "bin" / "hitkeep"
    shutil.copy2(built, binary)
    deployment = Stack(root, binary)
    with contextlib.ExitStack() as cleanup:
        def remove_root():
            if os.environ.get("HITKEEP_TEST_KEEP"):
                print(f"\nkept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)

        cleanup.callback(remove_root)
        cluster = deployment.cluster
        cluster.initialize()
        cluster.start()
        cleanup.callback(lambda: cluster.is_running() and cluster.stop())
        cluster.psql(f"CREATE ROLE {APP_ROLE} LOGIN")
        # migrations/0005_reporting.sql grants to this role; creating roles takes a superuser.
        cluster.psql("CREATE ROLE hitkeep_reporting NOLOGIN")
        deployment.create_database(APP_DATABASE)

        migrated = deployment.migrate()
        if migrated.returncode != 0:
            raise StackError(f"hitkeep migrate failed:\n{migrated.stdout}\n{migrated.stderr}")

        if os.environ.get("HITKEEP_TEST_PGBOUNCER") == "1":
            # The README's PgBouncer set-up: 16 workers share 4 server sessions, a transaction at a
            # time; the timeouts the workers cannot set per session come from the role.
            cluster.psql(f"ALTER ROLE {APP_ROLE} SET statement_timeout = '10s'; "
                         f"ALTER ROLE {APP_ROLE} SET idle_in_transaction_session_timeout = '60s'")
            deployment.pgbouncer = PgBouncer(root / "pgbouncer", cluster, APP_DATABASE, APP_ROLE, server_connections=4)
            cleanup.callback(deployment.pgbouncer.stop)
            deployment.pgbouncer.start()
            deployment.pool = Pool(binary, root / "run" / "hitkeep.sock", deployment.pgbouncer.url(),
                                   root / "log" / "pool.log", workers=16,
                                   extra_environment={"HITKEEP_DATABASE_POOL_MODE": "transaction"})
        else:
            deployment.pool = Pool(binary, root / "run" / "hitkeep.sock", deployment.database_url,
                                   root / "log" / "pool.log", workers=4)
        cleanup.callback(deployment.pool.stop)
        deployment.pool.start()

        _prepare_static(deployment.static_root)
        deployment.nginx = Nginx(root / "run" / "nginx", deployment.static_root, [deployment.pool.upstream])
        cleanup.callback(deployment.nginx.stop)
        deployment.nginx.start()

        cleanup.callback(deployment.stop_extras)
        yield deployment


@pytest.fixture(autouse=True)
def _isolated_extras(stack, request):
    """Pools and nginx instances a test started never outlive it, and a failure shows the logs."""
    yield
    stack.stop_extras()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    deployment = item.funcargs.get("stack") if hasattr(item, "funcargs") else None
    if report.failed and deployment is not None:
        report.sections.append(("hitkeep logs", deployment.diagnostics()))


def pytest_configure(config):
    # A CI timeout or `kill` ends the run with SIGTERM: turn it into the same orderly teardown as
    # Ctrl-C, so that no cluster, pool or nginx is left behind.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
