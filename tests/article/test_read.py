"""Reading articles: headers, headlines, JSON Lines, stdin, and clear errors for bad input."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from conftest import SEEDS

from kg.article.read import Article, ReadError, ReadWarning, read_articles


def read(*inputs, **kw) -> list[Article | ReadError]:
    return list(read_articles(inputs, **kw))


def test_date_header_is_read_and_the_raw_text_kept_exactly():
    path = SEEDS / "000_40d485cd63650440.txt"
    [article] = read(path)
    raw = path.read_text(encoding="utf-8")
    assert article.text == raw
    assert article.published == date(2017, 11, 22)
    assert article.text[article.body_start :].startswith("Dramatic video has emerged")
    assert article.title is None, "the first line is a sentence, not a headline"


def test_timestamp_header_and_headline_are_read():
    [article] = read(SEEDS / "001_5baf892247e79391.txt")
    assert article.published == datetime(2017, 11, 22, 8, 27, tzinfo=UTC)
    assert article.modified == datetime(2017, 11, 22, 8, 49, tzinfo=UTC)
    assert article.title == "North Korea Defection Video Shows Soldier Escaping To South Korea Under Gunfire"
    begin, end = article.title_span
    assert article.text[begin:end] == article.title


def test_folders_are_read_recursively_in_a_stable_order(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "two.txt").write_text("Angela Merkel met Emmanuel Macron in Paris.")
    (tmp_path / "one.txt").write_text("Joe Biden spoke in Washington.")
    (tmp_path / "notes.md").write_text("ignored: not an article format")
    *articles, skipped = read(tmp_path)
    assert [a.text for a in articles] == ["Angela Merkel met Emmanuel Macron in Paris.", "Joe Biden spoke in Washington."]
    assert isinstance(skipped, ReadWarning)
    assert skipped.message == "1 files skipped, of no article format (.atom .htm .html .json .jsonl .rss .txt .xml): notes.md"


def test_same_text_twice_is_the_same_article(tmp_path):
    (tmp_path / "x.txt").write_text("Same words.")
    (tmp_path / "y.txt").write_text("Same words.")
    a, b = read(tmp_path)
    assert a.digest == b.digest and a.source != b.source


def test_jsonl_fields_and_unknown_keys_are_kept(tmp_path):
    path = tmp_path / "news.jsonl"
    record = {"id": "r1", "url": "https://example.org/r1", "title": "Talks in Geneva", "date": "2020-03-04",
              "text": "Diplomats met in Geneva on Tuesday.", "section": "world", "tags": ["diplomacy"]}
    path.write_text(json.dumps(record) + "\n")
    [article] = read(path)
    assert (article.source_id, article.url, article.title) == ("r1", "https://example.org/r1", "Talks in Geneva")
    assert article.published == date(2020, 3, 4)
    assert article.metadata == {"section": "world", "tags": ["diplomacy"]}
    assert article.source_key == f"{path}#r1"


def test_a_malformed_jsonl_line_is_reported_with_its_number_and_the_rest_is_read(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text('{"id": "1", "text": "First story."}\n{"id": "2", "text": \n{"id": "3", "text": "Third."}\n')
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Article", "ReadError", "Article"]
    assert str(items[1]).startswith(f"{path}:2: malformed JSON line")


def test_jsonl_record_without_text_is_an_error_and_one_with_an_unreadable_date_is_kept_undated(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text('{"id": "1", "body": "no text key"}\n{"id": "2", "text": "x", "date": "yesterday"}\n')
    first, warning, second = read(path)
    assert isinstance(first, ReadError) and "no 'text' string" in first.message
    assert isinstance(warning, ReadWarning) and warning.source == f"{path}:2"
    assert "'yesterday' is not a date we can read" in warning.message and "kept, undated" in warning.message
    assert isinstance(second, Article) and second.published is None and second.where == f"{path}:2"


def test_binary_non_utf8_empty_and_too_large_files_get_specific_errors(tmp_path):
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 owner arrested".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("  \n\n")
    (tmp_path / "huge.txt").write_text("word " * 1000)
    (tmp_path / "fine.txt").write_text("Boris Johnson resigned.")
    items = {(i.source.rsplit("/", 1)[-1]): i for i in read(tmp_path, max_bytes=2000)}
    assert "binary" in items["binary.txt"].message
    assert "not UTF-8: byte 0xe9 at line 1, column 4" in items["latin1.txt"].message
    assert items["empty.txt"].message.startswith("empty")
    assert "too large" in items["huge.txt"].message and "2,000" in items["huge.txt"].message
    assert isinstance(items["fine.txt"], Article)


def test_a_missing_path_is_an_error_not_a_crash(tmp_path):
    [error] = read(tmp_path / "nope")
    assert isinstance(error, ReadError) and error.message == "no such file or folder"


def test_stdin_holds_one_plain_article_or_json_lines():
    [plain] = read("-", stdin=io.StringIO("Rishi Sunak visited Kyiv."))
    assert plain.source == "<stdin>" and plain.text == "Rishi Sunak visited Kyiv."
    lines = io.StringIO('{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n')
    assert [a.source_id for a in read("-", stdin=lines)] == ["a", "b"]


def test_dates_are_read_in_the_forms_news_uses():
    from kg.article.read import parse_date

    assert parse_date("Wed, 22 Nov 2017 08:27:00 GMT") == datetime(2017, 11, 22, 8, 27, tzinfo=UTC)
    assert parse_date("November 22, 2017") == date(2017, 11, 22)
    assert parse_date("22 Nov 2017") == date(2017, 11, 22)
    assert parse_date("Nov. 22, 2017 8:27 pm") == datetime(2017, 11, 22, 20, 27, tzinfo=UTC)
    assert parse_date("2017-11-22T08:27:00Z") == datetime(2017, 11, 22, 8, 27, tzinfo=UTC)
