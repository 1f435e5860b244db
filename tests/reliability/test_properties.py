"""Properties of electronic seals (EIP-712) and record payloads, for any input hypothesis finds.

* a seal made by a key recovers to that key's address, and the hand-rolled digest is
  the standard EIP-712 hash of ``Sealer.typed_data`` (what any verifier computes);
* changing any single byte of a record changes its digest, so an old seal no longer
  recovers to its signer;
* every kind's payload decodes back to the fields it was encoded from.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.seal import Sealer
from node_api.domain.records import (
    PAYLOAD_SCHEMAS,
    RESTRICTED_SCHEMAS,
    Kind,
    Opening,
    Record,
    decode_payload,
    decode_restricted,
    encode_payload,
    seal_payload,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))
b32 = st.binary(min_size=32, max_size=32)
records = st.builds(
    Record,
    uid=b32,
    kind=st.sampled_from(list(Kind)),
    project=b32,
    ref=b32,
    digest=b32,
    payload=st.binary(max_size=600),
)
sealers = st.builds(
    Sealer,
    chain_id=st.integers(min_value=1, max_value=2**64),
    ledger_address=st.binary(min_size=20, max_size=20).map(lambda a: to_checksum_address(a)),
)


@settings(max_examples=60, deadline=None)
@given(sealer=sealers, record=records, key=keys)
def test_seal_recovers_to_the_sealing_key(sealer: Sealer, record: Record, key: bytes) -> None:
    account = Account.from_key(key)
    seal = sealer.seal(record, account)
    assert len(seal) == 65
    assert sealer.signer(record, seal) == account.address


@settings(max_examples=60, deadline=None)
@given(sealer=sealers, record=records)
def test_digest_is_the_standard_eip712_hash_of_the_typed_data(sealer: Sealer, record: Record) -> None:
    message = encode_typed_data(full_message=sealer.typed_data(record))
    assert keccak(b"\x19" + message.version + message.header + message.body) == sealer.digest(record)


FIELDS = ("uid", "project", "ref", "digest", "payload")


@settings(max_examples=80, deadline=None)
@given(
    sealer=sealers,
    record=records.filter(lambda r: len(r.payload) > 0),
    key=keys,
    field=st.sampled_from(FIELDS),
    position=st.integers(min_value=0),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_changed_byte_changes_the_digest_and_voids_the_seal(
    sealer: Sealer, record: Record, key: bytes, field: str, position: int, delta: int
) -> None:
    value: bytes = getattr(record, field)
    i = position % len(value)
    changed = value[:i] + bytes([(value[i] + delta) % 256]) + value[i + 1 :]
    tampered = Record(**{**{f: getattr(record, f) for f in (*FIELDS, "kind")}, field: changed})
    assert sealer.digest(tampered) != sealer.digest(record)
    account = Account.from_key(key)
    assert sealer.signer(tampered, sealer.seal(record, account)) != account.address


@settings(max_examples=40, deadline=None)
@given(sealer=sealers, record=records, other=st.sampled_from(list(Kind)))
def test_kind_and_domain_are_bound_into_the_digest(sealer: Sealer, record: Record, other: Kind) -> None:
    if other != record.kind:
        assert sealer.digest(Record(**{**record.__dict__, "kind": other})) != sealer.digest(record)
    elsewhere = Sealer(sealer.chain_id + 1, sealer.ledger)
    assert elsewhere.digest(record) != sealer.digest(record)


def _value(abi_type: str) -> st.SearchStrategy[Any]:
    if abi_type == "string":
        return st.text(max_size=80)
    if abi_type == "bytes32[]":
        return st.lists(b32, max_size=5)
    if abi_type == "string[]":
        return st.lists(st.text(max_size=40), max_size=5)
    if abi_type == "bytes32":
        return b32
    bits = int(abi_type.removeprefix("uint"))
    return st.integers(min_value=0, max_value=2**bits - 1)


def _fields(kind: Kind) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: _value(t) for name, t in PAYLOAD_SCHEMAS[kind]})


@settings(max_examples=150, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(PAYLOAD_SCHEMAS)))
def test_payload_encode_decode_roundtrip(data: st.DataObject, kind: Kind) -> None:
    fields = data.draw(_fields(kind))
    decoded = decode_payload(int(kind), encode_payload(kind, fields))
    expected = {k: (["0x" + b.hex() for b in v] if isinstance(v, list) else v) for k, v in fields.items()}
    expected = {k: "0x" + v.hex() if isinstance(v, bytes) else v for k, v in expected.items()}
    assert decoded == expected


@settings(max_examples=100, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(RESTRICTED_SCHEMAS)), salt=b32)
def test_restricted_content_opens_only_its_own_commitment(
    data: st.DataObject, kind: Kind, salt: bytes
) -> None:
    fields = data.draw(
        st.fixed_dictionaries(
            {
                name: _value(t)
                for name, t in PAYLOAD_SCHEMAS[kind] + RESTRICTED_SCHEMAS[kind]
                if name != "restricted"
            }
        )
    )
    payload, opening = seal_payload(kind, fields, salt)
    assert opening is not None
    commitment = bytes.fromhex(decode_payload(int(kind), payload)["restricted"][2:])
    assert opening.matches(commitment)
    restricted = decode_restricted(int(kind), opening.content)
    assert restricted == {name: fields[name] for name, _ in RESTRICTED_SCHEMAS[kind]}
    assert not Opening(bytes(32) if any(salt) else b"\1" * 32, opening.content).matches(commitment)
