"""What the nginx template hands the workers over FastCGI, seen by a recording responder in a pool's
place: the parameters the Swift side routes and checks on (DESIGN.md §4), and no kept-alive
connections (libfcgi serves one connection at a time)."""

import re

import pytest

from stack import raw_request, wait_until


@pytest.fixture
def recorded(stack):
    recorder = stack.start_recorder()
    nginx = stack.start_nginx([recorder.upstream])

    def send(method, target, headers=None, body=None):
        before = len(recorder.requests())
        response = raw_request(nginx.base_url, method, target, headers=headers, body=body)
        assert response.status_code == 200 and response.json() == {"recorded": True}
        entry = wait_until(lambda: recorder.requests()[before:], 5, "nothing recorded")[0]
        return entry, nginx

    return send


def values(entry, name):
    return [value for key, value in entry["params"] if key == name]


def only(entry, name):
    found = values(entry, name)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def test_routing_parameters_are_passed_raw(recorded):
    entry, _ = recorded("GET", "/api/sites/01ABC/stats?from=2026-01-01&filter=path:%2Fa%20b&filter=device:mobile")
    assert only(entry, "REQUEST_METHOD") == "GET"
    assert only(entry, "DOCUMENT_URI") == "/api/sites/01ABC/stats"
    # The query string arrives undecoded; the worker decodes it (and rejects bad escapes).
    assert only(entry, "QUERY_STRING") == "from=2026-01-01&filter=path:%2Fa%20b&filter=device:mobile"
    assert re.fullmatch(r"[0-9a-f]{32}", only(entry, "REQUEST_ID"))
    assert only(entry, "REMOTE_ADDR") == "127.0.0.1"
    assert entry["keep_conn"] is False


def test_ingest_is_passed_with_its_body(recorded):
    body = b'{"path":"/","referrer":"","session_id":"s1"}'
    entry, _ = recorded("POST", "/ingest", headers={"Content-Type": "text/plain", "Origin": "https://a.example"},
                        body=body)
    assert only(entry, "DOCUMENT_URI") == "/ingest"
    assert only(entry, "CONTENT_LENGTH") == str(len(body))
    assert only(entry, "CONTENT_TYPE") == "text/plain"
    assert only(entry, "HTTP_ORIGIN") == "https://a.example"
    assert entry["body_length"] == len(body)


def test_host_keeps_the_port_the_browser_used(recorded):
    entry, nginx = recorded("POST", "/api/login")
    # Once, with the port: the workers compare it with Origin, which carries the port too.
    assert only(entry, "HTTP_HOST") == f"127.0.0.1:{nginx.port}"
    entry, _ = recorded("GET", "/api/health", headers={"Host": "Stats.Example.com"})
    assert only(entry, "HTTP_HOST") == "stats.example.com"


def test_each_cookie_header_arrives_and_proxy_never_does(recorded):
    entry, _ = recorded("GET", "/api/user",
                        headers=[("Cookie", "a=1"), ("Cookie", "hk_token=x; b=2"), ("Proxy", "http://evil.example:1")])
    # nginx 1.22 does not merge repeated headers: the worker must read every HTTP_COOKIE.
    cookies = values(entry, "HTTP_COOKIE")
    assert cookies in (["a=1", "hk_token=x; b=2"], ["a=1; hk_token=x; b=2"])
    assert values(entry, "HTTP_PROXY") in ([], [""])


def test_request_ids_differ(recorded):
    first, _ = recorded("GET", "/api/health")
    second, _ = recorded("GET", "/api/health")
    assert only(first, "REQUEST_ID") != only(second, "REQUEST_ID")
