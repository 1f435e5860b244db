"""A project's facts as the index holds them, read and decoded once: the one reader behind the
supervision timeline (``supervision.build_timeline``) and the owner's credit profile (``profiles``).

``Facts.project(project, until_block=None)`` reads the project's readable canonical records in
blocks ≤ ``until_block`` (None: all), each uid at its first inclusion, with its fields in their API
form (``reader.present_fields``) and its block time, and every status change of them as the chain
recorded it (``credit.Change``: status, the record that caused it, block, block time). From these
``ProjectRecords`` gives each record's status and the project's abnormal events and credit
commitments as typed facts (``credit.EventFact``, ``credit.CommitmentFact``); each reader draws its
own view from those facts, never from the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from node_api.domain.credit import Change, CommitmentFact, EventFact
from node_api.domain.records import INITIAL_STATUS, Kind, Status
from node_api.ledger.reader import present_fields
from node_api.store.owners import OwnerIndex

STATUS_NAMES = {s.value: s.name.lower() for s in Status}


def utc(ts: int | float) -> dt.datetime:
    """Unix seconds as an aware UTC instant."""
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def day(value: Any) -> dt.date | None:
    """An API-form date field (``YYYY-MM-DD``, None or empty for none) as a date."""
    return None if not value else dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Entry:
    """One readable record of the project: its row's chain position and its fields in API form."""

    uid: str
    kind: Kind
    ref: str
    issuer: int
    fields: dict[str, Any]
    block: int
    tx_hash: str
    at: dt.datetime  # its block time


@dataclass
class ProjectRecords:
    """A project's records up to a block, in chain order, and their status changes."""

    project: str  # on-chain id
    entries: list[Entry] = field(default_factory=list)
    changes: dict[str, list[Change]] = field(default_factory=dict)  # uid -> chain order

    def of(self, *kinds: Kind) -> list[Entry]:
        """The records of ``kinds``, in chain order."""
        return [e for e in self.entries if e.kind in kinds]

    def referring(self, uid: str) -> list[Entry]:
        """The status-change records (暂停/恢复计时, resolutions …) that refer to ``uid``, in chain order."""
        return [e for e in self.entries if e.ref == uid and e.kind >= Kind.REVOCATION]

    def status(self, uid: str, kind: Kind) -> str:
        """The status of record ``uid`` (of ``kind``) after its last change, else its initial one."""
        found = self.changes.get(uid)
        if found:
            return found[-1].status
        return STATUS_NAMES[INITIAL_STATUS.get(kind, Status.RECORDED)]

    def events(self, code: str) -> list[EventFact]:
        """The project's abnormal events (建设异常信息), superseded ones included, with their changes."""
        return [
            EventFact(
                uid=e.uid, project=code, category=str(e.fields["category"]), severity=str(e.fields["severity"]),
                occurred_on=day(e.fields["occurred_at"]), publish_until=day(e.fields["publish_until"]),
                block=e.block, at=e.at, changes=tuple(self.changes.get(e.uid, ())), issuer=e.issuer,
                evidence=tuple(str(x) for x in e.fields["evidence"]),
            )
            for e in self.of(Kind.EVENT)
        ]  # fmt: skip

    def commitments(self, code: str) -> list[CommitmentFact]:
        """The project's credit commitments (信用承诺), superseded ones included, with their changes."""
        return [
            CommitmentFact(
                uid=e.uid, project=code, commitment_type=str(e.fields["commitment_type"]),
                due=day(e.fields["due_at"]), block=e.block, at=e.at, changes=tuple(self.changes.get(e.uid, ())),
                issuer=e.issuer, approval=e.fields.get("approval"),
            )
            for e in self.of(Kind.COMMITMENT)
        ]  # fmt: skip


class Facts:
    """Reads a project's records and their status changes from the index, as of a block."""

    def __init__(self, owners: OwnerIndex) -> None:
        self.owners = owners

    def project(self, project: str, until_block: int | None = None) -> ProjectRecords:
        """``project``'s readable records in blocks ≤ ``until_block`` (None: every indexed block)."""
        out = ProjectRecords(project)
        seen: set[str] = set()
        for row in self.owners.project_records_until(project, until_block):
            uid = str(row["uid"])
            if uid in seen:
                continue
            seen.add(uid)
            try:
                kind = Kind(int(row["kind"]))
                f = present_fields(kind, bytes(row["payload"]))
            except (ValueError, OverflowError, OSError):  # a kind or a date no reader can name
                continue
            if "unreadable" in f:
                continue
            out.entries.append(
                Entry(uid, kind, str(row["ref"]), int(row["issuer"]), f, int(row["block_number"]),
                      str(row["tx_hash"]), utc(int(row["block_time"])))
            )  # fmt: skip
        for r in self.owners.status_changes_until([e.uid for e in out.entries], until_block):
            change = Change(STATUS_NAMES.get(int(r["status"]), ""), str(r["cause"]), int(r["block_number"]),
                            utc(int(r["block_time"])))  # fmt: skip
            out.changes.setdefault(str(r["uid"]), []).append(change)
        return out
