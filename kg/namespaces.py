"""The one place that names IRIs: vocabularies we use and the IRIs we mint.

Everything else imports from here, so the shape of an IRI is decided once. Terms of our own
ontology are declared in ``ontology/newskg.ttl``; this module only knows its namespace.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from hashlib import sha256

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, TIME, XSD

from .model import Kind
from .settings import DEFAULT_BASE

_TERMS: dict[tuple[str, str], URIRef] = {}


class Vocabulary(Namespace):
    """A Namespace that makes each of its terms once.

    rdflib's makes (and checks) a new URIRef on every `KG.label`; writing a corpus graph asks
    for the same few dozen terms hundreds of thousands of times.
    """

    def term(self, name: str) -> URIRef:
        key = (str(self), name)
        found = _TERMS.get(key)
        if found is None:
            found = _TERMS[key] = super().term(name)
        return found


KG = Vocabulary("https://w3id.org/newskg/ontology#")
SCHEMA = Vocabulary("https://schema.org/")
SEM = Vocabulary("http://semanticweb.cs.vu.nl/2009/11/sem/")
NIF = Vocabulary("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
GAF = Vocabulary("http://groundedannotationframework.org/gaf#")
WD = Vocabulary("http://www.wikidata.org/entity/")
GEO = Vocabulary("http://www.opengis.net/ont/geosparql#")


#: Prefixes used in exports, queries and the web face.
PREFIXES: dict[str, str] = {
    "kg": str(KG),
    "schema": str(SCHEMA),
    "sem": str(SEM),
    "nif": str(NIF),
    "gaf": str(GAF),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "xsd": str(XSD),
    "wd": str(WD),
    "geo": str(GEO),
    "time": str(TIME),
}

#: Our entity classes and the path segment their IRIs live under.
ENTITY_CLASSES = {Kind.PERSON: "person", Kind.ORGANIZATION: "organization", Kind.PLACE: "place", Kind.EVENT: "event"}

#: What an IRI we write must look like; anything else (a url with spaces...) is stored as a literal.
IRI_SAFE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"{}|\\^`]+$")
_SLUG_DROP = re.compile(r"[^\w]+", re.UNICODE)


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace above, to put in front of a query."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def text_hash(text: str) -> str:
    """An article's identity: the SHA-256 of its exact text."""
    return sha256(text.encode("utf-8")).hexdigest()


def slug(name: str) -> str:
    """A readable, IRI-safe path segment for a name ("Chad G. Carroll" -> "chad-g-carroll")."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    ascii_first = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SLUG_DROP.sub("-", ascii_first).strip("-_") or "x" + sha256(name.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Iris:
    """IRIs minted under one base IRI; deterministic, so a rebuild mints the same ones."""

    base: str = DEFAULT_BASE

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z][a-z0-9+.-]*://[^\s<>\"{}|\\^`]+/$", self.base):
            raise ValueError(f"base IRI must be an absolute IRI ending in '/': {self.base!r}")

    def article(self, digest: str) -> str:
        return f"{self.base}article/{digest}"

    def article_graph(self, digest: str) -> str:
        return f"{self.base}graph/article/{digest}"

    def mention(self, digest: str, begin: int, end: int) -> str:
        # RFC 5147 fragment, as NIF recommends for strings in a context.
        return f"{self.base}article/{digest}#char={begin},{end}"

    def sentence(self, digest: str, begin: int, end: int) -> str:
        return f"{self.base}article/{digest}#sentence={begin},{end}"

    def entity(self, class_name: str, key: str) -> str:
        return f"{self.base}{ENTITY_CLASSES[class_name]}/{slug(key)}"

    def event_mention(self, digest: str, begin: int, end: int) -> str:
        """An event as one article reports it, named after its trigger's span."""
        return f"{self.base}article/{digest}#event={begin},{end}"

    def time_value(self, digest: str, begin: int, end: int) -> str:
        """The calendar value of the time expression at a span."""
        return f"{self.base}article/{digest}#time={begin},{end}"

    def reported_event(self, type_name: str, key: str) -> str:
        """A reported event of the corpus: event/<type>/<date and main place or actor>."""
        return f"{self.base}event/{slug(type_name)}/{slug(key)}"

    def extraction(self, digest: str) -> str:
        return f"{self.base}article/{digest}#extraction"

    @property
    def corpus_graph(self) -> str:
        return f"{self.base}graph/corpus"

    @property
    def resolution(self) -> str:
        return f"{self.base}graph/corpus#resolution"

    @property
    def linking(self) -> str:
        return f"{self.base}graph/corpus#linking"

    def candidate_source(self, name: str, date: str) -> str:
        """A Wikidata index or service links were drawn from, as of a date."""
        return f"{self.base}wikidata-source/{slug(name)}/{slug(date) or 'undated'}"

    def digest_of_graph(self, graph_iri: str) -> str | None:
        """The article hash behind an article graph IRI, or None for other graphs."""
        prefix = f"{self.base}graph/article/"
        return graph_iri[len(prefix) :] if graph_iri.startswith(prefix) else None
