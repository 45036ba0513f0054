"""Formats: every RDF and query-results format newskg reads or writes, in one registry.

Export, `kg query`, the endpoint, the pages and the query workers all name formats; each used to keep
its own table of names, media types and file extensions. Here each format is one record, and the
lookups (by name or alias, by file extension, by media type) and content negotiation are functions
over the registry, so a format added here is known everywhere at once (as rdflib's plugin registry is
the one place that knows every parser and serialiser).

Importing this module loads nothing beyond the standard library: the CLI reads the names for its
options at start-up, and pyoxigraph's own format objects are looked up only when one is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Family(Enum):
    """What a format can carry: RDF statements (graphs, datasets) or SELECT/ASK results."""

    RDF = "rdf"
    RESULTS = "results"


@dataclass(frozen=True)
class Format:
    """One serialisation: its name, the names and media types it answers to, and Oxigraph's format."""

    name: str
    label: str
    family: Family
    #: Media types, the canonical one first (the others are older or unofficial spellings).
    media_types: tuple[str, ...]
    #: Other names for it in a `format=` parameter or on the command line.
    aliases: tuple[str, ...] = ()
    #: File extensions (no dot), the usual one first.
    extensions: tuple[str, ...] = ()
    #: Whether it keeps named graphs (N-Quads, TriG, JSON-LD); a triple format gets the union.
    dataset: bool = False
    #: Its name under https://www.w3.org/ns/formats/ (for the service description).
    w3c: str = ""
    #: The member of pyoxigraph's RdfFormat / QueryResultsFormat that reads and writes it.
    oxigraph_member: str = ""

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def oxigraph(self) -> object:
        """pyoxigraph's format object (imported here, not at start-up)."""
        import pyoxigraph as ox

        holder = ox.RdfFormat if self.family is Family.RDF else ox.QueryResultsFormat
        return getattr(holder, self.oxigraph_member)


#: In the order the endpoint offers them: for equal preferences the earlier wins.
REGISTRY: tuple[Format, ...] = (
    Format(
        "turtle",
        "Turtle",
        Family.RDF,
        ("text/turtle", "application/x-turtle", "application/turtle"),
        aliases=("ttl",),
        extensions=("ttl",),
        w3c="Turtle",
        oxigraph_member="TURTLE",
    ),
    Format(
        "ntriples",
        "N-Triples",
        Family.RDF,
        ("application/n-triples",),
        aliases=("nt",),
        extensions=("nt",),
        w3c="N-Triples",
        oxigraph_member="N_TRIPLES",
    ),
    Format(
        "nquads",
        "N-Quads",
        Family.RDF,
        ("application/n-quads",),
        aliases=("nq",),
        extensions=("nq",),
        dataset=True,
        w3c="N-Quads",
        oxigraph_member="N_QUADS",
    ),
    Format(
        "rdfxml",
        "RDF/XML",
        Family.RDF,
        ("application/rdf+xml",),
        aliases=("rdf", "xml"),
        extensions=("rdf", "owl"),
        w3c="RDF_XML",
        oxigraph_member="RDF_XML",
    ),
    Format(
        "jsonld",
        "JSON-LD",
        Family.RDF,
        ("application/ld+json",),
        aliases=("json",),
        extensions=("jsonld", "json"),
        dataset=True,
        w3c="JSON-LD",
        oxigraph_member="JSON_LD",
    ),
    Format(
        "trig",
        "TriG",
        Family.RDF,
        ("application/trig",),
        extensions=("trig",),
        dataset=True,
        w3c="TriG",
        oxigraph_member="TRIG",
    ),
    Format("n3", "N3", Family.RDF, ("text/n3", "text/rdf+n3"), extensions=("n3",), w3c="N3", oxigraph_member="N3"),
    Format(
        "json",
        "SPARQL results in JSON",
        Family.RESULTS,
        ("application/sparql-results+json", "application/json"),
        aliases=("srj",),
        extensions=("srj", "json"),
        w3c="SPARQL_Results_JSON",
        oxigraph_member="JSON",
    ),
    Format(
        "xml",
        "SPARQL results in XML",
        Family.RESULTS,
        ("application/sparql-results+xml", "application/xml", "text/xml"),
        aliases=("srx",),
        extensions=("srx", "xml"),
        w3c="SPARQL_Results_XML",
        oxigraph_member="XML",
    ),
    Format(
        "csv",
        "SPARQL results in CSV",
        Family.RESULTS,
        ("text/csv",),
        extensions=("csv",),
        w3c="SPARQL_Results_CSV",
        oxigraph_member="CSV",
    ),
    Format(
        "tsv",
        "SPARQL results in TSV",
        Family.RESULTS,
        ("text/tab-separated-values",),
        extensions=("tsv",),
        w3c="SPARQL_Results_TSV",
        oxigraph_member="TSV",
    ),
)

#: What `kg export` writes (the formats Oxigraph serialises a whole store to, without RDF/XML's limits).
EXPORT_NAMES = ("turtle", "ntriples", "nquads", "trig", "jsonld")


class FormatError(ValueError):
    """A format name, extension or media type that we do not know; the message lists the known ones."""


def family(kind: Family) -> tuple[Format, ...]:
    return tuple(f for f in REGISTRY if f.family is kind)


def names(kind: Family) -> tuple[str, ...]:
    """The formats' own names, in registry order (for command-line choices)."""
    return tuple(f.name for f in family(kind))


def get(name: str, kind: Family) -> Format:
    """The format called `name` (its name or an alias, any case) in `kind`."""
    wanted = name.strip().lower()
    for f in family(kind):
        if wanted in f.names:
            return f
    raise FormatError(f"unknown {kind.value} format {name!r}; choose one of {', '.join(names(kind))}")


def find(name: str, kind: Family) -> Format | None:
    try:
        return get(name, kind)
    except FormatError:
        return None


def by_extension(filename: str, kind: Family, among: Iterable[str] | None = None) -> Format | None:
    """The format a file name's extension stands for (`among`: only these format names)."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    allowed = set(among) if among is not None else None
    for f in family(kind):
        if suffix in f.extensions and (allowed is None or f.name in allowed):
            return f
    return None


def by_media_type(media_type: str, kind: Family) -> Format | None:
    media = media_type.split(";", 1)[0].strip().lower()
    for f in family(kind):
        if media in f.media_types:
            return f
    return None


# -- content negotiation (RFC 9110, section 12.5.1) -------------------------------------------------


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges and their q-values, in the order given; parameters other than q are ignored."""
    ranges = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def quality(media: str, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The q-value the most specific matching range gives `media`, and how specific it was (2 exact,
    1 type/*, 0 */*; -1 when no range matches)."""
    kind = media.split("/", 1)[0]
    best = (-1.0, -1)
    for candidate, q in ranges:
        if candidate == media:
            specificity = 2
        elif candidate == f"{kind}/*":
            specificity = 1
        elif candidate == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best


def choose(ranges: list[tuple[str, float]], offers: Iterable[str]) -> str | None:
    """The offered media type to answer with: highest q, then the most specific match, then the earlier
    offer; the first offer when the client states no preference, None when it accepts none of them."""
    offers = list(offers)
    if not ranges:
        return offers[0] if offers else None
    best: tuple[float, int, int] | None = None
    chosen = None
    for rank, media in enumerate(offers):
        q, specificity = quality(media, ranges)
        if q <= 0:
            continue
        key = (q, specificity, -rank)
        if best is None or key > best:
            best, chosen = key, media
    return chosen


def media_types(kind: Family, among: Iterable[str] | None = None) -> dict[str, Format]:
    """Media type -> format, for negotiation: every format's own type first (in registry order, which
    breaks ties), then the older spellings. `among`: only these format names."""
    allowed = set(among) if among is not None else None
    chosen = [f for f in family(kind) if allowed is None or f.name in allowed]
    table = {f.media_type: f for f in chosen}
    for f in chosen:
        for media in f.media_types[1:]:
            table.setdefault(media, f)
    return table


def negotiate(accept: str | None, kind: Family, among: Iterable[str] | None = None) -> tuple[Format, str] | None:
    """The format an Accept header asks for, and the media type it asked for it by (an older spelling is
    answered under that spelling); None when the client accepts none of them."""
    table = media_types(kind, among)
    media = choose(parse_accept(accept), table)
    return (table[media], media) if media is not None else None
