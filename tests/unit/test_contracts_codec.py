"""The fast paths (eth_abi, coincurve) give exactly what the slow standard paths give."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any, cast

import pytest
import rlp
from eth_abi import decode as abi_decode
from eth_abi import encode
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from bench.codec import records as benchmark_approvals
from node_api.chain.calldata import batch_records
from node_api.chain.compiler import load_artifacts
from node_api.chain.contracts import (
    RECORD_REJECTED_TOPIC,
    RECORD_TUPLE,
    SEAL_TUPLE,
    Contracts,
    CopyCounter,
    Deployment,
    _as_web3_log,
    accepted_copy,
    compact_seal,
    expand_seal,
    sent_copies,
)
from node_api.chain.group import known_root
from node_api.chain.ledger_layout import access_list, entry_slot, project_slot
from node_api.chain.pipeline import GroupSealing, Submitter
from node_api.chain.seal import Sealer, recover, struct_hash
from node_api.chain.signer import TransactionSigner
from node_api.config import Settings
from node_api.domain.records import Kind, Record

DEPLOYMENT = Deployment(620825, "0x" + "11" * 20, "0x" + "22" * 20, 1, "0x" + "00" * 32)
CONTRACTS = Contracts(load_artifacts(), DEPLOYMENT)
KEY = Account.create()


def _record(payload: bytes) -> Record:
    return Record(os.urandom(32), Kind.APPROVAL, os.urandom(32), b"\0" * 32, os.urandom(32), payload)


def _seal() -> bytes:
    """A random 65-byte seal with a low s and v 27/28, like every seal the node accepts."""
    s = int.from_bytes(os.urandom(32), "big") >> 2
    return os.urandom(32) + s.to_bytes(32, "big") + bytes([27 + os.urandom(1)[0] % 2])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_batch_calldata_equals_web3_encoding(payloads: list[bytes]) -> None:
    records = [_record(p) for p in payloads]
    seals = [_seal() for _ in records]
    compact = [compact_seal(s) for s in seals]
    expected = CONTRACTS.ledger.encode_abi("submitBatch", [[r.as_tuple() for r in records], compact])
    assert CONTRACTS.submit_batch_data(records, seals) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_calldata_decodes_back_to_the_records_and_seals(payloads: list[bytes]) -> None:
    records = [_record(p) for p in payloads]
    seals = [_seal() for _ in records]
    carried = CONTRACTS.carried_records(CONTRACTS.submit_batch_data(records, seals))
    assert carried == {r.uid: [(r, s)] for r, s in zip(records, seals, strict=True)}
    single = CONTRACTS.carried_records(CONTRACTS.submit_data(records[0], seals[0]))
    assert single == {records[0].uid: [(records[0], seals[0])]}
    expected = CONTRACTS.ledger.encode_abi("submit", [records[0].as_tuple(), compact_seal(seals[0])])
    assert CONTRACTS.submit_data(records[0], seals[0]) == expected


def test_other_inputs_carry_no_records() -> None:
    assert CONTRACTS.carried_records("0x") == {}
    assert CONTRACTS.carried_records("0x" + CONTRACTS.event_topic("RecordAdded")[2:10] + "00" * 64) == {}


def test_seal_round_trips_through_its_compact_form() -> None:
    for _ in range(50):
        seal = _seal()
        assert expand_seal(*compact_seal(seal)) == seal
    real = KEY.unsafe_sign_hash(os.urandom(32)).signature
    assert expand_seal(*compact_seal(bytes(real))) == bytes(real)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=64, max_size=64))
def test_fast_record_added_decoding_equals_web3(words: bytes) -> None:
    log = {
        "address": DEPLOYMENT.ledger,
        "topics": [CONTRACTS.event_topic("RecordAdded"), "0x" + words[:32].hex(), "0x" + words[32:].hex()],
        "data": "0x", "blockNumber": "0x10", "transactionHash": "0x" + "33" * 32,
        "blockHash": "0x" + "44" * 32, "logIndex": "0x1",
    }  # fmt: skip
    name, fast = CONTRACTS.decode_log(log)
    slow = dict(CONTRACTS.ledger.events.RecordAdded().process_log(_as_web3_log(log))["args"])
    assert name == "RecordAdded"
    assert fast == slow == {"uid": words[:32], "project": words[32:]}


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=255), st.binary(min_size=32, max_size=32))
def test_fast_status_changed_decoding_equals_web3(status: int, cause: bytes) -> None:
    data = encode(["uint8"], [status])
    log = {
        "address": DEPLOYMENT.ledger,
        "topics": [CONTRACTS.event_topic("StatusChanged"), "0x" + os.urandom(32).hex(), "0x" + cause.hex()],
        "data": "0x" + data.hex(), "blockNumber": "0x10", "transactionHash": "0x" + "33" * 32,
        "blockHash": "0x" + "44" * 32, "logIndex": "0x1",
    }  # fmt: skip
    name, fast = CONTRACTS.decode_log(log)
    slow = dict(CONTRACTS.ledger.events.StatusChanged().process_log(_as_web3_log(log))["args"])
    assert (name, fast) == ("StatusChanged", slow)


def test_a_word_with_dirty_padding_is_refused_as_eth_abi_refuses_it() -> None:
    data = encode(["uint8"], [7])
    dirty = b"\x01" + data[1:]  # the uint8 word's high bytes must be zero
    log = {
        "address": DEPLOYMENT.ledger,
        "topics": [CONTRACTS.event_topic("StatusChanged"), "0x" + "55" * 32, "0x" + "66" * 32],
        "data": "0x" + dirty.hex(), "blockNumber": "0x10", "transactionHash": "0x" + "33" * 32,
        "blockHash": "0x" + "44" * 32, "logIndex": "0x1",
    }  # fmt: skip
    with pytest.raises(Exception, match=r"(?i)padding|bytes|value"):
        CONTRACTS.decode_log(log)


def test_coincurve_seal_equals_eth_account_signature() -> None:
    sealer = Sealer(DEPLOYMENT.chain_id, DEPLOYMENT.ledger)
    for _ in range(20):
        r = _record(os.urandom(100))
        expected = bytes(KEY.unsafe_sign_hash(sealer.digest(r)).signature)
        assert sealer.seal(r, KEY) == expected
        assert sealer.signer(r, expected) == KEY.address
        other = os.urandom(32)  # the same seal over another digest: another key, as eth-account says
        assert recover(other, expected) == Account._recover_hash(other, signature=expected)


def test_every_copy_of_a_repeated_uid_is_kept_and_the_kth_log_picks_the_kth() -> None:
    first = _record(b"first")
    second = Record(first.uid, first.kind, first.project, first.ref, first.digest, b"second")
    seals = [_seal(), _seal()]
    copies = CONTRACTS.carried_records(CONTRACTS.submit_batch_data([first, second], seals))[first.uid]
    assert copies == [(first, seals[0]), (second, seals[1])]
    assert accepted_copy(copies, 0, first.project) == (first, seals[0])
    assert accepted_copy(copies, 1, first.project) == (second, seals[1])
    assert accepted_copy(copies, 2, first.project) is None  # more logs than copies: none
    assert accepted_copy(copies, None, first.project) is None  # no log counted
    assert accepted_copy(copies, 0, b"\x99" * 32) is None  # a log of another project: not this copy
    assert accepted_copy([None, *copies], 0, first.project) is None  # a copy the node cannot read


def test_the_copy_counter_counts_the_ledgers_added_and_rejected_logs_per_transaction_and_uid() -> None:
    added, status = CONTRACTS.event_topic("RecordAdded"), CONTRACTS.event_topic("StatusChanged")
    uid, other = "0x" + "55" * 32, "0x" + "66" * 32

    def log(
        topic0: str, name: str, tx: str = "0x" + "01" * 32, address: str = DEPLOYMENT.ledger
    ) -> dict[str, Any]:
        return {"address": address, "topics": [topic0, name, "0x" + "77" * 32], "transactionHash": tx}

    counter = CopyCounter(DEPLOYMENT.ledger.lower())
    answers = [
        counter.copy_of(lg)
        for lg in [
            log(RECORD_REJECTED_TOPIC, uid),  # copy 0 of uid, refused
            log(status, uid),  # StatusChanged names uids too: not counted
            log(added, uid, address="0x" + "44" * 20),  # a look-alike contract's log: not counted
            log(added, other),  # copy 0 of another uid
            log(added, uid),  # copy 1 of uid
            log(added, uid, tx="0x" + "02" * 32),  # another transaction counts from 0
        ]
    ]
    assert answers == [0, None, None, 0, 1, 0]


def test_the_submitters_groups_read_back_as_each_organisations_proofs() -> None:
    """What the submitter sends (submitGroups, interleaved organisations) is what the indexer and
    the verifier read back: every record with a proof whose group seal recovers its own key."""
    sealer = Sealer(DEPLOYMENT.chain_id, DEPLOYMENT.ledger)
    keys = {7: Account.create(), 9: Account.create(), 3: Account.create()}
    relayer = Account.create()
    outbox = cast(Any, SimpleNamespace(table=None))
    submitter = Submitter(
        cast(Any, None),
        CONTRACTS,
        relayer,
        Settings(),
        outbox,
        cast(Any, None),
        GroupSealing(sealer, keys.get, keys.get),
    )
    orgs = [7, 9, 7, 3, 9, 7, 7, 3]
    records = [_record(os.urandom(64)) for _ in orgs]
    data, proofs = submitter._groups_data(records, orgs, dict(keys), sealer)

    copies = CONTRACTS.carried_records(data, relayer.address)
    assert sent_copies(records, proofs) == copies  # what the indexer takes for the node's own
    for record, org in zip(records, orgs, strict=True):
        ((carried, proof),) = copies[record.uid]
        assert carried == record and len(proof) != 65
        assert known_root(struct_hash(record), proof) is not None  # kept when read: no fold
        assert sealer.signer(record, proof) == keys[org].address
        # A proof read elsewhere (a bundle's) is folded: the same key; a changed record, another.
        assert Sealer(DEPLOYMENT.chain_id, DEPLOYMENT.ledger).signer(record, proof) == keys[org].address
        changed = Record(record.uid, record.kind, record.project, record.ref, record.digest, b"changed")
        assert known_root(struct_hash(changed), proof) is None
        assert sealer.signer(changed, proof) != keys[org].address
    # Read as sent by another relayer, no proof recovers the organisations' keys.
    other = CONTRACTS.carried_records(data, Account.create().address)
    assert all(
        sealer.signer(r, other[r.uid][0][1]) not in {k.address for k in keys.values()} for r in records
    )


def _input(raw: str) -> bytes:
    """The input of a signed transaction (legacy or EIP-2930), read from its RLP."""
    body = bytes.fromhex(raw[2:])
    return bytes(rlp.decode(body[1:])[6]) if body[0] == 1 else bytes(rlp.decode(body)[5])


def test_the_copies_a_submitter_keeps_are_what_its_transactions_inputs_read_back() -> None:
    """The indexer confirms the node's own records from the copies the submitter kept when it signed
    (``landed_copies``), not from the input read back: for group-sealed runs (benchmark approvals,
    whose payloads travel compact, and other payloads), pre-sealed runs and a record alone, the
    kept copies equal ``carried_records`` of the signed transaction's input, seals and proofs
    byte for byte."""
    sealer = Sealer(DEPLOYMENT.chain_id, DEPLOYMENT.ledger)
    keys = {1: Account.create(), 2: Account.create(), 3: Account.create()}
    relayer = Account.create()
    outbox = cast(Any, SimpleNamespace(table=None))
    grouping = GroupSealing(sealer, keys.get, keys.get)
    submitter = Submitter(cast(Any, None), CONTRACTS, relayer, Settings(), outbox, cast(Any, None), grouping)
    approvals, orgs = benchmark_approvals(12)
    others = [_record(os.urandom(n)) for n in (0, 31, 64, 300)]
    records = approvals + others
    orgs = [o + 1 for o in orgs] + [1, 2, 3, 1]

    def row(seq: int, record: Record, org: int, node_sealed: bool) -> dict[str, Any]:
        seal = b"" if node_sealed else sealer.seal(record, keys[org])
        return {"seq": seq, "uid": "0x" + record.uid.hex(), "kind": int(record.kind),
                "project": "0x" + record.project.hex(), "ref": "0x" + record.ref.hex(),
                "digest": "0x" + record.digest.hex(), "payload": record.payload, "org_id": org,
                "node_sealed": node_sealed, "seal": seal}  # fmt: skip

    grouped = [row(i, r, o, True) for i, (r, o) in enumerate(zip(records, orgs, strict=True))]
    presealed = [row(i, r, o, False) for i, (r, o) in enumerate(zip(records, orgs, strict=True))]
    # A seal with v 0/1 (the writer takes either form; the input carries it compact, read back 27/28).
    seal = presealed[0]["seal"]
    presealed[0]["seal"] = seal[:64] + bytes([seal[64] - 27])
    # A uid twice in one input (the ledger takes its first copy): the kept copies keep input order.
    twice = [*grouped, {**grouped[2], "seq": 99}]
    cases = [
        (grouped, {o: keys[o] for o in orgs}),
        (twice, {o: keys[o] for o in orgs}),
        (presealed, None),
        ([*presealed, {**presealed[0], "seq": 99}], None),
        (grouped[:1], {orgs[0]: keys[orgs[0]]}),
    ]
    for rows, run_keys in cases:
        signed = submitter._signed(rows, run_keys, 0)
        assert signed.copies == CONTRACTS.carried_records(_input(signed.raw), relayer.address)
        assert sum(len(c) for c in signed.copies.values()) == len(rows)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 10**12),
    st.integers(21_000, 2**63),
    st.binary(min_size=20, max_size=20),
    st.integers(0, 10**18),
    st.binary(max_size=2_000),
    st.integers(1, 2**32),
    st.none()
    | st.lists(
        st.tuples(
            st.binary(min_size=20, max_size=20), st.lists(st.binary(min_size=32, max_size=32), max_size=6)
        ),
        max_size=3,
    ),
)
def test_the_transaction_signer_signs_what_eth_account_signs(
    nonce: int,
    gas_price: int,
    gas: int,
    to: bytes,
    value: int,
    data: bytes,
    chain_id: int,
    access: list[tuple[bytes, list[bytes]]] | None,
) -> None:
    """Legacy (EIP-155) transactions, and with an access list (EIP-2930, type 1)."""
    address = "0x" + to.hex()
    signer = TransactionSigner(KEY.key, chain_id)
    tx: dict[str, Any] = {
        "to": Web3.to_checksum_address(address), "data": data, "value": value, "gas": gas,
        "gasPrice": gas_price, "nonce": nonce, "chainId": chain_id,
    }  # fmt: skip
    if access is None:
        signed = signer.sign(nonce, gas_price, gas, address, value, data)
    else:
        signed = signer.sign_with_access_list(nonce, gas_price, gas, address, value, data, access)
        tx["type"] = 1
        tx["accessList"] = [
            {"address": Web3.to_checksum_address(a), "storageKeys": ["0x" + k.hex() for k in keys]}
            for a, keys in access
        ]
    expected = KEY.sign_transaction(tx)
    assert signed.raw == bytes(expected.raw_transaction)
    assert signed.hash == bytes(expected.hash)
    assert Account.recover_transaction(signed.raw) == KEY.address


def test_the_ledger_access_list_names_each_slot_once_and_only_when_it_pays() -> None:
    project = os.urandom(32)
    records = [
        Record(os.urandom(32), Kind.APPROVAL, project, b"\0" * 32, os.urandom(32), b"") for _ in range(30)
    ]
    ((address, slots),) = access_list(DEPLOYMENT.ledger, records) or [(b"", [])]
    assert address == bytes.fromhex(DEPLOYMENT.ledger[2:])
    assert slots == [entry_slot(r.uid) for r in records[:1]] + [project_slot(project)] + [
        entry_slot(r.uid) for r in records[1:]
    ]
    assert len(set(slots)) == len(slots)
    # 24 slots save 2,400, what the address costs: no list.
    assert access_list(DEPLOYMENT.ledger, records[:23]) is None
    assert access_list(DEPLOYMENT.ledger, records[:24]) is not None
    # A ref is read too; an absent project is not.
    revocation = Record(os.urandom(32), Kind.REVOCATION, b"\0" * 32, records[0].uid, os.urandom(32), b"")
    ((_, more),) = access_list(DEPLOYMENT.ledger, [*records, revocation]) or [(b"", [])]
    assert more == [*slots, entry_slot(revocation.uid)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=70), min_size=1, max_size=3), st.data())
def test_the_ledgers_reading_of_an_input_is_eth_abis_wherever_eth_abi_reads_it(
    payloads: list[bytes], data: st.DataObject
) -> None:
    # ``calldata`` reads an input as Solidity does, which reads more inputs than eth_abi; where
    # eth_abi reads one (bytes of a standard encoding changed at random), both read the same.
    records = [_record(p) for p in payloads]
    raw = bytearray.fromhex(CONTRACTS.submit_batch_data(records, [_seal() for _ in records])[2:])
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(4, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        tuples, seals = abi_decode([RECORD_TUPLE + "[]", SEAL_TUPLE + "[]"], bytes(raw[4:]))
    except Exception:
        return
    carried = batch_records(bytes(raw))
    if len(tuples) != len(seals):  # the ledger reverts: LedgerLengthMismatch
        assert carried is None
        return
    assert carried == [(t[0], t, s) for t, s in zip(tuples, seals, strict=True)]
