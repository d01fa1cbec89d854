"""The dashboard as a new user meets it (issue 18, items 1 and 7), in headless Chromium against a
pool, nginx and a database of this module's own: the count of dropped page views on a quiet site,
a loading indicator and a Retry button, hourly charts over several days with dates on their axis
and no label cut off, selects that keep their text with the custom range open, focus that stays
on the row that was activated, and names the server would refuse stopped before they are sent.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from accounts import assert_json, lasting_deployment, unique_domain
from stack import REQUEST_TIMEOUT, wait_until

from browser_requirement import require_browser  # noqa: E402

require_browser()
from browser import DESKTOP, PHONE, Browser  # noqa: E402

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(scope="module")
def deployed(stack):
    with lasting_deployment(stack, "hk_firstuse_") as deployment:
        yield deployment


@pytest.fixture(scope="module")
def owner(deployed):
    return deployed.people.new()


@pytest.fixture(scope="module")
def browser(deployed, owner):
    browser = Browser()
    try:
        browser.open(deployed.base_url + "/api/health")
        browser.driver.add_cookie({"name": "hk_token", "value": owner.cookie, "path": "/"})
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def page(browser, request):
    failures = request.session.testsfailed
    browser.set_viewport(DESKTOP)
    browser.cdp("Network.enable")
    yield browser
    browser.cdp("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                     "uploadThroughput": -1})
    if request.session.testsfailed > failures:
        try:
            browser.screenshot(f"first-use-FAILED-{request.node.name}")
        except Exception:
            pass


def open_stats(page, deployed, site_id, query=""):
    page.open(f"{deployed.base_url}/sites/{site_id}{query}")
    page.find('[data-kpi="pageviews"] .kpi-value')
    page.wait_idle()


def add_page_views(deployed, site_id, rows):
    """Page views straight into `events` (the rollups follow in the same statement): (hours ago, session, path)."""
    values = ", ".join(f"('{site_id}', now() - interval '{hours} hours', '{session}', '{path}', 'desktop', 'Chrome')"
                       for hours, session, path in rows)
    deployed.sql(f"INSERT INTO events (site_id, occurred_at, session_id, path, device, browser) VALUES {values}")


def track(deployed, origin, user_agent=CHROME):
    return requests.post(deployed.base_url + "/ingest", data=json.dumps({"path": "/", "session_id": "s1"}),
                         headers={"Origin": origin, "User-Agent": user_agent}, timeout=REQUEST_TIMEOUT)


# --- item 1: the dropped page views on a quiet site -----------------------------------------------------

def test_a_quiet_site_says_how_many_page_views_were_dropped_today_and_why(page, deployed, owner):
    parent = unique_domain("quiet")
    site = owner.create_site("www2." + parent)
    open_stats(page, deployed, site["id"])
    assert not page.find(".dropped-note", visible=False).is_displayed()

    assert track(deployed, "https://www2." + parent, user_agent=GOOGLEBOT).headers["HitKeep-Dropped"] == "bot"
    assert track(deployed, "https://" + parent).headers["HitKeep-Dropped"] == "unknown-origin"
    assert track(deployed, "https://" + parent).headers["HitKeep-Dropped"] == "unknown-origin"
    wait_until(lambda: (assert_json(owner.get(f"/api/sites/{site['id']}/dropped"))["days"] or [{}])[0].get("total") == 3,
               15, "the dropped page views were not counted")

    open_stats(page, deployed, site["id"])
    note = page.wait_for_text(".dropped-note", "dropped today")
    assert note.text.splitlines()[0] == "3 page views dropped today: 2 unknown origin / 1 bot"
    assert "crawler" in note.text and "origin is not this site's domain" in note.text
    assert "prefetch" not in note.text
    page.screenshot("first-use-dropped-note")


# --- item 7: loading, errors, axis, selects, focus, limits -----------------------------------------------

def test_a_loading_indicator_shows_while_numbers_are_fetched(page, deployed, owner):
    site = owner.create_site()
    open_stats(page, deployed, site["id"])
    indicator = page.find(".loading-indicator", visible=False)
    assert not indicator.is_displayed()
    page.cdp("Network.emulateNetworkConditions", {"offline": False, "latency": 1500, "downloadThroughput": -1,
                                                 "uploadThroughput": -1})
    Select(page.field("Period")).select_by_value("7d")
    page.wait(lambda _: indicator.is_displayed(), "no loading indicator while the stats were fetched")
    assert "Loading" in indicator.text
    page.wait(lambda _: not indicator.is_displayed(), "the loading indicator stayed", timeout=20)
    page.wait_idle()
    assert page.find('[data-kpi="pageviews"] .kpi-value').text == "0"


def test_a_network_error_offers_retry(page, deployed, owner):
    site = owner.create_site()
    # Now, not an hour ago: in the hour after midnight that would be yesterday, not "today".
    add_page_views(deployed, site["id"], [(0, "r1", "/")])
    open_stats(page, deployed, site["id"])
    page.cdp("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                 "uploadThroughput": -1})
    Select(page.field("Period")).select_by_value("today")
    alert = page.wait_for_text(".form-alert", "could not be loaded")
    retry = page.button("Retry", scope=alert)
    page.cdp("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                 "uploadThroughput": -1})
    retry.click()
    page.wait(lambda _: not alert.is_displayed(), "Retry did not load the stats")
    page.wait_idle()
    assert page.find('[data-kpi="pageviews"] .kpi-value').text == "1"
    assert page.js("return document.activeElement.tagName") == "H1"


def axis_labels(page):
    """Each x axis label's text and whether it lies wholly inside the chart."""
    return page.js("""
        const svg = document.querySelector('.chart-svg');
        const width = svg.getBoundingClientRect().width;
        const bottom = svg.getBoundingClientRect().height - 20;
        return [...svg.querySelectorAll('text.chart-axis')].filter((t) => Number(t.getAttribute('y')) > bottom)
          .map((t) => { const box = t.getBBox(); return [t.textContent, box.x >= 0 && box.x + box.width <= width]; });
    """)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_hours_over_several_days_show_dates_and_no_axis_label_is_cut(page, deployed, owner, viewport):
    site = owner.create_site()
    add_page_views(deployed, site["id"], [(hours, f"h{hours}", "/") for hours in range(0, 14 * 24, 7)])
    today = dt.datetime.now(dt.timezone.utc).date()
    page.set_viewport(viewport)
    for query, dated in [(f"?range=custom&from={today - dt.timedelta(days=13)}&to={today}&interval=hour", True),
                         (f"?range=custom&from={today - dt.timedelta(days=1)}&to={today}", True),
                         ("?range=today&interval=hour", False), ("", False), ("?range=12m", False)]:
        open_stats(page, deployed, site["id"], query)
        labels = page.wait(lambda _: axis_labels(page), f"no axis labels for {query}")
        assert all(inside for _, inside in labels), (query, labels)
        months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
        if dated:
            assert all(any(month in text for month in months) for text, _ in labels), labels
            page.screenshot(f"first-use-hours-over-days-{viewport['name']}")


def test_hours_over_too_long_a_period_are_refused_with_the_reason(page, deployed, owner):
    site = owner.create_site()
    today = dt.datetime.now(dt.timezone.utc).date()
    page.open(f"{deployed.base_url}/sites/{site['id']}?range=custom&from={today - dt.timedelta(days=500)}&to={today}&interval=hour")
    alert = page.wait_for_text(".form-alert", "cannot show this period in hours")
    assert "choose a longer interval" in alert.text
    assert not page.find_all(".form-alert .retry")


def selects_cut_off(page):
    """The selects in the controls whose chosen text does not fit inside them."""
    return page.js("""
        const canvas = document.createElement('canvas').getContext('2d');
        return [...document.querySelectorAll('.controls select')].filter((select) => {
          const style = getComputedStyle(select);
          canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const text = canvas.measureText(select.selectedOptions[0].textContent).width;
          const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          return text > room;
        }).map((select) => [select.name, select.selectedOptions[0].textContent, select.clientWidth]);
    """)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_selects_keep_their_text_with_the_custom_range_open(page, deployed, owner, viewport):
    site = owner.create_site(timezone="America/Argentina/Buenos_Aires")
    page.set_viewport(viewport)
    open_stats(page, deployed, site["id"], "?interval=week")
    assert selects_cut_off(page) == []
    Select(page.field("Period")).select_by_value("custom")
    page.find(".custom-range")
    page.wait_idle()
    assert selects_cut_off(page) == []
    page.screenshot(f"first-use-custom-range-{viewport['name']}")


def test_keyboard_focus_stays_on_the_row_that_was_activated(page, deployed, owner):
    site = owner.create_site()
    add_page_views(deployed, site["id"], [(1, "k1", "/pricing"), (1, "k2", "/pricing"), (2, "k3", "/about")])
    open_stats(page, deployed, site["id"])
    row = page.find('.toplist-row[data-value="/pricing"]')
    row.send_keys(Keys.ENTER)
    page.wait_for_text(".filter-bar", "/pricing")
    page.wait_idle()
    page.wait(lambda _: page.js("return document.activeElement.dataset.value") == "/pricing",
              "focus left the row that was activated")
    assert page.js("return document.activeElement.closest('.toplist-card') !== null")
    # Tabbing on goes on from there, not from the top of the page.
    page.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert page.js("return document.activeElement.closest('.toplists') !== null")


def test_a_name_longer_than_the_server_allows_is_stopped_before_it_is_sent(page, deployed, owner):
    page.open(deployed.base_url + "/settings/api-clients")
    page.button("New API Client").click()
    name = page.field("Name")
    # Typing stops at the server's limit (it was 200 here, where the server takes 120).
    name.send_keys("n" * 200)
    assert name.get_attribute("value") == "n" * 120
    # A longer value that got in another way is refused beside the field, and nothing is sent.
    page.js("arguments[0].value = 'm'.repeat(200)", name)
    page.button("Create API client").click()
    page.wait(lambda _: name.get_attribute("aria-invalid") == "true", "the name was not marked invalid")
    error = page.driver.find_element(By.ID, name.get_attribute("aria-describedby").split()[-1])
    assert error.text == "Name must be at most 120 characters; this one has 200."
    assert page.js("return document.activeElement") == name
    assert assert_json(owner.get("/api/user/api-clients")) == []
    # The description's limit is the server's 1000.
    assert page.field("Description").get_attribute("maxlength") == "1000"

    # The same on the sites page, where the server's limits are 120 for a name and 253 for a domain.
    page.open(deployed.base_url + "/sites")
    domain = unique_domain("limits")
    page.fill("Domain", domain)
    assert page.field("Domain").get_attribute("maxlength") == "253"
    site_name = page.fill("Name", "s" * 121)
    assert site_name.get_attribute("value") == "s" * 120
    page.button("Add site").click()
    page.wait_for_text(".success-panel", "added")
    created = [site for site in assert_json(owner.get("/api/sites")) if site["domain"] == domain]
    assert [site["name"] for site in created] == ["s" * 120]
