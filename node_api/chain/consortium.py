"""Deployment and consortium administration (联盟管理) through admin proposals.

Every membership change is a proposal that ``threshold`` distinct admins confirm;
in development the node holds the admin keys, in production each admin confirms
from their own machine with ``projchain admin confirm``.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.rpc import RpcClient
from node_api.chain.transactions import send_and_wait

ROLE_BITS = {
    "approval_authority": 1,
    "supervisor": 2,
    "financial_institution": 4,
    "auditor": 8,
    "catalogue": 16,
}


def roles_to_bits(roles: list[str]) -> int:
    """Role names to the contract's bitmask."""
    bits = 0
    for r in roles:
        bits |= ROLE_BITS[r]
    return bits


def bits_to_roles(bits: int) -> list[str]:
    """The contract's bitmask to role names."""
    return [name for name, bit in ROLE_BITS.items() if bits & bit]


async def deploy(
    rpc: RpcClient, artifacts: dict[str, Any], deployer: LocalAccount, admins: list[str], threshold: int
) -> Deployment:
    """Deploys Consortium and ProjectLedger; returns their addresses."""
    chain_id = await rpc.chain_id()
    offline = Contracts(artifacts)
    consortium_init = offline.consortium.constructor(admins, threshold).data_in_transaction
    receipt = await send_and_wait(rpc, deployer, chain_id, consortium_init, gas=5_000_000)
    consortium = to_checksum_address(receipt["contractAddress"])
    ledger_init = offline.ledger.constructor(consortium).data_in_transaction
    receipt = await send_and_wait(rpc, deployer, chain_id, ledger_init, gas=5_000_000)
    genesis = await rpc.block(0)
    assert genesis is not None
    return Deployment(
        chain_id=chain_id,
        consortium=consortium,
        ledger=to_checksum_address(receipt["contractAddress"]),
        block=int(receipt["blockNumber"], 16),
        genesis_hash=genesis["hash"],
    )


class ConsortiumAdmin:
    """Proposes and confirms membership changes with admin keys."""

    def __init__(self, rpc: RpcClient, contracts: Contracts, chain_id: int) -> None:
        self.rpc = rpc
        self.contracts = contracts
        self.chain_id = chain_id

    async def execute(self, admins: list[LocalAccount], fn: str, *args: Any) -> dict[str, Any]:
        """Runs an admin function: the first admin proposes, the others confirm."""
        call = self.contracts.consortium.encode_abi(fn, list(args))
        address = self.contracts.consortium.address
        propose = self.contracts.consortium.encode_abi("propose", [bytes.fromhex(call[2:])])
        receipt = await send_and_wait(
            self.rpc, admins[0], self.chain_id, propose, to=address, contracts=self.contracts
        )
        proposal_id = self._proposal_id(receipt)
        for admin in admins[1:]:
            data = self.contracts.consortium.encode_abi("confirm", [proposal_id])
            receipt = await send_and_wait(
                self.rpc, admin, self.chain_id, data, to=address, contracts=self.contracts
            )
        return receipt

    def _proposal_id(self, receipt: dict[str, Any]) -> int:
        for log in receipt["logs"]:
            decoded = self.contracts.decode_log(log)
            if decoded and decoded[0] == "ProposalCreated":
                return int(decoded[1]["id"])
        raise RuntimeError("propose() emitted no ProposalCreated")

    async def admit(
        self, admins: list[LocalAccount], name: str, uscc: str, roles: list[str], seal_key: str, relayer: str
    ) -> int:
        """Admits an organisation; returns its on-chain id."""
        receipt = await self.execute(
            admins, "admitOrganization", name, uscc, roles_to_bits(roles), seal_key, relayer
        )
        for log in receipt["logs"]:
            decoded = self.contracts.decode_log(log)
            if decoded and decoded[0] == "OrganizationAdmitted":
                return int(decoded[1]["org"])
        raise RuntimeError("admission emitted no OrganizationAdmitted")

    async def view(self, fn: str, *args: Any) -> Any:
        """Calls a Consortium view function."""
        contract = self.contracts.consortium
        data = contract.encode_abi(fn, list(args))
        raw = await self.rpc.eth_call(contract.address, data)
        return contract.decode_function_result(fn, bytes.fromhex(raw[2:]))
