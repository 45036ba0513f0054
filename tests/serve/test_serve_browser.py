"""The pages in a real headless Chromium: run a canned query, see the table, open an entity; follow the
trace from a result to its Wikidata link decision, its article, an event and the timeline; browse a list
with a facet and a second page; see the seed places on the map.

Debian's chromium and chromium-driver (installed by .ci/run) drive the page; nothing is downloaded.
The page must work with no internet: every request it makes goes to the server under test.
Screenshots are saved in the test's temporary folder.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import SEEDS, SHARED
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
    wanted = {"person", "name", "mentions", "articles"}

    def columns() -> set[str]:  # the opening query's table stays until the canned query's answer replaces it
        header = [th.text.strip() for th in browser.find_elements(By.CSS_SELECTOR, ".yasr table thead th")]
        return {h.strip("? ").lower() for h in header if h}

    deadline = time.monotonic() + 30
    while not wanted <= columns() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wanted <= columns()
    rows = wait_for(browser, ".yasr table tbody tr", count=3)
    assert len(rows) >= 3
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


def click(driver, css: str, timeout: float = 30):
    """Click the first element `css` finds once it is shown; the element. A page that draws again between
    the finding and the click (the query page's results, when a second answer replaces the first) leaves a
    stale element: it is found again, up to a few times."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(4):
        try:
            return _scroll_and_click(driver, wait_for(driver, css, timeout)[0])
        except StaleElementReferenceException:
            time.sleep(0.2)
    return _scroll_and_click(driver, wait_for(driver, css, timeout)[0])


def _scroll_and_click(driver, element):
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()
    return element


def wait_for_url(driver, predicate, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(driver.current_url):
            return driver.current_url
        time.sleep(0.1)
    raise AssertionError(f"the browser stayed at {driver.current_url}")


def no_severe_errors(driver) -> None:
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def test_trace_a_result_to_its_link_decision_article_event_and_the_timeline(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    requested_urls(browser)  # drains the log of the pages other tests opened
    browser.get(server.url)
    wait_for(browser, ".yasqe .CodeMirror")
    browser.find_element(By.CSS_SELECTOR, '.canned-query[data-name="most-mentioned-people"]').click()
    click(browser, ".yasr table tbody a.entity-link")
    wait_for_url(browser, lambda url: "/person/" in url)
    browser.save_screenshot(str(tmp_path / "1-entity.png"))

    # the link decision: on the entity's page, at its own anchor, with confidence, reason and runner-up
    click(browser, "a.decision-link")
    url = wait_for_url(browser, lambda url: url.endswith("#wikidata"))
    decision = wait_for(browser, "section.decision")[0]
    assert decision.get_attribute("id") == "wikidata" and "/person/" in url
    assert browser.execute_script("return document.querySelector(':target') === arguments[0]", decision)
    assert "confidence" in decision.text and "Reason:" in decision.text and "Runner-up:" in decision.text
    browser.save_screenshot(str(tmp_path / "2-link-decision.png"))

    # the article of a mention, with triggers and dates marked and a legend for them
    click(browser, "section.mentions h3 a")
    wait_for_url(browser, lambda url: "/article/" in url)
    wait_for(browser, ".article-text a.mention.trigger")
    legend = browser.find_element(By.CSS_SELECTOR, "p.legend").text
    assert "Event trigger" in legend and "Date" in legend
    assert browser.find_elements(By.CSS_SELECTOR, ".article-text .mention.date")
    browser.save_screenshot(str(tmp_path / "3-article.png"))

    # an event: what, when, where, who and the sentences, trigger marked
    click(browser, "ul.article-events a.event-link")
    wait_for_url(browser, lambda url: "/event/" in url)
    summary = wait_for(browser, "table.event-summary")[0].text
    assert all(word in summary for word in ("What", "When", "Where", "Who", "Reported in"))
    assert browser.find_elements(By.CSS_SELECTOR, ".evidence mark.trigger")
    browser.save_screenshot(str(tmp_path / "4-event.png"))

    # the timeline, drawn by the vendored vis-timeline, with this event selected; a click opens an event
    event_url = browser.current_url
    click(browser, "a.timeline-link")
    wait_for_url(browser, lambda url: "/timeline" in url)
    items = wait_for(browser, "#timeline .vis-item.event-item")
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline .vis-item.vis-selected"), "the event is selected"
    browser.save_screenshot(str(tmp_path / "5-timeline.png"))
    items[0].click()
    wait_for_url(browser, lambda url: "/event/" in url)
    assert browser.find_element(By.CSS_SELECTOR, "h1").text
    assert event_url.startswith(server.url)

    web = [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:", "wss:"))]
    assert not [u for u in web if not u.startswith(server.url)], "everything comes from this server"
    no_severe_errors(browser)
    for name in ("1-entity", "2-link-decision", "3-article", "4-event", "5-timeline"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    print(f"screenshots in {tmp_path}")


def test_browse_a_list_with_a_facet_then_its_second_page(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server.url)
    click(browser, 'a.count-link[href="/browse/events"]')
    wait_for_url(browser, lambda url: url.endswith("/browse/events"))
    everything = int(browser.find_element(By.CSS_SELECTOR, "h1 .count").text.replace(",", ""))
    click(browser, '.facet[data-facet="dated"] a.facet-value[data-value="no"]')
    wait_for_url(browser, lambda url: "dated=no" in url)
    undated = int(browser.find_element(By.CSS_SELECTOR, "h1 .count").text.replace(",", ""))
    assert 10 < undated < everything, "the facet keeps the undated events only"
    click(browser, "a.per-page")  # 10 per page
    wait_for_url(browser, lambda url: "per=10" in url)
    first_page = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.browse-rows tbody a")]
    assert len(first_page) == 10
    click(browser, 'a[rel="next"]')
    wait_for_url(browser, lambda url: "page=2" in url and "dated=no" in url)
    second_page = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.browse-rows tbody a")]
    assert len(second_page) == undated - 10 and not set(first_page) & set(second_page)
    assert f"11–{undated} of {undated}" in browser.find_element(By.CSS_SELECTOR, "p.showing").text
    browser.save_screenshot(str(tmp_path / "browse-page-2.png"))
    no_severe_errors(browser)


@pytest.fixture(scope="module")
def placed_seeds(tmp_path_factory, nlp):
    """The seeds built with an index that has coordinates: the starter items and the dr5hn tables (ODbL,
    fine for a test, not shipped) in one index, so the places the starter links get dr5hn's coordinates."""
    from kg.pipeline.build import build
    from kg.settings import Settings
    from kg.wikidata.index import build_index
    from kg.wikidata.starter import STARTER_ITEMS

    tables = SHARED / "wikidata" / "dr5hn_countries_states_cities"
    if not tables.is_dir():
        pytest.skip("../shared/wikidata is absent: no index with coordinates to draw a map from")
    folder = tmp_path_factory.mktemp("placed")
    index = folder / "starter-and-dr5hn.sqlite"
    build_index([STARTER_ITEMS, tables], index, name="starter-dr5hn")
    settings = Settings(store=folder / "kg", wikidata_index=str(index), wikidata_cache=folder / "cache")
    report = build([SEEDS], settings, nlp=nlp)
    assert report.ok, report.summary()
    return settings.store


def test_the_map_shows_the_seed_places_that_have_coordinates(placed_seeds, browser, tmp_path):
    import pyoxigraph as ox
    from selenium.webdriver.common.by import By

    from kg.namespaces import sparql_prefixes

    store = ox.Store.read_only(str(placed_seeds))
    placed = {
        row["l"].value
        for row in store.query(
            sparql_prefixes() + "SELECT ?l WHERE { ?x a kg:Place ; rdfs:label ?l ; schema:geo/schema:latitude ?lat }",
            use_default_graph_as_union=True,
        )
    }
    del store
    assert {"Seoul", "North Korea", "South Korea", "Suwon"} <= placed
    with running_server(placed_seeds) as running:
        requested_urls(browser)  # drains the log of the pages other tests opened
        browser.get(running.url)
        click(browser, 'a[href="/map"]')
        markers = wait_for(browser, "#map path.place-marker", count=len(placed))
        assert len(markers) == len(placed)
        names = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.map-places a")}
        assert names == placed
        browser.save_screenshot(str(tmp_path / "map.png"))
        markers[-1].click()  # the last drawn is on top of the Korean cluster
        popup = wait_for(browser, ".leaflet-popup-content a")[0]
        assert popup.text in placed
        web = [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:", "wss:"))]
        assert not [u for u in web if not u.startswith(running.url)], "no tiles unless the user configures them"
        no_severe_errors(browser)
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_the_query_page_opens_with_rows_asks_about_a_named_entity_and_draws_a_large_answer_in_part(
    server, browser, tmp_path
):
    from selenium.webdriver.common.by import By

    browser.get(server.url)
    browser.execute_script("window.localStorage.clear()")  # a first visit: nothing kept from other tests
    browser.get(server.url)
    rows = wait_for(browser, ".yasr table tbody tr", count=3)
    assert any("kg:Person" in row.text or "Person" in row.text for row in rows), "the opening query shows classes"

    name = browser.find_element(By.CSS_SELECTOR, "#entity-name")
    name.send_keys("Seoul")
    browser.find_element(By.CSS_SELECTOR, '.canned-query[data-name="articles-mentioning"]').click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "Seoul" not in browser.find_element(By.CSS_SELECTOR, ".yasr").text:
        time.sleep(0.1)
    assert 'VALUES ?name { "Seoul" }' in browser.execute_script(
        "return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue()"
    )
    assert "Seoul" in browser.find_element(By.CSS_SELECTOR, ".yasr table tbody").text

    browser.execute_script(
        "document.querySelector('.yasqe .CodeMirror').CodeMirror.setValue(arguments[0]);",
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1500",
    )
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    notice = wait_for(browser, "#row-notice")[0]
    assert "first 1,000 of 1,500 rows" in notice.text
    browser.save_screenshot(str(tmp_path / "large-answer.png"))
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    notice.find_element(By.CSS_SELECTOR, 'a.download-all[data-format="csv"]').click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (tmp_path / "results.csv").exists():
        time.sleep(0.1)
    with (tmp_path / "results.csv").open(encoding="utf-8", newline="") as downloaded:
        assert len(list(csv.reader(downloaded))) == 1501, "all of them, with the header"
    no_severe_errors(browser)


def test_a_link_to_a_hash_node_its_parent_page_does_not_show_opens_it_at_its_own_address(
    server, browser, built_seeds
):
    import pyoxigraph as ox

    from kg.namespaces import sparql_prefixes

    store = ox.Store.read_only(str(built_seeds))
    sentence = next(
        iter(store.query(sparql_prefixes() + "SELECT ?s WHERE { ?s a kg:Sentence } LIMIT 1", use_default_graph_as_union=True))
    )[0].value
    del store
    parent, fragment = sentence.split("#", 1)
    path = parent.split("/", 3)[3]
    browser.get(f"{server.url}{path}#{fragment}")
    url = wait_for_url(browser, lambda url: "?part=" in url)
    assert url.startswith(f"{server.url}{path}?part=")
    assert "Part of" in wait_for(browser, "p.parent")[0].text
    assert "nif:anchorOf" in browser.page_source or "anchor of" in browser.page_source
    no_severe_errors(browser)
