"""Dates resolved against the publication date: the cases analysts meet in news, and properties that hold for all."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kg.article.timex import FUTURE, PAST, PRESENT, kind_of, resolve, time_expressions
from kg.model import DAY, MONTH, MONTH_DAY, YEAR, Point, TimeValue, point_from_lexical

WEDNESDAY = date(2017, 11, 22)  # the seeds' publication day


def day(y: int, m: int, d: int) -> TimeValue:
    return TimeValue(Point(DAY, y, m, d))


def days(a: date, b: date) -> TimeValue:
    return TimeValue(Point.of_day(a), Point.of_day(b))


@pytest.mark.parametrize(
    ("text", "anchor", "tense", "expected"),
    [
        # the cases, in an article published on Wednesday 2017-11-22
        ("Wednesday", WEDNESDAY, PAST, day(2017, 11, 22)),
        ("on Wednesday", WEDNESDAY, None, day(2017, 11, 22)),
        ("Nov. 13", WEDNESDAY, PAST, day(2017, 11, 13)),
        ("Monday, November 13", WEDNESDAY, PAST, day(2017, 11, 13)),
        ("last week", WEDNESDAY, None, days(date(2017, 11, 13), date(2017, 11, 19))),
        ("1953", WEDNESDAY, None, TimeValue(Point(YEAR, 1953))),
        ("the past three years", WEDNESDAY, PRESENT, days(date(2014, 11, 22), date(2017, 11, 22))),
        ("Thursday", WEDNESDAY, PAST, day(2017, 11, 16)),
        ("Thursday", WEDNESDAY, FUTURE, day(2017, 11, 23)),
        # absolute dates, with and without a weekday
        ("Nov. 13, 2017", WEDNESDAY, None, day(2017, 11, 13)),
        ("November 22, 2017", None, None, day(2017, 11, 22)),
        ("13 November 2017", None, None, day(2017, 11, 13)),
        ("2017-11-13", None, None, day(2017, 11, 13)),
        ("13/11/2017", None, None, day(2017, 11, 13)),
        # other relative expressions
        ("today", WEDNESDAY, None, day(2017, 11, 22)),
        ("yesterday", datetime(2017, 11, 22, 8, 27, tzinfo=UTC), None, day(2017, 11, 21)),
        ("this year", WEDNESDAY, None, TimeValue(Point(YEAR, 2017))),
        ("last month", WEDNESDAY, None, TimeValue(Point(MONTH, 2017, 10))),
        ("the past year", WEDNESDAY, None, days(date(2016, 11, 22), date(2017, 11, 22))),
        ("two weeks ago", WEDNESDAY, None, day(2017, 11, 8)),
        ("last Monday", WEDNESDAY, None, day(2017, 11, 20)),
        ("next Friday", WEDNESDAY, None, day(2017, 11, 24)),
        ("earlier this month", WEDNESDAY, None, days(date(2017, 11, 1), date(2017, 11, 22))),
        # across a year boundary: the year is the one the tense points to
        ("Dec. 28", date(2018, 1, 3), PAST, day(2017, 12, 28)),
        ("Jan. 5", date(2017, 12, 28), FUTURE, day(2018, 1, 5)),
        # a weekday given with the date picks the year in which they agree
        ("Monday, November 13", date(2018, 11, 14), PAST, day(2017, 11, 13)),
        # months, years, ranges, decades
        ("January to August 2017", None, None, TimeValue(Point(MONTH, 2017, 1), Point(MONTH, 2017, 8))),
        ("Nov. 13-15", WEDNESDAY, PAST, days(date(2017, 11, 13), date(2017, 11, 15))),
        ("1950-53", None, None, TimeValue(Point(YEAR, 1950), Point(YEAR, 1953))),
        ("the end of the 1950-53 Korean War", WEDNESDAY, None, TimeValue(Point(YEAR, 1953))),
        ("the 1990s", None, None, TimeValue(Point(YEAR, 1990), Point(YEAR, 1999))),
        ("the third quarter of 2016", None, None, TimeValue(Point(MONTH, 2016, 7), Point(MONTH, 2016, 9))),
        ("November 2017", None, None, TimeValue(Point(MONTH, 2017, 11))),
    ],
)
def test_date_expressions_resolve_to_typed_values(text, anchor, tense, expected):
    assert resolve(text, anchor, tense) == expected


@pytest.mark.parametrize("text", ["Wednesday", "last week", "the past three years", "today", "two weeks ago", "this year"])
def test_an_undated_article_resolves_no_relative_expression(text):
    assert resolve(text, None, PAST) is None


def test_an_undated_article_still_resolves_absolute_dates_and_days_of_a_month():
    assert resolve("1953", None) == TimeValue(Point(YEAR, 1953))
    assert resolve("Nov. 13, 2017", None) == day(2017, 11, 13)
    yearless = resolve("Nov. 13", None, PAST)
    assert yearless == TimeValue(Point(MONTH_DAY, None, 11, 13))
    assert yearless.begin.lexical == "--11-13" and yearless.earliest is None and yearless.month_day == (11, 13)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a few seconds", "duration"),
        ("more than three decades", "duration"),
        ("at least several more days", "duration"),
        ("every Monday", "set"),
        ("05/06/2017", "unresolved"),  # day and month cannot be told apart
        ("Feb. 30", "unresolved"),
        ("the holiday season", "unresolved"),
    ],
)
def test_expressions_that_are_not_positions_in_time_keep_their_text_and_no_value(text, kind):
    value = resolve(text, WEDNESDAY, PAST)
    assert value is None
    assert kind_of(text, value) == kind


def test_dateparser_style_mistakes_are_not_made():
    """Plain dateparser reads "Wednesday" as the coming one, "1953" as a day in 1953 and "last week" as one day."""
    assert resolve("Wednesday", WEDNESDAY, PAST).latest == WEDNESDAY
    assert resolve("1953", WEDNESDAY).begin.granularity == YEAR
    week = resolve("last week", WEDNESDAY)
    assert week.is_interval and (week.earliest.weekday(), week.latest.weekday()) == (0, 6)


ANCHORS = [date(2016, 1, 1) + timedelta(days=n) for n in range(0, 731, 3)]  # two years, leap day included
EXPRESSIONS = [
    "Monday", "Thursday", "Sunday", "last Friday", "next Tuesday", "this Wednesday", "Nov. 13", "Feb. 29",
    "Dec. 31", "Jan. 1", "March", "December", "last week", "this week", "next week", "last weekend", "last month",
    "this month", "last year", "the past three years", "the past 10 days", "two weeks ago", "three months ago",
    "yesterday", "today", "tomorrow", "earlier this year", "later this month", "summer", "last winter",
    "the third quarter", "mid-November", "the '90s",
]  # fmt: skip


@pytest.mark.parametrize("tense", [PAST, PRESENT, FUTURE, None])
def test_every_resolved_value_begins_before_it_ends_and_writes_back_to_itself(tense):
    for anchor in ANCHORS:
        for text in EXPRESSIONS:
            value = resolve(text, anchor, tense)
            if value is None:
                continue
            assert value.earliest <= value.latest, (text, anchor, tense, value)
            for point in (value.begin, value.end):
                if point is not None:
                    assert point_from_lexical(point.lexical, point.granularity) == point


def test_weekdays_and_days_of_a_month_follow_the_tense():
    for anchor in ANCHORS:
        for text in ("Monday", "Thursday", "Saturday", "Nov. 13", "Jan. 1", "March 3"):
            past, future = resolve(text, anchor, PAST), resolve(text, anchor, FUTURE)
            assert past.latest <= anchor <= future.earliest, (text, anchor)
            nearest = resolve(text, anchor, None)
            assert nearest in (past, future)
            if text in ("Monday", "Thursday", "Saturday"):
                assert (anchor - past.earliest).days < 7 and (future.earliest - anchor).days < 7


def test_tense_comes_from_the_dependency_parse(nlp):
    def resolved(sentence: str) -> list[str]:
        doc = nlp(sentence)
        return [str(t.value) for t in time_expressions(doc, 0, WEDNESDAY)]

    assert resolved("The video was released by the United Nations Command on Thursday.") == ["2017-11-16"]
    assert resolved("The two sides will meet again on Thursday.") == ["2017-11-23"]
    assert resolved("Doctors announced on Wednesday that he had regained consciousness.") == ["2017-11-22"]


def test_time_expressions_report_offsets_in_the_article_and_their_sentence(nlp):
    body = "He underwent two operations last week. He is expected to stay for a few days."
    offset = 100
    found = time_expressions(nlp(body), offset, WEDNESDAY)
    week = next(t for t in found if t.text == "last week")
    assert (week.begin, week.end) == (offset + body.index("last week"), offset + body.index("last week") + 9)
    assert week.sentence == (offset, offset + body.index(".") + 1)
    assert week.kind == "interval" and week.anchored
    few = next(t for t in found if "few days" in t.text)
    assert few.value is None and few.kind == "duration"


def test_each_relative_date_rule_is_a_documented_function_that_leaves_other_forms_to_the_next():
    from datetime import date

    from kg.article.timex import NOT_MINE, RELATIVE_RULES

    assert len({rule.__name__ for rule in RELATIVE_RULES}) == len(RELATIVE_RULES)
    for rule in RELATIVE_RULES:
        assert rule.__doc__, rule.__name__
        assert rule("the budget", date(2017, 11, 22), None) is NOT_MINE, rule.__name__


def test_a_relative_rule_that_reads_its_form_but_finds_no_date_stops_the_search():
    from datetime import date

    from kg.article.timex import NOT_MINE, RELATIVE_RULES

    by_name = {rule.__name__: rule for rule in RELATIVE_RULES}
    # "the past 0 years" has the form of "the past three years" but spans no time: None, not NOT_MINE
    assert by_name["_past_n"]("the past 0 years", date(2017, 11, 22), None) is None
    assert by_name["_ago"]("three days ago", date(2017, 11, 22), None) is not NOT_MINE
