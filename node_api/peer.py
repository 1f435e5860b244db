"""Node-to-node requests: one node fetches a granted document from the node that holds it.

The requesting node signs an EIP-712 ``DocumentRequest`` with its organisation's
seal key; the holding node recovers the signer, checks it is an active seal key of
that organisation, checks the grant ON CHAIN (``hasGrant``), logs the access and
serves the bytes; the requester checks the bytes against the digest on chain.
"""

from __future__ import annotations

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

MAX_SKEW = 120  # seconds a signed request stays valid


def request_typed_data(
    chain_id: int, ledger: str, digest: str, org: int, timestamp: int, nonce: str
) -> dict[str, Any]:
    """The EIP-712 message a requesting node signs."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN_TYPE,
            "DocumentRequest": [
                {"name": "digest", "type": "bytes32"},
                {"name": "org", "type": "uint32"},
                {"name": "timestamp", "type": "uint64"},
                {"name": "nonce", "type": "bytes32"},
            ],
        },
        "primaryType": "DocumentRequest",
        "domain": {
            "name": "projchain-peer",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": ledger,
        },
        "message": {"digest": digest, "org": org, "timestamp": timestamp, "nonce": nonce},
    }


@dataclass(frozen=True)
class SignedRequest:
    """The headers of a signed node-to-node request."""

    org: int
    timestamp: int
    nonce: str
    signature: str

    def headers(self) -> dict[str, str]:
        """As HTTP headers."""
        return {
            "X-Projchain-Org": str(self.org),
            "X-Projchain-Timestamp": str(self.timestamp),
            "X-Projchain-Nonce": self.nonce,
            "X-Projchain-Signature": self.signature,
        }


def sign_request(key: LocalAccount, chain_id: int, ledger: str, digest: str, org: int) -> SignedRequest:
    """Signs a document request with the organisation's seal key."""
    ts = int(time.time())
    nonce = "0x" + secrets.token_hex(32)
    message = encode_typed_data(full_message=request_typed_data(chain_id, ledger, digest, org, ts, nonce))
    signature = key.sign_message(message).signature
    return SignedRequest(org=org, timestamp=ts, nonce=nonce, signature="0x" + bytes(signature).hex())


def recover_request(chain_id: int, ledger: str, digest: str, headers: dict[str, str]) -> tuple[int, str, str]:
    """Checks freshness and returns (org, signer address, nonce) of a signed request."""
    try:
        org = int(headers["x-projchain-org"])
        ts = int(headers["x-projchain-timestamp"])
        nonce = headers["x-projchain-nonce"]
        signature = headers["x-projchain-signature"]
    except (KeyError, ValueError) as e:
        raise ValidationError(
            "headers", "X-Projchain-Org, -Timestamp, -Nonce and -Signature are required"
        ) from e
    if abs(time.time() - ts) > MAX_SKEW:
        raise ForbiddenError("the signed request is too old or from the future")
    try:
        message = encode_typed_data(full_message=request_typed_data(chain_id, ledger, digest, org, ts, nonce))
        signer = Account.recover_message(message, signature=signature)
    except Exception as e:
        raise ValidationError("X-Projchain-Signature", "not a valid signature of this request") from e
    return org, str(signer), nonce


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
