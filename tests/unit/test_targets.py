"""The seed's targets from hand-built lists: 即办 90 %, 秒批 99 %, 承诺制 50 %, 50 / 90 days."""

from __future__ import annotations

import datetime as dt

from node_api.domain.clock import Pause, Span, project_clock
from node_api.domain.targets import (
    DecidedItem,
    Filing,
    ProjectFigure,
    ShareRow,
    commitment_rows,
    decided_items,
    filings_of,
    instant_filing_rows,
    project_days_rows,
    same_day_rows,
    target_report,
)
from node_api.domain.timeline import Approval, Decision, Handling, ProjectTimeline
from node_api.domain.workdays import BEIJING, WorkCalendar

PLAIN = WorkCalendar.from_tables("weekdays", "test", [], [], [2030])
ZL, JN = "620825", "620826"  # 庄浪县, 静宁县
DRC, NRB = 101, 102  # two departments


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


MONDAY_9, MONDAY_15 = bj(2030, 1, 7, 9), bj(2030, 1, 7, 15)


def item(
    county: str = ZL,
    department: int = DRC,
    stage: int = 1,
    accepted: dt.datetime = MONDAY_9,
    decided: dt.datetime = MONDAY_15,
    decision: str = "approved",
    commitment: str = "none",
) -> DecidedItem:
    return DecidedItem(county, department, stage, "X", accepted, decided, decision, commitment)


def row(rows: list[ShareRow], group: str, key: str = "") -> ShareRow:
    return next(r for r in rows if r.group == group and r.key == key)


def test_same_day_share_counts_the_beijing_day() -> None:
    items = [item() for _ in range(8)]
    items.append(item(decided=bj(2030, 1, 8, 9), department=NRB, stage=3))  # next day
    # 23:30 UTC on 01-06 is 07:30 on 01-07 in Beijing: same Beijing day as a 15:00 decision.
    items.append(
        item(accepted=dt.datetime(2030, 1, 6, 23, 30, tzinfo=dt.UTC), county=JN, decision="rejected")
    )
    rows = same_day_rows(items)
    total = row(rows, "all")
    assert (total.numerator, total.denominator, total.share, total.met) == (9, 10, 0.9, True)
    assert (row(rows, "county", ZL).numerator, row(rows, "county", ZL).denominator) == (8, 9)
    assert row(rows, "county", JN).share == 1.0
    assert row(rows, "department", str(NRB)).met is False
    assert row(rows, "stage", "3").share == 0.0
    assert [r.group for r in rows] == [
        "all",
        "county",
        "county",
        "department",
        "department",
        "stage",
        "stage",
    ]


def test_commitment_share_is_over_approvals_of_items_off_the_negative_list() -> None:
    items = [
        item(commitment="credit", decision="approved_on_commitment"),
        item(commitment="deficiency", decision="accepted_with_deficiencies", stage=2),
        item(commitment="credit", decision="approved"),
        item(commitment="credit", decision="rejected"),  # not an approval: left out
        item(commitment="none", decision="approved"),  # negative list: left out
        item(commitment="self_acceptance", decision="approved", stage=4),
    ]
    rows = commitment_rows(items)
    total = row(rows, "all")
    assert (total.numerator, total.denominator) == (2, 4)
    assert total.share == 0.5 and total.met is True
    assert row(rows, "stage", "4").met is False
    assert row(rows, "stage", "2").met is True


def test_instant_filings_within_a_minute() -> None:
    t = bj(2030, 3, 1, 10)
    filings = [Filing(ZL, DRC, f"P{i}", t, t + dt.timedelta(seconds=5)) for i in range(98)]
    filings.append(Filing(ZL, DRC, "P98", t, t + dt.timedelta(seconds=60)))  # exactly a minute: instant
    filings.append(Filing(JN, DRC, "P99", t, t + dt.timedelta(seconds=61)))
    rows = instant_filing_rows(filings)
    total = row(rows, "all")
    assert (total.numerator, total.denominator, total.met) == (99, 100, True)
    assert row(rows, "county", JN).met is False
    assert row(rows, "stage", "1").denominator == 100


def test_an_empty_group_has_no_share() -> None:
    total = row(same_day_rows([]), "all")
    assert (total.denominator, total.share, total.met) == (0, None, None)
    assert len(same_day_rows([])) == 1


def test_project_days_per_county() -> None:
    now = bj(2030, 6, 28)
    start = Span(bj(2030, 1, 1, 9))
    figures = [
        ProjectFigure(ZL, "A", project_clock([start], bj(2030, 2, 15), now, PLAIN)),  # 33 days
        ProjectFigure(ZL, "B", project_clock([start], bj(2030, 4, 1), now, PLAIN)),  # 64 days
        ProjectFigure(JN, "C", project_clock([start], bj(2030, 6, 3), now, PLAIN)),  # 109 days
        ProjectFigure(JN, "D", project_clock([Span(bj(2030, 3, 1, 9))], None, now, PLAIN)),  # on its way, 85
        ProjectFigure(JN, "E", project_clock([], None, now, PLAIN)),  # not started: not counted
    ]
    rows = project_days_rows(figures)
    total = rows[0]
    assert (total.permitted, total.within_target, total.within_maximum) == (3, 1, 2)
    assert (total.on_the_way, total.on_the_way_over_target, total.on_the_way_over_maximum) == (1, 1, 0)
    assert total.share_within_target == 1 / 3
    jn = next(r for r in rows if r.key == JN)
    assert (jn.permitted, jn.within_maximum, jn.on_the_way) == (1, 0, 1)


def test_decided_items_from_a_timeline_and_the_report() -> None:
    pause = Pause(bj(2030, 1, 8), bj(2030, 1, 9), "公示")
    timeline = ProjectTimeline(
        project="2030-620825-48-01-000001",
        region=ZL,
        registrar=DRC,
        handlings=(
            Handling(
                "0xa", "I1", 1, DRC, 0, bj(2030, 1, 7, 9), (), Decision("0xd", bj(2030, 1, 7, 11), "approved")
            ),
            Handling("0xb", "I2", 2, NRB, 20, bj(2030, 1, 7, 9), (pause,)),  # undecided: not a row
        ),
    )
    rows = decided_items(timeline)
    assert [(r.item, r.county, r.same_day) for r in rows] == [("I1", ZL, True)]
    report = target_report(rows, [], [], PLAIN.label, bj(2030, 1, 10))
    assert report.calendar == "weekdays test (State Council holidays 2030–2030)"
    assert row(list(report.same_day), "all").met is True
    assert row(list(report.instant_filing), "all").share is None


def test_a_filing_is_measured_from_its_acceptance_to_its_approvals_block() -> None:
    submitted = bj(2030, 1, 7, 9, 0, 0)
    handlings = (
        Handling("0xa", "FILE", 1, DRC, 0, submitted, (), Decision("0xd", submitted, "approved")),
        Handling("0xb", "FILE", 1, DRC, 0, submitted, (), Decision("0xe", submitted, "approved")),
        Handling("0xc", "OTHER", 1, DRC, 0, submitted, (), Decision("0xf", submitted, "approved")),
        Handling("0x1", "FILE", 1, DRC, 0, submitted),  # not decided: no filing yet
    )
    approvals = (
        Approval(
            "0xd", "FILE", 1, DRC, submitted, "approved", recorded_at=submitted + dt.timedelta(seconds=3)
        ),
        Approval(
            "0xe", "FILE", 1, DRC, submitted, "approved", recorded_at=submitted + dt.timedelta(minutes=5)
        ),
        Approval("0xf", "OTHER", 1, DRC, submitted, "approved", recorded_at=submitted),
    )
    timeline = ProjectTimeline("2030-620825-48-03-000001", ZL, DRC, handlings=handlings, approvals=approvals)
    filings = filings_of(timeline, "FILE")
    assert [(f.filed_at - f.submitted_at).total_seconds() for f in filings] == [3.0, 300.0]
    assert [f.instant() for f in filings] == [True, False]
    total = row(list(target_report([], filings, [], PLAIN.label, bj(2030, 1, 8)).instant_filing), "all")
    assert (total.numerator, total.denominator, total.met) == (1, 2, False)
