"""`hitkeep migrate`: in order, once, recorded with checksums, and refusing edited history."""

import hashlib
import shutil
import uuid

from stack import REPO

MIGRATIONS = sorted(path.name for path in (REPO / "migrations").glob("*.sql"))


def versions_of(names):
    return [int(name.split("_", 1)[0]) for name in names]


def applied(stack, database="hitkeep"):
    return stack.sql("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version",
                     database=database)


def fresh_copy(stack, tmp_path):
    """A new database and a private copy of migrations/ to bend without touching the repository."""
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    url = stack.create_database(name)
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", directory)
    return name, url, directory


# What each released migration's text hashes to, as `schema_migrations.checksum` records it. A
# database that applied one refuses every later `hitkeep migrate` if its file changes, even in a
# comment: a new migration is the only way to change what an old one did or says.
RELEASED = {
    1: "c0f087dbddf5992eb6921b86a0d50c29bcc3415507ba932a18917800bed95930",
    2: "1d060bd1c335d146e22754106106e83df90fdf0e6b9665b68a3afd0b3defce6d",
    3: "daa80af9272eb4bdb7090913f6f367dd28cd6ebb8b8c347c758dd8e66c6b77d6",
    4: "7165ec682c8b75a6a3ad04ba93c188fe25e2c3a889d37cf9905ab1335f891ed5",
    5: "1ddc61270486fb0d79212862d0884a0671ad28955109cda81aab71beb1eb9fd4",
    6: "5616fe0b90fa9dd271f56bcb0953c98a560501c38eb439a26d8fbb9b65173e06",
    7: "f60d4137df286766951e50a7ebd933a5c84833a305d1874589254b1dbc430e7c",
    8: "896069e8cc1c65906de368e6010595b719969ad42411eef1cdf5caab3cae10bd",
    9: "2c79aecc9c813c527ea8c67a4e4fa57f583a249d2974fd48156779a697b3b220",
    10: "0d5afd150c8fd874b503a7895e28d4da0b2055683d78749916e632d0e9156350",
    11: "c736b7f04fdf0a40718dae136d85ced41f72434b487fc70d5ef43e0df45cfa0a",
}


def test_released_migrations_are_never_edited():
    files = {int(name.split("_", 1)[0]): REPO / "migrations" / name for name in MIGRATIONS}
    for version, checksum in RELEASED.items():
        assert hashlib.sha256(files[version].read_bytes()).hexdigest() == checksum, f"migration {version} was edited"


def test_the_repository_has_migrations():
    assert MIGRATIONS, "migrations/ is empty"
    assert versions_of(MIGRATIONS) == sorted(set(versions_of(MIGRATIONS)))


def test_second_migrate_applies_nothing(stack):
    before = applied(stack)
    assert [int(row[0]) for row in before] == versions_of(MIGRATIONS)

    result = stack.migrate()
    assert result.returncode == 0, result.stderr
    assert "applied" not in result.stdout
    assert "up to date" in result.stdout
    assert applied(stack) == before

    status = stack.migrate("--status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert len(lines) == len(MIGRATIONS)
    for line, name in zip(lines, MIGRATIONS):
        version, title = name[:-4].split("_", 1)
        assert line.startswith(f"{version} {title} applied "), line
        assert "CHANGED" not in line


def test_migrate_applies_pending_files_in_order(stack, tmp_path):
    name, url, directory = fresh_copy(stack, tmp_path)
    first = stack.migrate(migrations=directory, database_url=url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"applied {file[:4]} {file[5:-4]}" for file in MIGRATIONS]

    (directory / "9999_later.sql").write_text("CREATE TABLE later_probe (id integer PRIMARY KEY);\n")
    second = stack.migrate(migrations=directory, database_url=url)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == ["applied 9999 later"]
    assert stack.sql("SELECT count(*) FROM later_probe", database=name) == [("0",)]
    assert [int(row[0]) for row in applied(stack, name)] == versions_of(MIGRATIONS) + [9999]


def test_a_failing_migration_leaves_nothing_behind(stack, tmp_path):
    name, url, directory = fresh_copy(stack, tmp_path)
    assert stack.migrate(migrations=directory, database_url=url).returncode == 0
    (directory / "9998_broken.sql").write_text(
        "CREATE TABLE half_done (id integer);\nSELECT * FROM no_such_table;\n")
    result = stack.migrate(migrations=directory, database_url=url)
    assert result.returncode != 0
    assert "9998" in result.stderr
    # Its own transaction rolled back: neither the table nor the record exists.
    assert stack.sql("SELECT to_regclass('half_done') IS NULL", database=name) == [("t",)]
    assert 9998 not in [int(row[0]) for row in applied(stack, name)]


def test_a_migration_changed_after_applying_is_refused(stack, tmp_path):
    name, url, directory = fresh_copy(stack, tmp_path)
    assert stack.migrate(migrations=directory, database_url=url).returncode == 0
    before = applied(stack, name)

    edited = directory / MIGRATIONS[0]
    edited.write_text(edited.read_text() + "\n-- edited after it was applied\n")
    (directory / "9999_pending.sql").write_text("CREATE TABLE pending_probe (id integer);\n")

    result = stack.migrate(migrations=directory, database_url=url)
    assert result.returncode != 0
    assert "changed" in result.stderr
    # Refused before anything else ran: the pending file was not applied either.
    assert applied(stack, name) == before
    assert stack.sql("SELECT to_regclass('pending_probe') IS NULL", database=name) == [("t",)]

    status = stack.migrate("--status", migrations=directory, database_url=url)
    first_line = status.stdout.splitlines()[0]
    assert first_line.startswith(MIGRATIONS[0][:4]) and "CHANGED" in first_line


def test_the_tables_every_request_reads_are_analyzed_after_any_change(stack):
    # autovacuum's default waits for 50 changed rows, which a few users, sites and tokens never
    # reach; without statistics the planner takes them for large tables (migrations/0009).
    tables = ["users", "sessions", "sites", "site_members", "api_clients", "api_client_sites",
              "api_client_tokens", "api_client_revoked_tokens"]
    listed = ", ".join(f"'{name}'" for name in tables)
    rows = stack.sql("SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     f"WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname IN ({listed})")
    assert sorted(name for name, _ in rows) == sorted(tables)
    for name, options in rows:
        assert "autovacuum_analyze_threshold=0" in (options or ""), name


def test_the_rollups_leave_free_only_the_room_their_updates_need(stack):
    # A fold updates only the rows of the hours going on; every earlier hour's page keeps its
    # reserve for good, so a larger one is paid in bytes per event (migrations/0028, 0039).
    rows = stack.sql("SELECT relname, reloptions::text FROM pg_class WHERE relkind = 'r' AND relname IN "
                     "('keyed_session_hours', 'filtered_counts', 'filtered_session_ends', 'keyed_filtered_traffic') ORDER BY 1")
    assert rows == [("filtered_counts", "{fillfactor=90}"), ("filtered_session_ends", "{fillfactor=90}"),
                    ("keyed_filtered_traffic", "{fillfactor=100}"), ("keyed_session_hours", "{fillfactor=90}")]


def test_a_server_newer_than_its_database_answers_503_until_it_is_migrated(stack, tmp_path):
    """An upgrade whose `hitkeep migrate` has not run yet: the new build's workers answer 503
    `database_not_migrated` (and health `not_migrated`, for load balancers) instead of a 500 on the
    first statement that needs the new schema, log why, and serve as soon as the migration is
    applied, without a restart. A database further along than the build is served."""
    directory = tmp_path / "migrations"
    last = versions_of(MIGRATIONS)[-1]
    name, url = stack.installation_before(last, directory)
    pool = stack.start_pool(workers=1, database_url=url)
    workers = pool.worker_pids()
    nginx = stack.start_nginx([pool.upstream])

    health = stack.get("/api/health", base_url=nginx.base_url)
    assert health.status_code == 503
    assert health.headers["Retry-After"] == "30"
    assert health.json()["database"] == "not_migrated" and health.json()["status"] == "unavailable"
    for method, path, body in [("GET", "/api/status", None),
                               ("POST", "/api/login", {"email": "someone@example.com", "password": "a password"})]:
        refused = stack.request(method, path, base_url=nginx.base_url, json=body)
        assert refused.status_code == 503, (path, refused.text)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.headers["Retry-After"] == "30"
        problem = refused.json()
        assert problem["code"] == "database_not_migrated"
        assert "hitkeep migrate" in problem["detail"]
    assert f"has migrations up to {last - 1} applied and this build needs {last}" in pool.log.read_text()

    upgraded = stack.upgrade(directory, url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert stack.get("/api/health", base_url=nginx.base_url).json() == {"status": "ok", "database": "ok",
                                                                         "version": health.json()["version"]}
    status = stack.get("/api/status", base_url=nginx.base_url)
    assert status.status_code == 200 and status.json()["needs_setup"] is True
    assert pool.worker_pids() == workers, "the workers were replaced instead of checking again"

    stack.sql("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'from_a_later_build', '')",
              database=name)
    later = stack.start_pool(workers=1, database_url=url)
    later_nginx = stack.start_nginx([later.upstream])
    assert stack.get("/api/health", base_url=later_nginx.base_url).status_code == 200
