"""Chinese working days (工作日): the State Council's holidays and adjusted workdays (调休).

Time limits of administrative licensing are counted in working days, "不含法定节假日"
(行政许可法 第八十二条). Which days those are is decided by the State Council each year
(国务院办公厅关于某年部分节假日安排的通知): holidays, and weekend days turned into working
days (调休). The table comes from the PyPI package ``chinese-calendar`` (pinned), which
lists every year's notice since 2004; ``WorkCalendar.official()`` reads it once.

**A year the table does not cover is never guessed.** Counting across such a year raises
``CalendarNotCovered`` — weekends alone would silently put a holiday week (春节, 国庆) into
an approval clock. The callers (``domain/clock.py``) turn that error into a figure marked
"calendar does not cover YEAR" with no number, and the warning rules into a
``calendar.uncovered`` warning, until the package is upgraded (docs/supervision.md).

Days are Beijing dates: an instant (an aware ``datetime``) is first taken to Asia/Shanghai.
Counting follows the law's rule for periods (民法典 第二百零一条): the first day is not
counted, so ``between(a, b)`` counts the working days ``d`` with ``a < d <= b``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar

BEIJING = ZoneInfo("Asia/Shanghai")

Day = dt.date | dt.datetime


class CalendarNotCovered(ValueError):
    """A day falls in a year the holiday table does not list."""

    def __init__(self, year: int, calendar: str) -> None:
        super().__init__(f"calendar does not cover {year} ({calendar})")
        self.year = year
        self.calendar = calendar

    @property
    def reason(self) -> str:
        """The mark a figure carries instead of a number: "calendar does not cover 2027"."""
        return f"calendar does not cover {self.year}"


def beijing_date(value: Day) -> dt.date:
    """The Beijing (Asia/Shanghai) date of an aware instant; a ``date`` is taken as already one.

    A naive ``datetime`` is refused: its time zone would be a guess, and near midnight the
    guess moves the day.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give its time zone")
        return value.astimezone(BEIJING).date()
    return value


def beijing_midnight(day: dt.date) -> dt.datetime:
    """The instant a Beijing date begins (00:00 Asia/Shanghai)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=BEIJING)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of the years a holiday table covers.

    ``holidays`` are days off that would otherwise be working days (and any listed day off),
    ``workdays`` weekend days that are working days (调休). ``years`` are the covered years.
    """

    name: str
    version: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    years: frozenset[int]
    # Cumulative working days from the first covered day, for O(1) counting and O(log n) adding.
    _first: dt.date = field(init=False, repr=False, compare=False)
    _cumulative: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.years:
            raise ValueError("a calendar must cover at least one year")
        first, last = min(self.years), max(self.years)
        if set(range(first, last + 1)) != set(self.years):
            raise ValueError(f"covered years must be contiguous: {sorted(self.years)}")
        start = dt.date(first, 1, 1)
        total, running = [], 0
        for offset in range((dt.date(last, 12, 31) - start).days + 1):
            day = start + dt.timedelta(days=offset)
            running += self._is_workday(day)
            total.append(running)
        object.__setattr__(self, "_first", start)
        object.__setattr__(self, "_cumulative", tuple(total))

    @classmethod
    def official(cls) -> WorkCalendar:
        """The State Council's calendar as the pinned ``chinese-calendar`` package lists it."""
        return _official()

    @classmethod
    def from_tables(
        cls,
        name: str,
        version: str,
        holidays: Iterable[dt.date],
        workdays: Iterable[dt.date],
        years: Iterable[int],
    ) -> WorkCalendar:
        """A calendar from plain tables (tests; a county's own calendar, should it ever need one)."""
        return cls(name, version, frozenset(holidays), frozenset(workdays), frozenset(years))

    @property
    def first_year(self) -> int:
        return min(self.years)

    @property
    def last_year(self) -> int:
        return max(self.years)

    @property
    def label(self) -> str:
        """The calendar named as every figure must carry it, e.g.
        "chinese-calendar 1.11.0 (State Council holidays 2004–2026)"."""
        return f"{self.name} {self.version} (State Council holidays {self.first_year}–{self.last_year})"

    def covers(self, year: int) -> bool:
        """Whether the table lists the State Council's arrangement for ``year``."""
        return year in self.years

    def coverage_warning(self, today: Day) -> str | None:
        """What the node says at start when today's year is not covered (None when it is)."""
        year = beijing_date(today).year
        if self.covers(year):
            return None
        return (
            f"calendar does not cover {year}: working-day figures of {year} are not computed "
            f"until {self.name} is upgraded ({self.label})"
        )

    def _check(self, day: dt.date) -> None:
        if day.year not in self.years:
            raise CalendarNotCovered(day.year, self.label)

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def is_workday(self, day: Day) -> bool:
        """Whether a (Beijing) day is a working day; ``CalendarNotCovered`` outside the table."""
        d = beijing_date(day)
        self._check(d)
        return self._is_workday(d)

    def _upto(self, day: dt.date) -> int:
        """Working days from the first covered day through ``day`` (0 for the day before it)."""
        index = (day - self._first).days
        return 0 if index < 0 else self._cumulative[index]

    def between(self, start: Day, end: Day) -> int:
        """Working days ``d`` with ``start < d <= end`` (Beijing dates); 0 when ``end <= start``.

        The first day is not counted (民法典 第二百零一条), the last one is. Every day counted
        must be covered; the start day itself need not be.
        """
        a, b = beijing_date(start), beijing_date(end)
        if b <= a:
            return 0
        self._check(a + dt.timedelta(days=1))
        self._check(b)
        return self._upto(b) - self._upto(a)

    def add(self, start: Day, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself for ``n == 0``).

        ``CalendarNotCovered`` when that day lies beyond the table.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        a = beijing_date(start)
        if n == 0:
            return a
        self._check(a + dt.timedelta(days=1))
        goal = self._upto(a) + n
        index = bisect.bisect_left(self._cumulative, goal)
        if index >= len(self._cumulative):
            raise CalendarNotCovered(self.last_year + 1, self.label)
        return self._first + dt.timedelta(days=index)


@functools.cache
def _official() -> WorkCalendar:
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = frozenset(d.year for d in holidays)  # a year is listed when its notice is
    return WorkCalendar.from_tables(
        "chinese-calendar", str(chinese_calendar.__version__), holidays, workdays, years
    )
