"""Membership changes run only as proposals confirmed by `threshold` distinct admins (2 of 3 here)."""

from __future__ import annotations

from typing import Any

from web3.types import TxReceipt

from tests.contracts.harness import DAY, Harness, account

ZERO_ADDRESS = "0x" + "00" * 20


def admission(h: Harness, uscc: str = "12620825MB1234567X") -> bytes:
    """Calldata of admitting a new financial institution."""
    call = h.consortium.encode_abi(
        "admitOrganization", ["庄浪县农村信用合作联社", uscc, 4, account("rcc-seal").address, ZERO_ADDRESS]
    )
    return bytes.fromhex(call[2:])


def propose(h: Harness, data: bytes, admin: int = 0) -> tuple[int, TxReceipt]:
    """Proposes ``data`` as admin ``admin``; returns the proposal id and receipt."""
    receipt = h.transact(h.admins[admin], h.consortium.functions.propose(data))
    (created,) = h.events(receipt, "ProposalCreated")
    return int(created["id"]), receipt


def proposal(h: Harness, pid: int) -> dict[str, Any]:
    """The ``proposal(id)`` view by field name (names from the ABI)."""
    (view,) = [f for f in h.consortium.abi if f.get("name") == "proposal"]
    names = [c["name"] for c in view["outputs"][0]["components"]]
    return dict(zip(names, h.consortium.functions.proposal(pid).call(), strict=True))


def org_count(h: Harness) -> int:
    return int(h.consortium.functions.organizationCount().call())


def test_deployment_has_three_admins_and_threshold_two(h: Harness) -> None:
    assert [h.consortium.functions.isAdmin(a).call() for a in h.addresses()] == [True] * 3
    assert h.consortium.functions.isAdmin(account("stranger").address).call() is False
    assert h.consortium.functions.threshold().call() == 2


def test_single_admin_proposal_waits_for_second_admin(h: Harness) -> None:
    before = org_count(h)
    data = admission(h)

    pid, proposed = propose(h, data, admin=0)
    pending = proposal(h, pid)
    count_while_pending = org_count(h)
    confirmed = h.transact(h.admins[2], h.consortium.functions.confirm(pid))

    assert h.events(proposed, "ProposalCreated") == [
        {"id": pid, "proposer": h.admins[0].address, "data": data}
    ]
    assert h.events(proposed, "ProposalExecuted") == []
    assert {k: pending[k] for k in ("data", "confirmations", "executed")} == {
        "data": data,
        "confirmations": 1,
        "executed": False,
    }
    assert count_while_pending == before
    assert h.events(confirmed, "ProposalConfirmed") == [{"id": pid, "admin": h.admins[2].address}]
    assert h.events(confirmed, "ProposalExecuted") == [{"id": pid}]
    assert org_count(h) == before + 1
    assert h.consortium.functions.organization(before + 1).call()[:3] == (
        "庄浪县农村信用合作联社",
        "12620825MB1234567X",
        4,
    )


def test_non_admin_cannot_propose(h: Harness) -> None:
    stranger = account("stranger")

    args = h.expect_revert(
        stranger, h.consortium.functions.propose(admission(h)), "ConsortiumUnauthorizedAdmin"
    )

    assert args == (stranger.address,)


def test_non_admin_cannot_confirm(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    relayer = h.relayer

    args = h.expect_revert(relayer, h.consortium.functions.confirm(pid), "ConsortiumUnauthorizedAdmin")

    assert args == (relayer.address,)


def test_same_admin_confirming_twice_reverts_already_confirmed(h: Harness) -> None:
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=1)

    args = h.expect_revert(h.admins[1], h.consortium.functions.confirm(pid), "ConsortiumAlreadyConfirmed")

    assert args == (pid, h.admins[1].address)
    assert org_count(h) == before


def test_confirming_executed_proposal_reverts_proposal_executed(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))

    args = h.expect_revert(h.admins[2], h.consortium.functions.confirm(pid), "ConsortiumProposalExecuted")

    assert args == (pid,)


def test_confirming_unknown_proposal_reverts_unknown_proposal(h: Harness) -> None:
    args = h.expect_revert(h.admins[0], h.consortium.functions.confirm(999), "ConsortiumUnknownProposal")

    assert args == (999,)


def test_calling_admit_organization_directly_reverts_only_self(h: Harness) -> None:
    admin = h.admins[0]
    call = h.consortium.functions.admitOrganization("x", "y", 4, account("direct-seal").address, ZERO_ADDRESS)

    args = h.expect_revert(admin, call, "ConsortiumOnlySelf")

    assert args == (admin.address,)


def test_failing_execution_bubbles_its_error_and_leaves_proposal_open(h: Harness) -> None:
    taken = "116208250139204126"  # auth's USCC
    pid, _ = propose(h, admission(h, uscc=taken))

    args = h.expect_revert(h.admins[1], h.consortium.functions.confirm(pid), "ConsortiumUsccTaken")

    assert args == (taken,)
    assert proposal(h, pid)["executed"] is False


def test_raised_threshold_needs_three_confirmations(h: Harness) -> None:
    h.admin_execute("setThreshold", 3)
    before = org_count(h)
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))
    after_two = org_count(h)

    h.transact(h.admins[2], h.consortium.functions.confirm(pid))

    assert after_two == before
    assert org_count(h) == before + 1


# A removed admin -------------------------------------------------------------------


def test_removed_admins_confirmation_no_longer_counts(h: Harness) -> None:
    """Attack: admin 0 proposes (and so confirms), is removed, then one more confirmation
    would reach the threshold of 2 if admin 0's confirmation still counted."""
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=0)
    h.admin_execute("removeAdmin", h.admins[0].address)

    confirmed = h.transact(h.admins[2], h.consortium.functions.confirm(pid))

    assert h.events(confirmed, "ProposalExecuted") == []
    assert org_count(h) == before
    assert proposal(h, pid)["confirmations"] == 1
    executed = h.transact(h.admins[1], h.consortium.functions.confirm(pid))
    assert h.events(executed, "ProposalExecuted") == [{"id": pid}]
    assert org_count(h) == before + 1


def test_readmitted_admins_old_confirmation_does_not_count_again(h: Harness) -> None:
    """A confirmation belongs to the admin's tenure: removing and re-adding the key voids it."""
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=2)
    h.admin_execute("removeAdmin", h.admins[2].address)
    h.admin_execute("addAdmin", h.admins[2].address)

    confirmed = h.transact(h.admins[0], h.consortium.functions.confirm(pid))

    assert h.events(confirmed, "ProposalExecuted") == []
    assert org_count(h) == before
    executed = h.transact(h.admins[2], h.consortium.functions.confirm(pid))
    assert h.events(executed, "ProposalExecuted") == [{"id": pid}]
    assert org_count(h) == before + 1


# Expiry ---------------------------------------------------------------------------

LIFETIME = 7 * DAY


def test_proposal_expires_seven_days_of_block_time_after_it_was_made(h: Harness) -> None:
    pid, proposed = propose(h, admission(h))
    made_at = int(h.w3.eth.get_block(proposed["blockNumber"])["timestamp"])

    assert h.consortium.functions.PROPOSAL_LIFETIME().call() == LIFETIME
    assert proposal(h, pid)["expiresAt"] == made_at + LIFETIME


def test_confirming_expired_proposal_reverts_proposal_expired(h: Harness) -> None:
    """Attack: a proposal the other admins let lie is confirmed long after by one admin."""
    before = org_count(h)
    pid, _ = propose(h, admission(h))
    h.advance(LIFETIME)

    args = h.expect_revert(h.admins[1], h.consortium.functions.confirm(pid), "ConsortiumProposalExpired")

    assert args == (pid,)
    assert org_count(h) == before


def test_proposal_can_still_be_confirmed_an_hour_before_it_expires(h: Harness) -> None:
    before = org_count(h)
    pid, _ = propose(h, admission(h))
    h.advance(LIFETIME - 3600)

    confirmed = h.transact(h.admins[1], h.consortium.functions.confirm(pid))

    assert h.events(confirmed, "ProposalExecuted") == [{"id": pid}]
    assert org_count(h) == before + 1


def test_executed_proposal_reads_executed_after_its_lifetime(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))
    h.advance(LIFETIME)

    args = h.expect_revert(h.admins[2], h.consortium.functions.confirm(pid), "ConsortiumProposalExecuted")

    assert args == (pid,)


# Cancelling -------------------------------------------------------------------------


def test_proposal_records_its_proposer(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=1)

    assert proposal(h, pid)["proposer"] == h.admins[1].address
    assert proposal(h, pid)["cancelled"] is False


def test_cancelled_proposal_cannot_be_confirmed(h: Harness) -> None:
    """Attack: the proposer takes back a mistaken proposal; a second admin confirms it anyway."""
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=0)

    cancelled = h.transact(h.admins[0], h.consortium.functions.cancel(pid))
    args = h.expect_revert(h.admins[1], h.consortium.functions.confirm(pid), "ConsortiumProposalCancelled")

    assert h.events(cancelled, "ProposalCancelled") == [{"id": pid}]
    assert args == (pid,)
    assert proposal(h, pid)["cancelled"] is True
    assert org_count(h) == before


def test_other_admin_cannot_cancel_a_proposal(h: Harness) -> None:
    """Attack: one dishonest admin vetoes another admin's proposal by cancelling it."""
    pid, _ = propose(h, admission(h), admin=0)

    args = h.expect_revert(h.admins[1], h.consortium.functions.cancel(pid), "ConsortiumNotProposer")

    assert args == (pid, h.admins[1].address)
    assert proposal(h, pid)["cancelled"] is False


def test_removed_proposer_cannot_cancel(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=0)
    h.admin_execute("removeAdmin", h.admins[0].address)

    args = h.expect_revert(h.admins[0], h.consortium.functions.cancel(pid), "ConsortiumUnauthorizedAdmin")

    assert args == (h.admins[0].address,)


def test_cancelling_twice_reverts_proposal_cancelled(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[0], h.consortium.functions.cancel(pid))

    args = h.expect_revert(h.admins[0], h.consortium.functions.cancel(pid), "ConsortiumProposalCancelled")

    assert args == (pid,)


def test_cancelling_executed_proposal_reverts_proposal_executed(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))

    args = h.expect_revert(h.admins[0], h.consortium.functions.cancel(pid), "ConsortiumProposalExecuted")

    assert args == (pid,)


def test_cancelling_unknown_proposal_reverts_unknown_proposal(h: Harness) -> None:
    args = h.expect_revert(h.admins[0], h.consortium.functions.cancel(999), "ConsortiumUnknownProposal")

    assert args == (999,)


# Withdrawing a confirmation -----------------------------------------------------------


def has_confirmed(h: Harness, pid: int, admin: int) -> bool:
    return bool(h.consortium.functions.hasConfirmed(pid, h.admins[admin].address).call())


def test_withdrawn_confirmation_no_longer_counts(h: Harness) -> None:
    """Attack: an admin who confirmed and then withdrew is still counted with the next confirmation."""
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=0)

    withdrawn = h.transact(h.admins[0], h.consortium.functions.withdraw(pid))
    confirmed = h.transact(h.admins[1], h.consortium.functions.confirm(pid))

    assert h.events(withdrawn, "ConfirmationWithdrawn") == [{"id": pid, "admin": h.admins[0].address}]
    assert h.events(confirmed, "ProposalExecuted") == []
    assert org_count(h) == before
    assert proposal(h, pid)["confirmations"] == 1
    assert [has_confirmed(h, pid, i) for i in range(3)] == [False, True, False]
    executed = h.transact(h.admins[0], h.consortium.functions.confirm(pid))
    assert h.events(executed, "ProposalExecuted") == [{"id": pid}]
    assert org_count(h) == before + 1


def test_has_confirmed_ignores_a_removed_admins_confirmation(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=2)
    confirmed_before = has_confirmed(h, pid, 2)
    h.admin_execute("removeAdmin", h.admins[2].address)

    assert confirmed_before is True
    assert has_confirmed(h, pid, 2) is False


def test_withdrawing_without_confirming_reverts_not_confirmed(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=0)

    args = h.expect_revert(h.admins[1], h.consortium.functions.withdraw(pid), "ConsortiumNotConfirmed")

    assert args == (pid, h.admins[1].address)


def test_withdrawing_twice_reverts_not_confirmed(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=0)
    h.transact(h.admins[0], h.consortium.functions.withdraw(pid))

    args = h.expect_revert(h.admins[0], h.consortium.functions.withdraw(pid), "ConsortiumNotConfirmed")

    assert args == (pid, h.admins[0].address)


def test_readmitted_admin_cannot_withdraw_a_confirmation_of_its_old_tenure(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=2)
    h.admin_execute("removeAdmin", h.admins[2].address)
    h.admin_execute("addAdmin", h.admins[2].address)

    args = h.expect_revert(h.admins[2], h.consortium.functions.withdraw(pid), "ConsortiumNotConfirmed")

    assert args == (pid, h.admins[2].address)


def test_non_admin_cannot_withdraw(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    stranger = account("stranger")

    args = h.expect_revert(stranger, h.consortium.functions.withdraw(pid), "ConsortiumUnauthorizedAdmin")

    assert args == (stranger.address,)


def test_withdrawing_from_executed_proposal_reverts_proposal_executed(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))

    args = h.expect_revert(h.admins[0], h.consortium.functions.withdraw(pid), "ConsortiumProposalExecuted")

    assert args == (pid,)


def test_withdrawing_from_expired_proposal_reverts_proposal_expired(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.advance(LIFETIME)

    args = h.expect_revert(h.admins[0], h.consortium.functions.withdraw(pid), "ConsortiumProposalExpired")

    assert args == (pid,)


# Executing a proposal that reached the threshold without a confirmation ----------------


def lower_threshold_from_three_to_two(h: Harness) -> None:
    """Three confirmations of setThreshold(2) (``admin_execute`` brings only two)."""
    call = h.consortium.encode_abi("setThreshold", [2])
    pid, _ = propose(h, bytes.fromhex(call[2:]), admin=0)
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))
    h.transact(h.admins[2], h.consortium.functions.confirm(pid))


def test_proposal_at_a_lowered_threshold_runs_through_execute(h: Harness) -> None:
    h.admin_execute("setThreshold", 3)
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=0)
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))
    lower_threshold_from_three_to_two(h)
    waiting = org_count(h)

    executed = h.transact(h.admins[2], h.consortium.functions.execute(pid))

    assert waiting == before
    assert h.events(executed, "ProposalExecuted") == [{"id": pid}]
    assert org_count(h) == before + 1
    assert proposal(h, pid)["executed"] is True


def test_executing_below_threshold_reverts_below_threshold(h: Harness) -> None:
    pid, _ = propose(h, admission(h), admin=0)

    args = h.expect_revert(h.admins[1], h.consortium.functions.execute(pid), "ConsortiumBelowThreshold")

    assert args == (pid, 1, 2)


def test_execute_does_not_count_a_removed_admins_confirmation(h: Harness) -> None:
    """Attack: the removed admin's confirmation, counted by ``execute`` instead of ``confirm``."""
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=0)
    h.admin_execute("removeAdmin", h.admins[0].address)

    args = h.expect_revert(h.admins[1], h.consortium.functions.execute(pid), "ConsortiumBelowThreshold")

    assert args == (pid, 0, 2)
    assert org_count(h) == before


def test_executing_expired_proposal_reverts_proposal_expired(h: Harness) -> None:
    """Attack: a proposal left at the threshold (lowered meanwhile) is executed a week later."""
    h.admin_execute("setThreshold", 3)
    before = org_count(h)
    pid, _ = propose(h, admission(h), admin=0)
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))
    lower_threshold_from_three_to_two(h)
    h.advance(LIFETIME)

    args = h.expect_revert(h.admins[2], h.consortium.functions.execute(pid), "ConsortiumProposalExpired")

    assert args == (pid,)
    assert org_count(h) == before


def test_executing_executed_proposal_reverts_proposal_executed(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    h.transact(h.admins[1], h.consortium.functions.confirm(pid))

    args = h.expect_revert(h.admins[2], h.consortium.functions.execute(pid), "ConsortiumProposalExecuted")

    assert args == (pid,)


def test_non_admin_cannot_execute(h: Harness) -> None:
    pid, _ = propose(h, admission(h))
    stranger = account("stranger")

    args = h.expect_revert(stranger, h.consortium.functions.execute(pid), "ConsortiumUnauthorizedAdmin")

    assert args == (stranger.address,)
