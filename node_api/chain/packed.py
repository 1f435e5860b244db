"""The packed records of a ``submitGroups`` input, written and read by hand.

``submitGroups(bytes records, bytes groupOf, (bytes32,bytes32)[] seals)`` carries its records
without ABI padding, one after another (the ledger reads them the same way, see
``IProjectLedger.submitGroups``):

* one byte: the kind in its low 6 bits, bit 6 set when a project follows, bit 7 when a ref
  follows (an absent project or ref is zero);
* the uid (32 bytes), the project (32, if flagged), the ref (32, if flagged), the digest (32);
* the payload's length (2 bytes, big-endian) and the payload (the kind's canonical ABI encoding).

Both directions run in the node's primary process for every record it sends and indexes, so
they are plain bytes joins and slices (no eth_abi). ``unpack`` refuses exactly what the ledger
refuses (``LedgerMalformedRecords``): a record that runs past the end, or bytes left after the
last record.
"""

from __future__ import annotations

from collections.abc import Sequence

from node_api.domain.records import ZERO32, Record

HAS_PROJECT = 0x40
HAS_REF = 0x80
KIND_BITS = 0x3F
MAX_PAYLOAD = 0xFFFF
_MIN_RECORD = 1 + 32 + 32 + 2  # flags, uid, digest, payload length

# (uid, kind, project, ref, digest, payload), as the ABI's Record tuple
Fields = tuple[bytes, int, bytes, bytes, bytes, bytes]


def pack(records: Sequence[Record]) -> bytes:
    """The records in the packed form; ValueError for a kind or payload the form cannot hold."""
    parts: list[bytes] = []
    add = parts.append
    for r in records:
        kind = int(r.kind)
        if not 0 < kind <= KIND_BITS or len(r.payload) > MAX_PAYLOAD:
            raise ValueError(f"record 0x{r.uid.hex()} cannot be packed (kind {kind}, {len(r.payload)} bytes)")
        flags = kind
        if r.project != ZERO32:
            flags |= HAS_PROJECT
        if r.ref != ZERO32:
            flags |= HAS_REF
        add(bytes((flags,)))
        add(r.uid)
        if flags & HAS_PROJECT:
            add(r.project)
        if flags & HAS_REF:
            add(r.ref)
        add(r.digest)
        add(len(r.payload).to_bytes(2, "big"))
        add(r.payload)
    return b"".join(parts)


def unpack(data: bytes, count: int) -> list[Fields] | None:
    """The ``count`` records packed in ``data``, in order; None unless they fill it exactly."""
    out: list[Fields] = []
    add = out.append
    at, end = 0, len(data)
    for _ in range(count):
        if at + _MIN_RECORD > end:
            return None
        flags = data[at]
        p = at + 33
        uid = data[at + 1 : p]
        project = ref = ZERO32
        if flags & HAS_PROJECT:
            project = data[p : p + 32]
            p += 32
        if flags & HAS_REF:
            ref = data[p : p + 32]
            p += 32
        digest = data[p : p + 32]
        length = int.from_bytes(data[p + 32 : p + 34], "big")
        p += 34
        at = p + length
        if at > end:
            return None
        add((uid, flags & KIND_BITS, project, ref, digest, data[p:at]))
    return out if at == end else None


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def groups_calldata(selector: bytes, records: bytes, group_of: bytes, seals: Sequence[bytes]) -> bytes:
    """``selector`` + abi.encode(records, group_of, seals) for ``(bytes, bytes, (bytes32,bytes32)[])``,
    each seal its 64 bytes ``r ‖ vs``."""
    pad_records, pad_groups = -len(records) % 32, -len(group_of) % 32
    second = 0x60 + 32 + len(records) + pad_records
    third = second + 32 + len(group_of) + pad_groups
    return b"".join(
        (
            selector,
            _word(0x60),
            _word(second),
            _word(third),
            _word(len(records)),
            records,
            bytes(pad_records),
            _word(len(group_of)),
            group_of,
            bytes(pad_groups),
            _word(len(seals)),
            *seals,
        )
    )


def groups_arguments(body: bytes) -> tuple[bytes, bytes, list[tuple[bytes, bytes]]] | None:
    """(records, groupOf, seals as (r, vs)) of a ``submitGroups`` input after its selector, read at
    the offsets the input names (as the ledger reads them); None when one points outside it."""
    size = len(body)
    if size < 0x60:
        return None
    found: list[tuple[int, int]] = []
    for i, unit in enumerate((1, 1, 64)):
        offset = int.from_bytes(body[32 * i : 32 * i + 32], "big")
        if offset + 32 > size:
            return None
        length = int.from_bytes(body[offset : offset + 32], "big")
        if offset + 32 + length * unit > size:
            return None
        found.append((offset + 32, length))
    (r_at, r_len), (g_at, g_len), (s_at, s_len) = found
    seals = [(body[at : at + 32], body[at + 32 : at + 64]) for at in range(s_at, s_at + 64 * s_len, 64)]
    return body[r_at : r_at + r_len], body[g_at : g_at + g_len], seals
