"""The pieces of a throwaway HitKeep deployment for the integration tests.

A PostgreSQL cluster in a temporary directory, `hitkeep serve` pools on unix sockets, and nginx
rendered from the repository's own nginx/*.conf.template: the same configuration production uses.
Everything here runs as root (PostgreSQL then as the `postgres` user, nginx workers as www-data) or
as a normal user, and every wait is bounded.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable, Optional, Sequence

import requests
import requests.adapters

REPO = Path(__file__).resolve().parents[2]
RENDER = REPO / "scripts" / "render-template"
TEMPLATES = REPO / "nginx"

# Every HTTP request of the suite is bounded by this, connect and read.
REQUEST_TIMEOUT = 10.0
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


class StackError(RuntimeError):
    pass


def running_as_root() -> bool:
    return os.geteuid() == 0


def wait_until(predicate: Callable[[], object], timeout: float, message: str, interval: float = 0.05):
    """Polls until `predicate` returns something truthy and returns it; raises after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{message} (waited {timeout:g} s)")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_program(name: str) -> str:
    """`nginx` and `runuser` live in sbin, which a normal user's PATH may lack."""
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN_DIRS))
    if not found:
        raise StackError(f"{name} is not installed (make test installs the packages it needs)")
    return found


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


def http_session(source_address: Optional[str] = None) -> requests.Session:
    """A session that ignores proxies from the environment; with `source_address`, one that connects
    from that loopback address, as a visitor at another address would arrive."""
    session = requests.Session()
    # A proxy from the environment must never see (or swallow) traffic meant for loopback.
    session.trust_env = False
    if source_address:
        session.mount("http://", _SourceAddressAdapter(source_address))
    return session


class _SourceAddressAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def loopback_address_works(address: str) -> bool:
    """Whether this machine can send from `address` (Linux routes all of 127.0.0.0/8 to loopback)."""
    try:
        with socket.socket() as probe:
            probe.bind((address, 0))
        return True
    except OSError:
        return False


class RawResponse:
    """The parts of a response the tests read, for requests sent byte for byte."""

    def __init__(self, status: int, headers, body: bytes):
        self.status_code = status
        self.headers = headers  # http.client's message: case-insensitive like requests'
        self.content = body
        self.text = body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content)


def raw_request(base_url: str, method: str, target: str, headers=None, body: Optional[bytes] = None) -> RawResponse:
    """Sends `target` exactly as given: requests re-quotes a malformed escape such as %zz into %25zz,
    which would hide exactly what a test of malformed input wants to send. `headers` is a dict or a
    list of (name, value) pairs, which may repeat a name."""
    parsed = urllib.parse.urlsplit(base_url)
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.putrequest(method, target, skip_host=any(name.lower() == "host" for name, _ in pairs),
                              skip_accept_encoding=True)
        for name, value in pairs:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


def children(pid: int) -> list[int]:
    """Live (not zombie) child processes of `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; the fields after its last ')' do not.
        fields = stat[stat.rindex(")") + 2:].split()
        state, parent = fields[0], int(fields[1])
        if parent == pid and state != "Z":
            found.append(int(entry))
    return sorted(found)


def postgres_bindir() -> Path:
    """The newest server installed: Debian keeps each major version in /usr/lib/postgresql/N/bin."""
    versions = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    if versions:
        return versions[0]
    try:
        bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                     timeout=10, check=True).stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    except (OSError, subprocess.SubprocessError):
        pass
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise StackError("PostgreSQL server binaries (initdb) not found")


class PostgresCluster:
    """A private cluster listening on a unix socket only, in `directory`."""

    SUPERUSER = "postgres"

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgresql.log"
        self.bindir = postgres_bindir()
        # The socket lives beside the data, not in /run/postgresql, so that it is ours alone and
        # disappears with the directory.
        self.socket_dir = directory

    def _as_owner(self, arguments: Sequence[str]) -> list[str]:
        # initdb and postgres refuse to run as root.
        if running_as_root():
            return [find_program("runuser"), "-u", "postgres", "--", *arguments]
        return list(arguments)

    def _run(self, arguments: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(self._as_owner(arguments), capture_output=True, text=True,
                                timeout=timeout, cwd=self.directory, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise StackError(f"{' '.join(arguments)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                             f"\n--- {self.log}:\n{tail(self.log)}")
        return result

    def initialize(self) -> None:
        self.directory.mkdir()
        self.directory.chmod(0o755)
        if running_as_root():
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self._run([str(self.bindir / "initdb"), "--pgdata", str(self.data), "--username", self.SUPERUSER,
                   "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync"])
        # A cluster that dies with the test run: durability buys nothing here and costs seconds.
        settings = f"""
listen_addresses = ''
unix_socket_directories = '{self.socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
"""
        with open(self.data / "postgresql.conf", "a") as handle:
            handle.write(settings)

    def start(self) -> None:
        self._run([str(self.bindir / "pg_ctl"), "--pgdata", str(self.data), "--log", str(self.log),
                   "--wait", "--timeout", "30", "start"], timeout=40)

    def stop(self) -> None:
        self._run([str(self.bindir / "pg_ctl"), "--pgdata", str(self.data), "--mode", "fast",
                   "--wait", "--timeout", "30", "stop"], timeout=40)

    def is_running(self) -> bool:
        result = subprocess.run(self._as_owner([str(self.bindir / "pg_ctl"), "--pgdata", str(self.data), "status"]),
                                capture_output=True, timeout=10, cwd=self.directory, stdin=subprocess.DEVNULL)
        return result.returncode == 0

    def create_standby(self, directory: Path) -> "PostgresCluster":
        """A streaming standby of this cluster in `directory`, not yet started: a base backup
        (`pg_basebackup -R`, which also writes the connection to this cluster and standby.signal)
        with a socket directory of its own."""
        standby = PostgresCluster(directory)
        directory.mkdir()
        directory.chmod(0o755)
        if running_as_root():
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        self._run([str(self.bindir / "pg_basebackup"), "--pgdata", str(standby.data), "--write-recovery-conf",
                   "--checkpoint", "fast", "--no-sync", "--host", str(self.socket_dir), "--username", self.SUPERUSER])
        with open(standby.data / "postgresql.conf", "a") as handle:
            handle.write(f"\nunix_socket_directories = '{standby.socket_dir}'\n")
        return standby

    def url(self, database: str, user: str = SUPERUSER) -> str:
        """A libpq URI; the socket directory goes in `host`, percent-encoded."""
        host = urllib.parse.quote(str(self.socket_dir), safe="")
        return f"postgresql://{user}@/{database}?host={host}"

    def psql(self, sql: str, database: str = "postgres", timeout: float = 30) -> list[tuple[Optional[str], ...]]:
        """Runs `sql` as the superuser and returns the rows of its last statement, NULL as None."""
        null = "\x01NULL\x01"
        # One argument may hold at most 128 KiB (a search over every column is longer): such a
        # statement goes in on stdin, which prints the rows of each statement rather than the last's.
        long = len(sql.encode()) > 100_000
        result = subprocess.run(
            [str(self.bindir / "psql"), "--no-psqlrc", "--quiet", "--csv", "--tuples-only",
             "--set", "ON_ERROR_STOP=1", "--pset", f"null={null}", "--dbname", self.url(database),
             *(["--file", "-"] if long else ["--command", sql])],
            capture_output=True, text=True, timeout=timeout, input=sql if long else None,
            stdin=None if long else subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise StackError(f"psql failed: {result.stderr.strip()}\nSQL: {sql}")
        return [tuple(None if value == null else value for value in row)
                for row in csv.reader(io.StringIO(result.stdout)) if row]

    def background_session(self, database: str = "postgres") -> "PsqlSession":
        return PsqlSession(self, database)


class PsqlSession:
    """An interactive psql fed statement by statement: holds locks or transactions open on command."""

    def __init__(self, cluster: PostgresCluster, database: str):
        self.cluster = cluster
        self.database = database
        # Its own application name, by which `begin` finds its backend.
        self.name = f"psql-session-{uuid.uuid4().hex[:12]}"
        self.process = subprocess.Popen(
            [str(cluster.bindir / "psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
             "--dbname", cluster.url(database)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PGAPPNAME": self.name},
        )

    def send(self, sql: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(sql.rstrip() + "\n")
        self.process.stdin.flush()

    def begin(self, sql: str, timeout: float = 10) -> None:
        """Runs `sql` in a transaction left open, and returns once it has run: its locks are held
        until the test sends COMMIT or ROLLBACK."""
        # psql sends each statement on its own, and the session is idle in transaction between BEGIN
        # and `sql` too: a marker statement after `sql` says that `sql` has run.
        marker = f"ran-{uuid.uuid4().hex[:12]}"
        self.send(f"BEGIN; {sql.rstrip().rstrip(';')}; SELECT '{marker}';")
        wait_until(lambda: self.cluster.psql(f"SELECT 1 FROM pg_stat_activity WHERE application_name = '{self.name}' "
                                             f"AND state = 'idle in transaction' AND query LIKE '%{marker}%'",
                                             database=self.database),
                   timeout, f"the session did not run: {sql}")

    def close(self, timeout: float = 10) -> int:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                return self.process.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                return self.process.wait(timeout=timeout)
        return self.process.returncode


class PgBouncer:
    """Debian's PgBouncer in transaction pooling in front of `cluster`, on a unix socket in
    `directory`: every client connection to `database` is served by at most `server_connections`
    server sessions of `user`, lent out a transaction at a time."""

    def __init__(self, directory: Path, cluster: PostgresCluster, database: str, user: str,
                 server_connections: int = 4):
        self.directory = directory
        self.cluster = cluster
        self.database = database
        self.user = user
        self.server_connections = server_connections
        self.port = free_port()  # only names the socket file, .s.PGSQL.<port>
        self.log = directory / "pgbouncer.log"
        self.process: Optional[subprocess.Popen] = None

    def url(self) -> str:
        host = urllib.parse.quote(str(self.directory), safe="")
        return f"postgresql://{self.user}@/{self.database}?host={host}&port={self.port}"

    def start(self, timeout: float = 15) -> "PgBouncer":
        self.directory.mkdir()
        self.directory.chmod(0o755)
        # `auth_type = any`: clients are not asked for a password, and the server connections log
        # in as the user the [databases] entry names (trust, as the cluster allows on its socket).
        config = self.directory / "pgbouncer.ini"
        config.write_text(f"""[databases]
{self.database} = host={self.cluster.socket_dir} dbname={self.database} user={self.user}

[pgbouncer]
unix_socket_dir = {self.directory}
listen_port = {self.port}
auth_type = any
pool_mode = transaction
default_pool_size = {self.server_connections}
max_client_conn = 200
logfile = {self.log}
pidfile = {self.directory / "pgbouncer.pid"}
""")
        arguments = [find_program("pgbouncer"), str(config)]
        if running_as_root():
            owner = pwd.getpwnam("postgres")
            for path in (self.directory, config):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            # PgBouncer refuses to run as root.
            arguments = [find_program("runuser"), "-u", "postgres", "--", *arguments]
        self.process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)

        def ready():
            if self.process.poll() is not None:
                raise StackError(f"pgbouncer exited with {self.process.returncode}:\n{tail(self.log)}")
            return (self.directory / f".s.PGSQL.{self.port}").exists()

        wait_until(ready, timeout, "pgbouncer did not start")
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # runuser passes the signal on to PgBouncer, which then exits at once (SIGINT: safe shutdown
        # waits for clients; SIGTERM: immediate).
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


class Pool:
    """One `hitkeep serve` supervisor and its workers on a unix socket (or a TCP port), logging to a file."""

    def __init__(self, binary: Path, socket_path: Path, database_url: str, log: Path, workers: int = 4,
                 extra_environment: Optional[dict] = None, listener: Optional[socket.socket] = None,
                 tcp_port: Optional[int] = None, shutdown_timeout: int = 15):
        """With `listener`, the pool gets that listening socket on fd 0 (as from spawn-fcgi) and no
        --socket; `socket_path` is then where the listener is bound. With `tcp_port`, the pool
        listens on 127.0.0.1:`tcp_port` instead of `socket_path`."""
        self.binary = binary
        self.listener = listener
        self.tcp_port = tcp_port
        self.socket = socket_path
        self.database_url = database_url
        self.log = log
        self.workers = workers
        self.extra_environment = extra_environment or {}
        self.shutdown_timeout = shutdown_timeout
        self.process: Optional[subprocess.Popen] = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.tcp_port}" if self.tcp_port else f"unix:{self.socket}"

    def is_listening(self) -> bool:
        if not self.tcp_port:
            return self.socket.exists()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            return probe.connect_ex(("127.0.0.1", self.tcp_port)) == 0

    def start(self, timeout: float = 15) -> "Pool":
        environment = {key: value for key, value in os.environ.items() if not key.startswith("HITKEEP_")}
        environment.update(self.extra_environment)
        # The URL travels in the environment, as the supervisor passes it on: it may hold a password.
        environment["HITKEEP_DATABASE_URL"] = self.database_url
        # nginx's workers run as www-data when the suite runs as root: hence 0666.
        if self.listener:
            where = []
        elif self.tcp_port:
            where = ["--socket", self.upstream]
        else:
            where = ["--socket", str(self.socket), "--socket-mode", "0666"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "serve", *where, "--workers", str(self.workers),
                 "--shutdown-timeout", str(self.shutdown_timeout)],
                stdin=self.listener.fileno() if self.listener else subprocess.DEVNULL,
                stdout=log, stderr=log, env=environment,
                # Ctrl-C on the test run must not reach the pools directly: teardown stops them.
                start_new_session=True,
            )

        def ready():
            if self.process.poll() is not None:
                raise StackError(f"hitkeep serve exited with {self.process.returncode}:\n{tail(self.log)}")
            return self.is_listening() and len(self.worker_pids()) == self.workers

        wait_until(ready, timeout, f"pool on {self.upstream} did not start {self.workers} workers")
        return self

    def worker_pids(self) -> list[int]:
        return self.child_pids("worker")

    def roll_up_pids(self) -> list[int]:
        return self.child_pids("roll-up")

    def child_pids(self, subcommand: str) -> list[int]:
        """The supervisor's children running `hitkeep SUBCOMMAND`."""
        found = []
        for pid in children(self.pid):
            try:
                arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if len(arguments) > 1 and arguments[1] == subcommand.encode():
                found.append(pid)
        return found

    def send_signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20) -> Optional[int]:
        """SIGTERM and wait for the drain; SIGKILL the lot if that does not end in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            workers = children(self.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                for pid in [self.process.pid, *workers]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.process.wait(timeout=10)
        return self.process.returncode

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def request_lines(self, path: str) -> list[str]:
        """The worker log lines of requests for exactly `path`, one per request, in order."""
        return [line for line in self.log_text().splitlines()
                if (entry := parse_request_line(line)) is not None and entry["path"] == path]

    def requests_logged(self, path: Optional[str] = None) -> list[dict]:
        """The workers' request log lines as fields (method, path, status, pid, id, …)."""
        entries = (parse_request_line(line) for line in self.log_text().splitlines())
        return [entry for entry in entries if entry is not None and (path is None or entry["path"] == path)]


# A worker's request line: `… hitkeep.worker: GET /api/health 200 0.15ms id=… pid=…`, or, with the
# metadata carrying everything, `… hitkeep.worker: request id=… method=GET path=/api/health pid=… status=200`.
_REQUEST_MESSAGE = re.compile(r"hitkeep\.worker: (?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>\d{3})\b")
_METADATA = re.compile(r"(?:^|\s)([a-z_]+)=(\S*)")


def parse_request_line(line: str) -> Optional[dict]:
    if "hitkeep.worker:" not in line:
        return None
    fields = dict(_METADATA.findall(line))
    message = _REQUEST_MESSAGE.search(line)
    if message:
        for name in ("method", "path", "status"):
            fields.setdefault(name, message.group(name))
    if "path" not in fields or "pid" not in fields:
        return None
    return fields


def nginx_etc() -> Path:
    """Where this nginx keeps mime.types (Debian: /etc/nginx)."""
    result = subprocess.run([find_program("nginx"), "-V"], capture_output=True, text=True, timeout=10)
    match = re.search(r"--conf-path=(\S+)", result.stderr + result.stdout)
    return Path(match.group(1)).parent if match else Path("/etc/nginx")


def render(template: Path, destination: Path, **values: str) -> None:
    result = subprocess.run([str(RENDER), str(template), *(f"{key}={value}" for key, value in values.items())],
                            capture_output=True, text=True, timeout=10)
    if result.returncode != 0:
        raise StackError(result.stderr)
    destination.write_text(result.stdout)


def nginx_user_directive() -> str:
    if not running_as_root():
        return ""
    try:
        pwd.getpwnam("www-data")
        return "user www-data;"
    except KeyError:
        return "user nobody nogroup;"


def openapi_document(static_root: Path) -> Path:
    """Where the test deployments keep their copy of docs/openapi.json: beside the static root, as
    a deployment installs it (conftest copies it there with the static files)."""
    return static_root.parent / "openapi.json"


class Nginx:
    """nginx in the foreground with its own pid, logs and temp files, serving the HitKeep server block."""

    def __init__(self, directory: Path, static_root: Path, upstreams: Sequence[str], port: Optional[int] = None,
                 tls: Optional[tuple[Path, Path]] = None, http_directives: Sequence[str] = ()):
        """`tls`: (certificate, key) to serve https with, as a deployment adds to the template's `listen`;
        `http_directives`: lines a deployment adds to its own http block (e.g. `geoip_proxy`)."""
        self.directory = directory
        self.static_root = static_root
        self.upstreams = list(upstreams)
        self.port = port
        self.tls = tls
        self.http_directives = list(http_directives)
        self.process: Optional[subprocess.Popen] = None
        self.error_log = directory / "error.log"
        self.access_log = directory / "access.log"
        self.directory.mkdir(exist_ok=True)
        # Explicitly, whatever the umask: nginx's workers create their temp files in here.
        self.directory.chmod(0o755)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _render(self) -> Path:
        server_conf = self.directory / "hitkeep.conf"
        listen = f"127.0.0.1:{self.port}" + (" ssl" if self.tls else "")
        render(TEMPLATES / "hitkeep.conf.template", server_conf,
               LISTEN=listen, SERVER_NAME="_", STATIC_ROOT=str(self.static_root),
               OPENAPI_DOCUMENT=str(openapi_document(self.static_root)),
               UPSTREAM_SERVERS="\n    ".join(f"server {upstream};" for upstream in self.upstreams))
        main_conf = self.directory / "nginx.conf"
        render(TEMPLATES / "nginx.conf.template", main_conf,
               USER_DIRECTIVE=nginx_user_directive(), RUN_DIR=str(self.directory),
               ERROR_LOG=str(self.error_log), ACCESS_LOG=str(self.access_log),
               NGINX_ETC=str(nginx_etc()), SERVER_CONF=str(server_conf))
        directives = list(self.http_directives)
        if self.tls:
            certificate, key = self.tls
            directives += [f"ssl_certificate {certificate};", f"ssl_certificate_key {key};"]
        if directives:
            # http-level, so that the server block of the template is used unchanged.
            lines = "".join(f"    {directive}\n" for directive in directives)
            text = main_conf.read_text().replace(f"    include {server_conf};", f"{lines}    include {server_conf};")
            main_conf.write_text(text)
        return main_conf

    def start(self, timeout: float = 15) -> "Nginx":
        # A free port can be taken between the probe and nginx's bind: try a few.
        fixed_port = self.port is not None
        for _ in range(1 if fixed_port else 3):
            if not fixed_port:
                self.port = free_port()
            config = self._render()
            self.process = subprocess.Popen(
                [find_program("nginx"), "-e", str(self.error_log), "-c", str(config), "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                wait_until(self._accepting, timeout, f"nginx did not start listening on {self.port}")
                return self
            except StackError:
                continue
        raise StackError(f"nginx did not start:\n{tail(self.error_log)}")

    def _accepting(self) -> bool:
        if self.process.poll() is not None:
            raise StackError(f"nginx exited with {self.process.returncode}:\n{tail(self.error_log)}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, upstreams: Sequence[str]) -> "Nginx":
        """Stops and starts again on the same port with other upstream servers."""
        self.stop()
        self.upstreams = list(upstreams)
        return self.start()


class FastCGIRecorder:
    """fastcgi_recorder.py in a pool's place: records the parameters nginx passes."""

    def __init__(self, socket_path: Path, record: Path):
        self.socket = socket_path
        self.record = record
        self.process: Optional[subprocess.Popen] = None

    @property
    def upstream(self) -> str:
        return f"unix:{self.socket}"

    def start(self, timeout: float = 10) -> "FastCGIRecorder":
        script = Path(__file__).with_name("fastcgi_recorder.py")
        self.process = subprocess.Popen([sys.executable, str(script), str(self.socket), str(self.record)],
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: self.socket.exists() or self.process.poll() is not None, timeout,
                   "the FastCGI recorder did not start")
        if self.process.poll() is not None:
            raise StackError(f"the FastCGI recorder exited with {self.process.returncode}")
        return self

    def requests(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def stop(self, timeout: float = 10) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=timeout)
