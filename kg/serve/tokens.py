"""What the endpoint must know about a SPARQL text before Oxigraph runs it.

Its form (a query or an update), whether it names its own dataset (FROM / FROM NAMED), and every
remote address it would make the server fetch (SERVICE, LOAD): the server refuses those unless they
are allowed. A lexer for SPARQL 1.1's terminals is enough for that; Oxigraph does the parsing.

And whether its shape would crash the engine: Oxigraph parses, optimises and evaluates a query by
recursion, so a text that nests too deep (a thousand `STR(`, a few thousand `{`) or chains too many
operators (thousands of `&&` or `UNION`) overflows the stack of the process that runs it, which dies
with a segmentation fault. `too_deep` measures both with the same lexer and names the limit crossed,
so such a text is refused before any worker sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

_PN_START = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_VAR_CHARS = _PN_START + r"_0-9\u00b7\u0300-\u036f\u203f-\u2040"  # VARNAME
_PN_CHARS = _VAR_CHARS + r"\-"  # names may also hold '-'
#: One unit of a prefixed name's local part: a name character, ':', %XX or a backslash escape (PLX).
_PN_LOCAL = rf"(?:[{_PN_CHARS}:]|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?#@%])"

_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'
              |"(?:[^"\\\n\r]|\\.)*")
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<var>[?$][{_VAR_CHARS}]+)
  | (?P<pname>(?:[{_PN_START}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?:(?:{_PN_LOCAL}|\.(?={_PN_LOCAL}))*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
UPDATE_FORMS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})


@dataclass(frozen=True)
class SparqlText:
    """What lexing found: the form, dataset clauses, and the remote IRIs (None: not a fixed IRI)."""

    form: str | None
    has_dataset: bool
    remote: tuple[str | None, ...]

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"


def needs_inspection(text: str) -> bool:
    """False when the text cannot hold FROM, SERVICE or LOAD, so lexing it can be skipped."""
    lowered = text.lower()  # then `in`: a fifth of the time of a case-blind regex
    return "from" in lowered or "service" in lowered or "load" in lowered


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) for every significant token: whitespace and comments are dropped."""
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, match.group()))
    return out


def _unescape_iri(iri: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})", lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def inspect(text: str) -> SparqlText:
    """Lex a query or update and report its form, FROM clauses and SERVICE/LOAD targets."""
    toks = tokens(text)
    base: str | None = None
    prefixes: dict[str, str] = {}
    form: str | None = None
    has_dataset = False
    remote: list[str | None] = []

    def resolve(kind: str, value: str) -> str | None:
        if kind == "iri":
            iri = _unescape_iri(value[1:-1])
            return urljoin(base, iri) if base and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", iri) else iri
        if kind == "pname":
            prefix, _, local = value.partition(":")
            if prefix in prefixes:
                return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
        return None

    i = 0
    while i < len(toks):
        kind, value = toks[i]
        word = value.upper() if kind == "word" else ""
        if word == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            base = resolve("iri", toks[i + 1][1])
            i += 2
            continue
        if (
            word == "PREFIX"
            and i + 2 < len(toks)
            and toks[i + 1][0] == "pname"
            and toks[i + 1][1].endswith(":")
            and toks[i + 2][0] == "iri"
        ):
            prefixes[toks[i + 1][1][:-1]] = resolve("iri", toks[i + 2][1]) or ""
            i += 3
            continue
        if word:
            if form is None and word in QUERY_FORMS:
                form = word
            elif form is None and word in UPDATE_FORMS:
                form = "UPDATE"
            if word == "FROM":
                has_dataset = True
            elif word in ("SERVICE", "LOAD"):
                j = i + 1
                if j < len(toks) and toks[j][0] == "word" and toks[j][1].upper() == "SILENT":
                    j += 1
                target = toks[j] if j < len(toks) else ("other", "")
                if target[0] in ("iri", "pname", "var"):  # anything else is a syntax error Oxigraph reports
                    remote.append(resolve(*target))
        i += 1
    return SparqlText(form, has_dataset, tuple(remote))


def refused_remote(found: SparqlText, allowed: frozenset[str]) -> str | None:
    """A message if the text would reach an endpoint outside the allow-list, else None."""
    for target in found.remote:
        if target is None:
            return (
                "SERVICE and LOAD need a fixed endpoint IRI here (a variable or unknown prefix cannot be checked "
                "against the allow-list)"
            )
        if target not in allowed:
            if not allowed:
                return (
                    f"federated queries are off: SERVICE/LOAD <{target}> refused (the server calls no other "
                    "endpoint unless it was started with --service-allow IRI)"
                )
            return f"SERVICE/LOAD <{target}> refused: not in this server's allow-list"
    return None


# -- shapes that would crash the engine ------------------------------------------------------------

#: Brackets ( { [ nested inside each other, at most. pyoxigraph 0.5 crashes at about 960 nested
#: `STR(` (each costs a dozen grammar rules of stack), 2,200 nested `{` and 4,500 nested `(`.
MAX_NESTING = 100
#: Operators chained at one level (`&&`, `||`, `UNION`, `BIND`, path `/` and `|`, arithmetic, ...),
#: at most: a chain is parsed in a loop but becomes a tree as deep as it is long, which the optimiser
#: and the evaluator walk by recursion (crashes from about 2,500 BINDs in a group, 6,400 UNIONs or
#: 9,000 `&&`). Lists are flat and do not count: `IN (...)`, function arguments, the triples of a
#: group or of INSERT DATA (`.`, `;`, `,`), signs of numbers, `^^` before a datatype.
MAX_CHAIN = 500
#: Both at once, on the deepest path through the text: a bracket weighs ten operators (about the ratio
#: of the crash points above), so 50 levels of brackets leave room for chains of 500 along them.
MAX_DEPTH = 1000
BRACKET_WEIGHT = 10

_OPEN = {"(": ")", "{": "}", "[": "]"}
_CLOSE = frozenset(_OPEN.values())
#: Single characters that may join the operands of a chain (which do: see `_chains`).
_CHAIN_CHARS = frozenset("&|/+-*!^")
#: Words that join graph patterns into a chain: each wraps what came before it in the group.
_CHAIN_WORDS = frozenset({"UNION", "MINUS", "OPTIONAL", "FILTER", "BIND"})
_CHAIN_WORDS_LOWER = tuple(word.lower() for word in sorted(_CHAIN_WORDS))


#: Every byte but the opening brackets, and every byte but the chain characters: what `bytes.translate` deletes
#: to leave only those (all ASCII: in UTF-8 their bytes stand for them alone).
_NOT_OPEN = bytes(sorted(set(range(256)) - set("".join(_OPEN).encode())))
_NOT_CHAIN_CHARS = bytes(sorted(set(range(256)) - set("".join(_CHAIN_CHARS).encode())))


def _could_be_too_deep(text: str) -> bool:
    """False when even counting every bracket and operator character as nested and chained cannot
    reach a limit: the usual query, whose few hundred characters then need no lexing."""
    # The characters counted by what `bytes.translate` leaves of the text's bytes: one pass in C for each set,
    # where a str.count per character took 11 passes (2 µs of a lookup's 3.5). The words: str.count of each in
    # the lowered text, 1 µs where a case-blind regex took 9 (they cannot overlap one another).
    data = text.encode("utf-8", "surrogatepass")
    brackets = len(data.translate(None, _NOT_OPEN))
    chained = len(data.translate(None, _NOT_CHAIN_CHARS)) + sum(map(text.lower().count, _CHAIN_WORDS_LOWER))
    return brackets > MAX_NESTING or chained > MAX_CHAIN or brackets * BRACKET_WEIGHT + chained > MAX_DEPTH


def too_deep(text: str) -> str | None:
    """A message naming the limit the text's shape crosses, or None when the engine can take it.

    Brackets in strings, IRIs and comments do not count (the lexer knows them); an unbalanced text
    is measured as far as it goes, and Oxigraph then reports its syntax error.
    """
    if not _could_be_too_deep(text):
        return None
    # One frame per open bracket: [operators chained in it, heaviest bracket closed inside it, 1 if
    # it is a parenthesis (where expressions are: FILTER(...), BIND(...), (... AS ?x)) else 0].
    frames: list[list[int]] = [[0, 0, 0]]
    lexed = tokens(text)
    for at, (kind, value) in enumerate(lexed):
        if kind == "other" and value in _OPEN:
            frames.append([0, 0, int(value == "(")])
            if len(frames) - 1 > MAX_NESTING:
                return (
                    f"the query nests brackets ( {{ [ more than {MAX_NESTING} deep, the limit of this server "
                    "(deeper, the query engine would crash); flatten it"
                )
        elif kind == "other" and value in _CLOSE:
            if len(frames) > 1:
                _close(frames)
        elif _chains(lexed, at, in_expression=bool(frames[-1][2])):
            frames[-1][0] += 1
            if frames[-1][0] > MAX_CHAIN:
                return (
                    f"the query chains more than {MAX_CHAIN} operators at one level (&&, ||, UNION, OPTIONAL, "
                    "BIND, path / or |, arithmetic...), the limit of this server (longer, the query engine "
                    "would crash); use VALUES or IN, or split the query"
                )
    while len(frames) > 1:  # unbalanced: Oxigraph will say so, but measure what is there
        _close(frames)
    depth = frames[0][0] + frames[0][1]
    if depth > MAX_DEPTH:
        return (
            f"the query nests brackets and chains operators {depth} deep (a bracket counts {BRACKET_WEIGHT}, "
            f"an operator 1, along the deepest path), over this server's limit of {MAX_DEPTH} (deeper, the "
            "query engine would crash); flatten it or split it"
        )
    return None


def _close(frames: list[list[int]]) -> None:
    chain, inner, _ = frames.pop()
    frames[-1][1] = max(frames[-1][1], BRACKET_WEIGHT + chain + inner)


def _chains(lexed: list[tuple[str, str]], at: int, *, in_expression: bool) -> bool:
    """True when the token at `at` adds a link to a chain: a binary or prefix operator (a doubled
    `&&` or `||` once), or a word that joins graph patterns; not a sign, nor `^^`, nor `*` or `+`
    after a path step (arithmetic is only ever inside parentheses)."""
    kind, value = lexed[at]
    if kind == "word":
        return value.upper() in _CHAIN_WORDS
    if kind != "other" or value not in _CHAIN_CHARS:
        return False
    before = lexed[at - 1] if at else ("other", "")
    after = lexed[at + 1] if at + 1 < len(lexed) else ("other", "")
    if value in "&|":
        return before != ("other", value)  # `&&`, `||`: the first of the two
    if value == "^":
        return ("other", "^") not in (before, after)  # `^^` gives a literal its datatype
    if value in "+-*":
        return in_expression and _operand(*before)  # binary; a sign, or SELECT *, joins nothing
    return True  # `/` (division, path sequence), `!` (not, negated path)


def _operand(kind: str, value: str) -> bool:
    """True when a token can end an operand (so that an operator after it is binary)."""
    if kind in ("var", "number", "string", "iri", "pname", "lang"):
        return True
    if kind == "word":
        return value.lower() in ("true", "false")
    return value in (")", "]")


# -- the protocol's dataset for an update ----------------------------------------------------------

#: An IRI that can be written between < > as it is (the IRIREF terminal, absolute).
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*")


class UsingConflictError(ValueError):
    """using-graph-uri / using-named-graph-uri given for an update that names its own dataset."""


def with_using(text: str, using: list[str], using_named: list[str]) -> str:
    """The update with the protocol's `using-graph-uri` / `using-named-graph-uri` written into it.

    pyoxigraph's `Store.update` takes no dataset, so the parameters become the USING / USING NAMED
    clauses the SPARQL 1.1 Protocol says they stand for, on every operation with a WHERE: before the
    WHERE of each DELETE/INSERT, and `DELETE WHERE { P }` as `DELETE { P } USING ... WHERE { P }` (its
    short form cannot take USING). An update with USING, USING NAMED or WITH of its own conflicts with
    the parameters (the Protocol makes that an error): UsingConflictError. An IRI that is not absolute
    or cannot be written between < > is a ValueError.
    """
    for iri in (*using, *using_named):
        if not _ABSOLUTE_IRI.fullmatch(iri):
            raise ValueError(f"using-graph-uri and using-named-graph-uri take absolute IRIs, not {iri!r}")
    clause = " ".join([*(f"USING <{iri}>" for iri in using), *(f"USING NAMED <{iri}>" for iri in using_named)])
    lexed = [
        (match.lastgroup or "other", match.group(), match.start(), match.end())
        for match in _TOKEN.finditer(text)
        if match.lastgroup not in ("ws", "comment")
    ]
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), in order
    depth = 0
    i = 0
    while i < len(lexed):
        kind, value, start, _ = lexed[i]
        if kind == "other" and value == "{":
            depth += 1
        elif kind == "other" and value == "}":
            depth -= 1
        elif kind == "word" and depth == 0:
            word = value.upper()
            following = lexed[i + 1][1].upper() if i + 1 < len(lexed) and lexed[i + 1][0] == "word" else ""
            if word in ("USING", "WITH"):
                raise UsingConflictError(
                    f"the update has its own {word} clause: leave out using-graph-uri and using-named-graph-uri "
                    "(the SPARQL 1.1 Protocol does not allow both)"
                )
            if word in ("INSERT", "DELETE") and following == "DATA":
                i += 2
                continue
            if word == "DELETE" and following == "WHERE":
                close = _matching_brace(lexed, i + 2)
                if close is None:
                    return text  # malformed: Oxigraph's parser says what is wrong with it
                pattern = text[lexed[i + 2][2] : lexed[close][3]]
                edits.append((start, lexed[close][3], f"DELETE {pattern} {clause} WHERE {pattern}"))
                i = close + 1
                continue
            if word == "WHERE":
                edits.append((start, start, clause + " "))
        i += 1
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text


def _matching_brace(lexed: list[tuple[str, str, int, int]], at: int) -> int | None:
    """The index of the `}` closing the `{` at `at`, or None."""
    if at >= len(lexed) or lexed[at][1] != "{":
        return None
    depth = 0
    for index in range(at, len(lexed)):
        if lexed[index][0] == "other" and lexed[index][1] in "{}":
            depth += 1 if lexed[index][1] == "{" else -1
            if depth == 0:
                return index
    return None
