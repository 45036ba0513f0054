"""Reading news as it comes from the web: HTML article pages and RSS or Atom feeds.

An HTML page is mostly not the article (menus, links, footers); trafilatura finds its main text,
headline, date and address, and that text is what the store keeps (`nif:isString`), so offsets
are into the text an analyst reads, not into the markup. A feed is a list of entries; each entry
is an article of its own (feedparser reads every RSS and Atom dialect), its text the entry's
content or summary with any markup taken off the same way. Both libraries are imported only when
such a file is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .read import (
    HTML_SUFFIXES,
    Article,
    Limits,
    ReadError,
    ReadWarning,
    article_from_text,
    article_problem,
    file_bytes,
    parse_date,
    text_problem,
)


def looks_like(data: bytes) -> str | None:
    """ "feed", "html" or None, from the first kilobytes of a stream (for standard input)."""
    head = data[:4096].lstrip().lower()
    if not head.startswith(b"<"):
        return None
    if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
        return "feed"
    if b"<html" in head or b"<!doctype html" in head:
        return "html"
    return None


def _date(raw: object, where: str) -> tuple[date | datetime | None, ReadWarning | None]:
    if raw in (None, ""):
        return None, None
    try:
        return parse_date(str(raw)), None
    except ValueError as exc:
        return None, ReadWarning(where, f"{exc}: the article is kept, undated")


def _article(text: str, where: str, limits: Limits, **known: Any) -> Iterator[Article | ReadError | ReadWarning]:
    """The article, or why not; `text` is the plain text, `known` its metadata (None values left out)."""
    if problem := text_problem(text, limits):
        yield ReadError(where, problem)
        return
    article = article_from_text(text, known.pop("source"), **{k: v for k, v in known.items() if v is not None})
    problem = article_problem(article)
    yield ReadError(where, problem) if problem else article


def html_articles(data: bytes, source: str, limits: Limits) -> Iterator[Article | ReadError | ReadWarning]:
    """The one article of an HTML page: its main text, headline, date and address, as trafilatura reads them."""
    import trafilatura

    found = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    text = (getattr(found, "text", None) or "").strip() if found is not None else ""
    if not text:
        yield ReadError(source, "no article text found in the HTML (a page of links or a script-only page?)")
        return
    published, warning = _date(getattr(found, "date", None), source)
    if warning is not None:
        yield warning
    metadata = {k: getattr(found, k, None) for k in ("sitename", "author", "hostname")}
    yield from _article(
        text + "\n",
        source,
        limits,
        source=source,
        title=getattr(found, "title", None),
        published=published,
        url=getattr(found, "url", None),
        metadata={k: v for k, v in metadata.items() if v} or None,
    )


def _plain(fragment: str) -> str:
    """An entry's content without its markup (plain text is returned as it is)."""
    if "<" not in fragment:
        return fragment.strip()
    import trafilatura

    page = f"<html><body>{fragment}</body></html>"
    return (trafilatura.extract(page, favor_recall=True) or trafilatura.html2txt(page) or "").strip()


def _entry_text(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content", ()) if c.get("value")]
    return _plain(max(contents, key=len) if contents else entry.get("summary", "") or "")


def feed_articles(data: bytes, source: str, limits: Limits) -> Iterator[Article | ReadError | ReadWarning]:
    """One article per entry of an RSS or Atom feed; a bad entry costs that entry only."""
    import feedparser

    feed = feedparser.parse(data)
    if not feed.entries:
        why = getattr(feed, "bozo_exception", None)
        detail = f" ({why})" if why else ""
        yield ReadError(source, f"not an RSS or Atom feed, or a feed with no entries{detail}")
        return
    for number, entry in enumerate(feed.entries, start=1):
        where = f"{source}#entry{number}"
        text = _entry_text(entry)
        if not text:
            yield ReadError(where, "the entry has no content or summary")
            continue
        published, warning = _date(entry.get("published") or entry.get("updated"), where)
        if warning is not None:
            yield warning
        yield from _article(
            text + "\n",
            where,
            limits,
            source=source,
            source_id=str(entry.get("id") or entry.get("link") or f"entry{number}"),
            title=entry.get("title") or None,
            published=published,
            url=entry.get("link") or None,
            metadata={"feed": feed.feed.get("title")} if feed.feed.get("title") else None,
        )


def read_markup_file(path: Path, limits: Limits) -> Iterator[Article | ReadError | ReadWarning]:
    """An HTML page or a feed file, by its extension."""
    data = file_bytes(path, limits)
    if isinstance(data, ReadError):
        yield data
        return
    reader = html_articles if path.suffix.lower() in HTML_SUFFIXES else feed_articles
    yield from reader(data, str(path), limits)
