"""Two pools behind one nginx upstream: the deployment shape for more than one worker host."""

import signal

from accounts import assert_problem
from stack import wait_until
from test_pool_lifecycle import RequestLoop


def test_two_pools_share_the_load_and_survive_one_stopping(stack):
    first = stack.start_pool(workers=2)
    second = stack.start_pool(workers=2)
    nginx = stack.start_nginx([first.upstream, second.upstream])

    def counts():
        return len(first.request_lines("/api/status")), len(second.request_lines("/api/status"))

    for _ in range(40):
        assert stack.get("/api/status", base_url=nginx.base_url).status_code == 200
    # Each pool's log holds only its own workers' lines: a pool served a request iff it logged it.
    wait_until(lambda: sum(counts()) == 40, 5, "not every request was logged by a pool")
    served_first, served_second = counts()
    assert served_first > 0 and served_second > 0, counts()
    # …and by its own workers.
    first_pids = {int(entry["pid"]) for entry in first.requests_logged("/api/status")}
    assert first_pids and first_pids <= set(first.worker_pids())

    with RequestLoop(nginx.base_url + "/api/status") as loop:
        wait_until(lambda: loop.count >= 10, 5, "the request loop did not get going")
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
        after_stop = loop.count
        wait_until(lambda: loop.count >= after_stop + 20, 5, "no requests after the pool stopped")
    assert loop.failures == []

    stopped_at = counts()[0]
    for _ in range(20):
        assert stack.get("/api/status", base_url=nginx.base_url).status_code == 200
    # Every 200 was served, and logged, by exactly one pool; after the stop, only by the second.
    wait_until(lambda: sum(counts()) == 40 + loop.count + 20, 5, "the remaining pool did not log the requests")
    assert counts()[0] == stopped_at


def test_a_pool_on_a_tcp_port_answers_every_request_whole(stack):
    """A worker host behind the upstream listens on host:port. Workers close each connection as soon
    as the response is written, without waiting for nginx to close first: over TCP that is only
    clean when nothing the web server sent is left unread, including a body the worker refuses."""
    pool = stack.start_pool(workers=2, tcp=True)
    assert pool.upstream.startswith("127.0.0.1:")
    nginx = stack.start_nginx([pool.upstream])
    for _ in range(200):
        response = stack.get("/api/health", base_url=nginx.base_url)
        assert response.status_code == 200 and response.json()["database"] == "ok"
    for _ in range(20):
        refused = stack.post("/api/health", base_url=nginx.base_url, data=b"x" * (70 * 1024),
                             headers={"Content-Type": "application/json"})
        assert_problem(refused, 413, "payload_too_large")
        routed = stack.post("/api/health", base_url=nginx.base_url, data=b"x" * (64 * 1024))
        assert_problem(routed, 405, "method_not_allowed")
    # nginx saw no connection reset or cut-short response from the pool.
    assert "upstream" not in nginx.error_log.read_text()
    assert len(pool.request_lines("/api/health")) == 240
