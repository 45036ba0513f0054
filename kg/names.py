"""Names: how newskg writes, compares and abbreviates the names of things.

Resolution within an article, resolution across the corpus and the Wikidata indexes all compare
names the same way, so the keys live here, below all of them: "The U.N.'s" and "UN" share a key,
"Chad G. Carroll" and "Chad Carroll" share a person key, "UN Command" has the initials "unc".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Letters each followed by a stop, the last stop optional: "U.S.", and "U.S" as wire copy writes it before a
#: sentence goes on ("in the U.S where").
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.)+[A-Za-z]\b\.?")
_LEADING_THE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE_END = re.compile(r"(?:'s|'|’s|’)$")
_NON_WORD = re.compile(r"[^\w]+")
#: Words an acronym skips ("Department of Defense": DoD).
STOP_INITIALS = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "on", "in", "at", "&"})
DIRECTIONS = frozenset({"north", "south", "east", "west"})
#: Courtesy titles, which a person's mention keeps as written ("Mr Shorten") though its name has none.
COURTESY_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx"})
#: Titles of nobility that make "<title> of <place>" the style of a person ("the Duke of Westminster").
NOBLE_TITLES = (
    "Duke",
    "Duchess",
    "Prince",
    "Princess",
    "Earl",
    "Countess",
    "Marquess",
    "Viscount",
    "Baron",
    "Baroness",
)
#: Titles and ranks that precede a name but are not part of it (compared in lower case, without a dot).
TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "reverend",
        "fr",
        "father",
        "col",
        "colonel",
        "lt",
        "lieutenant",
        "gen",
        "general",
        "maj",
        "major",
        "capt",
        "captain",
        "cmdr",
        "commander",
        "sgt",
        "sergeant",
        "cpl",
        "corporal",
        "pvt",
        "private",
        "adm",
        "admiral",
        "brig",
        "brigadier",
        "marshal",
        "president",
        "vice",
        "premier",
        "chancellor",
        "minister",
        "secretary",
        "sen",
        "senator",
        "rep",
        "representative",
        "gov",
        "governor",
        "mayor",
        "judge",
        "justice",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "dj",
        "ambassador",
        "king",
        "queen",
        "prince",
        "princess",
        "duke",
        "duchess",
        "earl",
        "countess",
        "pope",
        "sheikh",
        "st",
    ]
)


#: Offices' titles (in lower case, without a dot) and the words that a description of a holder uses: written
#: before a surname alone, a title says which of the people of that name is meant ("President Hallam").
#: Courtesy titles, honorifics and job words ("Dr", "Sir", "spokesman") say nothing of the kind.
OFFICE_TITLES: dict[str, tuple[str, ...]] = {
    "president": ("president",),
    "premier": ("premier", "prime minister"),
    "chancellor": ("chancellor",),
    "minister": ("minister",),
    "secretary": ("secretary",),
    "sen": ("senator", "senate"),
    "senator": ("senator", "senate"),
    "rep": ("representative", "congressman", "congresswoman"),
    "representative": ("representative", "congressman", "congresswoman"),
    "gov": ("governor",),
    "governor": ("governor",),
    "mayor": ("mayor",),
    "judge": ("judge",),
    "justice": ("justice", "judge"),
    "ambassador": ("ambassador", "diplomat"),
    "king": ("king", "monarch"),
    "queen": ("queen", "monarch"),
    "pope": ("pope",),
    "gen": ("general",),
    "general": ("general",),
    "adm": ("admiral",),
    "admiral": ("admiral",),
    "marshal": ("marshal",),
}


#: Bodies every country has one of: a bare one ("the Navy said", "the Army") is the national one of the
#: country its article is about, and one named after a country ("British Treasury", "French Army") that country's.
NATIONAL_BODIES = frozenset({"army", "navy", "air force", "marines", "marine corps", "coast guard", "treasury"})


def a_national_body(name: str) -> tuple[str, str] | None:
    """(body, the words before it) for "the Navy" -> ("navy", ""), "British Treasury" -> ("treasury", "British"); None
    for any other name."""
    k = name_key(name)
    for body in NATIONAL_BODIES:
        if k == body or k.endswith(" " + body):
            ws = clean_name(name).split()
            return body, " ".join(ws[: len(ws) - len(body.split())])
    return None


def office_title(title: str) -> str | None:
    """The key of the office in OFFICE_TITLES that a written title ends with ("Finance Minister", "Sen."), or None."""
    parts = title.split()
    last = parts[-1].rstrip(".").casefold() if parts else ""
    return last if last in OFFICE_TITLES else None


def forget_names() -> None:
    """Drop the memoised name keys: they speed up one resolution, and would otherwise grow with the corpus."""
    for memo in (clean_name, name_key, words, is_acronym, person_key, initials):
        memo.cache_clear()


@lru_cache(maxsize=1 << 16)
def clean_name(name: str) -> str:
    """The name as people would write it in a list: no leading "the", no possessive."""
    text = unicodedata.normalize("NFKC", name).strip()
    text = _POSSESSIVE_END.sub("", _LEADING_THE.sub("", text)).strip()
    return " ".join(text.split())


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """A comparison key: case, punctuation, "the", possessives and acronym dots don't matter."""
    text = clean_name(name).replace("’", "'")
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    return _NON_WORD.sub(" ", text).strip().casefold()


def identity_key(name: str) -> str:
    """`name_key`, except that a word of three letters or fewer keeps whether it is written in capitals:
    "US" (and "U.S.") is not "Us" the magazine, "UN" is not "Un"; "Nato" and "NATO" are still one."""
    key = name_key(name)
    if " " in key or len(key) > 3:
        return key
    letters = [c for c in name if c.isalpha()]
    return key if not letters or all(c.isupper() for c in letters) else f"{key}#mixed-case"


@lru_cache(maxsize=1 << 16)
def words(name: str) -> tuple[str, ...]:
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), clean_name(name))
    return tuple(w for w in _NON_WORD.split(text) if w)


@lru_cache(maxsize=1 << 16)
def is_acronym(word: str) -> bool:
    bare = word.replace(".", "")
    return 2 <= len(bare) <= 6 and bare.isalpha() and bare.isupper()


@lru_cache(maxsize=1 << 16)
def person_key(name: str) -> str:
    """Name key without middle initials: "Chad G. Carroll" and "Chad Carroll" are one person."""
    parts = name_key(name).split()
    if len(parts) > 2:
        parts = [parts[0], *[p for p in parts[1:-1] if len(p) > 1], parts[-1]]
    return " ".join(parts)


@lru_cache(maxsize=1 << 16)
def initials(name: str) -> str:
    """Acronym signature: first letters of words, all letters of acronym words ("UN Command" -> "unc")."""
    out = []
    for w in words(name):
        if is_acronym(w):
            out.append(w.casefold())
        elif w.casefold() not in STOP_INITIALS:
            out.append(w[0].casefold())
    return "".join(out)


def long_form_start(short: str, long: str) -> int | None:
    """Schwartz & Hearst (2003): where in `long` the definition of acronym `short` starts, if it does."""
    s, text = short.casefold(), long.casefold()
    si, li = len(s) - 1, len(text) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (text[li] != c or (si == 0 and li > 0 and text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
        si -= 1
    start = li + 1
    if len(text[start:].split()) > min(len(s) + 5, 2 * len(s)):
        return None
    return start


def display(name: str) -> str:
    """ "SEOUL" -> "Seoul": shouting is a typesetting choice, not part of the name."""
    if len(name) > 4 and name.isupper() and not is_acronym(name):
        return name.title()
    return name


def group_name(text: str) -> str:
    """The name of the group a nationality word names ("North Korean"), as a NORP mention of it is named."""
    return display(clean_name(text))
