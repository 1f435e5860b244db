"""An owner's credit grade (信用画像 分级分类): pure rules over its chain facts, versioned in one file.

The interface (the verification certificate calls it too):

- ``grade(facts, as_of, rules=RULES, scope=FULL) -> Grade``: the letter (A best … D worst), the
  rules version, the basis (``full`` / ``granted`` / ``public``: which facts it was computed over)
  and the causes (each firing rule with the uids of the facts that made it fire);
- ``credit_history.history(facts, points, …)``: every change of the grade with its cause.

Facts are the owner's events and commitments with their status changes, each with the block and
block time of the record that proves it. ``AsOf(block, at)`` picks what is known: a fact or a
change counts when its block is ≤ ``block``; the time-dependent rules read ``at`` (the block's
timestamp when a past block is asked for), in Beijing days. Nothing here reads a clock or a
database: the same facts and ``as_of`` give the same grade on every node.

Which facts count (docs/credit.md): an event counts while it is within its publicity window
(公示截止期, through ``publish_until``; ``domain/publicity.py`` owns the rule) and neither repaired (信用修复 stops publication), annulled
(an upheld objection) nor superseded; a commitment is ``breached`` (counting for
``breach_counts_days`` after the breach record), ``overdue`` (pending past its due day),
``pending``, ``fulfilled`` or ``superseded``. Which facts are public: commitments (their on-chain
fields, as the 扫码亮证 page shows them) and events of ``public_event_severities`` that count.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from node_api.domain.publicity import PUBLISHABLE, in_window, window_end
from node_api.domain.workdays import beijing_date

GRADES = ("A", "B", "C", "D")  # best to worst
EVENT_SEVERITIES = ("slight", "general", "serious")
EVENT_STATES = PUBLISHABLE  # the states of an event that still counts (within its window)
COMMITMENT_OUTCOMES = ("breached", "overdue")
BASES = ("full", "granted", "public")


# ---- the rules file ---------------------------------------------------------------------


@dataclass(frozen=True)
class CreditRule:
    id: str
    grade: str
    fact: str  # event | commitment
    at_least: int
    title_zh: str
    title_en: str
    source: str
    assumption: str | None
    severities: tuple[str, ...] = ()  # events: which severities
    states: tuple[str, ...] = ()  # events: which of EVENT_STATES
    outcomes: tuple[str, ...] = ()  # commitments: which of COMMITMENT_OUTCOMES


@dataclass(frozen=True)
class CreditRules:
    version: int
    rules: tuple[CreditRule, ...]  # in file order
    public_event_severities: tuple[str, ...]
    breach_counts_days: int

    def __getitem__(self, rule_id: str) -> CreditRule:
        return next(r for r in self.rules if r.id == rule_id)


_COMMON = {"id", "grade", "fact", "at_least", "title_zh", "title_en", "source", "assumption"}
_BY_FACT = {"event": {"severities", "states"}, "commitment": {"outcomes"}}
_ALLOWED = {"severities": EVENT_SEVERITIES, "states": EVENT_STATES, "outcomes": COMMITMENT_OUTCOMES}


def _names(raw: Any, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) and x in allowed for x in raw):
        raise ValueError(f"credit rules: {what} must be a non-empty list of {allowed}")
    return tuple(raw)


def _count(raw: Any, what: str, least: int) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < least:
        raise ValueError(f"credit rules: {what} must be an integer >= {least}")
    return raw


def load_rules(text: str) -> CreditRules:
    """Parses and checks a rules file: known grades, facts and states; each rule once, well-formed."""
    raw = json.loads(text)
    version = _count(raw.get("version"), "version", 1)
    if raw.get("grades") != list(GRADES):
        raise ValueError(f"credit rules: grades must be {list(GRADES)}")
    rules: list[CreditRule] = []
    for entry in raw.get("rules", []):
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not rule_id or any(r.id == rule_id for r in rules):
            raise ValueError(f"credit rules: rule id {rule_id!r} missing or repeated")
        fact = entry.get("fact")
        if fact not in _BY_FACT:
            raise ValueError(f"credit rules: {rule_id}: fact must be one of {sorted(_BY_FACT)}")
        wanted = _COMMON | _BY_FACT[fact]
        missing, extra = wanted - entry.keys(), entry.keys() - wanted
        if missing or extra:
            raise ValueError(
                f"credit rules: {rule_id}: missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        if entry["grade"] not in GRADES[1:]:
            raise ValueError(
                f"credit rules: {rule_id}: grade must be one of {GRADES[1:]} (A is no rule firing)"
            )
        lists = {k: _names(entry[k], _ALLOWED[k], f"{rule_id}.{k}") for k in _BY_FACT[fact]}
        rules.append(
            CreditRule(
                id=rule_id,
                grade=entry["grade"],
                fact=fact,
                at_least=_count(entry["at_least"], f"{rule_id}.at_least", 1),
                title_zh=entry["title_zh"],
                title_en=entry["title_en"],
                source=entry["source"],
                assumption=entry["assumption"],
                **lists,
            )
        )
    if not rules:
        raise ValueError("credit rules: no rules")
    return CreditRules(
        version=version,
        rules=tuple(rules),
        public_event_severities=_names(
            raw.get("public_event_severities"), EVENT_SEVERITIES, "public_event_severities"
        ),
        breach_counts_days=_count(raw.get("breach_counts_days"), "breach_counts_days", 1),
    )


def _packaged_rules() -> CreditRules:
    # Checked on import: a broken rules file fails the first test run, not the first grade.
    text = resources.files("node_api.domain").joinpath("credit_rules.json").read_text(encoding="utf-8")
    return load_rules(text)


RULES = _packaged_rules()


# ---- facts ------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class AsOf:
    """What is known: records in blocks ≤ ``block``; time-dependent rules read ``at`` (aware)."""

    block: int
    at: dt.datetime


@dataclass(frozen=True)
class Change:
    """A status change of a record, as the chain recorded it (``chain_status``)."""

    status: str  # resolved | repaired | objected | open | annulled | fulfilled | breached | superseded …
    uid: str  # the record that caused it
    block: int
    at: dt.datetime  # its block time


@dataclass(frozen=True)
class EventFact:
    """An abnormal event (建设异常信息) of one of the owner's projects."""

    uid: str
    project: str  # project code
    category: str
    severity: str  # slight | general | serious
    occurred_on: dt.date | None  # None: the record names no day (``occurred_day``)
    publish_until: dt.date | None  # the last day of its publicity window (公示截止期)
    block: int
    at: dt.datetime  # its block time
    changes: tuple[Change, ...] = ()  # chain order
    issuer: int = 0  # the supervisor that recorded it (consortium id)
    evidence: tuple[str, ...] = ()  # evidence document digests

    @property
    def occurred_day(self) -> dt.date:
        """The day it occurred, or its block's (UTC) day when the record names none."""
        return self.occurred_on or self.at.date()

    def status_at(self, as_of: AsOf) -> str | None:
        """Its chain status at ``as_of`` (None: not recorded yet)."""
        return _status_at("open", self.block, self.changes, as_of)

    def window_end(self) -> dt.date:
        """The last day it is published (``publicity.window_end``)."""
        return window_end(self.publish_until, self.occurred_day, self.severity)

    def in_window(self, as_of: AsOf) -> bool:
        return beijing_date(as_of.at) <= self.window_end()

    def counts(self, as_of: AsOf) -> bool:
        """Recorded, within its publicity window, and neither repaired, annulled nor superseded
        (``publicity.in_window``)."""
        return in_window(self.status_at(as_of), self.window_end(), beijing_date(as_of.at))


@dataclass(frozen=True)
class CommitmentFact:
    """A credit commitment (信用承诺) the owner made on one of its projects."""

    uid: str
    project: str  # project code
    commitment_type: str  # approval_substitute | deficiency_acceptance | self_discipline | credit_repair
    due: dt.date | None  # its last day
    block: int
    at: dt.datetime
    changes: tuple[Change, ...] = ()
    issuer: int = 0  # the approval authority that accepted it (consortium id)
    approval: str | None = None  # the approval it is bound to (None: free-standing)

    def state_at(self, as_of: AsOf, rules: CreditRules | None = None) -> str | None:
        """pending | overdue | fulfilled | breached | superseded at ``as_of`` (None: not recorded yet).

        ``breached`` only while the breach counts (``breach_counts_days``); after that
        ``breached_expired``.
        """
        status = _status_at("pending", self.block, self.changes, as_of)
        if status == "pending" and self.due is not None and beijing_date(as_of.at) > self.due:
            return "overdue"
        if status == "breached":
            breach = self._breach(as_of)
            days = (rules or RULES).breach_counts_days
            if breach is not None and as_of.at >= breach.at + dt.timedelta(days=days):
                return "breached_expired"
        return status

    def _breach(self, as_of: AsOf) -> Change | None:
        return next((c for c in self.changes if c.status == "breached" and c.block <= as_of.block), None)


def _status_at(initial: str, block: int, changes: Iterable[Change], as_of: AsOf) -> str | None:
    if block > as_of.block:
        return None
    status = initial
    for c in changes:
        if c.block <= as_of.block:
            status = c.status
    return status


@dataclass(frozen=True)
class OwnerFacts:
    """Everything the grade reads about one owner (its USCC), across all its projects."""

    uscc: str
    events: tuple[EventFact, ...] = ()
    commitments: tuple[CommitmentFact, ...] = ()

    def all(self) -> tuple[EventFact | CommitmentFact, ...]:
        """The events, then the commitments."""
        return (*self.events, *self.commitments)

    def find(self, uid: str) -> EventFact | CommitmentFact | None:
        """The fact of record ``uid``."""
        return next((f for f in self.all() if f.uid == uid), None)

    def uids(self) -> dict[str, str]:
        """Each fact's uid → its project code."""
        return {f.uid: f.project for f in self.all()}


# ---- scope: which facts a viewer's grade is computed over -------------------------------


@dataclass(frozen=True)
class Scope:
    """``full``: every fact; ``granted``: public facts and all facts of ``projects``; ``public``: public facts."""

    basis: str = "full"
    projects: frozenset[str] = frozenset()


FULL = Scope("full")
PUBLIC = Scope("public")


def granted(projects: Iterable[str]) -> Scope:
    """The scope of a viewer who may read every fact of ``projects`` (project codes)."""
    return Scope("granted", frozenset(projects))


def event_public(e: EventFact, as_of: AsOf, rules: CreditRules | None = None) -> bool:
    """Whether an event is in the public part: of a published severity and counting (within its window)."""
    return e.severity in (rules or RULES).public_event_severities and e.counts(as_of)


def commitment_public(c: CommitmentFact, as_of: AsOf) -> bool:
    """Whether a commitment is in the public part: every recorded one (its on-chain fields are published)."""
    return c.block <= as_of.block


def visible(facts: OwnerFacts, as_of: AsOf, scope: Scope, rules: CreditRules | None = None) -> OwnerFacts:
    """The facts ``scope`` may see at ``as_of``."""
    if scope.basis == "full":
        return facts
    own = scope.projects if scope.basis == "granted" else frozenset()
    return OwnerFacts(
        uscc=facts.uscc,
        events=tuple(e for e in facts.events if e.project in own or event_public(e, as_of, rules)),
        commitments=tuple(c for c in facts.commitments if c.project in own or commitment_public(c, as_of)),
    )


# ---- the grade --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """A rule that fired, and the facts (record uids) that made it fire."""

    rule: str
    grade: str
    facts: tuple[str, ...]


@dataclass(frozen=True)
class Grade:
    letter: str  # A | B | C | D
    rules_version: int
    basis: str  # full | granted | public
    as_of: AsOf
    causes: tuple[Cause, ...]  # the rules that fired, worst first; empty for A
    counted: tuple[str, ...] = field(default=(), compare=False)  # uids of every fact that counts


def _matches(rule: CreditRule, facts: OwnerFacts, as_of: AsOf, rules: CreditRules) -> list[str]:
    if rule.fact == "event":
        return [
            e.uid
            for e in facts.events
            if e.severity in rule.severities and e.counts(as_of) and e.status_at(as_of) in rule.states
        ]
    return [c.uid for c in facts.commitments if c.state_at(as_of, rules) in rule.outcomes]


def _counted(facts: OwnerFacts, as_of: AsOf, rules: CreditRules) -> tuple[str, ...]:
    events = [e.uid for e in facts.events if e.counts(as_of)]
    commitments = [c.uid for c in facts.commitments if c.state_at(as_of, rules) in COMMITMENT_OUTCOMES]
    return tuple(events + commitments)


def grade(facts: OwnerFacts, as_of: AsOf, rules: CreditRules | None = None, scope: Scope = FULL) -> Grade:
    """The owner's grade at ``as_of`` over the facts ``scope`` may see (``Grade.basis`` says which)."""
    beijing_date(as_of.at)  # refuses a naive instant
    rules = rules or RULES
    seen = visible(facts, as_of, scope, rules)
    causes = []
    for rule in rules.rules:
        uids = _matches(rule, seen, as_of, rules)
        if len(uids) >= rule.at_least:
            causes.append(Cause(rule.id, rule.grade, tuple(uids)))
    causes.sort(key=lambda c: -GRADES.index(c.grade))  # stable: worst first, file order within
    letter = causes[0].grade if causes else GRADES[0]
    return Grade(letter, rules.version, scope.basis, as_of, tuple(causes), _counted(seen, as_of, rules))


def rules_document(rules: CreditRules | None = None) -> Mapping[str, Any]:
    """The rules as the API shows them beside a grade (version, each rule's grade, condition and source)."""
    rules = rules or RULES
    return {
        "version": rules.version,
        "grades": list(GRADES),
        "public_event_severities": list(rules.public_event_severities),
        "breach_counts_days": rules.breach_counts_days,
        "rules": [
            {
                "id": r.id,
                "grade": r.grade,
                "fact": r.fact,
                "at_least": r.at_least,
                **({"severities": list(r.severities), "states": list(r.states)} if r.fact == "event" else {}),
                **({"outcomes": list(r.outcomes)} if r.fact == "commitment" else {}),
                "title_zh": r.title_zh,
                "title_en": r.title_en,
            }
            for r in rules.rules
        ],
    }
