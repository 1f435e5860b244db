"""The history of an owner's credit grade: every change, with the record or the instant that caused it.

``history(facts, points, rules=RULES, scope=FULL)`` evaluates ``credit.grade`` at each point (sorted
by block, then time) and lists each change of the letter with the facts that entered or left the
count since the point before (``Move``) and why. The ledger supplies the points: every block
holding one of the owner's records and every instant of ``boundaries(facts)``, at which a grade
may change with no new record (a publicity window ends, a commitment falls due, a breach stops
counting), with the facts known then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from node_api.domain.credit import (
    FULL,
    RULES,
    AsOf,
    Cause,
    CreditRules,
    EventFact,
    Grade,
    OwnerFacts,
    Scope,
    grade,
)
from node_api.domain.workdays import beijing_midnight


def boundaries(facts: OwnerFacts, rules: CreditRules | None = None) -> list[dt.datetime]:
    """Instants at which the grade may change with no new record, sorted, each once."""
    rules = rules or RULES
    out: set[dt.datetime] = set()
    for e in facts.events:
        out.add(beijing_midnight(e.window_end() + dt.timedelta(days=1)))  # the window has ended
    for c in facts.commitments:
        if c.due is not None:
            out.add(beijing_midnight(c.due + dt.timedelta(days=1)))  # it falls due
        for ch in c.changes:
            if ch.status == "breached":
                out.add(ch.at + dt.timedelta(days=rules.breach_counts_days))  # the breach stops counting
    return sorted(out)


def fact_blocks(facts: OwnerFacts) -> list[int]:
    """The blocks holding a record of the owner's events or commitments or a change of one, sorted."""
    blocks = {f.block for f in facts.all()}
    blocks |= {c.block for f in facts.all() for c in f.changes}
    return sorted(blocks)


@dataclass(frozen=True)
class Move:
    """One fact entering or leaving the count at a grade change, and why."""

    uid: str  # the fact (event or commitment)
    project: str
    change: str  # counted | no_longer_counted
    reason: str  # recorded | resolved | objected | repaired | annulled | superseded | breached | fulfilled |
    #              window_ended | fell_due | breach_expired | rule_scope
    record: str | None  # the record that caused it (None when time caused it)
    block: int | None  # that record's block (None when time caused it)


@dataclass(frozen=True)
class GradeChange:
    before: str | None  # None: the first grade
    after: str
    as_of: AsOf  # the first point at which ``after`` holds
    causes: tuple[Cause, ...]  # the grade's causes from then on
    moves: tuple[Move, ...]  # what changed since the previous point


def _reason(
    uid: str, facts: OwnerFacts, prev: AsOf, now: AsOf, rules: CreditRules
) -> tuple[str, str | None, int | None]:
    """Why a fact's counting changed between two points: the record in between, else time."""
    fact = facts.find(uid)
    if fact is None:
        return "rule_scope", None, None
    if prev.block < fact.block <= now.block:
        return "recorded", fact.uid, fact.block
    changed = [c for c in fact.changes if prev.block < c.block <= now.block]
    if changed:
        return changed[-1].status, changed[-1].uid, changed[-1].block
    if isinstance(fact, EventFact):
        return "window_ended", None, None
    state = fact.state_at(now, rules)
    return ("fell_due" if state == "overdue" else "breach_expired"), None, None


def history(
    facts: OwnerFacts,
    points: Sequence[AsOf],
    rules: CreditRules | None = None,
    scope: Scope = FULL,
) -> list[GradeChange]:
    """The grade at each point (sorted by block, then time) and every change, with its cause."""
    rules = rules or RULES
    out: list[GradeChange] = []
    prev: Grade | None = None
    for point in sorted(set(points)):
        g = grade(facts, point, rules, scope)
        if prev is not None and g.letter == prev.letter:
            prev = g
            continue
        moves: list[Move] = []
        before = set(prev.counted) if prev is not None else set()
        after = set(g.counted)
        projects = facts.uids()
        for uid in sorted(after ^ before):
            reason, record, block = (
                ("recorded", uid, _block_of(uid, facts))
                if prev is None
                else _reason(uid, facts, prev.as_of, point, rules)
            )
            change = "counted" if uid in after else "no_longer_counted"
            moves.append(Move(uid, projects.get(uid, ""), change, reason, record, block))
        out.append(
            GradeChange(None if prev is None else prev.letter, g.letter, point, g.causes, tuple(moves))
        )
        prev = g
    return out


def _block_of(uid: str, facts: OwnerFacts) -> int | None:
    fact = facts.find(uid)
    return None if fact is None else fact.block
