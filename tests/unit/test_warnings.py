"""Risk-warning rules on hand-built timelines: each fires, does not fire, and closes when its cause goes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from importlib import resources

import pytest

from node_api.domain.clock import Pause
from node_api.domain.timeline import (
    Approval,
    Commitment,
    Decision,
    Event,
    Handling,
    Objection,
    ProjectTimeline,
    RepairRequest,
    WorkEvidence,
)
from node_api.domain.warnings import (
    RULE_IDS,
    RULES,
    RiskWarning,
    add_months,
    assess,
    diff,
    evaluate,
    load_rules,
)
from node_api.domain.workdays import BEIJING, WorkCalendar

# 2030 and 2031 without holidays: Monday to Friday. 2030-01-01 is a Tuesday, 01-07 a Monday.
PLAIN = WorkCalendar.from_tables("weekdays", "test", [], [], [2030, 2031])
DRC, NRB, HUD, SUP = 101, 102, 103, 201  # 发改局, 自然资源局, 住建局, a supervisor
PROJECT = "2030-620825-48-01-000001"


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def timeline(**facts: object) -> ProjectTimeline:
    return ProjectTimeline(project=PROJECT, region="620825", registrar=DRC, **facts)  # type: ignore[arg-type]


def run(t: ProjectTimeline, now: dt.datetime, rule: str | None = None) -> list[RiskWarning]:
    found = evaluate(t, now, calendar=PLAIN)
    return sorted((w for w in found if rule is None or w.rule == rule), key=lambda w: w.key)


MONDAY_9 = bj(2030, 1, 7, 9)


def handling(
    uid: str = "0xacc1",
    limit: int = 5,
    accepted: dt.datetime = MONDAY_9,
    stage: int = 1,
    department: int = DRC,
    **kw: object,
) -> Handling:
    return Handling(uid, f"ITEM-{uid}", stage, department, limit, accepted, **kw)  # type: ignore[arg-type]


# ---- item.overdue / item.due_soon -------------------------------------------------------


def test_item_overdue_fires_the_day_after_its_due_date_and_closes_on_decision() -> None:
    # Accepted Mon 01-07, limit 5: counted 01-08, 09, 10, 11, 14 -> due Mon 01-14.
    t = timeline(handlings=(handling(),))
    assert run(t, bj(2030, 1, 14, 23, 59), "item.overdue") == []
    [w] = run(t, bj(2030, 1, 15, 8), "item.overdue")
    assert (w.subject, w.responsible, w.severity, w.evidence) == ("0xacc1", DRC, "high", ("0xacc1",))
    assert w.first_fired_at == bj(2030, 1, 15) and w.rule_version == RULES.version
    assert "overdue by 1" in w.detail
    decided = timeline(handlings=(handling(decision=Decision("0xapp1", bj(2030, 1, 16, 10), "approved")),))
    assert run(decided, bj(2030, 1, 15, 8), "item.overdue") != []  # the decision is not known yet
    assert run(decided, bj(2030, 1, 16, 12)) == []


def test_a_pause_moves_the_due_date_and_is_cited() -> None:
    pause = Pause(bj(2030, 1, 8, 10), bj(2030, 1, 10, 10), "专家评审", "0xpause", "0xresume")
    t = timeline(handlings=(handling(pauses=(pause,)),))
    # 01-09 and 01-10 taken out: due moves to Wed 01-16.
    assert run(t, bj(2030, 1, 16, 20), "item.overdue") == []
    [w] = run(t, bj(2030, 1, 17, 1), "item.overdue")
    assert w.evidence == ("0xacc1", "0xpause", "0xresume") and w.first_fired_at == bj(2030, 1, 17)


def test_due_soon_within_three_working_days() -> None:
    t = timeline(handlings=(handling(),))
    early = assess(t, bj(2030, 1, 8, 12), calendar=PLAIN)  # 1 elapsed, 4 left
    assert early.warnings == frozenset()
    assert early.recheck_at == bj(2030, 1, 9)  # the 2nd counted day leaves 3
    [w] = run(t, bj(2030, 1, 9, 12), "item.due_soon")
    assert (w.severity, w.first_fired_at) == ("low", bj(2030, 1, 9))
    assert run(t, bj(2030, 1, 14, 12), "item.due_soon") != []  # the due date itself
    assert run(t, bj(2030, 1, 15, 12), "item.due_soon") == []  # overdue instead
    assert [w.rule for w in run(t, bj(2030, 1, 15, 12))] == ["item.overdue"]


def test_due_soon_is_silent_while_paused_and_restarts_at_the_resume() -> None:
    open_pause = Pause(bj(2030, 1, 9, 12), None, "公示", "0xp")
    t = timeline(handlings=(handling(pauses=(open_pause,)),))
    result = assess(t, bj(2030, 1, 20), calendar=PLAIN)
    assert result.warnings == frozenset() and result.recheck_at is None  # only a resume can change it
    resumed = dataclasses.replace(open_pause, end=bj(2030, 1, 21, 15), end_uid="0xr")
    [w] = run(timeline(handlings=(handling(pauses=(resumed,)),)), bj(2030, 1, 21, 16), "item.due_soon")
    assert w.first_fired_at == bj(2030, 1, 21, 15)


# ---- project.over_target / project.over_maximum -----------------------------------------


def test_project_beyond_50_and_90_working_days_while_on_its_way() -> None:
    # Accepted Tue 01-01; the 50th counted day is Tue 03-12, the 90th Tue 05-07.
    first = handling("0xfirst", limit=500, accepted=bj(2030, 1, 1, 9))
    t = timeline(handlings=(first,))
    assert run(t, bj(2030, 3, 12, 18), "project.over_target") == []
    [w] = run(t, bj(2030, 3, 13, 9), "project.over_target")
    assert (w.subject, w.severity, w.responsible, w.first_fired_at) == ("", "medium", DRC, bj(2030, 3, 13))
    both = run(t, bj(2030, 5, 8, 9))
    assert [w.rule for w in both] == ["project.over_maximum", "project.over_target"]
    assert both[0].first_fired_at == bj(2030, 5, 8) and both[0].severity == "high"


def test_project_warning_closes_with_the_construction_permit() -> None:
    first = handling("0xfirst", limit=500, accepted=bj(2030, 1, 1, 9))
    permit = Approval("0xpermit", "SGXK", 3, HUD, bj(2030, 4, 1), "approved", construction_permit=True)
    t = timeline(handlings=(first,), approvals=(permit,))
    assert run(t, bj(2030, 3, 20), "project.over_target") != []
    assert run(t, bj(2030, 4, 2), "project.over_target") == []
    rejected = dataclasses.replace(permit, decision="rejected")
    assert (
        run(timeline(handlings=(first,), approvals=(rejected,)), bj(2030, 4, 2), "project.over_target") != []
    )


def test_project_responsible_is_the_department_of_its_oldest_open_item() -> None:
    done = handling(
        "0xa", limit=500, accepted=bj(2030, 1, 1, 9), decision=Decision("0xd", bj(2030, 1, 4), "approved")
    )
    waiting = handling("0xb", limit=500, accepted=bj(2030, 1, 10, 9), stage=2, department=NRB)
    [w] = run(timeline(handlings=(done, waiting)), bj(2030, 3, 20), "project.over_target")
    assert w.responsible == NRB and w.evidence == ("0xa", "0xb")
    [idle] = run(timeline(handlings=(done,)), bj(2030, 3, 20), "project.over_target")
    assert idle.responsible == DRC  # nothing open: the registrar


# ---- commitment.overdue -----------------------------------------------------------------


def test_commitment_overdue_the_day_after_its_due_date_until_settled() -> None:
    c = Commitment("0xc", "deficiency_acceptance", NRB, "pending", dt.date(2030, 2, 1), approval="0xapp")
    t = timeline(commitments=(c,))
    assert assess(t, bj(2030, 1, 20), calendar=PLAIN).recheck_at == bj(2030, 2, 2)
    assert run(t, bj(2030, 2, 1, 23, 59)) == []
    [w] = run(t, bj(2030, 2, 2))
    assert (w.rule, w.responsible, w.evidence, w.first_fired_at) == (
        "commitment.overdue", NRB, ("0xc", "0xapp"), bj(2030, 2, 2),
    )  # fmt: skip
    fulfilled = dataclasses.replace(c, status="fulfilled", settled_at=bj(2030, 2, 3, 10))
    assert run(timeline(commitments=(fulfilled,)), bj(2030, 2, 2, 12)) != []  # replay: still pending then
    assert run(timeline(commitments=(fulfilled,)), bj(2030, 2, 3, 11)) == []
    breached = dataclasses.replace(c, status="breached", settled_at=bj(2030, 2, 3, 10))
    assert run(timeline(commitments=(breached,)), bj(2030, 2, 4)) == []


def test_commitment_types_outside_the_rule_do_not_fire() -> None:
    c = Commitment("0xc", "self_discipline", NRB, "pending", dt.date(2030, 2, 1))
    assert run(timeline(commitments=(c,)), bj(2030, 3, 1)) == []
    no_due = Commitment("0xc", "approval_substitute", NRB, "pending", None)
    assert run(timeline(commitments=(no_due,)), bj(2030, 3, 1)) == []


# ---- approval.expired_relied_on ---------------------------------------------------------


LAND = Approval("0xland", "YDYS", 1, NRB, bj(2029, 4, 1), "approved", valid_until=dt.date(2030, 3, 31))


def test_expired_approval_relied_on_by_a_later_stage() -> None:
    later = handling("0xs2", limit=500, accepted=bj(2030, 3, 15, 9), stage=2)
    t = timeline(approvals=(LAND,), handlings=(later,))
    assert assess(t, bj(2030, 3, 20), calendar=PLAIN).recheck_at == bj(2030, 4, 1)
    assert run(t, bj(2030, 3, 31, 23), "approval.expired_relied_on") == []
    [w] = run(t, bj(2030, 4, 1, 0), "approval.expired_relied_on")
    assert (w.subject, w.responsible, w.evidence, w.first_fired_at) == (
        "0xland",
        NRB,
        ("0xland", "0xs2"),
        bj(2030, 4, 1),
    )
    # Closes when nothing relies on it any more.
    decided = dataclasses.replace(later, decision=Decision("0xd2", bj(2030, 4, 10), "approved"))
    assert run(timeline(approvals=(LAND,), handlings=(decided,)), bj(2030, 4, 11)) == []


def test_expired_approval_relied_on_as_a_prerequisite_or_renewed() -> None:
    same_stage = handling("0xs1", limit=500, accepted=bj(2030, 4, 5, 9), stage=1, depends_on=("YDYS",))
    [w] = run(
        timeline(approvals=(LAND,), handlings=(same_stage,)), bj(2030, 4, 8), "approval.expired_relied_on"
    )
    assert w.first_fired_at == bj(2030, 4, 5, 9)  # relied on only from its 受理
    unrelated = dataclasses.replace(same_stage, depends_on=())
    assert run(timeline(approvals=(LAND,), handlings=(unrelated,)), bj(2030, 4, 8)) == []
    renewed = Approval(
        "0xland2", "YDYS", 1, NRB, bj(2030, 3, 25), "approved", valid_until=dt.date(2031, 3, 31)
    )
    assert run(timeline(approvals=(LAND, renewed), handlings=(same_stage,)), bj(2030, 4, 8)) == []


def test_approvals_of_items_whose_code_is_not_a_text_neither_renew_nor_hide_each_other() -> None:
    """An approval whose item read with U+FFFD has no item code (``item_code``: None). Two such
    approvals may be of different items on chain, so a later one does not stand for the earlier:
    each expired one relied on by a later stage is a warning, and neither is taken for item "None"."""
    later = handling("0xs2", limit=500, accepted=bj(2030, 3, 15, 9), stage=2, depends_on=("YDYS",))
    lapsed = dataclasses.replace(LAND, uid="0xmarked1", item=None)
    fresh = dataclasses.replace(LAND, uid="0xmarked2", item=None, issued_at=bj(2030, 3, 25),
                                valid_until=dt.date(2031, 3, 31))  # fmt: skip
    [w] = run(
        timeline(approvals=(lapsed, fresh), handlings=(later,)), bj(2030, 4, 8), "approval.expired_relied_on"
    )
    assert w.subject == "0xmarked1" and "not UTF-8" in w.detail
    # the control: approvals of one item code, the later renews the earlier
    renewed = dataclasses.replace(fresh, uid="0xland2", item="YDYS")
    assert run(timeline(approvals=(LAND, renewed), handlings=(later,)), bj(2030, 4, 8)) == []


# ---- event.unresolved / objection.late / repair.late ------------------------------------


def event(**kw: object) -> Event:
    base: dict[str, object] = {
        "uid": "0xev", "category": "质量安全", "severity": "serious", "issuer": SUP,
        "occurred_at": bj(2030, 1, 5), "recorded_at": bj(2030, 1, 7, 10), "evidence": ("0xdoc",),
    }  # fmt: skip
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_event_unresolved_beyond_its_severity_limit() -> None:
    # serious: 10 working days from Mon 01-07 -> last day Mon 01-21.
    t = timeline(events=(event(),))
    assert run(t, bj(2030, 1, 21, 20), "event.unresolved") == []
    [w] = run(t, bj(2030, 1, 22, 9), "event.unresolved")
    assert (w.responsible, w.evidence, w.first_fired_at) == (SUP, ("0xev", "0xdoc"), bj(2030, 1, 22))
    slight = timeline(events=(event(severity="slight"),))  # 20 working days
    assert run(slight, bj(2030, 1, 22, 9), "event.unresolved") == []
    resolved = timeline(events=(event(resolved_at=bj(2030, 1, 23, 9), resolution_uid="0xres"),))
    assert run(resolved, bj(2030, 1, 23, 10)) == []


def test_days_under_objection_do_not_count_against_the_event() -> None:
    objection = Objection("0xobj", bj(2030, 1, 9, 10), bj(2030, 1, 16, 10), "0xrej")
    t = timeline(events=(event(objections=(objection,)),))
    # (01-09, 01-16] taken out: 01-10, 11, 14, 15, 16 -> the 10th counted day is Mon 01-28.
    assert run(t, bj(2030, 1, 28, 20), "event.unresolved") == []
    [w] = run(t, bj(2030, 1, 29, 9), "event.unresolved")
    assert w.evidence == ("0xev", "0xdoc", "0xobj", "0xrej")


def test_objection_not_handled_in_time() -> None:
    # 15 working days from Mon 01-07: 01-08 .. 01-28 is 15 -> late from Tue 01-29.
    pending = Objection("0xobj", bj(2030, 1, 7, 10))
    t = timeline(events=(event(severity="slight", objections=(pending,)),))
    assert run(t, bj(2030, 1, 28, 23), "objection.late") == []
    [w] = run(t, bj(2030, 1, 29, 8), "objection.late")
    assert (w.subject, w.responsible, w.evidence) == ("0xobj", SUP, ("0xobj", "0xev"))
    decided = Objection("0xobj", bj(2030, 1, 7, 10), bj(2030, 1, 30), "0xupheld")
    assert run(timeline(events=(event(severity="slight", objections=(decided,)),)), bj(2030, 1, 31)) == []


def test_repair_application_not_handled_in_time() -> None:
    request = RepairRequest("0xrq", "0xev", SUP, bj(2030, 1, 7, 10))
    t = timeline(repair_requests=(request,))
    assert run(t, bj(2030, 1, 28, 23)) == []
    [w] = run(t, bj(2030, 1, 29, 8))
    assert (w.rule, w.responsible, w.evidence) == ("repair.late", SUP, ("0xrq", "0xev"))
    handled = dataclasses.replace(request, handled_at=bj(2030, 1, 29, 9), handled_uid="0xrepair")
    assert run(timeline(repair_requests=(handled,)), bj(2030, 1, 29, 10)) == []


# ---- construction.before_permit ---------------------------------------------------------


def test_construction_before_permit_from_an_event() -> None:
    case = event(uid="0xwpb", category="未批先建", severity="general")
    [w] = run(timeline(events=(case,)), bj(2030, 1, 8), "construction.before_permit")
    assert (w.subject, w.responsible, w.first_fired_at, w.severity) == (
        "0xwpb",
        SUP,
        bj(2030, 1, 7, 10),
        "high",
    )
    closed = dataclasses.replace(case, resolved_at=bj(2030, 1, 9))
    assert run(timeline(events=(closed,)), bj(2030, 1, 10), "construction.before_permit") == []


def test_construction_before_permit_from_work_evidence() -> None:
    work = WorkEvidence("0xwork", bj(2030, 2, 1, 10), SUP)
    stage3 = handling("0xs3", limit=500, accepted=bj(2030, 1, 20, 9), stage=3, department=HUD)
    [w] = run(
        timeline(work_evidence=(work,), handlings=(stage3,)), bj(2030, 2, 2), "construction.before_permit"
    )
    assert (w.subject, w.responsible, w.first_fired_at) == ("0xwork", HUD, bj(2030, 2, 1, 10))
    permit = Approval("0xpermit", "SGXK", 3, HUD, bj(2030, 1, 25), "approved", construction_permit=True)
    assert run(timeline(work_evidence=(work,), approvals=(permit,)), bj(2030, 2, 2)) == []
    # Taken up by a 未批先建 event: the event carries the warning now, until it is resolved.
    taken = event(uid="0xwpb", category="未批先建", recorded_at=bj(2030, 2, 3, 9))
    found = run(
        timeline(work_evidence=(work,), events=(taken,)), bj(2030, 2, 4), "construction.before_permit"
    )
    assert [w.subject for w in found] == ["0xwpb"]


# ---- project.stalled --------------------------------------------------------------------


def test_project_stalled_six_months_after_its_last_record() -> None:
    permit = Approval("0xpermit", "SGXK", 3, HUD, bj(2030, 1, 10), "approved", construction_permit=True)
    t = timeline(approvals=(permit,), last_record_at=bj(2030, 2, 28, 15), last_record_uid="0xlast")
    assert assess(t, bj(2030, 5, 1), calendar=PLAIN).recheck_at == bj(2030, 8, 28, 15)
    assert run(t, bj(2030, 8, 28, 14)) == []
    [w] = run(t, bj(2030, 8, 28, 15))
    assert (w.rule, w.responsible, w.evidence) == ("project.stalled", HUD, ("0xpermit", "0xlast"))
    fresh = dataclasses.replace(t, last_record_at=bj(2030, 8, 29), last_record_uid="0xnew")
    assert run(fresh, bj(2030, 8, 30)) == []
    done = Approval("0xdone", "JGYS", 4, HUD, bj(2030, 7, 1), "approved")
    assert run(dataclasses.replace(t, approvals=(permit, done)), bj(2030, 9, 1)) == []


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(bj(2030, 8, 31, 9), 6) == bj(2031, 2, 28, 9)
    assert add_months(bj(2030, 1, 15), 12) == bj(2031, 1, 15)


# ---- calendar.uncovered -----------------------------------------------------------------


def test_a_year_the_calendar_lacks_raises_its_own_warning_instead_of_a_guess() -> None:
    official = WorkCalendar.official()  # covers 2004-2026
    t = timeline(handlings=(handling("0xlate", limit=20, accepted=bj(2026, 12, 21, 9)),))
    before = assess(t, bj(2026, 12, 28), calendar=official)
    assert before.warnings == frozenset()
    assert before.recheck_at == bj(2027, 1, 1)  # the due date lies in 2027
    [w] = evaluate(t, bj(2027, 1, 6), calendar=official)
    assert (w.rule, w.subject, w.evidence, w.first_fired_at) == (
        "calendar.uncovered",
        "",
        ("0xlate",),
        bj(2027, 1, 1),
    )
    assert "calendar does not cover 2027" in w.detail and "chinese-calendar 1.11.0" in w.detail


# ---- transitions, rules file, determinism -----------------------------------------------


def test_diff_reports_opened_closed_and_changed_by_key() -> None:
    t = timeline(handlings=(handling("0xa"), handling("0xb", limit=50)))
    monday = evaluate(t, bj(2030, 1, 14, 12), calendar=PLAIN)  # 0xa due soon
    tuesday = evaluate(t, bj(2030, 1, 15, 12), calendar=PLAIN)  # 0xa overdue
    step = diff(monday, tuesday)
    assert [(w.rule, w.subject) for w in step.opened] == [("item.overdue", "0xa")]
    assert [(w.rule, w.subject) for w in step.closed] == [("item.due_soon", "0xa")]
    assert step.changed == ()
    later = evaluate(t, bj(2030, 1, 18, 12), calendar=PLAIN)
    assert diff(tuesday, later) == diff([], [])  # same warning, only its figures moved
    bumped = {dataclasses.replace(w, severity="medium") for w in later}
    assert [w.severity for w in diff(later, bumped).changed] == ["medium"]


def test_the_rules_file_is_versioned_and_complete() -> None:
    text = resources.files("node_api.domain").joinpath("warning_rules.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    assert RULES.version == raw["version"] >= 1
    assert set(RULES.rules) == set(RULE_IDS)
    assert RULES["item.due_soon"].days == 3
    assert RULES["event.unresolved"].days_for("serious") == 10
    assert RULES["construction.before_permit"].params["categories"] == ("未批先建",)
    for rule in RULES.rules.values():
        assert rule.title_zh and rule.title_en and rule.source


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(version=0), "version"),
        (lambda r: r["rules"].append(dict(r["rules"][0])), "twice"),
        (lambda r: r["rules"].pop(), "missing"),
        (lambda r: r["rules"][0].update(id="item.typo"), "unknown rule"),
        (lambda r: r["rules"][0].update(severity="critical"), "severity"),
        (lambda r: r["rules"][0].update(threshold=-1), "threshold"),
        (lambda r: r["rules"][6].update(threshold={"slight": 1}), "threshold"),
        (lambda r: r["rules"][0].update(colour="red"), "unexpected"),
        (lambda r: r["rules"][4].pop("commitment_types"), "missing"),
    ],
)
def test_a_broken_rules_file_is_refused(change: object, message: str) -> None:
    raw = json.loads(
        resources.files("node_api.domain").joinpath("warning_rules.json").read_text(encoding="utf-8")
    )
    change(raw)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        load_rules(json.dumps(raw))


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        evaluate(timeline(), dt.datetime(2030, 1, 1))


def rich_timeline() -> ProjectTimeline:
    """A project touching every rule, with facts spread over 2030 (some after any given now)."""
    return timeline(
        handlings=(
            handling("0xa", limit=5, accepted=bj(2030, 1, 7, 9),
                     pauses=(Pause(bj(2030, 1, 9, 10), bj(2030, 1, 15, 16), "专家评审", "0xp", "0xr"),),
                     decision=Decision("0xda", bj(2030, 2, 4, 10), "approved")),
            handling("0xb", limit=20, accepted=bj(2030, 2, 11, 9), stage=2, department=NRB, depends_on=("YDYS",)),
            handling("0xc", limit=3, accepted=bj(2030, 4, 1, 9), stage=3, department=HUD,
                     pauses=(Pause(bj(2030, 4, 2, 9), None, "听证", "0xp2"),)),
        ),
        approvals=(
            Approval("0xland", "YDYS", 1, NRB, bj(2029, 4, 1), "approved", valid_until=dt.date(2030, 3, 31)),
            Approval("0xpermit", "SGXK", 3, HUD, bj(2030, 7, 1), "approved", construction_permit=True),
        ),
        commitments=(
            Commitment("0xc1", "approval_substitute", DRC, "fulfilled", dt.date(2030, 3, 1),
                       settled_at=bj(2030, 3, 20, 10)),
        ),
        events=(
            event(objections=(Objection("0xobj", bj(2030, 1, 10, 10), bj(2030, 2, 20, 10), "0xrej"),),
                  resolved_at=bj(2030, 3, 5, 11), resolution_uid="0xres"),
            event(uid="0xwpb", category="未批先建", recorded_at=bj(2030, 5, 6, 9), resolved_at=bj(2030, 5, 20, 9)),
        ),
        repair_requests=(RepairRequest("0xrq", "0xev", SUP, bj(2030, 3, 10, 10), bj(2030, 4, 15, 10), "0xrep"),),
        work_evidence=(WorkEvidence("0xwork", bj(2030, 5, 2, 10), SUP),),
        last_record_at=bj(2030, 7, 1),
        last_record_uid="0xpermit",
    )  # fmt: skip


def test_rechecking_only_at_recheck_at_gives_every_answer_a_fine_scan_does() -> None:
    t = rich_timeline()
    now = bj(2030, 1, 1)
    cached = assess(t, now, calendar=PLAIN)
    seen_rules: set[str] = set()
    reassessed = 0
    while now < bj(2031, 3, 1):
        if cached.recheck_at is not None and now >= cached.recheck_at:
            cached = assess(t, now, calendar=PLAIN)
            reassessed += 1
        truth = evaluate(t, now, calendar=PLAIN)
        assert cached.warnings == truth, now
        seen_rules |= {w.rule for w in truth}
        now += dt.timedelta(hours=3)
    assert seen_rules == set(RULE_IDS) - {"calendar.uncovered"}
    assert reassessed < 200  # instead of ~3,400 scans


def test_first_fired_at_is_the_same_whenever_the_warning_is_looked_at() -> None:
    t = rich_timeline()
    first = {w.key: w.first_fired_at for w in evaluate(t, bj(2030, 4, 2), calendar=PLAIN)}
    again = {w.key: w.first_fired_at for w in evaluate(t, bj(2030, 5, 10), calendar=PLAIN)}
    shared = first.keys() & again.keys()
    assert len(shared) == 3 and all(first[k] == again[k] for k in shared)
