"""Restricted content held by another node: fetched from the issuing node, checked against the chain.

A node that did not issue a record holds no opening of its restricted fields. When one of its
organisations may read them (the route's access check passed), it asks its peers with a request
signed by that organisation's seal key (``node_api.peer``, purpose ``opening``); the holding node
checks the right on chain and logs the read. An opening is kept only if it opens the record's
on-chain commitment. Refusals, unknown records and unreachable peers are skipped: the record is
then shown without its restricted fields, and not asked for again by the same organisation for
``RETRY_AFTER`` seconds (a history of a hundred records a peer refuses would otherwise cost a
hundred peer requests on every view).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import httpx

from node_api.domain.records import RESTRICTED_SCHEMAS, Kind, Opening, PayloadError, decode_payload
from node_api.errors import ChainError, ForbiddenError, NotFoundError
from node_api.ledger.membership import Organization
from node_api.ledger.writer import seal_key_name
from node_api.node import Node
from node_api.peer import OPENING, fetch_opening_from_peer, sign_request

PEER_TIMEOUT = 10.0  # seconds for one peer's answer
CONCURRENCY = 8  # openings asked for at once
RETRY_AFTER = 60.0  # seconds before an opening no peer gave an organisation is asked for again
_MISSES_MAX = 10_000  # remembered misses (per process); the oldest are forgotten first
_misses: dict[tuple[int, str], float] = {}  # (org, uid) -> when no peer gave it


def _wanted(node: Node, org: Organization, rows: list[Any]) -> dict[str, bytes]:
    """The confirmed records among ``rows`` with restricted content this node lacks (and no peer
    refused ``org`` lately), and their commitments."""
    now = time.monotonic()
    held = node.openings.held([str(r["uid"]) for r in rows])
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


async def fetch_openings(node: Node, org: Organization, uids: Iterable[str]) -> set[str]:
    """Fetches from the peers the missing openings of ``uids`` that ``org`` may read; the uids stored.

    Call only after ``org``'s access to the records was checked. Returns at once when the node
    has no peers.
    """
    if not node.settings.peers:
        return set()
    rows = [row for uid in dict.fromkeys(uids) if (row := node.reader.chain_row(uid)) is not None]
    return await _fetch(node, org, rows)


async def fetch_project_openings(node: Node, org: Organization, project: str) -> set[str]:
    """``fetch_openings`` for every confirmed record of ``project``."""
    if not node.settings.peers:
        return set()
    return await _fetch(node, org, node.reader.canonical_rows(project))


async def _fetch(node: Node, org: Organization, rows: list[Any]) -> set[str]:
    if node.contracts is None or node.contracts.deployment is None:
        return set()
    wanted = _wanted(node, org, rows)
    if not wanted or not node.keystore.exists(seal_key_name(org.id)):
        return set()
    d = node.contracts.deployment
    key = node.keystore.load(seal_key_name(org.id))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(client: httpx.AsyncClient, uid: str, commitment: bytes) -> str | None:
        async with gate:
            for peer in node.settings.peers:
                # Signed for this peer alone (its URL is the audience), so it cannot pass the request on.
                signed = sign_request(
                    key, d.chain_id, d.ledger, org=org.id, purpose=OPENING,
                    subject=bytes.fromhex(uid[2:]), audience=peer,
                )  # fmt: skip
                try:
                    salt, content = await fetch_opening_from_peer(client, peer, uid, signed)
                except (NotFoundError, ForbiddenError, ChainError):
                    continue
                opening = Opening(salt=salt, content=content)
                if opening.matches(commitment):
                    node.openings.put(uid, opening, "peer")
                    return uid
        _remember_miss(org.id, uid)
        return None

    async with httpx.AsyncClient(timeout=PEER_TIMEOUT) as client:
        got = await asyncio.gather(*(one(client, u, c) for u, c in wanted.items()))
    return {u for u in got if u is not None}


def _remember_miss(org_id: int, uid: str) -> None:
    if len(_misses) >= _MISSES_MAX:
        for key in list(_misses)[: _MISSES_MAX // 10]:
            del _misses[key]
    _misses[(org_id, uid)] = time.monotonic()
