"""The seed page (shared/spec/seed-api-clients.md), verbatim: every curl command on it, read from the
page itself, run by a real curl through a shell against the test stack, in the page's order.

Only the placeholders are substituted (the base URL, the session cookie, the site id, the client id
and the token). The commands' own text is untouched: curl's output options (silent, a status line at
the end, a time limit) come from a `.curlrc` in $CURL_HOME, which curl reads by itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from accounts import ALL_SCOPES, Api, assert_json, people, token_is_well_formed, where_stored  # noqa: F401
from stack import REPO

SEED = Path(os.environ.get("HITKEEP_SEED_PAGE", REPO.parent / "shared" / "spec" / "seed-api-clients.md"))
PLACEHOLDER_BASE = "https://your-hitkeep.example"


def seed_commands() -> list[tuple[str, str]]:
    """(the comment or text line before it, the command) for every curl command on the page, with
    backslash continuations joined as a shell would see them (kept as written, newlines included)."""
    lines = SEED.read_text().splitlines()
    commands, label, index = [], "", 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("curl "):
            command = [line]
            while command[-1].endswith("\\") and index + 1 < len(lines):
                index += 1
                command.append(lines[index])
            commands.append((label, "\n".join(command)))
        elif line.strip():
            label = line.strip()
        index += 1
    return commands


class Curl:
    """Runs the page's commands with the placeholders filled in."""

    def __init__(self, home: Path, base_url: str):
        home.mkdir(exist_ok=True)
        (home / ".curlrc").write_text('silent\nshow-error\nmax-time = 10\nwrite-out = "\\n%{http_code}"\n')
        self.environment = {key: value for key, value in os.environ.items()
                            if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        self.environment["CURL_HOME"] = str(home)
        self.environment["HOME"] = str(home)
        self.base_url = base_url
        self.values: dict[str, str] = {}

    def fill(self, command: str) -> str:
        command = command.replace(PLACEHOLDER_BASE, self.base_url)
        for placeholder, value in self.values.items():
            command = command.replace(placeholder, value)
        return command

    def run(self, command: str) -> tuple[int, str]:
        filled = self.fill(command)
        leftover = re.findall(r"YOUR_SESSION_COOKIE|\{[a-z_]+\}|hk_live_abc123\.\.\.|your-hitkeep", filled)
        assert not leftover, f"unfilled placeholders {leftover} in {filled}"
        result = subprocess.run(["bash", "-c", filled], capture_output=True, text=True, timeout=20,
                                env=self.environment)
        assert result.returncode == 0, f"curl failed ({result.returncode}): {result.stderr}\n{filled}"
        body, _, status = result.stdout.rpartition("\n")
        return int(status), body


def test_the_page_has_the_five_commands_of_the_walkthrough():
    labels = [command.split("\n")[0] for _, command in seed_commands()]
    assert len(labels) == 5, labels
    assert labels[0].startswith("curl -X POST ") and labels[0].endswith("/api/user/api-clients \\")
    assert "/api/sites/{site_id}/stats" in labels[1]
    assert labels[2].startswith("curl https://your-hitkeep.example/api/user/api-clients")
    assert labels[3].startswith("curl -X PUT ") and labels[4].startswith("curl -X DELETE ")


def _command(fragment: str) -> str:
    found = [command for _, command in seed_commands() if fragment in command]
    assert len(found) == 1, (fragment, found)
    return found[0]


def test_the_seed_walkthrough_verbatim(stack, people, tmp_path):
    api = people.new()
    site = api.create_site()
    curl = Curl(tmp_path / "curl-home", stack.base_url)
    curl.values = {"YOUR_SESSION_COOKIE": api.cookie, "{site_id}": site["id"]}

    create = _command("-X POST")
    stats = _command("/stats")
    listing = _command("curl https://your-hitkeep.example/api/user/api-clients \\\n-b")
    rename = _command("-X PUT")
    delete = _command("-X DELETE")

    # 1. Create a client: the response has the id, the name and the token.
    status, body = curl.run(create)
    assert status == 201, body
    created = json.loads(body)
    assert {"id", "name", "token"} <= set(created)
    assert created["name"] == "grafana-reader"
    assert token_is_well_formed(created["token"])
    assert created["scopes"] == ALL_SCOPES, "no scopes given: the token works for every authenticated endpoint"
    curl.values["hk_live_abc123..."] = created["token"]
    curl.values["{client_id}"] = created["id"]

    # 2. Use it as a Bearer token on the stats endpoint.
    status, body = curl.run(stats)
    assert status == 200, body
    assert json.loads(body)["site_id"] == site["id"]

    # 3. List all clients (no token in the list).
    status, body = curl.run(listing)
    assert status == 200, body
    listed = json.loads(body)
    assert [client["id"] for client in listed] == [created["id"]]
    assert created["token"] not in body

    # 4. Rename it; the token keeps working.
    status, body = curl.run(rename)
    assert status == 200, body
    assert json.loads(body)["name"] == "renamed-client"
    status, body = curl.run(stats)
    assert status == 200, body

    # HitKeep does not store tokens in plain text.
    assert where_stored(stack, [created["token"]]) == []

    # 5. Delete it: immediately revokes the token.
    status, body = curl.run(delete)
    assert status == 204, body
    assert body == ""
    status, body = curl.run(stats)
    assert status == 401, body
    assert json.loads(body)["code"] == "invalid_token"
    status, body = curl.run(listing)
    assert status == 200 and json.loads(body) == []


def test_the_walkthrough_commands_need_the_cookie(stack, tmp_path):
    """With a cookie that is not a session, every management command of the page is refused."""
    curl = Curl(tmp_path / "curl-home", stack.base_url)
    curl.values = {"YOUR_SESSION_COOKIE": "not-a-session", "{client_id}": "01JFKQ4Z7W3M9X0C5T2V8B6N1R",
                   "{site_id}": "01JFKQ4Z7W3M9X0C5T2V8B6N1R", "hk_live_abc123...": "hk_live_abc123"}
    for fragment in ("-X POST", "-X PUT", "-X DELETE"):
        status, body = curl.run(_command(fragment))
        assert status == 401, body
        assert json.loads(body)["code"] == "unauthenticated"
    status, body = curl.run(_command("/stats"))
    assert status == 401 and json.loads(body)["code"] == "invalid_token"
