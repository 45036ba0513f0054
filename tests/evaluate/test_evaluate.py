"""`kg evaluate`: the scoring rules on hand-made gold, the two gold formats, and one real end-to-end run.

The gold here is written for these tests (a made-up news paragraph); the shared benchmarks are
never used as expectations.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.evaluate.gold import NIL, NO_MAPPING, GoldDocument, GoldError, GoldLabel, read_gold
from kg.evaluate.score import Predicted, is_scored, score

TEXT = "Acme Corp said on Monday that Jane Roe will visit Denver, Colorado and the town of Brill."
#        0         1         2         3         4         5         6         7         8
#        0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890


def span(word: str) -> tuple[int, int]:
    begin = TEXT.index(word)
    return begin, begin + len(word)


def label(i: int, word: str, entity: str, types: str = "", **flags: object) -> GoldLabel:
    b, e = span(word)
    return GoldLabel(i, b, e, entity, frozenset(t for t in types.split("|") if t), **flags)  # type: ignore[arg-type]


def doc(*labels: GoldLabel) -> GoldDocument:
    return GoldDocument("d1", TEXT, labels, (0, len(TEXT)))


def pred(word: str, kind: str, qid: str | None = None) -> Predicted:
    return Predicted("d1", *span(word), kind, qid)


ORG, PER, GEO = "Q43229", "Q215627", "Q27096213"


def test_an_exact_span_with_the_right_qid_is_right_for_ner_and_linking():
    gold = [doc(label(0, "Acme Corp", "Q1", ORG), label(1, "Jane Roe", "Q2", PER))]
    s = score("t", gold, [pred("Acme Corp", "Organization", "Q1"), pred("Jane Roe", "Person")])
    assert (s.ner_exact.tp, s.ner_exact.fp, s.ner_exact.found, s.ner_exact.gold) == (2, 0, 2, 2)
    assert (s.linking.tp, s.linking.fp, s.linking.found, s.linking.gold) == (1, 0, 1, 2)
    assert s.disambiguation_accuracy == 0.5  # both spans found, one linked right


def test_a_boundary_error_is_wrong_exactly_but_right_leniently():
    gold = [doc(label(0, "Acme Corp", "Q1", ORG))]
    s = score("t", gold, [Predicted("d1", 0, 4, "Organization", "Q1")])  # "Acme"
    assert (s.ner_exact.tp, s.ner_exact.fp, s.ner_exact.found) == (0, 1, 0)
    assert (s.ner_lenient.tp, s.ner_lenient.fp, s.ner_lenient.found) == (1, 0, 1)
    assert (s.linking.tp, s.linking.fp) == (0, 1)  # a link on a span the gold does not have


def test_whitespace_at_a_labels_ends_does_not_count_in_the_bounds():
    text = "Hale and Co Inc  said so."
    gold = [GoldDocument("d1", text, (GoldLabel(0, 0, 16, "Q1", frozenset({ORG})),), (0, len(text)))]
    s = score("t", gold, [Predicted("d1", 0, 15, "Organization", "Q1")])
    assert (s.ner_exact.tp, s.ner_exact.fp, s.linking.tp, s.linking.fp) == (1, 0, 1, 0)
    s = score("t", gold, [Predicted("d1", 0, 11, "Organization", "Q1")])  # "Hale and Co": more than a space
    assert (s.ner_exact.tp, s.ner_exact.fp) == (0, 1)


def test_a_final_full_stop_does_not_count_in_the_bounds():
    text = "Jobs moved to the U.S. Acme Inc. grew."
    gold = [
        GoldDocument(
            "d1",
            text,
            (GoldLabel(0, 18, 21, "Q30", frozenset({GEO})), GoldLabel(1, 23, 32, "Q1", frozenset({ORG}))),
            (0, len(text)),
        )
    ]
    s = score("t", gold, [Predicted("d1", 18, 22, "Place", "Q30"), Predicted("d1", 23, 31, "Organization", "Q1")])
    assert (s.ner_exact.tp, s.ner_exact.fp, s.ner_exact.found) == (
        2,
        0,
        2,
    )  # "U.S." for "U.S", "Acme Inc" for "Acme Inc."
    assert (s.linking.tp, s.linking.fp) == (2, 0)
    s = score("t", gold, [Predicted("d1", 23, 27, "Organization", "Q1")])  # "Acme": more than a stop
    assert (s.ner_exact.tp, s.ner_exact.fp) == (0, 1)


def test_a_link_on_a_nil_label_is_wrong_and_on_a_no_mapping_label_is_neutral():
    gold = [doc(label(0, "Jane Roe", NIL), label(1, "Brill", NO_MAPPING))]
    s = score("t", gold, [pred("Jane Roe", "Person", "Q9"), pred("Brill", "Place", "Q8")])
    assert s.ner_exact.tp == 2
    assert (s.linking.tp, s.linking.fp, s.linking.gold) == (0, 1, 0)


def test_concepts_dates_and_optional_labels_are_neutral():
    monday = label(0, "Monday", "DATETIME", "DATETIME")
    town = label(1, "town", "Q3957", "Q17376908")  # a concept, typed but none of our kinds
    roe = label(2, "Jane Roe", "Q2", PER, optional=True)
    assert not any(is_scored(x, TEXT) for x in (monday, town, roe))
    s = score(
        "t", [doc(monday, town, roe)], [pred("Monday", "Event"), pred("town", "Place"), pred("Jane Roe", "Person")]
    )
    assert (s.ner_exact.tp, s.ner_exact.fp, s.ner_exact.gold) == (0, 0, 0)


def test_an_untyped_label_counts_when_it_is_a_name():
    assert is_scored(label(0, "Jane Roe", NIL), TEXT)
    assert not is_scored(label(1, "town", NIL), TEXT)


def test_an_unmatched_prediction_is_a_false_positive_only_when_the_gold_is_exhaustive():
    gold = [doc(label(0, "Acme Corp", "Q1", ORG))]
    predicted = [pred("Acme Corp", "Organization"), pred("Brill", "Place", "Q5")]
    exhaustive = score("t", gold, predicted)
    partial = score("t", gold, predicted, exhaustive=False)
    assert (exhaustive.ner_exact.fp, exhaustive.linking.fp) == (1, 1)
    assert (partial.ner_exact.fp, partial.linking.fp) == (0, 0)
    assert partial.ner_exact.recall == 1.0


def test_a_parent_label_is_matched_whole_or_by_its_children():
    whole = label(0, "Denver, Colorado", "Q16554", GEO, children=(1, 2))
    city = label(1, "Denver", "Q16554", GEO, parent=0)
    state = label(2, "Colorado", "Q1261", GEO, parent=0)
    gold = [doc(whole, city, state)]
    by_parts = score("t", gold, [pred("Denver", "Place", "Q16554"), pred("Colorado", "Place", "Q1261")])
    assert (by_parts.ner_exact.found, by_parts.ner_exact.gold, by_parts.ner_exact.fp) == (2, 2, 0)
    assert by_parts.linking.found == 2
    by_whole = score("t", gold, [pred("Denver, Colorado", "Place", "Q16554")])
    assert (by_whole.ner_exact.found, by_whole.ner_exact.gold, by_whole.ner_exact.fp) == (1, 1, 0)


def test_per_kind_a_country_may_be_a_place_or_an_organization():
    country = label(0, "Colorado", "Q1261", f"{GEO}|{ORG}")
    s = score("t", [doc(country)], [pred("Colorado", "Place", "Q1261")])
    assert s.ner_by_kind["Place"].tp == 1 and s.ner_by_kind["Place"].found == 1
    assert s.ner_by_kind["Organization"].found == 1  # the gold allows either kind
    wrong = score("t", [doc(label(0, "Jane Roe", "Q2", PER))], [pred("Jane Roe", "Place")])
    assert wrong.ner_by_kind["Place"].fp == 1 and wrong.ner_by_kind["Person"].found == 0
    assert wrong.ner_exact.tp == 1  # the span is still right


def test_coverage_separates_what_the_index_lacks_from_what_the_linker_gets_wrong():
    gold = [doc(label(0, "Acme Corp", "Q1", ORG), label(1, "Jane Roe", "Q2", PER), label(2, "Brill", "Q3", GEO))]
    predicted = [pred("Acme Corp", "Organization", "Q1"), pred("Jane Roe", "Person"), pred("Brill", "Place")]
    s = score("t", gold, predicted, covered={"Q1", "Q2"})
    assert (s.gold_qids, s.covered_qids) == (3, 2)
    assert (s.covered_linking.found, s.covered_linking.gold) == (1, 2)


def test_predictions_outside_the_evaluation_span_are_ignored():
    gold = [GoldDocument("d1", TEXT, (label(0, "Brill", "Q3", GEO),), span("Brill"))]
    s = score("t", gold, [pred("Acme Corp", "Organization", "Q1"), pred("Brill", "Place", "Q3")])
    assert (s.ner_exact.tp, s.ner_exact.fp, s.linking.fp) == (1, 0, 0)


# -- reading gold ----------------------------------------------------------------------------------


def elevant_line(**more: object) -> str:
    b, e = span("Jane Roe")
    record = {
        "id": 7,
        "title": "20171113 - A made-up story",
        "text": TEXT,
        "evaluation_span": [0, len(TEXT)],
        "labels": [{"id": 0, "span": [b, e], "entity_id": "<NIL>", "name": "Unknown", "type": "OTHER"}],
        **more,
    }
    return json.dumps(record)


def test_elevant_jsonl_is_read_with_its_dated_title_and_nil_labels(tmp_path: Path):
    path = tmp_path / "made-up.benchmark.jsonl"
    path.write_text(elevant_line() + "\n", encoding="utf-8")
    bench = read_gold(path)
    assert bench.name == "made-up"
    (d,) = bench.documents
    assert d.title == "A made-up story" and d.published is not None and d.published.isoformat() == "2017-11-13"
    (lab,) = d.labels
    assert lab.entity == NIL and lab.types == frozenset() and TEXT[lab.begin : lab.end] == "Jane Roe"


def test_a_broken_gold_line_is_named_with_its_line_number(tmp_path: Path):
    path = tmp_path / "broken.jsonl"
    path.write_text(elevant_line() + "\n{not json\n", encoding="utf-8")
    with pytest.raises(GoldError, match=r"broken\.jsonl:2"):
        read_gold(path)


def test_nif_turtle_gold_is_read_with_wikidata_qids_and_nil(tmp_path: Path):
    b, e = span("Acme Corp")
    b2, e2 = span("Jane Roe")
    ctx = f"http://example.org/doc1#char=0,{len(TEXT)}"
    path = tmp_path / "made-up.ttl"
    path.write_text(
        f"""@prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .
@prefix itsrdf: <http://www.w3.org/2005/11/its/rdf#> .
<{ctx}> a nif:Context ; nif:isString {json.dumps(TEXT)} .
<http://example.org/doc1#char={b},{e}> a nif:Phrase ; nif:referenceContext <{ctx}> ;
    nif:beginIndex {b} ; nif:endIndex {e} ; itsrdf:taIdentRef <http://www.wikidata.org/entity/Q1> .
<http://example.org/doc1#char={b2},{e2}> a nif:Phrase ; nif:referenceContext <{ctx}> ;
    nif:beginIndex {b2} ; nif:endIndex {e2} ; itsrdf:taIdentRef <http://aksw.org/notInWiki/Jane_Roe> .
""",
        encoding="utf-8",
    )
    (d,) = read_gold(path).documents
    assert d.text == TEXT
    assert [(TEXT[x.begin : x.end], x.entity) for x in d.labels] == [("Acme Corp", "Q1"), ("Jane Roe", NIL)]


# -- end to end: a real build of a made-up gold file ------------------------------------------------

STORY = (
    "North Korea fired a missile on Tuesday, officials in Seoul said.\n\n"
    "The United Nations Security Council will meet in New York on Friday."
)


def test_kg_evaluate_builds_the_gold_texts_and_scores_them(tmp_path: Path, wikidata_cache: Path):
    def at(word: str) -> list[int]:
        b = STORY.index(word)
        return [b, b + len(word)]

    labels = [
        {"id": 0, "span": at("North Korea"), "entity_id": "Q423", "type": f"{GEO}|{ORG}"},
        {"id": 1, "span": at("Seoul"), "entity_id": "Q8684", "type": GEO},
        {"id": 2, "span": at("United Nations Security Council"), "entity_id": "Q37470", "type": ORG},
        {"id": 3, "span": at("New York"), "entity_id": "Q60", "type": GEO},
        {"id": 4, "span": at("Tuesday"), "entity_id": "DATETIME", "type": "DATETIME"},
    ]
    gold = tmp_path / "tiny.benchmark.jsonl"
    gold.write_text(json.dumps({"id": 1, "text": STORY, "labels": labels}) + "\n", encoding="utf-8")
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        main, ["evaluate", str(gold), "--json", str(out)], env={"KG_WIKIDATA_CACHE": str(wikidata_cache)}
    )
    assert result.exit_code == 0, result.output
    assert "tiny: 1 documents" in result.output and "NER, exact spans" in result.output
    (scores,) = json.loads(out.read_text(encoding="utf-8"))
    assert scores["ner_exact"]["gold"] == 4  # the date is neutral
    assert scores["ner_exact"]["found"] >= 3  # the small model finds these plain names
    assert scores["linking"]["precision"] == 1.0  # North Korea, Seoul, New York: famous, unambiguous
    assert scores["gold_qids"] == 4 and scores["covered_qids"] >= 3


def test_kg_evaluate_names_a_missing_gold_file(tmp_path: Path):
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "nothing.jsonl")])
    assert result.exit_code != 0 and "no such gold file" in result.output


def test_nationality_mentions_are_scored_apart_unless_asked_for():
    gold = [doc(label(0, "Acme Corp", "Q1", ORG))]
    russian = Predicted("d1", *span("Brill"), "Place", "Q159", nationality=True)
    apart = score("t", gold, [pred("Acme Corp", "Organization", "Q1"), russian])
    assert (apart.ner_exact.fp, apart.linking.fp, apart.nationalities) == (0, 0, 1)
    together = score("t", gold, [pred("Acme Corp", "Organization", "Q1"), russian], with_nationalities=True)
    assert (together.ner_exact.fp, together.linking.fp, together.nationalities) == (1, 1, 0)


def test_kg_evaluate_scores_a_store_built_before_and_names_a_folder_that_is_no_store(tmp_path: Path, wikidata_cache):
    from kg.evaluate.gold import read_gold
    from kg.evaluate.run import gold_jsonl
    from kg.pipeline.build import build
    from kg.settings import Settings

    gold = tmp_path / "tiny.benchmark.jsonl"
    b = STORY.index("Seoul")
    label = {"id": 0, "span": [b, b + 5], "entity_id": "Q8684", "type": GEO}
    gold.write_text(json.dumps({"id": 1, "text": STORY, "labels": [label]}) + "\n", encoding="utf-8")
    gold_jsonl(read_gold(gold).documents, tmp_path / "texts.jsonl")
    settings = Settings(store=tmp_path / "kg", wikidata_cache=wikidata_cache)
    assert build([tmp_path / "texts.jsonl"], settings).ok
    env = {"KG_WIKIDATA_CACHE": str(wikidata_cache)}
    result = CliRunner().invoke(main, ["evaluate", str(gold), "--store", str(settings.store)], env=env)
    assert result.exit_code == 0, result.output
    assert "1/1" in result.output  # Seoul, found and linked, read back from the given store
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = CliRunner().invoke(main, ["evaluate", str(gold), "--store", str(empty)], env=env)
    assert missing.exit_code != 0 and "no store here" in missing.output
