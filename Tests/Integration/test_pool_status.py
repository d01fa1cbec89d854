"""What an operator sees of a pool (issue 13, items 7 and 8): the Prometheus metrics at
--metrics-address and the status page nginx shows to localhost, moving as this module's own
requests, kills and restarts say they should; the request timeout killing a stopped worker that
holds a request; and the exit status of a drain."""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from typing import Optional

import pytest

from accounts import unique
from stack import REQUEST_TIMEOUT, Pool, free_port, http_session, wait_until

_SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """One scrape of a pool's /metrics, parsed: value(name, label=value, …); 0 for a series absent."""

    def __init__(self, text: str):
        self.text = text
        self.samples: dict = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            match = _SAMPLE.match(line)
            assert match, f"not a Prometheus sample: {line!r}"
            labels = frozenset(_LABEL.findall(match.group("labels") or ""))
            self.samples[(match.group("name"), labels)] = float(match.group("value"))

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str) -> bool:
        return any(key[0] == name for key in self.samples)


class Monitored:
    """A pool with a metrics address and a request timeout, behind an nginx of its own."""

    def __init__(self, stack, workers: int = 2, request_timeout: int = 60, shutdown_timeout: int = 15,
                 database_url: Optional[str] = None, environment: Optional[dict] = None):
        self.metrics_port = free_port()
        name = unique("statuspool")
        self.pool = Pool(stack.binary, stack.root / "run" / f"{name}.sock", database_url or stack.database_url,
                         stack.root / "log" / f"{name}.log", workers=workers, shutdown_timeout=shutdown_timeout,
                         extra_environment={"HITKEEP_METRICS_ADDRESS": f"127.0.0.1:{self.metrics_port}",
                                            "HITKEEP_REQUEST_TIMEOUT": str(request_timeout), **(environment or {})})
        stack.extras.append(self.pool)
        self.pool.start()
        self.nginx = stack.start_nginx([self.pool.upstream])
        self.http = http_session()

    def metrics(self) -> Metrics:
        response = self.http.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=REQUEST_TIMEOUT)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return Metrics(response.text)

    def get(self, path: str, method: str = "GET"):
        return self.http.request(method, self.nginx.base_url + path, timeout=REQUEST_TIMEOUT)

    def status_page(self, source: str = "127.0.0.1") -> tuple[int, str]:
        """GET /pool-status through nginx from `source`, a loopback address of this machine."""
        connection = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=REQUEST_TIMEOUT,
                                                source_address=(source, 0))
        try:
            connection.request("GET", "/pool-status")
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


def _hold_users_lock(stack):
    """A psql session holding users' exclusive lock: GET /api/status, which reads users, then waits."""
    locker = stack.cluster.background_session("hitkeep")
    locker.send("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;")
    wait_until(lambda: stack.sql("SELECT 1 FROM pg_locks WHERE relation = 'users'::regclass "
                                 "AND mode = 'AccessExclusiveLock' AND granted"),
               5, "the background session did not get the lock")
    return locker


def _in_background(function):
    """Runs `function` on a thread; returns the thread and a dict that gets its result or error."""
    outcome: dict = {}

    def run():
        started = time.monotonic()
        try:
            outcome["response"] = function()
        except Exception as error:
            outcome["error"] = repr(error)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_metrics_count_the_tests_own_requests_by_route_status_and_latency(stack):
    monitored = Monitored(stack, workers=2)
    before = monitored.metrics()
    assert before.value("hitkeep_workers_configured") == 2
    assert before.value("hitkeep_workers", state="idle") == 2
    assert before.value("hitkeep_workers", state="busy") == 0
    assert before.value("hitkeep_request_timeout_seconds") == 60

    statuses = [monitored.get("/api/health").status_code for _ in range(5)]
    statuses += [monitored.get("/api/no-such-thing").status_code for _ in range(3)]
    statuses += [monitored.get("/api/health", method="POST").status_code for _ in range(2)]
    assert statuses == [200] * 5 + [404] * 3 + [405] * 2

    after = monitored.metrics()
    health = {"method": "GET", "route": "/api/health"}
    unmatched = {"method": "", "route": "unmatched"}

    def moved(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("hitkeep_requests_total") == 10
    assert moved("hitkeep_http_requests_total", **health, status="200") == 5
    assert moved("hitkeep_http_requests_total", **unmatched, status="404") == 3
    assert moved("hitkeep_http_requests_total", **unmatched, status="405") == 2
    assert moved("hitkeep_http_request_duration_seconds_count", **health) == 5
    assert moved("hitkeep_http_request_duration_seconds_bucket", **health, le="+Inf") == 5
    # A health check answers well within 10 s, and the buckets are cumulative.
    assert moved("hitkeep_http_request_duration_seconds_bucket", **health, le="10") == 5
    assert 0 < moved("hitkeep_http_request_duration_seconds_sum", **health) < 5
    assert after.value("hitkeep_workers", state="idle") == 2
    assert after.value("hitkeep_longest_running_request_seconds") == 0
    # Nothing went wrong with the database, and the roll-up keeps up.
    assert sum(value for (name, _), value in after.samples.items() if name == "hitkeep_database_errors_total") == 0
    wait_until(lambda: monitored.metrics().value("hitkeep_rollup_folds_total") >= 1, 5, "the roll-up never folded")
    lag = monitored.metrics().value("hitkeep_rollup_queue_lag_seconds")
    assert 0 <= lag < 5


def test_a_killed_worker_is_a_respawn_with_its_reason_and_sighup_a_reload(stack):
    monitored = Monitored(stack, workers=2)
    pool = monitored.pool
    before = monitored.metrics()
    victim = pool.worker_pids()[0]

    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(pool.worker_pids()) == 2 and victim not in pool.worker_pids(), 5,
               "the killed worker was not replaced")
    wait_until(lambda: monitored.metrics().value("hitkeep_workers", state="idle") == 2, 5,
               "the replacement did not become idle")
    after_kill = monitored.metrics()
    assert after_kill.value("hitkeep_respawns_total", child="worker", reason="signal") \
        == before.value("hitkeep_respawns_total", child="worker", reason="signal") + 1
    assert after_kill.value("hitkeep_respawns_total", child="worker", reason="request_timeout") == 0

    status, page = monitored.status_page()
    assert status == 200
    assert f"last respawn      worker pid {victim} killed by signal 9 (SIGKILL)" in page
    assert "worker respawns   1 (signal 1)" in page
    assert "2 configured: " in page

    old = set(pool.worker_pids())
    pool.send_signal(signal.SIGHUP)
    wait_until(lambda: len(pool.worker_pids()) == 2 and not set(pool.worker_pids()) & old, 10,
               "the workers were not all replaced")
    # The roll-up is replaced in the same rolling restart, but may be reaped after the workers are back.
    reloaded = wait_until(
        lambda: (metrics := monitored.metrics()).value("hitkeep_respawns_total", child="worker", reason="reload") == 2
        and metrics.value("hitkeep_respawns_total", child="roll-up", reason="reload") >= 1
        and metrics, 5, "the rolling restart was not counted")
    assert reloaded.value("hitkeep_respawns_total", child="roll-up", reason="reload") == 1
    assert reloaded.value("hitkeep_respawns_total", child="worker", reason="signal") == 1


def test_recycled_workers_count_as_max_requests_respawns(stack):
    monitored = Monitored(stack, workers=2, environment={"HITKEEP_MAX_REQUESTS": "4"})
    assert [monitored.get("/api/health").status_code for _ in range(10)] == [200] * 10
    # Two live workers have served at most 3 each: the other requests went to workers that retired
    # after exactly 4.
    metrics = wait_until(
        lambda: (m := monitored.metrics()).value("hitkeep_respawns_total", child="worker", reason="max_requests") >= 1
        and m, 5, "no recycled worker was counted")
    assert metrics.value("hitkeep_requests_total") == 10
    assert metrics.value("hitkeep_respawns_total", child="worker", reason="signal") == 0


def test_a_stopped_worker_holding_a_request_is_killed_after_the_request_timeout_and_replaced(stack):
    monitored = Monitored(stack, workers=1, request_timeout=2)
    pool = monitored.pool
    worker = pool.worker_pids()[0]
    locker = _hold_users_lock(stack)
    try:
        client, outcome = _in_background(lambda: monitored.get("/api/status"))
        busy = wait_until(lambda: (m := monitored.metrics()).value("hitkeep_workers", state="busy") == 1 and m,
                          5, "the worker never took the request")
        assert busy.value("hitkeep_workers", state="idle") == 0
        os.kill(worker, signal.SIGSTOP)
    finally:
        # The worker is stopped: letting PostgreSQL go on changes nothing for it.
        locker.close()
    stopped = monitored.metrics()
    assert stopped.value("hitkeep_longest_running_request_seconds") > 0

    client.join(timeout=REQUEST_TIMEOUT + 5)
    assert not client.is_alive()
    response = outcome.get("response")
    assert response is not None, outcome
    # nginx, not the client's own timeout, ends it: the worker's connection closed without an answer
    # (502), which the template turns into its JSON 503. fastcgi_read_timeout alone would take 30 s.
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"
    assert 1.5 < outcome["seconds"] < 8

    replacement = wait_until(lambda: [pid for pid in pool.worker_pids() if pid != worker], 5, "no replacement worker")
    assert worker not in pool.worker_pids()
    assert monitored.get("/api/health").status_code == 200
    after = monitored.metrics()
    assert after.value("hitkeep_respawns_total", child="worker", reason="request_timeout") == 1
    assert after.value("hitkeep_respawns_total", child="worker", reason="signal") == 0
    assert after.value("hitkeep_longest_running_request_seconds") == 0
    log = pool.log_text()
    assert "past the request timeout; killing it" in log and "request=GET /api/status" in log
    status, page = monitored.status_page()
    assert status == 200
    assert f"worker pid {worker} killed after the request timeout" in page
    assert str(replacement[0]) in page


def test_the_status_page_is_for_localhost_only(stack):
    monitored = Monitored(stack, workers=1)
    status, page = monitored.status_page("127.0.0.1")
    assert status == 200
    assert page.startswith("HitKeep pool on ")
    assert "1 configured: 1 busy, 0 idle" in page  # the worker answering is the one busy
    assert "GET /pool-status" in page
    status, page = monitored.status_page("127.0.0.2")
    assert status == 403
    assert "workers" not in page
    # The workers answer it only at nginx's location: not under /api/.
    assert monitored.get("/api/pool-status").status_code == 404


def test_metrics_are_off_unless_an_address_is_given(stack):
    pool = stack.start_pool(workers=1)
    assert "metrics=off" in pool.log_text()


def test_an_unreachable_database_shows_as_database_errors_and_failed_folds(stack):
    monitored = Monitored(stack, workers=1, database_url=stack.cluster.url(unique("missing_"), user="hitkeep"))
    assert monitored.get("/api/status").status_code == 503
    metrics = wait_until(
        lambda: (m := monitored.metrics()).value("hitkeep_rollup_failures_total") >= 1 and m,
        5, "the roll-up's failures were not counted")
    assert metrics.value("hitkeep_database_errors_total", process="worker", kind="unavailable") >= 1
    assert metrics.value("hitkeep_database_errors_total", process="roll-up", kind="unavailable") >= 1
    assert metrics.value("hitkeep_http_requests_total", method="GET", route="/api/status", status="503") == 1


def test_a_drain_that_must_kill_a_busy_worker_exits_1(stack):
    monitored = Monitored(stack, workers=1, shutdown_timeout=1)
    pool = monitored.pool
    locker = _hold_users_lock(stack)
    try:
        client, outcome = _in_background(lambda: monitored.get("/api/status"))
        wait_until(lambda: monitored.metrics().value("hitkeep_workers", state="busy") == 1, 5,
                   "the worker never took the request")
        pool.send_signal(signal.SIGTERM)
        assert pool.wait(timeout=10) == 1
    finally:
        locker.close()
    client.join(timeout=REQUEST_TIMEOUT)
    assert "killing children still busy at the shutdown deadline" in pool.log_text()


def test_a_drain_whose_children_all_finish_exits_0(stack):
    monitored = Monitored(stack, workers=2)
    assert monitored.get("/api/health").status_code == 200
    monitored.pool.send_signal(signal.SIGTERM)
    assert monitored.pool.wait(timeout=15) == 0
