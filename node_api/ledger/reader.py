"""Queries of the read model: records, their current status, projects and history.

Only canonical rows count (blocks not orphaned). A record that is accepted but not
yet on chain is shown from the outbox with state ``pending``.

An approval whose ``valid_until`` has passed (in Beijing time) is shown with status
``expired`` instead of ``active``, and a stage whose only approvals have expired is
``expired`` instead of ``approved``. That is derived when read, never written: the
chain's own status stays ``active`` (``status_changes`` and the evidence bundle show it).

A commitment still ``pending`` after its due date (in Beijing time) is shown with status
``overdue``: derived when read, never written (on chain it stays pending until the
department records it fulfilled or breached; ``status_changes`` shows the chain's own).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from node_api.domain.catalogue import ITEM_COMMITMENT_NAMES, LIST_NAMES
from node_api.domain.project_code import project_facts
from node_api.domain.publicity import published
from node_api.domain.records import (
    INITIAL_STATUS,
    INVALID_UTF8,
    STAGES,
    ZERO32,
    Kind,
    Opening,
    PayloadError,
    Status,
    decode_payload,
    decode_restricted,
    key_text,
)
from node_api.ledger.catalogue import Catalogue
from node_api.ledger.membership import Membership
from node_api.store.index import IndexTable
from node_api.store.openings import Openings
from node_api.store.outbox import OutboxState, OutboxTable
from node_api.verify.certificate import stage_status as approvals_stage_status

_DECISION_NAMES = {0: "approved", 1: "approved_on_commitment", 2: "accepted_with_deficiencies", 3: "rejected"}
_SEVERITY_NAMES = {1: "slight", 2: "general", 3: "serious"}
_PROJECT_TYPE_NAMES = {1: "approval", 2: "ratification", 3: "filing"}
_COMMITMENT_NAMES = {
    1: "approval_substitute",
    2: "deficiency_acceptance",
    3: "self_discipline",
    4: "credit_repair",
}
_SCOPE_NAMES = {1: "documents", 2: "restricted_fields", 3: "all"}
_DATE_FIELDS = {"issued_at", "valid_until", "occurred_at", "publish_until", "due_at", "expires_at"}
_NO_RECORD = "0x" + ZERO32.hex()
_BEIJING = dt.timezone(dt.timedelta(hours=8))


def today() -> dt.date:
    """Today where the records are made (Beijing time): approvals expire and commitments fall due against it."""
    return dt.datetime.now(_BEIJING).date()


def approval_expired(fields: dict[str, Any], on: dt.date) -> bool:
    """Whether an approval (its API fields) was valid only until a day before ``on``; a rejection never expires."""
    until = fields.get("valid_until")
    return bool(until) and fields.get("decision") != "rejected" and dt.date.fromisoformat(str(until)) < on


def commitment_overdue(fields: dict[str, Any], on: dt.date) -> bool:
    """Whether a commitment (its API fields) was due before ``on``."""
    due = fields.get("due_at")
    return bool(due) and dt.date.fromisoformat(str(due)) < on


PRESENTED_PAYLOADS = 16_384


def _date(ts: int) -> str | None:
    return None if ts == 0 else dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


def present_fields(kind: int, payload: bytes, opening: Opening | None = None) -> dict[str, Any]:
    """Decoded payload with enums and dates in their API form.

    The restricted fields join the public ones when ``opening`` opens the payload's
    commitment; a payload that does not decode gives ``{"unreadable": why}``. Strings whose
    bytes are not UTF-8 read with U+FFFD, named in ``invalid_utf8`` (public and opened alike).
    The answer is a fresh dict (lists copied too) that the caller may change.
    """
    if opening is not None:
        return _present(kind, payload, opening)[0]
    return {k: list(v) if isinstance(v, list) else v for k, v in _public(kind, bytes(payload)).items()}


@functools.lru_cache(maxsize=PRESENTED_PAYLOADS)
def _public(kind: int, payload: bytes) -> dict[str, Any]:
    """``present_fields`` without an opening, kept for the most recent payloads: a pure function of the
    bytes, asked again for every record of a project each time supervision assesses it."""
    return _present(kind, payload, None)[0]


def _present(kind: int, payload: bytes, opening: Opening | None) -> tuple[dict[str, Any], str | None]:
    """``present_fields`` and the payload's restricted-content commitment (if its kind has one)."""
    try:
        f = decode_payload(kind, payload)
    except PayloadError as e:
        return {"unreadable": str(e)}, None
    commitment = f.pop("restricted", None)
    if commitment is not None and opening is not None and opening.matches(bytes.fromhex(commitment[2:])):
        try:
            opened = decode_restricted(kind, opening.content)
            replaced = f.get(INVALID_UTF8, []) + opened.pop(INVALID_UTF8, [])
            f.update(opened, **({INVALID_UTF8: replaced} if replaced else {}))
        except PayloadError as e:
            f["restricted_unreadable"] = str(e)
    for name in _DATE_FIELDS & f.keys():
        f[name] = _date(int(f[name]))
    if kind == Kind.APPROVAL:
        f["decision"] = _DECISION_NAMES.get(f["decision"], str(f["decision"]))
        f["stage_name"] = STAGES.get(f["stage"], "")
    elif kind == Kind.EVENT:
        f["severity"] = _SEVERITY_NAMES.get(f["severity"], str(f["severity"]))
    elif kind == Kind.PROJECT:
        f["project_type"] = _PROJECT_TYPE_NAMES.get(f["project_type"], str(f["project_type"]))
        if "total_investment_fen" in f:
            fen = int(f.pop("total_investment_fen"))
            f["total_investment"] = f"{fen // 100}.{fen % 100:02d}"
    elif kind == Kind.COMMITMENT:
        f["commitment_type"] = _COMMITMENT_NAMES.get(f["commitment_type"], str(f["commitment_type"]))
        if f.get("approval") == _NO_RECORD:
            f["approval"] = None  # a free-standing commitment
    elif kind == Kind.CATALOGUE:
        f["stage_name"] = STAGES.get(f["stage"], "")
        f["list"] = LIST_NAMES.get(f["list"], str(f["list"]))
        f["commitment"] = ITEM_COMMITMENT_NAMES.get(f["commitment"], str(f["commitment"]))
        f["on_the_spot"], f["retired"] = bool(f["on_the_spot"]), bool(f["retired"])
        if f.get("guide") == _NO_RECORD:
            f["guide"] = None
    elif kind == Kind.ACCEPTANCE:
        f["accepted_at"] = dt.datetime.fromtimestamp(int(f["accepted_at"]), _BEIJING).isoformat()
    elif kind == Kind.GRANT:
        f["scope"] = _SCOPE_NAMES.get(f["scope"], str(f["scope"]))
    return f, commitment


def kind_name(kind: int) -> str:
    """API name of a record kind ("unknown" for a record whose content the index could not read)."""
    return Kind(kind).name.lower() if kind in Kind._value2member_map_ else "unknown"


class Reader:
    """Read-side queries used by the API, the QR page and the bundle."""

    def __init__(
        self,
        index: IndexTable,
        outbox: OutboxTable,
        membership: Membership,
        openings: Openings | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.index = index
        self.outbox = outbox
        self.membership = membership
        self.openings = openings
        self.catalogue = catalogue

    kind_name = staticmethod(kind_name)

    def project_id(self, code: str) -> str | None:
        """The on-chain id of a registered (or pending) project code."""
        return self.index.registered_project(code)

    def registered_codes(self, codes: Sequence[str]) -> set[str]:
        """The codes among ``codes`` whose registration is indexed (``project_id`` for many)."""
        return self.index.registered_projects(codes)

    def closed_projects(self, projects: Sequence[str]) -> set[str]:
        """The projects (0x…) among ``projects`` whose registration was revoked (``project_closed`` for many)."""
        return self.index.revoked_registrations(projects)

    def chain_row(self, uid: str) -> Any:
        """The canonical inclusion of a record, if any."""
        return self.index.first_inclusion(uid)

    def status(self, uid: str, kind: int) -> Status:
        """Current status of a record on chain."""
        s = self.index.latest_status(uid)
        if s is not None:
            return Status(s)
        return (
            INITIAL_STATUS.get(Kind(kind), Status.RECORDED)
            if kind in Kind._value2member_map_
            else Status.NONE
        )

    def project_closed(self, project: str) -> bool:
        """Whether the project's registration was revoked (no new approvals, commitments, grants; grants dead)."""
        return self.index.revoked_registration(project)

    def status_changes(self, uid: str) -> list[dict[str, Any]]:
        """The records that changed this record's status, oldest first."""
        rows = self.index.status_changes(uid)
        return [{"status": Status(r["status"]).name.lower(), "by": r["cause"], "block": r["block_number"]}
                for r in rows]  # fmt: skip

    def record(
        self, uid: str, code_of: dict[str, str] | None = None, opened: bool = True
    ) -> dict[str, Any] | None:
        """One record with its content, status and chain position (or outbox state).

        With ``opened`` False the restricted content is left out even where this node holds it
        (the public fields and the commitment only).
        """
        found = self.record_and_project(uid, code_of, opened)
        return None if found is None else found[0]

    def record_and_project(
        self, uid: str, code_of: dict[str, str] | None = None, opened: bool = True
    ) -> tuple[dict[str, Any], str | None] | None:
        """``record`` and the id of the project it belongs to (None for anchors), from one look-up."""
        row = self.chain_row(uid)
        state = "confirmed"
        if row is None:
            row = self.outbox.row(uid)
            if row is None:
                return None
            state = "failed" if row["state"] == OutboxState.FAILED else "pending"
        project = None if int(row["project"], 16) == 0 else str(row["project"])
        held = self._held([row["uid"]]) if opened else {}
        return self._view(row, state, code_of, held), project

    def opened_fields(self, uids: list[str]) -> dict[str, dict[str, Any]]:
        """Fields, public and restricted, of those ``uids`` whose restricted content this node holds."""
        out: dict[str, dict[str, Any]] = {}
        for uid, opening in self._held(uids).items():
            row = self.chain_row(uid)
            if row is not None:
                out[uid] = present_fields(int(row["kind"]), bytes(row["payload"]), opening)
        return out

    def _held(self, uids: list[str]) -> dict[str, Opening]:
        """The openings of restricted content this node holds among ``uids`` (one query)."""
        return self.openings.get_many(uids) if self.openings is not None else {}

    def _view(
        self, row: Any, state: str, code_of: dict[str, str] | None, held: dict[str, Opening]
    ) -> dict[str, Any]:
        """One record's API view; ``held`` has its opening if this node holds it."""
        kind = int(row["kind"])
        opening = held.get(row["uid"])
        keys = row.keys()
        issuer_id = int(row["issuer"]) if "issuer" in keys else int(row["org_id"])
        issuer = self.membership.get(issuer_id)
        project = str(row["project"])
        code = (code_of or {}).get(project) or self.index.project_code(project)
        fields, commitment = _present(kind, bytes(row["payload"]), opening) if kind else ({}, None)
        problem = row["problem"] if "problem" in keys else None
        if problem is None and "unreadable" in fields:
            problem = fields["unreadable"]
        if code is None and kind == Kind.PROJECT and problem is None:
            code = key_text(fields, "code")  # a code read with U+FFFD is not the code on chain: none is shown
        if kind == Kind.APPROVAL and problem is None and self.catalogue is not None:
            # the item's name in the version the approval names (None: not in the catalogue)
            item = self.catalogue.item_of(fields)
            fields["item_name"] = None if item is None else item.name
        view: dict[str, Any] = {
            "uid": row["uid"],
            "kind": kind_name(kind),
            "project_code": code,
            "ref": None if int(row["ref"], 16) == 0 else row["ref"],
            "digest": None if int(row["digest"], 16) == 0 else row["digest"],
            "fields": fields,
            "issuer": issuer.public() if issuer else {"id": issuer_id},
            "state": state,
            "readable": problem is None,
        }
        if problem is not None:
            view["problem"] = problem
        if commitment is not None:
            view["restricted"] = {
                "commitment": commitment,
                "opened": opening is not None and opening.matches(bytes.fromhex(commitment[2:])),
            }
        if state == "confirmed":
            status = self.status(row["uid"], kind).name.lower()
            if (
                kind == Kind.APPROVAL
                and status == "active"
                and problem is None
                and approval_expired(fields, today())
            ):
                status = "expired"  # derived when read; on chain it stays active
            elif (
                kind == Kind.COMMITMENT
                and status == "pending"
                and problem is None
                and commitment_overdue(fields, today())
            ):
                status = "overdue"  # derived when read; on chain it stays pending
            view.update(
                status=status,
                status_changes=self.status_changes(row["uid"]),
                sealer=row["sealer"],
                seal="0x" + bytes(row["seal"]).hex(),
                tx_hash=row["tx_hash"],
                block_number=row["block_number"],
                block_hash=row["block_hash"],
                log_index=row["log_index"],
            )
        else:
            # A pending record's seal is not shown: it is not on chain yet and proves nothing to a reader.
            view.update(status=None, tx_hash=row["tx_hash"], error=row["error"])
        return view

    def canonical_rows(self, project: str) -> list[Any]:
        """A project's canonical chain rows in chain order, each uid once (its first inclusion)."""
        seen: set[str] = set()
        out: list[Any] = []
        for r in self.index.project_rows(project):
            if r["uid"] not in seen:
                seen.add(r["uid"])
                out.append(r)
        return out

    def project_records(self, project: str) -> list[dict[str, Any]]:
        """Every confirmed record of a project in chain order, then pending ones."""
        rows = self.canonical_rows(project)
        seen = {r["uid"] for r in rows}
        pending = [r for r in self.outbox.open_rows(project) if r["uid"] not in seen]
        held = self._held([r["uid"] for r in rows + pending])
        out = [self._view(r, "confirmed", None, held) for r in rows]
        out += [self._view(r, "pending", None, held) for r in pending]
        return out

    def projects_in_region(self, region_prefix: str) -> list[Any]:
        """Registered projects (``project``, ``code``) whose code's region starts with ``region_prefix``."""
        return self.index.projects_in_region(region_prefix)

    def project_summary(self, code: str, detailed: bool) -> dict[str, Any] | None:
        """Project summary with its status per stage; public fields unless ``detailed``."""
        pid = self.project_id(code)
        if pid is None:
            return None
        records = [r for r in self.project_records(pid) if r["state"] == "confirmed" and r["readable"]]
        registration = next(
            (r for r in reversed(records) if r["kind"] == "project" and r["status"] in ("active", "revoked")),
            None,
        )
        if registration is None:
            return None
        f = registration["fields"]
        facts = project_facts(
            str(f["code"]), f
        )  # one source for region, industry and type (also the reports')
        stages: dict[str, Any] = {}
        for n, name in STAGES.items():
            approvals = [r for r in records if r["kind"] == "approval" and r["fields"]["stage"] == n]
            live = [a for a in approvals if a["status"] in ("active", "expired")]
            stages[str(n)] = {
                "name": name,
                "status": stage_status(live),
                "approvals": [_brief(a) for a in approvals],
            }
        events = [r for r in records if r["kind"] == "event"]
        commitments = [r for r in records if r["kind"] == "commitment"]
        summary: dict[str, Any] = {
            "code": f["code"],
            "name": f["name"],
            "owner_uscc": f["owner_uscc"],
            "project_type": facts["project_type"],
            "region_code": facts["region_code"],
            "industry_code": facts["industry_code"],
            "status": registration["status"],
            "registered_by": registration["issuer"],
            "registration": {"uid": registration["uid"], "block_number": registration["block_number"],
                             "tx_hash": registration["tx_hash"]},
            "stages": stages,
            "open_events": [_brief(e) for e in events if e["status"] in ("open", "objected")],
            # What the public page shows: open events, and resolved ones until their 公示截止期.
            "published_events": [_brief(e) for e in events if _published(e)],
            "commitments": [_brief(c) for c in commitments],
        }  # fmt: skip
        if detailed:
            summary["total_investment"] = f.get("total_investment")  # None: restricted content not held here
            summary["events"] = [_brief(e) for e in events]
        return summary


def _published(event: dict[str, Any]) -> bool:
    until = event["fields"].get("publish_until")
    day = dt.date.fromisoformat(until) if isinstance(until, str) else None
    return published(str(event["status"]), day, today())


def stage_status(live: list[dict[str, Any]]) -> str:
    """A stage's status from its live approvals (status ``active`` or ``expired``, as the views show them)."""
    return approvals_stage_status((a["status"], a["fields"]["decision"]) for a in live)


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    f = r["fields"]
    keep = {k: f[k] for k in ("item", "item_version", "item_name", "decision", "issued_at", "valid_until", "severity",
                               "category", "occurred_at", "publish_until", "commitment_type", "approval", "due_at",
                               "document_no", INVALID_UTF8) if k in f}  # fmt: skip
    return {"uid": r["uid"], "status": r["status"], "issuer": r["issuer"].get("name"),
            "block_number": r.get("block_number"), "tx_hash": r.get("tx_hash"), **keep}  # fmt: skip
