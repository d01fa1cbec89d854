"""Whether the browser tests can run here: selenium, Debian's chromium and chromium-driver.

`make test` (scripts/install-deps --test) installs them, so in CI their absence fails the module
that needs them; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os

import pytest


def require_browser() -> None:
    """Call at the top of a test module, before importing `browser`."""
    try:
        from browser import chromedriver_binary, chromium_binary
    except ImportError:
        missing = "selenium is not installed"
    else:
        missing = None if chromium_binary() and chromedriver_binary() else "chromium and chromium-driver are not installed"
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: the browser tests cannot run", pytrace=False)
    pytest.skip(f"{missing} (make test installs them)", allow_module_level=True)
