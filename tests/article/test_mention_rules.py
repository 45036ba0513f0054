"""Each span and label rule of kg.article.mention_rules on a hand-built spaCy Doc: no model, one rule at a time."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Doc, Span

from kg.article.mention_rules import (
    a_committee_goes_on_over_its_subjects,
    a_committees_subjects,
    a_companys_name_goes_on_after_and,
    a_lone_word_after_a_locative_preposition_is_a_place,
    a_name_after_a_town_and_a_comma_is_its_region,
    a_name_listed_with_a_place_after_a_locative_is_a_place,
    a_nationality_word_refers_to_its_country,
    a_place_name_that_modifies_a_noun_is_a_modifier,
    a_place_that_plays_a_match_is_a_team,
    a_region_named_with_its_noun,
    an_office_title_before_a_person,
    apply_label_rules,
    cut_at_a_line_break,
    drop_a_ticker,
    drop_a_weapon_model,
    drop_a_word_of_a_title,
    drop_joining_words_at_the_end,
    drop_quotes_keep_a_trademark,
    drop_share_buttons,
    keep_a_capitalised_the,
    keep_a_legal_form_after_a_comma,
    keep_the_year_of_an_event,
    listed_regions,
    the_head_word_decides_the_kind,
    the_longer_name_a_place_begins_or_ends,
)
from kg.model import DEMONYM, MODIFIER, TEAM

VOCAB = spacy.blank("en").vocab  # English lexical attributes (lower case, punctuation), no model


def make(
    words: list[str],
    *,
    spaces: list[bool] | None = None,
    heads: list[int] | None = None,
    deps: list[str] | None = None,
    lemmas: list[str] | None = None,
    sent_starts: list[bool] | None = None,
) -> Doc:
    n = len(words)
    return Doc(
        VOCAB,
        words=words,
        spaces=spaces,
        heads=heads if heads is not None else [0] * n,  # one tree: one sentence unless `sent_starts` says more
        deps=deps if deps is not None else ["ROOT"] + ["dep"] * (n - 1),
        lemmas=lemmas if lemmas is not None else [w.lower() for w in words],
        sent_starts=sent_starts if sent_starts is not None else [True] + [False] * (n - 1),
    )


def ent(doc: Doc, start: int, end: int, label: str) -> Span:
    return Span(doc, start, end, label=label)


# -- spans ---------------------------------------------------------------------------------------


def test_a_name_never_runs_over_a_line_break():
    doc = make(["Angela", "Rayner", "\n\n", "Speaking"], spaces=[True, False, False, False])
    assert cut_at_a_line_break(ent(doc, 0, 4, "PERSON")).text == "Angela Rayner"


def test_a_name_ending_in_a_line_break_loses_it():
    doc = make(["on", "Channel", "4", "\n\n"], spaces=[True, True, False, False])
    assert cut_at_a_line_break(ent(doc, 1, 4, "ORG")).text == "Channel 4"


def test_a_name_after_a_line_break_keeps_what_follows_it():
    doc = make(["\n", "Reuters"], spaces=[False, False])
    assert cut_at_a_line_break(ent(doc, 0, 2, "ORG")).text == "Reuters"


def test_a_capitalised_the_inside_a_sentence_belongs_to_the_name():
    doc = make(["Copyright", "2009", "The", "Associated", "Press"])
    assert keep_a_capitalised_the(ent(doc, 3, 5, "ORG")).text == "The Associated Press"


def test_a_the_that_starts_a_sentence_stays_out_of_the_name():
    doc = make(["The", "United", "Nations", "said"])
    assert keep_a_capitalised_the(ent(doc, 1, 3, "ORG")).text == "United Nations"


def test_a_the_on_a_line_with_the_name_alone_belongs_to_the_name():
    words = ["camp", "\n\n", "The", "Daily", "Courier", "\n\n", "Photo"]
    doc = make(words, spaces=[False, False, True, True, False, False, False])
    assert keep_a_capitalised_the(ent(doc, 3, 5, "ORG")).text == "The Daily Courier"
    doc = make(["\n\n", "The", "Courier", "reported", "it"], spaces=[False, True, True, True, False])
    assert (
        keep_a_capitalised_the(ent(doc, 2, 3, "ORG")).text == "Courier"
    )  # a sentence goes on: the capital says nothing


def test_a_name_does_not_end_in_a_joining_word():
    doc = make(["The", "Player", "and", "Coach", "of", "the", "Year"])
    assert drop_joining_words_at_the_end(ent(doc, 1, 5, "ORG")).text == "Player and Coach"
    doc = make(["Marlowe", "Hale", "and", "Co", "and"])
    assert drop_joining_words_at_the_end(ent(doc, 0, 5, "ORG")).text == "Marlowe Hale and Co"
    assert drop_joining_words_at_the_end(ent(doc, 4, 5, "ORG")) is None


def test_a_share_buttons_verb_is_no_name_nor_part_of_one():
    doc = make(["Post", "to", "Zipline", "Post", "to", "Chatter"])
    assert drop_share_buttons(ent(doc, 2, 4, "ORG")).text == "Zipline"
    assert drop_share_buttons(ent(doc, 3, 4, "ORG")) is None
    doc = make(["the", "Washington", "Post", "said"])
    assert drop_share_buttons(ent(doc, 1, 3, "ORG")).text == "Washington Post"


def test_a_stock_ticker_after_a_companys_name_is_no_part_of_it():
    doc = make(["Marlowe", "Inc", "MRL", "said"])
    assert drop_a_ticker(ent(doc, 0, 3, "ORG")).text == "Marlowe Inc"
    doc = make(["NV", "Marlowe", "MRL.AS", "said"])
    assert drop_a_ticker(ent(doc, 0, 3, "ORG")).text == "NV Marlowe"
    doc = make(["Bank", "of", "America", "NA"])
    assert drop_a_ticker(ent(doc, 0, 4, "ORG")).text == "Bank of America NA", "capitals after no legal form stay"


def test_a_ticker_tagged_as_a_name_of_its_own_is_no_name():
    doc = make(["to", "acquire", "Marlowe", "Corp", "UK", ",", "it", "said"])
    assert drop_a_ticker(ent(doc, 4, 5, "GPE")) is None
    doc = make(["shares", "of", "Marlowe", "NV", "MRL.AS", "rose"])
    assert drop_a_ticker(ent(doc, 4, 5, "ORG")) is None
    doc = make(["sold", "in", "the", "UK", "and", "France"])
    assert drop_a_ticker(ent(doc, 3, 4, "GPE")).text == "UK", "capitals after no legal form are a name"
    doc = make(["Marlowe", "Corp", ";", "IBM", "fell"])
    assert drop_a_ticker(ent(doc, 3, 4, "ORG")).text == "IBM", "a ticker follows the legal form straight on"



def test_a_weapon_model_is_not_an_organisation():
    doc = make(["used", "handguns", "and", "AK", "rifles"])
    assert drop_a_weapon_model(doc[3:4]) is None  # as the extractor passes it: trimmed, without a label


def test_a_maker_before_a_weapon_noun_is_kept():
    doc = make(["new", "Boeing", "jets"])
    assert drop_a_weapon_model(ent(doc, 1, 2, "ORG")).text == "Boeing"


# -- labels --------------------------------------------------------------------------------------


def test_a_lone_person_word_after_at_is_a_place():
    doc = make(["shot", "at", "Panmunjom"], heads=[0, 0, 1], deps=["ROOT", "prep", "pobj"])
    assert a_lone_word_after_a_locative_preposition_is_a_place(ent(doc, 2, 3, "PERSON"), "PERSON") == "LOC"


def test_a_name_listed_with_a_place_after_a_locative_is_a_place():
    # rain fell in Tarija , Santa Cruz and Beni
    words = ["rain", "fell", "in", "Tarija", ",", "Santa", "Cruz", "and", "Beni"]
    heads = [1, 1, 1, 2, 3, 6, 3, 6, 6]
    deps = ["nsubj", "ROOT", "prep", "pobj", "punct", "compound", "conj", "cc", "conj"]
    doc = make(words, heads=heads, deps=deps)
    doc.ents = [ent(doc, 3, 4, "GPE"), ent(doc, 5, 7, "ORG"), ent(doc, 8, 9, "PERSON")]
    rule = a_name_listed_with_a_place_after_a_locative_is_a_place
    assert rule(doc[5:7], "ORG") == "GPE"
    assert rule(doc[8:9], "PERSON") == "GPE", "the last of the list, through its neighbour"
    assert rule(doc[3:4], "GPE") is None
    # shares in Acme and Santa Cruz: the first of the list is no place
    other = make(words, heads=heads, deps=deps)
    other.ents = [ent(other, 3, 4, "ORG"), ent(other, 5, 7, "ORG")]
    assert rule(other[5:7], "ORG") is None
    # after "of", not a locative: "the merger of Tarija and Santa Cruz"
    of = make(["merger", "of", "Tarija", "and", "Santa", "Cruz"], heads=[0, 0, 1, 2, 5, 2], deps=["ROOT", "prep", "pobj", "cc", "compound", "conj"])
    of.ents = [ent(of, 2, 3, "GPE"), ent(of, 4, 6, "ORG")]
    assert rule(of[4:6], "ORG") is None
    # it will begin in Santa Cruz and Tarija: the place comes after
    first = make(
        ["begin", "in", "Santa", "Cruz", "and", "Tarija"],
        heads=[0, 0, 3, 1, 3, 3],
        deps=["ROOT", "prep", "compound", "pobj", "cc", "conj"],
    )
    first.ents = [ent(first, 2, 4, "ORG"), ent(first, 5, 6, "GPE")]
    assert rule(first[2:4], "ORG") == "GPE", "the first of the list, a place after it"
    company = make([*words[:5], "Santa", "Company"], heads=[1, 1, 1, 2, 3, 6, 3], deps=deps[:7])
    company.ents = [ent(company, 3, 4, "GPE"), ent(company, 5, 7, "ORG")]
    assert rule(company[5:7], "ORG") is None, "its head word says an organisation"


@pytest.mark.parametrize(
    ("words", "label", "wanted"),
    [
        (["Korean", "People", "'s", "Army"], "GPE", "ORG"),
        (["Joint", "Security", "Area"], "ORG", "LOC"),
        (["Military", "Demarcation", "Line"], "ORG", "LOC"),
        (["Ministry", "of", "Defence"], "GPE", "ORG"),
        (["Demilitarized", "Zone"], "ORG", "LOC"),
        (["Duchess", "of", "Strelsau"], "ORG", "PERSON"),
    ],
)
def test_the_head_word_decides_the_kind(words, label, wanted):
    doc = make(words)
    assert the_head_word_decides_the_kind(ent(doc, 0, len(words), label), label) == wanted


def test_a_head_word_does_not_overrule_a_place_category_or_a_single_word():
    doc = make(["Gaza", "Border"])
    assert the_head_word_decides_the_kind(ent(doc, 0, 2, "GPE"), "GPE") is None
    army = make(["Army"])
    assert the_head_word_decides_the_kind(ent(army, 0, 1, "GPE"), "GPE") is None


def _match_report(sentence: list[str], heads: list[int], deps: list[str], lemmas: list[str]) -> Doc:
    """A sentence after a sports report's opening (three sports words), as one Doc."""
    opening = ["The", "rugby", "match", "in", "the", "league", "cup", "."]
    n = len(opening)
    return make(
        opening + sentence,
        heads=[2, 2, 2, 2, 5, 3, 5, 2] + [h + n for h in heads],
        deps=["det", "compound", "ROOT", "prep", "det", "pobj", "appos", "punct", *deps],
        lemmas=[w.lower() for w in opening] + lemmas,
        sent_starts=[True] + [False] * (n - 1) + [True] + [False] * (len(sentence) - 1),
    )


def test_a_country_that_beats_another_in_a_match_report_is_its_team():
    doc = _match_report(
        ["Portugal", "beat", "Norway", "."],
        [1, 1, 1, 1],
        ["nsubj", "ROOT", "dobj", "punct"],
        ["portugal", "beat", "norway", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 8, 9, "GPE"), "GPE") == TEAM
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 10, 11, "ORG"), "ORG") == TEAM


def test_a_conjunct_of_a_team_is_a_team():
    doc = _match_report(
        ["Portugal", "and", "Uruguay", "met", "."],
        [3, 0, 0, 3, 3],
        ["nsubj", "cc", "conj", "ROOT", "punct"],
        ["portugal", "and", "uruguay", "meet", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 10, 11, "GPE"), "GPE") == TEAM


def test_a_country_before_a_team_word_in_a_match_report_is_its_team_whatever_the_parse():
    # the small model hangs "Portugal" on the person, not on "great"
    doc = _match_report(
        ["by", "Portugal", "great", "Luis", "Figo", "."],
        [0, 4, 4, 4, 0, 0],
        ["ROOT", "nmod", "amod", "compound", "pobj", "punct"],
        ["by", "portugal", "great", "luis", "figo", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 9, 10, "GPE"), "GPE") == TEAM


def test_a_place_versus_another_in_a_sports_sentence_is_a_team():
    doc = make(
        ["during", "the", "Iowa", "versus", "Kansas", "State", "football", "game"],
        heads=[0, 2, 0, 2, 5, 7, 7, 3],
        deps=["ROOT", "det", "pobj", "prep", "compound", "compound", "compound", "pobj"],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 2, 3, "GPE"), "GPE") == TEAM


def test_a_place_before_a_team_word_outside_sport_is_still_the_place():
    doc = make(["the", "Texas", "side", "of", "the", "river"], heads=[2, 2, 2, 2, 5, 3])
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 1, 2, "GPE"), "GPE") is None


def test_a_country_that_beats_another_outside_sport_is_still_the_country():
    doc = make(
        ["China", "beat", "Japan", "to", "the", "deal", "."],
        heads=[1, 1, 1, 1, 5, 3, 1],
        deps=["nsubj", "ROOT", "dobj", "prep", "det", "pobj", "punct"],
        lemmas=["china", "beat", "japan", "to", "the", "deal", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 0, 1, "GPE"), "GPE") is None


def test_a_place_where_a_match_is_played_is_still_a_place():
    doc = _match_report(
        ["They", "played", "in", "Cardiff", "."],
        [1, 1, 1, 2, 1],
        ["nsubj", "ROOT", "prep", "pobj", "punct"],
        ["they", "play", "in", "cardiff", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 11, 12, "GPE"), "GPE") is None


def test_label_rules_run_in_order_each_seeing_the_last_label():
    doc = make(["Korean", "People", "'s", "Army"])
    assert apply_label_rules(ent(doc, 0, 4, "GPE"), "GPE") == "ORG"


def test_a_nationality_word_refers_to_its_country():
    doc = make(["Russian", "officials", "said"])
    assert a_nationality_word_refers_to_its_country(ent(doc, 0, 1, "NORP"), "NORP") == DEMONYM


def test_a_nationality_word_inside_a_longer_name_is_not_its_country():
    doc = make(["a", "Nail", "Polish", "in", "Violet"])
    assert a_nationality_word_refers_to_its_country(ent(doc, 2, 3, "NORP"), "NORP") is None


def test_a_group_word_not_in_the_demonym_table_stays_a_group():
    doc = make(["Muslim", "leaders", "met"])
    assert a_nationality_word_refers_to_its_country(ent(doc, 0, 1, "NORP"), "NORP") is None


# -- modifiers -------------------------------------------------------------------------------------


def test_a_place_name_before_a_common_noun_is_a_modifier_of_it():
    doc = make(["U.S.", "officials", "said"], heads=[1, 2, 2], deps=["compound", "nsubj", "ROOT"])
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 0, 1, "GPE"), "GPE") == MODIFIER


def test_a_place_name_before_an_adjective_and_its_noun_is_a_modifier():
    doc = make(
        ["the", "U.S.", "steel", "industry"], heads=[3, 3, 3, 3], deps=["det", "nmod", "compound", "ROOT"]
    )
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") == MODIFIER


def test_a_place_name_coordinated_with_a_nationality_word_before_a_noun_is_a_modifier():
    doc = make(
        ["U.S.", "and", "British", "diplomats", "met"],
        heads=[3, 0, 0, 4, 4],
        deps=["nmod", "cc", "conj", "nsubj", "ROOT"],
    )
    doc.ents = [ent(doc, 0, 1, "GPE"), ent(doc, 2, 3, "NORP")]
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 0, 1, "GPE"), "GPE") == MODIFIER


def test_a_place_before_and_and_a_plural_organisation_name_is_the_first_of_its_kind_cut_short():
    words = ["the", "Oslo", "and", "Paris", "Stock", "Exchanges", "agreed"]
    tags = ["DT", "NNP", "CC", "NNP", "NNP", "NNPS", "VBD"]
    doc = Doc(VOCAB, words=words, tags=tags, sent_starts=[True] + [False] * 6)
    doc.ents = [ent(doc, 1, 2, "GPE"), ent(doc, 3, 6, "ORG")]
    assert a_place_name_that_modifies_a_noun_is_a_modifier(doc[1:2], "GPE") == MODIFIER
    one = Doc(VOCAB, words=[*words[:5], "Exchange", "agreed"], tags=[*tags[:5], "NNP", "VBD"])
    one.ents = [ent(one, 1, 2, "GPE"), ent(one, 3, 6, "ORG")]
    assert a_place_name_that_modifies_a_noun_is_a_modifier(one[1:2], "GPE") is None, "Oslo and the one exchange"


def test_a_place_name_before_an_office_title_is_a_modifier():
    doc = make(
        ["as", "U.S.", "Ambassador", "to", "Japan"],
        heads=[0, 2, 0, 2, 3],
        deps=["ROOT", "compound", "pobj", "prep", "pobj"],
    )
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") == MODIFIER
    doc = make(
        ["the", "U.S.", "Commerce", "Secretary"], heads=[3, 3, 3, 3], deps=["det", "compound", "compound", "ROOT"]
    )
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") == MODIFIER


def test_a_place_name_before_an_office_of_another_name_is_not_a_modifier():
    doc = make(["the", "U.S.", "Acme", "President"], heads=[3, 3, 3, 3], deps=["det", "compound", "compound", "ROOT"])
    doc.ents = [ent(doc, 1, 2, "GPE"), ent(doc, 2, 3, "ORG")]
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") is None


def test_a_place_name_joined_by_a_hyphen_to_a_lower_case_word_is_a_modifier():
    doc = make(["a", "UK", "-", "made", "car"], spaces=[True, False, False, True, False], heads=[4, 3, 3, 4, 4])
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") == MODIFIER


def test_a_place_name_joined_by_a_hyphen_to_based_says_where_and_is_a_mention_of_the_place():
    doc = make(["a", "Miami", "-", "based", "firm"], spaces=[True, False, False, True, False], heads=[4, 3, 3, 4, 4])
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") is None


def test_a_place_name_before_a_broadcasters_noun_is_a_modifier_whatever_the_parse():
    doc = make(["told", "Marlowe", "radio", "that"], heads=[0, 0, 0, 0], deps=["ROOT", "dative", "dobj", "mark"])
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") == MODIFIER


def test_a_place_name_that_begins_a_longer_name_is_not_a_modifier():
    doc = make(["in", "U.S.", "District", "Court"], heads=[0, 3, 3, 0], deps=["ROOT", "compound", "compound", "pobj"])
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 1, 2, "GPE"), "GPE") is None


def test_a_place_where_something_happens_is_not_a_modifier():
    doc = make(
        ["troops", "in", "the", "U.S.", "."], heads=[0, 0, 3, 1, 0], deps=["ROOT", "prep", "det", "pobj", "punct"]
    )
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 3, 4, "GPE"), "GPE") is None


def test_an_organisation_before_a_noun_is_not_a_place_modifier():
    doc = make(["Apple", "shares", "fell"], heads=[1, 2, 2], deps=["compound", "nsubj", "ROOT"])
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 0, 1, "ORG"), "ORG") is None


# -- a place inside a longer name ------------------------------------------------------------------


def tagged(words: list[str], pos: list[str], ents: list[tuple[int, int, str]], spaces: list[bool] | None = None) -> Doc:
    doc = Doc(VOCAB, words=words, spaces=spaces, pos=pos, sent_starts=[True] + [False] * (len(words) - 1))
    doc.ents = [Span(doc, b, e, label=label) for b, e, label in ents]
    return doc


def longer(doc: Doc, start: int, end: int, label: str = "GPE") -> tuple[str, str]:
    span, new_label = the_longer_name_a_place_begins_or_ends(doc[start:end], label)
    return span.text, new_label


def test_a_place_followed_by_an_organisation_name_is_that_longer_name():
    doc = tagged(["in", "U.S.", "Tax", "Court"], ["ADP", "PROPN", "PROPN", "PROPN"], [(1, 2, "GPE"), (2, 4, "ORG")])
    assert longer(doc, 1, 2) == ("U.S. Tax Court", "ORG")


def test_a_place_followed_by_proper_nouns_no_entity_holds_is_that_longer_name():
    doc = tagged(["the", "Iowa", "State", "recruiter"], ["DET", "PROPN", "PROPN", "NOUN"], [(1, 2, "GPE")])
    assert longer(doc, 1, 2) == ("Iowa State", "ORG")


def test_a_proper_noun_before_a_place_begins_the_longer_name():
    doc = tagged(["in", "Z", "Nevada", "magazine"], ["ADP", "PROPN", "PROPN", "NOUN"], [(2, 3, "GPE")])
    assert longer(doc, 2, 3) == ("Z Nevada", "ORG")


def test_the_longer_names_head_word_gives_its_kind():
    doc = tagged(["in", "Orange", "County"], ["ADP", "PROPN", "PROPN"], [(1, 2, "GPE")])
    assert longer(doc, 1, 2) == ("Orange County", "GPE")


def test_a_possessive_place_begins_a_longer_name_of_two_words_or_more():
    words = ["Denver", "'s", "Best", "Lawyers", "list"]
    spaces = [False, True, True, True, False]
    doc = tagged(words, ["PROPN", "PART", "PROPN", "PROPN", "NOUN"], [(0, 1, "GPE")], spaces)
    assert longer(doc, 0, 1) == ("Denver's Best Lawyers", "ORG")
    one = tagged(["Denver", "'s", "Mayor", "said"], ["PROPN", "PART", "PROPN", "VERB"], [(0, 1, "GPE")], spaces[:4])
    assert longer(one, 0, 1) == ("Denver", "GPE")


def test_a_prefixed_adjective_before_a_place_names_a_part_of_it_not_the_place():
    words = ["in", "sub", "-", "Arctic", "Norway", "today"]
    spaces = [True, False, False, True, True, False]
    doc = tagged(words, ["ADP", "ADJ", "PUNCT", "ADJ", "PROPN", "NOUN"], [(4, 5, "GPE")], spaces)
    assert longer(doc, 4, 5) == ("sub-Arctic Norway", "GPE")
    apart = tagged(words, ["ADP", "ADJ", "PUNCT", "ADJ", "PROPN", "NOUN"], [(4, 5, "GPE")], [True, True, True, True, True, False])
    assert longer(apart, 4, 5) == ("Norway", "GPE"), "a prefix written apart is not part of the name"


def test_a_place_before_a_title_and_a_person_stays_the_place():
    words = ["Texas", "Gov.", "Greg", "Abbott"]
    doc = tagged(words, ["PROPN"] * 4, [(0, 1, "GPE"), (2, 4, "PERSON")])
    assert longer(doc, 0, 1) == ("Texas", "GPE")
    words = ["Britain", "'s", "Prime", "Minister", "Theresa", "May"]
    spaces = [False, True, True, True, True, False]
    doc = tagged(words, ["PROPN", "PART", *["PROPN"] * 4], [(0, 1, "GPE"), (4, 6, "PERSON")], spaces)
    assert longer(doc, 0, 1) == ("Britain", "GPE")


def test_a_place_before_a_name_in_capitals_stays_the_place():
    doc = tagged(
        ["New", "York", "NASDAQ", "traders"], ["PROPN", "PROPN", "PROPN", "NOUN"], [(0, 2, "GPE"), (2, 3, "ORG")]
    )
    assert longer(doc, 0, 2) == ("New York", "GPE")


def test_a_place_at_the_start_of_a_sentence_keeps_its_own_name():
    doc = tagged(["Meanwhile", "Texas", "is", "dry"], ["ADV", "PROPN", "AUX", "ADJ"], [(1, 2, "GPE")])
    assert longer(doc, 1, 2) == ("Texas", "GPE")


# -- a town's region -------------------------------------------------------------------------------


def test_a_short_name_after_a_town_and_a_comma_is_its_region():
    doc = tagged(
        ["located", "in", "Provo", ",", "UT", "."],
        ["VERB", "ADP", "PROPN", "PUNCT", "PROPN", "PUNCT"],
        [(2, 3, "GPE"), (4, 5, "ORG")],
    )
    assert a_name_after_a_town_and_a_comma_is_its_region(doc[4:5], "ORG") == "GPE"
    doc = tagged(
        ["in", "Dunmore", ",", "Tenn", ",", "offices"],
        ["ADP", "PROPN", "PUNCT", "PROPN", "PUNCT", "NOUN"],
        [(1, 2, "GPE"), (3, 4, "ORG")],
    )
    assert a_name_after_a_town_and_a_comma_is_its_region(doc[3:4], "ORG") == "GPE", "a state's abbreviation, stop left out"
    doc = tagged(["in", "Dunmore", ",", "Hale", "said"], ["ADP", "PROPN", "PUNCT", "PROPN", "VERB"], [(1, 2, "GPE"), (3, 4, "PERSON")])
    assert a_name_after_a_town_and_a_comma_is_its_region(doc[3:4], "PERSON") is None, "no abbreviation"


def test_a_name_after_a_town_and_a_comma_that_goes_on_is_left_alone():
    doc = tagged(
        ["In", "Provo", ",", "Acme", "Corp", "said"],
        ["ADP", "PROPN", "PUNCT", "PROPN", "PROPN", "VERB"],
        [(1, 2, "GPE"), (3, 5, "ORG")],
    )
    assert a_name_after_a_town_and_a_comma_is_its_region(doc[3:5], "ORG") is None
    doc = tagged(["Smith", ",", "UT", "."], ["PROPN", "PUNCT", "PROPN", "PUNCT"], [(0, 1, "PERSON"), (2, 3, "ORG")])
    assert a_name_after_a_town_and_a_comma_is_its_region(doc[2:3], "ORG") is None


def test_a_legal_form_after_a_comma_ends_the_company_name():
    doc = make(["Acme", "Medical", "Group", ",", "Inc.", "(", "AMG", ")"])
    assert keep_a_legal_form_after_a_comma(ent(doc, 0, 3, "ORG")).text == "Acme Medical Group , Inc."
    doc = make(["Acme", "Group", ",", "which", "said"])
    assert keep_a_legal_form_after_a_comma(ent(doc, 0, 2, "ORG")).text == "Acme Group"


# -- regions named in a list -----------------------------------------------------------------------


def test_each_name_of_a_list_before_counties_is_a_county():
    words = ["in", "Kings", ",", "Queens", "and", "Little", "Rock", "counties", "."]
    doc = make(words, spaces=[True, False, True, True, True, True, True, False, False])
    assert [(span.text, name) for span, name in listed_regions(doc)] == [
        ("Kings", "Kings County"),
        ("Queens", "Queens County"),
        ("Little Rock", "Little Rock County"),
    ]


def test_a_serial_comma_and_provinces_make_a_list_too():
    doc = make(["Hunan", ",", "and", "Fujian", "provinces"], spaces=[False, True, True, True, False])
    assert [name for _, name in listed_regions(doc)] == ["Hunan Province", "Fujian Province"]


def test_a_place_and_a_region_noun_written_small_name_the_region_noun_and_all():
    doc = make(["rain", "in", "Tucuman", "province", "and", "in", "Salta"])
    doc.ents = [ent(doc, 2, 3, "GPE"), ent(doc, 6, 7, "GPE")]
    assert [(span.text, name) for span, name in a_region_named_with_its_noun(doc)] == [
        ("Tucuman province", "Tucuman Province")
    ]


def test_a_region_noun_after_no_place_names_no_region():
    doc = make(["the", "Tucuman", "Province", "and", "a", "rural", "county"])
    doc.ents = [ent(doc, 1, 3, "GPE")]
    assert a_region_named_with_its_noun(doc) == []


def test_a_lone_name_before_counties_is_no_list():
    doc = make(["the", "Orange", "counties", "vote"])
    assert listed_regions(doc) == []


def test_an_institution_and_of_and_a_place_are_one_name():
    words = ["at", "The", "Center", "for", "Marine", "Studies", "of", "Santa", "Cruz"]
    doc = tagged(words, ["ADP", "DET", *["PROPN"] * 4, "ADP", "PROPN", "PROPN"], [(1, 6, "ORG"), (7, 9, "GPE")])
    assert longer(doc, 7, 9) == ("The Center for Marine Studies of Santa Cruz", "ORG")


def test_a_noble_title_and_of_and_a_place_are_a_persons_style():
    words = ["a", "statue", "of", "The", "Duchess", "of", "Strelsau"]
    doc = tagged(words, ["DET", "NOUN", "ADP", "DET", "PROPN", "ADP", "PROPN"], [(6, 7, "GPE")])
    assert longer(doc, 6, 7) == ("The Duchess of Strelsau", "PERSON")


def test_a_company_and_of_and_a_place_are_the_company_and_where_it_is():
    words = ["Acme", "Cleaning", "Services", "of", "Twin", "Falls"]
    doc = tagged(words, ["PROPN"] * 3 + ["ADP", "PROPN", "PROPN"], [(0, 3, "ORG"), (4, 6, "GPE")])
    assert longer(doc, 4, 6) == ("Twin Falls", "GPE")


def test_a_co_of_a_us_state_or_of_america_is_the_companys_name():
    words = ["Marlowe", "Gas", "Co", "of", "Ohio", "said"]
    doc = tagged(words, ["PROPN"] * 3 + ["ADP", "PROPN", "VERB"], [(4, 5, "GPE")])
    assert longer(doc, 4, 5) == ("Marlowe Gas Co of Ohio", "ORG"), "spaCy saw no company: the words before say it"
    words = ["Hallam", "Insurance", "Co", "of", "America", "said"]
    doc = tagged(words, ["PROPN"] * 3 + ["ADP", "PROPN", "VERB"], [(0, 3, "ORG"), (4, 5, "GPE")])
    assert longer(doc, 4, 5) == ("Hallam Insurance Co of America", "ORG")


def test_a_co_of_a_foreign_place_or_an_inc_of_a_state_is_where_the_company_is():
    words = ["Hallam", "Motor", "Co", "of", "Veldonia", "said"]
    doc = tagged(words, ["PROPN"] * 3 + ["ADP", "PROPN", "VERB"], [(0, 3, "ORG"), (4, 5, "GPE")])
    assert longer(doc, 4, 5) == ("Veldonia", "GPE")
    words = ["Hallam", "Inc", "of", "Ohio", "said"]
    doc = tagged(words, ["PROPN"] * 2 + ["ADP", "PROPN", "VERB"], [(0, 2, "ORG"), (3, 4, "GPE")])
    assert longer(doc, 3, 4) == ("Ohio", "GPE")
    doc = tagged(["the", "Co", "of", "Ohio"], ["DET", "PROPN", "ADP", "PROPN"], [(3, 4, "GPE")])
    assert longer(doc, 3, 4) == ("Ohio", "GPE"), "no name before the company word"


def committee(words: list[str], org: tuple[int, int], more: tuple[tuple[int, int, str], ...] = ()) -> str:
    spaces = [i + 1 < len(words) and words[i + 1] != "," for i in range(len(words))]
    doc = tagged(words, ["PROPN"] * len(words), [(*org, "ORG"), *more], spaces)
    return a_committee_goes_on_over_its_subjects(doc[org[0] : org[1]]).text


def test_a_committee_and_its_subjects_are_one_name():
    words = ["a", "Marlowe", "subcommittee", "on", "Tolls", ",", "Ferries", "and", "Harbour", "Works", "met"]
    assert committee(words, (1, 2), ((4, 5, "ORG"), (6, 7, "ORG"))) == (
        "Marlowe subcommittee on Tolls, Ferries and Harbour Works"
    )
    words = ["the", "Veldonian", "Committee", "on", "Tolls", ",", "Ferries", "and", "Harbour", "Works", "met"]
    assert committee(words, (1, 5)) == "Veldonian Committee on Tolls, Ferries and Harbour Works", "the noun inside"
    words = ["the", "Marlowe", "Committee", "on", "Ways", "and", "Means", "met"]
    assert committee(words, (1, 3)) == "Marlowe Committee on Ways and Means"


def test_a_committees_subjects_end_at_the_first_or_at_the_one_after_and():
    words = ["the", "Marlowe", "committee", "on", "Tolls", ",", "Hallam", "said"]
    assert committee(words, (1, 2)) == "Marlowe committee on Tolls", "no 'and': Hallam is no subject"
    words = ["the", "Marlowe", "committee", "on", "Monday", "met"]
    assert committee(words, (1, 2), ((4, 5, "DATE"),)) == "Marlowe", "no committee deals with a date"
    words = ["the", "Marlowe", "Bank", "on", "Tolls", "Street"]
    assert committee(words, (1, 3)) == "Marlowe Bank", "no committee"


def test_commas_after_a_committees_on_list_its_subjects():
    doc = tagged(["Marlowe", "Committee", "on", "Tolls", ",", "Ferries"], ["PROPN"] * 6, [])
    assert a_committees_subjects(doc[0:6])
    doc = tagged(["Marlowe", ",", "Committee", "on", "Tolls"], ["PROPN"] * 5, [])
    assert not a_committees_subjects(doc[0:5]), "a comma before the committee splits a list of names"


def test_a_capitalised_adjective_continues_a_name_only_after_a_possessive():
    words = ["of", "Denver", "'s", "Best", "Lawyers"]
    spaces = [True, False, True, True, False]
    doc = tagged(words, ["ADP", "PROPN", "PART", "ADJ", "NOUN"], [(1, 2, "GPE")], spaces)
    assert longer(doc, 1, 2) == ("Denver's Best Lawyers", "ORG")
    doc = tagged(["sub", "-", "Saharan", "Africa"], ["ADJ", "PUNCT", "ADJ", "PROPN"], [(3, 4, "LOC")])
    assert longer(doc, 3, 4, "LOC") == ("Africa", "LOC")


def test_a_name_never_begins_or_ends_with_a_quotation_mark():
    doc = make(["of", '"', "Registry", "of", "Excellence", '"'], spaces=[True, False, True, True, False, False])
    assert drop_quotes_keep_a_trademark(ent(doc, 1, 6, "ORG")).text == "Registry of Excellence"


def test_a_trademark_sign_written_onto_a_name_is_part_of_it():
    doc = make(["the", "RapidArc", "™", "system"], spaces=[True, False, True, False])
    assert drop_quotes_keep_a_trademark(ent(doc, 1, 2, "ORG")).text == "RapidArc™"


def test_the_year_before_an_event_is_the_edition_it_names():
    doc = make(["in", "the", "1999", "World", "Cup"])
    assert keep_the_year_of_an_event(ent(doc, 3, 5, "EVENT")).text == "1999 World Cup"
    doc = make(["in", "the", "World", "Cup"])
    assert keep_the_year_of_an_event(ent(doc, 2, 4, "EVENT")).text == "World Cup"


def test_the_year_before_a_one_off_event_may_be_another_things():
    doc = make(["violated", "the", "1953", "Korean", "War", "armistice"])
    assert keep_the_year_of_an_event(ent(doc, 3, 5, "EVENT")).text == "Korean War"


def test_a_word_fused_into_an_office_title_is_no_name():
    doc = make(["acting", "Finance", "Minister", "Paolo", "Rossi"])
    assert drop_a_word_of_a_title(ent(doc, 1, 2, "ORG")) is None
    doc = make(["the", "Finance", "Ministry", "said"])
    assert drop_a_word_of_a_title(ent(doc, 1, 3, "ORG")).text == "Finance Ministry"


def test_an_organisation_of_several_words_in_a_sports_report_is_a_team_only_after_versus():
    doc = _match_report(
        ["Marla", "Quillon", "won", "the", "match", "."],
        [1, 2, 2, 4, 2, 2],
        ["compound", "nsubj", "ROOT", "det", "dobj", "punct"],
        ["marla", "quillon", "win", "the", "match", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 8, 10, "ORG"), "ORG") is None
    doc = make(["the", "Iowa", "versus", "Kansas", "State", "football", "game"])
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 3, 5, "ORG"), "ORG") == TEAM


def test_a_place_a_player_plays_for_is_a_team():
    doc = _match_report(
        ["Diallo", "plays", "for", "Bremen", "."],
        [1, 1, 1, 2, 1],
        ["nsubj", "ROOT", "prep", "pobj", "punct"],
        ["diallo", "play", "for", "bremen", "."],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 11, 12, "GPE"), "GPE") == TEAM


def test_plural_sports_words_make_a_sports_sentence_too():
    doc = make(
        ["Ivo", "and", "Pavel", "are", "strikers", "against", "Dunmore"],
        heads=[3, 0, 0, 3, 3, 4, 5],
        deps=["nsubj", "cc", "conj", "ROOT", "attr", "prep", "pobj"],
        lemmas=["ivo", "and", "pavel", "be", "striker", "against", "dunmore"],
    )
    assert a_place_that_plays_a_match_is_a_team(ent(doc, 6, 7, "GPE"), "GPE") == TEAM


def test_a_place_name_before_the_kind_of_place_it_is_is_the_place_itself():
    doc = make(
        ["near", "the", "Ostbahnhof", "train", "station"],
        heads=[0, 4, 4, 4, 0],
        deps=["ROOT", "det", "compound", "compound", "pobj"],
    )
    assert a_place_name_that_modifies_a_noun_is_a_modifier(ent(doc, 2, 3, "GPE"), "GPE") is None


# -- an office's title before a person's name --------------------------------------------------------


def test_an_offices_title_before_a_persons_name_is_read_with_the_words_that_modify_it():
    # the U.S. Finance Minister Hallam said
    words = ["the", "U.S.", "Finance", "Minister", "Hallam", "said"]
    doc = make(words, heads=[3, 3, 3, 4, 5, 5], deps=["det", "compound", "compound", "compound", "nsubj", "ROOT"])
    doc.ents = [ent(doc, 1, 2, "GPE"), ent(doc, 2, 3, "ORG"), ent(doc, 4, 5, "PERSON")]
    assert an_office_title_before_a_person(doc[4:5]) == "Finance Minister", "the country is a name of its own"
    sen = make(["Sen.", "Marlowe", "voted"], heads=[1, 2, 2], deps=["compound", "nsubj", "ROOT"])
    assert an_office_title_before_a_person(sen[1:2]) == "Sen."


def test_no_office_is_read_from_a_courtesy_title_a_lower_case_word_or_a_job():
    for words in (["Mr", "Hallam"], ["Dr", "Hallam"], ["spokesman", "Hallam"], ["the", "president", "Hallam"]):
        doc = make(words)
        assert an_office_title_before_a_person(doc[len(words) - 1 :]) is None, words
    assert an_office_title_before_a_person(make(["Hallam", "said"])[0:1]) is None


# -- a company's name after "and" ----------------------------------------------------------------------


def company(words: list[str], ents: list[tuple[int, int, str]]) -> Doc:
    doc = make(words)
    doc.ents = [ent(doc, b, e, label) for b, e, label in ents]
    return doc


def test_a_companys_name_goes_on_over_and_to_its_legal_form():
    doc = company(["with", "Marlowe", "Cable", "and", "Radio", "Co", "MCR", "said"], [(1, 3, "ORG")])
    assert a_companys_name_goes_on_after_and(doc[1:3]).text == "Marlowe Cable and Radio Co", "not the ticker"
    firm = company(["Hale", "and", "Co", "Inc", "rose"], [(0, 1, "ORG")])
    assert a_companys_name_goes_on_after_and(firm[0:1]).text == "Hale and Co Inc"


def test_a_company_and_another_name_or_words_without_a_legal_form_stay_apart():
    two = company(["Marlowe", "and", "Dunmore", "Inc", "merged"], [(0, 1, "ORG"), (2, 4, "ORG")])
    assert a_companys_name_goes_on_after_and(two[0:1]).text == "Marlowe", "another company's name"
    plain = company(["Marlowe", "and", "Dunmore", "Bank", "merged"], [(0, 1, "ORG")])
    assert a_companys_name_goes_on_after_and(plain[0:1]).text == "Marlowe", "no legal form ends it"
    lower = company(["Marlowe", "and", "its", "Co", "units"], [(0, 1, "ORG")])
    assert a_companys_name_goes_on_after_and(lower[0:1]).text == "Marlowe"
