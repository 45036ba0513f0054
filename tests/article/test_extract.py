"""Extraction of an article depends on its text and metadata only, not on how articles are batched."""

from __future__ import annotations

import pytest
from conftest import SEEDS

from kg.article.events import taxonomy_for
from kg.article.extract import extract_all, text_batches
from kg.article.read import Article, read_articles
from kg.model import Kind
from kg.names import clean_name, name_key, person_key, words


def seeds() -> list[Article]:
    return [a for a in read_articles([SEEDS]) if isinstance(a, Article)]


def test_batches_stop_at_their_article_count_or_character_budget():
    articles = seeds()
    bodies = [len(a.text) - a.body_start for a in articles]
    assert [len(b) for b in text_batches(articles, 2, 10**9)] == [2, 2, 1]
    assert [len(b) for b in text_batches(articles, 32, 1)] == [1] * 5  # a longer article goes alone
    budget = bodies[0] + bodies[1]
    first = next(text_batches(articles, 32, budget))
    assert [a.digest for a in first] == [a.digest for a in articles[:2]]
    assert [a for b in text_batches(articles, 3, budget) for a in b] == articles  # order kept, nothing lost


def test_extraction_is_the_same_whatever_the_batches(nlp):
    taxonomy = taxonomy_for(True, None)
    alone = list(extract_all(nlp, seeds(), taxonomy=taxonomy, batch_chars=1))
    together = list(extract_all(nlp, seeds(), taxonomy=taxonomy, batch_size=32, batch_chars=10**9))
    assert [a.digest for a, _ in alone] == [a.digest for a, _ in together]
    assert [e for _, e in alone] == [e for _, e in together]
    assert sum(len(e.mentions) for _, e in alone) > 100


def test_a_stream_of_articles_leaves_nothing_behind_that_grows_with_it(nlp):
    """What a batch adds to spaCy's vocabulary and to resolution's name memos is let go after it."""
    taxonomy = taxonomy_for(True, None)
    strings = len(nlp.vocab.strings)
    stream = extract_all(nlp, seeds(), taxonomy=taxonomy, batch_chars=1)
    next(stream)
    assert name_key.cache_info().currsize > 0  # the first article's names, while its batch is open
    rest = list(stream)
    assert len(rest) == 4
    assert len(nlp.vocab.strings) == strings
    assert all(memo.cache_info().currsize == 0 for memo in (clean_name, name_key, words, person_key))


@pytest.mark.parametrize(
    ("words", "spaces", "start", "end", "fragment"),
    [
        (["The", "Miami", "-", "based", "firm"], [True, False, False, True, False], 1, 2, False),
        (["A", "UK", "-", "born", "chef"], [True, False, False, True, False], 1, 2, False),
        (["an", "AK", "-", "47"], [True, False, False, False], 1, 2, True),
        (["the", "Coca", "-", "Cola", "plant"], [True, False, False, True, False], 1, 2, True),
    ],
)
def test_a_name_before_a_hyphen_is_a_fragment_only_when_the_word_goes_on(words, spaces, start, end, fragment):
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

    from kg.article.extract import _is_fragment

    doc = Doc(Vocab(), words=words, spaces=spaces)
    assert _is_fragment(doc[start:end], doc.text) is fragment


def test_title_case_lines_are_headlines_only_at_the_top_and_captions_are_credits():
    from kg.article.extract import _line_zones

    body = (
        "Rescue Teams Reach Flooded Village\n"
        "Water rose overnight in the valley, officials said.\n"
        "The army sent boats.\n"
        "Local Volunteers Join Search\n"
        "Maria Lopez And Tom Green Lead Teams\n"
        "Photograph: Jane Doe for the Guardian\n"
        "Popular Video\n"
    )
    kinds = {body[b:e].strip(): kind for b, e, kind in _line_zones(body, 0, None)}
    assert kinds == {
        "Rescue Teams Reach Flooded Village": "headline",
        "Photograph: Jane Doe for the Guardian": "credit",
        "Popular Video": "headline",  # a page's section label, however far down
    }


def _doc_with_entities(words: list[str], spaces: list[bool], ents: list[tuple[int, int, str]]):
    import spacy
    from spacy.tokens import Doc, Span

    doc = Doc(spacy.blank("en").vocab, words=words, spaces=spaces, sent_starts=[True] + [False] * (len(words) - 1))
    doc.ents = [Span(doc, b, e, label=label) for b, e, label in ents]
    return doc


def test_every_later_use_of_an_acronym_the_article_defines_is_a_mention_of_that_name():
    from kg.article.extract import candidates

    words = ["Valley", "Radiology", "Associates", "(", "VRA", ")", "grew", ";", "VRA", "hired", "staff", "."]
    spaces = [True, True, True, False, False, True, False, True, True, True, False, False]
    doc = _doc_with_entities(words, spaces, [(0, 3, "ORG")])
    found = candidates(doc, Article(text=doc.text, source="t"))
    assert [(c.text, c.kind) for c in found] == [("Valley Radiology Associates", "Organization")] + [
        ("VRA", "Organization")
    ] * 2


def test_a_list_of_counties_gives_a_county_mention_for_each_name_spacy_tagged_or_not():
    from kg.article.extract import candidates

    words = ["serving", "Kings", ",", "Queens", "and", "Little", "Rock", "counties", "."]
    spaces = [True, False, True, True, True, True, True, False, False]
    doc = _doc_with_entities(words, spaces, [(1, 2, "GPE"), (3, 4, "ORG")])
    found = candidates(doc, Article(text=doc.text, source="t"))
    assert [(c.text, c.refers_to, c.kind) for c in found] == [
        ("Kings", "Kings County", "Place"),
        ("Queens", "Queens County", "Place"),
        ("Little Rock", "Little Rock County", "Place"),
    ]


@pytest.mark.parametrize(
    ("words", "label", "parts"),
    [
        (["Zipline", ",", "Chatter", "TV"], "ORG", ["Zipline", "Chatter TV"]),
        (["Quillon", ",", "Marlowe"], "PERSON", ["Quillon", "Marlowe"]),
        (["Acme", "Group", ",", "Inc."], "ORG", ["Acme Group, Inc."]),
        (["Martin", "King", ",", "Jr."], "PERSON", ["Martin King, Jr."]),
        (["Paris", ",", "Texas"], "GPE", ["Paris, Texas"]),
        (["Hallam", ",", "Hale", "and", "Co", "and", "Dunmore", "Inc."], "ORG", ["Hallam", "Hale and Co", "Dunmore Inc."]),
        (["Hale", "Corp", "and", "Dunmore", "Ltd"], "ORG", ["Hale Corp", "Dunmore Ltd"]),
        (["Hale", "Co", "and", "Sons"], "ORG", ["Hale Co and Sons"]),
        (["Hale", "and", "Co", "Inc"], "ORG", ["Hale and Co Inc"]),
        (["Hale", "Corp", "and", "Dunmore"], "GPE", ["Hale Corp and Dunmore"]),
        (["Marlowe", "Committee", "on", "Tolls", ",", "Ferries"], "ORG", ["Marlowe Committee on Tolls, Ferries"]),
    ],
)
def test_a_comma_between_names_or_and_after_a_legal_form_splits_an_organisation_or_a_person_only(
    words, label, parts
):
    import spacy
    from spacy.tokens import Doc

    from kg.article.extract import _split_coordination

    doc = Doc(
        spacy.blank("en").vocab,
        words=words,
        spaces=[i + 1 < len(words) and words[i + 1] != "," for i in range(len(words))],
    )
    assert [s.text for s in _split_coordination(doc[:], label)] == parts


def test_the_region_noun_after_a_list_is_no_place_of_its_own():
    from kg.article.extract import candidates

    words = ["in", "Kings", "and", "Queens", "Counties", "."]
    spaces = [True, True, True, True, False, False]
    doc = _doc_with_entities(words, spaces, [(4, 5, "GPE")])
    assert [c.text for c in candidates(doc, Article(text=doc.text, source="t"))] == ["Kings", "Queens"]


def test_a_name_the_article_gives_as_a_regions_is_that_region_wherever_it_stands_alone():
    from kg.article.extract import candidates

    words = ["Rain", "fell", "in", "Tucuman", "province", ".", "Tucuman", "harvests", "soon", "."]
    spaces = [True, True, True, True, False, True, True, True, False, False]
    doc = _doc_with_entities(words, spaces, [(3, 4, "GPE"), (6, 7, "PERSON")])
    found = candidates(doc, Article(text=doc.text, source="t"))
    assert [(c.text, c.kind, c.refers_to) for c in found] == [
        ("Tucuman province", Kind.PLACE, "Tucuman Province"),
        ("Tucuman", Kind.PLACE, "Tucuman Province"),
    ]


def test_a_title_alone_is_no_name():
    from kg.article.extract import candidates

    doc = _doc_with_entities(["the", "Duchess", "smiled"], [True, True, False], [(1, 2, "ORG")])
    assert candidates(doc, Article(text=doc.text, source="t")) == []


def _parsed(words: list[str], spaces: list[bool], pos: list[str], deps: list[str], ents: list[tuple[int, int, str]]):
    import spacy
    from spacy.tokens import Doc, Span

    n = len(words)
    doc = Doc(
        spacy.blank("en").vocab,
        words=words,
        spaces=spaces,
        pos=pos,
        deps=deps,
        heads=[0] * n,
        sent_starts=[True] + [False] * (n - 1),
    )
    doc.ents = [Span(doc, b, e, label=label) for b, e, label in ents]
    return doc


def test_a_surname_alone_that_spacy_missed_is_a_mention_when_the_article_names_the_person_in_full():
    from kg.article.extract import candidates

    words = ["Marla", "Quillon", "won", ";", "Quillon", "smiled", "near", "a", "Quillon", "statue"]
    pos = ["PROPN", "PROPN", "VERB", "PUNCT", "PROPN", "VERB", "ADP", "DET", "PROPN", "NOUN"]
    deps = ["compound", "nsubj", "ROOT", "punct", "nsubj", "conj", "prep", "det", "compound", "pobj"]
    doc = _parsed(words, [True] * 9 + [False], pos, deps, [(0, 2, "PERSON")])
    found = candidates(doc, Article(text=doc.text, source="t"))
    assert [(c.text, c.begin) for c in found] == [("Marla Quillon", 0), ("Quillon", doc[4].idx)]


def test_a_persons_style_spacy_took_for_a_work_is_a_person_and_lends_no_surname():
    from kg.article.extract import candidates

    words = ["a", "statue", "of", "The", "Duchess", "of", "Strelsau", "in", "Strelsau"]
    pos = ["DET", "NOUN", "ADP", "DET", "PROPN", "ADP", "PROPN", "ADP", "PROPN"]
    deps = ["det", "ROOT", "prep", "det", "pobj", "prep", "pobj", "prep", "pobj"]
    doc = _parsed(words, [True] * 8 + [False], pos, deps, [(3, 7, "WORK_OF_ART")])
    found = candidates(doc, Article(text=doc.text, source="t"))
    assert [(c.text, c.label) for c in found] == [("The Duchess of Strelsau", "PERSON")]


def test_a_surname_that_ends_another_name_is_not_the_person():
    from kg.article.extract import candidates

    words = ["Ann", "Scout", "met", "a", "Girl", "Scout"]
    pos = ["PROPN", "PROPN", "VERB", "DET", "PROPN", "PROPN"]
    deps = ["compound", "nsubj", "ROOT", "det", "compound", "dobj"]
    doc = _parsed(words, [True] * 5 + [False], pos, deps, [(0, 2, "PERSON")])
    assert [c.text for c in candidates(doc, Article(text=doc.text, source="t"))] == ["Ann Scout"]


def test_a_hyphen_after_an_abbreviations_stop_splits_like_any_other():
    import spacy

    from kg.article.extract import with_our_tokenizer_rules

    nlp = with_our_tokenizer_rules(spacy.blank("en"))
    assert [t.text for t in nlp("a Calif.-based firm")] == ["a", "Calif.", "-", "based", "firm"]
    assert [t.text for t in nlp("e.g. a Miami-based firm")] == ["e.g.", "a", "Miami", "-", "based", "firm"]
    assert [t.text for t in spacy.blank("en")("a Calif.-based firm")][1] == "Calif.-based", "spaCy alone does not"


def test_a_persons_mention_keeps_its_courtesy_title_as_written_and_stands_for_the_name_without_it():
    from kg.article.extract import candidates, extract

    words = ["Marla", "Quillon", "spoke", ".", "Mr", "Quillon", "and", "Mrs.", "Vey", "replied", "."]
    spaces = [True, True, False, True, True, True, True, True, True, False, False]
    doc = _doc_with_entities(words, spaces, [(0, 2, "PERSON"), (4, 6, "PERSON"), (8, 9, "PERSON")])
    article = Article(text=doc.text, source="t")
    found = [(c.text, c.refers_to) for c in candidates(doc, article)]
    assert found == [("Marla Quillon", None), ("Mr Quillon", "Quillon"), ("Mrs. Vey", "Vey")]
    names = {m.text: m.name for m in extract(doc, article).mentions}
    assert names["Mr Quillon"] == "Marla Quillon", "the surname finds the person named in full"
    assert names["Mrs. Vey"] == "Vey"


def test_a_persons_mention_records_the_offices_title_written_before_it_with_the_real_model(nlp):
    from kg.article.extract import extract

    text = "Veldonia's President Hallam met Finance Minister Rosa Quillon in the capital on Monday."
    article = Article(text=text, source="t")
    titles = {m.text: m.title for m in extract(nlp(text), article).mentions if m.kind == Kind.PERSON}
    assert titles == {"Hallam": "President", "Rosa Quillon": "Finance Minister"}


def test_a_states_abbreviation_stands_for_the_states_formal_name():
    from kg.article.extract import candidates

    words = ["in", "Dunmore", ",", "Tenn", ",", "and", "a", "Calif.", "-", "based", "rival", ";", "Tenn", "won", "."]
    spaces = [True, False, True, False, True, True, True, False, False, True, False, True, True, False, False]
    ents = [(1, 2, "GPE"), (3, 4, "GPE"), (7, 8, "GPE"), (12, 13, "GPE")]
    doc = _doc_with_entities(words, spaces, ents)
    found = [(c.text, c.refers_to) for c in candidates(doc, Article(text=doc.text, source="t"))]
    assert found == [
        ("Dunmore", None),
        ("Tenn", "State of Tennessee"),
        ("Calif.", "State of California"),
        ("Tenn", None),
    ], "an abbreviation without its stop names the state only after a town and a comma"


def test_a_state_or_country_after_a_place_and_a_comma_is_recorded_as_its_region():
    from kg.article.extract import candidates

    words = ["in", "Dunmore", ",", "Calif.", ";", "in", "Hale", ",", "France", ";", "in", "Oslo", ",", "Peru", "and"]
    words += ["Chile", ";", "in", "Chile", ",", "Peru", "."]
    spaces = [True, False, True, False, True] * 2 + [True, False, True, True, True, False, True, True, False, True]
    spaces += [False, False]
    places = [1, 3, 6, 8, 11, 13, 15, 18, 20]
    doc = _doc_with_entities(words, spaces, [(i, i + 1, "GPE") for i in places])
    found = [(c.text, c.region) for c in candidates(doc, Article(text=doc.text, source="t"))]
    assert found[0] == ("Dunmore", "California"), "a state's abbreviation gives the state's plain name"
    assert found[2] == ("Hale", "France")
    assert found[4] == ("Oslo", None), "a list of places: Peru is not where Oslo is"
    assert found[7] == ("Chile", None), "a country has no region"
    assert all(region is None for _, region in found[1::2])
    pairs = ["in", "Hale", ",", "Ohio", ",", "and", "Dunmore", ",", "N.C.", ",", "it", "said"]
    doc = _doc_with_entities(pairs, [True, False, True, False, True, True, False, True, False, True, True, False], [(1, 2, "GPE"), (3, 4, "GPE"), (6, 7, "GPE"), (8, 9, "GPE")])
    found = [(c.text, c.region) for c in candidates(doc, Article(text=doc.text, source="t"))]
    assert found == [("Hale", "Ohio"), ("Ohio", None), ("Dunmore", "North Carolina"), ("N.C.", None)], "pairs in a list"
    towns = ["to", "Hale", ",", "Peru", "and", "Oslo", "."]
    doc = _doc_with_entities(towns, [True, False, True, True, True, False, False], [(1, 2, "GPE"), (3, 4, "GPE"), (5, 6, "GPE")])
    assert [c.region for c in candidates(doc, Article(text=doc.text, source="t"))] == [None, None, None], "a list"
    abbreviated = ["from", "the", "U.K.", ",", "Norway", ",", "the", "U.S.", "and", "Peru"]
    spaces = [True, True, False, True, False, True, True, True, True, False]
    doc = _doc_with_entities(abbreviated, spaces, [(2, 3, "GPE"), (4, 5, "GPE"), (7, 8, "GPE"), (9, 10, "GPE")])
    found = [c.region for c in candidates(doc, Article(text=doc.text, source="t"))]
    assert found == [None] * 4, "a country written in capitals is no town"


def test_a_name_never_ends_in_a_comma_or_a_possessive():
    import spacy
    from spacy.tokens import Doc, Span

    from kg.article.extract import _trim

    doc = Doc(spacy.blank("en").vocab, words=["the", "Marlowe", "Committee", ",", "Hallam", "'s"])
    assert _trim(Span(doc, 0, 4, label="ORG")).text == "Marlowe Committee"
    assert _trim(Span(doc, 4, 6, label="PERSON")).text == "Hallam"
