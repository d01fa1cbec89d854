"""docs/openapi.json (issue 16): a valid OpenAPI 3.1 document, served by nginx byte for byte, and
true of the real server: schemathesis sends generated requests to every operation through nginx to
a pool on PostgreSQL and checks every answer against the document (`--checks all`).

The schemathesis runs use a database of their own, so that the sign-in throttle and the sites and
clients they leave behind touch no other test. Three runs, one after another:

1. with a bearer token holding every scope: every operation that takes a token or no credentials;
2. with a session cookie: every operation that takes a cookie (and GET /api/token, which the
   links from creating or rotating a client feed with the new token in X-Api-Key);
3. sign-out alone, with a session of its own, which its first success ends.

EXAMPLES is the number of generated cases per operation and phase; the seed is fixed, so a run
can be repeated exactly. HITKEEP_SCHEMATHESIS_EXAMPLES and HITKEEP_SCHEMATHESIS_SEED change them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from openapi_spec_validator import validate as validate_openapi

from accounts import assert_json, assert_problem, lasting_deployment, parse_challenge, unique_email
from stack import REPO

DOCUMENT = REPO / "docs" / "openapi.json"
# Fixed, so that a run can be repeated exactly; a developer hunting for more sets other values.
SEED = int(os.environ.get("HITKEEP_SCHEMATHESIS_SEED", "20261126"))
EXAMPLES = int(os.environ.get("HITKEEP_SCHEMATHESIS_EXAMPLES", "100"))
SCHEMATHESIS_TIMEOUT = 420

# Whether a range is acceptable depends on more than each value's own schema can say (`from`
# before `to`, at most 5 years, at most 10 000 chart points; a breakdown's cursor only with the question
# it was given for, and not with CSV; a usage range's `from` not after its `to`; a token policy's
# maximum rate limit not below its default): these may refuse schema-valid data with 400, which the
# document lists for them.
CROSS_FIELD_RULES = {"getStats", "getStatsBreakdown", "getAPIClientUsage", "getSiteAPIClientUsage", "setTokenPolicy"}
# And whether a question is answerable depends on the site: one that needs raw page views the site's
# retention has removed (a run may shorten it, and the roll-up removes them within a minute) is
# refused with 422 `raw_events_removed`, which the document lists for them.
RETENTION_BOUND = {"getStats", "getStatsBreakdown"}
# Where a query string can grow past nginx's 8 KiB request line, nginx refuses it with 414 (documented)
# before the server could answer 400.
LONG_QUERIES = {"getStats", "getStatsBreakdown", "getAuditLog"}
# JSON-RPC (POST /api/mcp, docs/API.md §12) answers a message it cannot carry out (an unknown method or
# tool, arguments the tool refuses) with 200 and the error in the body, and acknowledges any
# notification with 202, as the protocol requires: a message outside the document's schema is not
# refused with a 4xx there. The bodies of those answers are still checked against their schemas. And
# whether a schema-valid message is taken depends on more than its own schema (a batch is one only
# under protocol version 2025-03-26).
JSON_RPC = {"mcp"}


def document() -> dict:
    return json.loads(DOCUMENT.read_text())


def operations() -> dict[str, dict]:
    """operationId → operation, for every operation of the document."""
    return {operation["operationId"]: operation for item in document()["paths"].values()
            for operation in item.values() if isinstance(operation, dict) and "operationId" in operation}


def credentials(operation: dict) -> set[str]:
    """The security schemes an operation takes: {} for none, {"session"}, {"session", "bearer"}, …"""
    return {name for requirement in operation["security"] for name in requirement}


def operation_ids() -> set[str]:
    return set(operations())


def public_operations() -> set[str]:
    return {name for name, operation in operations().items() if not credentials(operation)}


def session_only_operations() -> set[str]:
    return {name for name, operation in operations().items() if credentials(operation) == {"session"}}


def test_document_is_valid_openapi_3_1():
    schema = document()
    assert schema["openapi"].startswith("3.1")
    validate_openapi(schema)


def test_every_operation_says_which_credentials_it_takes():
    """The runs below pick their operations by `security`, so none may leave it to a default."""
    ids = [operation.get("operationId") for item in document()["paths"].values() for operation in item.values()]
    assert None not in ids and len(ids) == len(set(ids))
    assert all("security" in operation for operation in operations().values())
    assert {"logout", "login", "getHealth"} <= operation_ids()


def test_nginx_serves_the_repository_document_byte_for_byte(stack):
    response = stack.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.content == DOCUMENT.read_bytes()
    assert response.headers["Content-Type"].startswith("application/json")
    # Served by nginx even when no pool answers: the request never reaches a worker.
    assert stack.pool.request_lines("/api/openapi.json") == []


@pytest.fixture(scope="module")
def target(stack):
    """A pool and nginx on a fresh database, with an owner, a member, an invitation, a site and a token."""
    with lasting_deployment(stack, "hk_openapi_") as deployed:
        owner = deployed.people.new()
        viewer = deployed.people.create()
        site = owner.create_site(timezone="Europe/Berlin")
        owner.add_member(site["id"], viewer.email, "viewer")
        invited = unique_email("invited")
        owner.add_member(site["id"], invited, "admin")
        # A limit the runs cannot reach: a 429 would not say whether the request was acceptable.
        client = owner.create_client(name="schemathesis", rate_limit_per_minute=1000000)
        # Signed in before the runs: their random sign-ins soon meet the per-address throttle.
        second_session = deployed.people.login(owner.user)
        yield {"deployment": deployed, "owner": owner, "viewer": viewer, "site": site, "invited": invited,
               "token": client["token"], "second_session": second_session}


def _toml_string(value: str) -> str:
    return json.dumps(value)


def _config(headers: dict, selected: set[str]) -> str:
    """A schemathesis.toml: the seed, the examples, the credentials. Ids of sites, clients and
    invitations come from the links of the responses that create them (stateful phase) and from
    the ids in earlier responses (schemathesis's extra data sources), not from fixed values: a
    fixed value would override the link of a site just created, and a site deleted by one chain
    would be missing in the next."""
    lines = [
        f"seed = {SEED}",
        # One thread: Python 3.11's ast module, which hypothesis uses to describe strategies, can
        # fail when two threads parse at once ("AST constructor recursion depth mismatch").
        "workers = 1",
        "request-timeout = 10",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        'database = "none"',
        # Credentials come from the headers below, never drawn at random.
        "with-security-parameters = false",
        "[headers]",
        *(f"{_toml_string(name)} = {_toml_string(value)}" for name, value in headers.items()),
    ]
    for operation in sorted(selected & (CROSS_FIELD_RULES | LONG_QUERIES | JSON_RPC)):
        lines += ["[[operations]]", f"include-operation-id = {_toml_string(operation)}"]
        if operation in JSON_RPC:
            lines.append('checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "5xx"]')
            lines.append('checks.negative_data_rejection.expected-statuses = '
                         '["200", "202", "400", "401", "403", "405", "406", "413", "415", "422", "5xx"]')
        if operation in CROSS_FIELD_RULES:
            accepted = ["2xx", "3xx", "400", "401", "403", "404", "409", *(["422"] if operation in RETENTION_BOUND else []),
                        "429", "5xx"]
            lines.append(f"checks.positive_data_acceptance.expected-statuses = {json.dumps(accepted)}")
        if operation in LONG_QUERIES:
            lines.append('checks.negative_data_rejection.expected-statuses = '
                         '["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "5xx"]')
    return "\n".join(lines) + "\n"


def run_schemathesis(tmp_path: Path, name: str, base_url: str, headers: dict, selected: set[str],
                     phases: str = "examples,coverage,fuzzing,stateful", exclude_checks: tuple = ()) -> None:
    config = tmp_path / f"{name}.toml"
    config.write_text(_config(headers, selected))
    selection = []
    for operation in sorted(selected):
        selection += ["--include-operation-id", operation]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HITKEEP_")}
    environment["SCHEMATHESIS_HOOKS"] = "schemathesis_hooks"
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), environment.get("PYTHONPATH")]))
    environment["NO_COLOR"] = "1"
    output = tmp_path / f"{name}.log"
    with open(output, "w") as log:
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(DOCUMENT),
             "--url", base_url, "--checks", "all", *(f"--exclude-checks={check}" for check in exclude_checks),
             "--phases", phases, "--no-color", *selection],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path, env=environment,
            timeout=SCHEMATHESIS_TIMEOUT)
    text = output.read_text(errors="replace")
    keep = REPO / "test-artifacts" / f"schemathesis-{name}.log"
    keep.parent.mkdir(exist_ok=True)
    keep.write_text(text)
    assert result.returncode == 0, f"schemathesis ({name}) found failures:\n{text[-12000:]}"


def conforms(response, path: str, method: str):
    """The response as docs/openapi.json describes it for the operation: status, headers, body."""
    schemathesis.openapi.from_path(str(DOCUMENT))[path][method].validate_response(response)
    return response


def test_a_deleted_clients_token_is_refused_as_documented(target):
    """create a client → use its token → delete the client → the token is 401, every step as documented."""
    owner = target["owner"]
    created = conforms(owner.post("/api/user/api-clients", json={"name": "short-lived"}), "/api/user/api-clients", "POST")
    client = assert_json(created, 201)
    holder = owner.with_token(client["token"])
    introspected = conforms(holder.get("/api/token"), "/api/token", "GET")
    assert assert_json(introspected)["client"]["id"] == client["id"]
    by_key = conforms(holder.get("/api/token", token=None, headers={"X-Api-Key": client["token"]}), "/api/token", "GET")
    assert assert_json(by_key)["user"]["id"] == owner.user.id
    conforms(holder.get("/api/sites"), "/api/sites", "GET")

    deleted = conforms(owner.delete(f"/api/user/api-clients/{client['id']}"), "/api/user/api-clients/{client_id}", "DELETE")
    assert deleted.status_code == 204
    refused = conforms(holder.get("/api/token"), "/api/token", "GET")
    assert_problem(refused, 401, "invalid_token")
    assert parse_challenge(refused.headers["WWW-Authenticate"])["error_description"] == "The access token was revoked"
    assert_problem(conforms(holder.get("/api/sites"), "/api/sites", "GET"), 401, "invalid_token")


def test_schemathesis_with_a_bearer_token(target, tmp_path):
    selected = operation_ids() - session_only_operations()
    run_schemathesis(tmp_path, "bearer", target["deployment"].base_url,
                     {"Authorization": f"Bearer {target['token']}"}, selected)


def test_schemathesis_with_a_session_cookie(target, tmp_path):
    selected = operation_ids() - public_operations() - {"logout"}
    # The stateful phase follows the links of the operations that create tokens into
    # `GET /api/token` with the new token in `X-Api-Key`, which schemathesis does not count as the
    # request's credentials: with the cookie taken away the token still answers 200, as it should.
    # A per-operation setting does not reach the operations the links lead to, so this run leaves
    # that check to the token run below, which has it for every operation.
    run_schemathesis(tmp_path, "cookie", target["deployment"].base_url,
                     {"Cookie": f"hk_token={target['owner'].cookie}"}, selected, exclude_checks=("ignored_auth",))


def test_schemathesis_sign_out(target, tmp_path):
    deployed = target["deployment"]
    session = target["second_session"]
    # No links lead to or from it: the stateful phase would have nothing to run.
    run_schemathesis(tmp_path, "logout", deployed.base_url, {"Cookie": f"hk_token={session.cookie}"},
                     {"logout"}, phases="examples,coverage,fuzzing")
