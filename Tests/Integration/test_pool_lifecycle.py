"""The supervisor: replacing dead workers, recycling old ones, draining on SIGTERM, rolling restarts on SIGHUP."""

import os
import signal
import socket
import threading
import time

import pytest

from accounts import start_pool
from stack import REQUEST_TIMEOUT, http_session, wait_until


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class RequestLoop:
    """GETs `path` back to back in a thread until stopped (or `limit` seconds pass), recording every
    outcome that is not a 200."""

    def __init__(self, url: str, limit: float = 20):
        self.url = url
        self.limit = limit
        self.count = 0
        self.failures: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        session = http_session()
        deadline = time.monotonic() + self.limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                response = session.get(self.url, timeout=REQUEST_TIMEOUT)
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code}: {response.text[:200]}")
            except Exception as error:  # a refused or reset connection is exactly what is looked for
                self.failures.append(repr(error))
            self.count += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT + 5)
        assert not self._thread.is_alive(), "request loop did not stop"


def test_killed_worker_is_replaced_and_service_continues(stack):
    pool = stack.pool
    before = pool.worker_pids()
    assert len(before) == 4
    victim = before[0]

    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    replacement = wait_until(lambda: set(pool.worker_pids()) - set(before), 1.5,
                             "no replacement worker appeared", interval=0.02)
    replaced_after = time.monotonic() - killed_at
    after = pool.worker_pids()
    assert victim not in after
    assert len(after) == 4 and set(after) - replacement == set(before) - {victim}
    assert replaced_after < 1.5

    statuses = [stack.get("/api/status").status_code for _ in range(100)]
    assert statuses == [200] * 100
    assert pool.running()


def test_sighup_replaces_every_worker_without_failing_a_request(stack):
    pool = stack.pool
    old = set(pool.worker_pids())
    assert len(old) == 4

    with RequestLoop(stack.base_url + "/api/health") as loop:
        wait_until(lambda: loop.count >= 10, 5, "the request loop did not get going")
        pool.send_signal(signal.SIGHUP)

        def rolled():
            current = set(pool.worker_pids())
            return len(current) == 4 and not (current & old)

        wait_until(rolled, 10, "the workers were not all replaced")
        served_before = loop.count
        wait_until(lambda: loop.count >= served_before + 20, 5, "no requests after the restart")

    assert loop.failures == []
    assert pool.running()
    assert "restarting workers" in pool.log_text()


def _lock_users(stack, locker):
    """Takes users' exclusive lock in the background session and waits until it is held, so that a
    request sent afterwards cannot slip through before psql has run the LOCK."""
    locker.send("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;")
    wait_until(
        lambda: stack.sql("SELECT 1 FROM pg_locks WHERE relation = 'users'::regclass "
                          "AND mode = 'AccessExclusiveLock' AND granted"),
        5, "the background session did not get the lock")


def _wait_for_lock_waiter(stack):
    """Until a worker's query is blocked on a lock (so the request is truly in flight)."""
    return wait_until(
        lambda: stack.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'hitkeep' "
                          "AND wait_event_type = 'Lock'"),
        5, "no worker is waiting on the lock")


def test_sigterm_finishes_the_request_in_flight_then_exits_0(stack):
    pool = stack.start_pool(workers=2)
    nginx = stack.start_nginx([pool.upstream])
    roll_ups = wait_until(pool.roll_up_pids, 5, "the pool started no roll-up process")
    locker = stack.cluster.background_session("hitkeep")
    result = {}

    def slow_request():
        try:
            response = http_session().get(nginx.base_url + "/api/status", timeout=REQUEST_TIMEOUT)
            result["status"], result["body"] = response.status_code, response.json()
        except Exception as error:
            result["error"] = repr(error)
        result["finished"] = time.monotonic()

    try:
        # GET /api/status reads users; holding an exclusive lock on it keeps that request in flight.
        _lock_users(stack, locker)
        wait_until(lambda: stack.sql("SELECT 1 FROM pg_locks WHERE relation = 'users'::regclass "
                                     "AND mode = 'AccessExclusiveLock' AND granted"),
                   5, "the lock was not taken")
        client = threading.Thread(target=slow_request, daemon=True)
        client.start()
        _wait_for_lock_waiter(stack)

        pool.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # Draining, not gone: the supervisor waits for the busy worker.
        assert pool.running()
        assert "finished" not in result

        released = time.monotonic()
        locker.send("COMMIT;")
        client.join(timeout=REQUEST_TIMEOUT)
    finally:
        locker.close()

    assert result.get("status") == 200, result
    assert result["body"]["needs_setup"] is True
    assert result["finished"] >= released
    assert pool.wait(timeout=10) == 0
    assert pool.worker_pids() == []
    assert not any(alive(pid) for pid in roll_ups)
    # The socket file goes with the pool, so nginx's next connect fails at once.
    assert not pool.socket.exists()


def test_a_draining_pool_refuses_new_connections(stack):
    pool = stack.start_pool(workers=2)
    nginx = stack.start_nginx([pool.upstream])
    roll_ups = wait_until(pool.roll_up_pids, 5, "the pool started no roll-up process")
    locker = stack.cluster.background_session("hitkeep")
    slow = threading.Thread(
        target=lambda: http_session().get(nginx.base_url + "/api/status", timeout=REQUEST_TIMEOUT), daemon=True)
    try:
        _lock_users(stack, locker)
        slow.start()
        _wait_for_lock_waiter(stack)
        pool.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert pool.running(), "the pool should still be draining its slow request"
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(2)
            with pytest.raises(OSError):
                probe.connect(str(pool.socket))
        finally:
            probe.close()
    finally:
        # psql exits at the end of its input, which rolls back and releases the lock.
        locker.close()
        slow.join(timeout=REQUEST_TIMEOUT)


def test_workers_are_recycled_after_max_requests_without_failing_a_request(stack):
    pool = start_pool(stack, {"HITKEEP_MAX_REQUESTS": "5"}, workers=2)
    nginx = stack.start_nginx([pool.upstream])
    first = set(pool.worker_pids())
    assert len(first) == 2

    session = http_session()
    statuses = [session.get(nginx.base_url + "/api/health", timeout=REQUEST_TIMEOUT).status_code
                for _ in range(60)]

    # Sixty requests at five a worker: a dozen workers have come and gone, and none of it showed.
    assert statuses == [200] * 60
    wait_until(lambda: len(pool.worker_pids()) == 2, 5, "the pool did not get back to two workers")
    assert not set(pool.worker_pids()) & first
    assert pool.running()
