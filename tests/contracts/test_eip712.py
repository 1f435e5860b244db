"""A seal is a standard EIP-712 signature: node, contract and eth-account agree on the digest."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.seal import Sealer
from node_api.domain.records import Kind, Record
from tests.contracts.conftest import P
from tests.contracts.harness import Harness
from tests.contracts.payloads import approval_fields

records = st.builds(
    Record,
    uid=st.binary(min_size=32, max_size=32),
    kind=st.sampled_from(Kind),
    project=st.binary(min_size=32, max_size=32),
    ref=st.binary(min_size=32, max_size=32),
    digest=st.binary(min_size=32, max_size=32),
    payload=st.binary(max_size=1024),
)


def eip191_hash(message: SignableMessage) -> bytes:
    """The hash a wallet signs for a SignableMessage: keccak(0x19 ‖ version ‖ header ‖ body)."""
    return keccak(b"\x19" + message.version + message.header + message.body)


def library_digest(sealer: Sealer, record: Record) -> bytes:
    """The digest as eth-account computes it from the standard typed-data JSON."""
    return eip191_hash(encode_typed_data(full_message=sealer.typed_data(record)))


@settings(deadline=None)  # eth-account's typed-data hashing; a loaded machine may take over 200 ms
@given(
    record=records,
    chain_id=st.integers(min_value=1, max_value=2**64 - 1),
    ledger=st.binary(min_size=20, max_size=20),
)
def test_sealer_digest_equals_eth_account_typed_data_hash(
    record: Record, chain_id: int, ledger: bytes
) -> None:
    sealer = Sealer(chain_id, "0x" + ledger.hex())

    assert sealer.digest(record) == library_digest(sealer, record)


@settings(max_examples=25, deadline=None)
@given(record=records)
def test_sealer_digest_equals_contract_hash_record(world: Harness, record: Record) -> None:
    on_chain = world.ledger.functions.hashRecord(record.as_tuple()).call()

    assert on_chain == world.sealer.digest(record) == library_digest(world.sealer, record)


def test_digest_is_bound_to_chain_and_ledger(world: Harness) -> None:
    record = world.record(Kind.APPROVAL, P, approval_fields())
    on_chain = world.ledger.functions.hashRecord(record.as_tuple()).call()

    other_chain = Sealer(world.chain_id + 1, world.ledger.address)
    other_ledger = Sealer(world.chain_id, world.consortium.address)

    assert on_chain == world.sealer.digest(record)
    assert on_chain not in (other_chain.digest(record), other_ledger.digest(record))


def test_standard_eip712_library_recovers_sealer_of_accepted_record(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    seal = h.seal(record, "auth")

    receipt = h.transact(h.relayer, h.submit_call(record, seal))
    recovered = Account.recover_message(
        encode_typed_data(full_message=h.sealer.typed_data(record)), signature=seal
    )

    (added,) = h.added(receipt)
    assert recovered == added["sealer"] == h.orgs["auth"].seal.address
    assert h.carried(receipt)[record.uid] == [(record, seal)]
