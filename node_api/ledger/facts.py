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
from collections import OrderedDict
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


KEPT_ENTRIES = 100_000  # presented records kept between reads of their projects (all projects together)


@dataclass
class _Kept:
    """A project's presented records as last read: the newest index row read, and the uids seen."""

    rowid: int = 0
    entries: list[Entry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


class Facts:
    """Reads a project's records and their status changes from the index, as of a block.

    The records of the latest state (``until_block`` None) are kept between reads, for the projects
    read most recently (about ``kept_entries`` records in all: the project just read stays, however
    many it has; the node gives ``KEPT_ENTRIES`` to the process that assesses the warnings and
    0 to the others, which then keep only the last project read): a project is read again at every
    assessment of its warnings, and its records are append-only, so a read decodes only the rows
    indexed since the last one. A block found orphaned since (``OwnerIndex.orphan_mark``) drops
    everything kept; status changes are read afresh every time (an older record's status changes).
    The entries of an answer are shared with what is kept: readers read them and change nothing.
    """

    def __init__(self, owners: OwnerIndex, kept_entries: int = KEPT_ENTRIES) -> None:
        self.owners = owners
        self.kept_entries = kept_entries
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # least recently read first
        self._kept_count = 0
        self._orphans = -1  # ``orphan_mark`` when the kept records were read

    def project(self, project: str, until_block: int | None = None) -> ProjectRecords:
        """``project``'s readable records in blocks ≤ ``until_block`` (None: every indexed block)."""
        if until_block is not None:
            kept = _Kept()
            self._add(kept, self.owners.project_records_until(project, until_block))
        else:
            kept = self._latest(project)
        out = ProjectRecords(project, list(kept.entries))
        for r in self.owners.status_changes_until([e.uid for e in out.entries], until_block):
            change = Change(STATUS_NAMES.get(int(r["status"]), ""), str(r["cause"]), int(r["block_number"]),
                            utc(int(r["block_time"])))  # fmt: skip
            out.changes.setdefault(str(r["uid"]), []).append(change)
        return out

    def _latest(self, project: str) -> _Kept:
        """The project's kept records brought up to the index (kept anew if not kept)."""
        while True:
            mark = self.owners.orphan_mark()
            if mark != self._orphans:  # a block was orphaned: what was kept may hold its records
                self._kept.clear()
                self._kept_count = 0
                self._orphans = mark
            kept = self._kept.pop(project, None) or _Kept()
            self._kept_count -= len(kept.entries)
            rows = self.owners.project_records_after(project, kept.rowid)
            # The indexer commits from another process: a block orphaned between the two looks may
            # have put another fork's rows after the kept ones. Then nothing kept stands: again.
            if self.owners.orphan_mark() == mark:
                break
            self._orphans = -1
        self._add(kept, rows)
        self._kept[project] = kept
        self._kept_count += len(kept.entries)
        while self._kept_count > self.kept_entries and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._kept_count -= len(dropped.entries)
        return kept

    @staticmethod
    def _add(kept: _Kept, rows: list[Any]) -> None:
        """Appends the readable records among ``rows`` (in chain order) not seen before."""
        for row in rows:
            kept.rowid = max(kept.rowid, int(row["rowid"]))
            uid = str(row["uid"])
            if uid in kept.seen:
                continue
            kept.seen.add(uid)
            try:
                kind = Kind(int(row["kind"]))
                f = present_fields(kind, bytes(row["payload"]))
            except (ValueError, OverflowError, OSError):  # a kind or a date no reader can name
                continue
            if "unreadable" in f:
                continue
            kept.entries.append(
                Entry(uid, kind, str(row["ref"]), int(row["issuer"]), f, int(row["block_number"]),
                      str(row["tx_hash"]), utc(int(row["block_time"])))
            )  # fmt: skip
