"""Query: SPARQL over the store, results as a terminal table, CSV, TSV or JSON; and store statistics."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..formats import Family, find, names
from ..model import Kind
from ..namespaces import PREFIXES
from .store import Store


class QueryError(ValueError):
    """The query could not be parsed or run; the message says why."""


def _results_format(fmt: str) -> ox.QueryResultsFormat:
    found = find(fmt, Family.RESULTS)
    if found is None:
        raise QueryError(f"unknown format {fmt!r}; choose table, {', '.join(names(Family.RESULTS))}")
    return found.oxigraph()  # type: ignore[return-value]


def read_query(query_or_file: str) -> str:
    """A query given inline, or the text of a .rq/.sparql file, or of a canned query by name."""
    from ..resources import query_files

    path = Path(query_or_file)
    if len(query_or_file) < 4096 and path.is_file():
        return path.read_text(encoding="utf-8")
    canned = {p.stem: p for p in query_files()}
    name = path.stem if path.suffix in {".rq", ".sparql"} else query_or_file
    if name in canned:
        return canned[name].read_text(encoding="utf-8")
    if path.suffix in {".rq", ".sparql"}:
        raise QueryError(f"no such query file: {query_or_file}")
    return query_or_file


def run(store: Store, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    try:
        return store.query(sparql)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from None
    except OSError as exc:
        raise QueryError(f"query failed: {exc}") from None


def short(term: object) -> str:
    """A term as a person reads it: prefixed names for IRIs, bare values for literals."""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns) and "/" not in term.value[len(ns) :]:
                return f"{prefix}:{term.value[len(ns) :]}"
        return term.value
    if isinstance(term, ox.Literal):
        return term.value
    if term is None:
        return ""
    return str(term)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]

    def render(self, max_width: int = 60) -> str:
        cut = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in r] for r in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in cut]) for i, h in enumerate(self.columns)]
        line = "  ".join(h.ljust(w) for h, w in zip(self.columns, widths, strict=True)).rstrip()
        rule = "  ".join("-" * w for w in widths)
        body = ["  ".join(c.replace("\n", " ").ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cut]
        return "\n".join([line, rule, *body, f"({len(self.rows)} row{'s' if len(self.rows) != 1 else ''})"])


def as_table(result: ox.QuerySolutions) -> Table:
    columns = [v.value for v in result.variables]
    return Table(columns, [[short(row[c]) for c in columns] for row in result])


def render(result: object, fmt: str = "table") -> str:
    """Query results as text in the given format (table, csv, tsv, json, xml; Turtle for graphs)."""
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            return "true" if bool(result) else "false"
        return result.serialize(format=_results_format(fmt)).decode("utf-8")
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(result, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode("utf-8")
    if fmt == "table":
        return as_table(result).render()  # type: ignore[arg-type]
    out = io.BytesIO()
    result.serialize(out, format=_results_format(fmt))  # type: ignore[union-attr]
    return out.getvalue().decode("utf-8")


def stats(store: Store) -> dict[str, int]:
    """Articles, entities per type, mentions, sentences and triples in the store."""
    counts: dict[str, int] = {}
    row = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?a a kg:Article }")))
    counts["articles"] = int(row["n"].value)
    for key, cls in (
        ("people", Kind.PERSON),
        ("organizations", Kind.ORGANIZATION),
        ("places", Kind.PLACE),
        ("events", Kind.EVENT),
    ):
        row = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?e a kg:{cls} }}")))
        counts[key] = int(row["n"].value)
    for key, cls in (
        ("entity mentions", "EntityMention"),
        ("group mentions", "GroupMention"),
        ("sentences", "Sentence"),
        ("reported events", "ReportedEvent"),
        ("event mentions", "EventMention"),
        ("time expressions", "TimeMention"),
    ):
        row = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m a kg:{cls} }}")))
        counts[key] = int(row["n"].value)
    counts["graphs"] = sum(1 for _ in store.ox.named_graphs())
    counts["quads"] = len(store)
    return counts
