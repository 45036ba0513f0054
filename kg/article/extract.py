"""Extraction: spaCy's named entities in one article, cleaned into mentions we can stand behind.

`extract` is a pure function of an article and its parsed body: no store, no corpus, so it can
run in any process. Clean-up rules live here (titles, possessives, credits, headline fragments,
NER type slips); naming what each mention refers to within the article is `resolve`'s job.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING

from ..model import DEMONYM, LABEL_KIND, Candidate, Extraction, Kind
from ..names import COURTESY_TITLES, TITLES, forget_names, is_acronym, long_form_start, words
from ..settings import Settings
from .abbreviations import state_of, us_state
from .demonyms import country_of, is_a_country_name
from .events import Taxonomy, extract_events, load_taxonomy
from .mention_rules import (
    FIRM_WORDS,
    REGION_NOUNS,
    a_committee_goes_on_over_its_subjects,
    a_committees_subjects,
    a_companys_name_goes_on_after_and,
    a_legal_form,
    a_region_named_with_its_noun,
    an_office_title_before_a_person,
    apply_label_rules,
    apply_span_rules,
    head_word_label,
    keep_the_year_of_an_event,
    listed_regions,
    the_longer_name_a_place_begins_or_ends,
)
from .mentions import resolve_article
from .read import Article, is_headline
from .timex import time_expressions

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token


#: Articles per spaCy memory zone with --jobs > 1: each zone starts spaCy's worker processes anew, so
#: zones are long there. On one process each batch is a zone of its own.
ZONE_ARTICLES_PER_WORKER = 500

_CREDIT_LINE = re.compile(
    r"(?i)\b(?:photo|photos|photograph|photographs|image|images|picture|pictures|illustration|composite|credit|"
    r"credits|source|sources|featured image|"
    r"embedded images?)\s*:|/\s*flickr\b|getty images|\bvia\s+getty\b"
)
_CREDIT_SPAN = re.compile(r"/|\s[-–]\s|\||@|https?:|\.com\b|pic\.twitter")
_POSSESSIVE = {"'s", "’s", "'", "’"}
_LEADING_DROP = {"the", "a", "an"}


#: Title-case lines count as headline text among the body's first lines. Further down they are
#: sub-headings and lists of names, whose entities are as real as any, unless they are as short as
#: a page's section labels ("Popular Video", "More From BBC").
HEADLINE_LINES = 3
SECTION_LABEL_WORDS = 3


def _line_zones(text: str, offset: int, title_span: tuple[int, int] | None) -> list[tuple[int, int, str]]:
    """Spans of lines that are headlines ("headline") or photo/source credits ("credit")."""
    zones: list[tuple[int, int, str]] = []
    pos = 0
    seen = 0  # non-blank lines before this one
    for line in text.splitlines(keepends=True):
        begin, end = offset + pos, offset + pos + len(line)
        pos += len(line)
        if _CREDIT_LINE.search(line):
            zones.append((begin, end, "credit"))
        elif (is_headline(line) and (seen < HEADLINE_LINES or len(line.split()) <= SECTION_LABEL_WORDS)) or (
            title_span and begin <= title_span[0] < end
        ):
            zones.append((begin, end, "headline"))
        seen += bool(line.strip())
    return zones


def _zone_of(begin: int, zones: list[tuple[int, int, str]]) -> str | None:
    for zb, ze, kind in zones:
        if zb <= begin < ze:
            return kind
    return None


def _is_title_token(text: str) -> bool:
    return text.rstrip(".").casefold() in TITLES


def _trim(ent: Span) -> Span | None:
    """The entity without leading articles, titles and a trailing possessive or comma; None if nothing is left."""
    start, end = ent.start, ent.end
    doc = ent.doc
    while end > start and (doc[end - 1].text in _POSSESSIVE or doc[end - 1].text == ","):
        end -= 1
    while start < end and doc[start].lower_ in _LEADING_DROP:
        start += 1
    if ent.label_ == "PERSON":
        # "U.S. Col. Chad G. Carroll": everything up to the last title word goes.
        titles = [i for i in range(start, end - 1) if _is_title_token(doc[i].text)]
        if titles:
            start = titles[-1] + 1
            if start < end and doc[start].text == ".":
                start += 1
    if start >= end:
        return None
    return doc[start:end]


#: Words after a comma that end a name rather than begin another ("Acme, Inc.", "Martin Luther King, Jr.").
_NAME_ENDINGS = frozenset(
    {"inc", "inc.", "llc", "ltd", "ltd.", "plc", "corp", "corp.", "co.", "jr", "jr.", "sr", "sr."}
)


def _split_coordination(span: Span, label: str = "") -> list[Span]:
    """ "North and South" names two places, not one; "Zipline, Chatter TV" two organisations and "Quillon, Marlowe"
    two people (spaCy's list taken for one name): a comma inside an organisation's or person's name
    between capitalised words splits it, unless a legal form or "Jr." follows or the commas list a committee's
    subjects."""
    doc = span.doc
    if label in {"ORG", "PERSON"} and any(t.text == "," for t in span) and not a_committees_subjects(span):
        parts: list[list[Token]] = [[]]
        for t in span:
            if t.text == ",":
                parts.append([])
            else:
                parts[-1].append(t)
        names = all(p and p[0].text[:1].isupper() and p[0].lower_ not in _NAME_ENDINGS for p in parts)
        if len(parts) > 1 and names:
            return [piece for p in parts for piece in _split_after_a_legal_form(doc[p[0].i : p[-1].i + 1], label)]
    if label == "ORG":
        return _split_after_a_legal_form(span, label)
    words = [t for t in span if not t.is_punct]
    if len(words) == 3 and words[1].lower_ in {"and", "&"} and words[0].is_title and words[2].is_title:
        directions = {"north", "south", "east", "west"}
        if words[0].lower_ in directions and words[2].lower_ in directions:
            return [doc[words[0].i : words[0].i + 1], doc[words[2].i : words[2].i + 1]]
    return [span]


def _split_after_a_legal_form(span: Span, label: str) -> list[Span]:
    """ "Hale and Co and Dunmore Fleming Inc": a company's name ends at its legal form, so an "and" after one,
    before a capitalised word, begins the next company's name (a firm's word goes on with it: "Hale Co and Sons")."""
    if label != "ORG":
        return [span]
    doc, pieces, start = span.doc, [], span.start
    for t in span[1:-1]:
        after = doc[t.i + 1]
        next_name = after.text[:1].isupper() and after.lower_ not in FIRM_WORDS
        if t.lower_ in {"and", "&"} and a_legal_form(doc[t.i - 1]) and next_name and t.i > start:
            pieces.append(doc[start : t.i])
            start = t.i + 1
    return [*pieces, doc[start : span.end]]


def _is_fragment(span: Span, text: str) -> bool:
    """True when the span is part of a longer word ("AK" of "AK-47", "Coca" of "Coca-Cola"); a name before a
    hyphen and a lower-case word ("Miami-based", "UK-made") is a name, and stays."""
    begin, end = span.start_char, span.end_char
    before = text[begin - 1] if begin > 0 else " "
    after = text[end : end + 2]
    return before.isalnum() or (len(after) == 2 and after[0] in "-‐" and after[1].isalnum() and not after[1].islower())


def _looks_like_a_name(surface: str) -> bool:
    return any(c.isupper() for c in surface) and any(c.isalpha() for c in surface)


def candidates(doc: Doc, article: Article, zones: list[tuple[int, int, str]] | None = None) -> list[Candidate]:
    """Cleaned entity spans of the article's body, with offsets into the whole article text.

    `zones` are the body's headline and credit lines (`_line_zones`), when the caller has them. Besides
    spaCy's entities: each name of a list of regions ("Kings and Queens counties") and a name before a region
    noun ("Tucuman province"), each later use of an acronym the article defines for one of its names ("Acme
    Medical Group, Inc. (AMG)"), and each surname alone of a person it names in full.
    """
    offset = article.body_start
    body = article.text[offset:]  # the doc's text: Doc.text would join it again from every token
    if zones is None:
        zones = _line_zones(body, offset, article.title_span)
    named_regions = a_region_named_with_its_noun(doc)
    regions = listed_regions(doc) + named_regions
    # the listed names and the region noun after them ("Counties", which spaCy may tag on its own)
    in_a_list = {t.i for span, _ in regions for t in span}
    in_a_list |= {t.i for span, _ in regions for t in doc[span.end : span.end + 1] if t.lower_ in REGION_NOUNS}
    kept: list[tuple[Span, str, str, str | None]] = []  # span, the label so far, spaCy's label, name it stands for
    longer: list[tuple[int, int]] = []  # the names a place was found inside ("U.S. District Court")
    for ent in doc.ents:
        ner_label = _label_of(ent)
        if ner_label not in LABEL_KIND or in_a_list.intersection(range(ent.start, ent.end)):
            continue
        trimmed = _trim(ent)
        if trimmed is None or _is_title_token(trimmed[-1].text):
            continue  # a title with no name ("U.S. Col")
        trimmed = apply_span_rules(trimmed)
        if trimmed is not None and ner_label == "ORG":
            trimmed = a_companys_name_goes_on_after_and(trimmed)
            grown = a_committee_goes_on_over_its_subjects(trimmed)
            if grown is not trimmed:
                longer.append((grown.start, grown.end))  # its subjects are no names of their own
                trimmed = grown
        if trimmed is not None and ner_label == "EVENT":
            trimmed = keep_the_year_of_an_event(trimmed)
        if trimmed is not None:
            span, label = the_longer_name_a_place_begins_or_ends(trimmed, ner_label)
            titled = _with_a_courtesy_title(span) if label == "PERSON" else None
            if titled is not None:  # "Mr Shorten" as written, standing for Shorten
                kept.append((titled, label, ner_label, span.text))
                continue
            kept.append((span, label, ner_label, None))
            if span is not trimmed:
                longer.append((span.start, span.end))
    kept += [(span, "GPE", span[0].ent_type_ or "GPE", region) for span, region in regions]
    found: list[Candidate] = []
    for trimmed, label_so_far, ner_label, region in sorted(kept, key=lambda k: k[0].start):
        if any(b <= trimmed.start and trimmed.end <= e and (b, e) != (trimmed.start, trimmed.end) for b, e in longer):
            continue  # "District Court" of "U.S. District Court": a longer name holds it
        for span in _split_coordination(trimmed, ner_label):
            surface = span.text
            if not _looks_like_a_name(surface) or _CREDIT_SPAN.search(surface) or _is_fragment(span, body):
                continue
            begin = offset + span.start_char
            zone = _zone_of(begin, zones)
            if zone == "credit":
                continue
            label = label_so_far if region else apply_label_rules(span, label_so_far)
            country = country_of(surface) if label == DEMONYM else None
            state = None
            if region is None and LABEL_KIND[label] == Kind.PLACE and len(span) == 1:
                state = state_of(surface, after_a_place=_after_a_place_and_a_comma(span))
            title = an_office_title_before_a_person(span) if LABEL_KIND[label] == Kind.PERSON else None
            found.append(
                Candidate(
                    begin=begin,
                    end=offset + span.end_char,
                    text=surface,
                    label=label,
                    ner_label=ner_label,
                    kind=LABEL_KIND[label],
                    sentence=(offset + span.sent.start_char, offset + span.sent.end_char),
                    in_headline=zone == "headline",
                    refers_to=country.name if country is not None else (region or state),
                    title=title,
                )
            )
    found = _one_sense_per_article(found, named_regions)
    found = _places_with_their_regions(found, article.text)
    found += _uses_of_defined_acronyms(doc, found, offset, body, zones)
    return found + _surnames_alone(doc, found, offset, body, zones)


def _places_with_their_regions(found: list[Candidate], text: str) -> list[Candidate]:
    """ "Dunmore, N.C.", "Hale, Ohio", "Nice, France": a town's name, a comma and a US state's or a country's name
    right after it. The second says which of the places of the first name is meant; linking reads it
    (kg.corpus.link). Not in a list of places ("in Paris, London and Oslo", "Chile, Peru and Brazil"), and not
    after a state's or a country's own name."""
    out = list(found)
    ordered = sorted(range(len(found)), key=lambda i: found[i].begin)
    places = [found[i] for i in ordered]
    for n, (a, b) in enumerate(pairwise(ordered)):
        place, after = found[a], found[b]
        if place.kind != Kind.PLACE or after.kind != Kind.PLACE or not _joined_by(text, place, after, {","}):
            continue
        region = _a_region(after)
        if region is None or not _a_town(place):
            continue
        if n > 0 and _a_town(places[n - 1]) and _joined_by(text, places[n - 1], place, {","}):
            continue  # "in Paris, Lyon, France": a list of towns
        if n + 2 < len(places) and _joined_by(text, after, places[n + 2], _LISTING):
            paired = n + 3 < len(places) and _a_town(places[n + 2]) and _a_region(places[n + 3])
            if not (paired and _joined_by(text, places[n + 2], places[n + 3], {","})):
                continue  # "to Oslo, Peru and Chile", "to Oslo, Lima and Quito"; "Hale, Ohio, and Dunmore, Texas" pairs
        out[a] = replace(place, region=region)
    return out


_LISTING = frozenset({",", "and", "or", ", and", ", or"})


def _a_town(c: Candidate) -> bool:
    """A place that is no state or country: not one the tables name, nor one written in capitals ("U.K.")."""
    return c.kind == Kind.PLACE and _a_region(c) is None and not is_acronym(c.refers_to or c.text)


def _a_region(c: Candidate) -> str | None:
    """The plain name of the US state or the country a candidate names, or None."""
    name = c.refers_to or c.text
    return us_state(name) or (name if is_a_country_name(name) else None)


def _joined_by(text: str, first: Candidate, second: Candidate, joints: Iterable[str]) -> bool:
    """Whether what stands between two names, a "the" aside, is one of the joints ("," in "the U.K., the U.S.")."""
    between = " ".join(w for w in text[first.end : second.begin].split() if w.casefold() != "the")
    return between in joints


def _one_sense_per_article(found: list[Candidate], regions: list[tuple[Span, str]]) -> list[Candidate]:
    """ "rain fell in Tucuman province ... the harvest in Tucuman": a name the article once gives
    as a region's ("Tucuman province") is that region wherever else it stands alone in the article,
    whatever spaCy took it for there, as one sense per discourse has it (Gale, Church and Yarowsky 1992)."""
    if not regions:
        return found
    sense = {span[:-1].text: region for span, region in regions}
    return [
        replace(c, refers_to=sense[c.text], label="GPE", kind=Kind.PLACE)
        if c.refers_to is None and c.text in sense
        else c
        for c in found
    ]


def _token_mention(
    token: Token,
    like: tuple[str, str, str],
    offset: int,
    body: str,
    zones: list[tuple[int, int, str]],
    taken: list[tuple[int, int]],
) -> Candidate | None:
    """A one-token mention a rule found where spaCy tagged nothing, with `like`'s label, spaCy label and kind;
    None inside a credit, over another mention or inside a longer word."""
    begin, end = offset + token.idx, offset + token.idx + len(token.text)
    zone = _zone_of(begin, zones)
    if zone == "credit" or any(b < end and begin < e for b, e in taken):
        return None
    if _is_fragment(token.doc[token.i : token.i + 1], body):
        return None
    label, ner_label, kind = like
    sent = token.sent
    return Candidate(
        begin=begin,
        end=end,
        text=token.text,
        label=label,
        ner_label=ner_label,
        kind=kind,
        sentence=(offset + sent.start_char, offset + sent.end_char),
        in_headline=zone == "headline",
    )


def _with_a_courtesy_title(span: Span) -> Span | None:
    """The person's span with the courtesy title written right before it ("Mr" of "Mr Shorten"), or None: the
    mention keeps it as written (benchmarks mark the title with the name); the name it stands for has none."""
    if span.start == 0:
        return None
    title = span.doc[span.start - 1]
    if title.text[:1].isupper() and title.text.rstrip(".").casefold() in COURTESY_TITLES and title.whitespace_:
        return span.doc[span.start - 1 : span.end]
    return None


def _after_a_place_and_a_comma(span: Span) -> bool:
    """ "Dunmore, Tenn": the span follows a place's name and a comma."""
    doc = span.doc
    return span.start >= 2 and doc[span.start - 1].text == "," and doc[span.start - 2].ent_type_ in {"GPE", "LOC"}


def _label_of(ent: Span) -> str:
    """spaCy's label, except that a person's style it took for a work's title ("a statue of The Duke of
    Westminster" as WORK_OF_ART) is a person, as its head word says."""
    if ent.label_ not in LABEL_KIND and head_word_label(ent.text) == "PERSON":
        return "PERSON"
    return ent.label_


def _surnames_alone(
    doc: Doc, found: list[Candidate], offset: int, body: str, zones: list[tuple[int, int, str]]
) -> list[Candidate]:
    """ "Marla Quillon ... Quillon, meanwhile, won": a person's surname alone that spaCy did not tag,
    in an article that names the person in full, is a mention (resolution then joins it to the full name).
    Only a proper noun that modifies nothing ("a Ford truck" stays a truck's maker) and not in a credit."""
    surnames = {  # not of a style ("the Duke of Westminster": Westminster is no surname), nor "Mr Shorten"
        words(c.text)[-1]
        for c in found
        if c.kind == Kind.PERSON and len(words(c.refers_to or c.text)) >= 2 and " of " not in c.text
    }
    taken = [(c.begin, c.end) for c in found]
    extra = []
    for token in doc:
        if token.text not in surnames or token.pos_ != "PROPN" or token.dep_ in {"compound", "amod", "nmod"}:
            continue
        if token.i > 0 and doc[token.i - 1].text[:1].isupper() and not doc[token.i - 1].is_sent_start:
            continue  # "Cub Scout": the end of another name
        found_here = _token_mention(token, ("PERSON", "PERSON", Kind.PERSON), offset, body, zones, taken)
        if found_here is not None:
            extra.append(found_here)
    return extra


_DEFINED = re.compile(r"\s*\(\s*([A-Z][A-Za-z&]{1,9})\s*\)")


def _uses_of_defined_acronyms(
    doc: Doc, found: list[Candidate], offset: int, body: str, zones: list[tuple[int, int, str]]
) -> list[Candidate]:
    """ "The Center for Marine Studies (CMS) ... CMS said": the acronym a name is defined by, wherever spaCy
    did not tag it, is a mention of that name's kind. Only acronyms that spell the name (Schwartz & Hearst's
    letter match, kg.names.long_form_start)."""
    defined: dict[str, Candidate] = {}
    for c in found:
        m = _DEFINED.match(body, c.end - offset)
        if m and not c.in_headline and long_form_start(m.group(1), c.text) is not None:
            defined.setdefault(m.group(1), c)
    taken = [(c.begin, c.end) for c in found]
    extra = []
    for token in doc if defined else ():
        long = defined.get(token.text)
        if long is None:
            continue
        found_here = _token_mention(token, (long.label, long.ner_label, long.kind), offset, body, zones, taken)
        if found_here is not None:
            extra.append(found_here)
    return extra


def extract(doc: Doc, article: Article, taxonomy: Taxonomy | None = None) -> Extraction:
    """Mentions of people, organisations, places, named events and groups in one parsed article,
    its dates resolved against the publication date, and the events it reports.

    `doc` is the article's body, `article.text[article.body_start:]`, parsed. `taxonomy` is the
    event lexicon (kg.article.events.load_taxonomy(); the packaged one when None); kg.article.events.NO_EVENTS
    reads no events.
    """
    offset = article.body_start
    zones = _line_zones(article.text[offset:], offset, article.title_span)  # the doc's text, without rebuilding it
    mentions = resolve_article(candidates(doc, article, zones), article.text)
    credits = [(b, e) for b, e, kind in zones if kind == "credit"]
    times = time_expressions(doc, offset, article.published, skip=credits)
    lexicon = load_taxonomy() if taxonomy is None else taxonomy
    # to events a nationality word is still the group it names ("North Korean soldiers" act), not the country
    as_groups = [replace(m, kind=Kind.GROUP) if m.label == DEMONYM else m for m in mentions]
    events = extract_events(doc, offset, as_groups, times, lexicon, skip=[(b, e) for b, e, _ in zones])
    spans = {m.sentence for m in mentions} | {t.sentence for t in times} | {e.sentence for e in events}
    sentences = tuple(sorted(spans))
    return Extraction(
        digest=article.digest,
        mentions=tuple(mentions),
        sentences=sentences,
        tokens=len(doc),
        times=tuple(times),
        events=tuple(events),
    )


def extract_all(
    nlp: Language,
    articles: Iterable[Article],
    jobs: int = Settings.jobs,
    batch_size: int = Settings.batch_size,
    taxonomy: Taxonomy | None = None,
    batch_chars: int = Settings.batch_chars,
) -> Iterator[tuple[Article, Extraction]]:
    """Parse and extract a stream of articles, in order, on `jobs` processes.

    Articles are parsed inside spaCy memory zones: the strings and lexemes a zone adds to the
    vocabulary are freed when it closes, and so are resolution's memoised name keys, so memory stays
    flat however long the stream. Docs never leave their zone; only the plain-data Extraction does.
    On one process a batch holds at most `batch_size` articles and `batch_chars` characters (a
    longer article is a batch of its own): spaCy's parser needs a few KB per character of the batch
    in flight, so the largest batch, not the size of the corpus, sets the peak memory. `taxonomy` is
    the event lexicon, as for `extract`.
    """
    if jobs == 1:
        zones = text_batches(articles, batch_size, batch_chars)
    else:  # spaCy's workers take batches of `batch_size`; a zone spans many, as each starts the workers anew
        zones = text_batches(articles, ZONE_ARTICLES_PER_WORKER * jobs, sys.maxsize)
    for zone in zones:
        with nlp.memory_zone():
            stream = ((a.text[a.body_start :], a) for a in zone)
            size = len(zone) if jobs == 1 else batch_size
            for doc, article in nlp.pipe(stream, as_tuples=True, n_process=jobs, batch_size=size):
                yield article, extract(doc, article, taxonomy)
        forget_names()  # each memo holds up to 65,536 names: filled over a long stream, tens of MB


def text_batches(articles: Iterable[Article], size: int, chars: int) -> Iterator[list[Article]]:
    """Consecutive articles in batches of at most `size` articles and `chars` characters of body."""
    batch: list[Article] = []
    total = 0
    for article in articles:
        length = len(article.text) - article.body_start
        if batch and (len(batch) >= size or total + length > chars):
            yield batch
            batch, total = [], 0
        batch.append(article)
        total += length
    if batch:
        yield batch


#: Infixes added to an English pipeline's tokenizer: a hyphen between an abbreviation's full stop and a lower-case
#: word splits ("Calif.-based" is "Calif." "-" "based"), as spaCy's own infixes split "Miami-based"; otherwise the
#: place inside is one token with "-based" and no name is found.
EXTRA_INFIXES = (r"(?<=[A-Za-z]\.)-(?=[a-z])",)


def load_pipeline(model: str) -> Language:
    """Load a spaCy pipeline by package name or path (the caller chose which, see settings)."""
    import spacy

    return with_our_tokenizer_rules(spacy.load(model))


def with_our_tokenizer_rules(nlp: Language) -> Language:
    """The pipeline with `EXTRA_INFIXES` added to its English tokenizer's (other languages are left alone)."""
    from spacy.util import compile_infix_regex

    if nlp.lang == "en":
        nlp.tokenizer.infix_finditer = compile_infix_regex((*nlp.Defaults.infixes, *EXTRA_INFIXES)).finditer
    return nlp


def model_description(nlp: Language) -> str:
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')} {meta.get('version', '?')}"
