"""News as it comes from the web: HTML article pages, RSS and Atom feeds, and JSON (NewsAPI) files."""

from __future__ import annotations

import io
import json
from pathlib import Path

from conftest import select

from kg.article.read import Article, Limits, ReadError, ReadWarning, fields_for, read_articles, read_stream
from kg.namespaces import Iris
from kg.pipeline.build import build
from kg.settings import Settings
from kg.store.store import Store

STORY = (
    "Rescue teams reached the flooded village of Millbrook on Tuesday, officials in Freedonia said. "
    "The army sent boats and helicopters to the valley, where the river burst its banks overnight. "
    "Maria Lopez, who leads the Red Cross team in Millbrook, said the water was falling slowly."
)

PAGE = f"""<!doctype html>
<html><head><title>Rescue teams reach flooded village | Freedonia News</title>
<link rel="canonical" href="https://news.example/2017/11/22/rescue-teams">
<meta property="article:published_time" content="2017-11-22T08:27:00Z"></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a> | Subscribe to our newsletter</nav>
<article><h1>Rescue teams reach flooded village</h1><p>{STORY}</p>
<p>More boats are expected on Wednesday, the army said in a statement.</p></article>
<footer>Copyright Freedonia News. All rights reserved. Cookie policy.</footer></body></html>
"""

RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Freedonia News</title>
<item><title>Rescue teams reach flooded village</title><link>https://news.example/a</link>
<guid>news-a</guid><pubDate>Wed, 22 Nov 2017 08:27:00 GMT</pubDate>
<description>&lt;p&gt;Rescue teams reached &lt;b&gt;Millbrook&lt;/b&gt; on Tuesday, officials in Freedonia said.&lt;/p&gt;</description></item>
<item><title>Talks resume in Sylvania</title><link>https://news.example/b</link>
<pubDate>sometime last week</pubDate>
<description>Talks between Freedonia and Sylvania resumed in the capital, the foreign ministry said.</description></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Sylvania Wire</title>
<entry><title>Harbour reopens</title><id>urn:uuid:1</id><link href="https://wire.example/1"/>
<updated>2017-11-23T10:00:00Z</updated>
<content type="html">&lt;p&gt;The harbour of Port Town reopened on Thursday, the Sylvania Wire reported.&lt;/p&gt;</content></entry>
</feed>
"""


def read(paths: list[Path], **options: object) -> tuple[list[Article], list[ReadError], list[ReadWarning]]:
    items = list(read_articles(paths, **options))  # type: ignore[arg-type]
    return (
        [i for i in items if isinstance(i, Article)],
        [i for i in items if isinstance(i, ReadError)],
        [i for i in items if isinstance(i, ReadWarning)],
    )


def test_an_html_page_is_read_as_its_main_text_headline_date_and_address(tmp_path: Path):
    page = tmp_path / "rescue.html"
    page.write_text(PAGE, encoding="utf-8")
    (article,), errors, _ = read([page])
    assert not errors
    assert "Rescue teams reached the flooded village of Millbrook" in article.text
    assert "Subscribe to our newsletter" not in article.text and "Cookie policy" not in article.text
    assert article.title.startswith("Rescue teams reach flooded village")
    assert str(article.published)[:10] == "2017-11-22"
    assert article.url == "https://news.example/2017/11/22/rescue-teams"


def test_each_entry_of_an_rss_feed_is_an_article_and_a_bad_date_keeps_it_undated(tmp_path: Path):
    feed = tmp_path / "news.rss"
    feed.write_text(RSS, encoding="utf-8")
    articles, errors, warnings = read([feed])
    assert not errors and len(articles) == 2
    first, second = articles
    assert first.text.strip() == "Rescue teams reached Millbrook on Tuesday, officials in Freedonia said."
    assert (first.title, first.url, first.source_id) == (
        "Rescue teams reach flooded village",
        "https://news.example/a",
        "news-a",
    )
    assert first.published.isoformat().startswith("2017-11-22T08:27")
    assert second.published is None and second.source_id == "https://news.example/b"
    assert [w.source for w in warnings] == [f"{feed}#entry2"]


def test_an_atom_feed_is_read_too(tmp_path: Path):
    feed = tmp_path / "wire.atom"
    feed.write_text(ATOM, encoding="utf-8")
    (article,), errors, _ = read([feed])
    assert not errors and article.text.startswith("The harbour of Port Town reopened")
    assert article.published.isoformat().startswith("2017-11-23") and article.source_id == "urn:uuid:1"


def test_an_xml_file_that_is_no_feed_is_an_error_that_says_so(tmp_path: Path):
    other = tmp_path / "settings.xml"
    other.write_text("<?xml version='1.0'?><settings><a>1</a></settings>", encoding="utf-8")
    articles, (error,), _ = read([other])
    assert not articles and "not an RSS or Atom feed" in error.message


def test_a_newsapi_answer_in_a_json_file_is_read_record_by_record(tmp_path: Path):
    answer = {
        "status": "ok",
        "articles": [
            {
                "title": "Harbour reopens",
                "url": "https://wire.example/1",
                "publishedAt": "2017-11-23T10:00:00Z",
                "content": "The harbour of Port Town reopened on Thursday.",
            },
            {"title": "No body", "url": "https://wire.example/2"},
        ],
    }
    path = tmp_path / "newsapi.json"
    path.write_text(json.dumps(answer), encoding="utf-8")
    (article,), (error,), _ = read([path], fields=fields_for("newsapi"))
    assert article.text.startswith("The harbour of Port Town") and article.url == "https://wire.example/1"
    assert error.source == f"{path}#record2" and "content" in error.message


def test_a_folder_of_pages_and_feeds_is_read_not_skipped(tmp_path: Path):
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "news.rss").write_text(RSS, encoding="utf-8")
    articles, errors, warnings = read([tmp_path])
    assert len(articles) == 3 and not errors
    assert not [w for w in warnings if "skipped" in w.message]


def test_an_html_page_or_a_feed_on_standard_input_is_recognised():
    page = list(read_stream(io.BytesIO(PAGE.encode()), Limits(5_000_000)))
    feed = list(read_stream(io.BytesIO(RSS.encode()), Limits(5_000_000)))
    assert [type(i) for i in page] == [Article] and "Millbrook" in page[0].text
    assert sum(isinstance(i, Article) for i in feed) == 2


def test_pages_and_feeds_build_into_the_store_with_headline_date_and_url(tmp_path: Path, nlp):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "in" / "news.rss").write_text(RSS, encoding="utf-8")
    settings = Settings(store=tmp_path / "kg", link=False)
    report = build([tmp_path / "in"], settings, nlp=nlp)
    assert report.added == 3 and not report.errors, report.summary()
    with Store(settings.store, Iris(settings.base), read_only=True) as store:
        rows = select(store, "SELECT ?h ?u WHERE { ?a a kg:Article ; schema:headline ?h ; schema:url ?u }")
        assert {r["u"] for r in rows} == {
            "https://news.example/2017/11/22/rescue-teams",
            "https://news.example/a",
            "https://news.example/b",
        }
        places = {r["l"] for r in select(store, "SELECT ?l WHERE { ?e a kg:Place ; rdfs:label ?l }")}
        assert "Millbrook" in places
