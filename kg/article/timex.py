"""Time: DATE and TIME expressions resolved against the article's publication date.

`resolve` is a pure function of an expression's text, the publication date (the anchor, or None
for an undated article) and the tense of the clause it sits in; `time_expressions` finds the
expressions of a parsed article and reads that tense from the dependency parse.

Values are calendar points at the granularity the text gives (a day, a month, a year, a day of a
month whose year is unknown) or intervals between two such points, so "1953" stays a year and
"last week" stays a week (Monday to Sunday). Every resolved value also knows the first and last
day it covers, which is what timelines sort on and merging compares. Without an anchor only
absolute expressions resolve ("Nov. 13, 2017", "1953", and "Nov. 13" as a day of November in an
unknown year); relative ones ("Wednesday", "last week") keep their text and get no value.
Durations ("a few seconds", "more than three decades") and repetitions ("every Monday") are
kept as text too: they are not positions in time.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from ..model import DAY, MONTH, MONTH_DAY, YEAR, Point, TimeExpression, TimeValue
from .read import MONTHS

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

PAST, PRESENT, FUTURE = "past", "present", "future"

#: Granularities of a calendar point, named after the XSD type that writes it.

_MONTHS = MONTHS  # one table of month names, kept where dates are first read
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_UNITS = {
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
    "decade": "decade",
    "decades": "decade",
}

_MONTH = r"(?P<{name}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?P<weekday>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{name}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{name}>1\d{{3}}|2\d{{3}})"
_PART_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night|noon|midday|overnight))?"
_NUMBER = r"(?P<n>\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(r"^" + pattern + r"$")


_ISO_DAY = _rx(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})")
_ISO_MONTH = _rx(r"(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])")
_NUMERIC_DAY = _rx(r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})")
_MONTH_DAY = _rx(
    r"(?:"
    + _WEEKDAY
    + r",?\s+)?"
    + _MONTH.format(name="month")
    + r"\s+"
    + _DAY.format(name="day")
    + r"(?:,?\s+"
    + _YEAR.format(name="year")
    + r")?"
    + _PART_OF_DAY
)
_DAY_MONTH = _rx(
    r"(?:"
    + _WEEKDAY
    + r",?\s+)?(?:the\s+)?"
    + _DAY.format(name="day")
    + r"\s+(?:of\s+)?"
    + _MONTH.format(name="month")
    + r"(?:,?\s+"
    + _YEAR.format(name="year")
    + r")?"
)
_MONTH_YEAR = _rx(
    r"(?:(?P<part>early|mid|late)[\s-]+)?"
    + _MONTH.format(name="month")
    + r"(?:,?\s+(?:of\s+)?"
    + _YEAR.format(name="year")
    + r")?"
)
_YEAR_ONLY = _rx(r"(?:(?P<part>early|mid|late)[\s-]+)?(?:the\s+year\s+)?" + _YEAR.format(name="year"))
_YEAR_RANGE = _rx(_YEAR.format(name="a") + r"\s*[-–—/]\s*(?P<b>\d{2}|\d{4})")
_DECADE = _rx(r"(?:the\s+)?(?:(?P<part>early|mid|late)[\s-]+)?(?P<century>1\d|2\d)?(?P<decade>\d)0'?s")
_SHORT_DECADE = _rx(r"(?:the\s+)?'(?P<decade>\d)0s")
_CENTURY = _rx(r"(?:the\s+)?(?P<n>\d{1,2})(?:st|nd|rd|th)\s+century")
_QUARTER = _rx(
    r"(?:the\s+)?(?P<q>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+of)?(?:\s+"
    + _YEAR.format(name="year")
    + r")?"
)
_Q_QUARTER = _rx(r"q(?P<q>[1-4])\s+" + _YEAR.format(name="year"))
_SEASON = _rx(
    r"(?:(?P<rel>this|last|next|past)\s+)?(?P<season>spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?"
    + _YEAR.format(name="year")
    + r")?"
)
_RANGE = re.compile(
    r"^(?:from\s+|between\s+)?(?P<left>.+?)\s*(?:\bto\b|\bthrough\b|\bthru\b|\buntil\b|\band\b|–|—|-)\s*(?P<right>.+)$"
)
_BOUNDARY = _rx(r"(?:the\s+)?(?P<which>end|beginning|start)\s+of\s+(?P<rest>.+)")
_EMBEDDED_YEARS = re.compile(r"\b(?P<a>1\d{3}|2\d{3})(?:\s*[-–—/]\s*(?P<b>\d{4}|\d{2}))?\b")

_DEICTIC_DAY = _rx(
    r"(?:(?:earlier|later)\s+)?(?P<word>today|tonight|yesterday|tomorrow|this\s+(?:morning|afternoon|evening))(?:\s+(?:morning|afternoon|evening|night))?"
)
_DAY_BEFORE = _rx(r"the\s+day\s+(?P<which>before\s+yesterday|after\s+tomorrow)")
_LAST_NIGHT = _rx(r"last\s+night")
_WEEKDAY_REF = _rx(r"(?:(?P<rel>last|next|this|early|late)\s+)?" + _WEEKDAY + _PART_OF_DAY)
_PERIOD_REF = _rx(
    r"(?:(?P<edge>earlier|later)\s+)?(?P<rel>this|last|next|the\s+previous|previous|the\s+current|current)\s+(?P<unit>week|weekend|month|year)"
)
_PAST_N = _rx(r"(?:in\s+)?(?:the\s+)?(?P<rel>past|last|previous|next|coming)\s+(?:" + _NUMBER + r"\s+)?" + _UNIT)
_MONTH_DAY_RANGE = _rx(
    _MONTH.format(name="month")
    + r"\s+"
    + _DAY.format(name="day")
    + r"\s*(?:-|–|—|to|through)\s*"
    + _DAY.format(name="day2")
    + r"(?:,?\s+"
    + _YEAR.format(name="year")
    + r")?"
)
_AGO = _rx(r"(?:about\s+|some\s+|exactly\s+)?" + _NUMBER + r"\s+" + _UNIT + r"\s+(?:ago|earlier)")
_DURATION = re.compile(
    r"^(?:(?:about|around|nearly|almost|over|more\s+than|less\s+than|at\s+least|at\s+most|up\s+to|some|only|just|"
    r"roughly|approximately|the)\s+)*(?:(?:\d[\d,.]*|"
    + "|".join(_NUMBER_WORDS)
    + r"|several|few|a\s+few|many|a\s+couple\s+of|couple\s+of)\s+)?(?:(?:more|additional|further|other)\s+)?"
    r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century)\b(?:\s+\w+)?$"
)
_SET = re.compile(r"^(?:every|each)\s|^(?:daily|weekly|monthly|annually|yearly|nightly)$")


# -- resolution -------------------------------------------------------------------------------


def _day(y: int, m: int, d: int) -> Point | None:
    try:
        date(y, m, d)
    except ValueError:
        return None
    return Point(DAY, y, m, d)


def _interval(begin: Point | None, end: Point | None) -> TimeValue | None:
    if begin is None or end is None:
        return None
    if begin.first_day and end.last_day and begin.first_day > end.last_day:
        return None
    return TimeValue(begin, end)


def _days(a: date, b: date) -> TimeValue:
    return TimeValue(Point.of_day(a), Point.of_day(b)) if a != b else TimeValue(Point.of_day(a))


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    y, m = divmod(index, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _shift(anchor: date, n: int, unit: str) -> date:
    if unit == "day":
        return anchor + timedelta(days=n)
    if unit == "week":
        return anchor + timedelta(weeks=n)
    months = {"month": 1, "year": 12, "decade": 120}[unit]
    return _add_months(anchor, n * months)


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _pick(candidates: list[date], anchor: date, tense: str | None) -> date:
    """Of dates near the anchor, the one the tense points to: on or before it when past, after when future."""
    if tense == PAST:
        before = [c for c in candidates if c <= anchor]
        if before:
            return max(before)
    if tense == FUTURE:
        after = [c for c in candidates if c >= anchor]
        if after:
            return min(after)
    return min(candidates, key=lambda c: (abs((c - anchor).days), c > anchor))


def _year_for(month: int, day: int | None, anchor: date, tense: str | None, weekday: int | None = None) -> int | None:
    """The year of a month (and day) given without one: near the publication date, as the tense says."""
    options: list[tuple[date, int]] = []
    for year in (anchor.year - 1, anchor.year, anchor.year + 1):
        try:
            first = date(year, month, day or 1)
        except ValueError:
            continue
        if weekday is not None and day is not None and first.weekday() != weekday:
            continue
        # A month "is" before the anchor when it has begun by then.
        options.append((first, year))
    if not options:
        return None
    chosen = _pick([d for d, _ in options], anchor, tense)
    return next(y for d, y in options if d == chosen)


def _two_digit_end(start: int, end: str) -> int:
    if len(end) == 4:
        return int(end)
    century = start // 100 * 100
    value = century + int(end)
    return value if value >= start else value + 100


def _part_of(begin: date, end: date, part: str | None) -> tuple[date, date]:
    """Early, mid or late part of a span: its first, middle or last third."""
    if not part:
        return begin, end
    total = (end - begin).days + 1
    third = total // 3
    if part == "early":
        return begin, begin + timedelta(days=third - 1)
    if part == "mid":
        return begin + timedelta(days=third), begin + timedelta(days=2 * third - 1)
    return begin + timedelta(days=2 * third), end


def _absolute(text: str) -> TimeValue | None:
    """Expressions that name their own year (or a day of a month): no anchor needed."""
    if m := _ISO_DAY.match(text):
        p = _day(int(m["y"]), int(m["m"]), int(m["d"]))
        return TimeValue(p) if p else None
    if m := _ISO_MONTH.match(text):
        return TimeValue(Point(MONTH, int(m["y"]), int(m["m"])))
    if m := _NUMERIC_DAY.match(text):
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        if a > 12 >= b:  # 13/11/2017: day first
            p = _day(y, b, a)
        elif b > 12 >= a or a == b:  # 11/13/2017: month first
            p = _day(y, a, b)
        else:
            return None  # 05/06/2017: no way to tell day from month
        return TimeValue(p) if p else None
    for rx in (_MONTH_DAY, _DAY_MONTH):
        if (m := rx.match(text)) and m["year"]:
            p = _day(int(m["year"]), _MONTHS[m["month"]], int(m["day"]))
            return TimeValue(p) if p else None
    if (m := _MONTH_YEAR.match(text)) and m["year"]:
        y, mo = int(m["year"]), _MONTHS[m["month"]]
        if not m["part"]:
            return TimeValue(Point(MONTH, y, mo))
        b, e = _part_of(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), m["part"])
        return _days(b, e)
    if m := _YEAR_ONLY.match(text):
        y = int(m["year"])
        if not m["part"]:
            return TimeValue(Point(YEAR, y))
        b, e = _part_of(date(y, 1, 1), date(y, 12, 31), m["part"])
        return TimeValue(Point(MONTH, b.year, b.month), Point(MONTH, e.year, e.month))
    if m := _YEAR_RANGE.match(text):
        a = int(m["a"])
        return _interval(Point(YEAR, a), Point(YEAR, _two_digit_end(a, m["b"])))
    if (m := _DECADE.match(text)) and m["century"]:
        start = int(m["century"]) * 100 + int(m["decade"]) * 10
        if m["part"]:
            b, e = {"early": (0, 3), "mid": (3, 6), "late": (6, 9)}[m["part"]]
            return TimeValue(Point(YEAR, start + b), Point(YEAR, start + e))
        return TimeValue(Point(YEAR, start), Point(YEAR, start + 9))
    if m := _CENTURY.match(text):
        n = int(m["n"])
        if 1 <= n <= 30:
            return TimeValue(Point(YEAR, (n - 1) * 100 + 1), Point(YEAR, n * 100))
    if (m := _QUARTER.match(text)) and m["year"]:
        q, y = _ORDINALS[m["q"]], int(m["year"])
        return TimeValue(Point(MONTH, y, 3 * q - 2), Point(MONTH, y, 3 * q))
    if m := _Q_QUARTER.match(text):
        q, y = int(m["q"]), int(m["year"])
        return TimeValue(Point(MONTH, y, 3 * q - 2), Point(MONTH, y, 3 * q))
    if (m := _SEASON.match(text)) and m["year"] and not m["rel"]:
        return _season(int(m["year"]), m["season"])
    return None


def _season(year: int, season: str) -> TimeValue:
    start = _SEASONS[season]
    end = _add_months(date(year, start, 1), 2)
    return TimeValue(Point(MONTH, year, start), Point(MONTH, end.year, end.month))


def _month_day_without_year(text: str) -> tuple[int, int, int | None] | None:
    for rx in (_MONTH_DAY, _DAY_MONTH):
        if (m := rx.match(text)) and not m["year"]:
            month, day = _MONTHS[m["month"]], int(m["day"])
            try:
                date(2000, month, day)  # 2000 is a leap year: Feb 29 is a real day of February
            except ValueError:
                return None
            return month, day, _WEEKDAYS[m["weekday"]] if m["weekday"] else None
    return None


def _weekday(anchor: date, weekday: int, rel: str | None, tense: str | None) -> date:
    back = (anchor.weekday() - weekday) % 7
    ahead = (weekday - anchor.weekday()) % 7
    if rel == "last":
        return anchor - timedelta(days=back or 7)
    if rel == "next":
        return anchor + timedelta(days=ahead or 7)
    if rel == "this":
        return anchor - timedelta(days=anchor.weekday()) + timedelta(days=weekday)
    if back == 0:
        return anchor
    return _pick([anchor - timedelta(days=back), anchor + timedelta(days=ahead)], anchor, tense)


def _period(anchor: date, unit: str, offset: int) -> tuple[date, date]:
    """The calendar week (Monday to Sunday), month or year `offset` periods from the anchor's."""
    if unit == "week":
        monday = anchor - timedelta(days=anchor.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=6)
    if unit == "weekend":
        saturday = anchor - timedelta(days=anchor.weekday()) + timedelta(days=5, weeks=offset)
        return saturday, saturday + timedelta(days=1)
    if unit == "month":
        first = _add_months(date(anchor.year, anchor.month, 1), offset)
        return first, date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    year = anchor.year + offset
    return date(year, 1, 1), date(year, 12, 31)


def _period_value(begin: date, end: date, unit: str) -> TimeValue:
    if unit == "month":
        return TimeValue(Point(MONTH, begin.year, begin.month))
    if unit == "year":
        return TimeValue(Point(YEAR, begin.year))
    return _days(begin, end)


class _NotMine:
    """What a relative-date rule returns for a text it does not read (the next rule may)."""


NOT_MINE = _NotMine()
#: A rule: (text, anchor, tense) -> its value, None (it is this rule's form but names no date), or NOT_MINE.
RelativeRule = Callable[[str, date, str | None], "TimeValue | _NotMine | None"]


def _deictic_day(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """today, yesterday, tomorrow."""
    if not (m := _DEICTIC_DAY.match(text)):
        return NOT_MINE
    offset = {"yesterday": -1, "tomorrow": 1}.get(m["word"], 0)
    return TimeValue(Point.of_day(anchor + timedelta(days=offset)))


def _day_before_or_after(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """the day before yesterday, the day after tomorrow."""
    if not (m := _DAY_BEFORE.match(text)):
        return NOT_MINE
    return TimeValue(Point.of_day(anchor + timedelta(days=-2 if m["which"].startswith("before") else 2)))


def _last_night(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """last night: the evening before the anchor."""
    if not _LAST_NIGHT.match(text):
        return NOT_MINE
    return TimeValue(Point.of_day(anchor - timedelta(days=1)))


def _weekday_ref(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """Wednesday, last Friday, next Monday: the nearest such day, in the sentence's tense."""
    if not (m := _WEEKDAY_REF.match(text)):
        return NOT_MINE
    rel = m["rel"] if m["rel"] in {"last", "next", "this"} else None
    return TimeValue(Point.of_day(_weekday(anchor, _WEEKDAYS[m["weekday"]], rel, tense)))


def _month_day(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """March 3 (no year): the year that puts it nearest the anchor, in the sentence's tense."""
    if not (found := _month_day_without_year(text)):
        return NOT_MINE
    month, day, weekday = found
    year = _year_for(month, day, anchor, tense, weekday) or _year_for(month, day, anchor, tense)
    if year is None:
        return None
    p = _day(year, month, day)
    return TimeValue(p) if p else None


def _month(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """March, early March (no year)."""
    if not (m := _MONTH_YEAR.match(text)) or m["year"]:
        return NOT_MINE
    month = _MONTHS[m["month"]]
    year = _year_for(month, None, anchor, tense)
    if year is None:
        return None
    if not m["part"]:
        return TimeValue(Point(MONTH, year, month))
    b, e = _part_of(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), m["part"])
    return _days(b, e)


def _period_ref(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """this week, last month, next year, last weekend, earlier this year."""
    if not (m := _PERIOD_REF.match(text)):
        return NOT_MINE
    rel = m["rel"].replace("the ", "")
    unit = m["unit"]
    offset = {"this": 0, "current": 0, "last": -1, "previous": -1, "next": 1}[rel]
    if unit == "weekend" and rel == "last":
        # the most recent Saturday-Sunday that has ended before the anchor
        begin, end = _period(anchor, "weekend", 0)
        if end >= anchor:
            begin, end = _period(anchor, "weekend", -1)
        return _days(begin, end)
    if unit == "weekend" and rel == "next":
        begin, end = _period(anchor, "weekend", 0)
        if begin <= anchor:
            begin, end = _period(anchor, "weekend", 1)
        return _days(begin, end)
    begin, end = _period(anchor, unit, offset)
    if m["edge"] == "earlier" and offset == 0:
        return _days(begin, anchor)
    if m["edge"] == "later" and offset == 0:
        return _days(anchor, end)
    if m["edge"]:
        return None
    return _period_value(begin, end, unit)


def _past_n(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """the past three years, the next two weeks: from or to the anchor."""
    if not (m := _PAST_N.match(text)):
        return NOT_MINE
    n = _number(m["n"]) if m["n"] else 1
    if n is None or n == 0:
        return None
    unit = _UNITS[m["unit"]]
    if m["rel"] in {"next", "coming"}:
        return _days(anchor, _shift(anchor, n, unit))
    return _days(_shift(anchor, -n, unit), anchor)


def _ago(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """three days ago, two years ago: at the grain of the unit."""
    if not (m := _AGO.match(text)):
        return NOT_MINE
    n = _number(m["n"])
    if n is None:
        return None
    unit = _UNITS[m["unit"]]
    then = _shift(anchor, -n, unit)
    if unit in {"day", "week"}:
        return TimeValue(Point.of_day(then))
    if unit == "month":
        return TimeValue(Point(MONTH, then.year, then.month))
    return TimeValue(Point(YEAR, then.year))


def _season_ref(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """this summer, last winter, the spring (no year)."""
    if not (m := _SEASON.match(text)) or m["year"]:
        return NOT_MINE
    season = m["season"]
    start = _SEASONS[season]
    # the season of the anchor's year (winter: the one starting in December of the previous year)
    year = anchor.year - (1 if season == "winter" and anchor.month < 12 else 0)
    offset = {None: 0, "this": 0, "last": -1, "past": -1, "next": 1}[m["rel"]]
    if m["rel"] is None and tense == PAST and date(year, start, 1) > anchor:
        offset = -1
    return _season(year + offset, season)


def _quarter(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """the third quarter (no year): of the anchor's year."""
    if not (m := _QUARTER.match(text)) or m["year"]:
        return NOT_MINE
    q = _ORDINALS[m["q"]]
    return TimeValue(Point(MONTH, anchor.year, 3 * q - 2), Point(MONTH, anchor.year, 3 * q))


def _decade_of(start_in_century: int, anchor: date) -> TimeValue:
    """The decade starting `start_in_century` years into the anchor's century, or the last one before it."""
    start = anchor.year // 100 * 100 + start_in_century
    if start > anchor.year:
        start -= 100
    return TimeValue(Point(YEAR, start), Point(YEAR, start + 9))


def _decade(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """the 80s, the late 90s (no century): the latest such decade not after the anchor."""
    if not (m := _DECADE.match(text)) or m["century"]:
        return NOT_MINE
    return _decade_of(int(m["decade"]) * 10, anchor)


def _short_decade(text: str, anchor: date, tense: str | None) -> TimeValue | _NotMine | None:
    """the '80s: as the 80s."""
    if not (m := _SHORT_DECADE.match(text)):
        return NOT_MINE
    return _decade_of(int(m["decade"]) * 10, anchor)


#: Expressions that need the publication date, tried in this order; the first rule whose form a text
#: has decides (so "last night" is read before "last Friday" could be, and a month before a period).
RELATIVE_RULES: tuple[RelativeRule, ...] = (
    _deictic_day,
    _day_before_or_after,
    _last_night,
    _weekday_ref,
    _month_day,
    _month,
    _period_ref,
    _past_n,
    _ago,
    _season_ref,
    _quarter,
    _decade,
    _short_decade,
)


def _relative(text: str, anchor: date, tense: str | None) -> TimeValue | None:
    """Expressions that need the publication date: today, Wednesday, last week, the past three years..."""
    for rule in RELATIVE_RULES:
        value = rule(text, anchor, tense)
        if value is not NOT_MINE:
            return value  # type: ignore[return-value]
    return None


def normalise(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation or leading "on"/"in"/"the"."""
    t = " ".join(text.replace("’", "'").split()).lower().strip(' ,;:()"“”')
    t = re.sub(r"^(?:on|in|at(?!\s+(?:least|most)\b)|during|by|since|as\s+of)\s+", "", t)
    t = re.sub(r"\s*,\s*", ", ", t)
    return t


def _day_range(text: str, anchor: date | None, tense: str | None) -> TimeValue | None:
    """ "Nov. 13-15", "November 13 to 15, 2017": days of one month."""
    m = _MONTH_DAY_RANGE.match(text)
    if not m:
        return None
    month, first, last = _MONTHS[m["month"]], int(m["day"]), int(m["day2"])
    if m["year"]:
        year: int | None = int(m["year"])
    elif anchor is not None:
        year = _year_for(month, first, anchor, tense)
    else:
        return None
    if year is None:
        return None
    return _interval(_day(year, month, first), _day(year, month, last))


def _range(text: str, anchor: date | None, tense: str | None) -> TimeValue | None:
    """ "January to August 2017", "1950 and 1953", "Nov. 13-15": both ends resolved, the right one lending its year."""
    m = _RANGE.match(text)
    if not m:
        return None
    left, right = m["left"].strip(" ,"), m["right"].strip(" ,")
    end = resolve(right, anchor, tense)
    if end is None or end.is_interval:
        return None
    end_point = end.begin
    begin: TimeValue | None = None
    if end_point.year is not None:
        if left.isdigit() and end_point.granularity == DAY:  # "Nov. 13-15": the day alone
            begin = (
                TimeValue(_day(end_point.year, end_point.month, int(left)))
                if _day(end_point.year, end_point.month, int(left))
                else None
            )  # type: ignore[arg-type]
        elif (lm := _MONTH_YEAR.match(left)) and not lm["year"] and not lm["part"]:
            year = end_point.year if _MONTHS[lm["month"]] <= (end_point.month or 12) else end_point.year - 1
            begin = TimeValue(Point(MONTH, year, _MONTHS[lm["month"]]))
        elif (found := _month_day_without_year(left)) is not None:
            month, day, _ = found
            year = (
                end_point.year if (month, day) <= (end_point.month or 12, end_point.day or 31) else end_point.year - 1
            )
            p = _day(year, month, day)
            begin = TimeValue(p) if p else None
    if begin is None:
        begin = resolve(left, anchor, tense)
    if begin is None or begin.is_interval:
        return None
    return _interval(begin.begin, end_point)


def resolve(text: str, anchor: date | datetime | None, tense: str | None = None) -> TimeValue | None:
    """The value of a date expression, or None when it cannot be placed on the calendar.

    `anchor` is the publication date (a datetime counts by its date; None for undated articles,
    which resolve only absolute expressions); `tense` ("past", "present", "future" or None) picks
    among the candidates of a weekday or a month without a year.
    """
    if isinstance(anchor, datetime):
        anchor = anchor.date()
    return _resolve(text, anchor, tense)


@lru_cache(maxsize=8192)
def _resolve(text: str, anchor: date | None, tense: str | None) -> TimeValue | None:
    """`resolve`, remembered: news repeats its date expressions ("Wednesday", "last year") a lot."""
    t = normalise(text)
    if not t or _SET.search(t):
        return None
    if (value := _absolute(t)) is not None:
        return value
    if (m := _BOUNDARY.match(t)) is not None:
        return _boundary(m["which"], m["rest"], anchor, tense)
    if (value := _day_range(t, anchor, tense)) is not None:
        return value
    if anchor is not None and (value := _relative(t, anchor, tense)) is not None:
        return value
    if anchor is None and (found := _month_day_without_year(t)) is not None:
        month, day, _ = found
        return TimeValue(Point(MONTH_DAY, None, month, day))
    return _range(t, anchor, tense)


def _boundary(which: str, rest: str, anchor: date | None, tense: str | None) -> TimeValue | None:
    """ "the end of 2016", "the end of the 1950-53 Korean War": the last (or first) part of what is named."""
    inner = resolve(rest, anchor, tense)
    if inner is None:
        years = list(_EMBEDDED_YEARS.finditer(rest))
        if len(years) != 1:
            return None
        y = years[0]
        a = int(y["a"])
        inner = (
            TimeValue(Point(YEAR, a), Point(YEAR, _two_digit_end(a, y["b"]))) if y["b"] else TimeValue(Point(YEAR, a))
        )
    point = inner.begin if which in {"beginning", "start"} else (inner.end or inner.begin)
    if point.granularity == YEAR and inner.end is None:
        # the end of a single year: its last months
        b, e = _part_of(date(point.year, 1, 1), date(point.year, 12, 31), "early" if which != "end" else "late")  # type: ignore[arg-type]
        return TimeValue(Point(MONTH, b.year, b.month), Point(MONTH, e.year, e.month))
    return TimeValue(point)


@lru_cache(maxsize=8192)
def kind_of(text: str, value: TimeValue | None) -> str:
    """What kind of expression this is, for expressions with and without a value."""
    if value is not None:
        return "interval" if value.is_interval else "point"
    t = normalise(text)
    if _SET.search(t):
        return "set"
    if _DURATION.match(t) and not re.search(r"\b(?:ago|last|past|next|this|previous|coming)\b", t):
        return "duration"
    return "unresolved"


@lru_cache(maxsize=8192)
def needs_anchor(text: str) -> bool:
    """True when the expression's value depends on the publication date."""
    return _absolute(normalise(text)) is None


# -- expressions of a parsed article ---------------------------------------------------------------

_FUTURE_AUX = frozenset({"will", "shall", "'ll", "wo", "going"})
_TIME_LABELS = frozenset({"DATE", "TIME"})


def clause_verb(token: Token) -> Token | None:
    """The verb a time expression hangs from (walking up through prepositions and nouns), if any."""
    t = token
    for _ in range(6):
        if t.pos_ in {"VERB", "AUX"}:
            return t
        if t.head is t:
            return None
        t = t.head
    return None


def tense(verb: Token | None) -> str | None:
    """Past, present or future, from the verb's tag and auxiliaries ("was released", "will meet", "has said")."""
    if verb is None:
        return None
    auxes = [c for c in verb.children if c.dep_ in {"aux", "auxpass"}]
    if any(a.lower_ in _FUTURE_AUX for a in auxes):
        return FUTURE
    if any(a.tag_ == "VBD" for a in auxes):
        return PAST
    if verb.tag_ == "VBD":
        return PAST
    if verb.tag_ == "VBN":
        # "has said", "was released", "released by X Thursday": done by the time of writing
        if (
            any(a.lemma_ == "have" for a in auxes)
            or not auxes
            or any(a.lemma_ == "be" and a.tag_ == "VBD" for a in auxes)
        ):
            return PAST
        return PRESENT
    if verb.tag_ in {"VBZ", "VBP"}:
        return PRESENT
    if (
        verb.tag_ in {"VB", "VBG"}
        and verb.head is not verb
        and verb.dep_ in {"xcomp", "ccomp", "advcl", "conj", "pcomp"}
    ):
        return tense(verb.head)
    return None


def time_expressions(
    doc: Doc, offset: int, published: date | datetime | None, skip: Iterable[tuple[int, int]] = ()
) -> list[TimeExpression]:
    """Every DATE and TIME entity of the parsed body, resolved against the publication date.

    `offset` is where the body starts in the article text; spans in `skip` (credit lines) are left out.
    """
    skipped = list(skip)
    out = []
    for ent in doc.ents:
        if ent.label_ not in _TIME_LABELS:
            continue
        begin = offset + ent.start_char
        if any(b <= begin < e for b, e in skipped):
            continue
        out.append(_expression(ent, offset, published))
    return out


def _expression(ent: Span, offset: int, published: date | datetime | None) -> TimeExpression:
    text = ent.text
    value = resolve(text, published, tense(clause_verb(ent.root)))
    sent = ent.sent
    return TimeExpression(
        begin=offset + ent.start_char,
        end=offset + ent.end_char,
        text=text,
        label=ent.label_,
        sentence=(offset + sent.start_char, offset + sent.end_char),
        value=value,
        kind=kind_of(text, value),
        anchored=value is not None and needs_anchor(text),
    )
