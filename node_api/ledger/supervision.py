"""Supervision wired to the chain: a project's confirmed records as a ``ProjectTimeline``, and the
incremental evaluation of its warnings (docs/supervision.md, "What is wired").

``build_timeline`` builds it from a project's records and their status changes as ``facts.Facts``
reads them (the one reader the credit profile uses too) and from the catalogue:

- a 受理 (ACCEPTANCE) is a ``Handling`` of the item version it names (stage, department, limit,
  承诺制 type, prerequisites from the catalogue); its 暂停/恢复计时 records, in chain order, are its
  pauses (their block times; the reason from the payload);
- the 批复 that closes a handling is the earliest approval (any decision, rejected included) of
  the same project and item recorded after the acceptance, paired node-side: an approval's
  payload does not name its acceptance. A 批复 pairs with one acceptance only;
- a date-only field (``issued_at``, ``occurred_at``) is its Beijing midnight; a decision is never
  before its acceptance (a same-day 批复 decided at the acceptance's instant);
- the 施工许可 is a stage-3 approval of an item whose name (in the version it names) holds 施工许可;
- an event's ``resolved_at`` is the block time of its change to resolved (or annulled: an upheld
  objection), a commitment's ``settled_at`` that of its change to fulfilled or breached; superseded events and commitments are left out
  (their corrections stand for them).

``Supervision`` keeps per project the warnings of its last assessment and when to look again
(``recheck_at``, an indexed column): it follows the index by rowid like the notifications, marks
every project that got a record due, and re-assesses only due projects (a new record, or
``recheck_at`` passed), storing ``diff``'s transitions as history. One process of the node runs it
(``node_api.node.runs_supervision``): gateway worker 1 when there are workers, else the primary; it
publishes its counters so that every process's /metrics shows them (``figures``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from node_api.domain.catalogue import ITEM_COMMITMENT_NAMES, item_code
from node_api.domain.clock import ItemClock, Pause, ProjectClock, Span, item_clock, project_clock
from node_api.domain.credit import CommitmentFact, EventFact
from node_api.domain.project_code import project_facts
from node_api.domain.records import COMMITMENT_TYPES, DECISIONS, SEVERITIES, Kind
from node_api.domain.targets import (
    DecidedItem,
    Filing,
    ProjectFigure,
    TargetReport,
    decided_items,
    filings_of,
    target_report,
)
from node_api.domain.timeline import (
    Approval,
    Commitment,
    Decision,
    Event,
    Handling,
    Objection,
    ProjectTimeline,
)
from node_api.domain.warnings import RiskWarning, assess, diff
from node_api.domain.workdays import WorkCalendar, beijing_midnight
from node_api.ledger.access import ROLE_READERS, Access
from node_api.ledger.catalogue import Catalogue
from node_api.ledger.facts import Facts, ProjectRecords
from node_api.ledger.facts import day as day_of
from node_api.ledger.membership import Organization
from node_api.store.index import IndexTable
from node_api.store.warnings import Assessment, StoredWarning, WarningFilter, WarningTable

log = logging.getLogger("projchain.supervision")

SCAN_BATCH = 1000  # index rows read per step
DUE_BATCH = 200  # projects re-assessed per step
SLICE = 10  # projects re-assessed between two turns of the event loop
POLL = 1.0  # seconds between looks when nothing wakes the loop
# A project that got a record is re-assessed this long after its first record not yet assessed:
# a burst of records on one project (a bulk batch, an officer's morning) costs one assessment, and
# a warning is at most this much later than the record that changed it.
SETTLE = 5.0
PERMIT_NAME = "施工许可"  # the 施工许可 item: a stage-3 item whose name holds this


def _utc(ts: int | float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _midnight(day: str | None, otherwise: dt.datetime) -> dt.datetime:
    """An API-form date field as the Beijing midnight its day begins; ``otherwise`` when it names none."""
    found = day_of(day)
    return beijing_midnight(found) if found else otherwise


def build_timeline(
    records: ProjectRecords, code: str, registrar: int, catalogue: Catalogue
) -> ProjectTimeline:
    """The supervision timeline of project ``code`` from its confirmed records (``facts.Facts.project``)."""
    declared: dict[str, Any] = {}
    for e in records.of(Kind.PROJECT):
        declared = e.fields
    region = str(project_facts(code, declared).get("region_code") or "")
    approvals: list[Approval] = []
    for e in records.of(Kind.APPROVAL):
        f = e.fields
        item = catalogue.item_of(f)
        decision = str(f["decision"])
        approvals.append(
            Approval(
                uid=e.uid,
                item=item_code(f),
                stage=int(f["stage"]),
                issuer=e.issuer,
                issued_at=_midnight(f["issued_at"], e.at),
                decision=decision if decision in DECISIONS else "rejected",
                status=records.status(e.uid, e.kind) or "active",
                valid_until=day_of(f["valid_until"]),
                construction_permit=int(f["stage"]) == 3 and item is not None and PERMIT_NAME in item.name,
                recorded_at=e.at,
            )
        )
    handlings = _handlings(records, catalogue, approvals)
    # Superseded events and commitments are left out: their corrections stand for them.
    commitments = [_commitment(c, records.status(c.uid, Kind.COMMITMENT)) for c in records.commitments(code)]
    events = [_event(e) for e in records.events(code) if records.status(e.uid, Kind.EVENT) != "superseded"]
    last = records.entries[-1] if records.entries else None
    return ProjectTimeline(
        project=code,
        region=region,
        registrar=registrar,
        handlings=tuple(handlings),
        approvals=tuple(approvals),
        commitments=tuple(c for c in commitments if c.status != "superseded"),
        events=tuple(events),
        last_record_at=None if last is None else last.at,
        last_record_uid=None if last is None else last.uid,
    )


def _handlings(records: ProjectRecords, catalogue: Catalogue, approvals: list[Approval]) -> list[Handling]:
    out: list[Handling] = []
    used: set[str] = set()
    order = {e.uid: i for i, e in enumerate(records.entries)}
    for e in records.of(Kind.ACCEPTANCE):
        uid = e.uid
        item = catalogue.item_of(e.fields)
        if item is None:
            continue
        accepted_at = dt.datetime.fromisoformat(str(e.fields["accepted_at"])).astimezone(dt.UTC)
        pauses: list[Pause] = []
        for r in records.referring(uid):
            if r.kind == Kind.PAUSE:
                pauses.append(
                    Pause(start=max(r.at, accepted_at), end=None, reason=str(r.fields["reason"]), uid=r.uid)
                )
            elif r.kind == Kind.RESUME and pauses and pauses[-1].end is None:
                p = pauses[-1]
                pauses[-1] = Pause(p.start, max(r.at, p.start), p.reason, p.uid, r.uid)
        decision = None
        for a in sorted(approvals, key=lambda a: a.issued_at):
            if (
                a.item == item.code
                and a.uid not in used
                and a.status != "superseded"
                and order.get(a.uid, -1) > order.get(uid, 0)  # recorded after the acceptance
            ):
                used.add(a.uid)
                decision = Decision(a.uid, max(a.issued_at, accepted_at), a.decision)
                break
        if decision is not None:  # a pause ends with the decision at the latest
            pauses = [p if p.end is not None else Pause(p.start, max(p.start, decision.at), p.reason, p.uid)
                      for p in pauses]  # fmt: skip
        out.append(
            Handling(
                uid=uid,
                item=item.code,
                stage=item.stage,
                department=item.department,
                limit_days=item.time_limit_days,
                accepted_at=accepted_at,
                pauses=tuple(pauses),
                decision=decision,
                on_the_spot=item.on_the_spot,
                commitment=ITEM_COMMITMENT_NAMES.get(item.commitment, "none"),
                depends_on=tuple(_dependency_codes(catalogue, item.depends_on)),
            )
        )
    return out


def _dependency_codes(catalogue: Catalogue, keys: tuple[str, ...]) -> list[str]:
    codes = []
    for key in keys:
        code = catalogue.code_of_key(key)
        if code is not None:
            codes.append(code)
    return codes


def _commitment(c: CommitmentFact, status: str) -> Commitment:
    settled = [ch.at for ch in c.changes if ch.status in ("fulfilled", "breached")]
    return Commitment(
        uid=c.uid,
        commitment_type=c.commitment_type if c.commitment_type in COMMITMENT_TYPES else "",
        issuer=c.issuer,
        status=status or "pending",
        due=c.due,
        approval=c.approval,
        settled_at=settled[0] if settled else None,
    )


def _event(e: EventFact) -> Event:
    """The timeline's event: resolved at its resolution (or the upheld objection that annulled it), with
    each objection and when it was decided (upheld, or rejected: open again)."""
    resolved_at, resolution = None, None
    objections: list[Objection] = []
    for c in e.changes:
        if c.status in ("resolved", "annulled") and resolved_at is None:
            resolved_at, resolution = c.at, c.uid
        if c.status == "objected":
            objections.append(Objection(c.uid, c.at))
        elif c.status in ("annulled", "open") and objections:
            o = objections[-1]
            objections[-1] = Objection(o.uid, o.lodged_at, c.at, c.uid)
    return Event(
        uid=e.uid,
        category=e.category,
        severity=e.severity if e.severity in SEVERITIES else "slight",
        issuer=e.issuer,
        occurred_at=beijing_midnight(e.occurred_on) if e.occurred_on else e.at,
        recorded_at=e.at,
        resolved_at=resolved_at,
        resolution_uid=resolution,
        evidence=e.evidence,
        objections=tuple(objections),
    )


# ---- clocks for the API ---------------------------------------------------------------------


def clocks(
    timeline: ProjectTimeline, now: dt.datetime, calendar: WorkCalendar
) -> tuple[list[tuple[Handling, ItemClock]], ProjectClock]:
    """Each handling's clock and the project's 50/90 clock at ``now``."""
    items = [
        (h, item_clock(h.accepted_at, h.limit_days, h.pauses, None if h.decision is None else h.decision.at, now,
                       calendar))
        for h in timeline.handlings
    ]  # fmt: skip
    permit = timeline.permit(now)
    spans = [
        Span(h.accepted_at, h.pauses, None if h.decision is None else h.decision.at)
        for h in timeline.handlings
    ]
    return items, project_clock(spans, None if permit is None else permit.issued_at, now, calendar)


# ---- the incremental evaluation -------------------------------------------------------------


class Supervision:
    """Per-project warnings, re-assessed when a project's records change or its ``recheck_at`` passes."""

    def __init__(
        self,
        table: WarningTable,
        index: IndexTable,
        facts: Facts,
        catalogue: Catalogue,
        access: Access | None = None,
        index_updated: asyncio.Event | None = None,
        calendar: WorkCalendar | None = None,
        clock: Callable[[], float] = time.time,
        filing_item: str | None = None,
        settle: float = SETTLE,
    ) -> None:
        self.table = table
        self.settle = settle
        self.index = index
        self.facts = facts
        self.catalogue = catalogue
        self.access = access
        self.index_updated = index_updated
        self.calendar = calendar or WorkCalendar.official()
        self.now = clock
        self.filing_item = filing_item  # the catalogue item of 秒批秒办 filings (settings.filing_item)
        self.stats = {"assessments": 0, "seconds": 0.0}
        self.running = False  # this process runs ``run`` (the node's one assessing process)

    def timeline(self, project: str) -> ProjectTimeline | None:
        """The supervision timeline of ``project`` (its id, 0x…) from its confirmed records; None if unknown."""
        code = self.index.project_code(project)
        if code is None:
            return None
        registrar = self.index.registrant(project) or 0
        with self.catalogue.held():  # one look at the catalogue for all the project's approvals
            return build_timeline(self.facts.project(project), code, registrar, self.catalogue)

    def scan(self) -> int:
        """Marks due every project that got a record since the cursor; how many rows were read."""
        cursor = self.table.cursor()
        read = 0
        while True:
            rows = self.index.records_after(cursor, SCAN_BATCH)
            if not rows:
                return read
            projects = {str(r["project"]) for r in rows if int(str(r["project"]), 16) != 0}
            cursor = int(rows[-1]["rowid"])
            self.table.mark_due(sorted(projects), cursor, self.now() + self.settle)
            read += len(rows)
            if len(rows) < SCAN_BATCH:
                return read

    def evaluate_due(self, limit: int = DUE_BATCH) -> int:
        """Re-assesses the projects that are due; how many."""
        now = self.now()
        due = self.table.due(now, limit)
        assessments = [self._assess(project, now) for project in due]
        started = time.perf_counter()
        self.table.apply_many(assessments, now)
        self.stats["seconds"] += time.perf_counter() - started  # the commit is part of their cost
        return len(due)

    def step(self) -> int:
        """One scan and every due project re-assessed; how many were."""
        self.scan()
        done = 0
        while True:
            n = self.evaluate_due()
            done += n
            if n < DUE_BATCH:
                return done

    def assess_project(self, project: str, now: float) -> list[tuple[int, str]]:
        """Assesses one project at ``now`` and stores the transitions; the (warning id, transition) written."""
        return self.table.apply_many([self._assess(project, now)], now)

    def _assess(self, project: str, now: float) -> Assessment:
        """One project's assessment at ``now``: its warnings' transitions and its next look."""
        started = time.perf_counter()
        timeline = self.timeline(project)
        if timeline is None:
            return Assessment(project)
        result = assess(timeline, _utc(now), calendar=self.calendar)
        before = [_risk(r) for r in self.table.open_of(project)]
        step = diff(before, result.warnings)
        code, region = timeline.project, timeline.region
        self.stats["assessments"] += 1
        self.stats["seconds"] += time.perf_counter() - started
        return Assessment(
            project,
            [_stored(w, code, region) for w in step.opened],
            [_stored(w, code, region) for w in step.changed],
            [(w.rule, w.subject) for w in step.closed],
            None if result.recheck_at is None else result.recheck_at.timestamp(),
        )

    # -- reads for the API ---------------------------------------------------------------------
    def visible_projects(self, org: Organization | None) -> list[str] | None:
        """The projects whose warnings ``org`` sees: None for all (a reading role), else those it holds a
        live grant on (a bank); nothing for a public caller or a suspended organisation."""
        if org is None or org.suspended:
            return []
        if any(org.has(role) for role in ROLE_READERS):
            return None
        if self.access is None:
            return []
        return [
            p for p in self.index.granted_projects(org.id)
            if self.access.live_grant(org, p, "records") is not None
            or self.access.live_grant(org, p, "documents") is not None
        ]  # fmt: skip

    def warnings(
        self, org: Organization | None, f: WarningFilter, after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the warnings ``org`` may see, newest first, and the cursor of the next page."""
        visible = self.visible_projects(org)
        if visible is not None:
            f = dataclasses.replace(
                f, projects=visible if f.projects is None else [p for p in f.projects if p in visible]
            )
        rows = self.table.search(f, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        history = self.table.history([int(r["id"]) for r in rows])
        return [warning_view(r, history[int(r["id"])]) for r in rows], int(rows[-1]["id"]) if more else None

    def clock(self, project: str) -> dict[str, Any] | None:
        """Per item elapsed / remaining / state, and the project's 50/90 clock, at this instant."""
        timeline = self.timeline(project)
        if timeline is None:
            return None
        now = _utc(self.now())
        items, project_figure = clocks(timeline, now, self.calendar)
        return {
            "project_code": timeline.project,
            "as_of": now.isoformat().replace("+00:00", "Z"),
            "calendar": self.calendar.label,
            "items": [_item_view(h, c) for h, c in items],
            "project": _project_view(project_figure),
        }

    def figures(self) -> dict[str, float]:
        """Counters for /metrics: assessments made, seconds spent on them (this process's own where it
        runs ``run``, else what the running process published last), projects due now, warnings open."""
        counters = self.stats if self.running else self.table.published_figures()
        return {
            "warning_assessments": counters.get("assessments", 0.0),
            "warning_assessment_seconds": counters.get("seconds", 0.0),
            "warning_projects_due": self.table.count_due(self.now()),
            "warnings_open": self.table.count_open(),
        }

    def targets(self, region_prefix: str) -> TargetReport:
        """The four seed targets (即办, 秒批, 承诺制, 50/90) over the projects of a division, now.

        秒批 counts the filings whose 受理 (the submission instant, recorded by POST /v1/filings) and
        批复 are on chain, measured from the one to the other's block time.
        """
        now = _utc(self.now())
        items: list[DecidedItem] = []
        filings: list[Filing] = []
        figures: list[ProjectFigure] = []
        for row in self.index.projects_in_region(region_prefix):
            timeline = self.timeline(str(row["project"]))
            if timeline is None:
                continue
            items += decided_items(timeline)
            if self.filing_item is not None:
                filings += filings_of(timeline, self.filing_item)
            if timeline.handlings:
                _, figure = clocks(timeline, now, self.calendar)
                figures.append(ProjectFigure(timeline.region, timeline.project, figure))
        return target_report(items, filings, figures, self.calendar.label, now)

    async def run(self) -> None:
        """The node's one assessing process (``node_api.node.runs_supervision``): follows the index and
        re-assesses due projects, forever, publishing its counters when they move; errors only delay it.
        """
        self.running = True
        log.info("supervision: this process assesses the warnings", extra={"pid": os.getpid()})
        published: dict[str, float] | None = None
        while True:
            try:
                # On the event loop, like every other user of the node's one database connection,
                # in small slices so that requests are served in between.
                self.scan()
                while self.evaluate_due(SLICE) == SLICE:
                    await asyncio.sleep(0)
                if self.stats != published:  # for the /metrics of the node's other processes
                    self.table.publish_figures(self.stats)
                    published = dict(self.stats)
            except Exception:
                log.exception("supervision: assessing warnings failed; retrying")
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(asyncio.sleep(POLL))]
            if self.index_updated is not None:
                waiters.append(asyncio.ensure_future(self.index_updated.wait()))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await w


def _d(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _item_view(h: Handling, c: ItemClock) -> dict[str, Any]:
    return {
        "acceptance": h.uid,
        "item": h.item,
        "stage": h.stage,
        "department": h.department,
        "accepted_at": h.accepted_at.isoformat().replace("+00:00", "Z"),
        "decision": None if h.decision is None else {"uid": h.decision.uid, "outcome": h.decision.outcome},
        "pauses": [
            {
                "reason": p.reason,
                "start": p.start.isoformat().replace("+00:00", "Z"),
                "end": None if p.end is None else p.end.isoformat().replace("+00:00", "Z"),
                "uid": p.uid,
            }
            for p in h.pauses
        ],
        "limit_days": c.limit,
        "elapsed": c.elapsed,
        "paused_days": c.paused_days,
        "remaining": c.remaining,
        "overdue_by": c.overdue_by,
        "due": _d(c.due),
        "state": str(c.state),
        "paused_now": c.paused_now,
        "note": c.note,
    }


def _project_view(c: ProjectClock) -> dict[str, Any]:
    return {
        "started": _d(c.started),
        "ended": _d(c.ended),
        "elapsed": c.elapsed,
        "gross": c.gross,
        "paused_days": c.paused_days,
        "target": c.target,
        "maximum": c.maximum,
        "remaining_to_target": c.remaining_to_target,
        "remaining_to_maximum": c.remaining_to_maximum,
        "target_day": _d(c.target_day),
        "maximum_day": _d(c.maximum_day),
        "state": str(c.state),
        "paused_now": c.paused_now,
        "note": c.note,
    }


def _stored(w: RiskWarning, code: str, region: str) -> StoredWarning:
    return StoredWarning(
        rule=w.rule,
        rule_version=w.rule_version,
        project=w.project,
        project_code=code,
        region=region,
        subject=w.subject,
        severity=w.severity,
        responsible=w.responsible,
        evidence=w.evidence,
        first_fired_at=w.first_fired_at.timestamp(),
        detail=w.detail,
    )


def _risk(row: Any) -> RiskWarning:
    return RiskWarning(
        rule=str(row["rule"]),
        rule_version=int(row["rule_version"]),
        severity=str(row["severity"]),
        project=str(row["project_code"]),
        subject=str(row["subject"]),
        responsible=None if row["responsible"] is None else int(row["responsible"]),
        evidence=tuple(json.loads(row["evidence"])),
        first_fired_at=_utc(float(row["first_fired_at"])),
        detail=str(row["detail"]),
    )


def warning_view(row: Any, history: list[Any] | None = None) -> dict[str, Any]:
    """A stored warning as the API shows it."""

    def iso(ts: Any) -> str | None:
        return None if ts is None else _utc(float(ts)).isoformat().replace("+00:00", "Z")

    view: dict[str, Any] = {
        "id": int(row["id"]),
        "rule": row["rule"],
        "rule_version": int(row["rule_version"]),
        "severity": row["severity"],
        "project_code": row["project_code"],
        "region": row["region"],
        "subject": row["subject"] or None,
        "responsible": row["responsible"],
        "evidence": json.loads(row["evidence"]),
        "first_fired_at": iso(row["first_fired_at"]),
        "detail": row["detail"],
        "state": "open" if row["closed_at"] is None else "closed",
        "opened_at": iso(row["opened_at"]),
        "closed_at": iso(row["closed_at"]),
    }
    if history is not None:
        view["history"] = [{"transition": h["transition"], "at": iso(h["at"]), "severity": h["severity"]}
                           for h in history]  # fmt: skip
    return view


def targets_view(report: TargetReport) -> dict[str, Any]:
    """A target report as JSON: each table's rows with their shares, the calendar named."""

    def share_row(r: Any) -> dict[str, Any]:
        return {**dataclasses.asdict(r), "share": r.share, "met": r.met}

    return {
        "calendar": report.calendar,
        "as_of": report.as_of.isoformat().replace("+00:00", "Z"),
        "same_day": [share_row(r) for r in report.same_day],
        "instant_filing": [share_row(r) for r in report.instant_filing],
        "commitment": [share_row(r) for r in report.commitment],
        "project_days": [
            {
                **dataclasses.asdict(r),
                "share_within_target": r.share_within_target,
                "share_within_maximum": r.share_within_maximum,
            }
            for r in report.project_days
        ],
    }
