"""SHACL shapes compiled to SPARQL queries that Oxigraph runs: the validator a build uses.

pyshacl walks the data in Python, focus node by focus node, constraint by constraint. Each
constraint here becomes one SPARQL query that selects every violating focus node (and value) at
once; Oxigraph answers most in under a millisecond, and a batch of 16 articles is checked 3 to 4
times faster than with pyshacl. The semantics are SHACL's (W3C Recommendation, section 4): values
are compared as RDF terms, sh:class and class targets follow rdfs:subClassOf, ill-formed literals
fail sh:datatype, and an error in a comparison is a violation. Shapes that use a feature outside
this set raise `UnsupportedShapeError`; kg.validate.check then runs pyshacl, which stays the reference
the tests compare against.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node


class UnsupportedShapeError(ValueError):
    """The shapes use a SHACL feature this compiler does not translate."""


@dataclass(frozen=True)
class Check:
    """One constraint as a query: its rows are violations (?this, and ?value where there is one)."""

    query: str
    path: str | None  # the constraint's path as text, for reports
    message: str
    severity: str
    template: bool = False  # the message has {?var} / {$var} placeholders, filled from the row
    #: The shape's focus nodes exist only if the data has one of these classes or predicates (None: no telling).
    needs: frozenset[str] | None = None


@dataclass(frozen=True)
class Result:
    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    value: ox.NamedNode | ox.BlankNode | ox.Literal | None
    path: str | None
    message: str
    severity: str


#: Datatypes whose well-formedness a cast to the datatype itself tests (it fails on an ill-formed literal).
_CASTABLE = frozenset(
    str(XSD[name])
    for name in (
        "string", "boolean", "integer", "decimal", "float", "double", "date", "dateTime", "time", "duration",
        "dayTimeDuration", "yearMonthDuration", "gYear", "gYearMonth", "gMonthDay", "gDay", "gMonth",
    )
)  # fmt: skip
_NODE_KINDS = {
    SH.IRI: "isIRI(%s)",
    SH.BlankNode: "isBlank(%s)",
    SH.Literal: "isLiteral(%s)",
    SH.BlankNodeOrIRI: "!isLiteral(%s)",
    SH.BlankNodeOrLiteral: "!isIRI(%s)",
    SH.IRIOrLiteral: "!isBlank(%s)",
}
_COMPARISONS = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
_PAIRS = {SH.lessThan: "<", SH.lessThanOrEquals: "<="}
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
#: Parameters this compiler reads; a shape with any other sh: parameter raises UnsupportedShapeError.
_KNOWN = frozenset(
    [
        *_TARGETS,
        *_COMPARISONS,
        *_PAIRS,
        SH.path, SH.property, SH.message, SH.severity, SH.deactivated, SH.name, SH.description, SH.order,
        SH.group, SH.defaultValue, SH.datatype, SH.nodeKind, SH["in"], SH["class"], SH.pattern, SH.flags,
        SH.minLength, SH.maxLength, SH.languageIn, SH.hasValue, SH.node, SH["not"], SH["and"], SH["or"],
        SH.xone, SH.minCount, SH.maxCount, SH.equals, SH.disjoint, SH.uniqueLang, SH.sparql,
    ]
)  # fmt: skip


def sparql_term(term: Node) -> str:
    """An rdflib term in SPARQL syntax."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        text = str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if term.language:
            return f'"{text}"@{term.language}'
        return f'"{text}"^^<{term.datatype or XSD.string}>'
    raise UnsupportedShapeError(f"a blank node ({term}) as a constant in a shape")


class _Compiler:
    """Turns the shapes graph into Checks; `subclasses` says whether the data has rdfs:subClassOf to follow."""

    def __init__(self, shapes: Graph, subclasses: bool, name: Callable[[URIRef], str]) -> None:
        self.g = shapes
        self.subclasses = subclasses
        self.name = name
        self.fresh = itertools.count()
        self.nesting: list[Node] = []

    # -- helpers ---------------------------------------------------------------------------

    def var(self, stem: str = "v") -> str:
        return f"?_{stem}{next(self.fresh)}"

    def items(self, head: Node) -> list[Node]:
        return list(Collection(self.g, head)) if head != RDF.nil else []

    def one(self, shape: Node, parameter: URIRef) -> Node | None:
        values = list(self.g.objects(shape, parameter))
        if len(values) > 1 and parameter not in (SH.message,):
            raise UnsupportedShapeError(f"{shape} has {len(values)} values of {parameter}")
        return values[0] if values else None

    def type_of(self, value: str, cls: Node) -> str:
        step = f"<{RDF.type}>/<{RDFS.subClassOf}>*" if self.subclasses else f"<{RDF.type}>"
        return f"{value} {step} {sparql_term(cls)}"

    def path(self, node: Node) -> str:
        """A SHACL property path as a SPARQL property path."""
        if isinstance(node, URIRef):
            return f"<{node}>"
        if (node, RDF.first, None) in self.g:
            return "(" + " / ".join(self.path(p) for p in self.items(node)) + ")"
        for parameter, template in (
            (SH.inversePath, "^(%s)"),
            (SH.zeroOrMorePath, "(%s)*"),
            (SH.oneOrMorePath, "(%s)+"),
            (SH.zeroOrOnePath, "(%s)?"),
        ):
            inner = self.g.value(node, parameter)
            if inner is not None:
                return template % self.path(inner)
        alternatives = self.g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + " | ".join(self.path(p) for p in self.items(alternatives)) + ")"
        raise UnsupportedShapeError(f"property path {node}")

    def supported(self, shape: Node) -> None:
        for p in set(self.g.predicates(shape)):
            if str(p).startswith(str(SH)) and p not in _KNOWN:
                raise UnsupportedShapeError(f"{shape} uses {p}")

    # -- value conditions: an expression over one value node that is true when it violates ----

    def value_conditions(self, shape: Node, v: str) -> Iterator[tuple[str, str]]:
        """(condition, default message) pairs, one per constraint of the shape; `v` is the value node's variable."""
        for component in VALUE_COMPONENTS:
            yield from component(self, shape, v)

    def conforms(self, shape: Node, x: str) -> str:
        """An expression true when node `x` conforms to `shape` (for sh:node, sh:or and the like)."""
        if shape in self.nesting:
            raise UnsupportedShapeError(f"recursive shapes ({shape} refers to itself)")
        self.nesting.append(shape)
        try:
            return self._conforms(shape, x)
        finally:
            self.nesting.pop()

    def _conforms(self, shape: Node, x: str) -> str:
        self.supported(shape)
        if self.g.value(shape, SH.sparql) is not None:
            raise UnsupportedShapeError(f"a SPARQL constraint inside a nested shape ({shape})")
        if (shape, SH.deactivated, Literal(True)) in self.g:
            return "true"
        parts: list[str] = []
        path = self.g.value(shape, SH.path)
        if path is None:
            parts += [f"!({c})" for c, _ in self.value_conditions(shape, x)]
            if (value := self.one(shape, SH.hasValue)) is not None:
                parts.append(f"sameTerm({x}, {sparql_term(value)})")
        else:
            p, v = self.path(path), self.var()
            conditions = " || ".join(f"({c})" for c, _ in self.value_conditions(shape, v))
            if conditions:
                parts.append(f"NOT EXISTS {{ {x} {p} {v} FILTER ({conditions}) }}")
            for n in self.g.objects(shape, SH.minCount):
                if int(n) > 1:
                    raise UnsupportedShapeError("sh:minCount above 1 inside a nested shape")
                if int(n) == 1:
                    parts.append(f"EXISTS {{ {x} {p} {self.var()} }}")
            for n in self.g.objects(shape, SH.maxCount):
                if int(n) > 1:
                    raise UnsupportedShapeError("sh:maxCount above 1 inside a nested shape")
                a, b = self.var(), self.var()
                parts.append(
                    f"NOT EXISTS {{ {x} {p} {a} }}"
                    if int(n) == 0
                    else f"NOT EXISTS {{ {x} {p} {a} . {x} {p} {b} FILTER (!sameTerm({a}, {b})) }}"
                )
            if (value := self.one(shape, SH.hasValue)) is not None:
                parts.append(f"EXISTS {{ {x} {p} {sparql_term(value)} }}")
            for parameter, op in _PAIRS.items():
                for other in self.g.objects(shape, parameter):
                    a, b = self.var(), self.var()
                    parts.append(
                        f"NOT EXISTS {{ {x} {p} {a} . {x} <{other}> {b} FILTER (!COALESCE({a} {op} {b}, false)) }}"
                    )
            if any(self.g.value(shape, q) is not None for q in (SH.equals, SH.disjoint, SH.uniqueLang)):
                raise UnsupportedShapeError("sh:equals, sh:disjoint or sh:uniqueLang inside a nested shape")
        for prop in self.g.objects(shape, SH.property):
            parts.append(self.conforms(prop, x))
        return " && ".join(f"({part})" for part in parts) or "true"

    # -- checks ----------------------------------------------------------------------------

    def focus(self, shape: Node) -> str | None:
        """A group pattern binding ?this to the shape's focus nodes, or None when it has no target."""
        patterns = []
        for cls in self.g.objects(shape, SH.targetClass):
            patterns.append(self.type_of("?this", cls))
        if (shape, RDF.type, RDFS.Class) in self.g:  # an implicit class target
            patterns.append(self.type_of("?this", shape))
        nodes = list(self.g.objects(shape, SH.targetNode))
        if nodes:
            patterns.append("VALUES ?this { " + " ".join(sparql_term(n) for n in nodes) + " }")
        for p in self.g.objects(shape, SH.targetSubjectsOf):
            patterns.append(f"?this <{p}> {self.var('o')}")
        for p in self.g.objects(shape, SH.targetObjectsOf):
            patterns.append(f"{self.var('s')} <{p}> ?this")
        if not patterns:
            return None
        return " UNION ".join("{ " + p + " }" for p in patterns)

    def checks(self) -> list[Check]:
        shapes = set(self.g.subjects(RDF.type, SH.NodeShape)) | set(self.g.subjects(RDF.type, SH.PropertyShape))
        shapes |= {s for t in _TARGETS for s in self.g.subjects(t, None)}
        found: list[Check] = []
        for shape in sorted(shapes, key=str):
            focus = self.focus(shape)
            if focus is not None:
                needs = self.needs(shape)
                found += [replace(c, needs=needs) for c in self.shape_checks(shape, focus)]
        return found

    def needs(self, shape: Node) -> frozenset[str] | None:
        """Classes and predicates, one of which the data must have for the shape to have a focus node."""
        g = self.g
        if any(g.objects(shape, SH.targetNode)):
            return None
        classes = set(g.objects(shape, SH.targetClass)) | ({shape} if (shape, RDF.type, RDFS.Class) in g else set())
        if classes and self.subclasses:
            return None  # an instance of a subclass counts too
        predicates = set(g.objects(shape, SH.targetSubjectsOf)) | set(g.objects(shape, SH.targetObjectsOf))
        return frozenset(str(t) for t in classes | predicates)

    def shape_checks(self, shape: Node, focus: str) -> list[Check]:
        """The checks of a shape for the focus nodes that `focus` binds to ?this (and of its property shapes)."""
        self.supported(shape)
        if (shape, SH.deactivated, Literal(True)) in self.g:
            return []
        g = self.g
        path_node = g.value(shape, SH.path)
        message = g.value(shape, SH.message)
        severity = str(g.value(shape, SH.severity) or SH.Violation).rsplit("#", 1)[-1]

        shown = describe_path(g, path_node, self.name) if path_node is not None else None

        def check(query: str, default: str) -> Check:
            return Check(query, shown, str(message) if message is not None else default, severity)

        found: list[Check] = []
        if path_node is None:  # a node shape: the value node is the focus node
            values = f"{{ {focus} }} BIND (?this AS ?value)"
        else:
            values = f"{{ {focus} }} ?this {self.path(path_node)} ?value"
        for condition, default in self.value_conditions(shape, "?value"):
            found.append(check(f"SELECT DISTINCT ?this ?value WHERE {{ {values} FILTER ({condition}) }}", default))
        value = self.one(shape, SH.hasValue)
        if value is not None:
            if path_node is None:
                query = (
                    f"SELECT DISTINCT ?this WHERE {{ {{ {focus} }} FILTER (!sameTerm(?this, {sparql_term(value)})) }}"
                )
            else:
                p = self.path(path_node)
                query = (
                    f"SELECT DISTINCT ?this WHERE {{ {{ {focus} }} "
                    f"FILTER NOT EXISTS {{ ?this {p} {sparql_term(value)} }} }}"
                )
            found.append(
                check(query, f"does not have the value {self.name(value) if isinstance(value, URIRef) else value}")
            )
        if path_node is not None:
            found += self.count_checks(shape, focus, self.path(path_node), check)
        for sparql in g.objects(shape, SH.sparql):
            found.append(self.sparql_check(shape, sparql, focus, path_node, shown, severity))
        for prop in g.objects(shape, SH.property):
            if path_node is None:
                found += self.shape_checks(prop, focus)
            else:  # a property shape's property shapes: its value nodes are their focus nodes
                outer = self.var("focus")
                renamed = re.sub(r"\?this\b", outer, focus)
                inner, p = self.var(), self.path(path_node)
                found += self.shape_checks(
                    prop, f"{{ SELECT DISTINCT ({inner} AS ?this) WHERE {{ {renamed} {outer} {p} {inner} }} }}"
                )
        return found

    def count_checks(self, shape: Node, focus: str, p: str, check: Callable[..., Check]) -> list[Check]:
        g, found = self.g, []
        for n in g.objects(shape, SH.minCount):
            if int(n) == 1:
                query = f"SELECT DISTINCT ?this WHERE {{ {{ {focus} }} FILTER NOT EXISTS {{ ?this {p} ?value }} }}"
            else:
                query = _counting(focus, f"OPTIONAL {{ ?this {p} ?value }}", f"< {int(n)}")
            found.append(check(query, f"has fewer than {int(n)} values"))
        for n in g.objects(shape, SH.maxCount):
            query = _counting(focus, f"?this {p} ?value", f"> {int(n)}")
            found.append(check(query, f"has more than {int(n)} values"))
        for parameter, op in _PAIRS.items():
            for other in g.objects(shape, parameter):
                query = (
                    f"SELECT DISTINCT ?this ?value WHERE {{ {{ {focus} }} ?this {p} ?value . ?this <{other}> ?_other "
                    f"FILTER (!COALESCE(?value {op} ?_other, false)) }}"
                )
                found.append(check(query, f"value is not {op} every value of {self.name(other)}"))
        for other in g.objects(shape, SH.equals):
            query = (
                f"SELECT DISTINCT ?this ?value WHERE {{ {{ {focus} }} "
                f"{{ ?this {p} ?value FILTER NOT EXISTS {{ ?this <{other}> ?value }} }} UNION "
                f"{{ ?this <{other}> ?value FILTER NOT EXISTS {{ ?this {p} ?value }} }} }}"
            )
            found.append(check(query, f"values are not those of {self.name(other)}"))
        for other in g.objects(shape, SH.disjoint):
            query = f"SELECT DISTINCT ?this ?value WHERE {{ {{ {focus} }} ?this {p} ?value . ?this <{other}> ?value }}"
            found.append(check(query, f"value is also a value of {self.name(other)}"))
        if (shape, SH.uniqueLang, Literal(True)) in g:
            query = (
                f"SELECT DISTINCT ?this WHERE {{ {{ {focus} }} ?this {p} ?value, ?_other "
                f"FILTER (!sameTerm(?value, ?_other) && lang(?value) != '' && lang(?value) = lang(?_other)) }}"
            )
            found.append(check(query, "more than one value in the same language"))
        return found

    def sparql_check(
        self, shape: Node, constraint: Node, focus: str, path_node: Node | None, shown: str | None, severity: str
    ) -> Check:
        """A SPARQL-based constraint: its SELECT, for the shape's focus nodes (as if $this were pre-bound)."""
        g = self.g
        select = g.value(constraint, SH.select)
        if select is None or (constraint, SH.deactivated, Literal(True)) in g:
            raise UnsupportedShapeError(f"a SPARQL constraint without sh:select ({constraint})")
        prefixes = ""
        for source in g.objects(constraint, SH.prefixes):
            for declaration in g.objects(source, SH.declare):
                prefixes += f"PREFIX {g.value(declaration, SH.prefix)}: <{g.value(declaration, SH.namespace)}>\n"
        text = str(select)
        if path_node is not None:
            text = text.replace("$PATH", self.path(path_node))
        body = re.sub(r"(?is)^\s*(PREFIX\s+\S*\s*<[^>]*>\s*)*", "", text)
        query = f"{prefixes}SELECT * WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {focus} }} }} {{ {body} }} }}"
        message = g.value(constraint, SH.message) or g.value(shape, SH.message) or "SPARQL constraint not met"
        severity = str(g.value(constraint, SH.severity) or severity).rsplit("#", 1)[-1]
        return Check(query, shown, str(message), severity, template=True)


# -- value-type and other constraint components: one function each (SHACL 1.0, section 4) ------------
#: A component: (compiler, shape, value variable) -> (SPARQL condition that is true on a violation, message).
Component = Callable[["_Compiler", Node, str], Iterator[tuple[str, str]]]


def _datatype(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:datatype: a literal of that datatype, well formed (rdf:langString: any literal with a language)."""
    datatype = c.one(shape, SH.datatype)
    if datatype is None:
        return
    if datatype == RDF.langString:
        ok = f"isLiteral({v}) && lang({v}) != ''"
    else:
        ok = f"isLiteral({v}) && datatype({v}) = <{datatype}>"
        if str(datatype) in _CASTABLE:
            ok += f" && isLiteral(<{datatype}>({v}))"
    yield f"!COALESCE({ok}, false)", f"value is not a well-formed literal of datatype {c.name(datatype)}"


def _node_kind(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:nodeKind: an IRI, a blank node, a literal, or one of their unions."""
    kind = c.one(shape, SH.nodeKind)
    if kind is None:
        return
    if kind not in _NODE_KINDS:
        raise UnsupportedShapeError(f"sh:nodeKind {kind}")
    yield "!" + _NODE_KINDS[kind] % v, f"value is not of node kind {c.name(kind)}"


def _in(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:in: one of the listed terms."""
    members = c.one(shape, SH["in"])
    if members is None:
        return
    terms = c.items(members)
    listed = " ".join(c.name(t) if isinstance(t, URIRef) else sparql_term(t) for t in terms)
    test = " || ".join(f"sameTerm({v}, {sparql_term(t)})" for t in terms) or "false"
    yield f"!({test})", f"value is not in ({listed})"


def _class(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:class: an instance of each class named (subclasses count when the compiler knows them)."""
    for cls in c.g.objects(shape, SH["class"]):
        yield f"NOT EXISTS {{ {c.type_of(v, cls)} }}", f"value is not an instance of {c.name(cls)}"


def _pattern(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:pattern (with sh:flags): the value's string matches the regular expression; blank nodes never do."""
    pattern = c.one(shape, SH.pattern)
    if pattern is None:
        return
    flags = c.one(shape, SH.flags)
    args = sparql_term(Literal(str(pattern))) + (f", {sparql_term(Literal(str(flags)))}" if flags else "")
    yield f"(isBlank({v}) || !REGEX(STR({v}), {args}))", f"value does not match the pattern {pattern}"


def _lengths(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:minLength, sh:maxLength: of the value's string; blank nodes fail both."""
    for parameter, op, says in ((SH.minLength, "<", "shorter"), (SH.maxLength, ">", "longer")):
        n = c.one(shape, parameter)
        if n is not None:
            yield f"(isBlank({v}) || STRLEN(STR({v})) {op} {int(n)})", f"value is {says} than {int(n)} characters"


def _ranges(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:minInclusive and the like: a comparison that must hold (an error, such as a type mismatch, fails)."""
    for parameter, op in _COMPARISONS.items():
        bound = c.one(shape, parameter)
        if bound is not None:
            yield f"!COALESCE({v} {op} {sparql_term(bound)}, false)", f"value is not {op} {bound}"


def _language_in(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:languageIn: a literal whose language matches one of the tags."""
    languages = c.one(shape, SH.languageIn)
    if languages is None:
        return
    tags = [str(t) for t in c.items(languages)]
    tests = " || ".join(f"langMatches(lang({v}), {sparql_term(Literal(t))})" for t in tags)
    yield f"!COALESCE(lang({v}) != '' && ({tests or 'false'}), false)", f"value's language is not in {tags}"


def _node(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:node: the value conforms to each shape named."""
    for other in c.g.objects(shape, SH.node):
        yield "!(" + c.conforms(other, v) + ")", f"value does not conform to {c.name(other)}"


def _not(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:not: the value conforms to none of the shapes named."""
    for other in c.g.objects(shape, SH["not"]):
        yield "(" + c.conforms(other, v) + ")", f"value conforms to {c.name(other)}, which it must not"


def _and(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:and: the value conforms to every shape of the list."""
    for head in c.g.objects(shape, SH["and"]):
        test = " && ".join(c.conforms(s, v) for s in c.items(head)) or "true"
        yield f"!({test})", "value does not conform to every shape of sh:and"


def _or(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:or: the value conforms to at least one shape of the list."""
    for head in c.g.objects(shape, SH["or"]):
        test = " || ".join(c.conforms(s, v) for s in c.items(head)) or "false"
        yield f"!({test})", "value conforms to none of the shapes of sh:or"


def _xone(c: _Compiler, shape: Node, v: str) -> Iterator[tuple[str, str]]:
    """sh:xone: the value conforms to exactly one shape of the list."""
    for head in c.g.objects(shape, SH.xone):
        count = " + ".join(f"IF({c.conforms(s, v)}, 1, 0)" for s in c.items(head)) or "0"
        yield f"({count}) != 1", "value does not conform to exactly one shape of sh:xone"


#: Every constraint on a value node the compiler knows, in the order their conditions are checked.
VALUE_COMPONENTS: tuple[Component, ...] = (
    _datatype,
    _node_kind,
    _in,
    _class,
    _pattern,
    _lengths,
    _ranges,
    _language_in,
    _node,
    _not,
    _and,
    _or,
    _xone,
)


def compile_shapes(
    shapes: Graph, *, subclasses: bool = True, name: Callable[[URIRef], str] = lambda iri: f"<{iri}>"
) -> list[Check]:
    """Every constraint of the shapes graph as a SPARQL query; `subclasses=False` when the data has
    no rdfs:subClassOf (types are then matched directly, which is faster). `name` shows an IRI in
    a report's paths. Raises UnsupportedShapeError."""
    return _Compiler(shapes, subclasses, name).checks()


def describe_path(graph: Graph, node: Node, name: Callable[[URIRef], str]) -> str:
    """A SHACL property path in SPARQL's path syntax (a blank node's id would say nothing)."""
    if isinstance(node, URIRef):
        return name(node)
    if (node, RDF.first, None) in graph:
        return "/".join(describe_path(graph, p, name) for p in Collection(graph, node))
    for parameter, template in (
        (SH.inversePath, "^%s"),
        (SH.zeroOrMorePath, "%s*"),
        (SH.oneOrMorePath, "%s+"),
        (SH.zeroOrOnePath, "%s?"),
    ):
        inner = graph.value(node, parameter)
        if inner is not None:
            return template % describe_path(graph, inner, name)
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(describe_path(graph, p, name) for p in Collection(graph, alternatives)) + ")"
    return str(node)


def _counting(focus: str, values: str, test: str) -> str:
    """Focus nodes whose number of distinct ?value (bound by `values`) passes `test`, e.g. "> 1"."""
    return (
        f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {focus} }} }} {values} }}"
        f" GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {test})"
    )


_PLACEHOLDER = re.compile(r"\{[?$](\w+)\}")


def run_checks(data: ox.Store, checks: list[Check]) -> list[Result]:
    """The violations the checks find in `data` (its default graph, or the union of its graphs).

    A batch of articles has no link decisions, a chunk of corpus nodes no mentions: checks whose
    shapes can have no focus node in `data` are skipped, which halves the work on either.
    """
    found: list[Result] = []
    present: set[str] | None = None
    for c in checks:
        if c.needs is not None:
            if present is None:
                present = _classes_and_predicates(data)
            if not c.needs & present:
                continue
        answer = data.query(c.query, use_default_graph_as_union=True)
        assert isinstance(answer, ox.QuerySolutions)
        with_value = any(v.value == "value" for v in answer.variables)
        for row in answer:
            focus = row["this"]
            value = row["value"] if with_value else None
            message = c.message
            if c.template:
                message = _PLACEHOLDER.sub(lambda m, row=row: _text(row, m.group(1)), message)
            found.append(Result(focus, value, c.path, message, c.severity))
    return found


def _classes_and_predicates(data: ox.Store) -> set[str]:
    query = "SELECT DISTINCT ?x WHERE { { ?s a ?x } UNION { ?s ?x ?o } }"
    return {row["x"].value for row in data.query(query, use_default_graph_as_union=True)}  # type: ignore[union-attr]


def _text(row: ox.QuerySolution, name: str) -> str:
    try:
        term = row[name]
    except (KeyError, IndexError):
        return "{?" + name + "}"
    return "" if term is None else term.value
