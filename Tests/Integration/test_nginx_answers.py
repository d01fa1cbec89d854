"""Answers that nginx would give with HTML pages of its own, given as the API's problem documents:
TRACE, which nginx refuses before any location (the workers answer 405 with `Allow`), and a
request line too long for nginx's buffers (414 uri_too_long). docs/API.md §1."""

from accounts import assert_problem
from stack import raw_request


def test_trace_on_an_api_path_is_the_routers_405(stack):
    for path, allowed in (("/api/health", "GET"), ("/ingest", "POST, OPTIONS"), ("/api/sites", "GET, POST")):
        response = raw_request(stack.base_url, "TRACE", path)
        assert response.status_code == 405, (path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "method_not_allowed"
        assert response.headers["Allow"] == allowed


def test_trace_on_an_unknown_api_path_is_404(stack):
    response = raw_request(stack.base_url, "TRACE", "/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_request_line_past_8_kib_is_414_uri_too_long(stack):
    response = stack.get("/api/health?pad=" + "a" * 9000)
    assert_problem(response, 414, "uri_too_long")
