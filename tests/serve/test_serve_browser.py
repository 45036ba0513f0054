"""The query page in a real headless Chromium: run a canned query, see the table, open an entity.

Debian's chromium and chromium-driver (installed by .ci/run) drive the page; nothing is downloaded.
The page must work with no internet: every request it makes goes to the server under test.
Screenshots are saved in the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from serving import copy_store, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# In CI (.ci/run installs the browser) a missing browser is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
    reason="Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def server(built_seeds, tmp_path_factory):
    store = copy_store(built_seeds, tmp_path_factory.mktemp("browser") / "kg")
    with running_server(store) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, css: str, timeout: float = 30, count: int = 1):
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if len(found) >= count and found[0].is_displayed():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{css!r} did not appear within {timeout} s; page: {driver.current_url}")


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_run_a_canned_query_see_the_table_and_open_an_entity_page(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server.url)
    wait_for(browser, ".yasqe .CodeMirror")
    browser.find_element(By.CSS_SELECTOR, '.canned-query[data-name="most-mentioned-people"]').click()
    rows = wait_for(browser, ".yasr table tbody tr", count=3)
    assert len(rows) >= 3
    header = [th.text.strip() for th in browser.find_elements(By.CSS_SELECTOR, ".yasr table thead th")]
    assert {"person", "name", "mentions", "articles"} <= {h.strip("? ").lower() for h in header if h}
    links = wait_for(browser, ".yasr table tbody a.entity-link")
    first = links[0]
    target = first.get_attribute("href")
    assert target.startswith(server.url + "person/"), "entity IRIs link to their page on this server"
    browser.save_screenshot(str(tmp_path / "query-page.png"))

    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.find_element(By.CSS_SELECTOR, '#downloads a[data-format="csv"]').click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (tmp_path / "results.csv").exists():
        time.sleep(0.1)
    downloaded = (tmp_path / "results.csv").read_text(encoding="utf-8")
    assert downloaded.splitlines()[0] == "person,name,mentions,articles"

    first.click()
    heading = wait_for(browser, "h1")[0]
    assert browser.current_url == target
    name = browser.find_element(By.CSS_SELECTOR, "h1").text
    assert "Person" in heading.text and name.replace("Person", "").strip()
    assert browser.find_elements(By.CSS_SELECTOR, "svg.neighbourhood a.node")
    assert browser.find_elements(By.CSS_SELECTOR, ".mentions mark")
    browser.save_screenshot(str(tmp_path / "entity-page.png"))

    web = [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:", "wss:"))]
    elsewhere = [u for u in web if not u.startswith(server.url)]
    assert not elsewhere, f"the page asked for something outside this server: {elsewhere}"
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
    assert (tmp_path / "query-page.png").stat().st_size > 10_000
    assert (tmp_path / "entity-page.png").stat().st_size > 10_000
    print(f"screenshots: {tmp_path / 'query-page.png'} {tmp_path / 'entity-page.png'}")
