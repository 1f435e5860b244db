"""The packed records of a ``submitGroups`` input, written and read by hand.

``submitGroups(bytes records, bytes groupOf, (bytes32,bytes32)[] seals)`` carries its records
without ABI padding, one after another (the ledger reads them the same way, see
``IProjectLedger.submitGroups``):

* one byte: the kind in its low 5 bits, bit 5 set when the payload is compact, bit 6 when a
  project follows, bit 7 when a ref follows (an absent project or ref is zero);
* the uid (32 bytes), the project (32, if flagged), the ref (32, if flagged), the digest (32);
* the payload's length (2 bytes, big-endian) and the payload: the kind's canonical ABI encoding,
  or its compact form (approvals only, ``compact_approval``), which the ledger expands back into
  the canonical encoding before it hashes or checks it. A record's seal, hash and index entry are
  over the canonical payload whichever form carried it.

The compact form of an approval's payload ``abi.encode(stage, decision, item, item_version,
document_no, issued_at, valid_until, restricted)``: stage (1 byte), decision (1), item_version
(4), issued_at (5), valid_until (5), restricted (32), the item's length (2), the item's bytes,
then document_no's bytes (the rest); numbers big-endian (the two uint64 times in 5 bytes: a
payload with a time after 2^40 - 1, the year 36812, has no compact form and travels as it is).
No ABI padding, no offsets: 86 bytes for the benchmark's approval instead of 384.

Both directions run in the node's primary process for every record it sends and indexes, so
they are plain bytes joins and slices (no eth_abi). ``unpack`` refuses exactly what the ledger
refuses (``LedgerMalformedRecords``): a record that runs past the end, bytes left after the
last record, a compact payload of another kind than an approval or too short for its fixed
fields and its item. (A compact string longer than MAX_STRING_BYTES expands, and the ledger
refuses that record alone, ``LedgerMalformedPayload``, as it refuses the canonical payload.)
"""

from __future__ import annotations

from collections.abc import Sequence

from node_api.domain.records import ZERO32, Kind, Record

COMPACT = 0x20
HAS_PROJECT = 0x40
HAS_REF = 0x80
KIND_BITS = 0x1F
MAX_PAYLOAD = 0xFFFF
_MIN_RECORD = 1 + 32 + 32 + 2  # flags, uid, digest, payload length
# the compact approval's fixed part: stage, decision, item_version, issued_at, valid_until,
# restricted, the item's length
_FIXED = 1 + 1 + 4 + 5 + 5 + 32 + 2
_ITEM_AT = 0x100  # the canonical approval's head: eight words

# (uid, kind, project, ref, digest, payload), as the ABI's Record tuple
Fields = tuple[bytes, int, bytes, bytes, bytes, bytes]


_Z27, _Z28, _Z30, _Z31 = bytes(27), bytes(28), bytes(30), bytes(31)
_ITEM_OFFSET = _ITEM_AT.to_bytes(32, "big")


def expand_approval(data: bytes) -> bytes | None:
    """The canonical ABI payload of a compact approval payload (the ledger's ``_expandApproval``);
    None when it cannot be expanded (shorter than its fixed fields and its item)."""
    if len(data) < _FIXED:
        return None
    code_length = int.from_bytes(data[_FIXED - 2 : _FIXED], "big")
    document_at = _FIXED + code_length
    if document_at > len(data):
        return None
    document = data[document_at:]
    code_pad = -code_length % 32
    return b"".join(
        (
            _Z31,
            data[0:1],  # stage
            _Z31,
            data[1:2],  # decision
            _ITEM_OFFSET,
            _Z28,
            data[2:6],  # item_version
            (_ITEM_AT + 32 + code_length + code_pad).to_bytes(32, "big"),  # document_no's offset
            _Z27,
            data[6:11],  # issued_at
            _Z27,
            data[11:16],  # valid_until
            data[16:48],  # restricted
            _Z30,
            data[48:_FIXED],  # the item's length
            data[_FIXED:document_at],
            bytes(code_pad),
            len(document).to_bytes(32, "big"),
            document,
            bytes(-len(document) % 32),
        )
    )


def compact_approval(payload: bytes) -> bytes | None:
    """The compact form of an approval's canonical payload (it expands back to exactly ``payload``);
    None when ``payload`` is not in the canonical layout (it then travels as it is). Every word and
    padding the compact form leaves out is checked to be what the expansion writes there."""
    size = len(payload)
    if (
        size < _ITEM_AT + 64
        or payload[0:31] != _Z31
        or payload[32:63] != _Z31
        or payload[64:96] != _ITEM_OFFSET
        or payload[96:124] != _Z28
        or payload[160:187] != _Z27
        or payload[192:219] != _Z27
        or payload[_ITEM_AT : _ITEM_AT + 30] != _Z30
    ):
        return None
    code_length = int.from_bytes(payload[_ITEM_AT + 30 : _ITEM_AT + 32], "big")
    code_end = _ITEM_AT + 32 + code_length
    document_at = code_end + (-code_length % 32)
    if int.from_bytes(payload[128:160], "big") != document_at or document_at + 32 > size:
        return None
    document_length = int.from_bytes(payload[document_at : document_at + 32], "big")
    document_end = document_at + 32 + document_length
    if (
        document_end + (-document_length % 32) != size
        or payload[code_end:document_at].count(0) != document_at - code_end
        or payload[document_end:].count(0) != size - document_end
        or _FIXED + code_length + document_length > MAX_PAYLOAD
    ):
        return None
    return b"".join(
        (
            payload[31:32],
            payload[63:64],
            payload[124:128],
            payload[187:192],  # issued_at
            payload[219:_ITEM_AT],  # valid_until, restricted
            payload[_ITEM_AT + 30 : code_end],  # the item's length, the item
            payload[document_at + 32 : document_end],
        )
    )


def pack(records: Sequence[Record], compact: bool = True) -> bytes:
    """The records in the packed form, an approval's payload in its compact form where it has one
    (unless ``compact`` is false); ValueError for a kind or payload the form cannot hold."""
    parts: list[bytes] = []
    add = parts.append
    for r in records:
        kind = int(r.kind)
        payload = r.payload
        flags = kind
        if compact and kind == Kind.APPROVAL:
            short = compact_approval(payload)
            if short is not None:
                payload, flags = short, kind | COMPACT
        if not 0 < kind <= KIND_BITS or len(payload) > MAX_PAYLOAD:
            raise ValueError(f"record 0x{r.uid.hex()} cannot be packed (kind {kind}, {len(payload)} bytes)")
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
        add(len(payload).to_bytes(2, "big"))
        add(payload)
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
        kind = flags & KIND_BITS
        payload = data[p:at]
        if flags & COMPACT:
            expanded = expand_approval(payload) if kind == Kind.APPROVAL else None
            if expanded is None:
                return None
            payload = expanded
        add((uid, kind, project, ref, digest, payload))
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
