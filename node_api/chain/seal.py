"""Electronic seals (电子签章): EIP-712 signatures of records by a seal key.

Hashing is done here once per record with the domain separator computed once, so
sealing costs one keccak of the payload, one of the struct and one secp256k1
signature (coincurve). ``typed_data`` gives the standard EIP-712 JSON so any
EIP-712 library can recover the signer from an evidence bundle.
"""

from __future__ import annotations

from typing import Any

from coincurve import PrivateKey
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from node_api.domain.records import Record

DOMAIN_NAME = "projchain"
DOMAIN_VERSION = "1"
RECORD_TYPE = "Record(bytes32 uid,uint8 kind,bytes32 project,bytes32 ref,bytes32 digest,bytes payload)"
RECORD_TYPEHASH = keccak(text=RECORD_TYPE)
_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)

# The domain fields every projchain EIP-712 message uses (records here, peer requests in peer.py).
EIP712_DOMAIN_TYPE: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

EIP712_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": EIP712_DOMAIN_TYPE,
    "Record": [
        {"name": "uid", "type": "bytes32"},
        {"name": "kind", "type": "uint8"},
        {"name": "project", "type": "bytes32"},
        {"name": "ref", "type": "bytes32"},
        {"name": "digest", "type": "bytes32"},
        {"name": "payload", "type": "bytes"},
    ],
}


class Sealer:
    """Seals and checks records under one ledger's EIP-712 domain."""

    def __init__(self, chain_id: int, ledger_address: str) -> None:
        self._signers: dict[str, PrivateKey] = {}
        self.chain_id = chain_id
        self.ledger = to_checksum_address(ledger_address)
        self.domain_separator = keccak(
            abi_encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    _DOMAIN_TYPEHASH,
                    keccak(text=DOMAIN_NAME),
                    keccak(text=DOMAIN_VERSION),
                    chain_id,
                    self.ledger,
                ],
            )
        )

    def digest(self, record: Record) -> bytes:
        """The EIP-712 digest a seal signs."""
        struct_hash = keccak(
            RECORD_TYPEHASH
            + record.uid
            + int(record.kind).to_bytes(32, "big")
            + record.project
            + record.ref
            + record.digest
            + keccak(record.payload)
        )
        return keccak(b"\x19\x01" + self.domain_separator + struct_hash)

    def seal(self, record: Record, key: LocalAccount) -> bytes:
        """A 65-byte seal (r, s, v) of ``record`` by ``key`` (low-s, v = 27/28, as eth-account)."""
        signer = self._signers.get(key.address)
        if signer is None:
            signer = self._signers[key.address] = PrivateKey(bytes(key.key))
        # coincurve directly: eth-account's wrapper costs ~3x the signature itself.
        rsv = signer.sign_recoverable(self.digest(record), hasher=None)
        return rsv[:64] + bytes([rsv[64] + 27])

    def signer(self, record: Record, seal: bytes) -> str:
        """The address that made ``seal`` over ``record`` (checksummed)."""
        return str(Account._recover_hash(self.digest(record), signature=seal))

    def typed_data(self, record: Record) -> dict[str, Any]:
        """The record as standard EIP-712 typed data (JSON-ready)."""
        return {
            "types": EIP712_TYPES,
            "primaryType": "Record",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.chain_id,
                "verifyingContract": self.ledger,
            },
            "message": {
                "uid": "0x" + record.uid.hex(),
                "kind": int(record.kind),
                "project": "0x" + record.project.hex(),
                "ref": "0x" + record.ref.hex(),
                "digest": "0x" + record.digest.hex(),
                "payload": "0x" + record.payload.hex(),
            },
        }
