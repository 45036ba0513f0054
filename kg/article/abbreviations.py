"""US states as news writes them short ("Emeryville, Calif.", "Provo, UT", "a Tenn.-based chain"), and the state
each form stands for.

Wire copy and datelines name a town's state by an abbreviation that matches the wrong thing or nothing in
Wikidata ("Fla." is also a football club's nickname, "Calif." is nobody's alias). A place mention written so
stands for the state's formal name ("State of California", "Commonwealth of Kentucky"): Wikidata gives it as an
alias of the state, and no other place shares it, where a plain "Washington" or "Georgia" would join the
corpus's capital or country.

The table ships as data (`kg/_data/places/us-states.tsv`): USPS codes, the AP Stylebook's abbreviations and
the GPO Style Manual's variants, facts of public record. A dotted abbreviation ("Calif.", "N.J.") stands for its
state wherever spaCy tagged it a place; one without its stop ("Tenn") and a postal code ("TX", "OR", "IN") only
right after a place and a comma, where nothing else is meant.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..resources import resource_dir


def table_path() -> Path:
    return resource_dir("places") / "us-states.tsv"


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(postal code, formal name, abbreviations) for each state of the table."""
    rows = []
    with table_path().open(encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("#") or not line.strip():
                continue
            postal, formal, abbreviations = line.rstrip("\n").split("\t")
            rows.append((postal, formal, tuple(filter(None, abbreviations.split(",")))))
    return tuple(rows)


@lru_cache(maxsize=1)
def _forms() -> tuple[dict[str, str], dict[str, str]]:
    """(dotted abbreviation -> formal name, undotted abbreviation or postal code -> formal name)."""
    dotted: dict[str, str] = {}
    bare: dict[str, str] = {}
    for postal, formal, abbreviations in _rows():
        bare[postal] = formal
        for form in abbreviations:
            dotted[form] = formal
            bare[form.rstrip(".")] = formal  # "Tenn", "N.J"
    return dotted, bare


def state_of(text: str, *, after_a_place: bool) -> str | None:
    """The formal name of the US state an abbreviation stands for, or None: "Calif." -> "State of California"
    anywhere; "Tenn" and "TX" only `after_a_place` and a comma ("Dunmore, Tenn")."""
    dotted, bare = _forms()
    found = dotted.get(text)
    if found is None and after_a_place:
        found = bare.get(text)
    return found


@lru_cache(maxsize=1)
def _plain_names() -> dict[str, str]:
    """A state's formal name and its plain name -> its plain name ("State of Ohio", "Ohio" -> "Ohio")."""
    out: dict[str, str] = {}
    for _, formal, _ in _rows():
        plain = formal.split(" of ", 1)[1]
        out[formal] = out[plain] = plain
    return out


def us_state(name: str) -> str | None:
    """The plain name of the US state a formal or plain name is ("State of North Carolina" -> "North
    Carolina"), or None."""
    return _plain_names().get(name)
