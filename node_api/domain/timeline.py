"""A project's supervision timeline: the chain facts the clock, the targets and the warnings read.

Plain data, one dataclass per kind of fact, built by the ledger from confirmed records
(the catalogue's items, 受理 / 暂停计时 / 恢复计时 / 批复, commitments, events and their
objections) and handed to the pure functions of ``domain/clock.py``, ``domain/targets.py``
and ``domain/warnings.py``. Every fact carries the uid of the record that proves it: the
warnings cite them as evidence.

Conventions: instants are aware ``datetime``: the record's business time, or its block time
where it has none; a date-only field the chain holds as a day (``issued_at``, ``occurred_at``)
is given as the Beijing midnight that day begins (``workdays.beijing_midnight``), while a last
valid day (``valid_until``, a commitment's ``due_at``) stays a ``date``, valid through its end
(as the reader shows it). The functions ignore facts dated after their ``now``; the
ledger builds a timeline from the records confirmed by then. Organisations are their consortium
ids (``uint32``, as a catalogue item's ``department`` and a uid's first four bytes); statuses,
decisions and types are the names of ``domain/records.py`` (``active``, ``approved_on_commitment``,
``deficiency_acceptance`` …) and of the catalogue (item 承诺制 type ``none`` for the negative
list, ``deficiency``, ``credit``, ``self_acceptance``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from node_api.domain.clock import Pause, Span
from node_api.domain.workdays import beijing_date

APPROVING = frozenset({"approved", "approved_on_commitment", "accepted_with_deficiencies"})
ON_COMMITMENT = frozenset({"approved_on_commitment", "accepted_with_deficiencies"})  # 信用承诺制 / 容缺受理
NEGATIVE_LIST = "none"  # an item's 承诺制 type when it is on the negative list (负面清单)


@dataclass(frozen=True)
class Decision:
    """The 批复 that closes a handling."""

    uid: str
    at: dt.datetime  # issued_at
    outcome: str  # approved | approved_on_commitment | accepted_with_deficiencies | rejected


@dataclass(frozen=True)
class Handling:
    """One catalogue item's handling for the project: 受理, its pauses, and the 批复 if any."""

    uid: str  # the 受理 record
    item: str  # catalogue item code
    stage: int  # 1..4 (records.STAGES)
    department: int  # the item's department: issues 受理, pauses and 批复
    limit_days: int  # the item's time_limit_days, working days
    accepted_at: dt.datetime
    pauses: tuple[Pause, ...] = ()
    decision: Decision | None = None
    on_the_spot: bool = False  # 即办 in the catalogue
    commitment: str = NEGATIVE_LIST  # the item's 承诺制 type
    depends_on: tuple[str, ...] = ()  # prerequisite item codes (前置)

    @property
    def span(self) -> Span:
        return Span(self.accepted_at, self.pauses, None if self.decision is None else self.decision.at)

    def open_at(self, now: dt.datetime) -> bool:
        """Accepted and not decided at ``now``."""
        return self.accepted_at <= now and (self.decision is None or self.decision.at > now)


@dataclass(frozen=True)
class Approval:
    """A 批复 record (with or without a recorded 受理 before it)."""

    uid: str
    item: str | None  # the item's code; None when it is not a text on chain (catalogue.item_code)
    stage: int
    issuer: int
    issued_at: dt.datetime
    decision: str
    status: str = "active"  # chain status: active | revoked | superseded ("expired" is read as active)
    valid_until: dt.date | None = None  # the last valid day
    construction_permit: bool = False  # the item whose approval is the 施工许可 (set by the ledger)
    recorded_at: dt.datetime | None = None  # its block's time (a 秒批 filing is measured to it)

    @property
    def live(self) -> bool:
        """Approving and neither revoked nor superseded."""
        return self.decision in APPROVING and self.status in ("active", "expired")

    def expired_at(self, now: dt.datetime) -> bool:
        """Past its last valid day at ``now`` (Beijing), as the reader's ``expired``."""
        return self.valid_until is not None and beijing_date(now) > self.valid_until


@dataclass(frozen=True)
class Commitment:
    """A 承诺 record: 容缺受理, 信用承诺 (approval substitute), 行业自律, 信用修复."""

    uid: str
    commitment_type: str  # records.COMMITMENT_TYPES name
    issuer: int  # the department that accepted it
    status: str  # pending | fulfilled | breached | superseded (now, as confirmed)
    due: dt.date | None = None  # the last day to fulfil it (payload due_at)
    approval: str | None = None  # the approval it is bound to
    settled_at: dt.datetime | None = None  # the fulfilment or breach record's time

    def pending_at(self, now: dt.datetime) -> bool:
        """Neither fulfilled nor breached (nor superseded) at ``now``."""
        if self.status == "superseded":
            return False
        return self.status == "pending" or (self.settled_at is not None and self.settled_at > now)


@dataclass(frozen=True)
class Objection:
    """An 异议 against an event, and when it was decided (upheld or rejected)."""

    uid: str
    lodged_at: dt.datetime
    decided_at: dt.datetime | None = None
    decided_uid: str | None = None


@dataclass(frozen=True)
class Event:
    """An abnormal event (异常事件) recorded by a supervisor."""

    uid: str
    category: str
    severity: str  # slight | general | serious
    issuer: int
    occurred_at: dt.datetime
    recorded_at: dt.datetime  # when the chain learnt of it (its block time)
    resolved_at: dt.datetime | None = None  # its RESOLUTION, or the upheld objection that annulled it
    resolution_uid: str | None = None
    evidence: tuple[str, ...] = ()
    objections: tuple[Objection, ...] = ()


@dataclass(frozen=True)
class RepairRequest:
    """A 信用修复 application for an event, and when it was handled.

    The chain records no such application yet (only the REPAIR itself); the rule that reads
    these is ready for when it does (docs/supervision.md).
    """

    uid: str
    event: str
    org: int  # who must handle it
    requested_at: dt.datetime
    handled_at: dt.datetime | None = None
    handled_uid: str | None = None


@dataclass(frozen=True)
class WorkEvidence:
    """A record evidencing construction work on site (stage 3), e.g. a 开工 report."""

    uid: str
    at: dt.datetime
    org: int | None = None


@dataclass(frozen=True)
class ProjectTimeline:
    """Everything supervision reads about one project."""

    project: str  # the project code
    region: str  # its division (county) code, e.g. 620825
    registrar: int  # the organisation that registered it
    handlings: tuple[Handling, ...] = ()
    approvals: tuple[Approval, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    events: tuple[Event, ...] = ()
    repair_requests: tuple[RepairRequest, ...] = ()
    work_evidence: tuple[WorkEvidence, ...] = ()
    last_record_at: dt.datetime | None = None
    last_record_uid: str | None = None

    def permit(self, now: dt.datetime) -> Approval | None:
        """The first live approving 施工许可 issued by ``now``."""
        permits = [
            a for a in self.approvals if a.construction_permit and a.live and a.issued_at <= now
        ]  # fmt: skip
        return min(permits, key=lambda a: a.issued_at, default=None)

    def completed(self, now: dt.datetime) -> bool:
        """Whether a live stage-4 (竣工验收) approval has been issued by ``now``."""
        return any(a.stage == 4 and a.live and a.issued_at <= now for a in self.approvals)
