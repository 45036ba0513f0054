"""Name rules behind resolution, as plain functions: keys, acronyms, surnames, corpus merging."""

from __future__ import annotations

from kg.article.mentions import resolve_article
from kg.corpus.resolve import resolve_corpus
from kg.model import Candidate, MentionRecord
from kg.names import initials, is_acronym, long_form_start, name_key, person_key
from kg.namespaces import Iris


def cand(text, begin, label="ORG", kind=None):
    kinds = {"ORG": "Organization", "PERSON": "Person", "GPE": "Place", "LOC": "Place", "NORP": "Group"}
    return Candidate(begin, begin + len(text), text, label, label, kind or kinds[label], (0, 1000))


def test_name_keys_ignore_case_the_possessives_and_acronym_dots():
    assert name_key("the United Nations Command") == name_key("United Nations Command")
    assert name_key("North Korea’s") == name_key("North Korea's") == "north korea"
    assert name_key("U.S.") == name_key("US") == "us"
    assert name_key("U.S") == "us" and name_key("N.J") == "nj", "a last stop left out"
    assert name_key("St.Louis") == "st louis", "a word after the stop is no letter of an acronym"
    assert name_key("SEOUL") == "seoul"
    assert person_key("Chad G. Carroll") == person_key("Chad Carroll") == "chad carroll"


def test_acronyms_and_their_definitions():
    assert is_acronym("UNC") and is_acronym("U.N.") and not is_acronym("Seoul") and not is_acronym("A")
    assert initials("United Nations Command") == initials("UN Command") == initials("U.N. Command") == "unc"
    assert long_form_start("UNC", "United Nations Command") == 0
    assert long_form_start("DMZ", "heavily fortified demilitarized zone") == len("heavily fortified ")
    assert long_form_start("KPA", "North Korean People’s Army") == len("North ")
    assert long_form_start("XYZ", "United Nations Command") is None


def test_a_defined_acronym_and_a_surname_resolve_within_the_article():
    text = "The United Nations Command (UNC) said Col. Chad G. Carroll spoke. Carroll said the UNC agreed."
    last_unc = text.rindex("UNC")
    cands = [
        cand("United Nations Command", text.index("United")),
        cand("UNC", text.index("UNC")),
        cand("Chad G. Carroll", text.index("Chad"), "PERSON"),
        cand("Carroll", text.index("Carroll said"), "ORG"),
        cand("UNC", last_unc),
    ]
    names = {(m.text, m.begin): (m.name, m.kind) for m in resolve_article(cands, text)}
    assert names[("UNC", text.index("UNC"))] == names[("UNC", last_unc)] == ("United Nations Command", "Organization")
    carroll = names[("Carroll", text.index("Carroll said"))]
    assert carroll == ("Chad G. Carroll", "Person"), "a surname alone is the person, whatever NER said"


def test_case_matters_for_surnames_un_is_not_kim_jong_un():
    text = "Kim Jong Un said the UN was wrong."
    mentions = resolve_article([cand("Kim Jong Un", 0, "PERSON"), cand("UN", 21)], text)
    assert {m.text: m.name for m in mentions} == {"Kim Jong Un": "Kim Jong Un", "UN": "UN"}


def test_headline_only_entities_are_dropped_but_confirmed_ones_kept():
    head = Candidate(0, 20, "Defection Video Shows", "ORG", "ORG", "Organization", (0, 20), in_headline=True)
    korea_head = Candidate(25, 36, "South Korea", "GPE", "GPE", "Place", (0, 40), in_headline=True)
    korea_body = cand("South Korea", 60, "GPE")
    mentions = resolve_article([head, korea_head, korea_body])
    assert sorted(m.text for m in mentions) == ["South Korea", "South Korea"]


def test_corpus_resolution_merges_variants_and_keeps_distinct_things_apart():
    iris = Iris("https://example.org/")
    records = [
        MentionRecord("a", "a#1", "United Nations Command", "United Nations Command", "Organization", "ORG"),
        MentionRecord("a", "a#2", "UNC", "United Nations Command", "Organization", "ORG"),
        MentionRecord("b", "b#1", "UN Command", "UN Command", "Organization", "ORG"),
        MentionRecord("c", "c#1", "U.N. Command", "U.N. Command", "Organization", "ORG"),
        MentionRecord("d", "d#1", "UNC", "UNC", "Organization", "ORG"),
        MentionRecord("b", "b#2", "Chad Carroll", "Chad Carroll", "Person", "PERSON"),
        MentionRecord("c", "c#2", "Chad G. Carroll", "Chad G. Carroll", "Person", "PERSON"),
        MentionRecord("d", "d#2", "Chad G. Carroll", "Chad G. Carroll", "Person", "PERSON"),
        MentionRecord("d", "d#3", "Lewis Carroll", "Lewis Carroll", "Person", "PERSON"),
        MentionRecord("a", "a#3", "Georgia", "Georgia", "Place", "GPE"),
        MentionRecord("b", "b#3", "Georgia", "Georgia", "Person", "PERSON"),
    ]
    entities = {(e.kind, e.label): e for e in resolve_corpus(records, iris)}
    unc = entities[("Organization", "United Nations Command")]
    assert set(unc.mentions) == {"a#1", "a#2", "b#1", "c#1", "d#1"} and unc.articles == 4
    assert unc.iri == "https://example.org/organization/united-nations-command"
    carroll = entities[("Person", "Chad G. Carroll")]
    assert set(carroll.mentions) == {"b#2", "c#2", "d#2"} and "Chad Carroll" in carroll.alt_labels
    assert ("Person", "Lewis Carroll") in entities
    assert ("Place", "Georgia") in entities and ("Person", "Georgia") in entities, (
        "one word is not enough to merge types"
    )
    # Same input in another order: same entities, same IRIs.
    again = {(e.kind, e.label): e for e in resolve_corpus(reversed(records), iris)}
    assert again == entities


def test_the_long_form_decides_the_kind_over_many_bare_acronyms():
    # a place defined once ("the Military Demarcation Line (MDL)"), then named by its acronym, which
    # spaCy calls an organisation every time: the long form's kind wins
    records = [
        MentionRecord("a", "a#1", "Military Demarcation Line", "Military Demarcation Line", "Place", "LOC"),
        *[MentionRecord("a", f"a#{i}", "MDL", "Military Demarcation Line", "Organization", "ORG") for i in (2, 3)],
        *[MentionRecord(d, f"{d}#{i}", "MDL", "MDL", "Organization", "ORG") for d in "bc" for i in (1, 2)],
    ]
    (line,) = resolve_corpus(records, Iris())
    assert (line.kind, line.label) == ("Place", "Military Demarcation Line")
    assert len(line.mentions) == 7


def test_a_long_form_spacy_found_keeps_its_kind_when_its_acronym_was_missed_there():
    text = "A soldier crossed the Military Demarcation Line (MDL) on foot. Guards fired across the MDL."
    line = cand("Military Demarcation Line", text.index("Military"), "LOC")
    acronym = cand("MDL", text.rindex("MDL"), "ORG")  # spaCy tagged only the later, bare acronym
    mentions = resolve_article([line, acronym], text)
    assert {(m.text, m.kind, m.name) for m in mentions} == {
        ("Military Demarcation Line", "Place", "Military Demarcation Line"),
        ("MDL", "Place", "Military Demarcation Line"),
    }


def test_a_lower_case_long_form_takes_its_kind_from_its_head_word():
    text = "He ran across the demilitarized zone (DMZ) at dawn. The DMZ is guarded."
    acronym = cand("DMZ", text.rindex("DMZ"), "ORG")  # spaCy: an organisation, and no entity for the long form
    mentions = resolve_article([acronym], text)
    assert {(m.text, m.kind, m.name) for m in mentions} == {("DMZ", "Place", "Demilitarized Zone")}


def test_long_forms_defined_by_one_acronym_join_when_one_ends_the_other():
    records = [
        MentionRecord("a", "a#1", "DMZ", "Demilitarized Zone", "Place", "LOC"),
        MentionRecord("b", "b#1", "Korean Demilitarized Zone", "Korean Demilitarized Zone", "Place", "LOC"),
        MentionRecord("b", "b#2", "DMZ", "Korean Demilitarized Zone", "Place", "LOC"),
        MentionRecord("c", "c#1", "DMZ", "DMZ", "Organization", "ORG"),
        MentionRecord("d", "d#1", "Demilitarized Zone", "Demilitarized Zone", "Place", "FAC"),
    ]
    (zone,) = resolve_corpus(records, Iris())
    assert zone.kind == "Place" and len(zone.mentions) == 5


def test_different_long_forms_of_one_acronym_stay_apart():
    records = [
        MentionRecord("a", "a#1", "WHO", "World Health Organization", "Organization", "ORG"),
        MentionRecord("b", "b#1", "WHO", "Western Hockey Organization", "Organization", "ORG"),
    ]
    assert len(resolve_corpus(records, Iris())) == 2


def test_a_surname_spacy_called_an_organisation_joins_the_one_person_of_that_name():
    text = "Gerald Ford died on Tuesday. Ford was president from 1974."
    mentions = resolve_article([cand("Gerald Ford", 0, "PERSON"), cand("Ford", text.index("Ford was"))], text)
    assert {(m.text, m.kind, m.name) for m in mentions} == {
        ("Gerald Ford", "Person", "Gerald Ford"),
        ("Ford", "Person", "Gerald Ford"),
    }


def test_a_surname_stays_an_organisation_when_the_article_names_that_organisation_in_full():
    text = "Gerald Ford drove a car made by Ford Motor Company. Ford said sales rose."
    cands = [
        cand("Gerald Ford", 0, "PERSON"),
        cand("Ford Motor Company", text.index("Ford Motor")),
        cand("Ford", text.index("Ford said")),
    ]
    kinds = {(m.text, m.begin): m.kind for m in resolve_article(cands, text)}
    assert kinds[("Ford", text.index("Ford said"))] == "Organization"


def test_a_surname_tagged_a_place_joins_the_person_unless_it_stands_where_a_place_stands():
    text = "Denzel Washington spoke. Washington said he was glad."
    cands = [cand("Denzel Washington", 0, "PERSON"), cand("Washington", text.index("Washington said"), "GPE")]
    assert {m.kind for m in resolve_article(cands, text)} == {"Person"}
    text = "Denzel Washington spoke. Washington said he was glad to be in Washington again."
    cands = [
        cand("Denzel Washington", 0, "PERSON"),
        cand("Washington", text.index("Washington said"), "GPE"),
        cand("Washington", text.rindex("Washington"), "GPE"),
    ]
    kinds = {m.begin: m.kind for m in resolve_article(cands, text)}
    assert kinds[text.index("Washington said")] == kinds[text.rindex("Washington")] == "Place"


def test_a_short_name_in_capitals_is_not_the_same_word_in_lower_case():
    records = [
        *[MentionRecord(d, f"https://x/article/{d}#char=0,2", "US", "US", "Place", "GPE") for d in "abc"],
        MentionRecord("d", "https://x/article/d#char=0,2", "Us", "Us", "Place", "GPE"),  # Us, the magazine
        MentionRecord("e", "https://x/article/e#char=0,4", "U.S.", "U.S.", "Place", "GPE"),
        MentionRecord("f", "https://x/article/f#char=0,4", "Nato", "Nato", "Organization", "ORG"),
        MentionRecord("g", "https://x/article/g#char=0,4", "NATO", "NATO", "Organization", "ORG"),
    ]
    entities = {e.label: len(e.mentions) for e in resolve_corpus(records, Iris())}
    assert entities == {"US": 4, "Us": 1, "Nato": 2}  # one of each: a tie, and the word form wins it


def test_the_label_is_the_most_frequent_form_as_written_after_any_full_name():
    records = [
        MentionRecord("a", "https://x/article/a#char=0,3", "UNC", "United Nations Command", "Organization", "ORG"),
        MentionRecord("b", "https://x/article/b#char=0,3", "UNC", "UNC", "Organization", "ORG"),
        MentionRecord("c", "https://x/article/c#char=0,3", "UNC", "UNC", "Organization", "ORG"),
    ]
    (command,) = resolve_corpus(records, Iris())
    assert command.label == "United Nations Command"


def test_a_bare_acronym_that_begins_the_one_organisation_of_the_article_is_that_organisation():
    text = "The United Nations Command (UNC) released a video. Guards violated the armistice, the UN said."
    cands = [
        cand("United Nations Command", text.index("United")),
        cand("UNC", text.index("UNC")),
        cand("UN", text.index("UN said")),
    ]
    assert {m.name for m in resolve_article(cands, text)} == {"United Nations Command"}


def test_a_bare_acronym_stays_itself_when_the_article_also_names_its_long_form():
    text = "The United Nations Command met. The United Nations sent aid, the UN said."
    cands = [
        cand("United Nations Command", text.index("United Nations Command")),
        cand("United Nations", text.index("United Nations sent")),
        cand("UN", text.index("UN said")),
    ]
    names = {m.begin: m.name for m in resolve_article(cands, text)}
    assert names[text.index("UN said")] != "United Nations Command"


def test_each_joining_rule_of_an_article_is_a_documented_function_applied_in_a_fixed_order():
    from kg.article.mentions import JOIN_RULES

    names = [rule.__name__ for rule in JOIN_RULES]
    assert names[0] == "_same_name"  # the others look for names already joined
    assert len(set(names)) == len(names) and all(rule.__doc__ for rule in JOIN_RULES)


def test_a_place_that_plays_a_match_once_is_the_team_throughout_the_report():
    cands = [
        cand("Uruguay", 0, "GPE"),
        cand("Uruguay", 100, "GPE"),
        cand("Uruguay", 200, "TEAM", "Organization"),
        cand("Norway", 300, "GPE"),
    ]
    mentions = resolve_article(cands)
    uruguay = [m for m in mentions if m.text == "Uruguay"]
    assert {(m.kind, m.label) for m in uruguay} == {("Organization", "TEAM")}
    assert [(m.kind, m.label) for m in mentions if m.text == "Norway"] == [("Place", "GPE")]


def test_a_person_is_never_made_a_team_by_a_surname_tagged_as_one():
    quillon = Candidate(100, 107, "Quillon", "TEAM", "ORG", "Organization", (0, 1000))  # "Quillon beat them"
    cands = [cand("Marla Quillon", 0, "PERSON"), quillon]
    kinds = {m.kind for m in resolve_article(cands)}
    assert kinds == {"Person"}


def test_full_names_that_differ_by_a_middle_initial_are_one_person_so_the_surname_finds_it():
    cands = [
        cand("Donald J. Trump", 0, "PERSON"),
        cand("Donald Trump", 100, "PERSON"),
        cand("Trump", 200, "ORG"),  # spaCy's organisation for the bare surname
    ]
    names = {m.name for m in resolve_article(cands)}
    assert len(names) == 1 and {m.kind for m in resolve_article(cands)} == {"Person"}


def test_a_county_named_in_a_list_does_not_take_the_towns_name_as_another_name():
    county = Candidate(0, 7, "Kingsby", "GPE", "GPE", "Place", (0, 100), refers_to="Kingsby County")
    (m,) = resolve_article([county])
    iris = Iris("https://data.newskg.example/")
    records = [MentionRecord("a" * 64, f"{iris.article('a' * 64)}#char=0,7", m.text, m.name, m.kind, m.label)]
    (entity,) = resolve_corpus(records, iris)
    assert entity.label == "Kingsby County" and "Kingsby" not in entity.alt_labels


def test_a_bare_national_body_is_one_thing_per_article_and_a_countrys_across_the_corpus():
    iris = Iris("https://data.newskg.example/")
    records = [
        MentionRecord(d, f"{iris.article(d)}#char={b},{b + len(text)}", text, name, "Organization", "ORG")
        for d in ("a" * 64, "b" * 64)
        for b, text, name in ((0, "Navy", "Navy"), (20, "the Navy", "Navy"), (40, "Veldonian Navy", "Veldonian Navy"))
    ]
    entities = resolve_corpus(records, iris)
    navies = [len(e.mentions) for e in entities if e.label == "Navy"]
    assert navies == [2, 2], "each article's navy is its own country's: the link stage says whose"
    assert [len(e.mentions) for e in entities if e.label == "Veldonian Navy"] == [2], "a country's is one"


def test_a_companys_first_word_alone_is_its_short_name():
    text = "Marlowe Bank of Canada said profit rose. Marlowe added that its Toronto unit grew."
    cands = [cand("Marlowe Bank of Canada", 0), cand("Marlowe", text.index("Marlowe added"))]
    assert {(m.text, m.name) for m in resolve_article(cands, text)} == {
        ("Marlowe Bank of Canada", "Marlowe Bank of Canada"),
        ("Marlowe", "Marlowe Bank of Canada"),
    }


def test_each_name_a_company_is_named_after_alone_is_its_short_name():
    text = "Hallam Dunmore Inc, the result of a merger of Hallam and Dunmore, rose."
    cands = [
        cand("Hallam Dunmore Inc", 0),
        cand("Hallam", text.index("Hallam and")),
        cand("Dunmore", text.index("Dunmore,")),
    ]
    assert {m.name for m in resolve_article(cands, text)} == {"Hallam Dunmore Inc"}


def test_a_word_after_the_company_word_alone_is_no_short_name():
    text = "Marlowe Bank of Veldonia said profit rose. Veldonia added a tax."
    cands = [cand("Marlowe Bank of Veldonia", 0), cand("Veldonia", text.index("Veldonia added"))]
    short = next(m for m in resolve_article(cands, text) if m.text == "Veldonia")
    assert short.name == "Veldonia", "the bank is named after the country, not the country after the bank"


def test_a_first_word_of_two_names_or_of_no_company_is_no_short_name():
    text = "Marlowe Textiles Inc and Marlowe Foods Corp met. Marlowe said so."
    cands = [
        cand("Marlowe Textiles Inc", 0),
        cand("Marlowe Foods Corp", text.index("Marlowe Foods")),
        cand("Marlowe", text.index("Marlowe said")),
    ]
    short = next(m for m in resolve_article(cands, text) if m.text == "Marlowe")
    assert short.name == "Marlowe", "two companies begin with it: which one is not said"
    text = "The Marlowe Festival opened. Marlowe said so."
    cands = [cand("Marlowe Festival", text.index("Marlowe")), cand("Marlowe", text.index("Marlowe said"))]
    short = next(m for m in resolve_article(cands, text) if m.text == "Marlowe")
    assert short.name == "Marlowe", "a festival is no company"


def test_a_persons_entity_gathers_the_offices_titles_written_before_its_mentions():
    iris = Iris("https://example.org/")
    records = [
        MentionRecord("a", "a#1", "Hallam", "Hallam", "Person", "PERSON", "President"),
        MentionRecord("a", "a#2", "Hallam", "Hallam", "Person", "PERSON"),
        MentionRecord("b", "b#1", "Hallam", "Hallam", "Person", "PERSON", "Finance Minister"),
        MentionRecord("b", "b#2", "Hallam", "Hallam", "Person", "PERSON", "President"),
        MentionRecord("c", "c#1", "Marlowe", "Marlowe", "Organization", "ORG", "President"),
    ]
    entities = {e.label: e for e in resolve_corpus(records, iris)}
    assert entities["Hallam"].titles == ("Finance Minister", "President"), "each title once, sorted"
    assert entities["Marlowe"].titles == (), "a title is a person's"


def test_an_offices_title_before_a_persons_name_is_recorded_on_its_mention_not_in_its_name():
    person = Candidate(10, 16, "Hallam", "PERSON", "PERSON", "Person", (0, 100), title="President")
    org = Candidate(30, 37, "Marlowe", "ORG", "ORG", "Organization", (0, 100), title="President")
    hallam, marlowe = resolve_article([person, org])
    assert (hallam.name, hallam.title) == ("Hallam", "President")
    assert marlowe.title is None, "only a person's mention keeps a title"


def test_a_places_entity_gathers_the_regions_written_after_its_mentions():
    iris = Iris("https://example.org/")
    records = [
        MentionRecord("a", "a#1", "Dunmore", "Dunmore", "Place", "GPE", region="Ohio"),
        MentionRecord("b", "b#1", "Dunmore", "Dunmore", "Place", "GPE"),
        MentionRecord("c", "c#1", "Hale", "Hale", "Person", "PERSON", region="Ohio"),
    ]
    entities = {e.label: e for e in resolve_corpus(records, iris)}
    assert entities["Dunmore"].regions == ("Ohio",)
    assert entities["Hale"].regions == (), "a region is a place's"
