"""Bad input costs the article it is in, never the run: each is named with its file and line.

A folder mixing good articles with every kind of bad record builds every good article, reports
every bad one where it is, and the build does not pass for a success. Inputs that cannot be read
at all (missing, a pipe) stop the build before the store is opened.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import SEEDS, select

import kg.article.read
from kg.article.read import InputError, read_articles
from kg.namespaces import Iris
from kg.pipeline.build import build, count_articles
from kg.settings import Settings
from kg.store.store import Store

GOOD = {
    "good.txt": "Jacinda Ardern met Scott Morrison in Sydney on Friday.",
    "feed.jsonl:1": "Angela Merkel visited Warsaw on Monday.",
    "feed.jsonl:8": "Emmanuel Macron spoke in Lisbon on Tuesday.",
    "feed.jsonl:9": "Olaf Scholz travelled to Vienna on Sunday.",
}


def record(text: str, **fields: str) -> bytes:
    return json.dumps({"text": text, **fields}).encode() + b"\n"


def mixed_folder(root: Path) -> Path:
    folder = root / "inputs"
    (folder / "nested").mkdir(parents=True)
    (folder / "good.txt").write_text(GOOD["good.txt"], encoding="utf-8")
    lines = [
        record(GOOD["feed.jsonl:1"]),
        b'{"text": "Bad \\ud800 surrogate escape."}\n',
        record("Boris Johnson met Rishi Sunak.", url="https://news.example/a?q=[uk]"),
        record("Keir Starmer met Joe Biden.", url="https://news.example/%zz"),
        record("Giorgia Meloni met Pedro Sanchez.", url="http://[x]/story"),
        b'{"text": "Invalid byte \xff here."}\n',
        record("Mark Rutte was in The Hague.\u0000 A NUL inside."),
        record(GOOD["feed.jsonl:8"], date="Wed, 22 Nov 2017 08:27:00 GMT"),
        record(GOOD["feed.jsonl:9"], date="sometime last week"),
        record("word " * 600),  # over --max-chars (2,000 here)
    ]
    (folder / "feed.jsonl").write_bytes(b"".join(lines))
    (folder / "nested" / "empty.jsonl").write_bytes(b"")
    (folder / "notes.md").write_text("not an article format", encoding="utf-8")
    (folder / "nested" / "dangling.txt").symlink_to(folder / "nowhere.txt")
    (folder / "nested" / "self").symlink_to("self")
    (folder / "nested" / "up").symlink_to("..")
    (folder / "locked").mkdir()
    (folder / "locked" / "hidden.txt").write_text("Never read.", encoding="utf-8")
    return folder


def unreadable(folder: Path, monkeypatch) -> None:
    """Make `folder` unreadable as it would be to a user without permission (tests may run as root)."""
    real = os.scandir

    def scandir(path):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(kg.article.read.os, "scandir", scandir)


def test_a_mixed_folder_builds_every_good_article_and_names_every_bad_one(tmp_path, nlp, monkeypatch):
    folder = mixed_folder(tmp_path)
    unreadable(folder / "locked", monkeypatch)
    settings = Settings(store=tmp_path / "store", link=False, max_chars=2000)
    report = build([folder], settings, nlp=nlp)

    assert report.added == len(GOOD) and not report.ok
    with Store(settings.store, Iris(settings.base), read_only=True) as store:
        texts = {r["t"] for r in select(store, "SELECT ?t WHERE { ?a a kg:Article ; nif:isString ?t }")}
        assert texts == set(GOOD.values())
        dated = select(store, "SELECT ?d WHERE { ?a kg:sourceKey ?k ; schema:datePublished ?d }")
        assert [r["d"] for r in dated] == ["2017-11-22T08:27:00Z"]
    errors = {e.source.removeprefix(f"{folder}/"): e.message for e in report.errors}
    assert errors == {
        "feed.jsonl:2": "text holds a lone surrogate U+D800 at line 1, column 5 (a \\u escape that is no character)",
        "feed.jsonl:3": "url 'https://news.example/a?q=[uk]' is not a valid IRI (Invalid IRI code point '[')",
        "feed.jsonl:4": "url 'https://news.example/%zz' is not a valid IRI (Invalid IRI percent encoding '%zz')",
        "feed.jsonl:5": "url 'http://[x]/story' is not a valid IRI (Invalid host IP (invalid IPv6 address syntax))",
        "feed.jsonl:6": "not UTF-8: byte 0xff at column 24",
        "feed.jsonl:7": "text holds U+0000 (NUL) at line 1, column 29, which XML cannot carry: remove it from the source",
        "feed.jsonl:10": "too long: 3,000 characters, the limit is 2,000 (see --max-chars; parsing takes about 3 KB of memory per character)",
        "locked": "folder cannot be read: permission denied",
        "nested/dangling.txt": f"dangling symbolic link (to {folder / 'nowhere.txt'})",
        "nested/empty.jsonl": "empty: no articles",
        "nested/self": "symbolic link loop",
        "nested/up": "symbolic link loop: leads back to a folder it is in; skipped",
    }
    warnings = {w.source.removeprefix(f"{folder}/"): w.message for w in report.warnings}
    assert warnings["feed.jsonl:9"].startswith("date 'sometime last week' is not a date we can read")
    assert warnings["feed.jsonl:9"].endswith(": the article is kept, undated")
    assert warnings[str(folder)] == "1 files skipped, of no article format (.atom .htm .html .json .jsonl .rss .txt .xml): notes.md"
    summary = report.summary()
    assert f"error: {folder}/feed.jsonl:6: not UTF-8" in summary and f"warning: {folder}: 1 files skipped" in summary


def test_an_article_over_the_pipelines_limit_is_refused_alone(tmp_path, nlp):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD["good.txt"], encoding="utf-8")
    (folder / "b.txt").write_text("Long words. " * 90_000, encoding="utf-8")  # over spaCy's 1,000,000
    settings = Settings(store=tmp_path / "store", link=False, max_chars=2_000_000)
    report = build([folder], settings, nlp=nlp)
    assert report.added == 1
    [error] = report.errors
    assert error.source == str(folder / "b.txt")
    assert error.message == "too long for the spaCy pipeline: 1,080,000 characters, its limit is 1,000,000"


def test_a_bad_byte_in_json_lines_costs_that_line_only(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(record("One.") + b'{"text": "Tw\xc3o."}\n' + record("Three.") + record("Four."))
    items = list(read_articles([path]))
    assert [getattr(i, "text", None) for i in items] == ["One.", None, "Three.", "Four."]
    assert str(items[1]) == f"{path}:2: not UTF-8: byte 0xc3 at column 13"
    assert [i.line for i in items if hasattr(i, "line")] == [1, 3, 4]


def test_a_nul_deep_in_a_text_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Fine words.\n" * 1000 + "Then a \u0000 here.\n", encoding="utf-8")
    [error] = read_articles([path])
    assert (
        error.message
        == "text holds U+0000 (NUL) at line 1001, column 8, which XML cannot carry: remove it from the source"
    )


def test_a_missing_input_or_a_pipe_stops_the_build_before_the_store_is_opened(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    read_end, write_end = os.pipe()  # what bash's <(cat feed.jsonl) names: /dev/fd/N
    try:
        settings = Settings(store=tmp_path / "store")
        with pytest.raises(InputError) as raised:
            build([SEEDS, tmp_path / "missing.txt", fifo, f"/dev/fd/{read_end}"], settings)
        assert str(raised.value).splitlines() == [
            "cannot read the inputs:",
            f"  {tmp_path / 'missing.txt'}: no such file or folder",
            f"  {fifo}: a pipe or device, not a file or folder; give a stream on standard input as '-' (kg build - < FILE)",
            f"  /dev/fd/{read_end}: a pipe or device, not a file or folder; give a stream on standard input as '-' (kg build - < FILE)",
        ]
        assert not settings.store.exists()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_counting_articles_for_the_progress_bar_never_opens_a_pipe(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    counted: list[int | None] = []
    counter = threading.Thread(target=lambda: counted.append(count_articles([fifo, SEEDS])), daemon=True)
    counter.start()
    counter.join(timeout=10)
    assert counted == [5], "count_articles blocked on the FIFO"


def test_newsapi_records_are_read_with_the_newsapi_field_preset(tmp_path):
    path = tmp_path / "newsapi.jsonl"
    path.write_bytes(
        json.dumps(
            {
                "content": "Joe Biden spoke in Warsaw.",
                "publishedAt": "2022-02-21T17:00:00Z",
                "title": "Biden in Warsaw",
                "url": "https://news.example/biden",
                "author": "A. Writer",
            }
        ).encode()
        + b"\n"
    )
    [error] = read_articles([path])
    assert "no 'text' string" in error.message and "use --fields newsapi or --text-key content" in error.message
    [article] = read_articles([path], fields=kg.article.read.fields_for("newsapi"))
    assert (article.text, article.title, article.url) == (
        "Joe Biden spoke in Warsaw.",
        "Biden in Warsaw",
        "https://news.example/biden",
    )
    assert article.published.isoformat() == "2022-02-21T17:00:00+00:00" and article.metadata == {"author": "A. Writer"}
    [article] = read_articles([path], fields=kg.article.read.fields_for(text="content", date="publishedAt"))
    assert article.published is not None


def test_two_copies_of_a_text_keep_the_article_when_one_is_edited(tmp_path, nlp):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / "002_0c9f0ae4b417fcc8.txt", corpus / "a.txt")
    shutil.copy(SEEDS / "002_0c9f0ae4b417fcc8.txt", corpus / "b.txt")
    settings = Settings(store=tmp_path / "store", link=False)
    first = build([corpus], settings, nlp=nlp)
    assert first.ok and first.unchanged == 0
    again = build([corpus], settings, nlp=nlp)
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 2), "both copies are known: nothing to do"

    (corpus / "a.txt").write_text("Jacinda Ardern met Scott Morrison in Sydney on Friday.", encoding="utf-8")
    edited = build([corpus], settings, nlp=nlp)
    assert (edited.added, edited.replaced, edited.unchanged) == (0, 1, 1) and edited.ok
    with Store(settings.store, Iris(settings.base), read_only=True) as store:
        rows = select(store, "SELECT ?k WHERE { ?a a kg:Article ; kg:sourceKey ?k }")
        assert sorted(Path(r["k"]).name for r in rows) == ["a.txt", "b.txt"]
        texts = {r["t"] for r in select(store, "SELECT ?t WHERE { ?a a kg:Article ; nif:isString ?t }")}
        assert texts == {(corpus / "a.txt").read_text(encoding="utf-8"), (corpus / "b.txt").read_text(encoding="utf-8")}
    assert build([corpus], settings, nlp=nlp).unchanged == 2
