"""Headless Chromium for the dashboard tests: Debian's `chromium` and `chromium-driver` driven by
selenium. Every wait is bounded; screenshots and viewport sizes go through the DevTools protocol so
that a "phone" is a real 390 px wide mobile viewport, not a shrunken desktop window.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

# Bounds for every wait in the browser tests.
WAIT = 15.0
PAGE_LOAD_TIMEOUT = 30.0

PHONE = {"name": "phone", "width": 390, "height": 844, "mobile": True, "scale": 2}
DESKTOP = {"name": "desktop", "width": 1366, "height": 900, "mobile": False, "scale": 1}
VIEWPORTS = (PHONE, DESKTOP)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _find(names: Iterable[str], directories: Iterable[str] = ("/usr/bin", "/usr/lib/chromium")) -> Optional[str]:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for directory in directories:
            candidate = Path(directory) / name
            if candidate.exists() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def chromium_binary() -> Optional[str]:
    return os.environ.get("HITKEEP_CHROMIUM") or _find(["chromium", "chromium-browser", "google-chrome"])


def chromedriver_binary() -> Optional[str]:
    return os.environ.get("HITKEEP_CHROMEDRIVER") or _find(["chromedriver"])


class Browser:
    """One headless Chromium with its own profile, closed by `quit()`."""

    def __init__(self, host_resolver_rules: Optional[str] = None, color_scheme: str = "light",
                 extra_arguments: Iterable[str] = ()):
        binary, driver_path = chromium_binary(), chromedriver_binary()
        if not binary or not driver_path:
            raise RuntimeError("chromium and chromium-driver are not installed (make test installs them)")
        self.profile = Path(tempfile.mkdtemp(prefix="hitkeep-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-features=Translate,MediaRouter,OptimizationHints",
            "--no-proxy-server", "--lang=en-US", "--window-size=1366,900",
            f"--user-data-dir={self.profile}",
            # Loopback only: never resolve anything through the network.
            f"--host-resolver-rules={host_resolver_rules or 'MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'}",
            *extra_arguments,
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.page_load_strategy = "normal"
        try:
            service = Service(executable_path=driver_path, log_output=str(self.profile / "chromedriver.log"))
        except TypeError:  # selenium before 4.11 (Debian's python3-selenium) calls it log_path
            service = Service(executable_path=driver_path, log_path=str(self.profile / "chromedriver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        self.driver.set_script_timeout(WAIT)
        self.emulate_color_scheme(color_scheme)
        self.console: list[dict] = []

    # --- lifecycle -----------------------------------------------------------------------------

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.quit()

    # --- pages and waits -----------------------------------------------------------------------

    def open(self, url: str) -> None:
        self.driver.get(url)

    @property
    def path(self) -> str:
        return self.driver.execute_script("return location.pathname + location.search")

    def wait(self, condition: Callable[[webdriver.Chrome], object], message: str, timeout: float = WAIT):
        """Polls `condition(driver)` until truthy; StaleElement and NoSuchElement count as not yet."""
        def safe(driver):
            try:
                return condition(driver)
            except (StaleElementReferenceException, NoSuchElementException):
                return False
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe)
        except TimeoutException:
            raise TimeoutException(f"{message} (waited {timeout:g} s; at {self.driver.current_url})") from None

    def find(self, css: str, timeout: float = WAIT, visible: bool = True) -> WebElement:
        def found(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if not visible or element.is_displayed():
                    return element
            return False
        return self.wait(found, f"no {'visible ' if visible else ''}element matches {css!r}", timeout)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for_path(self, predicate: Callable[[str], bool], message: str, timeout: float = WAIT) -> str:
        return self.wait(lambda driver: predicate(self.path) and self.path, message, timeout)

    def wait_for_text(self, css: str, text: str, timeout: float = WAIT) -> WebElement:
        def has(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed() and text in element.text:
                    return element
            return False
        return self.wait(has, f"no visible {css!r} containing {text!r}", timeout)

    def wait_idle(self, timeout: float = WAIT) -> None:
        """Waits until the app has no request in flight (no element with aria-busy)."""
        self.wait(lambda driver: driver.execute_script(
            "return document.readyState === 'complete' && !document.querySelector('[aria-busy=\"true\"]')"
            " && !document.getElementById('boot-message')"),
            "the page did not settle", timeout)

    def button(self, label: str, scope: Optional[WebElement] = None, timeout: float = WAIT) -> WebElement:
        """A visible, enabled button (or link styled as one) whose text or aria-label is `label`."""
        root = scope or self.driver

        def found(_):
            for element in root.find_elements(By.CSS_SELECTOR, "button, a.button, [role=tab]"):
                names = {element.text.strip(), (element.get_attribute("aria-label") or "").strip()}
                if label in names and element.is_displayed() and element.is_enabled():
                    return element
            return False
        return self.wait(found, f"no button {label!r}", timeout)

    def field(self, label: str, scope: Optional[WebElement] = None) -> WebElement:
        """The form control a visible <label> with exactly this text points at."""
        root = scope or self.driver

        def found(_):
            for element in root.find_elements(By.CSS_SELECTOR, "label"):
                if element.text.strip() == label and element.is_displayed():
                    target = element.get_attribute("for")
                    if target:
                        return self.driver.find_element(By.ID, target)
            return False
        return self.wait(found, f"no field labelled {label!r}")

    def fill(self, label: str, value: str, scope: Optional[WebElement] = None) -> WebElement:
        element = self.field(label, scope)
        element.clear()
        element.send_keys(value)
        return element

    def js(self, script: str, *arguments):
        return self.driver.execute_script(script, *arguments)

    # --- viewports, screenshots, layout --------------------------------------------------------

    def cdp(self, command: str, parameters: Optional[dict] = None):
        return self.driver.execute_cdp_cmd(command, parameters or {})

    def emulate_color_scheme(self, scheme: str) -> None:
        self.cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def set_viewport(self, viewport: dict) -> None:
        self.cdp("Emulation.setDeviceMetricsOverride", {
            "width": viewport["width"], "height": viewport["height"],
            "deviceScaleFactor": viewport["scale"], "mobile": viewport["mobile"],
        })
        self.cdp("Emulation.setTouchEmulationEnabled", {"enabled": viewport["mobile"]})
        # Let layout (and the chart's ResizeObserver) catch up with the new size. (A page without a
        # viewport meta tag, such as a JSON document, lays out 980 px wide on a phone: no wait on it.)
        time.sleep(0.2)

    def horizontal_overflow(self, width: Optional[int] = None) -> dict:
        """The page's scroll width against the viewport's (a phone widens its layout viewport to
        fit overflowing content, so `width` is the device width the page must fit), and the first
        elements that stick out."""
        return self.js("""
            const limit = arguments[0] || window.innerWidth;
            const root = document.documentElement;
            const offenders = [];
            // Content inside a box that clips it (overflow other than visible, or clip: rect) and
            // that itself fits does not widen the page: visually hidden table headers, for one.
            const clipped = (element) => {
                for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
                    const style = getComputedStyle(parent);
                    if ((style.overflowX !== 'visible' || style.clip !== 'auto') && parent.getBoundingClientRect().right <= limit + 0.5) return true;
                }
                return false;
            };
            for (const element of document.body.querySelectorAll('*')) {
                const box = element.getBoundingClientRect();
                if (box.width && box.right > limit + 0.5 && !clipped(element)) {
                    offenders.push(element.tagName.toLowerCase() + (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(box.right));
                }
            }
            return {scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, offenders: offenders.slice(0, 8)};
        """, width)

    def screenshot(self, name: str) -> Path:
        """The whole page (not only the viewport) as test-artifacts/<name>.png."""
        ARTIFACTS.mkdir(exist_ok=True)
        metrics = self.cdp("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        viewport = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
        width = max(int(viewport["clientWidth"]), 1)
        height = min(max(int(size["height"]), int(viewport["clientHeight"])), 12000)
        shot = self.cdp("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        })
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    # --- console --------------------------------------------------------------------------------

    def collect_console(self) -> list[dict]:
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            entries = []
        self.console.extend(entries)
        return entries

    def script_problems(self) -> list[str]:
        """Console messages that mean the page broke: CSP refusals and uncaught errors."""
        self.collect_console()
        problems = []
        for entry in self.console:
            message = entry.get("message", "")
            if ("Content Security Policy" in message or "Refused to" in message or "Uncaught" in message
                    or entry.get("source") == "javascript" and entry.get("level") == "SEVERE"):
                problems.append(message)
        return problems


def dump(value) -> str:
    return json.dumps(value, indent=2, default=str)
