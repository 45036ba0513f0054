"""Name keys for looking names up: the same normalisation for the index and for our entities.

Built on resolution's `name_key` (case, punctuation, a leading "the", possessives and acronym dots
don't matter), plus accents: "Sŏul" and "Soul", "São Paulo" and "Sao Paulo" share a key.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ..names import initials, is_acronym, name_key, person_key, words

__all__ = ["initials", "is_acronym", "key", "person_variant", "short_key", "tokens"]


def _strip_marks(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@lru_cache(maxsize=200_000)
def key(name: str) -> str:
    """The lookup key of a name: "The Associated Press" -> "associated press", "U.S." -> "us"."""
    return _strip_marks(name_key(name))


@lru_cache(maxsize=100_000)
def person_variant(name: str) -> str:
    """A person's key without middle names and initials: "Chad G. Carroll" -> "chad carroll"."""
    return _strip_marks(person_key(name))


def tokens(name_or_key: str) -> frozenset[str]:
    return frozenset(key(name_or_key).split())


def short_key(k: str) -> bool:
    """Keys of three letters or fewer ("us", "un", "ak") name many things: an alias that short is weak."""
    return len(k.replace(" ", "")) <= 3


def org_initials(label: str) -> str | None:
    """ "Associated Press" -> "ap": an acronym an organisation is likely known by, or None."""
    parts = [w for w in words(label) if not is_acronym(w)]
    if len(parts) < 2:
        return None
    found = initials(label)
    return found if 2 <= len(found) <= 6 else None
