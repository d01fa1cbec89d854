"""PostgreSQL going away and coming back while the pool keeps running (API.md §1: 503
database_unavailable with Retry-After; the same workers recover by themselves)."""

from stack import wait_until


def test_database_outage_is_503_and_the_same_workers_recover(stack):
    workers = stack.pool.worker_pids()
    # Every worker holds a connection that is about to go stale.
    for _ in range(12):
        assert stack.get("/api/status").status_code == 200

    stack.cluster.stop()
    try:
        # Enough requests that every worker answers at least one of each.
        for _ in range(8):
            health = stack.get("/api/health")
            assert health.status_code == 503
            assert health.headers["Content-Type"] == "application/json; charset=utf-8"
            assert health.headers["Retry-After"] == "1"
            assert health.headers["Cache-Control"] == "no-store"
            body = health.json()
            assert body["database"] == "unavailable"
            assert body["status"] != "ok"

            status = stack.get("/api/status")
            assert status.status_code == 503
            assert status.headers["Content-Type"] == "application/problem+json"
            assert status.headers["Retry-After"] == "1"
            problem = status.json()
            assert problem["code"] == "database_unavailable" and problem["status"] == 503
            # Nothing of the database's own error text leaks out.
            assert "socket" not in problem["detail"] and "postgres" not in problem["detail"].lower()
    finally:
        if not stack.cluster.is_running():
            stack.cluster.start()

    wait_until(lambda: stack.get("/api/health").status_code == 200, 10, "health did not recover")
    statuses = [stack.get(path).status_code for _ in range(20) for path in ("/api/status", "/api/health")]
    assert statuses == [200] * 40
    assert stack.pool.worker_pids() == workers, "workers were replaced instead of reconnecting"
