"""The approval clock (审批计时): working days an item and a project have taken, net of pauses.

Pure functions over plain data; the chain facts (受理, 暂停/恢复计时, 批复) are fed in by the
ledger. The rules, each with its source (docs/supervision.md has them at length):

* Limits are in **working days** (行政许可法 第八十二条: "期限以工作日计算，不含法定节假日"),
  on the State Council's calendar (``domain/workdays.py``), by Beijing date.
* **The accept day is not counted**: the period runs "自受理行政许可申请之日起" (第四十二条)
  and "开始的当日不计入，自下一日开始计算" (民法典 第二百零一条). A decision on the accept day
  has taken 0 working days. The last day runs to 24:00 (民法典 第二百零三条): an item decided
  at any time on its due date is in time.
* **Pauses are not counted**: "依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，
  所需时间不计算在本节规定的期限内" (第四十五条; the seed's 1+X mechanism: "机制启动时暂停审批
  计时"). A pause is a period too, counted like one: the working days ``d`` with
  ``start < d <= end`` are taken out. So the day a pause starts is still a clock day, the
  day it ends is not, and **a pause that starts and ends on the same day takes out nothing**
  (a two-hour expert meeting does not stop a day). Overlapping pauses take a day out once.
  An open pause takes out the days up to the day of evaluation, and while it is open the
  due date is unknown (the clock stands still).
* Per project: from the first 受理 to the approving 批复 of the construction permit (施工许可),
  against 50 working days (target) and 90 (maximum). A day is taken out of the project's
  clock when at least one of its items was paused that day and none was running (an item
  runs, for the project, from its accept day to its decision day, less its own pauses); a day
  with no item open at all counts (the chain cannot tell whose turn it was).

A figure that needs a year the calendar does not cover is not guessed: it is None and the
clock carries ``note`` ("calendar does not cover 2027"), state ``uncounted`` where even the
elapsed days cannot be had.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from node_api.domain.workdays import CalendarNotCovered, WorkCalendar, beijing_date

TARGET_DAYS = 50  # 一般项目开工前审批时间为50天 (seed, task 4)
MAXIMUM_DAYS = 90  # 有特殊要求的项目最多不得超过90天 (seed, task 4)

# A run of days (lo, hi]: the days d with lo < d <= hi; hi None is open-ended.
Interval = tuple[dt.date, dt.date | None]
Closed = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class Pause:
    """A 暂停计时 … 恢复计时 period of one item (``end`` None while it lasts)."""

    start: dt.datetime
    end: dt.datetime | None
    reason: str  # 专家评审, 公示, 听证, 检验检测, 1+X 协调 …
    uid: str = ""  # the 暂停计时 record
    end_uid: str = ""  # the 恢复计时 record

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(
                f"pause ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )


@dataclass(frozen=True)
class Span:
    """An item's handling as the project clock needs it: accepted, paused, decided."""

    accepted_at: dt.datetime
    pauses: tuple[Pause, ...] = ()
    decided_at: dt.datetime | None = None


class ItemState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    OVERDUE = "overdue"
    DECIDED_IN_TIME = "decided_in_time"
    DECIDED_LATE = "decided_late"
    UNCOUNTED = "uncounted"  # the calendar does not cover a day the count needs


@dataclass(frozen=True)
class ItemClock:
    """One item's clock at ``as_of`` (the Beijing date it was evaluated, or of its decision)."""

    accepted: dt.date
    decided: dt.date | None
    as_of: dt.date
    limit: int
    elapsed: int | None  # working days counted, pauses excluded
    paused_days: int | None  # working days taken out by pauses
    remaining: int | None  # max(limit - elapsed, 0)
    overdue_by: int | None  # max(elapsed - limit, 0)
    due: dt.date | None  # the limit-th counted day (None while paused, or beyond the calendar)
    state: ItemState
    paused_now: bool
    calendar: str
    note: str | None = None
    gaps: tuple[Interval, ...] = field(default=(), compare=False, repr=False)

    @property
    def same_day(self) -> bool:
        """Decided on the day it was accepted (即办)."""
        return self.decided is not None and self.decided == self.accepted


class ProjectState(StrEnum):
    NOT_STARTED = "not_started"  # no 受理 recorded (before the permit)
    RUNNING = "running"
    PAUSED = "paused"
    OVER_TARGET = "over_target"  # still on its way, past 50
    OVER_MAXIMUM = "over_maximum"  # still on its way, past 90
    PERMITTED_IN_TARGET = "permitted_in_target"
    PERMITTED_WITHIN_MAXIMUM = "permitted_within_maximum"
    PERMITTED_LATE = "permitted_late"
    UNCOUNTED = "uncounted"


@dataclass(frozen=True)
class ProjectClock:
    """A project's clock: first 受理 to the 施工许可 批复, or to ``as_of`` while on its way."""

    started: dt.date | None
    ended: dt.date | None  # the permit's date
    as_of: dt.date
    gross: int | None  # working days in (started, ended or as_of]
    paused_days: int | None  # days on which items were paused and none ran
    elapsed: int | None  # gross - paused_days: the figure held against 50 / 90
    target: int
    maximum: int
    remaining_to_target: int | None
    remaining_to_maximum: int | None
    target_day: dt.date | None  # the date the target-th day falls (fell) on, None while paused
    maximum_day: dt.date | None
    state: ProjectState
    paused_now: bool
    calendar: str
    note: str | None = None
    gaps: tuple[Interval, ...] = field(default=(), compare=False, repr=False)


# ---- intervals of days ------------------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping runs covering the same days ((a,b] and (b,c] join)."""
    out: list[Interval] = []
    for lo, hi in sorted(intervals, key=lambda iv: iv[0]):
        if hi is not None and hi <= lo:
            continue
        if out:
            plo, phi = out[-1]
            if phi is None:
                continue
            if lo <= phi:
                out[-1] = (plo, None if hi is None else max(phi, hi))
                continue
        out.append((lo, hi))
    return out


def _clip(intervals: Iterable[Interval], lo: dt.date, hi: dt.date) -> list[Closed]:
    out: list[Closed] = []
    for a, b in merge(intervals):
        a2, b2 = max(a, lo), hi if b is None else min(b, hi)
        if b2 > a2:
            out.append((a2, b2))
    return out


def _subtract(runs: Sequence[Closed], cut: Sequence[Closed]) -> list[Closed]:
    """Days of ``runs`` not in ``cut`` (both merged and sorted)."""
    out: list[Closed] = []
    for lo, hi in runs:
        cursor = lo
        for clo, chi in cut:
            if chi <= cursor or clo >= hi:
                continue
            if clo > cursor:
                out.append((cursor, clo))
            cursor = max(cursor, chi)
            if cursor >= hi:
                break
        if cursor < hi:
            out.append((cursor, hi))
    return out


def _count(calendar: WorkCalendar, runs: Iterable[Closed]) -> int:
    return sum(calendar.between(lo, hi) for lo, hi in runs)


def counted_day(calendar: WorkCalendar, start: dt.date, n: int, gaps: Sequence[Interval]) -> dt.date | None:
    """The date of the ``n``-th counted working day after ``start``, skipping the ``gaps``.

    ``start`` itself for ``n <= 0``; None when the day would fall inside an open gap (a clock
    that stands still). ``CalendarNotCovered`` when it lies beyond the calendar.
    """
    if n <= 0:
        return start
    cursor, need = start, n
    for lo, hi in merge(gaps):
        if hi is not None and hi <= cursor:
            continue
        if lo > cursor:
            available = calendar.between(cursor, lo)
            if need <= available:
                return calendar.add(cursor, need)
            need -= available
        if hi is None:
            return None
        cursor = max(cursor, hi)
    return calendar.add(cursor, need)


# ---- the item clock ---------------------------------------------------------------------


def _known(value: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """A fact's time, or None when it lies after ``now`` (not yet known at ``now``)."""
    return value if value is not None and value <= now else None


def _pause_gaps(pauses: Iterable[Pause], now: dt.datetime, closed_at: dt.datetime | None) -> list[Interval]:
    """The pauses as runs of days taken out: (start day, end day], open ones end at ``closed_at``."""
    gaps: list[Interval] = []
    for p in pauses:
        if p.start > now:
            continue
        end = _known(p.end, now)
        if end is None and closed_at is not None:
            end = closed_at
        gaps.append((beijing_date(p.start), None if end is None else beijing_date(end)))
    return merge(gaps)


def _is_paused_now(pauses: Iterable[Pause], now: dt.datetime) -> bool:
    return any(p.start <= now and (p.end is None or p.end > now) for p in pauses)


def item_clock(
    accepted_at: dt.datetime,
    limit_days: int,
    pauses: Iterable[Pause],
    decided_at: dt.datetime | None,
    now: dt.datetime,
    calendar: WorkCalendar,
) -> ItemClock:
    """An item's clock at ``now``: elapsed working days net of pauses, remaining, due date, state.

    Facts after ``now`` are ignored (the clock can be replayed at any past instant).
    """
    if limit_days < 0:
        raise ValueError("limit_days must be >= 0")
    pauses = tuple(pauses)
    decided = _known(decided_at, now)
    accepted = beijing_date(accepted_at)
    decided_day = None if decided is None else beijing_date(decided)
    as_of = max(accepted, decided_day if decided_day is not None else beijing_date(now))
    gaps = _pause_gaps(pauses, now, decided)
    paused_now = decided is None and _is_paused_now(pauses, now)
    elapsed: int | None = None
    paused: int | None = None
    due: dt.date | None = None
    note: str | None = None
    try:
        paused = _count(calendar, _clip(gaps, accepted, as_of))
        elapsed = calendar.between(accepted, as_of) - paused
        due = counted_day(calendar, accepted, limit_days, gaps)
    except CalendarNotCovered as e:
        note = e.reason
    if elapsed is None:
        state = ItemState.UNCOUNTED
    elif decided is not None:
        state = ItemState.DECIDED_IN_TIME if elapsed <= limit_days else ItemState.DECIDED_LATE
    elif elapsed > limit_days:
        state = ItemState.OVERDUE
    elif paused_now:
        state = ItemState.PAUSED
    else:
        state = ItemState.RUNNING
    return ItemClock(
        accepted=accepted,
        decided=decided_day,
        as_of=as_of,
        limit=limit_days,
        elapsed=elapsed,
        paused_days=paused if elapsed is not None else None,
        remaining=None if elapsed is None else max(limit_days - elapsed, 0),
        overdue_by=None if elapsed is None else max(elapsed - limit_days, 0),
        due=due,
        state=state,
        paused_now=paused_now,
        calendar=calendar.label,
        note=note,
        gaps=tuple(gaps),
    )


# ---- the project clock ------------------------------------------------------------------


def project_clock(
    spans: Iterable[Span],
    permit_at: dt.datetime | None,
    now: dt.datetime,
    calendar: WorkCalendar,
    target: int = TARGET_DAYS,
    maximum: int = MAXIMUM_DAYS,
) -> ProjectClock:
    """A project's clock from its first 受理 to ``permit_at`` (the approving 施工许可 批复).

    Without a permit (or one after ``now``) it is the live countdown to ``now``.
    """
    permit = _known(permit_at, now)
    end_instant = permit if permit is not None else now
    spans = [s for s in spans if s.accepted_at <= end_instant]
    as_of = beijing_date(end_instant)
    ended = None if permit is None else as_of
    if not spans:
        return ProjectClock(
            started=None, ended=ended, as_of=as_of, gross=None, paused_days=None, elapsed=None,
            target=target, maximum=maximum, remaining_to_target=None, remaining_to_maximum=None,
            target_day=None, maximum_day=None, state=ProjectState.NOT_STARTED, paused_now=False,
            calendar=calendar.label,
            note=None if permit is None else "construction permit without a recorded 受理 before it",
        )  # fmt: skip
    started = min(beijing_date(s.accepted_at) for s in spans)
    paused_runs: list[Interval] = []
    running_runs: list[Interval] = []
    any_running_now = any_paused_now = False
    for s in spans:
        decided = _known(s.decided_at, end_instant)
        lo = beijing_date(s.accepted_at)
        hi = max(lo, beijing_date(decided) if decided is not None else as_of)
        item_gaps = _clip(_pause_gaps(s.pauses, end_instant, decided), lo, hi)
        paused_runs.extend(item_gaps)
        # For the project an item runs from its accept day on: that day a department took it up.
        running_runs.extend(_subtract([(lo - dt.timedelta(days=1), hi)], item_gaps))
        if permit is None and decided is None:
            if _is_paused_now(s.pauses, now):
                any_paused_now = True
            else:
                any_running_now = True
    # Days on which some item was paused and none ran, inside (started, as_of].
    proj_paused = _subtract(_clip(paused_runs, started, as_of), _clip(running_runs, started, as_of))
    paused_now = any_paused_now and not any_running_now
    gaps: list[Interval] = list(proj_paused)
    if paused_now:  # the clock stands still from the current run of paused days (or from today)
        if gaps and gaps[-1][1] == as_of:
            gaps[-1] = (gaps[-1][0], None)
        else:
            gaps.append((as_of, None))
    gross: int | None = None
    paused: int | None = None
    target_day: dt.date | None = None
    maximum_day: dt.date | None = None
    note: str | None = None
    try:
        paused = _count(calendar, proj_paused)
        gross = calendar.between(started, as_of)
        target_day = counted_day(calendar, started, target, gaps)
        maximum_day = counted_day(calendar, started, maximum, gaps)
    except CalendarNotCovered as e:
        note = e.reason
    elapsed = None if gross is None or paused is None else gross - paused
    if elapsed is None:
        state = ProjectState.UNCOUNTED
    elif permit is not None:
        state = (
            ProjectState.PERMITTED_IN_TARGET if elapsed <= target
            else ProjectState.PERMITTED_WITHIN_MAXIMUM if elapsed <= maximum
            else ProjectState.PERMITTED_LATE
        )  # fmt: skip
    elif elapsed > maximum:
        state = ProjectState.OVER_MAXIMUM
    elif elapsed > target:
        state = ProjectState.OVER_TARGET
    elif paused_now:
        state = ProjectState.PAUSED
    else:
        state = ProjectState.RUNNING
    return ProjectClock(
        started=started,
        ended=ended,
        as_of=as_of,
        gross=None if elapsed is None else gross,
        paused_days=None if elapsed is None else paused,
        elapsed=elapsed,
        target=target,
        maximum=maximum,
        remaining_to_target=None if elapsed is None else max(target - elapsed, 0),
        remaining_to_maximum=None if elapsed is None else max(maximum - elapsed, 0),
        target_day=target_day,
        maximum_day=maximum_day,
        state=state,
        paused_now=paused_now,
        calendar=calendar.label,
        note=note,
        gaps=tuple(gaps),
    )
