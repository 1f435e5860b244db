"""Signed node-to-node requests: what they bind, the one nonce spelling, the pruned replay table."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_api.errors import ForbiddenError, ValidationError
from node_api.peer import DOCUMENT, MAX_SKEW, recover_request, sign_request
from node_api.store.database import Database
from node_api.store.peer_nonces import remember_nonce

CHAIN, LEDGER = 620825, "0x" + "11" * 20
SUBJECT = bytes(range(32))
NODE_A = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def key() -> LocalAccount:
    account: LocalAccount = Account.create()
    return account


def headers_of(signed_headers: dict[str, str]) -> dict[str, str]:
    """As Starlette hands them over: lowercase names."""
    return {k.lower(): v for k, v in signed_headers.items()}


def sign(key: LocalAccount, purpose: str = DOCUMENT, audience: str = NODE_A) -> dict[str, str]:
    signed = sign_request(key, CHAIN, LEDGER, org=7, purpose=purpose, subject=SUBJECT, audience=audience)
    return headers_of(signed.headers())


def recover(headers: dict[str, str], purpose: str = DOCUMENT, audience: str = NODE_A) -> str:
    req = recover_request(CHAIN, LEDGER, purpose=purpose, subject=SUBJECT, audience=audience, headers=headers)
    assert req.org == 7 and len(req.nonce) == 32
    return req.signer


def test_a_request_recovers_to_its_signer_at_its_audience(key: LocalAccount) -> None:
    assert recover(sign(key)) == key.address
    # The audience is the URL as the requester lists it: case and a trailing slash do not matter.
    assert recover(sign(key, audience="HTTP://127.0.0.1:8000/")) == key.address


def test_a_request_for_another_node_is_refused(key: LocalAccount) -> None:
    with pytest.raises(ForbiddenError, match="another node"):
        recover(sign(key, audience="http://127.0.0.1:9000"))
    # Naming this node in the header does not help: the signature covers the audience.
    forged = {**sign(key, audience="http://127.0.0.1:9000"), "x-projchain-audience": NODE_A}
    assert recover(forged) != key.address


def test_purpose_and_subject_are_bound(key: LocalAccount) -> None:
    headers = sign(key, purpose="record opening")
    assert recover(headers, purpose="record opening") == key.address
    assert recover(headers, purpose=DOCUMENT) != key.address
    other = recover_request(
        CHAIN, LEDGER, purpose="record opening", subject=bytes(32), audience=NODE_A, headers=headers
    )
    assert other.signer != key.address


@pytest.mark.parametrize(
    "spelling",
    [
        lambda n: "0x" + n[2:].upper(),
        lambda n: n.upper(),
        lambda n: n[2:],
        lambda n: n + "00",
        lambda n: n[:-2],
        lambda n: " " + n,
    ],
)
def test_only_the_canonical_nonce_is_accepted(key: LocalAccount, spelling) -> None:  # type: ignore[no-untyped-def]
    headers = sign(key)
    with pytest.raises(ValidationError, match="X-Projchain-Nonce"):
        recover({**headers, "x-projchain-nonce": spelling(headers["x-projchain-nonce"])})


def test_stale_requests_and_missing_headers_are_refused(
    key: LocalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = sign(key)
    later = time.time() + MAX_SKEW + 1
    monkeypatch.setattr("node_api.peer.time.time", lambda: later)
    with pytest.raises(ForbiddenError, match="too old"):
        recover(headers)
    monkeypatch.undo()
    del headers["x-projchain-audience"]
    with pytest.raises(ValidationError, match="Audience"):
        recover(headers)


def test_nonces_are_kept_as_bytes_until_the_request_is_stale(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.sqlite3")
    now = time.time()
    nonce, old = b"\x01" * 32, b"\x02" * 32
    assert remember_nonce(db, old, 7, now - MAX_SKEW - 5, now - MAX_SKEW)  # a request that is stale already
    assert remember_nonce(db, nonce, 7, now, now - MAX_SKEW)
    assert not remember_nonce(db, nonce, 7, now, now - MAX_SKEW)  # the replay
    rows = db.all("SELECT nonce, at FROM peer_nonces")
    assert [bytes(r["nonce"]) for r in rows] == [nonce]  # the stale one is gone, the table stays small
