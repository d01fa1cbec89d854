"""Strict query parameters (docs/API.md §1, issue 18 item 4): every endpoint refuses a query parameter
it does not take with 400 `invalid_parameter`, naming it and the ones it takes, before it reads or
writes anything; and every query parameter docs/openapi.json documents is taken."""

from __future__ import annotations

import urllib.parse

import pytest

from accounts import assert_json, assert_problem, people  # noqa: F401 (people: a fixture)
from test_breakdown import ingest
from test_stats import CHROME_WINDOWS, FIREFOX_LINUX

STATS_PARAMETERS = "from, to, timezone, interval, filter, compare, limit"
BREAKDOWN_PARAMETERS = "dimension, from, to, timezone, filter, order_by, order, page_size, cursor, format"


@pytest.fixture
def owner(stack, people):
    api = people.new()
    site = api.create_site(timezone="UTC")
    ingest(api, site["id"], "s1", "2026-10-25T10:00:00Z", "/", CHROME_WINDOWS)
    ingest(api, site["id"], "s2", "2026-10-25T11:00:00Z", "/pricing", FIREFOX_LINUX)
    stack.sql(f"SELECT fold_queued_events('{site['id']}')")
    client = api.create_client(name="reader")
    return api, site, client


def refused(response, named: str, known: str) -> None:
    body = assert_problem(response, 400, "invalid_parameter")
    assert f'"{named}"' in body["detail"], body
    assert known in body["detail"], body


@pytest.mark.parametrize("path, misspelled, known", [
    ("/api/sites/{site}/stats", "fliter=device:mobile", f"known: {STATS_PARAMETERS}"),
    ("/api/sites/{site}/stats", "timezon=Europe/Berlin", f"known: {STATS_PARAMETERS}"),
    ("/api/sites/{site}/stats", "page=2", f"known: {STATS_PARAMETERS}"),
    ("/api/sites/{site}/stats", "from=2026-10-25&FROM=2026-10-01", f"known: {STATS_PARAMETERS}"),
    ("/api/sites/{site}/stats/breakdown", "dimension=path&pagesize=10", f"known: {BREAKDOWN_PARAMETERS}"),
    ("/api/sites/{site}/stats/breakdown", "dimension=path&sort=visitors", f"known: {BREAKDOWN_PARAMETERS}"),
    ("/api/user/audit-log", "limt=5", "known: limit"),
    ("/api/user/audit-log", "page=2", "known: limit"),
    ("/api/sites", "page=2", "this endpoint takes none"),
    ("/api/sites/{site}", "fields=name", "this endpoint takes none"),
    ("/api/sites/{site}/members", "limit=5", "this endpoint takes none"),
    ("/api/user", "expand=sites", "this endpoint takes none"),
    ("/api/user/api-clients", "page=2", "this endpoint takes none"),
    ("/api/stats/dimensions", "lang=de", "this endpoint takes none"),
])
def test_reads_refuse_a_misspelled_or_unknown_parameter(stack, owner, path, misspelled, known):
    api, site, _ = owner
    named = urllib.parse.parse_qsl(misspelled)[-1][0]
    refused(api.get(path.format(site=site["id"]) + "?" + misspelled), named, known)


def test_a_token_is_refused_the_same_way(stack, owner):
    api, site, client = owner
    bearer = api.with_token(client["token"])
    refused(bearer.get(f"/api/sites/{site['id']}/stats?timezon=UTC", cookie=None), "timezon", STATS_PARAMETERS)
    refused(bearer.get("/api/token?verbose=1", cookie=None), "verbose", "this endpoint takes none")


def test_a_refused_write_changes_nothing(stack, owner):
    api, site, client = owner
    refused(api.put(f"/api/sites/{site['id']}?nmae=x", json={"name": "Renamed"}), "nmae", "takes none")
    assert assert_json(api.get(f"/api/sites/{site['id']}"))["name"] == site["name"]
    refused(api.delete(f"/api/user/api-clients/{client['id']}?force=1"), "force", "takes none")
    assert assert_json(api.get(f"/api/user/api-clients/{client['id']}"))["name"] == "reader"
    refused(api.delete(f"/api/sites/{site['id']}?confirm={site['domain']}"), "confirm", "takes none")
    assert api.get(f"/api/sites/{site['id']}").status_code == 200
    before = stack.sql(f"SELECT count(*) FROM sites WHERE domain = 'fresh-{site['domain']}'")
    refused(api.post("/api/sites?timezone=UTC", json={"domain": f"fresh-{site['domain']}"}), "timezone", "takes none")
    assert stack.sql(f"SELECT count(*) FROM sites WHERE domain = 'fresh-{site['domain']}'") == before == [("0",)]


def test_monitors_may_add_cache_busters_to_health_and_status(stack):
    for path in ("/api/health", "/api/status"):
        assert stack.get(f"{path}?_=1733212800&nocache").status_code == 200


# --- every documented parameter is taken ---------------------------------------------------------

# A value each documented parameter may take, where its schema names none itself.
TEXT_VALUES = {"from": "2026-10-25", "to": "2026-10-26", "timezone": "Europe/Berlin", "filter": "device:Desktop"}


def documented_query_parameters(stack):
    """(path, parameter) for every query parameter of every GET in the document nginx serves."""
    response = stack.get("/api/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    shared = document["components"]["parameters"]
    for path, item in document["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        for parameter in item.get("parameters", []) + operation.get("parameters", []):
            parameter = shared[parameter["$ref"].rsplit("/", 1)[1]] if "$ref" in parameter else parameter
            if parameter["in"] == "query":
                yield path, parameter


def example(parameter) -> str:
    schema = parameter["schema"]
    schema = schema.get("items", schema)
    if "enum" in schema:
        return schema["enum"][-1]
    if schema.get("type") == "integer":
        return str(schema["minimum"])
    return TEXT_VALUES[parameter["name"]]


def test_every_documented_query_parameter_is_taken(stack, owner):
    api, site, _ = owner
    asked = []
    for path, parameter in documented_query_parameters(stack):
        url = path.replace("{site_id}", site["id"])
        required = {"dimension": "path"} if path.endswith("/breakdown") and parameter["name"] != "dimension" else {}
        if parameter["name"] == "cursor":
            first = assert_json(api.get(f"{url}?dimension=path&page_size=1&from=2026-10-25&to=2026-10-25"))
            value = first["next_cursor"]
            required |= {"page_size": "1", "from": "2026-10-25", "to": "2026-10-25"}
        else:
            value = example(parameter)
        query = urllib.parse.urlencode(required | {parameter["name"]: value})
        response = api.get(f"{url}?{query}")
        assert response.status_code == 200, (path, query, response.text)
        asked.append((path, parameter["name"]))
    # The walk saw the endpoints that take parameters, and all of theirs.
    assert {path for path, _ in asked} == {"/api/user/audit-log", "/api/sites/{site_id}/stats",
                                           "/api/sites/{site_id}/stats/breakdown"}
    assert len(asked) == 1 + len(STATS_PARAMETERS.split(", ")) + len(BREAKDOWN_PARAMETERS.split(", "))
