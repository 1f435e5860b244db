"""A registered relayer whose account delegates to code (EIP-7702) may not call the ledger from it.

The consumers (indexer, ``verify-bundle``, ``verify-certificate``) read a record's content, seal
and sealer from the input of the transaction that carried it, and read that input only when the
transaction calls the ledger itself (its ``to``): a call made by code may carry anything (another
input than the transaction's, several calls). ``RecordAdded`` names neither sealer nor hash, so
records the ledger accepted from such a call would be indexed unreadable, with no sealer. A
relayer's account delegated to a forwarder sends a transaction to itself, whose code calls the
ledger with ``msg.sender`` still the relayer: the ledger must refuse it, as it refuses a contract.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_api.domain.records import Kind
from tests.contracts.conftest import P
from tests.contracts.harness import TX_GAS, Harness
from tests.contracts.payloads import approval_fields

FORWARDER = "0x" + "c0de" * 10


def forwarder(target: str) -> bytes:
    """Runtime code that calls ``target`` with its whole input and reverts (with the answer) if that fails."""
    call = "365f5f375f5f365f5f73" + target[2:].lower() + "5af1"  # calldatacopy; call(gas, target, 0, input)
    return bytes.fromhex(
        call + "602a57" + "3d5f5f3e3d5ffd" + "5b00"
    )  # if ok jump to stop; else revert(returndata)


def send_through_own_code(h: Harness, relayer: LocalAccount, data: str) -> Any:
    """A type-4 transaction from ``relayer`` to itself that delegates its account to the forwarder."""
    nonce = h.w3.eth.get_transaction_count(relayer.address)
    authorization = Account.sign_authorization(
        {"chainId": h.chain_id, "address": FORWARDER, "nonce": nonce + 1}, relayer.key
    )
    tx = {"type": 4, "chainId": h.chain_id, "nonce": nonce, "to": relayer.address, "data": data, "value": 0,
          "gas": TX_GAS, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0, "authorizationList": [authorization]}  # fmt: skip
    tx_hash = h.w3.eth.send_raw_transaction(relayer.sign_transaction(tx).raw_transaction)
    return h.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)


def test_a_relayers_delegated_code_calling_the_ledger_is_refused(h: Harness) -> None:
    h.w3.provider.make_request("anvil_setCode", [FORWARDER, "0x" + forwarder(h.ledger.address).hex()])  # type: ignore[arg-type]
    record = h.record(Kind.APPROVAL, P, approval_fields())
    data = h.batch_call([record], [h.seal(record, "auth")])._encode_transaction_data()

    receipt = send_through_own_code(h, h.relayer, data)

    assert h.w3.eth.get_code(h.relayer.address)[:3] == bytes.fromhex("ef0100")  # delegated
    assert receipt["status"] == 0, "the ledger accepted a call a relayer's code made"
    assert h.entry(record.uid)["kind"] == 0
    # Why (the delegation stays, though the transaction reverted): the forwarder hands back the ledger's error.
    call = {"from": h.relayer.address, "to": h.relayer.address, "data": data, "gas": hex(TX_GAS)}
    error = h.w3.provider.make_request("eth_call", [call, "latest"])["error"]  # type: ignore[arg-type]
    refused = h.contracts.decode_revert(error["data"])
    assert refused is not None and refused.name == "LedgerUnauthorizedRelayer"
