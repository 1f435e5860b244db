"""The seed's targets, from plain lists of decided items, filings and project clocks.

Four tables, each overall and grouped per county (division), department and stage where the
figure has them (docs/supervision.md):

* **即办** — share of decided items decided on the Beijing day they were accepted, against
  90 % ("90%以上的项目即时办理", seed task 3). Every decision counts, a rejection included:
  the applicant has an answer.
* **秒批** — share of filings (备案) filed within ``INSTANT_SECONDS`` of submission, against 99 %
  ("99%以上的企业投资项目审批“秒批秒办”", seed task 4).
* **承诺制** — among approving decisions on items *not on the negative list*, the share
  decided on commitment (容缺受理 ``accepted_with_deficiencies`` or 信用承诺制
  ``approved_on_commitment``), against 50 % ("各类前期手续实行“容缺审批”“信用承诺制审批”
  占比达到50%以上", seed task 6).
* **50 / 90 days** — projects with a construction permit within 50 and within 90 working days,
  and those still on their way already past them (seed task 4), per county.

A group with nothing to count has share None and ``met`` None, never 0 % or 100 %.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from node_api.domain.clock import MAXIMUM_DAYS, TARGET_DAYS, ProjectClock, ProjectState
from node_api.domain.timeline import APPROVING, NEGATIVE_LIST, ON_COMMITMENT, ProjectTimeline
from node_api.domain.workdays import beijing_date

T = TypeVar("T")

INSTANT_SECONDS = 60  # 秒批: filed within a minute of submission (an assumption: docs/supervision.md)


@dataclass(frozen=True)
class Target:
    id: str
    name_zh: str
    name_en: str
    goal: float  # the share to reach
    source: str


SAME_DAY = Target("same_day", "即办件占比", "Same-day decisions", 0.90, "seed task 3: 90%以上的项目即时办理")
INSTANT_FILING = Target(
    "instant_filing", "备案秒批占比", "Filings approved in seconds", 0.99,
    "seed task 4: 99%以上的企业投资项目审批“秒批秒办”",
)  # fmt: skip
COMMITMENT = Target(
    "commitment", "承诺制审批占比", "Decided on commitment", 0.50,
    "seed task 6: 各类前期手续实行“容缺审批”“信用承诺制审批”占比达到50%以上",
)  # fmt: skip
TARGETS = (SAME_DAY, INSTANT_FILING, COMMITMENT)

GROUPS = ("all", "county", "department", "stage")


@dataclass(frozen=True)
class DecidedItem:
    """One decided item, flat: what the 即办 and 承诺制 tables count."""

    county: str
    department: int
    stage: int
    item: str
    accepted_at: dt.datetime
    decided_at: dt.datetime
    decision: str
    commitment: str = NEGATIVE_LIST  # the item's 承诺制 type in the catalogue
    on_the_spot: bool = False

    @property
    def same_day(self) -> bool:
        return beijing_date(self.decided_at) == beijing_date(self.accepted_at)


@dataclass(frozen=True)
class Filing:
    """One 备案: submitted by the enterprise, filed (备案证 issued) by the system or a clerk."""

    county: str
    department: int
    project: str
    submitted_at: dt.datetime
    filed_at: dt.datetime
    stage: int = 1

    def instant(self, seconds: int = INSTANT_SECONDS) -> bool:
        return (self.filed_at - self.submitted_at).total_seconds() <= seconds


@dataclass(frozen=True)
class ProjectFigure:
    """One project's clock, with the county it counts in."""

    county: str
    project: str
    clock: ProjectClock


@dataclass(frozen=True)
class ShareRow:
    target: str
    group: str  # all | county | department | stage
    key: str  # "" for all; the county code, department id or stage number
    numerator: int
    denominator: int
    goal: float

    @property
    def share(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def met(self) -> bool | None:
        share = self.share
        return None if share is None else share >= self.goal


@dataclass(frozen=True)
class DaysRow:
    """Projects against 50 / 90 working days in one group."""

    group: str  # all | county
    key: str
    permitted: int  # with a construction permit
    within_target: int  # of those, <= 50
    within_maximum: int  # of those, <= 90
    on_the_way: int  # accepted, no permit yet
    on_the_way_over_target: int  # of those, already > 50
    on_the_way_over_maximum: int  # of those, already > 90
    uncounted: int  # the calendar does not cover a year they need
    target: int = TARGET_DAYS
    maximum: int = MAXIMUM_DAYS

    @property
    def share_within_target(self) -> float | None:
        return None if self.permitted == 0 else self.within_target / self.permitted

    @property
    def share_within_maximum(self) -> float | None:
        return None if self.permitted == 0 else self.within_maximum / self.permitted


@dataclass(frozen=True)
class TargetReport:
    """The four tables, the calendar they were counted on and when."""

    calendar: str
    as_of: dt.datetime
    same_day: tuple[ShareRow, ...]
    instant_filing: tuple[ShareRow, ...]
    commitment: tuple[ShareRow, ...]
    project_days: tuple[DaysRow, ...]


def _grouped(
    target: Target,
    rows: Sequence[T],
    keys: dict[str, Callable[[T], str]],
    counts: Callable[[T], bool],
) -> list[ShareRow]:
    out = [ShareRow(target.id, "all", "", sum(1 for r in rows if counts(r)), len(rows), target.goal)]
    for group, key in keys.items():
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in rows:
            t = tally[key(r)]
            t[0] += counts(r)
            t[1] += 1
        out += [ShareRow(target.id, group, k, n, d, target.goal) for k, (n, d) in sorted(tally.items())]
    return out


def _item_keys() -> dict[str, Callable[[DecidedItem], str]]:
    return {
        "county": lambda i: i.county,
        "department": lambda i: str(i.department),
        "stage": lambda i: str(i.stage),
    }


def same_day_rows(items: Iterable[DecidedItem]) -> list[ShareRow]:
    """即办: decided on the accept day, over every decided item."""
    return _grouped(SAME_DAY, list(items), _item_keys(), lambda i: i.same_day)


def commitment_rows(items: Iterable[DecidedItem]) -> list[ShareRow]:
    """承诺制: decided on commitment, over approving decisions on items off the negative list."""
    eligible = [i for i in items if i.commitment != NEGATIVE_LIST and i.decision in APPROVING]
    return _grouped(COMMITMENT, eligible, _item_keys(), lambda i: i.decision in ON_COMMITMENT)


def instant_filing_rows(filings: Iterable[Filing], seconds: int = INSTANT_SECONDS) -> list[ShareRow]:
    """秒批: filed within ``seconds`` of submission, over every filing."""
    keys: dict[str, Callable[[Filing], str]] = {
        "county": lambda f: f.county,
        "department": lambda f: str(f.department),
        "stage": lambda f: str(f.stage),
    }
    return _grouped(INSTANT_FILING, list(filings), keys, lambda f: f.instant(seconds))


def _days_row(group: str, key: str, figures: Sequence[ProjectFigure]) -> DaysRow:
    permitted = [f.clock for f in figures if f.clock.ended is not None and f.clock.elapsed is not None]
    on_way = [
        f.clock for f in figures
        if f.clock.ended is None and f.clock.elapsed is not None and f.clock.state is not ProjectState.NOT_STARTED
    ]  # fmt: skip
    return DaysRow(
        group=group,
        key=key,
        permitted=len(permitted),
        within_target=sum(1 for c in permitted if c.elapsed is not None and c.elapsed <= c.target),
        within_maximum=sum(1 for c in permitted if c.elapsed is not None and c.elapsed <= c.maximum),
        on_the_way=len(on_way),
        on_the_way_over_target=sum(1 for c in on_way if c.elapsed is not None and c.elapsed > c.target),
        on_the_way_over_maximum=sum(1 for c in on_way if c.elapsed is not None and c.elapsed > c.maximum),
        uncounted=sum(1 for f in figures if f.clock.state is ProjectState.UNCOUNTED),
    )


def project_days_rows(figures: Iterable[ProjectFigure]) -> list[DaysRow]:
    """50 / 90 working days, overall and per county."""
    figures = list(figures)
    by_county: dict[str, list[ProjectFigure]] = defaultdict(list)
    for f in figures:
        by_county[f.county].append(f)
    return [_days_row("all", "", figures)] + [_days_row("county", k, v) for k, v in sorted(by_county.items())]


def decided_items(timeline: ProjectTimeline) -> list[DecidedItem]:
    """A project's decided handlings as rows for the 即办 and 承诺制 tables."""
    return [
        DecidedItem(
            county=timeline.region,
            department=h.department,
            stage=h.stage,
            item=h.item,
            accepted_at=h.accepted_at,
            decided_at=h.decision.at,
            decision=h.decision.outcome,
            commitment=h.commitment,
            on_the_spot=h.on_the_spot,
        )
        for h in timeline.handlings
        if h.decision is not None
    ]


def filings_of(timeline: ProjectTimeline, filing_item: str) -> list[Filing]:
    """A project's 备案 as rows for the 秒批 table: each decided 受理 of the filing item, submitted at
    its ``accepted_at`` and filed when its 批复 reached the chain (the block's time)."""
    recorded = {a.uid: a.recorded_at for a in timeline.approvals}
    return [
        Filing(
            county=timeline.region,
            department=h.department,
            project=timeline.project,
            submitted_at=h.accepted_at,
            filed_at=recorded.get(h.decision.uid) or h.decision.at,
            stage=h.stage,
        )
        for h in timeline.handlings
        if h.item == filing_item and h.decision is not None
    ]


def target_report(
    items: Iterable[DecidedItem],
    filings: Iterable[Filing],
    projects: Iterable[ProjectFigure],
    calendar: str,
    as_of: dt.datetime,
) -> TargetReport:
    """The four tables at ``as_of`` with the calendar they were counted on."""
    items = list(items)
    return TargetReport(
        calendar=calendar,
        as_of=as_of,
        same_day=tuple(same_day_rows(items)),
        instant_filing=tuple(instant_filing_rows(filings)),
        commitment=tuple(commitment_rows(items)),
        project_days=tuple(project_days_rows(projects)),
    )
