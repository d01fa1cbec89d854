"""`hitkeep migrate`: in order, once, recorded with checksums, and refusing edited history."""

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
