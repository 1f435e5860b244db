"""Console officers: accounts, sign-in (argon2id, optional TOTP), sessions, lock-out, attribution.

An officer belongs to one organisation and acts for it: the organisation seals, and its
roles decide what the officer may do and read, through the same access rules as the API
(``Officer.org`` is the organisation narrowed to the officer's roles). The officer is named
in every access-log entry of a console read and beside every record the console has sealed.

Sign-in failures are counted twice: per account (``lockout_failures`` in a row lock the
account for ``lockout_seconds``, whatever address the attempts come from; a locked account
is refused even with the right password) and per (client address, username) by the node's
``AuthGuard``, so a guesser is slowed before accounts lock and unknown usernames are
counted like known ones.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from node_api.errors import AuthenticationError, ConflictError, RateLimitedError, ValidationError
from node_api.ledger.auth import AuthGuard
from node_api.ledger.membership import Membership, Organization
from node_api.store.officers import OfficerTable
from node_api.store.subscriptions import SecretCorrupt, SecretVault

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
MIN_PASSWORD = 10
SEALED = "aesgcm:"  # a stored TOTP secret sealed under the node's data key (base64 of nonce ‖ ciphertext)
TOTP_PURPOSE = b"projchain/totp-secrets/v1"
MAX_PASSWORD = 256  # characters (the sign-in form reads no more)
GUARD_PREFIX = "officer:"  # AuthGuard selector of a sign-in attempt: officer:<username>
_HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
# Verified when the username is unknown, so a miss costs what a wrong password costs.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Officer:
    """A signed-in officer and the organisation it acts for (narrowed to the officer's roles)."""

    id: int
    username: str
    display_name: str
    org: Organization

    @property
    def label(self) -> str:
        """How the access log and the records' metadata name the officer: ``<id>:<username>``."""
        return f"{self.id}:{self.username}"

    def may(self, role: str) -> bool:
        """Whether the officer holds a role (of its organisation)."""
        return self.org.has(role)


@dataclass(frozen=True)
class Session:
    """A console session: the cookie's secret (shown once) and the form token of the session."""

    token: str
    csrf: str
    officer: Officer


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Officers:
    """Officer accounts and console sessions."""

    def __init__(
        self, table: OfficerTable, membership: Membership, guard: AuthGuard, idle_seconds: float,
        max_seconds: float, lockout_failures: int, lockout_seconds: float, vault: SecretVault,
    ) -> None:  # fmt: skip
        self.table = table
        self.vault = vault  # TOTP secrets are stored sealed under the node's data key
        self.membership = membership
        self.guard = guard
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.lockout_failures = lockout_failures
        self.lockout_seconds = lockout_seconds

    # -- accounts ---------------------------------------------------------------------
    def add(
        self, org_id: int, username: str, display_name: str, password: str,
        roles: list[str] | None = None, totp: bool = False,
    ) -> tuple[int, str | None]:  # fmt: skip
        """Creates an officer of a member organisation; returns (id, TOTP secret if enrolled)."""
        if not USERNAME.fullmatch(username):
            raise ValidationError("username", "3–64 of a-z 0-9 . _ -, starting with a letter or digit")
        if len(password) < MIN_PASSWORD:
            raise ValidationError("password", f"at least {MIN_PASSWORD} characters")
        if not display_name.strip() or len(display_name) > 100:
            raise ValidationError("display_name", "1–100 characters")
        org = self.membership.get(org_id)
        if org is None:
            raise ValidationError("org", f"no member organisation with id {org_id}")
        if roles is not None:
            unknown = [r for r in roles if not org.has(r)]
            if unknown:
                raise ValidationError("roles", f"{org.name} does not hold {', '.join(unknown)}")
        secret = pyotp.random_base32() if totp else None
        sealed = (
            None if secret is None else SEALED + base64.b64encode(self.vault.seal(username, secret)).decode()
        )
        officer_id = self.table.insert(
            org_id, username, display_name.strip(), _HASHER.hash(password), sealed,
            None if roles is None else json.dumps(roles),
        )  # fmt: skip
        if officer_id is None:
            raise ConflictError(f"username {username} is taken")
        return officer_id, secret

    def _officer(self, row: Any) -> Officer | None:
        org = self.membership.get(int(row["org_id"]))
        if org is None or org.suspended or row["disabled_at"] is not None:
            return None
        if row["roles"] is not None:
            allowed = set(json.loads(row["roles"]))
            org = dataclasses.replace(org, roles=[r for r in org.roles if r in allowed])
        return Officer(int(row["id"]), str(row["username"]), str(row["display_name"]), org)

    # -- sign-in ----------------------------------------------------------------------
    def sign_in(self, client: str, username: str, password: str, otp: str = "") -> Session:
        """A new session for the right credentials; 401 for wrong ones, 429 while locked out."""
        username = username.strip().lower()[:64]
        selector = GUARD_PREFIX + username
        self.guard.check(client, selector)
        row = self.table.by_username(username)
        if row is not None and float(row["locked_until"]) > time.time():
            raise RateLimitedError(_locked_detail(float(row["locked_until"])))
        if not self._password_ok(row, password) or row is None or not _otp_ok(self.vault, row, otp):
            self.guard.fail(client, selector)
            if row is not None:
                until = time.time() + self.lockout_seconds
                if self.table.failed(int(row["id"]), self.lockout_failures, until):
                    raise RateLimitedError(_locked_detail(until))
            raise AuthenticationError("wrong username, password or one-time code")
        officer = self._officer(row)
        if officer is None:
            raise AuthenticationError("this account is disabled, or its organisation is suspended")
        self.table.succeeded(officer.id)
        if _HASHER.check_needs_rehash(str(row["password_hash"])):
            self.table.set_password(officer.id, _HASHER.hash(password))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.table.open_session(_hash_token(token), officer.id, csrf)
        return Session(token, csrf, officer)

    def _password_ok(self, row: Any, password: str) -> bool:
        stored = _DUMMY_HASH if row is None else str(row["password_hash"])
        try:
            return _HASHER.verify(stored, password) and row is not None
        except (VerificationError, InvalidHashError):
            return False

    def session(self, token: str) -> Session | None:
        """The live session of a cookie's secret (its idle clock restarted), or None."""
        if not token or len(token) > 128:
            return None
        digest = _hash_token(token)
        row = self.table.session(digest)
        if row is None or not hmac.compare_digest(str(row["token_hash"]), digest):
            return None
        now = time.time()
        if (
            now - float(row["last_seen"]) > self.idle_seconds
            or now - float(row["created_at"]) > self.max_seconds
        ):
            self.table.end_session(digest)
            return None
        officer_row = self.table.by_id(int(row["officer_id"]))
        officer = None if officer_row is None else self._officer(officer_row)
        if officer is None:
            self.table.end_session(digest)
            return None
        self.table.touch(digest, now)
        return Session(token, str(row["csrf"]), officer)

    def change_password(self, client: str, session: Session, current: str, new: str) -> None:
        """The signed-in officer's new password, on its current one; the officer's other sessions end.

        A wrong current password counts as a failed sign-in (a borrowed session cannot guess it
        unchecked): 401, and the lock-out after ``lockout_failures`` in a row, which also ends
        this session. The new password follows the rules of ``add``.
        """
        officer = session.officer
        selector = GUARD_PREFIX + officer.username
        self.guard.check(client, selector)
        row = self.table.by_id(officer.id)
        if row is None or not self._password_ok(row, current):
            self.guard.fail(client, selector)
            until = time.time() + self.lockout_seconds
            if self.table.failed(officer.id, self.lockout_failures, until):
                self.table.end_sessions(officer.id, keep=None)
                raise RateLimitedError(_locked_detail(until))
            raise AuthenticationError("the current password is wrong")
        if len(new) < MIN_PASSWORD:
            raise ValidationError("new_password", f"at least {MIN_PASSWORD} characters")
        if len(new) > MAX_PASSWORD:
            raise ValidationError("new_password", f"at most {MAX_PASSWORD} characters")
        if hmac.compare_digest(new.encode(), current.encode()):
            raise ValidationError("new_password", "the new password must differ from the current one")
        self.table.succeeded(officer.id)
        self.table.set_password(officer.id, _HASHER.hash(new))
        self.table.end_sessions(officer.id, keep=_hash_token(session.token))

    def sign_out(self, token: str) -> None:
        """Ends the session of a cookie's secret."""
        self.table.end_session(_hash_token(token))

    # -- attribution ------------------------------------------------------------------
    def attribute(self, uid: str, officer: Officer, action: str) -> None:
        """Notes that ``officer`` had record ``uid`` sealed (off-chain metadata)."""
        self.table.attribute(uid, officer.id, officer.label, officer.org.id, action)

    def attributions(self, uids: list[str]) -> dict[str, str]:
        """``<id>:<username>`` of the officer behind each of these records that has one."""
        return {uid: str(row["officer"]) for uid, row in self.table.attributions(uids).items()}


def _otp_ok(vault: SecretVault, row: Any, otp: str) -> bool:
    stored = row["totp_secret"]
    if stored is None:
        return True
    stored = str(stored)
    try:
        secret = (
            vault.unseal(str(row["username"]), base64.b64decode(stored[len(SEALED) :]))
            if stored.startswith(SEALED)
            else stored  # an officer enrolled before secrets were sealed
        )
    except (SecretCorrupt, ValueError):  # another node's key, or a row moved to another officer
        return False
    return bool(re.fullmatch(r"\d{6}", otp.strip())) and pyotp.TOTP(secret).verify(
        otp.strip(), valid_window=1
    )


def _locked_detail(until: float) -> str:
    minutes = max(1, round((until - time.time()) / 60))
    return f"too many failed sign-ins: the account is locked for {minutes} more minute(s)"
