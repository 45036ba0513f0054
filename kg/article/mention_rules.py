"""Corrections to spaCy's entity spans and labels, as tables of small named rules.

spaCy's small model gets most names right and a few kinds of them wrong in the same ways every
time: a name that runs over a line break, "The" dropped from "The Associated Press", a weapon's
model letters taken for a company, an "Army" or a "Zone" given the other kind, a country that is
really its team in a match report. Each rule below fixes one of these and nothing else.

- A *span rule* takes an entity span and returns the span to keep, or None to drop it.
- A *label rule* takes the kept span and its label so far and returns a new label, or None when
  it has no opinion. Label rules run in order; each sees the label the previous ones left.
- Two rules see more than one span: `the_longer_name_a_place_begins_or_ends` (a place inside a name
  spaCy split, "U.S." + "District Court") returns a span and a label, and `listed_regions` finds the
  names of "Kings and Queens counties", tagged by spaCy or not.

Every rule has a test on a hand-built `Doc` (tests/article/test_mention_rules.py), so each is
specified on its own, without a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy

from ..model import DEMONYM, MODIFIER, TEAM
from ..names import NOBLE_TITLES, TITLES, office_title
from .abbreviations import state_of, us_state
from .demonyms import country_of

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

SpanRule = Callable[["Span"], "Span | None"]
LabelRule = Callable[["Span", str], "str | None"]

# -- span rules ------------------------------------------------------------------------------------


def _breaks_line(token: Token) -> bool:
    return "\n" in token.text or "\r" in token.text or "\u2028" in token.text


def cut_at_a_line_break(span: Span) -> Span | None:
    """A name never runs over a line break: "Angela Rayner\\n\\nSpeaking" is "Angela Rayner"; "Channel 4\\n\\n"
    is "Channel 4". The part before the break is kept (the part after when nothing comes before)."""
    doc = span.doc
    parts: list[list[Token]] = [[]]
    for token in span:
        if _breaks_line(token) or token.is_space:
            parts.append([])
        else:
            parts[-1].append(token)
    kept = next((p for p in parts if p), None)
    if kept is None:
        return None
    return doc[kept[0].i : kept[-1].i + 1]


def keep_a_capitalised_the(span: Span) -> Span | None:
    """A "The" written with a capital inside a sentence belongs to the name ("said The Associated Press",
    "in The Hague"); at the start of a sentence the capital says nothing, so it stays out."""
    doc = span.doc
    if span.start > 0:
        before = doc[span.start - 1]
        if before.text == "The" and not before.is_sent_start and not _after_a_line_break(before):
            return doc[span.start - 1 : span.end]
        if before.text == "The" and _after_a_line_break(before) and _ends_a_line(span[-1]):
            return doc[span.start - 1 : span.end]  # a line that is the name alone: a credit ("The Daily Courier")
    return span


def _ends_a_line(token: Token) -> bool:
    doc = token.doc
    return token.i == len(doc) - 1 or _breaks_line(doc[token.i + 1]) or "\n" in token.whitespace_


def _after_a_line_break(token: Token) -> bool:
    return token.i == 0 or _breaks_line(token.doc[token.i - 1]) or "\n" in token.doc[token.i - 1].whitespace_


#: Nouns that follow a model designation rather than a maker's name ("AK rifles", "MiG jets").
MODEL_NOUNS = frozenset(
    [
        "rifle",
        "rifles",
        "gun",
        "guns",
        "pistol",
        "pistols",
        "missile",
        "missiles",
        "rocket",
        "rockets",
        "launcher",
        "launchers",
        "grenade",
        "grenades",
        "tank",
        "tanks",
        "jet",
        "jets",
        "fighter",
        "fighters",
        "helicopter",
        "helicopters",
        "drone",
        "drones",
    ]
)


def drop_a_weapon_model(span: Span) -> Span | None:
    """Short capitals or a code with digits right before a weapon noun are a model, not an organisation:
    "AK rifles", "MiG jets". A maker's ordinary name ("Boeing jets") is kept."""
    if len(span) != 1 or span.end >= len(span.doc):
        return span
    word = span[0].text
    code = (word.isupper() and len(word) <= 3) or any(c.isdigit() for c in word) or word in {"MiG", "Su"}
    if code and span.doc[span.end].lower_ in MODEL_NOUNS:
        return None
    return span


#: Legal forms written after a comma that belong to the company's name ("Acme Medical Group, Inc.").
COMMA_LEGAL_FORMS = frozenset({"inc", "inc.", "llc", "ltd", "ltd.", "plc", "corp", "corp.", "co.", "l.p.", "lp"})


def keep_a_legal_form_after_a_comma(span: Span) -> Span | None:
    """ "Acme Medical Group, Inc.": a legal form after a comma is the end of the company's name."""
    doc = span.doc
    end = span.end
    if end + 1 < len(doc) and doc[end].text == "," and doc[end + 1].lower_ in COMMA_LEGAL_FORMS:
        return doc[span.start : end + 2]
    return span


_QUOTES = frozenset({'"', "'", "“", "”", "‘", "’", "«", "»", "``", "''"})
_MARKS = frozenset({"™", "®", "℠"})


def drop_quotes_keep_a_trademark(span: Span) -> Span | None:
    """A name never begins or ends with a quotation mark ('"Registry of Business Excellence'), and a trademark
    sign written onto it is part of it ("RapidArc™")."""
    doc = span.doc
    start, end = span.start, span.end
    while start < end and doc[start].text in _QUOTES:
        start += 1
    while end > start and doc[end - 1].text in _QUOTES:
        end -= 1
    if start == end:
        return None
    if end < len(doc) and doc[end].text in _MARKS and not doc[end - 1].whitespace_:
        end += 1
    return doc[start:end]


#: Last words of recurring events, whose year says which edition ("the 2010 World Cup"); a one-off's year
#: may belong to something else ("the 1953 Korean War armistice": the armistice's year).
RECURRING_EVENTS = frozenset(
    {
        "cup",
        "olympics",
        "games",
        "championship",
        "championships",
        "open",
        "festival",
        "awards",
        "election",
        "elections",
        "summit",
        "marathon",
        "prix",
        "series",
        "tour",
        "expo",
        "conference",
    }
)


def keep_the_year_of_an_event(span: Span) -> Span:
    """ "the 2010 World Cup", "the 2012 Olympics": a year right before a recurring event is part of its name
    (which edition). Only for events, and only recurring ones."""
    doc = span.doc
    if span.start > 0 and span[-1].lower_ in RECURRING_EVENTS:
        year = doc[span.start - 1]
        if year.text.isdigit() and len(year.text) == 4 and 1800 <= int(year.text) <= 2199:
            return doc[span.start - 1 : span.end]
    return span


#: Titles that a department's one-word name is fused into ("Finance Minister", "Treasury Secretary").
_OFFICE_TITLES = frozenset({"minister", "secretary", "undersecretary", "chancellor", "commissioner"})


def drop_a_word_of_a_title(span: Span) -> Span | None:
    """ "acting Finance Minister Paolo Rossi", "Treasury Secretary John Doe": one capitalised word right
    before an office's title is part of the title, not a name of its own."""
    doc = span.doc
    if len(span) == 1 and span.end < len(doc) and doc[span.end].lower_ in _OFFICE_TITLES:
        return None
    return span


#: Lower-case words that join the words of a name and so never end one ("Player and Coach of", "Hale and Co and").
_JOINING_WORDS = frozenset({"of", "and", "the", "for", "to", "in", "on", "at", "&", "de", "du", "von"})


def drop_joining_words_at_the_end(span: Span) -> Span | None:
    """ "The Player and Coach of the Year awards" tagged "Player and Coach of": a name does not end in a word that
    joins it to more, so such words are dropped from its end (nothing is left of a span of joining words)."""
    end = span.end
    while end > span.start and span.doc[end - 1].lower_ in _JOINING_WORDS and not span.doc[end - 1].text[:1].isupper():
        end -= 1
    return span.doc[span.start : end] if end > span.start else None


#: Verbs of a web page's share buttons, which stand before "to"/"on"/"this" ("Post to Zipline Post to Chatter",
#: "Share on Facebook", "Tweet this story"): a button's label, no name.
_SHARE_VERBS = frozenset({"Post", "Share", "Email", "Tweet", "Digg", "Pin"})
_SHARE_OBJECTS = frozenset({"to", "on", "this", "via"})


def _a_share_button(token: Token) -> bool:
    doc = token.doc
    return token.text in _SHARE_VERBS and token.i + 1 < len(doc) and doc[token.i + 1].lower_ in _SHARE_OBJECTS


def drop_share_buttons(span: Span) -> Span | None:
    """ "Post to Zipline Post to Chatter": a share button's verb is no name and no part of the name before it
    ("Zipline Post" is Zipline). The span is cut before the first such verb; nothing is left of one that starts
    with it."""
    for token in span:
        if _a_share_button(token):
            return span.doc[span.start : token.i] if token.i > span.start else None
    return span


#: Legal forms after which a word in capitals is a stock ticker ("Acme Inc ACME").
_TICKER_AFTER = frozenset({"inc", "corp", "co", "ltd", "plc", "llc", "ag", "nv", "sa", "spa", "bv", "se", "lp"})
_TICKER = re.compile(r"[A-Z]{1,5}")
_TICKER_ON_AN_EXCHANGE = re.compile(r"[A-Z]{1,6}\.[A-Z]{1,2}")  # "ACME.AS", "AAPL.O": a ticker whatever comes before


def drop_a_ticker(span: Span) -> Span | None:
    """ "Acme Inc ACME", "Acme NV ACME.AS": wire stories follow a company's name with its
    stock ticker, which is no part of the name. A last word in capitals after a legal form, or one with an
    exchange's suffix, is dropped; so is such a word tagged as a name of its own ("Acme Corp UK" is not the
    United Kingdom). Kept as a mention of the company, a ticker would be an acronym it is known by to corpus
    resolution, and draw every "UK" of the corpus into it."""
    if len(span) == 1:
        return None if _a_lone_ticker(span) else span
    last, before = span[-1], span[-2]
    if _TICKER_ON_AN_EXCHANGE.fullmatch(last.text) or (_TICKER.fullmatch(last.text) and a_legal_form(before)):
        return span[:-1]
    return span


def a_legal_form(token: Token) -> bool:
    """A company's legal form, as written after its name ("Inc", "Corp.", "NV"; not the verb "co-")."""
    return token.text[:1].isupper() and token.text.rstrip(".").casefold() in _TICKER_AFTER


#: Words after "and" that end a firm's name on their own ("Hale and Co").
FIRM_WORDS = frozenset({"co", "company", "sons", "partners", "associates"})


def a_companys_name_goes_on_after_and(span: Span) -> Span:
    """ "Marlowe Cable and Radio Co", "Hale and Co Inc": spaCy often ends a company's name at "and". When
    "and" (or "&"), capitalised words no entity holds and a legal form follow it in the sentence, they are the
    rest of the name; so is a firm's word right after "and" ("Hale and Co"). Tickers after it stay out."""
    doc, sent = span.doc, span.sent
    joint = span.end
    if joint >= sent.end - 1 or doc[joint].lower_ not in {"and", "&"}:
        return span
    end = joint + 1
    while end < sent.end and end - joint <= 4 and _a_free_capitalised_word(doc[end]) and not a_legal_form(doc[end]):
        end += 1
    if end < sent.end and end == joint + 1 and doc[end].lower_ in FIRM_WORDS and doc[end].text[:1].isupper():
        end += 1  # "Hale and Co"
    elif end < sent.end and end > joint + 1 and a_legal_form(doc[end]):
        end += 1  # "Marlowe Cable and Radio Co"
    else:
        return span
    while end < sent.end and a_legal_form(doc[end]) and doc[end - 1].whitespace_:
        end += 1  # "Hale and Co Inc"
    return doc[span.start : end]


#: Bodies named after what they deal with: "the Harbours subcommittee on Tolls, Ferries and Canal Works", "the
#: Committee on Ways and Means".
COMMITTEE_NOUNS = frozenset({"committee", "subcommittee", "commission", "panel"})
_COMMITTEE_LINKS = frozenset({"on", "for"})


def _a_committee_on(token: Token) -> bool:
    """A committee noun followed by "on" or "for" ("subcommittee on")."""
    return token.lower_ in COMMITTEE_NOUNS and token.i + 1 < len(token.doc) and token.nbor().lower_ in _COMMITTEE_LINKS


def a_committees_subjects(span: Span) -> bool:
    """The name holds a committee noun and "on" or "for" before its first comma: the commas after it list the
    committee's subjects, not names of their own."""
    for token in span[:-1]:
        if token.text == ",":
            return False
        if _a_committee_on(token):
            return True
    return False


def a_committee_goes_on_over_its_subjects(span: Span) -> Span:
    """ "the Marlowe Harbours subcommittee on Tolls, Ferries and Canal Works": spaCy ends the
    name at the committee's body or splits its subjects into names; a committee noun after an organisation's
    name (or at its end), then "on" or "for" and its subjects, capitalised, is one name. The subjects end at
    the first or at the last one joined by "and" ("the committee on Finance, Hallam said")."""
    doc, sent = span.doc, span.sent
    inside = [t.i + 1 for t in span[:-1] if _a_committee_on(t)]
    i = span.end
    if inside:
        i = inside[0]  # "Senate Committee on Banking": the subjects begin inside
    elif i < sent.end and doc[i].lower_ in COMMITTEE_NOUNS:
        i += 1
    elif span[-1].lower_ not in COMMITTEE_NOUNS:
        return span
    if i >= sent.end or doc[i].lower_ not in _COMMITTEE_LINKS:
        return span
    ends: list[int] = []  # where the name may end: after the first subject and after each joined by "and"
    start, by_and = i + 1, False
    while start < sent.end and _a_subjects_word(doc[start]):
        end = start
        while end < sent.end and _a_subjects_word(doc[end]):
            end += 1
        if not ends or by_and:
            ends.append(end)
        after = end
        while after < sent.end and doc[after].text in {",", "and", "&"}:
            after += 1
        by_and = any(doc[k].lower_ in {"and", "&"} for k in range(end, after))
        if after == end:
            break
        start = after
    return doc[span.start : ends[-1]] if ends and ends[-1] > span.end else span


#: Entity types no committee deals with ("the committee on Monday").
_NO_SUBJECT = frozenset({"DATE", "TIME", "PERSON", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"})


def _a_subjects_word(token: Token) -> bool:
    return token.text[:1].isupper() and token.is_alpha and token.ent_type_ not in _NO_SUBJECT


def _a_free_capitalised_word(token: Token) -> bool:
    return token.text[:1].isupper() and token.is_alpha and token.ent_iob_ in {"O", ""}


def _a_lone_ticker(span: Span) -> bool:
    """One word in capitals (or with an exchange's suffix) right after a legal form: "UK" in "Acme Corp UK"."""
    if len(span) != 1 or span.start == 0:
        return False
    word, before = span[0], span.doc[span.start - 1]
    ticker = _TICKER.fullmatch(word.text) or _TICKER_ON_AN_EXCHANGE.fullmatch(word.text)
    return bool(ticker) and bool(before.whitespace_) and a_legal_form(before)


SPAN_RULES: tuple[SpanRule, ...] = (
    cut_at_a_line_break,
    drop_share_buttons,
    drop_a_ticker,
    drop_joining_words_at_the_end,
    drop_a_word_of_a_title,
    keep_a_capitalised_the,
    drop_a_weapon_model,
    keep_a_legal_form_after_a_comma,
    drop_quotes_keep_a_trademark,
)


def apply_span_rules(span: Span, rules: tuple[SpanRule, ...] = SPAN_RULES) -> Span | None:
    for rule in rules:
        found = rule(span)
        if found is None:
            return None
        span = found
    return span


# -- a place inside a longer name ------------------------------------------------------------------

_POSSESSIVES = frozenset({"'s", "’s"})


def _free_proper_noun(token: Token, *, loose: bool = False) -> bool:
    """A capitalised proper noun that no other entity holds and that is neither a title ("Gov.", "Minister")
    nor written in capitals (an acronym or a ticker, "FTSE", "NYSE", names of their own). `loose` admits a
    noun or adjective capitalised inside a sentence ("Denver's Best Lawyers"), which after a possessive
    says a name more surely than anywhere else ("sub-Arctic Canada", "the U.S. Dental supply market")."""
    proper = token.pos_ == "PROPN" or (loose and token.pos_ in {"NOUN", "ADJ"} and not token.is_sent_start)
    return (
        proper
        and token.text[:1].isupper()
        and not (len(token.text) > 1 and token.text.isupper())
        and token.ent_iob_ in {"O", ""}
        and not _is_title(token)
    )


#: Head words of institutions whose names go on with "of <place>" ("University of Texas", "The Center for
#: Marine Studies of Santa Cruz"). A company's "of <place>" is mostly where it is ("Acme Cleaning
#: Services of Twin Falls", "Acme Inc of Provo"), so company words are not here.
INSTITUTION_HEADS = frozenset(
    {
        "Center",
        "Centre",
        "Institute",
        "University",
        "College",
        "School",
        "Academy",
        "Museum",
        "Hospital",
        "Library",
        "Church",
        "Cathedral",
        "Society",
        "Theatre",
        "Theater",
        "Orchestra",
    }
)


def _an_institution(org: Span) -> bool:
    """The organisation's head word, before any "for"/"of" ("The Center for Marine Studies": Center), is an
    institution's."""
    head = None
    for token in org:
        if token.lower_ in {"for", "of", "on"}:
            break
        head = token.text
    return head in INSTITUTION_HEADS


def _entity_at(doc: Doc, i: int, label: str) -> Span | None:
    """The entity of that label holding token `i`, read off the tokens' IOB tags (`doc.ents` makes every
    entity's span anew on each call)."""
    if doc[i].ent_type_ != label:
        return None
    start, end = i, i + 1
    while start > 0 and doc[start].ent_iob_ == "I":
        start -= 1
    while end < len(doc) and doc[end].ent_iob_ == "I":
        end += 1
    return doc[start:end]


def the_longer_name_a_place_begins_or_ends(span: Span, label: str) -> tuple[Span, str]:
    """A place's name that spaCy tagged alone inside a longer name is that name: "U.S." + "District Court"
    is "U.S. District Court", "Iowa" of "the Iowa State recruiter" is "Iowa State", "Denver" of
    "Denver's Best Lawyers" is the whole. The longer name is an organisation unless its head word says
    otherwise. Not when the run goes on into a title or a person ("Britain's Prime Minister Theresa May"), nor into
    a name in capitals ("London FTSE"). "<institution> of <place>" is one name ("The Center for
    Marine Studies of Santa Cruz"), but after a company's name "of <place>" is mostly where the
    company is ("Acme Cleaning Services of Twin Falls") and is left alone; not a "Co" of a US state
    or of America, which names the company ("Marlowe Gas Co of Ohio"). Returns the span and label
    to keep (the same ones when the place stands alone)."""
    if label not in {"GPE", "LOC"} or len(span) == 0:
        return span, label
    doc, sent = span.doc, span.sent
    start, end = span.start, span.end
    nxt = doc[end] if end < sent.end else None
    if nxt is not None and (span[-1].whitespace_ or nxt.text in _POSSESSIVES):
        org = _entity_at(doc, end, "ORG") if nxt.ent_iob_ == "B" and not nxt.text.isupper() else None
        if org is not None and span[-1].whitespace_:  # "U.S. District Court"
            end = org.end
        else:
            at = end + 1 if nxt.text in _POSSESSIVES and nxt.whitespace_ else end  # "Denver's Best Lawyers"
            run = at
            while run < sent.end and _free_proper_noun(doc[run], loose=at > end):
                run += 1
            # after a possessive, one word is too little to tell a name ("Denver's Best Lawyers") from a
            # description ("Denver's Mayor", "Denver's Best lawyers")
            enough = run - at >= (2 if at > end else 1)
            if enough and not (run < len(doc) and (_is_title(doc[run]) or doc[run].ent_type_ == "PERSON")):
                end = run
    while start > sent.start and _free_proper_noun(doc[start - 1]):
        start -= 1  # "Z Nevada" magazine
    if start == span.start and _a_sub_region_prefix(doc, start, sent.start):
        return doc[start - 3 : end], label  # "sub-Arctic Canada" is a part of Canada, not Canada
    if start == span.start and start - 2 >= sent.start and doc[start - 1].lower_ == "of":
        org = _entity_at(doc, start - 2, "ORG")
        if org is not None and org.end == start - 1 and _an_institution(org):
            start = org.start  # "The Center for Marine Studies of Santa Cruz"
        elif (named := _a_company_named_after_its_state(doc, start, span.text)) is not None:
            start = named  # "Marlowe Gas Co of Ohio"
        elif doc[start - 2].text in NOBLE_TITLES and doc[start - 2].ent_iob_ in {"O", ""}:
            start -= 2  # "the Duke of Westminster": a person's style, not the town
            if start > sent.start and doc[start - 1].text == "The" and not doc[start - 1].is_sent_start:
                start -= 1  # "a statue of The Duke of Westminster"
            return doc[start:end], "PERSON"
    if (start, end) == (span.start, span.end):
        return span, label
    longer = doc[start:end]
    return longer, head_word_label(longer.text) or "ORG"


#: Company words that, before "of" and a US state or America, make the state part of the company's name.
_COMPANY_OF_A_STATE = frozenset({"Co", "Company"})


def _a_company_named_after_its_state(doc: Doc, start: int, place: str) -> int | None:
    """Where the company begins in "<name> Co of <state>": American utilities, banks and insurers are named
    after the state they serve ("Marlowe Gas Co of Ohio", "Hallam Insurance Co of America"), where another
    company's "of <place>" is where it is. None when the words before "of" are no such name."""
    if not (us_state(place) or place == "America") or doc[start - 2].text not in _COMPANY_OF_A_STATE:
        return None
    org = _entity_at(doc, start - 2, "ORG")
    first = org.start if org is not None else start - 2
    while first > doc[start].sent.start and _free_proper_noun(doc[first - 1]):
        first -= 1
    return first if first < start - 2 else None


#: Lower-case prefixes that, hyphened to an adjective before a place, name a part of it ("sub-Arctic Canada").
_SUB_REGION_PREFIXES = frozenset({"sub"})


def _a_sub_region_prefix(doc: Doc, start: int, floor: int) -> bool:
    """ "sub" "-" "Arctic" right before the place, written as one word."""
    if start - 3 < floor:
        return False
    prefix, hyphen, adjective = doc[start - 3 : start]
    return (
        prefix.lower_ in _SUB_REGION_PREFIXES
        and hyphen.text == "-"
        and not prefix.whitespace_
        and not hyphen.whitespace_
        and adjective.text[:1].isupper()
    )


def an_office_title_before_a_person(span: Span) -> str | None:
    """ "President Hallam", "Finance Minister Rossi", "Sen. Marlowe": the office's title written right before a
    person's name, as written, with the capitalised words that modify it ("Finance"), or None. Evidence of who is
    meant (kg.corpus.link), never part of the name."""
    doc = span.doc
    if span.start == 0:
        return None
    title = doc[span.start - 1]
    if not title.text[:1].isupper() or office_title(title.text) is None:
        return None
    start = title.i
    while start > span.sent.start and start > title.i - 3:
        word = doc[start - 1]
        if not (word.head == title and word.dep_ in {"compound", "amod"} and word.text[:1].isupper()):
            break
        fused = word.ent_type_ == "ORG" and len(_entity_at(doc, word.i, "ORG") or ()) == 1
        if not (word.ent_type_ in {"", "PERSON"} or fused) or not word.is_alpha:
            break  # "U.S. President": the country is a name of its own; "Finance" is the title's (see
            # drop_a_word_of_a_title)
        start -= 1
    return doc[start : title.i + 1].text


def _is_title(token: Token) -> bool:
    return token.text.rstrip(".").casefold() in TITLES


# -- regions named in a list -----------------------------------------------------------------------

#: Plural nouns after a list of names that make each name a region of that kind ("Kings and Queens
#: counties": Kings County and Queens County, not the borough of Queens).
REGION_NOUNS: dict[str, str] = {
    "counties": "County",
    "provinces": "Province",
    "parishes": "Parish",
    "districts": "District",
    "prefectures": "Prefecture",
}
#: The nouns a region's full name ends in after its own name ("Kings County", "Dunmore Province").
REGION_WORDS = frozenset(REGION_NOUNS.values())
_CONJUNCTIONS = frozenset({"and", "or", "&"})


def _name_before(doc: Doc, i: int, floor: int) -> int:
    """The first token of the run of capitalised words that ends at token `i` (i + 1 when there is none)."""
    j = i
    while j >= floor and doc[j].is_alpha and doc[j].text[:1].isupper():
        j -= 1
    return j + 1


def listed_regions(doc: Doc) -> list[tuple[Span, str]]:
    """Each name of a list before a plural region noun, with the region's full name: "Kings, Queens and Richmond
    counties" gives Kings County, Queens County and Richmond County; "Guangdong and Fujian provinces" two
    provinces. Only lists joined by "and" or "or" (a lone "Queens counties" says nothing)."""
    found: list[tuple[Span, str]] = []
    if not _has_a_word(doc, frozenset(REGION_NOUNS)):
        return found
    for noun in doc:
        kind = REGION_NOUNS.get(noun.lower_)
        if kind is None:
            continue
        floor = noun.sent.start
        names: list[Span] = []
        joined = False
        i = noun.i - 1
        while i >= floor:
            start = _name_before(doc, i, floor)
            if start > i:
                break
            names.append(doc[start : i + 1])
            i = start - 1
            if i >= floor and doc[i].lower_ in _CONJUNCTIONS:
                joined = True
                i -= 1
                if i >= floor and doc[i].text == ",":  # the serial comma
                    i -= 1
            elif i >= floor and doc[i].text == ",":
                i -= 1
            else:
                break
        if joined and len(names) >= 2:
            found += [(name, f"{name.text} {kind}") for name in reversed(names)]
    return found


#: A singular region noun after a place's name, and the region's full name it makes ("Tucuman province").
REGION_NOUN: dict[str, str] = {"province": "Province", "county": "County", "prefecture": "Prefecture"}
_REGION_NOUN_WORDS = frozenset(REGION_NOUN)


def a_region_named_with_its_noun(doc: Doc) -> list[tuple[Span, str]]:
    """ "rain in Tucuman province": a place's name and a region noun after it, written small, name the
    region (Tucuman Province, not the city), noun and all. Extraction then gives the name that region wherever
    else the article uses it (`kg.article.extract._one_sense_per_article`)."""
    found: list[tuple[Span, str]] = []
    if not _has_a_word(doc, _REGION_NOUN_WORDS):
        return found
    for noun in doc:
        kind = REGION_NOUN.get(noun.text)
        if kind is None or noun.i == 0:
            continue
        name = _entity_at(doc, noun.i - 1, "GPE") or _entity_at(doc, noun.i - 1, "LOC")
        if name is not None and name.end == noun.i:
            found.append((doc[name.start : noun.i + 1], f"{name.text} {kind}"))
    return found


# -- label rules -----------------------------------------------------------------------------------

#: Prepositions after which a lone capitalised word is a place, not a person ("at Panmunjom").
LOCATIVE_PREPOSITIONS = frozenset(
    ["at", "in", "near", "across", "into", "inside", "outside", "toward", "towards", "within"]
)


def a_lone_word_after_a_locative_preposition_is_a_place(span: Span, label: str) -> str | None:
    """ "at Panmunjom": spaCy's PERSON for a lone word after a locative preposition is a place."""
    if label == "PERSON" and len(span) == 1:
        token = span[0]
        if token.dep_ == "pobj" and token.head.lower_ in LOCATIVE_PREPOSITIONS:
            return "LOC"
    return None


def a_name_listed_with_a_place_after_a_locative_is_a_place(span: Span, label: str) -> str | None:
    """ "in Tarija and Santa Cruz", "sown in Santa Cruz, Tarija and Beni": a name spaCy took for an organisation
    or a person, in a list after a locative preposition that holds a place, is a place like it. Not when its
    head word says an organisation ("in Tarija and the Beni Electric Company")."""
    if label not in {"ORG", "PERSON"} or head_word_label(span.text) is not None:
        return None
    first = span.root
    for _ in range(6):  # up the chain of conjuncts to its first member
        if first.dep_ != "conj" or first.head == first:
            break
        first = first.head
    else:
        return None
    if first.dep_ != "pobj" or first.head.lower_ not in LOCATIVE_PREPOSITIONS:
        return None
    members = [first, *_conjuncts(first)]
    places = [t for t in members if t.ent_type_ in {"GPE", "LOC"} and not (span.start <= t.i < span.end)]
    return "GPE" if len(members) > 1 and places else None


def _conjuncts(token: Token, depth: int = 6) -> list[Token]:
    """The conjuncts hanging from a list's first member ("Beni" and "Tarija" of "Santa Cruz, Tarija and Beni")."""
    out = []
    for child in token.children:
        if child.dep_ == "conj" and depth > 0:
            out += [child, *_conjuncts(child, depth - 1)]
    return out


#: The head word of a name, and the label it gives: an "Army" is an organisation whatever spaCy said,
#: a "Zone" a place. Only words that name one kind of thing in news are here ("Bank" is not: the
#: West Bank; nor "Union": the Soviet Union).
HEAD_WORD_LABELS: dict[str, str] = {
    **dict.fromkeys(
        [
            "Army",
            "Navy",
            "Command",
            "Ministry",
            "Party",
            "Council",
            "Committee",
            "Agency",
            "Department",
            "Commission",
            "Corps",
            "Police",
            "Guard",
            "Court",
            "Parliament",
            "Assembly",
            "University",
            "College",
            "Institute",
            "Foundation",
            "Association",
            "Federation",
            "Company",
            "Corporation",
            "Inc",
            "Ltd",
            "Airlines",
            "Airways",
        ],
        "ORG",
    ),
    **dict.fromkeys(
        [
            "Area",
            "Zone",
            "Line",
            "Border",
            "Peninsula",
            "Valley",
            "Strait",
            "Gulf",
            "Sea",
            "Ocean",
            "River",
            "Mountains",
        ],
        "LOC",
    ),
    **dict.fromkeys(NOBLE_TITLES, "PERSON"),  # "the Duke of Westminster", "the Prince of Monaco": a person's style
    **dict.fromkeys(["Village", "Province", "County", "District", "Region"], "GPE"),
    **dict.fromkeys(["Street", "Avenue", "Square", "Bridge", "Airport"], "FAC"),
}


def head_word(words: list[str]) -> str | None:
    """The last word of a name, before any "of" ("Ministry of Defence" -> Ministry); None for one word."""
    words = [w for w in words if any(c.isalnum() for c in w)]
    if len(words) < 2:
        return None  # a lone "Army" says nothing about which kind spaCy got wrong
    for i, word in enumerate(words):
        if word.lower() == "of" and i > 0:
            words = words[:i]
            break
    return words[-1].rstrip(".")


def head_word_label(name: str) -> str | None:
    """The label a name's head word gives ("Demilitarized Zone" -> LOC), or None."""
    return HEAD_WORD_LABELS.get(head_word(name.split()) or "")


def the_head_word_decides_the_kind(span: Span, label: str) -> str | None:
    """ "Korean People's Army" is an organisation, "Joint Security Area" and "Military Demarcation Line" are
    places: a head word that names one kind of thing outweighs spaCy's label (names of two words or more)."""
    if label not in {"ORG", "GPE", "LOC", "FAC", "PERSON"}:
        return None
    wanted = HEAD_WORD_LABELS.get(head_word([t.text for t in span]) or "")
    if wanted is None or wanted == label:
        return None
    if label in {"GPE", "LOC", "FAC"} and wanted in {"GPE", "LOC", "FAC"}:
        return None  # the place's category: spaCy's is as good as ours
    return wanted


#: Words that make a sentence or an article a sports report.
SPORTS_WORDS = frozenset(
    [
        "match",
        "matches",
        "game",
        "games",
        "tournament",
        "league",
        "cup",
        "championship",
        "championships",
        "season",
        "coach",
        "coaches",
        "squad",
        "rugby",
        "football",
        "soccer",
        "cricket",
        "tennis",
        "hockey",
        "basketball",
        "baseball",
        "stadium",
        "fixture",
        "kick-off",
        "innings",
        "wicket",
        "goal",
        "goals",
        "try",
        "tries",
        "striker",
        "quarterback",
        "touchdown",
        "scrum-half",
        "fly-half",
        "flanker",
        "midfielder",
        "goalkeeper",
        "hat-trick",
        "hattrick",
    ]
)
#: Verbs whose subject or object in a sports report is a team ("Portugal beat Norway").
MATCH_VERBS = frozenset(
    [
        "beat",
        "defeat",
        "win",
        "lose",
        "draw",
        "play",
        "face",
        "meet",
        "host",
        "edge",
        "thrash",
        "rout",
        "ease",
        "hammer",
        "crush",
        "stun",
        "upset",
        "overcome",
        "trail",
        "outplay",
        "outscore",
        "eliminate",
        "knock",
    ]
)
#: Nouns a team name modifies ("the England coach", "Portugal great Luis Figo", "the Iowa game").
TEAM_NOUNS = frozenset(
    [
        "team",
        "squad",
        "side",
        "coach",
        "captain",
        "manager",
        "skipper",
        "player",
        "players",
        "striker",
        "defender",
        "midfielder",
        "goalkeeper",
        "forward",
        "winger",
        "fly-half",
        "flanker",
        "quarterback",
        "great",
        "international",
        "fans",
        "supporters",
        "game",
        "match",
        "fixture",
        "clash",
        "victory",
        "win",
        "defeat",
    ]
)
_AGAINST = frozenset({"against", "versus", "vs", "vs.", "v", "v."})


def _a_sports_word(token: Token) -> bool:
    return token.lower_ in SPORTS_WORDS or token.lemma_.lower() in SPORTS_WORDS  # "strikers", "coaches"


def _sports_words(doc: Doc) -> int:
    count = doc.user_data.get("kg_sports_words")
    if count is None:
        count = doc.user_data["kg_sports_words"] = sum(1 for t in doc if _a_sports_word(t))
    return count


def _a_sports_sentence(sent: Span) -> bool:
    """Whether the sentence has a sports word, found once per sentence (each name in it asks)."""
    found = sent.doc.user_data.setdefault("kg_sports_sentences", {})
    if sent.start not in found:
        found[sent.start] = any(_a_sports_word(t) for t in sent)
    return found[sent.start]


def _has_a_word(doc: Doc, lowered: frozenset[str]) -> bool:
    """Whether any token's lower case is one of the words: one pass over the doc's array, not its tokens."""
    strings = doc.vocab.strings
    wanted = [strings[w] for w in lowered if w in strings]
    return bool(wanted) and bool(numpy.isin(doc.to_array("LOWER"), wanted).any())


def _plays(token: Token) -> bool:
    """The token stands where a team stands in a match: subject or object of a match verb, after
    "against"/"versus", or modifying a team noun."""
    head = token.head
    if token.dep_ in {"nsubj", "dobj", "nsubjpass"} and head.lemma_.lower() in MATCH_VERBS:
        return True
    if token.dep_ == "pobj" and head.lower_ in _AGAINST:
        return True
    if token.dep_ == "pobj" and head.lower_ == "for" and head.head.lemma_.lower() in {"play", "sign"}:
        return True  # "Diallo plays for Bremen", "signed for Porto"
    return token.dep_ in {"compound", "nmod", "poss", "npadvmod"} and head.lower_ in TEAM_NOUNS


def _followed_by_a_team_word(span: Span) -> bool:
    """ "Portugal great Luis Figo", "the Iowa versus Kansas State game": the word right after the
    name is a team noun or "versus", whatever the parse made of it (the small model often attaches the
    name to the person or the game instead)."""
    doc = span.doc
    return span.end < len(doc) and (doc[span.end].lower_ in TEAM_NOUNS or doc[span.end].lower_ in _AGAINST)


def a_place_that_plays_a_match_is_a_team(span: Span, label: str) -> str | None:
    """In a sports report, a country or city that beats, faces or plays is its team, an organisation:
    "Portugal beat Norway", "Portugal and Uruguay have met", "the Iowa versus Kansas State game". spaCy's
    ORG for such a name ("Norway") is marked a team too, so that it never links to the place."""
    if label not in {"GPE", "LOC", "ORG"}:
        return None
    root = span.root
    sporty = _sports_words(span.doc) >= 3 or _a_sports_sentence(span.sent)
    if not sporty:
        return None
    if _followed_by_a_team_word(span):
        return TEAM
    if label == "ORG" and len(span) > 1:
        # spaCy's organisation of several words may be a player ("Marla Quillon won"): only "versus" and
        # "against" say it is a team ("the Iowa versus Kansas State game")
        before = span.doc[span.start - 1] if span.start > 0 else None
        return TEAM if before is not None and before.lower_ in _AGAINST else None
    chain = [root]
    while chain[-1].dep_ == "conj" and chain[-1].head not in chain and len(chain) < 6:
        chain.append(chain[-1].head)  # "Portugal and Uruguay have met": Uruguay is Portugal's conjunct
    return TEAM if any(_plays(t) for t in chain) else None


def a_nationality_word_refers_to_its_country(span: Span, label: str) -> str | None:
    """ "Russian officials", "Iraqis": a nationality word in the demonym table stands for its country. Not
    inside a longer name ("French Open", "the New Zealander Hotel"): a capitalised word just before it,
    inside a sentence, says the name goes on."""
    if label != "NORP" or country_of(span.text) is None:
        return None
    if span.start > 0:
        before = span.doc[span.start - 1]
        if before.text[:1].isupper() and not before.is_sent_start and not _after_a_line_break(before):
            return None
    return DEMONYM


def a_name_after_a_town_and_a_comma_is_its_region(span: Span, label: str) -> str | None:
    """ "Provo, UT", "Eugene, Ore.", "Trenton, N.J.": an abbreviation right after a place and a comma is the
    place's state or country, whatever spaCy called it ("TX" an organisation). Only abbreviations (capitals,
    or a dot): "Provo, Acme Corp said" names a company."""
    if label in {"GPE", "LOC"} or label not in {"ORG", "PERSON", "NORP", "FAC"} or len(span) != 1:
        return None
    text = span[0].text
    short = (text.isupper() and 2 <= len(text) <= 3) or (text.endswith(".") and text[:1].isupper())
    if not (short or state_of(text, after_a_place=True)):  # "Dunmore, Tenn": a state's abbreviation
        return None
    doc = span.doc
    if span.start < 2 or doc[span.start - 1].text != ",":
        return None
    before = doc[span.start - 2]
    if before.ent_type_ != "GPE":
        return None
    after = doc[span.end] if span.end < len(doc) else None
    if after is not None and after.text[:1].isupper():
        return None  # "Provo, UT Energy Corp": a longer name goes on
    return "GPE"


#: Words after a place's name and a hyphen that say where something is ("Miami-based", "UK-born"): the name is
#: then a mention of the place as in "based in Miami", not a modifier.
_WHERE_WORDS = frozenset({"based", "born", "headquartered", "registered", "listed"})

#: Nouns of a broadcaster that a capital's name goes before in wire news ("Baghdad radio", "Kabul television"): the
#: station, of which the place's name is a modifier.
BROADCAST_NOUNS = frozenset({"radio", "television", "tv"})

#: Dependencies by which a name modifies the noun after it ("U.S. officials", "Baghdad radio").
_MODIFYING = frozenset({"compound", "nmod", "amod", "npadvmod"})
#: Nouns that say what kind of place the name before them is ("the Hauptbahnhof train station", "Tucuman
#: province", "the Spree river"): the name is the place itself there, not a modifier.
PLACE_CLASS_NOUNS = frozenset(
    {
        "station",
        "airport",
        "port",
        "harbour",
        "harbor",
        "river",
        "lake",
        "sea",
        "bay",
        "island",
        "islands",
        "mountain",
        "mountains",
        "valley",
        "region",
        "province",
        "county",
        "state",
        "district",
        "city",
        "town",
        "village",
        "area",
        "border",
        "square",
        "street",
        "bridge",
        "stadium",
        "hotel",
    }
)


def a_place_name_that_modifies_a_noun_is_a_modifier(span: Span, label: str) -> str | None:
    """ "U.S. officials", "the Texas courts", "UK-made": a place's name before a common noun (or a hyphen
    and a lower-case word) says the noun's origin, as "American officials" does, and is recorded as a
    modifier mention of the place, so analysts can tell "the U.S. economy" from "troops in the U.S." and
    leave such mentions out. A capitalised word after it ("U.S. District Court") says a longer name
    goes on instead."""
    if label not in {"GPE", "LOC"}:
        return None
    doc = span.doc
    if span.end >= len(doc):
        return None
    after = doc[span.end]
    if after.text in {"-", "‐"} and span.end + 1 < len(doc) and doc[span.end + 1].text[:1].islower():
        if doc[span.end + 1].lower_ in _WHERE_WORDS:
            return None  # "a Miami-based firm" says where the firm is, as "a firm based in Miami" does
        return MODIFIER if not after.whitespace_ and not span[-1].whitespace_ else None
    if after.lower_ in BROADCAST_NOUNS and after.text[:1].islower():
        return MODIFIER  # "told Baghdad radio", whatever the parse made of it (the small model often a dative)
    if _shares_the_plural_name_after_it(span):
        return MODIFIER  # "the Oslo and Paris Stock Exchanges": the first exchange's name, cut short
    root = span.root
    head = root.head
    if root.dep_ not in _MODIFYING or head.i < span.end or head.i - span.end > 3:
        return None
    if head.lower_ in TITLES:  # "the U.S. Ambassador to Japan", "the U.S. Commerce Secretary": an office
        return MODIFIER if all(_modifies_the_office(t, head) for t in doc[span.end : head.i]) else None
    between = doc[span.end : head.i + 1]  # "U.S. steel industry": lower-case words up to the noun
    if not all(_a_modifying_word(t, root) for t in between):
        return None
    return None if head.lower_ in PLACE_CLASS_NOUNS else MODIFIER


def _shares_the_plural_name_after_it(span: Span) -> bool:
    """ "Oslo and Paris Stock Exchanges": the place, "and" or "or", then an organisation's name of several words
    ending in a plural, which the place's name shares (the Oslo Stock Exchange). The place is no place mention."""
    doc = span.doc
    if span.end + 1 >= len(doc) or doc[span.end].lower_ not in {"and", "or"}:
        return False
    org = _entity_at(doc, span.end + 1, "ORG")
    return org is not None and org.start == span.end + 1 and len(org) >= 2 and org[-1].tag_ in {"NNS", "NNPS"}


def _a_modifying_word(token: Token, root: Token) -> bool:
    """A lower-case word on the way to the modified noun, or a name coordinated with the place's ("U.S. and British
    diplomats")."""
    if token.text[:1].islower() and token.is_alpha:
        return True
    return token.head == root and token.dep_ == "conj" and token.ent_type_ in {"NORP", "GPE"}


def _modifies_the_office(token: Token, office: Token) -> bool:
    """A word of an office's title between the place and the title word ("Commerce" in "U.S. Commerce Secretary")."""
    return token.head == office and token.dep_ == "compound" and not token.ent_type_


LABEL_RULES: tuple[LabelRule, ...] = (
    a_lone_word_after_a_locative_preposition_is_a_place,
    a_name_after_a_town_and_a_comma_is_its_region,
    the_head_word_decides_the_kind,
    a_name_listed_with_a_place_after_a_locative_is_a_place,
    a_place_that_plays_a_match_is_a_team,
    a_nationality_word_refers_to_its_country,
    a_place_name_that_modifies_a_noun_is_a_modifier,
)


def apply_label_rules(span: Span, label: str, rules: tuple[LabelRule, ...] = LABEL_RULES) -> str:
    for rule in rules:
        label = rule(span, label) or label
    return label
