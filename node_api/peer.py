"""Node-to-node requests: one node asks another for something its organisation may read.

The requesting node signs an EIP-712 ``PeerRequest`` with its organisation's seal key;
the receiving node recovers the signer, checks it is an active seal key of that
organisation, checks the right to what is asked ON CHAIN (for a document: ``hasGrant``),
logs the access and answers; the requester checks the answer against the chain.

What a request names, all of it signed:

- ``purpose`` and ``subject`` — WHAT is asked: ``"document"`` and the document's SHA-256
  today; other kinds of requests (e.g. the opening of a record's restricted content) use
  the same mechanism with their own purpose and a bytes32 subject. The receiving node takes
  both from the endpoint it serves, so a request signed for one thing is void for another.
- ``audience`` — the node it is meant for: the base URL of that node **as the requester
  lists it in its PROJCHAIN_PEERS** (normalised: lowercase, no trailing slash). The
  receiving node accepts only its own ``peer_url`` setting (default: its public URL,
  PROJCHAIN_PUBLIC_URL, else ``http://host:port``), so a peer that was asked cannot send
  the request on to another node. The URL is chosen over an organisation id because a
  node hosts several organisations and one organisation may run several nodes (as the
  bank does in the tests): an organisation id does not tell nodes apart; the URL is what
  the requester already knows of each peer, and nothing a peer says about itself is used.
- ``org``, ``timestamp`` (valid ``MAX_SKEW`` seconds either way) and ``nonce``: 32 random
  bytes, accepted only in one spelling — ``0x`` and 64 lowercase hex digits — and
  remembered as bytes by the receiving node until the request is stale (see
  ``node_api.store.peer_nonces``), so a request is served once.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from node_api.chain.seal import EIP712_DOMAIN_TYPE
from node_api.errors import ChainError, ForbiddenError, NotFoundError, ValidationError

MAX_SKEW = 120  # seconds a signed request stays valid, either side of its timestamp
DOCUMENT = "document"  # the purpose of a document request; its subject is the document's SHA-256
OPENING = "opening"  # the purpose of a request for a record's restricted content; its subject: the uid

_NONCE = re.compile(r"0x[0-9a-f]{64}")
_PURPOSE = re.compile(r"[a-z][a-z0-9 ._-]{0,63}")
PEER_REQUEST_TYPE = [
    {"name": "purpose", "type": "string"},
    {"name": "subject", "type": "bytes32"},
    {"name": "audience", "type": "string"},
    {"name": "org", "type": "uint32"},
    {"name": "timestamp", "type": "uint64"},
    {"name": "nonce", "type": "bytes32"},
]


def audience_of(url: str) -> str:
    """The canonical form of a node's URL as a request's audience."""
    return url.strip().rstrip("/").lower()


def request_typed_data(
    chain_id: int,
    ledger: str,
    *,
    purpose: str,
    subject: bytes,
    audience: str,
    org: int,
    timestamp: int,
    nonce: bytes,
) -> dict[str, Any]:
    """The EIP-712 message a requesting node signs."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "PeerRequest": PEER_REQUEST_TYPE},
        "primaryType": "PeerRequest",
        "domain": {
            "name": "projchain-peer",
            "version": "2",
            "chainId": chain_id,
            "verifyingContract": ledger,
        },
        "message": {
            "purpose": purpose,
            "subject": subject,
            "audience": audience,
            "org": org,
            "timestamp": timestamp,
            "nonce": nonce,
        },
    }


@dataclass(frozen=True)
class SignedRequest:
    """The headers of a signed node-to-node request."""

    org: int
    audience: str
    timestamp: int
    nonce: str
    signature: str

    def headers(self) -> dict[str, str]:
        """As HTTP headers."""
        return {
            "X-Projchain-Org": str(self.org),
            "X-Projchain-Audience": self.audience,
            "X-Projchain-Timestamp": str(self.timestamp),
            "X-Projchain-Nonce": self.nonce,
            "X-Projchain-Signature": self.signature,
        }


@dataclass(frozen=True)
class PeerRequest:
    """A checked request: who sealed it (not yet checked against membership) and its nonce."""

    org: int
    signer: str
    timestamp: int
    nonce: bytes


def _check_what(purpose: str, subject: bytes) -> None:
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"peer request purpose {purpose!r} is not a short lowercase name")
    if len(subject) != 32:
        raise ValueError("a peer request's subject is 32 bytes")


def sign_request(
    key: LocalAccount,
    chain_id: int,
    ledger: str,
    *,
    org: int,
    purpose: str,
    subject: bytes,
    audience: str,
) -> SignedRequest:
    """Signs a request for ``purpose``/``subject``, meant for the node at ``audience`` (its URL)."""
    _check_what(purpose, subject)
    ts = int(time.time())
    nonce = secrets.token_bytes(32)
    target = audience_of(audience)
    typed = request_typed_data(
        chain_id,
        ledger,
        purpose=purpose,
        subject=subject,
        audience=target,
        org=org,
        timestamp=ts,
        nonce=nonce,
    )
    signature = key.sign_message(encode_typed_data(full_message=typed)).signature
    return SignedRequest(
        org=org,
        audience=target,
        timestamp=ts,
        nonce="0x" + nonce.hex(),
        signature="0x" + bytes(signature).hex(),
    )


def recover_request(
    chain_id: int,
    ledger: str,
    *,
    purpose: str,
    subject: bytes,
    audience: str,
    headers: dict[str, str],
) -> PeerRequest:
    """Checks target, freshness and form of a signed request for ``purpose``/``subject``.

    ``audience`` is this node's own ``peer_url``; headers are lowercase-keyed (as Starlette's).
    The signer is recovered, not yet checked against the organisation's seal keys.
    """
    _check_what(purpose, subject)
    try:
        org = int(headers["x-projchain-org"])
        target = headers["x-projchain-audience"]
        ts = int(headers["x-projchain-timestamp"])
        nonce_hex = headers["x-projchain-nonce"]
        signature = headers["x-projchain-signature"]
    except (KeyError, ValueError) as e:
        raise ValidationError(
            "headers", "X-Projchain-Org, -Audience, -Timestamp, -Nonce and -Signature are required"
        ) from e
    if not 0 <= org < 2**32:
        raise ValidationError("X-Projchain-Org", "not an organisation id")
    if not _NONCE.fullmatch(nonce_hex):
        raise ValidationError("X-Projchain-Nonce", "must be 0x and 64 lowercase hex digits")
    if target != audience_of(audience):
        raise ForbiddenError("this signed request is meant for another node")
    if abs(time.time() - ts) > MAX_SKEW:
        raise ForbiddenError("the signed request is too old or from the future")
    nonce = bytes.fromhex(nonce_hex[2:])
    try:
        typed = request_typed_data(
            chain_id,
            ledger,
            purpose=purpose,
            subject=subject,
            audience=target,
            org=org,
            timestamp=ts,
            nonce=nonce,
        )
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception as e:
        raise ValidationError("X-Projchain-Signature", "not a valid signature of this request") from e
    return PeerRequest(org=org, signer=str(signer), timestamp=ts, nonce=nonce)


async def fetch_from_peer(peer: str, digest: str, request: SignedRequest, timeout: float = 30.0) -> bytes:
    """GETs a document from a peer node; raises NotFoundError/ForbiddenError/ChainError."""
    url = peer.rstrip("/") + f"/v1/peer/documents/{digest}"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            r = await client.get(url, headers=request.headers())
    except httpx.HTTPError as e:
        raise ChainError(f"peer {peer} unreachable: {type(e).__name__}") from e
    if r.status_code == 404:
        raise NotFoundError(f"peer {peer} does not hold document {digest}")
    if r.status_code in (401, 403):
        raise ForbiddenError(f"peer {peer} refused: {r.text[:300]}")
    if r.status_code != 200:
        raise ChainError(f"peer {peer} answered {r.status_code}")
    return r.content


async def fetch_opening_from_peer(
    client: httpx.AsyncClient, peer: str, uid: str, request: SignedRequest
) -> tuple[bytes, bytes]:
    """GETs the opening (salt, content) of record ``uid`` from a peer node; raises like ``fetch_from_peer``.

    The caller checks the opening against the record's on-chain commitment.
    """
    url = peer.rstrip("/") + f"/v1/peer/openings/{uid}"
    try:
        r = await client.get(url, headers=request.headers())
    except httpx.HTTPError as e:
        raise ChainError(f"peer {peer} unreachable: {type(e).__name__}") from e
    if r.status_code == 404:
        raise NotFoundError(f"peer {peer} holds no opening of {uid}")
    if r.status_code in (401, 403):
        raise ForbiddenError(f"peer {peer} refused: {r.text[:300]}")
    if r.status_code != 200:
        raise ChainError(f"peer {peer} answered {r.status_code}")
    try:
        body = r.json()
        salt, content = str(body["salt"]), str(body["content"])
        if not (salt.startswith("0x") and content.startswith("0x")):
            raise ValueError("not 0x-hex")
        return bytes.fromhex(salt[2:]), bytes.fromhex(content[2:])
    except (ValueError, KeyError, TypeError) as e:
        raise ChainError(f"peer {peer} sent no readable opening of {uid}") from e
