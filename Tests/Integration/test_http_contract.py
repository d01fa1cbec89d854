"""The HTTP conventions of API.md §1 and the endpoints of §2.2, through nginx to the worker pool."""

import re
import uuid

from stack import raw_request, wait_until

API_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def assert_problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_health_reports_the_database_ok(stack):
    response = stack.get("/api/health")
    assert response.status_code == 200
    for name, value in API_HEADERS.items():
        assert response.headers[name] == value, name
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", body["version"])


def test_status_follows_the_users_table(stack):
    response = stack.get("/api/status")
    assert response.status_code == 200
    for name, value in API_HEADERS.items():
        assert response.headers[name] == value, name
    assert response.json() == {"needs_setup": True, "version": stack.get("/api/health").json()["version"]}

    stack.sql("INSERT INTO users (id, email, password_hash) "
              "VALUES ('01JFKQ4Z7W3M9X0C5T2V8B6N1R', 'status-probe@example.com', 'not-a-hash')")
    try:
        assert stack.get("/api/status").json()["needs_setup"] is False
    finally:
        stack.sql("DELETE FROM users WHERE id = '01JFKQ4Z7W3M9X0C5T2V8B6N1R'")
    assert stack.get("/api/status").json()["needs_setup"] is True


def test_unknown_api_path_is_a_404_problem(stack):
    body = assert_problem(stack.get("/api/no-such-endpoint"), 404, "not_found")
    assert body["type"] == "about:blank"
    assert_problem(stack.get("/api/health/extra"), 404, "not_found")


def test_wrong_method_is_a_405_problem_with_allow(stack):
    for method, path in [("POST", "/api/health"), ("DELETE", "/api/status"), ("PUT", "/api/health")]:
        response = stack.request(method, path)
        assert_problem(response, 405, "method_not_allowed")
        assert "GET" in [part.strip() for part in response.headers["Allow"].split(",")]


def test_body_over_64_kib_is_refused_by_the_worker(stack):
    response = stack.post("/api/health", data=b"x" * (70 * 1024), headers={"Content-Type": "application/json"})
    body = assert_problem(response, 413, "payload_too_large")
    assert "65536" in body["detail"]


def test_body_at_the_limit_reaches_the_router(stack):
    # Exactly 64 KiB is allowed: the answer is the route's (405), not 413.
    response = stack.post("/api/health", data=b"x" * (64 * 1024))
    assert_problem(response, 405, "method_not_allowed")


def test_body_over_1_mib_is_refused_by_nginx_as_json(stack):
    marker = f"/api/health?big={uuid.uuid4().hex}"
    response = stack.post(marker, data=b"x" * (2 * 1024 * 1024))
    body = assert_problem(response, 413, "payload_too_large")
    assert "1 MiB" in body["detail"]
    # nginx answered alone: the request never reached a worker.
    line = wait_until(lambda: next((line for line in stack.nginx.access_log.read_text().splitlines()
                                    if marker in line), None), 5, "the request is not in nginx's access log")
    assert "upstream=- " in line


def test_malformed_query_strings_are_400_problems(stack):
    for query in ["a=%zz", "a=%", "a=%4", "a=%ff%fe", "%c3%28=1", "a=1&b=%G0"]:
        response = raw_request(stack.base_url, "GET", f"/api/health?{query}")
        assert_problem(response, 400, "invalid_query")


def test_repeated_and_encoded_query_keys_are_fine(stack):
    assert raw_request(stack.base_url, "GET", "/api/health?a=1&a=2&b=%C3%A9&c=a+b&d&&=").status_code == 200


def test_request_id_links_the_nginx_and_worker_logs(stack):
    probe = uuid.uuid4().hex
    assert stack.get(f"/api/health?probe={probe}").status_code == 200

    def nginx_line():
        return next((line for line in stack.nginx.access_log.read_text().splitlines() if probe in line), None)

    line = wait_until(nginx_line, 5, "the request is not in nginx's access log")
    request_id = re.search(r"\bid=([0-9a-f]{32})\b", line).group(1)
    logged = wait_until(lambda: [entry for entry in stack.pool.requests_logged() if entry.get("id") == request_id],
                        5, "the worker did not log nginx's request id")
    assert len(logged) == 1
    assert logged[0]["path"] == "/api/health" and logged[0]["status"] == "200"
    # The worker logs the path, never the query string.
    assert probe not in stack.pool.log_text()


def test_static_dashboard_is_served_with_security_headers(stack):
    response = stack.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>HitKeep</title>" in response.text
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # server_tokens off: no version for scanners.
    assert response.headers["Server"] == "nginx"
    # A client-side route of the dashboard gets the app shell.
    deep = stack.get("/sites/some-site/overview")
    assert deep.status_code == 200 and deep.text == response.text


def test_api_responses_carry_each_security_header_once(stack):
    response = stack.get("/api/health")
    # Two copies would be joined as "nosniff, nosniff".
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_tracker_may_be_loaded_from_any_origin(stack):
    response = stack.get("/hk.js", headers={"Origin": "https://customer.example"})
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.text == (stack.static_root / "hk.js").read_text()


def test_no_reachable_pool_is_a_503_problem(stack):
    nowhere = stack.start_nginx([f"unix:{stack.root / 'run' / 'nobody-listens.sock'}"])
    response = stack.get("/api/health", base_url=nowhere.base_url)
    body = assert_problem(response, 503, "service_unavailable")
    assert response.headers["Retry-After"] == "1"
    assert "pool" in body["detail"]
    # Static files do not need a pool.
    assert stack.get("/", base_url=nowhere.base_url).status_code == 200
