"""Sending one transaction and waiting for it: for deployment and admin actions.

The write pipeline (``pipeline.py``) owns the relayer's nonces and never uses this;
admin and deployer keys are separate accounts, so their nonces never race it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eth_account.signers.local import LocalAccount

from node_api.chain.contracts import Contracts
from node_api.chain.rpc import RpcClient, RpcError
from node_api.errors import ChainError


async def send_and_wait(
    rpc: RpcClient,
    account: LocalAccount,
    chain_id: int,
    data: str,
    to: str | None = None,
    gas: int | None = None,
    contracts: Contracts | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Signs, sends and waits for a transaction; a revert raises the decoded error."""
    tx: dict[str, Any] = {
        "from": account.address,
        "data": data,
        "value": 0,
        "gasPrice": 0,
        "chainId": chain_id,
        "nonce": await rpc.nonce(account.address, "pending"),
    }
    if to is not None:
        tx["to"] = to
    if gas is None:
        estimate_params = {k: (hex(v) if isinstance(v, int) else v) for k, v in tx.items() if k != "chainId"}
        try:
            gas = int(await rpc.call("eth_estimateGas", estimate_params), 16) * 12 // 10 + 50_000
        except RpcError as e:
            raise _decoded(e, contracts) from e
    tx["gas"] = gas
    raw = account.sign_transaction(tx).raw_transaction
    tx_hash = await rpc.call("eth_sendRawTransaction", "0x" + raw.hex())
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        receipt = await rpc.receipt(tx_hash)
        if receipt is not None:
            break
        if asyncio.get_running_loop().time() > deadline:
            raise ChainError(f"transaction {tx_hash} not mined within {timeout:.0f} s")
        await asyncio.sleep(0.05)
    if int(receipt["status"], 16) != 1:
        raise ChainError(f"transaction {tx_hash} reverted")
    return receipt


def _decoded(error: RpcError, contracts: Contracts | None) -> Exception:
    data = error.data
    if isinstance(data, dict):
        data = data.get("data")
    if contracts is not None and isinstance(data, str):
        decoded = contracts.decode_revert(data)
        if decoded is not None:
            return decoded.to_error()
    return error
