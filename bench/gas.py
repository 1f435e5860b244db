"""Gas per record, read from the receipts of the transactions the node sent."""

from __future__ import annotations

from typing import Any

import httpx
from eth_utils import keccak

RECORD_ADDED = "0x" + keccak(text="RecordAdded(bytes32,bytes32)").hex()


def _rpc_batch(url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    replies = httpx.post(url, json=body, timeout=60).json()
    by_id = {r["id"]: r.get("result") for r in replies}
    return [by_id.get(i) for i in range(len(calls))]


def block_number(url: str) -> int:
    """The chain's head."""
    return int(_rpc_batch(url, [("eth_blockNumber", [])])[0], 16)


def node_transactions(
    url: str, relayer: str, ledger: str, first: int, last: int, limit: int = 400
) -> list[dict[str, int]]:
    """``{gas, records}`` of up to ``limit`` ledger transactions the relayer sent in blocks first..last."""
    relayer, ledger = relayer.lower(), ledger.lower()
    hashes: list[str] = []
    for start in range(first, last + 1, 100):
        numbers = range(start, min(last, start + 99) + 1)
        blocks = _rpc_batch(url, [("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        for b in blocks:
            for tx in (b or {}).get("transactions", []):
                if tx.get("from", "").lower() == relayer and (tx.get("to") or "").lower() == ledger:
                    hashes.append(tx["hash"])
    if len(hashes) > limit:  # an even sample over the phase
        step = len(hashes) / limit
        hashes = [hashes[int(i * step)] for i in range(limit)]
    out: list[dict[str, int]] = []
    for i in range(0, len(hashes), 100):
        receipts = _rpc_batch(url, [("eth_getTransactionReceipt", [h]) for h in hashes[i : i + 100]])
        for r in receipts:
            if not r or int(r["status"], 16) != 1:
                continue
            n = sum(1 for lg in r["logs"] if lg["topics"] and lg["topics"][0] == RECORD_ADDED)
            out.append({"gas": int(r["gasUsed"], 16), "records": n})
    return out


def summarize(txs: list[dict[str, int]]) -> dict[str, Any]:
    """Gas per record over transactions that carried records."""
    carrying = [t for t in txs if t["records"] > 0]
    records = sum(t["records"] for t in carrying)
    gas = sum(t["gas"] for t in carrying)
    sizes = sorted(t["records"] for t in carrying)
    return {
        "transactions": len(carrying),
        "records": records,
        "gas_per_record": round(gas / records) if records else None,
        "records_per_tx_mean": round(records / len(carrying), 1) if carrying else None,
        "records_per_tx_min": sizes[0] if sizes else None,
        "records_per_tx_max": sizes[-1] if sizes else None,
    }
