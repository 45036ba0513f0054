"""The full Wikidata dump on one machine: what is read from each entity, the byte pre-filter that
spares most lines a JSON parse, worker processes, standard input, resuming an interrupted build,
and the sitelink prior that keeps a famous item first among many homonyms.

Dumps here are small and generated in the real dump's line format (see bench/wikidata_index.py for
the large ones and the timings)."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import kg.wikidata.dump as dump
import kg.wikidata.index as index_module
from kg.corpus.link import LinkConfig, LinkQuery, link, rank
from kg.wikidata.classes import ClassFilter
from kg.wikidata.dump import DumpError, dump_batches, entity_item, may_keep, read_dump
from kg.wikidata.index import LocalIndex, WikidataIndexError, build_index, partial_path
from kg.wikidata.items import Item, popularity_from_sitelinks, write_items

# -- generated entities in the dump's format ------------------------------------------------------


def _snak(prop: str, value: dict[str, Any] | None, kind: str = "value") -> dict[str, Any]:
    snak: dict[str, Any] = {"snaktype": kind, "property": prop, "hash": "ab" * 20}
    if value is not None:
        snak["datavalue"] = value
    snak["datatype"] = "wikibase-item"
    return snak


def _item_value(qid: str) -> dict[str, Any]:
    return {"value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid}, "type": "wikibase-entityid"}


def _statement(prop: str, qid: str | None, rank: str = "normal", kind: str = "value") -> dict[str, Any]:
    value = _item_value(qid) if qid else None
    return {
        "mainsnak": _snak(prop, value, kind),
        "type": "statement",
        "id": f"X${prop}",
        "rank": rank,
        "references": [
            {"hash": "cd" * 20, "snaks": {"P143": [_snak("P143", _item_value("Q328"))]}, "snaks-order": ["P143"]}
        ],
    }


def entity(
    qid: str,
    label: str | None,
    classes: tuple[str, ...] = ("Q515",),
    *,
    sitelinks: int = 0,
    lang: str = "en",
    aliases: dict[str, list[str]] | None = None,
    claims: dict[str, list[dict[str, Any]]] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """One entity as the dump writes it (key order, statement layout, references, sitelinks)."""
    labels = {"de": {"language": "de", "value": f"{label or qid} (de)"}}
    if label is not None:
        labels[lang] = {"language": lang, "value": label}
    all_claims: dict[str, list[dict[str, Any]]] = {"P31": [_statement("P31", c) for c in classes]} if classes else {}
    all_claims.update(claims or {})
    return {
        "type": "item",
        "id": qid,
        "labels": labels,
        "descriptions": {"en": {"language": "en", "value": description}} if description else {},
        "aliases": {k: [{"language": k, "value": v} for v in vs] for k, vs in (aliases or {}).items()},
        "claims": all_claims,
        "sitelinks": {
            f"w{i}wiki": {"site": f"w{i}wiki", "title": label or qid, "badges": []} for i in range(sitelinks)
        },
        "pageid": 1,
        "ns": 0,
        "title": qid,
        "lastrevid": 1,
        "modified": "2024-05-01T00:00:00Z",
    }


def filler(n: int, start: int = 50_000_000) -> list[dict[str, Any]]:
    """Entities of no interest, as most of the real dump is: scholarly articles, taxa, categories."""
    kinds = ("Q13442814", "Q16521", "Q4167836")
    return [entity(f"Q{start + i}", f"Thing {i}", (kinds[i % 3],)) for i in range(n)]


def write_dump(path: Path, entities: list[dict[str, Any]]) -> Path:
    """A dump file: `[`, one entity per line ending in `,` (the last without), `]`; .gz/.bz2 by its name."""
    lines = [json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in entities]
    text = ("[\n" + ",\n".join(lines) + "\n]\n").encode()
    opener: Any = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    with opener(path, "wb") as out:
        out.write(text)
    return path


def mixed(n: int) -> list[dict[str, Any]]:
    """People, places and organisations among filler, with aliases and sitelinks, for whole-index comparisons."""
    out = []
    for i in range(n):
        classes = (("Q5",), ("Q515",), ("Q43229",))[i % 3]
        out.append(
            entity(
                f"Q{1000 + i}",
                f"Name {i}",
                classes,
                sitelinks=i % 40,
                aliases={"en": [f"Alias {i}"]} if i % 2 else None,
                description=f"thing number {i}",
            )
        )
        out += filler(3, start=10_000_000 + 3 * i)
    return out


def index_dump(path: Path) -> list[str]:
    """An index's whole content as SQL, but for the time it was built: what 'the same index' means."""
    with closing(sqlite3.connect(path)) as db:
        return [line for line in db.iterdump() if "'built'" not in line]


# -- what is read --------------------------------------------------------------------------------


def test_english_labels_aliases_p31_classes_and_sitelink_counts_are_read(tmp_path):
    path = write_dump(
        tmp_path / "dump.json",
        [
            entity(
                "Q1",
                "Springfield",
                ("Q515", "Q1549591"),
                sitelinks=37,
                aliases={"en": ["Springfield, Illinois"], "mul": ["SPI"], "fr": ["Springfield (Illinois)"]},
            ),
            entity("Q2", "Colourful Town", ("Q3957",), lang="en-gb"),
            entity("Q3", "Anna Schmidt", ("Q5",), lang="mul"),
            entity("Q4", None, ("Q515",), description="a city without an English label"),
        ],
    )
    items = {i.qid: i for i in read_dump(path)}
    assert set(items) == {"Q1", "Q2", "Q3"}, "an item without an English (or mul) label cannot be matched by name"
    spring = items["Q1"]
    assert spring.aliases == ("Springfield, Illinois", "SPI"), "English and mul aliases, no others"
    assert spring.classes == ("Q515", "Q1549591") and spring.kind == "Place"
    assert spring.sitelinks == 37 and spring.popularity == popularity_from_sitelinks(37)
    assert spring.popularity_basis == "sitelinks"
    assert items["Q2"].label == "Colourful Town" and items["Q3"].kind == "Person"


def test_sitelinks_make_the_popularity_prior_from_zero_at_five_to_one_at_two_hundred():
    assert popularity_from_sitelinks(0) == popularity_from_sitelinks(5) == 0.0
    assert 0.0 < popularity_from_sitelinks(20) < popularity_from_sitelinks(80) < 1.0
    assert popularity_from_sitelinks(200) == popularity_from_sitelinks(350) == 1.0


def test_the_byte_prefilter_never_turns_away_an_item_the_parser_keeps():
    classes = ClassFilter.default()
    odd = [
        entity("Q10", "Plain City"),
        entity("Q11", "Second Class Is Ours", ("Q13442814", "Q5")),
        entity("Q12", "British Spelling", lang="en-gb"),
        entity("Q13", "Mul Only", lang="mul"),
        entity("Q14", "Deprecated", claims={"P31": [_statement("P31", "Q5", rank="deprecated")]}, classes=()),
        entity(
            "Q15",
            "Unknown Value",
            claims={"P31": [_statement("P31", None, kind="somevalue"), _statement("P31", "Q5")]},
            classes=(),
        ),
        entity(
            "Q16",
            "Class After Others",
            classes=(),
            claims={"P17": [_statement("P17", "Q30")], "P31": [_statement("P31", "Q515")]},
        ),
        entity(
            "Q17",
            "Qualifier Only",
            ("Q13442814",),
            claims={"P50": [{**_statement("P50", "Q1"), "qualifiers": {"P31": [_snak("P31", _item_value("Q5"))]}}]},
        ),
        entity("Q18", None, ("Q5",), description="English description, no English label"),
        entity("Q19", "Paper", ("Q13442814",)),
        entity("Q20", "No Classes", ()),
        entity("Q22", None, ("Q5",)),
    ]
    no_numeric = entity("Q21", "Id Only")
    del no_numeric["claims"]["P31"][0]["mainsnak"]["datavalue"]["value"]["numeric-id"]
    for e in [*odd, no_numeric]:
        line = json.dumps(e, separators=(",", ":")).encode()
        kept = entity_item(json.loads(line), classes) is not None
        assert may_keep(line, classes) or not kept, f"{e['id']} is kept by the parser but turned away by the filter"
    turned_away = [e["id"] for e in odd if not may_keep(json.dumps(e, separators=(",", ":")).encode(), classes)]
    assert turned_away == ["Q17", "Q19", "Q20", "Q22"], "and it does turn away what is surely not kept"
    # Q18 is let through (its description is English; only the parser sees that no label is) and left out there.


def test_worker_processes_give_the_same_items_in_dump_order_as_one_process(tmp_path, monkeypatch):
    monkeypatch.setattr(dump, "CHUNK_BYTES", 4096)  # many chunks, most lines cut at a chunk's end
    path = write_dump(tmp_path / "dump.json.gz", mixed(300))
    classes = ClassFilter.default()
    one = list(dump_batches(path, classes, jobs=1))
    two = list(dump_batches(path, classes, jobs=2))
    assert len(one) > 20
    assert [i for b in one for i in b.items] == [i for b in two for i in b.items]
    assert [(b.end, b.lineno) for b in one] == [(b.end, b.lineno) for b in two]
    assert [i.qid for b in one for i in b.items] == [f"Q{1000 + i}" for i in range(300)]
    assert one[-1].end == len(gzip.decompress(path.read_bytes())), "the last batch ends at the end of the stream"


def test_a_bad_line_is_named_by_its_number_even_when_a_worker_read_it(tmp_path, monkeypatch):
    monkeypatch.setattr(dump, "CHUNK_BYTES", 4096)
    path = write_dump(tmp_path / "dump.json", mixed(100))
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[250] = lines[250][:100]
    path.write_text("\n".join(lines), encoding="utf-8")
    for jobs in (1, 2):
        with pytest.raises(DumpError, match=r"dump.json:251: not a Wikidata JSON entity"):
            list(dump_batches(path, ClassFilter.default(), jobs=jobs))


@pytest.mark.parametrize("kind", ["gz", "bz2"])
def test_compressed_dumps_read_the_same_with_a_decompressing_program_or_python(tmp_path, monkeypatch, kind):
    path = write_dump(tmp_path / f"dump.json.{kind}", mixed(50))
    program = {"gz": "gzip", "bz2": "bzip2"}[kind]
    if shutil.which(program) is None:
        pytest.skip(f"no {program} program here")
    monkeypatch.setattr(dump, "DECOMPRESSORS", {kind: ((program, "-dc"),)})
    by_program = list(read_dump(path))
    monkeypatch.setattr(dump, "DECOMPRESSORS", {})
    assert list(read_dump(path)) == by_program and len(by_program) == 50


@pytest.mark.parametrize("kind", ["gz", "bz2"])
def test_a_truncated_compressed_dump_is_an_error_with_a_program_or_python(tmp_path, monkeypatch, kind):
    path = write_dump(tmp_path / f"dump.json.{kind}", mixed(200))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    program = {"gz": "gzip", "bz2": "bzip2"}[kind]
    programs = [{kind: ((program, "-dc"),)}] if shutil.which(program) else []
    for decompressors in [*programs, {}]:
        monkeypatch.setattr(dump, "DECOMPRESSORS", decompressors)
        with pytest.raises(DumpError, match=r"dump.json.(gz|bz2): cannot read the dump"):
            list(read_dump(path))


# -- the index ---------------------------------------------------------------------------------


def test_a_build_stopped_at_a_checkpoint_resumes_to_the_same_index(tmp_path, monkeypatch):
    monkeypatch.setattr(dump, "CHUNK_BYTES", 8192)
    monkeypatch.setattr(index_module, "CHECKPOINT_ITEMS", 40)
    first = write_dump(tmp_path / "first.json.gz", mixed(400))
    extra = tmp_path / "extra.jsonl"
    write_items(
        [Item(f"Q{1000 + i}", f"Other name {i}", kind="Place", sources=("mine",)) for i in range(0, 600, 7)]
        + [Item(f"Q{900_000 + i}", f"Mine {i}", kind="Person") for i in range(3000)],
        extra,
        {"label": "mine", "date": "2024-01-01"},
    )
    inputs = [first, extra]
    whole = tmp_path / "whole.sqlite"
    build_index(inputs, whole, subclasses=True, jobs=2, name="x")

    real = index_module._Progress.checkpoint
    for stop_after in (3, 14):  # inside the dump; inside the items file, the dump done
        calls = {"n": 0}

        def stopping(self, report=None, calls=calls, stop_after=stop_after):
            real(self, report)
            calls["n"] += 1
            if calls["n"] == stop_after:
                raise KeyboardInterrupt

        out = tmp_path / f"resumed-{stop_after}.sqlite"
        monkeypatch.setattr(index_module._Progress, "checkpoint", stopping)
        with pytest.raises(KeyboardInterrupt):
            build_index(inputs, out, subclasses=True, jobs=2, resumable=True, name="x")
        monkeypatch.setattr(index_module._Progress, "checkpoint", real)
        assert partial_path(out).is_file() and not out.exists(), "the partial index stays for --resume"
        with closing(sqlite3.connect(partial_path(out))) as db:
            assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] > 0
        report = build_index(inputs, out, subclasses=True, jobs=1, resume=True, name="x")
        assert not partial_path(out).exists()
        assert index_dump(out) == index_dump(whole), f"stopped after {stop_after} checkpoints"
        assert report.items == 400 + len(range(406, 600, 7)) + 3000, "items of both inputs, each once"
    with LocalIndex(whole) as index:
        assert {"Other name 7", "Alias 7"} <= set(index.item("Q1007").aliases)


def test_resume_refuses_what_it_cannot_continue(tmp_path):
    path = write_dump(tmp_path / "dump.json", mixed(20))
    out = tmp_path / "out.sqlite"
    with pytest.raises(WikidataIndexError, match="nothing to resume"):
        build_index([path], out, resume=True)
    partial = partial_path(out)
    with closing(sqlite3.connect(partial)) as db:
        db.executescript(index_module._SCHEMA + index_module._PROGRESS_SCHEMA)
        db.execute("INSERT INTO build_state VALUES ('signature', 'another build')")
        db.commit()
    with pytest.raises(WikidataIndexError, match="started from other inputs or options"):
        build_index([path], out, resume=True)
    build_index([path], out, resumable=True)  # without --resume: starts over
    assert out.is_file() and not partial.exists()


def _kg(*args: str, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kg", "wikidata", "index", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_a_killed_build_from_standard_input_resumes_without_losing_or_repeating_items(tmp_path):
    entities = [entity(f"Q{10 + i}", f"Person {i}", ("Q5",), sitelinks=i % 9) for i in range(20_000)]
    text = write_dump(tmp_path / "dump.json", entities).read_bytes()
    whole = tmp_path / "whole.sqlite"
    proc = _kg("-", "-o", str(whole), "-q", "--jobs", "1", "--name", "x", stdin=subprocess.PIPE)
    _, err = proc.communicate(text, timeout=300)
    assert proc.returncode == 0, err

    target = tmp_path / "killed.sqlite"
    proc = _kg("-", "-o", str(target), "-q", "--jobs", "2", "--name", "x", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(text[: 3 * len(text) // 4])  # 17 MB: two chunks, each a checkpoint's worth of items
    proc.stdin.flush()
    position = 0
    deadline = time.monotonic() + 120
    while not position and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with closing(sqlite3.connect(f"{partial_path(target).as_uri()}?mode=ro", uri=True)) as db:
                position = db.execute("SELECT MAX(position) FROM build_inputs").fetchone()[0] or 0
        except sqlite3.DatabaseError:
            pass  # not yet created
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert position, "a checkpoint was committed while the dump was still arriving"
    assert not target.exists() and partial_path(target).exists()

    proc = _kg("-", "-o", str(target), "-q", "--resume", "--name", "x", stdin=subprocess.PIPE)
    _, err = proc.communicate(text, timeout=300)
    assert proc.returncode == 0, err
    assert index_dump(target) == index_dump(whole)
    with LocalIndex(target) as index:
        assert index.info.items == 20_000


def test_the_command_line_says_how_to_resume_an_interrupted_build(tmp_path):
    path = write_dump(tmp_path / "dump.json", mixed(30))
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[100] = "{broken"
    path.write_text("\n".join(lines), encoding="utf-8")
    proc = _kg(str(path), "-o", str(tmp_path / "out.sqlite"), "-q")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert b"dump.json:101: not a Wikidata JSON entity" in err and b"'--resume' continues it" in err


# -- popularity among homonyms --------------------------------------------------------------------


@pytest.fixture(scope="module")
def homonyms(tmp_path_factory) -> LocalIndex:
    """A famous city named Springfield (250 sitelinks) among 200 small places and people of that name."""
    folder = tmp_path_factory.mktemp("homonyms")
    small = [
        entity(
            f"Q{100 + i}",
            "Springfield",
            ("Q532",) if i % 4 else ("Q5",),
            sitelinks=i % 4,
            description=f"small place number {i}",
        )
        for i in range(200)
    ]
    famous = entity("Q9999", "Springfield", ("Q1549591",), sitelinks=250, description="big city")
    path = write_dump(folder / "dump.json", [*small[:120], famous, *small[120:], *filler(50)])
    out = folder / "homonyms.sqlite"
    build_index([path], out)
    index = LocalIndex(out)
    yield index
    index.close()


def test_many_homonyms_do_not_crowd_the_famous_item_out_of_a_lookup(homonyms):
    found = homonyms.find({"springfield": "Springfield"})["springfield"]
    assert len(found) == index_module.PER_KEY, "a name yields at most PER_KEY items"
    assert found[0].item.qid == "Q9999", "the most popular first, though 120 homonyms have smaller QIDs"


def test_popularity_ranks_the_famous_item_first_among_its_homonyms(homonyms):
    ranked = rank(LinkQuery("urn:x", "Place", "Springfield"), [homonyms])
    assert ranked[0].qid == "Q9999"
    assert ranked[0].score > ranked[1].score


def test_popularity_keeps_a_famous_item_linked_among_many_homonyms(homonyms):
    decision = link([LinkQuery("urn:x", "Place", "Springfield", articles=("a",))], [homonyms], LinkConfig())[0]
    assert decision.qid == "Q9999", decision.reason
    assert decision.confidence >= LinkConfig().threshold
