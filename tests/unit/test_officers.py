"""Console officers on a real SQLite database: passwords, TOTP, lock-out, sessions, roles, attribution."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from node_api.errors import AuthenticationError, ConflictError, RateLimitedError, ValidationError
from node_api.ledger.access import entry_json
from node_api.ledger.auth import AuthGuard
from node_api.ledger.membership import Organization
from node_api.ledger.officers import TOTP_PURPOSE, Officers
from node_api.store.database import Database
from node_api.store.officers import OfficerTable
from node_api.store.subscriptions import SecretVault

PASSWORD = "correct horse battery"
KEY = bytes(range(32))  # the node's data key in these tests
ZJJ = Organization(4, "庄浪县住房和城乡建设局", "116208250139204719", ["approval_authority", "supervisor"])


class Members:
    """The consortium as the officers see it (one organisation, maybe suspended)."""

    def __init__(self) -> None:
        self.orgs = {ZJJ.id: ZJJ}

    def get(self, org_id: int) -> Organization | None:
        return self.orgs.get(org_id)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "node.sqlite3")


@pytest.fixture
def officers(db: Database) -> Officers:
    vault = SecretVault(KEY, TOTP_PURPOSE)
    return Officers(OfficerTable(db), Members(), AuthGuard(db, 20), 1800, 43200, 5, 900, vault)  # type: ignore[arg-type]


def test_passwords_are_stored_as_argon2id_hashes_only(officers: Officers, db: Database) -> None:
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    stored = str(db.scalar("SELECT password_hash FROM officers WHERE username = 'zjj.li'"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert officers.sign_in("10.0.0.1", "zjj.li", PASSWORD).officer.username == "zjj.li"


def test_bad_accounts_are_refused_and_named(officers: Officers) -> None:
    with pytest.raises(ValidationError, match="password"):
        officers.add(ZJJ.id, "zjj.short", "李明", "short")
    with pytest.raises(ValidationError, match="username"):
        officers.add(ZJJ.id, "Zhang San", "张三", PASSWORD)
    with pytest.raises(ValidationError, match="roles"):
        officers.add(ZJJ.id, "zjj.bank", "张三", PASSWORD, roles=["financial_institution"])
    with pytest.raises(ValidationError, match="org"):
        officers.add(99, "nobody.x", "张三", PASSWORD)
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    with pytest.raises(ConflictError):
        officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)


def test_five_failures_lock_the_account_even_against_the_right_password(
    officers: Officers, monkeypatch: pytest.MonkeyPatch
) -> None:
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    for i in range(4):
        with pytest.raises(AuthenticationError):
            officers.sign_in(f"10.0.0.{i}", "zjj.li", "wrong password")  # from several addresses
    with pytest.raises(RateLimitedError):
        officers.sign_in("10.0.0.9", "zjj.li", "wrong password")
    with pytest.raises(RateLimitedError, match="locked"):
        officers.sign_in("10.0.0.10", "zjj.li", PASSWORD)
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda: later)
    assert officers.sign_in("10.0.0.10", "zjj.li", PASSWORD).officer.username == "zjj.li"


def test_an_unknown_username_is_refused_like_a_wrong_password(officers: Officers) -> None:
    with pytest.raises(AuthenticationError, match="wrong username, password or one-time code"):
        officers.sign_in("10.0.0.1", "nobody.here", PASSWORD)


def test_an_enrolled_officer_needs_the_current_one_time_code(officers: Officers) -> None:
    _, secret = officers.add(ZJJ.id, "zjj.wang", "王芳", PASSWORD, totp=True)
    assert secret is not None
    with pytest.raises(AuthenticationError):
        officers.sign_in("10.0.0.1", "zjj.wang", PASSWORD)
    with pytest.raises(AuthenticationError):
        officers.sign_in(
            "10.0.0.1", "zjj.wang", PASSWORD, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        )
    assert officers.sign_in("10.0.0.1", "zjj.wang", PASSWORD, pyotp.TOTP(secret).now()).officer.id > 0


def test_sessions_are_stored_hashed_and_end_when_idle_or_signed_out(
    officers: Officers, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    session = officers.sign_in("10.0.0.1", "zjj.li", PASSWORD)
    assert db.scalar("SELECT count(*) FROM officer_sessions WHERE token_hash = ?", (session.token,)) == 0
    found = officers.session(session.token)
    assert found is not None and found.csrf == session.csrf
    assert officers.session(session.token + "x") is None
    idle = time.time() + 1801
    monkeypatch.setattr(time, "time", lambda: idle)
    assert officers.session(session.token) is None  # idle too long: ended, and stays ended
    monkeypatch.undo()
    assert officers.session(session.token) is None
    again = officers.sign_in("10.0.0.1", "zjj.li", PASSWORD)
    officers.sign_out(again.token)
    assert officers.session(again.token) is None


def test_an_officer_acts_with_the_roles_it_was_given_of_its_organisation(officers: Officers) -> None:
    officers.add(ZJJ.id, "zjj.jc", "赵强", PASSWORD, roles=["supervisor"])
    officer = officers.sign_in("10.0.0.1", "zjj.jc", PASSWORD).officer
    assert officer.may("supervisor") and not officer.may("approval_authority")
    assert officer.org.id == ZJJ.id and ZJJ.has("approval_authority")  # the organisation itself is unchanged


def test_a_disabled_officer_or_a_suspended_organisation_is_out(officers: Officers, db: Database) -> None:
    officer_id, _ = officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    session = officers.sign_in("10.0.0.1", "zjj.li", PASSWORD)
    assert officers.table.disable(officer_id)
    assert officers.session(session.token) is None
    with pytest.raises(AuthenticationError, match="disabled"):
        officers.sign_in("10.0.0.1", "zjj.li", PASSWORD)
    officers.add(ZJJ.id, "zjj.wang", "王芳", PASSWORD)
    other = officers.sign_in("10.0.0.1", "zjj.wang", PASSWORD)
    officers.membership.orgs[ZJJ.id] = dataclasses.replace(ZJJ, suspended=True)  # type: ignore[attr-defined]
    assert officers.session(other.token) is None
    with pytest.raises(AuthenticationError, match="suspended"):
        officers.sign_in("10.0.0.1", "zjj.wang", PASSWORD)


def test_records_name_the_officer_once(officers: Officers) -> None:
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    officer = officers.sign_in("10.0.0.1", "zjj.li", PASSWORD).officer
    uid = "0x" + "ab" * 32
    officers.attribute(uid, officer, "approval")
    officers.attribute(uid, officer, "retry")  # a retried write adds nothing
    assert officers.attributions([uid, "0x" + "cd" * 32]) == {uid: f"{officer.id}:zjj.li"}


def test_access_log_entries_of_api_tokens_hash_as_before_and_officers_are_in_theirs() -> None:
    args: tuple[Any, ...] = (
        1700000000.5,
        4,
        "庄浪县住房和城乡建设局",
        "project.history",
        "c",
        "c",
        "role:supervisor",
    )
    plain = json.loads(entry_json(*args, 3))
    assert "officer" not in plain and plain["token_id"] == 3
    assert json.loads(entry_json(*args, None, "7:zjj.li"))["officer"] == "7:zjj.li"


def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(officers: Officers) -> None:
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    here = officers.sign_in("10.0.0.1", "zjj.li", PASSWORD)
    elsewhere = officers.sign_in("10.0.0.2", "zjj.li", PASSWORD)
    with pytest.raises(AuthenticationError, match="current password"):
        officers.change_password("10.0.0.1", here, "not the password", "a new long passphrase")
    for new, problem in (("short", "at least"), ("x" * 257, "at most"), (PASSWORD, "differ")):
        with pytest.raises(ValidationError, match=problem):
            officers.change_password("10.0.0.1", here, PASSWORD, new)
    officers.change_password("10.0.0.1", here, PASSWORD, "a new long passphrase")
    assert officers.session(here.token) is not None  # this session goes on
    assert officers.session(elsewhere.token) is None  # every other one ended
    with pytest.raises(AuthenticationError):
        officers.sign_in("10.0.0.3", "zjj.li", PASSWORD)
    assert officers.sign_in("10.0.0.3", "zjj.li", "a new long passphrase").officer.username == "zjj.li"


def test_guessing_the_current_password_from_a_session_locks_the_account_and_ends_the_session(
    officers: Officers,
) -> None:
    officers.add(ZJJ.id, "zjj.li", "李明", PASSWORD)
    borrowed = officers.sign_in("10.0.0.1", "zjj.li", PASSWORD)
    for i in range(4):
        with pytest.raises(AuthenticationError):
            officers.change_password("10.0.0.1", borrowed, f"guess {i}", "a new long passphrase")
    with pytest.raises(RateLimitedError, match="locked"):
        officers.change_password("10.0.0.1", borrowed, "guess 5", "a new long passphrase")
    assert officers.session(borrowed.token) is None
    with pytest.raises(RateLimitedError):
        officers.sign_in("10.0.0.4", "zjj.li", PASSWORD)


def test_a_totp_secret_is_stored_sealed_and_is_useless_under_another_nodes_key(
    officers: Officers, db: Database
) -> None:
    _, secret = officers.add(ZJJ.id, "zjj.zhao", "赵敏", PASSWORD, totp=True)
    assert secret is not None
    stored = str(db.scalar("SELECT totp_secret FROM officers WHERE username = 'zjj.zhao'"))
    assert stored.startswith("aesgcm:") and secret not in stored  # a copy of the database does not give it
    assert officers.sign_in("10.0.0.1", "zjj.zhao", PASSWORD, pyotp.TOTP(secret).now()).officer.id > 0
    # The same row under another node's data key, or moved to another officer, authenticates no code.
    other = Officers(
        OfficerTable(db),
        Members(),
        AuthGuard(db, 20),
        1800,
        43200,
        5,
        900,  # type: ignore[arg-type]
        SecretVault(b"k" * 32, TOTP_PURPOSE),
    )
    with pytest.raises(AuthenticationError):
        other.sign_in("10.0.0.2", "zjj.zhao", PASSWORD, pyotp.TOTP(secret).now())
