"""The owner's credit profile and grade history as the API answers them (JSON), from ``Profile``.

Only the facts the viewer's scope sees are listed and counted (``Profile.seen``); each says
whether it is in the public part or the restricted part it was shown under.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from node_api.domain.credit import (
    RULES,
    AsOf,
    CommitmentFact,
    EventFact,
    Grade,
    commitment_public,
    event_public,
)
from node_api.domain.credit_history import GradeChange
from node_api.ledger.profiles import Profile, block_times

_KEPT = {"fulfilled": "kept", "breached": "breached", "breached_expired": "breached", "overdue": "overdue"}


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def as_of_view(as_of: AsOf, block_hash: str | None = None) -> dict[str, Any]:
    """The block a profile or grade is as of, and the instant its time-dependent rules read."""
    view: dict[str, Any] = {"block": as_of.block, "at": _iso(as_of.at)}
    if block_hash is not None:
        view["block_hash"] = block_hash
    return view


def grade_view(g: Grade) -> dict[str, Any]:
    """A grade: the letter, the rules version, the facts it was computed over, and its causes."""
    return {
        "letter": g.letter,
        "rules_version": g.rules_version,
        "basis": g.basis,
        "as_of": as_of_view(g.as_of),
        "causes": [
            {"rule": c.rule, "grade": c.grade, "title_zh": RULES[c.rule].title_zh,
             "title_en": RULES[c.rule].title_en, "facts": list(c.facts)}
            for c in g.causes
        ],
    }  # fmt: skip


def _changes(f: EventFact | CommitmentFact, as_of: AsOf) -> list[dict[str, Any]]:
    return [{"status": c.status, "by": c.uid, "block": c.block} for c in f.changes if c.block <= as_of.block]


def _event(p: Profile, e: EventFact) -> dict[str, Any]:
    return {
        "uid": e.uid,
        "project_code": e.project,
        "category": e.category,
        "severity": e.severity,
        "occurred_at": e.occurred_day.isoformat(),
        "publish_until": e.window_end().isoformat(),
        "status": e.status_at(p.as_of),
        "in_window": e.in_window(p.as_of),
        "counts": e.counts(p.as_of),
        "part": "public" if event_public(e, p.as_of) else "restricted",
        **_position(p, e.uid),
        "status_changes": _changes(e, p.as_of),
    }


def _commitment(p: Profile, c: CommitmentFact) -> dict[str, Any]:
    return {
        "uid": c.uid,
        "project_code": c.project,
        "commitment_type": c.commitment_type,
        "due_at": None if c.due is None else c.due.isoformat(),
        "state": c.state_at(p.as_of),
        "part": "public" if commitment_public(c, p.as_of) else "restricted",
        **_position(p, c.uid),
        "status_changes": _changes(c, p.as_of),
    }


def _position(p: Profile, uid: str) -> dict[str, Any]:
    r = p.records.get(uid, {})
    return {"issuer": r.get("issuer"), "block_number": r.get("block_number"), "tx_hash": r.get("tx_hash")}


def profile_view(p: Profile) -> dict[str, Any]:
    """The profile as the API answers it."""
    events = [_event(p, e) for e in p.seen.events]
    commitments = [_commitment(p, c) for c in p.seen.commitments]
    by_severity: dict[str, Counter[str]] = {s: Counter() for s in ("slight", "general", "serious")}
    for e in events:
        by_severity.setdefault(e["severity"], Counter())[str(e["status"])] += 1
    kept = Counter(_KEPT.get(str(c["state"]), str(c["state"])) for c in commitments)
    view: dict[str, Any] = {
        "uscc": p.uscc,
        "as_of": as_of_view(p.as_of, p.block_hash),
        "basis": p.scope.basis,
        "grade": grade_view(p.grade),
        "projects": [
            {"code": x.code, "name": x.fields.get("name"), "project_type": x.fields.get("project_type"),
             "region_code": x.fields.get("region_code"), "status": x.status, "registration": x.registration,
             "stages": x.stages}
            for x in p.projects
        ],
        "events": {"by_severity": {s: dict(c) for s, c in by_severity.items()}, "items": events},
        "commitments": {
            "kept": kept["kept"], "breached": kept["breached"], "overdue": kept["overdue"],
            "pending": kept["pending"], "items": commitments,
        },
        "warnings": p.warnings,
    }  # fmt: skip
    if p.scope.basis == "granted":
        view["granted_projects"] = sorted(p.scope.projects)
    if p.warnings is None:
        view["warnings_note"] = (
            "warnings are shown as they stand now, not at a past block (the grade does not read them)"
        )
    return view


def history_view(p: Profile, changes: list[GradeChange]) -> dict[str, Any]:
    """The grade's changes up to the profile's block, each with what caused it."""
    times = block_times(p)
    out = []
    for c in changes:
        by_records = times.get(c.as_of.block) == c.as_of.at
        out.append(
            {
                "before": c.before,
                "after": c.after,
                "trigger": "records" if by_records else "time",
                "block": c.as_of.block if by_records else None,
                "at": _iso(c.as_of.at),
                "facts_as_of_block": c.as_of.block,
                "causes": grade_view(Grade(c.after, RULES.version, p.scope.basis, c.as_of, c.causes))["causes"],
                "moves": [
                    {"fact": m.uid, "project_code": m.project, "change": m.change, "reason": m.reason,
                     "record": m.record, "block": m.block}
                    for m in c.moves
                ],
            }
        )  # fmt: skip
    return {
        "uscc": p.uscc,
        "as_of": as_of_view(p.as_of, p.block_hash),
        "basis": p.scope.basis,
        "rules_version": RULES.version,
        "grade": grade_view(p.grade),
        "changes": out,
    }
