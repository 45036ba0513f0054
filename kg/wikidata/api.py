"""The live Wikidata API (wbsearchentities, wbgetentities): opt-in, polite, cached.

Only for users with internet who switch it on (`wikidata_api = true`, `KG_WIKIDATA_API=1`,
`--api`). It follows Wikimedia's API etiquette: a descriptive User-Agent with a way to reach you
(`wikidata_contact`), one request at a time at most `rate` per second, `maxlag=5`, and on 429, 5xx
or "maxlag" it waits (the server's Retry-After when it sends one, else an exponential back-off)
and tries again. Every answer is cached on disk (SQLite), entities one by one, so nothing is asked
twice: a second run over the same corpus makes no request at all.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._version import __version__
from .classes import ClassFilter
from .dump import entity_item
from .index import FUZZY, NameMatch, item_keys
from .items import Item, SourceInfo

DEFAULT_URL = "https://www.wikidata.org/w/api.php"
PROJECT_URL = "https://w3id.org/newskg"
ENTITY_PROPS = "labels|aliases|descriptions|claims|sitelinks"
MAX_IDS = 50
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class WikidataApiError(RuntimeError):
    """The API refused a request, or kept failing after every retry."""


def user_agent(contact: str = "") -> str:
    """newskg's User-Agent, as Wikimedia's policy asks: the tool, its version, where to learn more, a contact."""
    who = f"{PROJECT_URL}; {contact}" if contact else PROJECT_URL
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"newskg/{__version__} ({who}) Python-urllib/{py}"


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass
class ApiStats:
    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    waited: float = 0.0


class _Cache:
    """Answers on disk: searches by their parameters, entities by id."""

    def __init__(self, path: Path | None, max_age: float | None) -> None:
        self.max_age = max_age
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self.db.executescript(
            """CREATE TABLE IF NOT EXISTS searches (key TEXT PRIMARY KEY, body TEXT NOT NULL, fetched REAL NOT NULL);
               CREATE TABLE IF NOT EXISTS entities (id TEXT PRIMARY KEY, body TEXT NOT NULL, fetched REAL NOT NULL);"""
        )

    def _fresh(self, fetched: float) -> bool:
        return self.max_age is None or time.time() - fetched <= self.max_age

    def search(self, k: str) -> Any | None:
        row = self.db.execute("SELECT body, fetched FROM searches WHERE key = ?", (k,)).fetchone()
        return json.loads(row[0]) if row and self._fresh(row[1]) else None

    def put_search(self, k: str, body: Any) -> None:
        self.db.execute("REPLACE INTO searches VALUES (?, ?, ?)", (k, json.dumps(body), time.time()))
        self.db.commit()

    def entities(self, ids: list[str]) -> dict[str, Any]:
        out = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for i, body, fetched in self.db.execute(
                f"SELECT id, body, fetched FROM entities WHERE id IN ({marks})", part
            ):
                if self._fresh(fetched):
                    out[i] = json.loads(body)
        return out

    def put_entities(self, entities: Mapping[str, Any]) -> None:
        now = time.time()
        self.db.executemany(
            "REPLACE INTO entities VALUES (?, ?, ?)", [(i, json.dumps(e), now) for i, e in entities.items()]
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()


class WikidataApi:
    """A client for Wikidata's action API: rate-limited, retrying, cached."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        cache_path: Path | None = None,
        contact: str = "",
        rate: float = 2.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        timeout: float = 30.0,
        max_age_days: float | None = 30.0,
        language: str = "en",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0 requests per second")
        self.url = url
        self.user_agent = user_agent(contact)
        self.interval = 1.0 / rate
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.language = language
        self.clock = clock
        self.sleep = sleep
        self.cache = _Cache(cache_path, None if max_age_days is None else max_age_days * 86400)
        self.stats = ApiStats()
        self._next = 0.0

    # -- HTTP ---------------------------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited += seconds
            self.sleep(seconds)

    def _get(self, params: Mapping[str, str]) -> dict[str, Any]:
        """One API call, with the rate limit, retries and back-off; the parsed JSON answer."""
        query = urllib.parse.urlencode({**params, "format": "json", "maxlag": "5"})
        request = urllib.request.Request(
            f"{self.url}?{query}",
            headers={"User-Agent": self.user_agent, "Accept": "application/json", "Accept-Encoding": "gzip"},
        )
        last = ""
        for attempt in range(self.retries + 1):
            self._wait(self._next - self.clock())
            self._next = self.clock() + self.interval
            self.stats.requests += 1
            delay: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                    if response.headers.get("Content-Encoding") == "gzip":
                        raw = gzip.decompress(raw)
                    hint = response.headers.get("Retry-After")
                body = json.loads(raw.decode("utf-8"))
                error = body.get("error") if isinstance(body, dict) else None
                if not error:
                    return body
                if error.get("code") != "maxlag":
                    raise WikidataApiError(f"Wikidata API error {error.get('code')}: {error.get('info', '')}")
                last = f"maxlag: {error.get('info', '')}"
                delay = retry_after(hint, time.time())
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS:
                    raise WikidataApiError(
                        f"Wikidata API answered HTTP {exc.code} {exc.reason} for {request.full_url}"
                    ) from None
                last = f"HTTP {exc.code} {exc.reason}"
                delay = retry_after(exc.headers.get("Retry-After") if exc.headers else None, time.time())
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                last = f"not JSON ({exc})"
            if attempt == self.retries:
                break
            self.stats.retries += 1
            self._wait(min(self.max_backoff, delay if delay is not None else self.backoff * 2**attempt))
        raise WikidataApiError(f"Wikidata API failed after {self.retries + 1} attempts: {last}")

    # -- calls --------------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 7) -> list[dict[str, Any]]:
        """wbsearchentities: items whose label or alias starts like `text` (the API's own ranking)."""
        params = {
            "action": "wbsearchentities",
            "search": text,
            "language": self.language,
            "uselang": self.language,
            "type": "item",
            "limit": str(limit),
        }
        k = json.dumps(params, sort_keys=True)
        cached = self.cache.search(k)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        found = self._get(params).get("search", [])
        self.cache.put_search(k, found)
        return found

    def entities(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """wbgetentities: full entities by id (as in the dump), asking only for those not cached."""
        wanted = list(dict.fromkeys(i for i in ids if i))
        out = self.cache.entities(wanted)
        self.stats.cache_hits += len(out)
        missing = [i for i in wanted if i not in out]
        for start in range(0, len(missing), MAX_IDS):
            part = missing[start : start + MAX_IDS]
            body = self._get(
                {
                    "action": "wbgetentities",
                    "ids": "|".join(part),
                    "props": ENTITY_PROPS,
                    "languages": f"{self.language}|mul",
                }
            )
            got = {i: e for i, e in body.get("entities", {}).items() if i in part}
            for i in part:
                got.setdefault(i, {"id": i, "missing": ""})
            self.cache.put_entities(got)
            out.update(got)
        return {i: out[i] for i in wanted if i in out}

    def close(self) -> None:
        self.cache.close()


class ApiSource:
    """The live API as a candidate source (see `CandidateSource`)."""

    def __init__(self, api: WikidataApi, classes: ClassFilter | None = None, *, limit: int = 7) -> None:
        self.api = api
        self.classes = classes or ClassFilter.default()
        self.limit = limit
        host = urllib.parse.urlsplit(api.url).netloc or api.url
        self.info = SourceInfo(
            id="wikidata-api",
            label=f"Wikidata API ({host})",
            date=datetime.now(UTC).date().isoformat(),
            licence="CC0-1.0",
            path=api.url,
        )

    def _items(self, ids: Iterable[str]) -> dict[str, Item]:
        out = {}
        for qid, entity in self.api.entities(ids).items():
            item = entity_item(entity, self.classes, gate=False, source="wikidata-api")
            if item is not None:
                out[qid] = item
        return out

    def find(self, keys: Mapping[str, str]) -> dict[str, list[NameMatch]]:
        results = {
            k: [r["id"] for r in self.api.search(name, limit=self.limit) if "id" in r] for k, name in keys.items() if k
        }
        items = self._items(i for ids in results.values() for i in ids)
        out: dict[str, list[NameMatch]] = {}
        for k, ids in results.items():
            for qid in ids:
                item = items.get(qid)
                form = item_keys(item).get(k) if item else None
                if form is not None:
                    out.setdefault(k, []).append(NameMatch(item, form, self.info))  # type: ignore[arg-type]
        return out

    def search(self, name: str, limit: int = 10) -> list[NameMatch]:
        ids = [r["id"] for r in self.api.search(name, limit=min(limit, self.limit)) if "id" in r]
        items = self._items(ids)
        return [NameMatch(items[i], FUZZY, self.info) for i in ids if i in items]

    def item(self, qid: str) -> Item | None:
        return self._items([qid]).get(qid)

    def close(self) -> None:
        self.api.close()
