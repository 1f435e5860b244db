"""keccak256 for the hot paths: safe-pysha3's C Keccak, called directly.

``eth_utils.keccak`` checks its arguments through decorators and reaches pycryptodome through
``eth_hash``'s backend: ≈ 12 µs a call on the benchmark's machine, against ≈ 3 µs here; the
node hashes every record several times on its serial path (payload, struct, EIP-712 digest,
Merkle leaf and nodes). The answer is the same Keccak-256 (tested against ``eth_utils``).
"""

from __future__ import annotations

from sha3 import keccak_256


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not SHA3-256) of ``data``."""
    return bytes(keccak_256(data).digest())
