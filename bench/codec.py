"""µs per record of the group path's codec in the node's primary process.

Encoding: what the submitter does for a batch under group seals (``Contracts.submit_groups_data``:
the ``submitGroups`` calldata), alone and together with the group seals (struct hashes, Merkle
roots, one signature per organisation). Decoding: what the indexer does with such a
transaction's input (``Contracts.carried_records``: every record with its group proof).
1,000 benchmark approvals of three organisations interleaved, as a batch formed from single
writes has them.

    .venv/bin/python -m bench.codec [--records 1000] [--repeat 5]

Prints one JSON object; the best of ``--repeat`` runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

from eth_account import Account
from eth_utils import keccak

from bench.workload import approval_body
from node_api.api.payloads import record_payload
from node_api.api.schemas import ApprovalIn
from node_api.chain.compiler import load_artifacts
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.group import root_of
from node_api.chain.seal import Sealer, struct_hash
from node_api.domain.records import ZERO32, Kind, Record, project_id, seal_payload

LEDGER = "0x" + "11" * 20
RELAYER = Account.from_key(keccak(text="projchain/bench/codec/relayer"))
KEYS = [Account.from_key(keccak(text=f"projchain/bench/codec/org-{i}")) for i in range(3)]


def records(n: int) -> tuple[list[Record], list[int]]:
    """``n`` benchmark approvals, each on its own project, by three organisations in turn."""
    out, orgs = [], []
    for i in range(n):
        _kind, fields, digest = record_payload(ApprovalIn.model_validate(approval_body(7, 10_000 + i)))
        fields["item_version"] = 1
        payload, _opening = seal_payload(Kind.APPROVAL, {"note": "", **fields})
        org = i % 3
        uid = (org + 1).to_bytes(4, "big") + os.urandom(28)
        out.append(
            Record(uid, Kind.APPROVAL, project_id(f"2026-620825-84-01-{i:06d}"), ZERO32, digest, payload)
        )
        orgs.append(org)
    return out, orgs


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    contracts = Contracts(load_artifacts(), Deployment(620825, LEDGER, LEDGER, 0, "0x" + "00" * 32))
    sealer = Sealer(620825, LEDGER)
    batch, orgs = records(args.records)
    group_of = orgs  # one group per organisation, numbered as the submitter numbers them
    seals = []
    for g, key in enumerate(KEYS):
        hashes = [struct_hash(r) for r, o in zip(batch, orgs, strict=True) if o == g]
        seals.append(sealer.seal_group(root_of(hashes), len(hashes), RELAYER.address, key))

    def sealed_and_encoded() -> str:
        members: list[list[bytes]] = [[] for _ in KEYS]
        for record, g in zip(batch, group_of, strict=True):
            members[g].append(struct_hash(record))
        group_seals = [
            sealer.seal_group(root_of(h), len(h), RELAYER.address, key)
            for key, h in zip(KEYS, members, strict=True)
        ]
        return contracts.submit_groups_data(batch, group_of, group_seals)

    data = contracts.submit_groups_data(batch, group_of, seals)
    carried = contracts.carried_records(data, RELAYER.address)
    assert sum(len(c) for c in carried.values()) == len(batch), "the input does not decode to its records"
    assert all((c := carried[r.uid][0]) is not None and c[0] == r for r in batch)
    n = len(batch)
    encode = best(lambda: contracts.submit_groups_data(batch, group_of, seals), args.repeat)
    full = best(sealed_and_encoded, args.repeat)
    decode = best(lambda: contracts.carried_records(data, RELAYER.address), args.repeat)
    print(
        json.dumps(
            {
                "records": n,
                "calldata_bytes_per_record": round((len(data) - 2) / 2 / n, 1),
                "encode_us_per_record": round(encode / n * 1e6, 1),
                "seal_and_encode_us_per_record": round(full / n * 1e6, 1),
                "decode_us_per_record": round(decode / n * 1e6, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
