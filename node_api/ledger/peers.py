"""This node's side of node-to-node requests: asking peers for what they hold, and checking their asks.

Restricted content held by another node is fetched from the issuing node and checked against the chain.

A node that did not issue a record holds no opening of its restricted fields. When one of its
organisations may read them (the route's access check passed), it asks its peers with a request
signed by that organisation's seal key (``node_api.peer``, purpose ``opening``); the holding node
checks the right on chain and logs the read. An opening is kept only if it opens the record's
on-chain commitment. Refusals, unknown records and unreachable peers are skipped: the record is
then shown without its restricted fields, and not asked for again by the same organisation for
``RETRY_AFTER`` seconds (a history of a hundred records a peer refuses would otherwise cost a
hundred peer requests on every view). Documents are fetched the same way (purpose ``document``)
and kept only if their SHA-256 is the digest asked for.

A request from a peer is checked by ``checked_request`` (target, freshness, signature, an active
seal key, a nonce never served before) and a grant it relies on by ``grant_live_on_chain`` (the
contract's own ``hasGrant``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.keystore import KeyStore
from node_api.chain.rpc import RpcClient
from node_api.config import Settings
from node_api.domain.records import RESTRICTED_SCHEMAS, Kind, Opening, PayloadError, decode_payload
from node_api.errors import ChainError, ForbiddenError, NotFoundError
from node_api.ledger.membership import Membership, Organization
from node_api.ledger.reader import Reader
from node_api.ledger.writer import seal_key_name
from node_api.peer import (
    DOCUMENT,
    MAX_SKEW,
    OPENING,
    fetch_from_peer,
    fetch_opening_from_peer,
    recover_request,
    sign_request,
)
from node_api.store.database import Database
from node_api.store.documents import DocumentStore, sha256_hex
from node_api.store.openings import Openings
from node_api.store.peer_nonces import remember_nonce

PEER_TIMEOUT = 10.0  # seconds for one peer's answer
CONCURRENCY = 8  # openings asked for at once
RETRY_AFTER = 60.0  # seconds before an opening no peer gave an organisation is asked for again
_MISSES_MAX = 10_000  # remembered misses (per process); the oldest are forgotten first
_misses: dict[tuple[int, str], float] = {}  # (org, uid) -> when no peer gave it


class Peers:
    """Requests to and from the consortium's other nodes."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        reader: Reader,
        membership: Membership,
        openings: Openings,
        documents: DocumentStore,
        keystore: KeyStore,
        contracts: Contracts,
        deployment: Deployment,
        rpc: RpcClient,
    ) -> None:
        self.peers = settings.peers
        self.audience = settings.peer_audience
        self.db = db
        self.reader = reader
        self.membership = membership
        self.openings = openings
        self.documents = documents
        self.keystore = keystore
        self.contracts = contracts
        self.deployment = deployment
        self.rpc = rpc

    # -- asking peers ------------------------------------------------------------------
    def _wanted(self, org: Organization, rows: list[Any]) -> dict[str, bytes]:
        """The confirmed records among ``rows`` with restricted content this node lacks (and no peer
        refused ``org`` lately), and their commitments."""
        now = time.monotonic()
        held = self.openings.held([str(r["uid"]) for r in rows])
        out: dict[str, bytes] = {}
        for row in rows:
            uid = str(row["uid"])
            if uid in held or int(row["kind"]) not in RESTRICTED_SCHEMAS:
                continue
            if now - _misses.get((org.id, uid), float("-inf")) < RETRY_AFTER:
                continue
            try:
                commitment = decode_payload(Kind(int(row["kind"])), bytes(row["payload"]))["restricted"]
            except (PayloadError, KeyError):
                continue
            out[uid] = bytes.fromhex(commitment[2:])
        return out

    async def fetch_openings(self, org: Organization, uids: Iterable[str]) -> set[str]:
        """Fetches from the peers the missing openings of ``uids`` that ``org`` may read; the uids stored.

        Call only after ``org``'s access to the records was checked. Returns at once when the node
        has no peers.
        """
        if not self.peers:
            return set()
        rows = [row for uid in dict.fromkeys(uids) if (row := self.reader.chain_row(uid)) is not None]
        return await self._fetch(org, rows)

    async def fetch_project_openings(self, org: Organization, project: str) -> set[str]:
        """``fetch_openings`` for every confirmed record of ``project``."""
        if not self.peers:
            return set()
        return await self._fetch(org, self.reader.canonical_rows(project))

    def _signing_key(self, org: Organization) -> LocalAccount | None:
        name = seal_key_name(org.id)
        return self.keystore.load(name) if self.keystore.exists(name) else None

    def _signed(self, key: LocalAccount, org: Organization, purpose: str, subject: bytes, peer: str) -> Any:
        # Signed for this peer alone (its URL is the audience), so it cannot pass the request on.
        d = self.deployment
        return sign_request(
            key, d.chain_id, d.ledger, org=org.id, purpose=purpose, subject=subject, audience=peer
        )

    async def _fetch(self, org: Organization, rows: list[Any]) -> set[str]:
        wanted = self._wanted(org, rows)
        key = self._signing_key(org) if wanted else None
        if key is None:
            return set()
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(client: httpx.AsyncClient, uid: str, commitment: bytes) -> str | None:
            async with gate:
                for peer in self.peers:
                    signed = self._signed(key, org, OPENING, bytes.fromhex(uid[2:]), peer)
                    try:
                        salt, content = await fetch_opening_from_peer(client, peer, uid, signed)
                    except (NotFoundError, ForbiddenError, ChainError):
                        continue
                    opening = Opening(salt=salt, content=content)
                    if opening.matches(commitment):
                        self.openings.put(uid, opening, "peer")
                        return uid
            _remember_miss(org.id, uid)
            return None

        async with httpx.AsyncClient(timeout=PEER_TIMEOUT) as client:
            got = await asyncio.gather(*(one(client, u, c) for u, c in wanted.items()))
        return {u for u in got if u is not None}

    async def fetch_document(self, org: Organization, digest: str) -> bytes:
        """A granted document from the node that holds it, checked against its digest and kept here."""
        if not self.peers:
            raise NotFoundError(f"document {digest} is not stored on this node")
        key = self._signing_key(org)
        if key is None:
            raise ForbiddenError(f"this node holds no seal key of {org.name} to sign a peer request")
        last: Exception | None = None
        for peer in self.peers:
            try:
                signed = self._signed(key, org, DOCUMENT, bytes.fromhex(digest[2:]), peer)
                data = await fetch_from_peer(peer, digest, signed)
            except (NotFoundError, ForbiddenError, ChainError) as e:
                last = e
                continue
            if "0x" + sha256_hex(data) != digest:
                last = ChainError(f"peer {peer} sent bytes that do not match digest {digest}")
                continue
            self.documents.put(data)
            return data
        raise last or NotFoundError(f"document {digest} is not stored on this node")

    # -- checking peers' asks -------------------------------------------------------------
    def checked_request(self, headers: dict[str, str], purpose: str, subject: bytes) -> Organization:
        """The organisation that sealed a signed peer request for ``purpose``/``subject`` meant for this node.

        Checks the target, freshness, nonce form and signature (``recover_request``), that the
        signer is an active seal key of the named organisation, and that the nonce was never
        served before (remembered in the database, for all the node's processes). Whether the
        organisation may have what it asks is the caller's to check, on chain.
        """
        d = self.deployment
        req = recover_request(
            d.chain_id, d.ledger, purpose=purpose, subject=subject, audience=self.audience, headers=headers
        )
        org = self.membership.get(req.org)
        if org is None or not self.membership.active_seal_key(req.org, req.signer):
            raise ForbiddenError("the request is not sealed by an active seal key of the named organisation")
        if not remember_nonce(self.db, req.nonce, req.org, req.timestamp, time.time() - MAX_SKEW):
            raise ForbiddenError("this signed request was used before (replay)")
        return org

    async def grant_live_on_chain(self, grant: str, project: str, org_id: int) -> bool:
        """The ledger's own ``hasGrant(grant, project, org)``: grantee, project, status, expiry, project open."""
        ledger = self.contracts.ledger
        data = ledger.encode_abi("hasGrant", [bytes.fromhex(grant[2:]), bytes.fromhex(project[2:]), org_id])
        return int(await self.rpc.eth_call(ledger.address, data), 16) == 1


def _remember_miss(org_id: int, uid: str) -> None:
    if len(_misses) >= _MISSES_MAX:
        for key in list(_misses)[: _MISSES_MAX // 10]:
            del _misses[key]
    _misses[(org_id, uid)] = time.monotonic()
