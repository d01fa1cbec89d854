"""The dashboard in a real browser (issue 6): headless Chromium, driven by selenium, against the
nginx + worker pool + PostgreSQL of the integration harness, serving nginx/static as it ships.

One person's journey, step by step, as the documentation tells it: first-run setup → sign out and
in → add a site → page views sent by the real hk.js from a page on another origin → the numbers on
the stats page (filters, ranges, time zone) → Settings → API Clients: create, copy the token once,
call the stats API with it, rename in place, rotate with a grace period, delete and see the token
refused → password and security log → a session that ends mid-use and comes back to the same page.

Every page is photographed at phone (390×844) and desktop (1366×900) size into test-artifacts/,
and neither size may scroll sideways. The module runs on a database of its own (first-run setup
needs an empty users table), so the shared database is left as it was.
"""

from __future__ import annotations

import datetime as dt
import http.server
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from stack import REQUEST_TIMEOUT, Nginx, Pool, free_port, http_session, wait_until

from browser_requirement import require_browser  # noqa: E402

require_browser()
from browser import DESKTOP, VIEWPORTS, Browser  # noqa: E402

EMAIL = "owner@example.com"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a much longer passphrase"
SHOP = "shop.example.test"
TOKEN_RE = re.compile(r"hk_live_[0-9A-Za-z]{38}")

DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36")


# --- the deployment, the browsers and the shop --------------------------------------------------

@dataclass
class Journey:
    """What the steps hand on to each other."""
    base_url: str
    database: str
    browser: Browser
    shop_url: str
    access_log: Path
    site_id: Optional[str] = None
    password: str = PASSWORD
    tokens: dict = field(default_factory=dict)
    steps_done: set = field(default_factory=set)

    def require(self, *steps: str) -> None:
        missing = [step for step in steps if step not in self.steps_done]
        if missing:
            pytest.fail(f"an earlier step did not finish: {', '.join(missing)}", pytrace=False)

    def cookie_session(self) -> requests.Session:
        """An HTTP client carrying the browser's own session cookie (HttpOnly: read via WebDriver)."""
        session = http_session()
        cookie = self.browser.driver.get_cookie("hk_token")
        assert cookie, "the browser holds no hk_token cookie"
        session.cookies.set("hk_token", cookie["value"])
        return session

    def bearer(self, token: str, path: str) -> requests.Response:
        session = http_session()
        return session.get(self.base_url + path, headers={"Authorization": f"Bearer {token}"},
                           timeout=REQUEST_TIMEOUT)


SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Shop</title>
<script defer src="{hitkeep}/hk.js"></script></head>
<body><h1 id="title">{title}</h1>
<nav><a id="home" href="/">Home</a> <a id="pricing" href="/pricing">Pricing</a> <a id="about" href="/about">About</a></nav>
</body></html>
"""


class ShopHandler(http.server.BaseHTTPRequestHandler):
    """The tracked site: three pages that embed the tracker exactly as the snippet says."""
    hitkeep = ""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        titles = {"/": "Home", "/pricing": "Pricing", "/about": "About"}
        if path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        if path not in titles:
            self.send_error(404)
            return
        body = SHOP_PAGE.format(title=titles[path], hitkeep=self.hitkeep).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


@pytest.fixture(scope="module")
def journey(stack):
    """A fresh database with a pool and an nginx of its own (serving the harness's copy of
    nginx/static), the shop on another port, and the dashboard's browser."""
    database = f"hk_dashboard_{uuid.uuid4().hex[:8]}"
    database_url = stack.create_database(database)
    migrated = stack.migrate(database_url=database_url)
    assert migrated.returncode == 0, migrated.stderr
    pool = Pool(stack.binary, stack.root / "run" / f"{database}.sock", database_url,
                stack.root / "log" / f"{database}.log", workers=2)
    nginx = Nginx(stack.root / "run" / f"{database}-nginx", stack.static_root, [pool.upstream])

    class Handler(ShopHandler):
        pass

    shop = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    shop.daemon_threads = True
    shop_thread = threading.Thread(target=shop.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    browser = None
    try:
        pool.start()
        nginx.start()
        Handler.hitkeep = nginx.base_url
        shop_thread.start()
        browser = Browser()
        yield Journey(base_url=nginx.base_url, database=database, browser=browser,
                      shop_url=f"http://{SHOP}:{shop.server_address[1]}", access_log=nginx.access_log)
    finally:
        if browser is not None:
            browser.quit()
        shop.shutdown()
        shop.server_close()
        nginx.stop()
        pool.stop()


@pytest.fixture
def page(journey, request):
    """The dashboard's browser at desktop size; a failing step leaves a screenshot behind."""
    failures = request.session.testsfailed
    journey.browser.set_viewport(DESKTOP)
    yield journey.browser
    if request.session.testsfailed > failures:
        try:
            journey.browser.screenshot(f"dashboard-FAILED-{request.node.name}")
        except Exception:  # the browser may be what failed
            pass


def photograph(browser: Browser, name: str) -> None:
    """Screenshots of the current page at phone and desktop size; neither may scroll sideways, and
    no programming leftovers (null, undefined, NaN) may show."""
    shown = browser.js("return document.body.innerText")
    leftovers = re.findall(r"\b(?:null|undefined|NaN)\b|\[object Object\]", shown)
    assert not leftovers, f"{name} shows {leftovers}:\n{shown}"
    for viewport in VIEWPORTS:
        browser.set_viewport(viewport)
        browser.wait_idle()
        overflow = browser.horizontal_overflow(viewport["width"])
        browser.screenshot(f"dashboard-{name}-{viewport['name']}")
        assert overflow["scrollWidth"] <= overflow["innerWidth"], f"{name} scrolls sideways at {viewport['name']} size: {overflow}"
        assert overflow["scrollWidth"] <= viewport["width"], f"{name} is wider than a {viewport['name']}: {overflow}"
        assert not overflow["offenders"], f"{name} has elements sticking out at {viewport['name']} size: {overflow}"
    browser.set_viewport(DESKTOP)


def field_error(browser: Browser, control) -> str:
    """The error text tied to a control through aria-describedby, once it is marked invalid."""
    browser.wait(lambda _: control.get_attribute("aria-invalid") == "true", "the field was not marked invalid")
    ids = (control.get_attribute("aria-describedby") or "").split()
    texts = [browser.driver.find_element(By.ID, ident).text for ident in ids]
    errors = [text for ident, text in zip(ids, texts) if ident.startswith("error")]
    assert errors, f"no error is tied to the field (aria-describedby={ids})"
    return " ".join(errors)


def kpi(browser: Browser, name: str) -> str:
    return browser.find(f'[data-kpi="{name}"] .kpi-value').text


def wait_kpi(browser: Browser, name: str, value: str) -> None:
    browser.wait(lambda _: kpi(browser, name) == value and browser.js(
        "return !document.querySelector('.stats-results[aria-busy=\"true\"]')"),
        f"the {name} figure did not become {value}")


def log_offset(journey: Journey) -> int:
    """Where nginx's access log ends once what it holds in its buffer (flushed every second) is written."""
    time.sleep(1.2)
    return journey.access_log.stat().st_size if journey.access_log.exists() else 0


def api_requests(journey: Journey, since: int, loads: int) -> list[dict]:
    """The stats requests nginx logged after offset `since` of its access log, as their query
    parameters, once there are `loads` of them and nginx's one-second buffer has been flushed
    again; and the registry requests as `{"dimensions": …}`."""
    pattern = re.compile(r'"GET (/api/(?:sites/[0-9A-Z]{26}/stats|stats/dimensions)\S*) HTTP')

    def logged() -> list[str]:
        text = journey.access_log.read_bytes()[since:].decode(errors="replace")
        return pattern.findall(text)

    wait_until(lambda: len([t for t in logged() if "/stats?" in t]) >= loads, 10, "the stats requests were not logged")
    time.sleep(1.2)
    targets = logged()
    return [{"dimensions": True} if target.startswith("/api/stats/dimensions") else parse_qs(urlsplit(target).query)
            for target in targets]


def compared_text(page: Browser, first: dt.date, last: dt.date, until_now: bool) -> str:
    """What the stats page said before the server compared periods for it: "Compared with" the days
    it computed itself (the same number of days just before), in the browser's own date format."""
    def calendar(day: dt.date) -> str:
        return page.js("return new Intl.DateTimeFormat(navigator.language || 'en', {timeZone: 'UTC', dateStyle: 'medium'})"
                       ".format(new Date(Date.UTC(arguments[0], arguments[1] - 1, arguments[2])))",
                       day.year, day.month, day.day)
    days = (last - first).days + 1
    before = (first - dt.timedelta(days=days), last - dt.timedelta(days=days))
    shown = calendar(before[0]) if before[0] == before[1] else f"{calendar(before[0])} – {calendar(before[1])}"
    return f"Compared with {shown}" + (" up to the same time of day" if until_now else "")


# --- 1. first run ---------------------------------------------------------------------------------

def test_first_run_setup_creates_the_first_user_and_signs_them_in(journey, page):
    assert requests.get(journey.base_url + "/api/status", timeout=REQUEST_TIMEOUT).json()["needs_setup"] is True
    page.open(journey.base_url + "/")
    page.wait_for_path(lambda path: path == "/setup", "the first visit did not lead to setup")
    page.find("h1")
    assert page.find("h1").text == "Welcome to HitKeep"
    photograph(page, "setup")

    # Focus starts in the form; the passwords must match before anything is sent.
    assert page.js("return document.activeElement.name") == "name"
    page.fill("Your name", "Ada Owner")
    page.fill("Email", EMAIL)
    page.fill("Password", "short")
    page.fill("Repeat the password", "different")
    page.button("Create account and sign in").click()
    repeat = page.field("Repeat the password")
    assert "differ" in field_error(page, repeat)

    # The API's own refusal (RFC 9457 `code` invalid_password) lands next to the password field.
    page.fill("Repeat the password", "short")
    page.button("Create account and sign in").click()
    password = page.field("Password")
    assert "8" in field_error(page, password)
    assert page.js("return document.activeElement.name") == "password"

    page.fill("Password", PASSWORD)
    page.fill("Repeat the password", PASSWORD)
    page.button("Create account and sign in").click()
    page.wait_for_path(lambda path: path.startswith("/sites"), "setup did not continue to the sites")
    page.wait_for_text(".notice", "Add your first site")
    assert EMAIL in page.find(".topnav-email").get_attribute("title")
    journey.steps_done.add("setup")


def test_sign_out_and_sign_in_again(journey, page):
    journey.require("setup")
    page.button("Sign out").click()
    page.wait_for_path(lambda path: path.startswith("/login"), "signing out did not show sign-in")
    page.wait_for_text(".notice", "You have signed out.")
    assert page.driver.get_cookie("hk_token") is None, "the session cookie outlived sign-out"
    # Setup is over: /setup now sends people to sign in.
    page.open(journey.base_url + "/setup")
    page.wait_for_path(lambda path: path.startswith("/login"), "setup was still offered after the first user")
    photograph(page, "sign-in")

    # Keyboard: the form is reachable in reading order.
    email = page.field("Email")
    assert page.js("return document.activeElement") == email
    email.send_keys(EMAIL)
    email.send_keys(Keys.TAB)
    assert page.js("return document.activeElement.name") == "password"
    page.driver.switch_to.active_element.send_keys("not the password", Keys.ENTER)
    alert = page.wait_for_text(".form-alert", "incorrect")
    assert alert.get_attribute("role") == "alert"

    page.fill("Password", PASSWORD)
    page.field("Password").send_keys(Keys.TAB)
    assert page.js("return document.activeElement.textContent") == "Sign in"
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_for_path(lambda path: path == "/sites", "sign-in did not lead to the sites")
    journey.steps_done.add("signed-in")


# --- 2. sites -------------------------------------------------------------------------------------

def test_add_a_site_and_get_its_embed_snippet(journey, page):
    journey.require("signed-in")
    page.open(journey.base_url + "/sites")
    page.wait_idle()
    page.wait_for_text(".empty-state", "No sites yet")

    domain = page.fill("Domain", f"https://{SHOP}/")
    Select(page.field("Time zone")).select_by_value("Europe/Berlin")
    page.button("Add site").click()
    assert "scheme" in field_error(page, domain), "the API's invalid_domain was not shown at the domain field"

    page.fill("Domain", SHOP)
    page.fill("Name", "The Shop")
    page.button("Add site").click()
    panel = page.wait_for_text(".success-panel", "The Shop added")
    snippet = panel.find_element(By.CSS_SELECTOR, ".copy-value").text
    assert snippet == f'<script defer src="{journey.base_url}/hk.js"></script>'
    assert page.js("return document.activeElement.tagName") == "H3", "focus did not move to the result"

    card = page.find(".site-card")
    assert card.find_element(By.CSS_SELECTOR, ".site-name").text == "The Shop"
    assert SHOP in card.text and "Europe/Berlin" in card.text
    journey.site_id = card.get_attribute("data-site-id")
    assert re.fullmatch(r"[0-9A-Z]{26}", journey.site_id)

    # The same domain again: 409 domain_taken, next to the domain field.
    page.fill("Domain", SHOP)
    page.button("Add site").click()
    assert "registered already" in field_error(page, page.field("Domain"))
    page.fill("Domain", "")
    photograph(page, "sites")
    journey.steps_done.add("site")


def test_edit_and_delete_a_site(journey, page):
    journey.require("site")
    created = journey.cookie_session().post(journey.base_url + "/api/sites", json={"domain": "old-blog.example.net"},
                                            timeout=REQUEST_TIMEOUT)
    assert created.status_code == 201, created.text
    site_id = created.json()["id"]
    page.open(journey.base_url + "/sites")
    page.button("Edit old-blog.example.net").click()
    dialog = page.find("dialog[open]")
    name = page.fill("Name", "x" * 121, scope=dialog)
    assert len(name.get_attribute("value")) == 120, "the form stops a name longer than the server takes"
    page.fill("Name", "Old blog", scope=dialog)
    Select(page.field("Time zone", scope=dialog)).select_by_value("Asia/Tokyo")
    page.button("Save", scope=dialog).click()
    page.wait(lambda _: not page.find_all("dialog[open]"), "Save did not close the dialog")
    card = page.wait(lambda _: next((c for c in page.find_all(".site-card") if c.get_attribute("data-site-id") == site_id
                                     and "Old blog" in c.text), None), "the card was not updated")
    assert "Asia/Tokyo" in card.text
    shown = journey.cookie_session().get(journey.base_url + f"/api/sites/{site_id}", timeout=REQUEST_TIMEOUT).json()
    assert (shown["name"], shown["timezone"]) == ("Old blog", "Asia/Tokyo")

    # Deleting asks for the domain, typed.
    page.button("Delete old-blog.example.net").click()
    dialog = page.find("dialog[open]")
    assert "cannot be undone" in dialog.text
    delete = next(b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text == "Delete site")
    page.fill("Type old-blog.example.net to confirm", "old-blog.example", scope=dialog)
    assert not delete.is_enabled()
    page.fill("Type old-blog.example.net to confirm", "OLD-BLOG.example.net", scope=dialog)
    assert delete.is_enabled()
    photograph(page, "site-delete")
    delete.click()
    page.wait(lambda _: not [c for c in page.find_all(".site-card") if c.get_attribute("data-site-id") == site_id],
              "the deleted site stayed in the list")
    gone = journey.cookie_session().get(journey.base_url + f"/api/sites/{site_id}", timeout=REQUEST_TIMEOUT)
    assert gone.status_code == 404
    assert [c.get_attribute("data-site-id") for c in page.find_all(".site-card")] == [journey.site_id]


# --- 3. page views from another origin, on the stats page -----------------------------------------

def visit(visitor: Browser, user_agent: str, urls: list[str], links: list[str]) -> None:
    """One visitor in its own tab (so its own sessionStorage session): open, then follow links."""
    visitor.cdp("Emulation.setUserAgentOverride", {"userAgent": user_agent})
    for url in urls:
        visitor.open(url)
        visitor.find("#title")
    for link in links:
        before = visitor.path
        visitor.find(f"#{link}").click()
        visitor.wait(lambda _: visitor.path != before, f"following the {link} link did not load it")
        visitor.find("#title")


def test_page_views_from_another_origin_appear_on_the_stats_page(journey, page):
    journey.require("site")
    # A real browser visits the shop: its own Chromium (no automation flag, a normal user agent),
    # with shop.example.test resolving to this machine. hk.js is loaded from the HitKeep server.
    visitor = Browser(
        host_resolver_rules=f"MAP {SHOP} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        extra_arguments=["--disable-blink-features=AutomationControlled", f"--user-agent={DESKTOP_UA}"])
    try:
        visit(visitor, DESKTOP_UA, [journey.shop_url + "/?utm_source=newsletter&utm_medium=email"], ["pricing", "about"])
        visitor.driver.switch_to.new_window("tab")
        visit(visitor, PHONE_UA, [journey.shop_url + "/pricing"], [])
        assert visitor.js("return navigator.webdriver") is False
    finally:
        visitor.quit()

    # 202 means committed; wait (bounded) until all four are counted.
    api = journey.cookie_session()
    stats_url = f"{journey.base_url}/api/sites/{journey.site_id}/stats"

    def counted():
        answer = api.get(stats_url, timeout=REQUEST_TIMEOUT)
        return answer.status_code == 200 and answer.json()["total_pageviews"] == 4 and answer.json()
    stats = wait_until(counted, 15, "the four page views from the shop were not counted", interval=0.25)
    assert stats["unique_sessions"] == 2

    # What the site owner sees.
    page.open(journey.base_url + "/sites")
    since = log_offset(journey)
    page.find(f"a.button[href='/sites/{journey.site_id}']").click()
    page.wait_for_path(lambda path: path == f"/sites/{journey.site_id}", "View stats did not open the stats page")
    page.wait_idle()
    assert page.find("h1").text == "The Shop"
    assert "Europe/Berlin" in page.find(".period").text, "the time zone is not shown"
    wait_kpi(page, "pageviews", "4")
    # One stats request per load, the comparison included; the registry of dimensions beside it.
    requests_made = api_requests(journey, since, 1)
    stats_requests = [query for query in requests_made if "dimensions" not in query]
    assert len(stats_requests) == 1, requests_made
    assert stats_requests[0]["compare"] == ["previous"] and stats_requests[0]["timezone"] == ["Europe/Berlin"]
    assert len(requests_made) - len(stats_requests) <= 1, requests_made
    today = dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
    assert page.find(".compared").text == compared_text(page, today - dt.timedelta(days=29), today, True)
    assert kpi(page, "visitors") == "2"
    assert kpi(page, "pages-per-visit") == "2"
    assert kpi(page, "bounce-rate") == "50%"
    # Nothing in the previous 30 days: every count is new.
    assert "new" in page.find('[data-kpi="pageviews"] .kpi-change').text
    assert page.wait_for_text(".live-badge", "2 visitors online now")

    def top(card_title: str) -> dict:
        card = next(card for card in page.find_all(".toplist-card")
                    if card.find_element(By.CSS_SELECTOR, "h2").text == card_title)
        rows = card.find_elements(By.CSS_SELECTOR, ".toplist-row")
        return {row.find_element(By.CSS_SELECTOR, ".toplist-name").text:
                int(row.find_element(By.CSS_SELECTOR, ".toplist-value").text) for row in rows}

    assert top("Pages") == {"/pricing": 2, "/": 1, "/about": 1}
    # The tabs of a list work from the keyboard (arrow keys move and select).
    page.button("Top pages").send_keys(Keys.ARROW_RIGHT)
    assert page.js("return document.activeElement.textContent") == "Entry pages"
    assert page.button("Entry pages").get_attribute("aria-selected") == "true"
    assert top("Pages") == {"/": 1, "/pricing": 1}
    page.driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert top("Pages") == {"/about": 1, "/pricing": 1}
    page.driver.switch_to.active_element.send_keys(Keys.HOME)
    assert top("Pages") == {"/pricing": 2, "/": 1, "/about": 1}
    assert "Compared with" in page.find(".compared").text
    assert top("Devices") == {"Desktop": 3, "Mobile": 1}
    page.button("Source").click()
    assert top("Sources") == {"(none)": 3, "newsletter": 1}
    # The hosts the pages were viewed on: the shop's own domain, by its name.
    page.button("Hostnames").click()
    assert top("Pages") == {SHOP: 4}
    page.button("Top pages").click()

    # The chart: one line per series, and its numbers as a table that add up.
    assert len(page.find_all(".chart-svg path.chart-line")) >= 2
    page.find(".chart-table summary").click()
    cells = [cell.text for cell in page.find_all(".chart-table tbody tr td:nth-child(2)")]
    assert sum(int(value.replace(",", "")) for value in cells) == 4
    # Arrow keys read the chart point by point.
    chart = page.find(".chart")
    chart.send_keys(Keys.END)
    assert "page view" in page.find(".chart-tooltip").text
    page.find(".chart-table summary").click()
    photograph(page, "stats")

    # A click on a row filters everything by it; the filter is in the URL and removable.
    page.button("/pricing: 2 page views. Filter by this page.").click()
    page.wait(lambda _: "filter=path%3A%2Fpricing" in page.path, "the filter did not reach the URL")
    page.wait_for_text(".chip", "/pricing")
    wait_kpi(page, "pageviews", "2")
    # Screen readers hear the new result through the status region.
    announced = page.find(".stats-results ~ [role=status], [role=status].sr-only", visible=False).get_attribute("textContent")
    assert "Filtered by page /pricing." in announced and "2 page views" in announced, announced
    assert kpi(page, "visitors") == "2"
    photograph(page, "stats-filtered")
    page.button("Remove filter: Page is /pricing").click()
    wait_kpi(page, "pageviews", "4")
    assert "filter=" not in page.path

    # Presets and a custom range.
    since = log_offset(journey)
    Select(page.field("Period")).select_by_value("today")
    page.wait(lambda _: "range=today" in page.path, "the preset did not reach the URL")
    wait_kpi(page, "pageviews", "4")
    # Today so far is compared with yesterday up to the same time, hour by hour.
    today = dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
    assert page.find(".compared").text == compared_text(page, today, today, True)
    assert len(page.find_all(".chart-table tbody tr")) <= 25
    (asked,) = api_requests(journey, since, 1)
    assert asked["from"] == [today.isoformat()] and asked["compare"] == ["previous"]
    # …until the end of the current hour.
    hour_end = dt.datetime.fromisoformat(asked["to"][0].replace("Z", "+00:00"))
    assert hour_end.minute == 0 and dt.timedelta(0) < hour_end - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(hours=1)
    Select(page.field("Period")).select_by_value("yesterday")
    page.wait_for_text(".empty-state", "No page views in this period")
    assert kpi(page, "pageviews") == "0"
    yesterday = today - dt.timedelta(days=1)
    assert page.find(".compared").text == compared_text(page, yesterday, yesterday, False)
    Select(page.field("Period")).select_by_value("custom")
    start, end = page.field("From"), page.field("To")
    page.js("arguments[0].value = '2026-02-10'; arguments[1].value = '2026-01-10';", start, end)
    page.button("Apply").click()
    assert "after the end" in page.wait_for_text(".custom-range .field-error", "after").text
    page.js("arguments[0].value = arguments[2]; arguments[1].value = arguments[2];", start, end,
            page.js("return new Intl.DateTimeFormat('en-CA', {timeZone: 'Europe/Berlin'}).format(new Date())"))
    page.button("Apply").click()
    page.wait(lambda _: "range=custom" in page.path and "from=" in page.path, "the custom range did not reach the URL")
    wait_kpi(page, "pageviews", "4")
    # Back returns to the previous view: the custom range as it was before Apply (yesterday).
    page.driver.back()
    page.wait(lambda _: "range=custom" in page.path and page.field("Period").get_attribute("value") == "custom",
              "Back did not restore the previous view")
    wait_kpi(page, "pageviews", "0")
    journey.steps_done.add("stats")


def test_show_all_of_a_list_sorts_loads_more_and_downloads_csv(journey, page):
    journey.require("stats")
    # 55 pages seen on one day of last year, a period no other step looks at: more values than the
    # view's page of 50. Page /pNN has one session of 1 + NN % 3 page views, 10 s apart.
    api = journey.cookie_session()
    day = "2025-06-15"
    for index in range(55):
        for view in range(1 + index % 3):
            response = api.post(f"{journey.base_url}/api/ingest/server/pageview", timeout=REQUEST_TIMEOUT, json={
                "site_id": journey.site_id, "url": f"https://{SHOP}/p{index:02d}", "user_agent": DESKTOP_UA,
                "session_id": f"old-{index}", "timestamp": f"{day}T12:{index:02d}:{10 * view:02d}Z"})
            assert response.status_code == 202, response.text
    view = f"range=custom&from={day}&to={day}"
    page.open(f"{journey.base_url}/sites/{journey.site_id}?{view}")
    page.wait_idle()
    pages_card = next(card for card in page.find_all(".toplist-card") if card.find_element(By.CSS_SELECTOR, "h2").text == "Pages")
    link = pages_card.find_element(By.CSS_SELECTOR, ".toplist-more a")
    assert link.text == "Show all" and link.get_attribute("aria-label") == "Show all: Top pages"
    link.click()
    page.wait_for_path(lambda path: path.startswith(f"/sites/{journey.site_id}/breakdown/path?"), "Show all did not open")
    page.wait_idle()
    assert page.find("h1").text == "Top pages"
    assert page.path == f"/sites/{journey.site_id}/breakdown/path?{view}"

    def names() -> list[str]:
        return [cell.text for cell in page.find_all(".breakdown-table tbody td.breakdown-name")]

    def sorted_header() -> tuple[str, str]:
        (cell,) = [cell for cell in page.find_all(".breakdown-table th[aria-sort]") if cell.get_attribute("aria-sort") != "none"]
        return cell.get_attribute("textContent").rstrip(" ▲▼"), cell.get_attribute("aria-sort")

    # By page views, highest first, ties by name: the 3-view pages, then the 2-view ones, …
    assert len(names()) == 50
    assert names()[:3] == ["/p02", "/p05", "/p08"] and sorted_header() == ("Page views", "descending")
    first = page.find(".breakdown-table tbody tr")
    assert [cell.text for cell in first.find_elements(By.CSS_SELECTOR, "td")] == ["/p02", "3", "1", "0%", "20s"]
    assert page.find(".breakdown-summary").text == "The first 50 values; there are more."
    page.button("Load more").click()
    page.wait(lambda _: len(names()) == 55, "Load more did not add the last rows")
    assert page.wait_for_text(".breakdown-summary", "All 55 values.")
    assert not any(button.is_displayed() for button in page.find_all("button") if button.text == "Load more")
    assert names()[-1] == "/p54" and len(set(names())) == 55

    # A click on a column sorts by it, highest first; a second click turns the order round.
    duration = next(button for button in page.find_all(".sort-button")
                    if button.get_attribute("textContent").startswith("Visit duration"))
    duration.click()
    page.wait(lambda _: sorted_header() == ("Visit duration", "descending") and len(names()) == 50 and names()[0] == "/p02",
              "sorting by visit duration did not happen")
    assert "order_by=avg_session_duration" in page.path and "order=" not in page.path
    duration.click()
    page.wait(lambda _: sorted_header() == ("Visit duration", "ascending") and names()[:2] == ["/p00", "/p03"],
              "the second click did not turn the order round")
    assert page.path.endswith("order_by=avg_session_duration&order=asc")
    assert page.js("return document.activeElement.classList.contains('sort-button')")
    photograph(page, "breakdown")

    # The CSV link asks for the same question, every row; the browser's session may fetch it.
    href = page.find("a[download]").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert query["format"] == ["csv"] and query["order_by"] == ["avg_session_duration"] and query["order"] == ["asc"]
    assert query["dimension"] == ["path"] and query["from"] == [day] and query["to"] == [day]
    csv = api.get(href, timeout=REQUEST_TIMEOUT)
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.headers["Content-Disposition"] == f'attachment; filename="{SHOP}-path-{day}-{day}.csv"'
    lines = csv.content.decode().split("\r\n")
    assert lines[0] == "name,pageviews,visitors,bounce_rate,avg_session_duration" and len(lines) == 57 and lines[-1] == ""
    assert lines[1] == "/p00,1,1,100,0" and lines[-2] == "/p53,3,1,0,20"

    # A value leads back to the stats, filtered by it; Back returns to the list as it was sorted.
    page.find(".breakdown-table tbody td.breakdown-name a").click()
    page.wait(lambda _: page.path.startswith(f"/sites/{journey.site_id}?") and "filter=path%3A%2Fp00" in page.path,
              "a value did not lead to the filtered stats")
    wait_kpi(page, "pageviews", "1")
    page.driver.back()
    page.wait(lambda _: "/breakdown/path" in page.path and names()[:1] == ["/p00"], "Back did not restore the list")
    assert sorted_header() == ("Visit duration", "ascending")


# --- 4. Settings → API Clients ----------------------------------------------------------------------

def client_card(page: Browser, name: str):
    return page.wait(lambda _: next((card for card in page.find_all(".client-card")
                                     if card.find_element(By.CSS_SELECTOR, ".client-name").text == name), None),
                     f"no API client card named {name!r}")


def test_api_clients_create_copy_use_rename_rotate_delete(journey, page):
    journey.require("stats")
    # "Open Settings → API Clients in the HitKeep dashboard."
    page.open(journey.base_url + "/sites")
    page.find(".topnav-link[href='/settings/api-clients']").click()
    page.wait_for_path(lambda path: path == "/settings/api-clients", "Settings did not open API Clients")
    page.wait_for_text(".empty-state", "No API clients yet")

    # "Click New API Client."
    new = page.button("New API Client")
    assert new.get_attribute("aria-expanded") == "false"
    new.click()
    assert new.get_attribute("aria-expanded") == "true"
    assert page.js("return document.activeElement") == page.field("Name")

    # A name is required: the API's invalid_name is shown at the Name field.
    page.button("Create API client").click()
    assert "name must be 1 to 120 characters" in field_error(page, page.field("Name")).lower()
    photograph(page, "api-client-new")

    # "Give the client a descriptive name (e.g., grafana-reader, ci-exporter)."
    page.fill("Name", "grafana-reader")
    form = page.find(".new-client-form")
    for box in form.find_elements(By.CSS_SELECTOR, "input[name=scopes]"):
        if box.get_attribute("value") not in ("stats:read", "sites:read") and box.is_selected():
            box.click()
    form.find_element(By.CSS_SELECTOR, "input[name=site_mode][value=some]").click()
    form.find_element(By.CSS_SELECTOR, f"input[name=site_ids][value='{journey.site_id}']").click()
    Select(page.field("Expires")).select_by_value("30")
    page.button("Create API client").click()

    # "Copy the generated token immediately — it is shown once."
    panel = page.wait_for_text(".token-panel", "You will not see it again")
    token = panel.find_element(By.CSS_SELECTOR, ".copy-value").text
    assert TOKEN_RE.fullmatch(token), token
    assert page.js("return document.activeElement.textContent") == "Token for grafana-reader"
    page.cdp("Browser.grantPermissions", {"origin": journey.base_url,
                                          "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    page.button("Copy", scope=panel).click()
    page.wait_for_text(".token-panel .copy-status", "Copied")
    copied = page.driver.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, (e) => done('error: ' + e))")
    assert copied == token
    photograph(page, "api-client-token")

    card = client_card(page, "grafana-reader")
    text = card.text
    assert f"hk_live_…{token[-4:]}" in text
    assert "sites:read" in text and "stats:read" in text and "sites:write" not in text
    assert "The Shop" in text
    assert "Never" in text  # last used

    # The token works against the stats API, over plain HTTP, as the documentation shows.
    answer = journey.bearer(token, f"/api/sites/{journey.site_id}/stats")
    assert answer.status_code == 200, answer.text
    assert answer.json()["total_pageviews"] == 4
    journey.tokens["first"] = token

    # "Done" removes the token for good; a reload shows the list only, with "last used" filled in.
    page.button("Done: I have copied it").click()
    assert not page.find_all(".token-panel")
    page.driver.refresh()
    card = client_card(page, "grafana-reader")
    assert token not in page.find("main").text
    last_used = card.find_element(By.XPATH, ".//dt[.='Last used']/following-sibling::dd[1]").text
    assert last_used != "Never", "last used was not updated by the API call"

    # Rename in place (Escape cancels, a blank name is refused next to the field).
    page.button("Rename grafana-reader").click()
    name_input = page.find(".rename-form input[name=name]")
    assert page.js("return document.activeElement") == name_input
    name_input.send_keys(Keys.ESCAPE)
    page.wait(lambda _: not page.find_all(".rename-form"), "Escape did not cancel the rename")
    assert page.js("return document.activeElement.textContent") == "Rename"
    page.button("Rename grafana-reader").click()
    name_input = page.find(".rename-form input[name=name]")
    name_input.send_keys(Keys.CONTROL, "a")
    name_input.send_keys(Keys.DELETE, Keys.ENTER)
    assert "name must be" in field_error(page, name_input).lower()
    name_input.send_keys("renamed-client", Keys.ENTER)
    client_card(page, "renamed-client")
    listed = journey.cookie_session().get(journey.base_url + "/api/user/api-clients", timeout=REQUEST_TIMEOUT).json()
    assert [client["name"] for client in listed] == ["renamed-client"]

    # Rotate with a grace period: the new token is shown once, the old one keeps working a while.
    page.button("Rotate the token of renamed-client").click()
    dialog = page.find("dialog[open]")
    assert "Rotate the token" in dialog.text
    Select(dialog.find_element(By.CSS_SELECTOR, "select")).select_by_value("300")
    page.button("Rotate token", scope=dialog).click()
    panel = page.wait_for_text(".token-panel", "New token for renamed-client")
    assert "You will not see it again" in panel.text
    assert "keeps working until" in panel.text
    rotated = panel.find_element(By.CSS_SELECTOR, ".copy-value").text
    assert TOKEN_RE.fullmatch(rotated) and rotated != token
    assert journey.bearer(rotated, f"/api/sites/{journey.site_id}/stats").status_code == 200
    assert journey.bearer(token, f"/api/sites/{journey.site_id}/stats").status_code == 200
    card = client_card(page, "renamed-client")
    assert f"hk_live_…{rotated[-4:]}" in card.text
    # The card keeps showing the old token and the end of its grace period, also after a reload.
    assert f"hk_live_…{token[-4:]}" in card.text and "keeps working until" in card.text
    page.open(journey.base_url + "/settings/api-clients")
    assert "keeps working until" in client_card(page, "renamed-client").text

    # Delete, with a confirmation that can be declined.
    page.button("Delete renamed-client").click()
    dialog = page.find("dialog[open]")
    assert "Delete “renamed-client”?" in dialog.text and "stops working immediately" in dialog.text
    page.button("Keep it", scope=dialog).click()
    page.wait(lambda _: not page.find_all("dialog[open]"), "Keep it did not close the dialog")
    assert page.js("return document.activeElement.textContent") == "Delete", "focus did not return to Delete"
    client_card(page, "renamed-client")
    page.button("Delete renamed-client").click()
    dialog = page.find("dialog[open]")
    photograph(page, "api-client-delete")
    page.button("Delete API client", scope=dialog).click()
    page.wait(lambda _: not page.find_all(".client-card"), "the deleted client stayed in the list")
    page.wait_for_text(".empty-state", "No API clients yet")
    assert not page.find_all(".token-panel"), "the deleted client's token stayed on screen"

    # …and its tokens are refused from the very next request, the grace period's too.
    for refused in (rotated, token):
        answer = journey.bearer(refused, f"/api/sites/{journey.site_id}/stats")
        assert answer.status_code == 401, answer.text
        assert 'error="invalid_token"' in answer.headers.get("WWW-Authenticate", "")
    journey.steps_done.add("clients")


def test_an_expired_client_is_marked_expired(journey, page, stack):
    journey.require("clients")
    created = journey.cookie_session().post(journey.base_url + "/api/user/api-clients",
                                            json={"name": "ci-exporter", "expires_in_days": 1}, timeout=REQUEST_TIMEOUT)
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    stack.sql(f"UPDATE api_clients SET expires_at = now() - interval '1 hour' WHERE id = '{client_id}'",
              database=journey.database)
    page.open(journey.base_url + "/settings/api-clients")
    card = client_card(page, "ci-exporter")
    assert "Expired" in card.find_element(By.CSS_SELECTOR, ".badge").text
    assert "This token no longer works" in card.text
    assert not [button for button in card.find_elements(By.TAG_NAME, "button") if button.text == "Rotate token"]
    photograph(page, "api-clients")


def test_the_previous_token_leaves_the_card_when_its_grace_period_ends(journey, page):
    journey.require("clients")
    session = journey.cookie_session()
    created = session.post(journey.base_url + "/api/user/api-clients", json={"name": "short-grace"}, timeout=REQUEST_TIMEOUT)
    assert created.status_code == 201, created.text
    old_hint = created.json()["token_hint"]
    rotated = session.post(journey.base_url + f"/api/user/api-clients/{created.json()['id']}/rotate",
                           json={"grace_seconds": 12}, timeout=REQUEST_TIMEOUT)
    assert rotated.status_code == 200, rotated.text
    page.open(journey.base_url + "/settings/api-clients")
    card = client_card(page, "short-grace")
    assert old_hint in card.text and "keeps working until" in card.text
    # Without a reload: the line goes when the old token stops working.
    page.wait(lambda _: "keeps working until" not in client_card(page, "short-grace").text,
              "the ended grace period stayed on the card", timeout=60)
    assert old_hint not in client_card(page, "short-grace").text
    gone = session.delete(journey.base_url + f"/api/user/api-clients/{created.json()['id']}", timeout=REQUEST_TIMEOUT)
    assert gone.status_code == 204


def test_a_client_shows_its_rate_limit_its_coming_expiry_and_its_usage(journey, page):
    # The next test lists this client as breaking the policy it sets, then deletes it.
    journey.require("clients")
    created = journey.cookie_session().post(journey.base_url + "/api/user/api-clients",
                                            json={"name": "usage-reader", "expires_in_days": 3, "rate_limit_per_minute": 120},
                                            timeout=REQUEST_TIMEOUT)
    assert created.status_code == 201, created.text
    for _ in range(5):
        assert journey.bearer(created.json()["token"], "/api/sites").status_code == 200
    page.open(journey.base_url + "/settings/api-clients")
    card = client_card(page, "usage-reader")
    assert "Expires soon" in card.find_element(By.CSS_SELECTOR, ".badge").text
    assert "120 requests a minute" in card.text

    def counted():
        page.open(journey.base_url + "/settings/api-clients")
        caption = client_card(page, "usage-reader").find_element(By.CSS_SELECTOR, ".usage-chart figcaption")
        return page.wait(lambda _: "Loading" not in caption.text and caption.text, "the usage chart did not load")

    page.wait(lambda _: "Requests, last 30 days: 5" in counted(), "the chart does not show the 5 requests")
    card = client_card(page, "usage-reader")
    assert len(card.find_elements(By.CSS_SELECTOR, ".usage-bars g")) == 30
    photograph(page, "api-client-usage")


def test_an_admin_sets_the_token_policy_and_sees_the_clients_that_break_it(journey, page):
    journey.require("clients")
    page.open(journey.base_url + "/settings/token-policy")
    default = page.find("input[name='default_rate_limit_per_minute']")
    highest = page.find("input[name='max_rate_limit_per_minute']")
    try:
        default.clear()
        default.send_keys("50")
        highest.clear()
        highest.send_keys("40")
        page.find("form[aria-label='Token policy'] button[type='submit']").click()
        assert "below" in field_error(page, highest)
        highest.clear()
        highest.send_keys("100")
        page.find("form[aria-label='Token policy'] button[type='submit']").click()
        page.wait(lambda _: "Last changed" in page.find("form[aria-label='Token policy'] [role='status']").text,
                  "the policy was not saved")
        listed = page.wait(lambda _: next((card for card in page.find_all(".client-card")
                                           if "usage-reader" in card.text), None), "usage-reader is not listed")
        assert "Rate limit too high" in listed.text
        photograph(page, "token-policy")
    finally:
        session = journey.cookie_session()
        for client in session.get(journey.base_url + "/api/user/api-clients", timeout=REQUEST_TIMEOUT).json():
            if client["name"] == "usage-reader":
                session.delete(journey.base_url + f"/api/user/api-clients/{client['id']}", timeout=REQUEST_TIMEOUT)
        session.put(journey.base_url + "/api/admin/token-policy", timeout=REQUEST_TIMEOUT, json={
            "max_lifetime_days": None, "expiry_required": False,
            "allowed_scopes": ["ingest:write", "sites:read", "sites:write", "stats:read", "user:read"],
            "default_rate_limit_per_minute": 600, "max_rate_limit_per_minute": 1000000})


# --- 5. password and security log ------------------------------------------------------------------

def test_change_password_and_read_the_security_log(journey, page):
    journey.require("clients")
    page.open(journey.base_url + "/settings/password")
    page.wait_idle()
    page.fill("Current password", "wrong password")
    page.fill("New password", NEW_PASSWORD)
    page.fill("Repeat the new password", NEW_PASSWORD)
    page.button("Change password").click()
    assert "current password is incorrect" in field_error(page, page.field("Current password"))

    page.fill("Current password", PASSWORD)
    page.fill("Repeat the new password", "something else")
    page.button("Change password").click()
    assert "differ" in field_error(page, page.field("Repeat the new password"))

    page.fill("Repeat the new password", NEW_PASSWORD)
    # The expired ci-exporter client is still there: the form offers to revoke it with the password.
    revoke = page.find("input[name=revoke_api_clients]")
    assert "Also revoke all 1 API client" in page.js("return arguments[0].labels[0].textContent", revoke)
    photograph(page, "password")
    revoke.click()
    page.button("Change password").click()
    page.wait_for_text(".notice.success", "Every API client was revoked")
    journey.password = NEW_PASSWORD
    assert journey.cookie_session().get(journey.base_url + "/api/user/api-clients", timeout=REQUEST_TIMEOUT).json() == []

    page.find(".subnav a[href='/settings/security']").click()
    page.wait_for_path(lambda path: path == "/settings/security", "the security log did not open")
    table = page.find(".data-table")
    events = [row.find_elements(By.TAG_NAME, "td")[1].text for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    # Both in the same instant, in either order.
    assert sorted(events[:2]) == ["API client deleted", "Password changed"]
    assert events[2] == "Password change refused: wrong current password"
    for expected in ("API client deleted", "API client token rotated", "API client changed", "API client created",
                     "Failed sign-in attempt", "Signed in", "Signed out", "Site created"):
        assert expected in events, f"{expected!r} missing from the security log: {events}"
    assert "renamed-client" in table.text or "a deleted API client" in table.text
    photograph(page, "security-log")
    journey.steps_done.add("password")


def test_revoke_all_api_clients(journey, page):
    journey.require("password")
    tokens = []
    for name in ("grafana", "nightly-export"):
        created = journey.cookie_session().post(journey.base_url + "/api/user/api-clients", json={"name": name},
                                                timeout=REQUEST_TIMEOUT)
        assert created.status_code == 201, created.text
        tokens.append(created.json()["token"])
    page.open(journey.base_url + "/settings/api-clients")
    client_card(page, "nightly-export")
    page.button("Revoke all").click()
    dialog = page.find("dialog[open]")
    assert "Revoke all 2 API clients?" in dialog.text
    page.button("Revoke all API clients", scope=dialog).click()
    page.wait_for_text(".empty-state", "No API clients yet")
    assert not page.find_all(".client-card")
    assert not [button for button in page.find_all("button") if button.text == "Revoke all" and button.is_displayed()]
    for token in tokens:
        assert journey.bearer(token, "/api/sites").status_code == 401


def test_a_sites_own_api_clients_in_its_settings(journey, page):
    journey.require("clients")
    # The site's settings open from its card, on the same API Clients page as Settings → API Clients.
    page.open(journey.base_url + "/sites")
    card = page.wait(lambda _: next((c for c in page.find_all(".site-card")
                                     if c.get_attribute("data-site-id") == journey.site_id), None), "no card for the site")
    card.find_element(By.CSS_SELECTOR, f"a[href='/sites/{journey.site_id}/settings/api-clients']").click()
    page.wait_for_path(lambda path: path == f"/sites/{journey.site_id}/settings/api-clients", "the site's settings did not open")
    page.wait_for_text("h1", "API Clients of The Shop")
    page.wait_for_text(".empty-state", "No API clients yet")
    assert not [button for button in page.find_all("button") if button.text == "Revoke all" and button.is_displayed()]

    page.button("New API Client").click()
    form = page.find(".new-client-form")
    offered = [box.get_attribute("value") for box in form.find_elements(By.CSS_SELECTOR, "input[name=scopes]")]
    assert sorted(offered) == ["ingest:write", "sites:read", "sites:write", "stats:read"], offered
    assert not form.find_elements(By.CSS_SELECTOR, "input[name=site_mode]"), "a site's client offered other sites"
    assert "The Shop only" in form.text
    page.fill("Name", "team-deploys")
    for box in form.find_elements(By.CSS_SELECTOR, "input[name=scopes]"):
        if box.get_attribute("value") not in ("stats:read", "sites:read") and box.is_selected():
            box.click()
    page.button("Create API client").click()
    panel = page.wait_for_text(".token-panel", "You will not see it again")
    token = panel.find_element(By.CSS_SELECTOR, ".copy-value").text
    assert TOKEN_RE.fullmatch(token), token
    photograph(page, "site-api-client-token")
    page.button("Done: I have copied it").click()

    card = client_card(page, "team-deploys")
    assert "The Shop only" in card.text and "by " in card.text
    # The token reads that site, and lists it alone.
    assert journey.bearer(token, f"/api/sites/{journey.site_id}/stats").status_code == 200
    assert [site["id"] for site in journey.bearer(token, "/api/sites").json()] == [journey.site_id]
    # It is the site's, not the signed-in person's.
    mine = journey.cookie_session().get(journey.base_url + "/api/user/api-clients", timeout=REQUEST_TIMEOUT).json()
    assert "team-deploys" not in [client["name"] for client in mine]

    page.button("Rename team-deploys").click()
    name_input = page.find(".rename-form input[name=name]")
    name_input.send_keys(Keys.CONTROL, "a")
    name_input.send_keys("shop-deploys", Keys.ENTER)
    client_card(page, "shop-deploys")
    photograph(page, "site-api-clients")
    page.button("Delete shop-deploys").click()
    page.button("Delete API client", scope=page.find("dialog[open]")).click()
    page.wait_for_text(".empty-state", "No API clients yet")
    assert journey.bearer(token, "/api/sites").status_code == 401


# --- 6. a session that ends mid-use -------------------------------------------------------------------

def test_an_ended_session_returns_to_the_same_page_after_sign_in(journey, page, stack):
    journey.require("password")
    where = f"/sites/{journey.site_id}?range=7d&filter=device%3Amobile"
    page.open(journey.base_url + where)
    wait_kpi(page, "pageviews", "1")
    # The session ends behind the browser's back (expiry, sign-out elsewhere)…
    stack.sql("DELETE FROM sessions", database=journey.database)
    # …and the next thing the person does needs the API.
    Select(page.field("Period")).select_by_value("30d")
    page.wait_for_path(lambda path: path.startswith("/login"), "a 401 did not lead to sign-in")
    assert "next=" in page.path and "reason=expired" in page.path
    page.wait_for_text(".notice", "Your session has ended")
    page.fill("Email", EMAIL)
    page.fill("Password", journey.password)
    page.button("Sign in").click()
    page.wait_for_path(lambda path: path.startswith("/sites/"), "sign-in did not return to the stats page")
    # 30 days is the default range, so it is not spelled out in the URL.
    assert page.path == f"/sites/{journey.site_id}?filter=device%3Amobile", page.path
    wait_kpi(page, "pageviews", "1")
    assert page.find(".chip").text.startswith("Device")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_sign_in_never_sends_people_to_another_site(journey, page, target):
    journey.require("password")
    page.button("Sign out").click()
    page.wait_for_path(lambda path: path.startswith("/login"), "sign-out did not show sign-in")
    page.open(journey.base_url + "/login?next=" + requests.utils.quote(target, safe=""))
    page.fill("Email", EMAIL)
    page.fill("Password", journey.password)
    page.button("Sign in").click()
    page.wait_for_path(lambda path: path == "/sites", f"next={target!r} was followed")
    assert page.driver.current_url.startswith(journey.base_url + "/")


# --- 7. the whole product under the CSP, in the dark -------------------------------------------------

def test_pages_keep_to_the_content_security_policy(journey, page):
    journey.require("password")
    headers = requests.get(journey.base_url + "/sites", timeout=REQUEST_TIMEOUT).headers
    policy = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    # Every page of the journey ran without a CSP refusal or an uncaught error.
    assert page.script_problems() == []


def test_dark_colour_scheme(journey, page):
    journey.require("password")
    page.emulate_color_scheme("dark")
    try:
        for path, name in ((f"/sites/{journey.site_id}", "stats-dark"), ("/settings/api-clients", "api-clients-dark")):
            page.open(journey.base_url + path)
            page.wait_idle()
            background = page.js("return getComputedStyle(document.body).backgroundColor")
            red, green, blue = (int(part) for part in re.findall(r"\d+", background)[:3])
            assert red + green + blue < 120, f"the dark scheme was not applied: {background}"
            photograph(page, name)
    finally:
        page.emulate_color_scheme("light")
