"""The MCP endpoint (docs/API.md §12, issue 16 item 4), through nginx to the pool on PostgreSQL.

With the official `mcp` Python SDK as the client: the handshake, the tools and their input schemas
(the REST endpoints' parameters and the dimension registry's names), every tool's result compared
byte for byte with the REST answer to the same question, scopes and site restrictions as on REST,
a token deleted between two calls. With plain HTTP: what the SDK never sends (a cookie without a
token, malformed JSON, batches, unknown methods, a foreign Origin, a 1 MiB body, the protocol
version header missing or unsupported), each answered as the transport and JSON-RPC ask, never 500.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from accounts import assert_json, assert_problem, parse_challenge, people, unique_domain, well_formed_token  # noqa: F401
from test_breakdown import DAY, DIMENSIONS, store_known_events

PATH = "/api/mcp"
STATS_PARAMETERS = ["from", "to", "timezone", "interval", "filter", "compare", "limit"]
BREAKDOWN_PARAMETERS = ["dimension", "from", "to", "timezone", "filter", "order_by", "order", "page_size", "cursor"]
SUPPORTED_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26"]
# What GET /api/sites/{id}/stats is asked below: a day in UTC, with filters, every parameter given.
STATS_ARGUMENTS = {"from": "2026-10-25", "to": "2026-10-25", "timezone": "UTC", "interval": "hour",
                   "filter": ["device:desktop", "browser:chrome"], "compare": "previous", "limit": 3}


@pytest.fixture
def traffic(stack, people):
    """An owner with a site of known page views, a second site, and tokens: every scope; only
    sites:read; stats:read limited to the second site."""
    owner = people.new()
    site = owner.create_site(timezone="Europe/Berlin")
    other = owner.create_site()
    store_known_events(stack, owner, site["id"])
    tokens = {
        "all": owner.create_client(name="mcp-all")["token"],
        "sites": owner.create_client(name="mcp-sites", scopes=["sites:read"])["token"],
        "other": owner.create_client(name="mcp-other", scopes=["stats:read", "sites:read"], site_ids=[other["id"]])["token"],
    }
    return {"owner": owner, "site": site, "other": other, "tokens": tokens}


@asynccontextmanager
async def connected(base_url: str, token: str, mode: str = "auto"):
    """An SDK client on the endpoint with the token as `Authorization: Bearer`."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        async with Client(streamable_http_client(base_url + PATH, http_client=http), mode=mode) as client:
            yield client


def run(coroutine_function, *arguments):
    return anyio.run(coroutine_function, *arguments)


def rest_query(arguments: dict) -> list[tuple[str, str]]:
    """Tool arguments as the REST query parameters: arrays repeated, numbers as text."""
    pairs = []
    for name, value in arguments.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, str(item)))
    return pairs


def assert_same_answer(result, rest) -> None:
    """The tool's result is the REST answer: its text byte for byte, its structured content as JSON."""
    assert not result.is_error, result
    assert rest.status_code == 200, rest.text
    assert len(result.content) == 1 and result.content[0].type == "text"
    assert result.content[0].text.encode() == rest.content
    assert result.structured_content == rest.json()


def post(stack, body, token=None, headers=None, **options):
    """A raw POST to the endpoint: `body` as JSON unless it is bytes or text already."""
    sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return stack.post(PATH, data=data, headers=sent, **options)


def rpc(stack, token, method, params=None, id=1, headers=None):
    """A JSON-RPC request's HTTP answer and its body."""
    message = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    response = post(stack, message, token, headers={"MCP-Protocol-Version": "2025-06-18", **(headers or {})})
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return response, response.json()


def tool_call(stack, token, name, arguments):
    response, body = rpc(stack, token, "tools/call", {"name": name, "arguments": arguments})
    assert response.status_code == 200, response.text
    return body["result"]


def assert_tool_error(result, code: str) -> dict:
    """A tool error: `isError`, with the REST problem document as text and as structured content."""
    assert result["isError"] is True, result
    problem = result["structuredContent"]
    assert json.loads(result["content"][0]["text"]) == problem
    assert problem["code"] == code, problem
    assert set(problem) == {"type", "status", "title", "detail", "code"} and problem["detail"]
    return problem


# --- the SDK client ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_initialize_and_list_the_tools(stack, traffic, mode):
    async def scenario():
        async with connected(stack.base_url, traffic["tokens"]["all"], mode) as client:
            assert client.server_info.name == "hitkeep"
            assert client.server_info.version
            assert client.protocol_version in SUPPORTED_VERSIONS
            assert client.server_capabilities.tools is not None
            return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in run(scenario)}
    assert list(tools) == ["list_sites", "get_stats", "get_breakdown"]
    stats = tools["get_stats"].input_schema
    assert list(stats["properties"]) == ["site_id", *STATS_PARAMETERS]
    assert stats["required"] == ["site_id"] and stats["additionalProperties"] is False
    assert stats["properties"]["interval"]["enum"] == ["hour", "day", "week", "month"]
    assert stats["properties"]["filter"]["type"] == "array" and stats["properties"]["filter"]["maxItems"] == 10
    assert stats["properties"]["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 10,
                                            "description": "Length of each top list."}
    breakdown = tools["get_breakdown"].input_schema
    assert list(breakdown["properties"]) == ["site_id", *BREAKDOWN_PARAMETERS]
    assert breakdown["required"] == ["site_id", "dimension"]
    assert breakdown["properties"]["dimension"]["enum"] == DIMENSIONS
    # The filter types are the registry's, as GET /api/stats/dimensions lists them.
    dimensions = traffic["owner"].get("/api/stats/dimensions").json()["dimensions"]
    for dimension in dimensions:
        if dimension["filter"]:
            assert f"{dimension['name']}" in stats["properties"]["filter"]["items"]["pattern"]
    assert tools["list_sites"].input_schema == {"type": "object", "properties": {}, "additionalProperties": False}
    assert all(tool.annotations.read_only_hint for tool in tools.values())


def test_get_stats_is_the_rest_answer(stack, traffic):
    site_id = traffic["site"]["id"]
    asked = [STATS_ARGUMENTS, {"from": "2026-10-24", "to": "2026-10-26"}, {"from": "2026-10-25T10:00:00Z", "to": "2026-10-25T14:00:00Z",
                                                                              "compare": "none", "filter": ["path:/pricing"]}]

    async def scenario():
        async with connected(stack.base_url, traffic["tokens"]["all"]) as client:
            return [await client.call_tool("get_stats", {"site_id": site_id, **arguments}) for arguments in asked]

    results = run(scenario)
    for arguments, result in zip(asked, results):
        rest = stack.get(f"/api/sites/{site_id}/stats", params=rest_query(arguments),
                         headers={"Authorization": f"Bearer {traffic['tokens']['all']}"})
        assert_same_answer(result, rest)
    assert results[0].structured_content["total_pageviews"] > 0


def test_get_breakdown_is_the_rest_answer_page_by_page(stack, traffic):
    site_id = traffic["site"]["id"]
    token = traffic["tokens"]["all"]
    base = dict(pair.split("=") for pair in DAY.split("&"))

    async def scenario():
        answers = []
        async with connected(stack.base_url, token) as client:
            for dimension in ["path", "landing", "device", "referrer"]:
                arguments = {"site_id": site_id, "dimension": dimension, **base, "order_by": "visitors", "order": "asc"}
                answers.append((arguments, await client.call_tool("get_breakdown", arguments)))
            # Page by page: each next_cursor, passed back, gives the next page.
            arguments = {"site_id": site_id, "dimension": "path", **base, "page_size": 2}
            while True:
                result = await client.call_tool("get_breakdown", arguments)
                answers.append((arguments, result))
                cursor = result.structured_content["next_cursor"]
                if cursor is None:
                    return answers
                arguments = {**arguments, "cursor": cursor}

    answers = run(scenario)
    assert len(answers) == 4 + 3
    for arguments, result in answers:
        query = rest_query({name: value for name, value in arguments.items() if name != "site_id"})
        rest = stack.get(f"/api/sites/{site_id}/stats/breakdown", params=query, headers={"Authorization": f"Bearer {token}"})
        assert_same_answer(result, rest)


def test_list_sites_is_the_rest_list(stack, traffic):
    async def scenario(token):
        async with connected(stack.base_url, token) as client:
            return await client.call_tool("list_sites", {})

    for name in ["all", "other"]:
        token = traffic["tokens"][name]
        result = run(scenario, token)
        rest = stack.get("/api/sites", headers={"Authorization": f"Bearer {token}"})
        assert result.structured_content == {"sites": assert_json(rest)}
        assert result.content[0].text.encode() == b'{"sites":' + rest.content + b"}"
    assert [site["id"] for site in run(scenario, traffic["tokens"]["other"]).structured_content["sites"]] == [traffic["other"]["id"]]


def test_a_token_without_stats_read_gets_an_error_result(stack, traffic):
    site_id = traffic["site"]["id"]

    async def scenario():
        async with connected(stack.base_url, traffic["tokens"]["sites"]) as client:
            return (await client.call_tool("get_stats", {"site_id": site_id}),
                    await client.call_tool("get_breakdown", {"site_id": site_id, "dimension": "path"}),
                    await client.call_tool("list_sites", {}))

    stats, breakdown, sites = run(scenario)
    for result in (stats, breakdown):
        assert result.is_error
        assert result.structured_content["code"] == "insufficient_scope"
        assert result.structured_content["status"] == 403
        assert "stats:read" in result.structured_content["detail"]
    assert not sites.is_error and len(sites.structured_content["sites"]) == 2


def test_a_token_limited_to_another_site_cannot_read_this_one(stack, traffic):
    site_id, other_id = traffic["site"]["id"], traffic["other"]["id"]
    token = traffic["tokens"]["other"]
    for name, arguments in [("get_stats", {}), ("get_breakdown", {"dimension": "path"})]:
        refused = tool_call(stack, token, name, {"site_id": site_id, **arguments})
        # As on REST: a site the token may not see is one that does not exist.
        rest = stack.get(f"/api/sites/{site_id}/stats", headers={"Authorization": f"Bearer {token}"})
        assert assert_tool_error(refused, "not_found") == rest.json()
        allowed = tool_call(stack, token, name, {"site_id": other_id, **arguments})
        assert allowed["isError"] is False and allowed["structuredContent"]["site_id"] == other_id
    # An id that is no site at all reads the same.
    assert_tool_error(tool_call(stack, token, "get_stats", {"site_id": "not-an-id"}), "not_found")


def test_bad_arguments_are_error_results_with_the_rest_codes(stack, traffic):
    site_id = traffic["site"]["id"]
    token = traffic["tokens"]["all"]
    for name, arguments, code in [
        ("get_stats", {"site_id": site_id, "interval": "yearly"}, "invalid_interval"),
        ("get_stats", {"site_id": site_id, "from": "2026-02-30"}, "invalid_date"),
        ("get_stats", {"site_id": site_id, "from": "2026-10-02", "to": "2026-10-01"}, "invalid_range"),
        ("get_stats", {"site_id": site_id, "filter": ["city:Berlin"]}, "invalid_filter"),
        ("get_stats", {"site_id": site_id, "limit": 0}, "invalid_limit"),
        ("get_stats", {"site_id": site_id, "timezone": "Mars/Olympus"}, "invalid_timezone"),
        ("get_breakdown", {"site_id": site_id}, "invalid_dimension"),
        ("get_breakdown", {"site_id": site_id, "dimension": "path", "cursor": "AAAA"}, "invalid_cursor"),
        # What the JSON arguments add: the wrong type, an unknown name, no site.
        ("get_stats", {"site_id": site_id, "limit": "ten"}, "invalid_parameter"),
        ("get_stats", {"site_id": site_id, "filter": "device:mobile"}, "invalid_parameter"),
        ("get_stats", {"site_id": site_id, "timezone": 1}, "invalid_parameter"),
        ("get_stats", {"site_id": site_id, "fliter": ["device:mobile"]}, "invalid_parameter"),
        ("get_breakdown", {"site_id": site_id, "dimension": "path", "format": "csv"}, "invalid_parameter"),
        ("get_stats", {}, "invalid_parameter"),
        ("list_sites", {"site_id": site_id}, "invalid_parameter"),
    ]:
        problem = assert_tool_error(tool_call(stack, token, name, arguments), code)
        assert problem["status"] == 400
        if code.startswith("invalid_") and code != "invalid_parameter" and name == "get_stats":
            # The same detail as the REST endpoint's problem for the same question.
            rest = stack.get(f"/api/sites/{site_id}/stats", params=rest_query({k: v for k, v in arguments.items() if k != "site_id"}),
                             headers={"Authorization": f"Bearer {token}"})
            assert rest.json() == problem


def test_unknown_tool_is_a_jsonrpc_error(stack, traffic):
    async def scenario():
        async with connected(stack.base_url, traffic["tokens"]["all"]) as client:
            with pytest.raises(Exception) as raised:
                await client.call_tool("drop_tables", {})
            return raised.value

    assert "drop_tables" in str(run(scenario))
    response, body = rpc(stack, traffic["tokens"]["all"], "tools/call", {"name": "drop_tables", "arguments": {}}, id="x")
    assert response.status_code == 200
    assert body["id"] == "x" and body["error"]["code"] == -32602 and "list_sites" in body["error"]["message"]


def test_a_deleted_clients_token_is_refused_on_its_next_call(stack, traffic):
    owner = traffic["owner"]
    client = owner.create_client(name="mcp-short-lived", scopes=["stats:read"])
    site_id = traffic["site"]["id"]

    async def scenario():
        async with connected(stack.base_url, client["token"]) as session:
            first = await session.call_tool("get_stats", {"site_id": site_id, **STATS_ARGUMENTS})
            assert owner.delete(f"/api/user/api-clients/{client['id']}").status_code == 204
            with pytest.raises(Exception):
                await session.call_tool("get_stats", {"site_id": site_id, **STATS_ARGUMENTS})
            return first

    assert not run(scenario).is_error
    refused = post(stack, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, client["token"])
    assert_problem(refused, 401, "invalid_token")
    assert parse_challenge(refused.headers["WWW-Authenticate"])["error_description"] == "The access token was revoked"


# --- plain HTTP -------------------------------------------------------------------------------------

def test_a_session_cookie_alone_is_refused(stack, traffic):
    owner = traffic["owner"]
    response = post(stack, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers={"Cookie": f"hk_token={owner.cookie}"})
    problem = assert_problem(response, 401, "unauthenticated")
    assert "token" in problem["detail"]
    challenge = parse_challenge(response.headers["WWW-Authenticate"])
    assert challenge["scheme"] == "Bearer" and challenge["realm"] == "hitkeep"
    # The cookie is neither cleared nor renewed: it says nothing here.
    assert "Set-Cookie" not in response.headers
    # With a token besides, the token is what counts.
    with_token = post(stack, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, traffic["tokens"]["all"],
                      headers={"Cookie": f"hk_token={owner.cookie}"})
    assert assert_json(with_token) == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_no_token_and_a_bad_token_are_401(stack):
    none = post(stack, {"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert_problem(none, 401, "unauthenticated")
    assert parse_challenge(none.headers["WWW-Authenticate"])["realm"] == "hitkeep"
    for token in [well_formed_token(), "hk_live_short", "not a token"]:
        refused = post(stack, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, token)
        assert_problem(refused, 401, "invalid_token")
        assert parse_challenge(refused.headers["WWW-Authenticate"])["error"] == "invalid_token"
    # Before the body is looked at: malformed JSON with a bad token is still 401.
    assert_problem(post(stack, b"{", well_formed_token()), 401, "invalid_token")


def test_malformed_json_is_a_parse_error(stack, traffic):
    token = traffic["tokens"]["all"]
    for body in [b"{", b"", b'{"jsonrpc":"2.0","id":1,"method":"ping",}', b"\xff\xfe", b'{"a":1,"a":2}', b"[" * 100]:
        response = post(stack, body, token)
        assert response.status_code == 400, (body, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        answer = response.json()
        assert answer["jsonrpc"] == "2.0" and answer["id"] is None
        assert answer["error"]["code"] == -32700, answer


def test_messages_that_are_not_jsonrpc_are_invalid_requests(stack, traffic):
    token = traffic["tokens"]["all"]
    for message, answered_id in [({"id": 1, "method": "ping"}, 1), ({"jsonrpc": "2.0", "id": 1, "method": 7}, 1),
                                 ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None), ('"ping"', None), (3, None),
                                 ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None), ({"jsonrpc": "2.0", "id": 4}, 4)]:
        response = post(stack, message, token, headers={"MCP-Protocol-Version": "2025-06-18"})
        assert response.status_code == 400, (message, response.text)
        answer = response.json()
        assert answer["id"] == answered_id and answer["error"]["code"] == -32600, answer


def test_methods_params_and_notifications(stack, traffic):
    token = traffic["tokens"]["all"]
    response, body = rpc(stack, token, "ping", id="p")
    assert response.status_code == 200 and body == {"jsonrpc": "2.0", "id": "p", "result": {}}
    assert response.headers["Cache-Control"] == "no-store"
    response, body = rpc(stack, token, "resources/list", {}, id=2)
    assert response.status_code == 200 and body["error"]["code"] == -32601 and body["id"] == 2
    for method, params in [("tools/call", {}), ("tools/call", {"name": 5}), ("tools/call", {"name": "get_stats", "arguments": []}),
                           ("initialize", {}), ("tools/list", [1])]:
        response, body = rpc(stack, token, method, params, id=3)
        assert response.status_code == 200 and body["error"]["code"] == -32602, (method, params, body)
    for notification in [{"jsonrpc": "2.0", "method": "notifications/initialized"},
                         {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
                         {"jsonrpc": "2.0", "id": 9, "result": {}}]:
        accepted = post(stack, notification, token, headers={"MCP-Protocol-Version": "2025-06-18"})
        assert accepted.status_code == 202 and accepted.content == b"", accepted.text


def test_initialize_negotiates_the_protocol_version(stack, traffic):
    token = traffic["tokens"]["all"]

    def initialize(version):
        response = post(stack, {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                "params": {"protocolVersion": version, "capabilities": {},
                                           "clientInfo": {"name": "test", "version": "1"}}}, token)
        return assert_json(response)["result"]

    for version in SUPPORTED_VERSIONS:
        assert initialize(version)["protocolVersion"] == version
    result = initialize("2024-11-05")
    assert result["protocolVersion"] == SUPPORTED_VERSIONS[0]
    assert result["capabilities"] == {"tools": {}}
    assert result["serverInfo"]["name"] == "hitkeep" and result["serverInfo"]["version"]
    assert initialize("banana")["protocolVersion"] == SUPPORTED_VERSIONS[0]


def test_the_protocol_version_header(stack, traffic):
    token = traffic["tokens"]["all"]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    # Missing: the transport says to assume 2025-03-26, which the endpoint speaks.
    assert assert_json(post(stack, ping, token)) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    for version in SUPPORTED_VERSIONS:
        assert post(stack, ping, token, headers={"MCP-Protocol-Version": version}).status_code == 200
    for version in ["2024-11-05", "2099-01-01", "banana"]:
        refused = post(stack, ping, token, headers={"MCP-Protocol-Version": version})
        assert refused.status_code == 400
        answer = refused.json()
        assert answer["error"]["code"] == -32600 and answer["error"]["data"]["supported"] == SUPPORTED_VERSIONS


def test_batches_only_where_the_version_has_them(stack, traffic):
    token = traffic["tokens"]["all"]
    site_id = traffic["site"]["id"]
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"},
             {"jsonrpc": "2.0", "method": "notifications/initialized"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_sites"}},
             {"jsonrpc": "2.0", "id": 3, "method": "nope"},
             {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
              "params": {"name": "get_stats", "arguments": {"site_id": site_id, "limit": "x"}}},
             {"jsonrpc": "1.0", "id": 5, "method": "ping"},
             {"jsonrpc": "2.0", "id": 6, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}}]
    for headers in [{}, {"MCP-Protocol-Version": "2025-03-26"}]:
        answers = assert_json(post(stack, batch, token, headers=headers))
        assert [answer["id"] for answer in answers] == [1, 2, 3, 4, 5, 6]
        assert answers[0]["result"] == {}
        assert len(answers[1]["result"]["structuredContent"]["sites"]) == 2
        assert answers[2]["error"]["code"] == -32601
        assert answers[3]["result"]["isError"] is True
        assert [answers[4]["error"]["code"], answers[5]["error"]["code"]] == [-32600, -32600]
    only_notifications = post(stack, [{"jsonrpc": "2.0", "method": "notifications/initialized"}], token)
    assert only_notifications.status_code == 202 and only_notifications.content == b""
    for version in ["2025-06-18", "2025-11-25"]:
        refused = post(stack, batch[:1], token, headers={"MCP-Protocol-Version": version})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == -32600
    for refused_batch in [[], [{"jsonrpc": "2.0", "id": n, "method": "ping"} for n in range(17)]]:
        refused = post(stack, refused_batch, token)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == -32600


def test_http_level_refusals(stack, traffic):
    token = traffic["tokens"]["all"]
    got = stack.get(PATH, headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    assert_problem(got, 405, "method_not_allowed")
    assert got.headers["Allow"] == "POST"
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    # A browser page of another origin (DNS rebinding) is refused; the server's own origin is not.
    assert_problem(post(stack, ping, token, headers={"Origin": "https://evil.example"}), 403, "csrf_rejected")
    own = stack.base_url.lower()
    assert assert_json(post(stack, ping, token, headers={"Origin": own}))["result"] == {}
    assert_problem(stack.post(PATH + "?debug=1", data=json.dumps(ping), headers={"Authorization": f"Bearer {token}"}),
                   400, "invalid_parameter")
    # Larger than the workers take (64 KiB), and than nginx takes (1 MiB).
    for size in [70 * 1024, 1024 * 1024 + 1]:
        padded = json.dumps({**ping, "params": {"pad": "x" * size}})
        assert_problem(post(stack, padded, token), 413, "payload_too_large")
