"""Running an evaluation: build the gold texts as a user would, read newskg's answers back, score them.

The texts go through `kg build` itself (read, extract, resolve, link, RDF, store) into a store, and
the predictions are read back from that store with SPARQL: what is scored is exactly what an
analyst would query, not an internal shortcut. `--store` scores a store built before instead.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..namespaces import Iris, text_hash
from ..settings import Settings
from ..store.store import Store
from .gold import Benchmark, GoldDocument
from .score import Predicted, Scores, score

if TYPE_CHECKING:
    from spacy.language import Language

#: Every entity mention with its entity's kind and Wikidata link; nationality mentions of a country too.
#: Nationality and modifier mentions ("Russian officials", "U.S. officials") are flagged to be scored apart.
PREDICTIONS_QUERY = """
SELECT ?hash ?begin ?end ?kind ?wd ?nationality WHERE {
  ?m nif:referenceContext ?a ; nif:beginIndex ?begin ; nif:endIndex ?end .
  ?a kg:sha256 ?hash .
  ?e gaf:denotedBy ?m ; a ?class .
  VALUES (?class ?kind) { (kg:Person "Person") (kg:Organization "Organization") (kg:Place "Place") (kg:Event "Event") }
  OPTIONAL { ?e owl:sameAs ?wd FILTER(STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/")) }
  BIND(EXISTS { ?m a ?apart VALUES ?apart { kg:NationalityMention kg:ModifierMention } } AS ?nationality)
}
"""


@dataclass(frozen=True)
class Evaluation:
    """A benchmark's scores and how they were made."""

    scores: Scores
    store: str
    model: str | None
    indexes: str


def gold_jsonl(documents: list[GoldDocument], path: Path) -> None:
    """The gold texts as newskg JSON Lines input: id, title, date and text (never the labels)."""
    with path.open("w", encoding="utf-8") as out:
        for doc in documents:
            record: dict[str, object] = {"id": doc.id, "text": doc.text}
            if doc.title:
                record["title"] = doc.title
            if doc.published:
                record["date"] = doc.published.isoformat()
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def predictions(store: Store, documents: list[GoldDocument]) -> Iterator[Predicted]:
    """newskg's mentions in the store, keyed by the gold document whose text each article is."""
    by_digest = {text_hash(doc.text): doc.id for doc in documents}
    for row in store.query(PREDICTIONS_QUERY):  # type: ignore[attr-defined]
        doc = by_digest.get(row["hash"].value)
        if doc is None:
            continue
        wd = row["wd"]
        yield Predicted(
            document=doc,
            begin=int(row["begin"].value),
            end=int(row["end"].value),
            kind=row["kind"].value,
            qid=wd.value.rsplit("/", 1)[-1] if wd is not None else None,
            nationality=row["nationality"].value == "true",
        )


def covered_qids(qids: set[str], settings: Settings) -> set[str]:
    """The gold QIDs that the configured local indexes hold (the API is never asked here)."""
    from ..wikidata.index import LocalIndex
    from ..wikidata.sources import Sources, index_paths
    from ..wikidata.starter import default_cache_dir

    cache = settings.wikidata_cache or default_cache_dir()
    with Sources(local=[LocalIndex(p) for p in index_paths(settings.wikidata_index, cache)]) as sources:
        return {q for q in qids if any(s.item(q) is not None for s in sources.local)}


def evaluate(
    benchmark: Benchmark,
    settings: Settings,
    *,
    store_path: Path | None = None,
    exhaustive: bool = True,
    with_nationalities: bool = False,
    nlp: Language | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Evaluation:
    """Build the benchmark's texts (unless `store_path` holds them already) and score what newskg made."""
    docs = benchmark.documents
    qids = {label.qid for doc in docs for label in doc.labels if label.qid}
    if store_path is not None:
        if not (store_path / "CURRENT").exists() and not any(store_path.glob("*.sst")):
            raise FileNotFoundError(f"{store_path}: no store here (build one with 'kg build' or leave out --store)")
        return _score_store(
            benchmark, store_path, settings, qids, None, exhaustive=exhaustive, with_nationalities=with_nationalities
        )
    with tempfile.TemporaryDirectory(prefix="kg-evaluate-") as tmp:
        work = Path(tmp)
        gold_jsonl(docs, work / f"{benchmark.name}.jsonl")
        built = settings.with_overrides(store=work / "store")
        progress(f"building {len(docs)} documents of {benchmark.name}")
        from ..article.extract import model_description
        from ..pipeline.build import build
        from ..settings import choose_model

        report = build([work / f"{benchmark.name}.jsonl"], built, nlp=nlp)
        if report.errors:
            progress(f"{len(report.errors)} documents could not be read: {report.errors[0]}")
        model = model_description(nlp) if nlp is not None else choose_model(settings.model)
        return _score_store(
            benchmark, work / "store", built, qids, model, exhaustive=exhaustive, with_nationalities=with_nationalities
        )


def _score_store(
    benchmark: Benchmark,
    path: Path,
    settings: Settings,
    qids: set[str],
    model: str | None,
    *,
    exhaustive: bool,
    with_nationalities: bool,
) -> Evaluation:
    with Store(path, Iris(settings.base), read_only=True) as store:
        predicted = list(predictions(store, benchmark.documents))
    covered = covered_qids(qids, settings)
    scores = score(
        benchmark.name,
        benchmark.documents,
        predicted,
        covered,
        exhaustive=exhaustive,
        with_nationalities=with_nationalities,
    )
    return Evaluation(scores, str(path), model, settings.wikidata_index)
