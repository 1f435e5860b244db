"""Credit-grade rules on hand-built owner histories: each rule fires and does not fire, repair
restores, a publicity window ends, a past block gives the grade it gave then, and a viewer's
scope leaves out what it may not see."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from importlib import resources

import pytest

from node_api.domain.credit import (
    FULL,
    PUBLIC,
    RULES,
    AsOf,
    Change,
    CommitmentFact,
    EventFact,
    OwnerFacts,
    grade,
    granted,
    load_rules,
    rules_document,
    visible,
)
from node_api.domain.credit_history import boundaries, fact_blocks, history
from node_api.domain.workdays import BEIJING

USCC = "91620825MA72BT6H8M"
P1, P2 = "2030-620825-48-01-000001", "2030-620825-48-01-000002"
T0 = dt.datetime(2030, 3, 1, 10, tzinfo=BEIJING)


def at(days: float, block: int = 1000) -> AsOf:
    """Block ``block`` at T0 + ``days``."""
    return AsOf(block, T0 + dt.timedelta(days=days))


def event(
    uid: str,
    severity: str = "serious",
    block: int = 10,
    days: float = 0,
    project: str = P1,
    window: int = 365,
    changes: tuple[tuple[str, str, int, float], ...] = (),
) -> EventFact:
    """An event recorded at block ``block`` (T0 + ``days``), published ``window`` days from T0."""
    return EventFact(
        uid=uid,
        project=project,
        category="未批先建",
        severity=severity,
        occurred_on=T0.date(),
        publish_until=T0.date() + dt.timedelta(days=window),
        block=block,
        at=T0 + dt.timedelta(days=days),
        changes=tuple(Change(s, u, b, T0 + dt.timedelta(days=d)) for s, u, b, d in changes),
    )


def commitment(
    uid: str,
    due_days: int = 30,
    block: int = 10,
    project: str = P1,
    changes: tuple[tuple[str, str, int, float], ...] = (),
) -> CommitmentFact:
    return CommitmentFact(
        uid=uid,
        project=project,
        commitment_type="deficiency_acceptance",
        due=T0.date() + dt.timedelta(days=due_days),
        block=block,
        at=T0,
        changes=tuple(Change(s, u, b, T0 + dt.timedelta(days=d)) for s, u, b, d in changes),
    )


def owner(*facts: EventFact | CommitmentFact) -> OwnerFacts:
    return OwnerFacts(
        USCC,
        events=tuple(f for f in facts if isinstance(f, EventFact)),
        commitments=tuple(f for f in facts if isinstance(f, CommitmentFact)),
    )


def fired(facts: OwnerFacts, as_of: AsOf) -> set[str]:
    return {c.rule for c in grade(facts, as_of).causes}


# ---- the rules file ---------------------------------------------------------------------


def test_packaged_rules_load_and_carry_their_version() -> None:
    text = resources.files("node_api.domain").joinpath("credit_rules.json").read_text(encoding="utf-8")
    assert load_rules(text) == RULES
    assert RULES.version >= 1
    assert grade(owner(), at(1)).rules_version == RULES.version
    assert [r["id"] for r in rules_document()["rules"]] == [r.id for r in RULES.rules]


@pytest.mark.parametrize(
    "patch, problem",
    [
        ({"version": 0}, "version"),
        ({"grades": ["A", "B", "C"]}, "grades"),
        ({"breach_counts_days": 0}, "breach_counts_days"),
        ({"public_event_severities": ["grave"]}, "public_event_severities"),
        ({"rules": []}, "no rules"),
    ],
)
def test_a_malformed_rules_file_is_refused(patch: dict[str, object], problem: str) -> None:
    raw = json.loads(resources.files("node_api.domain").joinpath("credit_rules.json").read_text("utf-8"))
    raw.update(patch)
    with pytest.raises(ValueError, match=problem):
        load_rules(json.dumps(raw))


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"grade": "A"}, "grade"),
        ({"grade": "E"}, "grade"),
        ({"fact": "warning"}, "fact"),
        ({"states": ["repaired"]}, "states"),
        ({"severities": []}, "severities"),
        ({"at_least": 0}, "at_least"),
        ({"outcomes": ["breached"]}, "unexpected"),
    ],
)
def test_a_malformed_rule_is_refused(change: dict[str, object], problem: str) -> None:
    raw = json.loads(resources.files("node_api.domain").joinpath("credit_rules.json").read_text("utf-8"))
    first = next(r for r in raw["rules"] if r["fact"] == "event")
    first.update(change)
    with pytest.raises(ValueError, match=problem):
        load_rules(json.dumps(raw))


def test_a_repeated_rule_id_is_refused() -> None:
    raw = json.loads(resources.files("node_api.domain").joinpath("credit_rules.json").read_text("utf-8"))
    raw["rules"].append(dict(raw["rules"][0]))
    with pytest.raises(ValueError, match="repeated"):
        load_rules(json.dumps(raw))


# ---- each rule fires and does not fire --------------------------------------------------


def test_no_facts_is_grade_a_with_no_causes() -> None:
    g = grade(owner(), at(1))
    assert (g.letter, g.causes, g.basis) == ("A", (), "full")


def test_an_open_serious_event_is_d() -> None:
    g = grade(owner(event("0xe1")), at(1))
    assert g.letter == "D"
    assert g.causes[0].rule == "event.serious_unresolved" and g.causes[0].facts == ("0xe1",)
    assert {"event.serious_unresolved", "event.serious"} <= {c.rule for c in g.causes}


def test_a_serious_event_under_objection_still_counts_as_unresolved() -> None:
    e = event("0xe1", changes=(("objected", "0xo1", 20, 2),))
    assert grade(owner(e), at(3)).letter == "D"
    assert "event.serious_unresolved" in fired(owner(e), at(3))


def test_a_resolved_serious_event_is_c_until_its_window_ends() -> None:
    e = event("0xe1", window=365, changes=(("resolved", "0xr1", 20, 5),))
    assert grade(owner(e), at(6)).letter == "C"
    assert fired(owner(e), at(6)) == {"event.serious"}
    # the window's last day is T0 + 365 days; the day after, it no longer counts
    assert grade(owner(e), at(365)).letter == "C"
    assert grade(owner(e), at(366)).letter == "A"


def test_a_serious_event_before_its_block_does_not_count() -> None:
    assert grade(owner(event("0xe1", block=10)), at(1, block=9)).letter == "A"


def test_two_resolved_serious_events_are_d() -> None:
    e1 = event("0xe1", changes=(("resolved", "0xr1", 20, 5),))
    e2 = event("0xe2", block=11, project=P2, changes=(("resolved", "0xr2", 21, 5),))
    g = grade(owner(e1, e2), at(6))
    assert g.letter == "D" and g.causes[0].rule == "event.serious_repeated"
    assert set(g.causes[0].facts) == {"0xe1", "0xe2"}
    assert grade(owner(e1), at(6)).letter == "C"


def test_repair_restores_the_grade() -> None:
    e = event("0xe1", changes=(("resolved", "0xr1", 20, 5), ("repaired", "0xp1", 30, 100)))
    assert grade(owner(e), at(99, block=29)).letter == "C"
    assert grade(owner(e), at(101, block=30)).letter == "A"


def test_an_upheld_objection_annuls_the_event() -> None:
    e = event("0xe1", changes=(("objected", "0xo1", 20, 2), ("annulled", "0xu1", 21, 4)))
    assert grade(owner(e), at(5)).letter == "A"
    assert grade(owner(e), at(3, block=20)).letter == "D"


def test_a_superseded_event_gives_way_to_its_correction() -> None:
    old = event("0xe1", changes=(("superseded", "0xe2", 20, 1),))
    new = event("0xe2", severity="general", block=20, days=1)
    assert grade(owner(old, new), at(2)).letter == "B"


def test_one_general_event_is_b_and_two_are_c() -> None:
    g1 = event("0xg1", severity="general")
    g2 = event("0xg2", severity="general", block=11)
    assert fired(owner(g1), at(1)) == {"event.general"}
    assert grade(owner(g1), at(1)).letter == "B"
    assert grade(owner(g1, g2), at(1)).letter == "C"
    assert "event.general_repeated" in fired(owner(g1, g2), at(1))


def test_slight_events_lower_the_grade_only_from_three() -> None:
    slight = [event(f"0xs{i}", severity="slight", block=10 + i, window=91) for i in range(3)]
    assert grade(owner(*slight[:2]), at(1)).letter == "A"
    assert fired(owner(*slight), at(1)) == {"event.slight_repeated"}
    assert grade(owner(*slight), at(1)).letter == "B"
    assert grade(owner(*slight), at(92)).letter == "A"  # their 91-day windows have ended


def test_an_overdue_commitment_is_b_from_the_day_after_its_due_day() -> None:
    c = commitment("0xc1", due_days=30)
    last_day = dt.datetime.combine(T0.date() + dt.timedelta(days=30), dt.time(23, 59), BEIJING)
    assert grade(owner(c), AsOf(1000, last_day)).letter == "A"
    assert grade(owner(c), AsOf(1000, last_day + dt.timedelta(minutes=1))).letter == "B"
    assert fired(owner(c), at(31)) == {"commitment.overdue"}


def test_a_fulfilled_commitment_is_kept_and_does_not_count() -> None:
    c = commitment("0xc1", due_days=30, changes=(("fulfilled", "0xf1", 20, 10),))
    assert grade(owner(c), at(40)).letter == "A"


def test_a_breach_is_c_and_stops_counting_after_its_period() -> None:
    c = commitment("0xc1", changes=(("breached", "0xb1", 20, 10),))
    assert fired(owner(c), at(11)) == {"commitment.breached"}
    assert grade(owner(c), at(11)).letter == "C"
    assert grade(owner(c), at(10 + RULES.breach_counts_days - 1)).letter == "C"
    assert grade(owner(c), at(10 + RULES.breach_counts_days)).letter == "A"


def test_two_breaches_are_d() -> None:
    c1 = commitment("0xc1", changes=(("breached", "0xb1", 20, 10),))
    c2 = commitment("0xc2", project=P2, changes=(("breached", "0xb2", 21, 10),))
    g = grade(owner(c1, c2), at(11))
    assert g.letter == "D" and g.causes[0].rule == "commitment.breached_repeated"


def test_the_worst_rule_decides_and_every_firing_rule_is_a_cause() -> None:
    g = grade(owner(event("0xg1", severity="general"), commitment("0xc1", due_days=1)), at(5))
    assert g.letter == "B"
    assert {c.rule for c in g.causes} == {"event.general", "commitment.overdue"}
    g = grade(owner(event("0xg1", severity="general"), event("0xe1", block=11)), at(5))
    assert g.letter == "D" and [c.grade for c in g.causes] == sorted(
        (c.grade for c in g.causes), reverse=True
    )


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        grade(owner(), AsOf(1, dt.datetime(2030, 1, 1)))


# ---- scope: what a viewer's grade may read ----------------------------------------------


def test_public_scope_sees_commitments_and_serious_events_in_their_window_only() -> None:
    facts = owner(
        event("0xe1", project=P1, changes=(("resolved", "0xr1", 20, 5),)),
        event("0xg1", severity="general", project=P2),
        commitment("0xc1", project=P2),
    )
    seen = visible(facts, at(6), PUBLIC)
    assert [e.uid for e in seen.events] == ["0xe1"]
    assert [c.uid for c in seen.commitments] == ["0xc1"]
    assert visible(facts, at(400), PUBLIC).events == ()  # the serious event's window has ended


def test_a_public_grade_does_not_read_restricted_facts() -> None:
    facts = owner(event("0xg1", severity="general"), event("0xg2", severity="general", block=11))
    assert grade(facts, at(1), scope=FULL).letter == "C"
    g = grade(facts, at(1), scope=PUBLIC)
    assert (g.letter, g.basis, g.causes, g.counted) == ("A", "public", (), ())


def test_a_granted_scope_reads_the_restricted_facts_of_its_projects_only() -> None:
    facts = owner(
        event("0xg1", severity="general", project=P1), event("0xg2", severity="general", project=P2)
    )
    g = grade(facts, at(1), scope=granted([P1]))
    assert (g.letter, g.basis) == ("B", "granted")
    assert g.counted == ("0xg1",)
    assert grade(facts, at(1), scope=granted([P1, P2])).letter == "C"


# ---- reproducible at a past block, and the history of changes ---------------------------


def test_the_grade_at_a_past_block_ignores_later_records() -> None:
    e = event("0xe1", block=10)
    g2 = event("0xg2", severity="general", block=50, days=20, project=P2)
    facts = owner(e, g2)
    before = grade(facts, at(6, block=49))
    assert before == grade(owner(e), at(6, block=49))  # the later record changes nothing at block 49
    assert set(grade(facts, at(21, block=50)).counted) == {"0xe1", "0xg2"}


def test_fact_blocks_and_boundaries() -> None:
    e = event("0xe1", block=10, window=100, changes=(("resolved", "0xr1", 20, 5),))
    c = commitment("0xc1", due_days=30, block=12, changes=(("breached", "0xb1", 40, 35),))
    facts = owner(e, c)
    assert fact_blocks(facts) == [10, 12, 20, 40]
    b = boundaries(facts)
    assert b == sorted(b)
    assert dt.datetime.combine(T0.date() + dt.timedelta(days=101), dt.time(), BEIJING) in b  # window ended
    assert dt.datetime.combine(T0.date() + dt.timedelta(days=31), dt.time(), BEIJING) in b  # fell due
    assert T0 + dt.timedelta(days=35 + RULES.breach_counts_days) in b  # the breach stops counting


def test_history_lists_each_change_with_the_record_or_time_that_caused_it() -> None:
    e = event(
        "0xe1", block=10, window=100, changes=(("resolved", "0xr1", 20, 5), ("repaired", "0xp1", 40, 50))
    )
    g = event("0xg1", severity="general", block=30, days=20, window=60, project=P2)
    facts = owner(e, g)
    points = [at(0, 9), at(0, 10), at(5, 20), at(20, 30), at(50, 40), at(61, 40)]
    changes = history(facts, points)
    assert [(c.before, c.after) for c in changes] == [
        (None, "A"),
        ("A", "D"),
        ("D", "C"),
        ("C", "B"),
        ("B", "A"),
    ]
    d = changes[1]
    assert d.as_of == at(0, 10) and d.moves[0].uid == "0xe1" and d.moves[0].reason == "recorded"
    resolved = changes[2]
    assert resolved.causes[0].rule == "event.serious" and resolved.moves == ()  # still counted, now resolved
    repaired = changes[3]
    by_uid = {m.uid: m for m in repaired.moves}
    assert (
        by_uid["0xe1"].reason == "repaired" and by_uid["0xe1"].record == "0xp1" and by_uid["0xe1"].block == 40
    )
    assert by_uid["0xe1"].change == "no_longer_counted"
    ended = changes[4]
    assert [(m.uid, m.reason, m.record, m.block) for m in ended.moves] == [
        ("0xg1", "window_ended", None, None)
    ]
    # every change is the grade at its point
    for c in changes:
        assert grade(facts, c.as_of).letter == c.after


def test_history_names_a_commitment_falling_due_and_a_breach_expiring() -> None:
    c = commitment("0xc1", due_days=30, changes=(("breached", "0xb1", 40, 35),))
    facts = owner(c)
    expire = at(35 + RULES.breach_counts_days, 41)
    changes = history(facts, [at(0, 10), at(31, 11), at(35, 40), expire])
    assert [(c.before, c.after) for c in changes] == [(None, "A"), ("A", "B"), ("B", "C"), ("C", "A")]
    assert changes[1].moves[0].reason == "fell_due" and changes[1].moves[0].record is None
    assert changes[2].moves == ()  # counted before (overdue) and after (breached): the cause changed
    assert changes[2].causes[0].rule == "commitment.breached"
    assert changes[3].moves[0].reason == "breach_expired"


def test_history_under_public_scope_only_shows_public_facts() -> None:
    facts = owner(event("0xg1", severity="general", block=10), event("0xe1", block=20, days=3))
    changes = history(facts, [at(0, 10), at(3, 20)], scope=PUBLIC)
    assert [(c.before, c.after) for c in changes] == [(None, "A"), ("A", "D")]
    assert all(m.uid != "0xg1" for c in changes for m in c.moves)


def test_facts_are_plain_values() -> None:
    e = event("0xe1")
    assert dataclasses.replace(e) == e
    assert owner(e).uids() == {"0xe1": P1}
