"""The Wikidata index: read the official JSON dump format (plain, .gz, .bz2), keep the right items,
store what linking needs, and find items by normalised name, alias and words."""

from __future__ import annotations

import bz2
import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.wikidata.classes import ClassFilter, ClassFilterError
from kg.wikidata.dump import DumpError, read_dump, subclass_edges, wikidata_time
from kg.wikidata.index import ALIAS, DERIVED, FUZZY, LABEL, LocalIndex, WikidataIndexError, build_index
from kg.wikidata.items import Item, ItemsError, popularity_from_sitelinks, read_items, write_items

DATA = Path(__file__).resolve().parents[1] / "data" / "wikidata"
DUMP = DATA / "mini-dump.json"


def compressed(tmp_path: Path, kind: str) -> Path:
    if kind == "plain":
        return DUMP
    target = tmp_path / f"latest-all.json.{kind}"
    opener = gzip.open if kind == "gz" else bz2.open
    with DUMP.open("rb") as src, opener(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


@pytest.mark.parametrize("kind", ["plain", "gz", "bz2"])
def test_the_dump_reader_keeps_people_organisations_places_and_events(tmp_path, kind):
    items = {i.qid: i for i in read_dump(compressed(tmp_path, kind))}
    assert set(items) == {"Q8684", "Q884", "Q423", "Q56226", "Q207", "Q130879", "Q8663", "Q99000002"}
    assert "Q25188" not in items, "a film is left out by the default class filter"
    assert "Q42153" not in items, "Paju's class is only a subclass of city: left out without --subclasses"
    assert "Q99000003" not in items, "no English label: nothing to match names against"


def test_an_item_keeps_label_aliases_description_classes_sitelinks_coordinates_and_country():
    seoul = next(i for i in read_dump(DUMP) if i.qid == "Q8684")
    assert seoul.label == "Seoul"
    assert seoul.aliases == ("Seoul Special City", "Hanyang")
    assert seoul.description == "capital and largest city of South Korea"
    assert seoul.classes == ("Q5119", "Q1549591") and seoul.kind == "Place"
    assert seoul.sitelinks == 20 and seoul.popularity == popularity_from_sitelinks(20)
    assert seoul.coordinates == (37.56, 126.99)
    assert seoul.countries == ("Q884",)


def test_people_keep_citizenship_and_dates_and_ranks_are_respected():
    items = {i.qid: i for i in read_dump(DUMP)}
    kim = items["Q56226"]
    assert (kim.kind, kim.countries, kim.born, kim.died) == ("Person", ("Q423",), "1984-01-08", None)
    assert items["Q884"].classes[0] == "Q3624078", "the preferred P31 comes first"
    assert items["Q8663"].classes == ("Q198",), "a deprecated statement is ignored"
    assert items["Q99000002"].label == "Olympus Base", "a 'mul' label serves when there is no English one"
    assert items["Q99000002"].coordinates is None, "coordinates on Mars are not coordinates on Earth"


def test_wikidata_times_keep_their_precision():
    assert wikidata_time({"time": "+1984-01-08T00:00:00Z", "precision": 11}) == "1984-01-08"
    assert wikidata_time({"time": "+1984-01-00T00:00:00Z", "precision": 10}) == "1984-01"
    assert wikidata_time({"time": "+1984-00-00T00:00:00Z", "precision": 9}) == "1984"
    assert wikidata_time({"time": "-0044-03-15T00:00:00Z", "precision": 11}) is None
    assert wikidata_time({"time": "+1900-00-00T00:00:00Z", "precision": 7}) is None


def test_subclasses_widen_the_class_filter():
    edges = subclass_edges(DUMP)
    assert edges == {"Q99000001": ("Q515",)}
    widened = ClassFilter.default().with_subclasses(edges)
    assert widened.kind_of(["Q99000001"]) == "Place"
    paju = next(i for i in read_dump(DUMP, widened) if i.qid == "Q42153")
    assert (paju.kind, paju.countries) == ("Place", ("Q884",))


def test_a_class_filter_file_replaces_the_default(tmp_path):
    path = tmp_path / "classes.tsv"
    path.write_text("# only films, as events\nQ11424\tEvent\n", encoding="utf-8")
    items = list(read_dump(DUMP, ClassFilter.from_file(path)))
    assert [(i.qid, i.kind) for i in items] == [("Q25188", "Event")]
    path.write_text("Q11424 Film\n", encoding="utf-8")
    with pytest.raises(ClassFilterError, match=r"classes\.tsv:1: expected"):
        ClassFilter.from_file(path)


def test_a_broken_dump_line_is_reported_with_its_line_number(tmp_path):
    broken = tmp_path / "broken.json"
    lines = DUMP.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3][:200]
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DumpError, match=r"broken.json:4: not a Wikidata JSON entity"):
        list(read_dump(broken))


@pytest.fixture(scope="module")
def dump_index(tmp_path_factory) -> LocalIndex:
    path = tmp_path_factory.mktemp("index") / "mini.sqlite"
    report = build_index([DUMP], path, subclasses=True, name="mini")
    assert report.items == 9 and report.kinds == {"Event": 1, "Organization": 1, "Person": 2, "Place": 5}
    index = LocalIndex(path)
    yield index
    index.close()


def test_the_index_records_its_source_date_and_counts(dump_index):
    assert dump_index.info.id == "mini"
    assert dump_index.info.items == 9
    assert "Wikidata dump mini-dump.json" in dump_index.info.label
    assert dump_index.info.licence.startswith("CC0")
    assert len(dump_index.info.date) == 10
    assert dump_index.inputs[0]["kind"] == "Wikidata JSON dump"


def test_lookups_by_label_alias_and_normalised_forms(dump_index):
    found = dump_index.find(
        {"seoul": "Seoul", "rok": "ROK", "kim jong un": "Kim Jong-un", "george bush": "George Bush"}
    )
    assert [(m.item.qid, m.form) for m in found["seoul"]] == [("Q8684", LABEL)]
    assert [(m.item.qid, m.form) for m in found["rok"]] == [("Q884", ALIAS)]
    assert [(m.item.qid, m.form) for m in found["kim jong un"]] == [("Q56226", LABEL)], "hyphens and case do not matter"
    assert [(m.item.qid, m.form) for m in found["george bush"]] == [("Q207", DERIVED)], "a person without middle names"
    assert dump_index.find({"pyongyang": "Pyongyang"}) == {}


def test_fuzzy_search_finds_items_by_their_words(dump_index):
    hits = dump_index.search("Korean War history")  # all words, then all but one
    assert [(m.item.qid, m.form) for m in hits] == [("Q8663", FUZZY)]
    assert dump_index.search("zzz qqq") == []


def test_items_of_the_same_qid_from_several_inputs_are_merged(tmp_path):
    extra = tmp_path / "extra.jsonl.gz"
    write_items(
        [Item("Q8684", "Seoul City", aliases=("Keijo",), kind="Place", popularity=0.2, sources=("mine",))],
        extra,
        {"label": "my additions", "date": "2020-01-01"},
    )
    path = tmp_path / "merged.sqlite"
    build_index([DUMP, extra], path)
    with LocalIndex(path) as index:
        seoul = index.item("Q8684")
        assert seoul.label == "Seoul", "the first input wins the label"
        assert {"Seoul City", "Keijo", "Hanyang"} <= set(seoul.aliases)
        assert seoul.sitelinks == 20 and seoul.sources == ("dump", "mine")


def test_items_files_round_trip_byte_for_byte(tmp_path):
    items = list(read_dump(DUMP))
    one, two = tmp_path / "one.jsonl.gz", tmp_path / "two.jsonl.gz"
    write_items(items, one, {"label": "x", "date": "2024-01-01"})
    write_items(list(read_items(one)), two, {"label": "x", "date": "2024-01-01"})
    assert one.read_bytes() == two.read_bytes()
    assert list(read_items(two)) == items
    (tmp_path / "bad.jsonl").write_text('{"format": "something else"}\n', encoding="utf-8")
    with pytest.raises(ItemsError, match="not a newskg items file"):
        list(read_items(tmp_path / "bad.jsonl"))


def test_bad_index_inputs_and_files_are_clear_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(WikidataIndexError, match="not a Wikidata JSON dump"):
        build_index([tmp_path / "notes.txt"], tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists(), "no half-built index is left behind"
    with pytest.raises(WikidataIndexError, match="no Wikidata index at"):
        LocalIndex(tmp_path / "missing.sqlite")
    with pytest.raises(WikidataIndexError, match="not a newskg Wikidata index"):
        LocalIndex(tmp_path / "notes.txt")


def test_kg_wikidata_index_and_lookup_from_the_command_line(tmp_path):
    index = tmp_path / "cli.sqlite"
    gz = compressed(tmp_path, "gz")
    run = subprocess.run(
        [sys.executable, "-m", "kg", "wikidata", "index", str(gz), "-o", str(index), "--subclasses"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "9 items (1 Event, 1 Organization, 2 Person, 5 Place)" in run.stdout
    assert "index latest-all.json.gz" in run.stderr, "a progress bar on stderr"
    look = subprocess.run(
        [sys.executable, "-m", "kg", "wikidata", "lookup", "Kim Jong-un", "--type", "person", "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert look.returncode == 0, look.stderr
    lines = look.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "qid", "label", "class"]
    assert lines[2].split()[:3] == ["1", "Q56226", "Kim"]
    assert lines[-1].startswith("linked: Q56226 Kim Jong Un (confidence")
