"""An operator's backup: `pg_dump` of an installation's database, restored with `pg_restore` into a new
one, is an installation that migrates nothing and answers as the original did."""

from __future__ import annotations

import subprocess

from accounts import Deployment, deployment, start_pool, unique
from test_partitions import stats
from test_value_index import DAY, insert_traffic


def test_a_dump_restores_into_an_installation_that_answers_the_same(stack, tmp_path):
    own = deployment(stack, fresh_database=True)
    api = own.people.new()
    site = api.create_site()
    insert_traffic(own, site["id"])
    # Two filters that select few page views together: read through the index of values on
    # `events`, whose expression pg_restore evaluates with an empty search_path (migration 0043).
    query = f"{DAY}&filter=path:/rare&filter=country:DE&interval=hour"
    before = stats(api, site["id"], query)
    assert before["total_pageviews"] > 0

    dump = tmp_path / "hitkeep.dump"
    dumped = subprocess.run([str(stack.cluster.bindir / "pg_dump"), "--format=custom", "--file", str(dump),
                             "--dbname", stack.cluster.url(own.database)], capture_output=True, text=True, timeout=120)
    assert dumped.returncode == 0, dumped.stderr
    name = unique("restored_")
    url = stack.create_database(name)
    restored = subprocess.run([str(stack.cluster.bindir / "pg_restore"), "--exit-on-error",
                               "--dbname", stack.cluster.url(name), str(dump)], capture_output=True, text=True, timeout=300)
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr == ""

    migrated = stack.migrate(database_url=url)
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
    assert stack.sql("SELECT count(*) FROM events", database=name) == own.sql("SELECT count(*) FROM events")

    pool = start_pool(stack, database_url=url)
    nginx = stack.start_nginx([pool.upstream])
    copy = Deployment(stack, pool, nginx.base_url, name, url)
    assert stats(copy.people.login(api.user), site["id"], query) == before
