"""The dashboard's API reference page (/api-reference): docs/openapi.json as nginx serves it,
rendered in headless Chromium with every operation and its error codes, no request beyond the
server's own origin, and a layout that fits a phone. Leaves screenshots in test-artifacts/.
"""

from __future__ import annotations

import json

import pytest

from browser_requirement import require_browser
from stack import REPO

require_browser()
from browser import DESKTOP, VIEWPORTS, Browser  # noqa: E402

DOCUMENT = json.loads((REPO / "docs" / "openapi.json").read_text())


@pytest.fixture(scope="module")
def browser():
    with Browser() as opened:
        yield opened


def test_every_operation_is_rendered_with_its_error_codes(stack, browser):
    browser.open(stack.base_url + "/api-reference")
    browser.find("#getStats")
    browser.wait_idle()
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            section = browser.find("#" + operation["operationId"])
            heading = section.find_element("css selector", "h3").text
            assert method.upper() in heading and path in heading, heading
    stats = browser.find("#getStats").text
    for code in ("invalid_filter", "invalid_range", "query_timeout", "insufficient_scope", "uri_too_long"):
        assert code in stats, code
    # The schemas the operations link to are on the page too.
    assert browser.find("#schema-Stats").text.startswith("Stats")


def test_the_page_asks_nothing_of_other_origins_and_breaks_no_policy(stack, browser):
    browser.open(stack.base_url + "/api-reference")
    browser.find("#getStats")
    browser.wait_idle()
    requested = browser.js("return performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert requested and all(url.startswith(stack.base_url + "/") for url in requested), requested
    assert stack.base_url + "/api/openapi.json" in requested
    assert browser.script_problems() == []


def test_the_page_fits_a_phone_and_a_desktop(stack, browser):
    browser.open(stack.base_url + "/api-reference#createAPIClient")
    browser.find("#createAPIClient")
    browser.wait_idle()
    shown = browser.js("return document.body.innerText")
    assert "undefined" not in shown and "[object Object]" not in shown
    for viewport in VIEWPORTS:
        browser.set_viewport(viewport)
        browser.wait_idle()
        overflow = browser.horizontal_overflow(viewport["width"])
        browser.screenshot(f"api-reference-{viewport['name']}")
        assert overflow["scrollWidth"] <= viewport["width"], overflow
        assert not overflow["offenders"], overflow
    browser.set_viewport(DESKTOP)
