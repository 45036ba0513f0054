"""The live Wikidata API client against a fake Wikidata on 127.0.0.1: Wikidata's response format,
a descriptive User-Agent, a rate limit, retries with back-off (honouring Retry-After), an on-disk
cache that never asks twice. No test touches the internet."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kg.corpus.link import LinkConfig, LinkQuery, link
from kg.settings import Settings
from kg.wikidata.api import ApiSource, WikidataApi, WikidataApiError, retry_after
from kg.wikidata.index import LABEL
from kg.wikidata.sources import open_sources

DATA = Path(__file__).resolve().parents[1] / "data" / "wikidata"


def _dump_entities() -> dict[str, dict]:
    """The fixture dump's entities, served by wbgetentities exactly as the dump has them."""
    out = {}
    for line in (DATA / "mini-dump.json").read_text(encoding="utf-8").splitlines():
        line = line.strip().rstrip(",")
        if line.startswith("{"):
            entity = json.loads(line)
            out[entity["id"]] = entity
    return out


ENTITIES = _dump_entities()
SEARCHES = {
    "seoul": json.loads((DATA / "api" / "search-seoul.json").read_text(encoding="utf-8")),
    "kim jong un": json.loads((DATA / "api" / "search-kim-jong-un.json").read_text(encoding="utf-8")),
}


class FakeWikidata(ThreadingHTTPServer):
    """Answers /w/api.php like Wikidata; `script` queues failures to serve before the real answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/w/api.php"


class Handler(BaseHTTPRequestHandler):
    server: FakeWikidata

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(parsed.query))
        with self.server.lock:
            self.server.requests.append((params, dict(self.headers)))
            planned = self.server.script.pop(0) if self.server.script else None
        if parsed.path != "/w/api.php":
            return self.reply(404, {}, b"not found")
        if planned is not None:
            return self.reply(*planned)
        if params.get("action") == "wbsearchentities":
            found = SEARCHES.get(
                params.get("search", "").casefold(),
                {"searchinfo": {"search": params.get("search")}, "search": [], "success": 1},
            )
            return self.reply(200, {}, json.dumps(found).encode())
        if params.get("action") == "wbgetentities":
            ids = params.get("ids", "").split("|")
            body = {"entities": {i: ENTITIES.get(i, {"id": i, "missing": ""}) for i in ids}, "success": 1}
            return self.reply(200, {}, json.dumps(body).encode())
        return self.reply(200, {}, (DATA / "api" / "bad-request.json").read_bytes())

    def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def wikidata():
    server = FakeWikidata()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def fake(wikidata):
    wikidata.requests.clear()
    wikidata.script.clear()
    return wikidata


class FakeTime:
    """A clock that only moves when the client sleeps: sleeps are recorded, never waited."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def client(fake, tmp_path, t: FakeTime | None = None, **options) -> WikidataApi:
    t = t or FakeTime()
    options.setdefault("rate", 1000.0)
    return WikidataApi(fake.url, cache_path=tmp_path / "api.sqlite", clock=t.clock, sleep=t.sleep, **options)


def test_answers_in_wikidatas_format_become_items(fake, tmp_path):
    source = ApiSource(client(fake, tmp_path))
    found = source.find({"seoul": "Seoul"})
    assert [(m.item.qid, m.form) for m in found["seoul"]] == [("Q8684", LABEL)], "South Korea's alias does not match"
    seoul = found["seoul"][0].item
    assert (seoul.kind, seoul.countries, seoul.coordinates, seoul.sitelinks) == (
        "Place",
        ("Q884",),
        (37.56, 126.99),
        20,
    )
    assert seoul.description == "capital and largest city of South Korea"
    assert (
        source.info.id == "wikidata-api" and source.info.label == f"Wikidata API (127.0.0.1:{fake.server_address[1]})"
    )
    actions = [p["action"] for p, _ in fake.requests]
    assert actions == ["wbsearchentities", "wbgetentities"]
    get = fake.requests[1][0]
    assert get["ids"] == "Q8684|Q884" and get["props"] == "labels|aliases|descriptions|claims|sitelinks"
    assert source.item("Q123456789") is None, "a missing entity is no item"


def test_every_request_has_a_descriptive_user_agent_and_asks_for_maxlag(fake, tmp_path):
    api = client(fake, tmp_path, contact="newsdesk@example.org")
    api.search("Seoul")
    params, headers = fake.requests[0]
    agent = headers["User-Agent"]
    assert agent.startswith("newskg/0.1.0 (https://w3id.org/newskg; newsdesk@example.org) Python-urllib/3.")
    assert (params["format"], params["maxlag"], params["language"], params["type"]) == ("json", "5", "en", "item")


def test_nothing_is_asked_twice_not_even_by_the_next_run(fake, tmp_path):
    first = client(fake, tmp_path)
    first.search("Seoul")
    first.entities(["Q8684"])
    first.search("Seoul")
    first.entities(["Q8684"])
    assert len(fake.requests) == 2 and first.stats.cache_hits == 2
    first.close()
    second = client(fake, tmp_path)  # a new process would open the same cache file
    assert second.search("Seoul")[0]["id"] == "Q8684"
    got = second.entities(["Q8684", "Q884"])
    assert set(got) == {"Q8684", "Q884"}
    assert [p.get("ids") for p, _ in fake.requests[2:]] == ["Q884"], "only the entity not cached yet is fetched"


def test_server_errors_are_retried_with_exponential_back_off(fake, tmp_path):
    t = FakeTime()
    fake.script += [(503, {}, b"busy"), (502, {}, b"bad gateway"), (500, {}, b"oops")]
    api = client(fake, tmp_path, t, backoff=1.0)
    assert api.search("Seoul")[0]["id"] == "Q8684"
    assert t.sleeps == [1.0, 2.0, 4.0]
    assert (api.stats.requests, api.stats.retries) == (4, 3)


def test_429_and_maxlag_wait_as_long_as_the_server_says(fake, tmp_path):
    t = FakeTime()
    fake.script += [
        (429, {"Retry-After": "7"}, b"slow down"),
        (200, {"Retry-After": "3"}, (DATA / "api" / "maxlag.json").read_bytes()),
    ]
    api = client(fake, tmp_path, t)
    assert api.search("Seoul")[0]["id"] == "Q8684"
    assert t.sleeps == [7.0, 3.0]


def test_back_off_is_capped_and_retry_after_dates_are_understood():
    assert retry_after("120", 0) == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
    assert retry_after("soon", 0) is None


def test_it_gives_up_with_a_clear_error_after_the_last_retry(fake, tmp_path):
    t = FakeTime()
    fake.script += [(503, {}, b"down")] * 3
    api = client(fake, tmp_path, t, retries=2, backoff=0.5, max_backoff=0.75)
    with pytest.raises(WikidataApiError, match="failed after 3 attempts: HTTP 503"):
        api.search("Seoul")
    assert t.sleeps == [0.5, 0.75], "the back-off doubles, up to max_backoff"


def test_client_errors_are_not_retried(fake, tmp_path):
    fake.script += [(400, {}, b"bad")]
    with pytest.raises(WikidataApiError, match="HTTP 400"):
        client(fake, tmp_path).search("Seoul")
    assert len(fake.requests) == 1
    fake.script += [(200, {}, (DATA / "api" / "bad-request.json").read_bytes())]
    with pytest.raises(WikidataApiError, match="Wikidata API error badvalue"):
        client(fake, tmp_path).search("Pusan")


def test_requests_are_spaced_by_the_rate_limit(fake, tmp_path):
    t = FakeTime()
    api = client(fake, tmp_path, t, rate=2.0)
    for name in ("Seoul", "Busan", "Incheon"):
        api.search(name)
    assert t.sleeps == [0.5, 0.5], "two requests a second: half a second between them"
    real = WikidataApi(fake.url, cache_path=None, rate=20.0)
    started = time.monotonic()
    for name in ("Daegu", "Daejeon", "Gwangju", "Ulsan"):
        real.search(name)
    assert time.monotonic() - started >= 0.15, "four requests at 20 per second take at least 3/20 s"


def test_the_api_is_opt_in_and_asked_only_about_what_local_indexes_leave_unlinked(fake, tmp_path):
    settings = Settings(wikidata_index="", wikidata_cache=tmp_path)
    with open_sources(settings) as sources:
        assert sources.all == []
    settings = Settings(wikidata_index="", wikidata_api=True, wikidata_api_url=fake.url, wikidata_cache=tmp_path)
    with open_sources(settings) as sources:
        assert [s.info.id for s in sources.fallback] == ["wikidata-api"]
        decisions = link(
            [LinkQuery("urn:x:kim", "Person", "Kim Jong Un", ("Kim", "Marshal Kim Jong Un"), articles=("a",))],
            sources.local,
            LinkConfig(),
            fallback=sources.fallback,
        )
    assert decisions[0].qid == "Q56226"
    searches = [p["search"] for p, _ in fake.requests if p["action"] == "wbsearchentities"]
    assert searches == ["Kim Jong Un"], "one request per entity: its label"
    assert decisions[0].source.id == "wikidata-api"
    assert (tmp_path / "wikidata-api.sqlite").is_file(), "answers are cached on disk"


def test_kg_wikidata_lookup_with_the_api(fake, tmp_path):
    env = {"KG_WIKIDATA_API_URL": fake.url, "KG_WIKIDATA_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "kg", "wikidata", "lookup", "Seoul", "--type", "place", "--api", "--index", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "Q8684" in run.stdout and run.stdout.splitlines()[-1].startswith("linked: Q8684 Seoul")
