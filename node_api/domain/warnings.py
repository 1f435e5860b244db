"""Risk warnings (风险监测预警): pure rules over a project's timeline, versioned in one file.

``assess(timeline, now)`` answers the warnings that hold at ``now`` and ``recheck_at``, the
earliest instant at which they can change without a new fact; ``diff(before, after)`` the
transitions between two evaluations. The node keeps, per project, the last warnings and
``recheck_at``; it re-assesses a project when one of its facts changes or when its
``recheck_at`` has passed (the daily tick selects only those), and appends ``diff``'s opened
and closed warnings to its history. Nothing here reads a clock or a database: the same facts
and ``now`` give the same warnings on every node.

A warning is identified by ``key`` = (rule, project, subject): the subject is the uid of the
record it is about (a 受理, a commitment, an approval, an event …), "" for the project as a
whole. ``first_fired_at`` comes from the facts — the instant the cause began (the day after a
due date, a commitment's missed day, the event's record) — not from when a node first looked.

The rules, thresholds, severities and sources are in ``warning_rules.json`` (its ``version``
is carried by every warning); docs/supervision.md explains each one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from node_api.domain.clock import (
    Interval,
    ItemClock,
    ItemState,
    Pause,
    ProjectState,
    counted_day,
    item_clock,
    project_clock,
)
from node_api.domain.timeline import Approval, Handling, ProjectTimeline
from node_api.domain.workdays import CalendarNotCovered, WorkCalendar, beijing_date, beijing_midnight

SEVERITIES = ("low", "medium", "high")
RULE_IDS = (
    "item.overdue",
    "item.due_soon",
    "project.over_target",
    "project.over_maximum",
    "commitment.overdue",
    "approval.expired_relied_on",
    "event.unresolved",
    "objection.late",
    "repair.late",
    "construction.before_permit",
    "project.stalled",
    "calendar.uncovered",
)
EVENT_SEVERITIES = ("slight", "general", "serious")


# ---- the rules file ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    threshold: int | Mapping[str, int] | None
    unit: str | None
    title_zh: str
    title_en: str
    source: str
    assumption: str | None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def days(self) -> int:
        """The threshold as one number (rules with a plain threshold)."""
        if not isinstance(self.threshold, int):
            raise TypeError(f"rule {self.id} has no single threshold")
        return self.threshold

    def days_for(self, key: str) -> int:
        """The threshold for ``key`` (rules with a threshold per kind, e.g. event severity)."""
        if not isinstance(self.threshold, Mapping):
            raise TypeError(f"rule {self.id} has no threshold per kind")
        return int(self.threshold[key])


@dataclass(frozen=True)
class RuleSet:
    version: int
    rules: Mapping[str, Rule]

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]


_RULE_KEYS = {"id", "severity", "threshold", "unit", "title_zh", "title_en", "source", "assumption"}
_PARAMS = {"commitment.overdue": {"commitment_types"}, "construction.before_permit": {"categories"}}
_THRESHOLD_PER = {"event.unresolved": EVENT_SEVERITIES}
_NO_THRESHOLD = {"construction.before_permit", "calendar.uncovered"}


def load_rules(text: str) -> RuleSet:
    """Parses and checks a rules file: every rule the engine knows, once, well-formed."""
    raw = json.loads(text)
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("warning rules: version must be an integer >= 1")
    rules: dict[str, Rule] = {}
    for entry in raw.get("rules", []):
        rule_id = entry.get("id")
        if rule_id not in RULE_IDS:
            raise ValueError(f"warning rules: unknown rule {rule_id!r}")
        if rule_id in rules:
            raise ValueError(f"warning rules: {rule_id} twice")
        wanted = _RULE_KEYS | _PARAMS.get(rule_id, set())
        missing, extra = wanted - entry.keys(), entry.keys() - wanted
        if missing or extra:
            raise ValueError(
                f"warning rules: {rule_id}: missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        if entry["severity"] not in SEVERITIES:
            raise ValueError(f"warning rules: {rule_id}: severity must be one of {SEVERITIES}")
        threshold = entry["threshold"]
        if rule_id in _NO_THRESHOLD:
            ok = threshold is None
        elif rule_id in _THRESHOLD_PER:
            ok = isinstance(threshold, dict) and set(threshold) == set(_THRESHOLD_PER[rule_id])
            ok = ok and all(isinstance(v, int) and v >= 0 for v in threshold.values())
        else:
            ok = isinstance(threshold, int) and not isinstance(threshold, bool) and threshold >= 0
        if not ok:
            raise ValueError(f"warning rules: {rule_id}: bad threshold {threshold!r}")
        params = {k: tuple(entry[k]) for k in _PARAMS.get(rule_id, set())}
        if not all(v and all(isinstance(x, str) and x for x in v) for v in params.values()):
            raise ValueError(f"warning rules: {rule_id}: {sorted(params)} must be lists of names")
        rules[rule_id] = Rule(
            id=rule_id,
            severity=entry["severity"],
            threshold=threshold,
            unit=entry["unit"],
            title_zh=entry["title_zh"],
            title_en=entry["title_en"],
            source=entry["source"],
            assumption=entry["assumption"],
            params=params,
        )
    if set(rules) != set(RULE_IDS):
        raise ValueError(f"warning rules: missing {sorted(set(RULE_IDS) - set(rules))}")
    return RuleSet(version, rules)


def _packaged_rules() -> RuleSet:
    # Checked on import: a broken rules file fails the first test run, not the first evaluation.
    text = resources.files("node_api.domain").joinpath("warning_rules.json").read_text(encoding="utf-8")
    return load_rules(text)


RULES = _packaged_rules()


# ---- warnings and their transitions -----------------------------------------------------


@dataclass(frozen=True)
class RiskWarning:
    """One warning that holds; equal warnings hold for the same cause with the same attributes."""

    rule: str
    rule_version: int
    severity: str
    project: str
    subject: str  # uid of the record it is about, "" for the project
    responsible: int | None  # organisation id
    evidence: tuple[str, ...]  # record uids
    first_fired_at: dt.datetime
    detail: str = field(default="", compare=False)  # figures of the moment (not part of equality)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.project, self.subject)


@dataclass(frozen=True)
class Assessment:
    warnings: frozenset[RiskWarning]
    recheck_at: dt.datetime | None  # None: nothing changes until a new fact


@dataclass(frozen=True)
class Transitions:
    opened: tuple[RiskWarning, ...]
    closed: tuple[RiskWarning, ...]  # as they last held
    changed: tuple[RiskWarning, ...]  # still open, other attributes (severity, evidence, …): the new ones


def diff(before: Iterable[RiskWarning], after: Iterable[RiskWarning]) -> Transitions:
    """What changed between two evaluations (of one project, or of many), by warning key."""
    old = {w.key: w for w in before}
    new = {w.key: w for w in after}

    def order(w: RiskWarning) -> tuple[str, str, str]:
        return w.key

    return Transitions(
        opened=tuple(sorted((w for k, w in new.items() if k not in old), key=order)),
        closed=tuple(sorted((w for k, w in old.items() if k not in new), key=order)),
        changed=tuple(sorted((w for k, w in new.items() if k in old and old[k] != w), key=order)),
    )


# ---- evaluation -------------------------------------------------------------------------


class _Run:
    """One evaluation: collects warnings, the next instant to look again, uncountable facts."""

    def __init__(self, timeline: ProjectTimeline, now: dt.datetime, rules: RuleSet, calendar: WorkCalendar):
        self.t, self.now, self.rules, self.cal = timeline, now, rules, calendar
        self.warnings: list[RiskWarning] = []
        self.candidates: list[dt.datetime] = []
        self.uncovered: dict[int, list[str]] = {}

    def fire(
        self,
        rule_id: str,
        subject: str,
        responsible: int | None,
        evidence: Iterable[str],
        since: dt.datetime,
        detail: str,
    ) -> None:
        rule = self.rules[rule_id]
        self.warnings.append(
            RiskWarning(
                rule=rule_id,
                rule_version=self.rules.version,
                severity=rule.severity,
                project=self.t.project,
                subject=subject,
                responsible=responsible,
                evidence=tuple(dict.fromkeys(e for e in evidence if e)),
                first_fired_at=since,
                detail=detail,
            )
        )

    def later(self, instant: dt.datetime | None) -> None:
        """Look again at ``instant`` if it is still to come."""
        if instant is not None and instant > self.now:
            self.candidates.append(instant)

    def uncountable(self, year: int, uid: str) -> None:
        self.uncovered.setdefault(year, []).append(uid)
        self.later(beijing_midnight(dt.date(year, 1, 1)))

    def day(self, start: dt.date, n: int, gaps: Sequence[Interval]) -> dt.datetime | None:
        """Midnight of the n-th counted day; beyond the calendar, Jan 1 of the year it lacks."""
        try:
            found = counted_day(self.cal, start, n, gaps)
        except CalendarNotCovered as e:
            return beijing_midnight(dt.date(e.year, 1, 1))
        return None if found is None else beijing_midnight(found)

    def clock(self, accepted: dt.datetime, limit: int, pauses: Iterable[Pause], uid: str) -> ItemClock | None:
        """The clock of something still open (an item, an event, an objection …), None if uncountable."""
        c = item_clock(accepted, limit, pauses, None, self.now, self.cal)
        if c.state is ItemState.UNCOUNTED:
            self.uncountable(beijing_date(self.now).year, uid)
            return None
        return c

    def limit_rule(
        self,
        rule_id: str,
        c: ItemClock,
        subject: str,
        responsible: int | None,
        evidence: Iterable[str],
        what: str,
    ) -> None:
        """Fires ``rule_id`` when clock ``c`` is overdue; otherwise looks again when it will be."""
        if c.state is ItemState.OVERDUE:
            since = self.day(c.accepted, c.limit + 1, c.gaps) or self.now
            self.fire(
                rule_id,
                subject,
                responsible,
                evidence,
                since,
                f"{what}: {c.elapsed} of {c.limit} working days, overdue by {c.overdue_by}",
            )
        elif c.state is ItemState.RUNNING:
            self.later(self.day(c.accepted, c.limit + 1, c.gaps))

    def result(self) -> Assessment:
        for year, uids in sorted(self.uncovered.items()):
            self.fire(
                "calendar.uncovered",
                "",
                None,
                uids,
                beijing_midnight(dt.date(year, 1, 1)),
                f"calendar does not cover {year} ({self.cal.label})",
            )
        return Assessment(frozenset(self.warnings), min(self.candidates, default=None))


def _pause_uids(pauses: Iterable[Pause]) -> list[str]:
    return [u for p in pauses for u in (p.uid, p.end_uid)]


def _items(run: _Run) -> None:
    soon = run.rules["item.due_soon"].days
    for h in run.t.handlings:
        if not h.open_at(run.now):
            continue  # not accepted yet, or decided: nothing to warn of
        c = run.clock(h.accepted_at, h.limit_days, h.pauses, h.uid)
        if c is None:
            continue
        evidence = [h.uid, *_pause_uids(p for p in h.pauses if p.start <= run.now)]
        run.limit_rule("item.overdue", c, h.uid, h.department, evidence, f"item {h.item}")
        if c.state is not ItemState.RUNNING or c.remaining is None:
            continue
        if c.remaining <= soon:
            resumed = [p.end for p in h.pauses if p.end is not None and p.end <= run.now]
            threshold = run.day(c.accepted, c.limit - soon, c.gaps) or h.accepted_at
            since = max([threshold, h.accepted_at, *resumed])
            run.fire(
                "item.due_soon",
                h.uid,
                h.department,
                evidence,
                since,
                f"item {h.item}: {c.remaining} working days left, due {c.due}",
            )
        else:
            run.later(run.day(c.accepted, c.limit - soon, c.gaps))


def _oldest_open(t: ProjectTimeline, now: dt.datetime) -> Handling | None:
    return min((h for h in t.handlings if h.open_at(now)), key=lambda h: h.accepted_at, default=None)


def _project(run: _Run) -> None:
    t, now = run.t, run.now
    permit = t.permit(now)
    target, maximum = run.rules["project.over_target"].days, run.rules["project.over_maximum"].days
    spans = [h.span for h in t.handlings]
    if permit is not None:
        return  # a permitted project's figure goes to the reports, not to a warning
    pc = project_clock(spans, None, now, run.cal, target, maximum)
    if pc.state is ProjectState.UNCOUNTED:
        first = min(t.handlings, key=lambda h: h.accepted_at)
        run.uncountable(beijing_date(now).year, first.uid)
        return
    if pc.started is None or pc.elapsed is None:
        return  # no 受理 yet
    first = min((h for h in t.handlings if h.accepted_at <= now), key=lambda h: h.accepted_at)
    oldest = _oldest_open(t, now)
    responsible = oldest.department if oldest is not None else t.registrar
    evidence = [first.uid, *(h.uid for h in t.handlings if h.open_at(now))]
    for rule_id, limit in (("project.over_target", target), ("project.over_maximum", maximum)):
        if pc.elapsed > limit:
            since = run.day(pc.started, limit + 1, pc.gaps) or now
            run.fire(
                rule_id,
                "",
                responsible,
                evidence,
                since,
                f"{pc.elapsed} working days since the first 受理, limit {limit}",
            )
        elif not pc.paused_now:
            run.later(run.day(pc.started, limit + 1, pc.gaps))


def _commitments(run: _Run) -> None:
    rule = run.rules["commitment.overdue"]
    today = beijing_date(run.now)
    for c in run.t.commitments:
        if c.commitment_type not in rule.params["commitment_types"] or c.due is None:
            continue
        if not c.pending_at(run.now):
            continue
        missed = c.due + dt.timedelta(days=1)
        if today >= missed:
            run.fire(
                "commitment.overdue",
                c.uid,
                c.issuer,
                [c.uid, c.approval or ""],
                beijing_midnight(missed),
                f"{c.commitment_type} due {c.due.isoformat()}, not fulfilled",
            )
        else:
            run.later(beijing_midnight(missed))


def _latest_live_approvals(t: ProjectTimeline, now: dt.datetime) -> list[Approval]:
    latest: dict[str, Approval] = {}
    for a in t.approvals:
        # An item whose code is not a text is known by no other approval: its approval stands alone
        # (a uid, 66 characters, is longer than any item code, 64 bytes at most).
        item = a.uid if a.item is None else a.item
        if a.live and a.issued_at <= now and (item not in latest or a.issued_at >= latest[item].issued_at):
            latest[item] = a
    return list(latest.values())


def _approvals(run: _Run) -> None:
    for a in _latest_live_approvals(run.t, run.now):
        if a.valid_until is None:
            continue
        relying = [
            h for h in run.t.handlings if h.open_at(run.now) and (h.stage > a.stage or a.item in h.depends_on)
        ]
        expired_from = beijing_midnight(a.valid_until + dt.timedelta(days=1))
        if not relying:
            continue  # only a new 受理 (a fact) can make it relied on
        if a.expired_at(run.now):
            since = max(expired_from, min(h.accepted_at for h in relying))
            run.fire(
                "approval.expired_relied_on",
                a.uid,
                a.issuer,
                [a.uid, *(h.uid for h in relying)],
                since,
                f"{a.item or 'an item whose code is not UTF-8'} valid until {a.valid_until.isoformat()}, relied on by "
                + ", ".join(sorted(h.item for h in relying)),
            )
        else:
            run.later(expired_from)


def _events(run: _Run) -> None:
    rule = run.rules["event.unresolved"]
    late = run.rules["objection.late"].days
    for e in run.t.events:
        if e.recorded_at > run.now:
            continue
        pauses = [Pause(o.lodged_at, o.decided_at, "异议", o.uid, o.decided_uid or "") for o in e.objections]
        resolved = e.resolved_at is not None and e.resolved_at <= run.now
        c = None if resolved else run.clock(e.recorded_at, rule.days_for(e.severity), pauses, e.uid)
        if c is not None:
            evidence = [e.uid, *e.evidence, *_pause_uids(pauses)]
            run.limit_rule(
                "event.unresolved", c, e.uid, e.issuer, evidence, f"{e.severity} event {e.category}"
            )
        for o in e.objections:
            if o.lodged_at > run.now or (o.decided_at is not None and o.decided_at <= run.now):
                continue
            oc = run.clock(o.lodged_at, late, (), o.uid)
            if oc is not None:
                run.limit_rule("objection.late", oc, o.uid, e.issuer, [o.uid, e.uid], f"objection to {e.uid}")


def _repairs(run: _Run) -> None:
    late = run.rules["repair.late"].days
    for r in run.t.repair_requests:
        if r.requested_at > run.now or (r.handled_at is not None and r.handled_at <= run.now):
            continue
        c = run.clock(r.requested_at, late, (), r.uid)
        if c is not None:
            run.limit_rule("repair.late", c, r.uid, r.org, [r.uid, r.event], f"repair of {r.event}")


def _stage_department(t: ProjectTimeline, stage: int) -> int:
    handled = [h for h in t.handlings if h.stage == stage]
    return max(handled, key=lambda h: h.accepted_at).department if handled else t.registrar


def _construction(run: _Run) -> None:
    t, now = run.t, run.now
    categories = run.rules["construction.before_permit"].params["categories"]
    cases = [e for e in t.events if e.category in categories and e.recorded_at <= now]
    for e in cases:
        if e.resolved_at is None or e.resolved_at > now:
            run.fire(
                "construction.before_permit",
                e.uid,
                e.issuer,
                [e.uid, *e.evidence],
                e.recorded_at,
                f"event {e.category}",
            )
    permit = t.permit(now)
    for w in t.work_evidence:
        if w.at > now or (permit is not None and w.at >= permit.issued_at):
            continue
        if any(e.recorded_at >= w.at for e in cases):
            continue  # taken up by a 未批先建 event, which carries the warning until resolved
        run.fire(
            "construction.before_permit",
            w.uid,
            _stage_department(t, 3),
            [w.uid],
            w.at,
            "work evidence before the construction permit",
        )


def add_months(instant: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months later (clamped to the month's last day)."""
    month0 = instant.month - 1 + months
    year, month = instant.year + month0 // 12, month0 % 12 + 1
    next_first = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return instant.replace(year=year, month=month, day=min(instant.day, last_day))


def _stalled(run: _Run) -> None:
    t, now = run.t, run.now
    permit = t.permit(now)
    if permit is None or t.completed(now):
        return
    last_at, last_uid = permit.issued_at, permit.uid
    if t.last_record_at is not None and last_at < t.last_record_at <= now:
        last_at, last_uid = t.last_record_at, t.last_record_uid or ""
    due = add_months(last_at, run.rules["project.stalled"].days)
    if now >= due:
        run.fire(
            "project.stalled",
            "",
            permit.issuer,
            [permit.uid, last_uid],
            due,
            f"no record since {last_at.isoformat()}",
        )
    else:
        run.later(due)


def _future_facts(run: _Run) -> None:
    """Facts dated after ``now`` (a replay of the past): look again when each comes."""
    t = run.t
    for h in t.handlings:
        run.later(h.accepted_at)
        run.later(None if h.decision is None else h.decision.at)
        for p in h.pauses:
            run.later(p.start)
            run.later(p.end)
    for a in t.approvals:
        run.later(a.issued_at)
    for c in t.commitments:
        run.later(c.settled_at)
    for e in t.events:
        run.later(e.recorded_at)
        run.later(e.resolved_at)
        for o in e.objections:
            run.later(o.lodged_at)
            run.later(o.decided_at)
    for r in t.repair_requests:
        run.later(r.requested_at)
        run.later(r.handled_at)
    for w in t.work_evidence:
        run.later(w.at)


_RULE_GROUPS = (
    _items,
    _project,
    _commitments,
    _approvals,
    _events,
    _repairs,
    _construction,
    _stalled,
    _future_facts,
)


def assess(
    timeline: ProjectTimeline,
    now: dt.datetime,
    rules: RuleSet | None = None,
    calendar: WorkCalendar | None = None,
) -> Assessment:
    """The warnings of one project at ``now``, and when to look again without a new fact."""
    beijing_date(now)  # refuses a naive ``now``
    run = _Run(timeline, now, rules or RULES, calendar or WorkCalendar.official())
    for group in _RULE_GROUPS:
        group(run)
    return run.result()


def evaluate(
    timeline: ProjectTimeline,
    now: dt.datetime,
    rules: RuleSet | None = None,
    calendar: WorkCalendar | None = None,
) -> frozenset[RiskWarning]:
    """The warnings of one project at ``now``."""
    return assess(timeline, now, rules, calendar).warnings
