"""The fast paths (eth_abi, coincurve) give exactly what the slow standard paths give."""

from __future__ import annotations

import os

from eth_abi import encode
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.compiler import load_artifacts
from node_api.chain.contracts import Contracts, Deployment, _as_web3_log
from node_api.chain.seal import Sealer
from node_api.domain.records import Kind, Record

DEPLOYMENT = Deployment(620825, "0x" + "11" * 20, "0x" + "22" * 20, 1, "0x" + "00" * 32)
CONTRACTS = Contracts(load_artifacts(), DEPLOYMENT)
KEY = Account.create()


def _record(payload: bytes) -> Record:
    return Record(os.urandom(32), Kind.APPROVAL, os.urandom(32), b"\0" * 32, os.urandom(32), payload)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_batch_calldata_equals_web3_encoding(payloads: list[bytes]) -> None:
    records = [_record(p) for p in payloads]
    seals = [os.urandom(65) for _ in records]
    expected = CONTRACTS.ledger.encode_abi("submitBatch", [[r.as_tuple() for r in records], seals])
    assert CONTRACTS.submit_batch_data(records, seals) == expected


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=400))
def test_fast_record_added_decoding_equals_web3(payload: bytes) -> None:
    r = _record(payload)
    seal = os.urandom(65)
    data = encode(["bytes32", "uint32", "address", "bytes32", "bytes", "bytes"],
                  [r.ref, 7, KEY.address, r.digest, r.payload, seal])  # fmt: skip
    log = {
        "address": DEPLOYMENT.ledger,
        "topics": [CONTRACTS.event_topic("RecordAdded"), "0x" + r.uid.hex(), "0x" + r.project.hex(),
                   "0x" + (2).to_bytes(32, "big").hex()],
        "data": "0x" + data.hex(), "blockNumber": "0x10", "transactionHash": "0x" + "33" * 32,
        "blockHash": "0x" + "44" * 32, "logIndex": "0x1",
    }  # fmt: skip
    name, fast = CONTRACTS.decode_log(log)
    slow = dict(CONTRACTS.ledger.events.RecordAdded().process_log(_as_web3_log(log))["args"])
    assert name == "RecordAdded"
    assert fast == slow


def test_coincurve_seal_equals_eth_account_signature() -> None:
    sealer = Sealer(DEPLOYMENT.chain_id, DEPLOYMENT.ledger)
    for _ in range(20):
        r = _record(os.urandom(100))
        expected = bytes(KEY.unsafe_sign_hash(sealer.digest(r)).signature)
        assert sealer.seal(r, KEY) == expected
        assert sealer.signer(r, expected) == KEY.address
