"""The records of a ``submit`` / ``submitBatch`` input, read exactly as the ledger's Solidity decoder reads them.

``submit(Record calldata, Seal calldata)`` and ``submitBatch(Record[] calldata, Seal[] calldata)``
take their arguments in calldata, and Solidity (ABI coder v2) reads them where their offsets
point, with checks of its own: an offset to a tuple or a ``bytes`` is compared as a *signed*
number and added modulo 2**256, so it may point back before the array or tuple that names it;
ABI padding is never looked at; a field is read only when the contract uses it (a record the
ledger refuses as a duplicate has only its uid read). eth_abi refuses much of that
(``InvalidPointer``, ``NonEmptyPaddingBytes``, a dirty ``uint8``) where the ledger accepted the
input: a relayer could then have the ledger accept records that no reader finds in their
transaction (indexed as unreadable, with no sealer: ``RecordAdded`` names none). So the input
is read here word by word with the EVM's own arithmetic and ``calldataload`` (beyond the input:
zeros) and the checks of the decoding functions solc 0.8.28 generates, in the order the ledger
runs them: an input the ledger reverts on is None (it left no log to read), a record whose
content the ledger would not have read (a refused duplicate) None in its place, so that the
k-th copy of a uid stays the k-th (``contracts.accepted_copy``).
"""

from __future__ import annotations

_WORD = 1 << 256
_SIGN = 1 << 255
_MAX_OFFSET = 0xFFFFFFFFFFFFFFFF  # solc's bound on a head offset and on a length
_RECORD_HEAD = 0xC0  # uid, kind, project, ref, digest, payload offset
_SEAL = 0x40  # Seal(r, vs)
_HEAD_START = 4  # after the selector

Fields = tuple[bytes, int, bytes, bytes, bytes, bytes]
"""(uid, kind, project, ref, digest, payload), as the ABI's Record tuple."""

Carried = tuple[bytes, Fields | None, tuple[bytes, bytes]]
"""One record of an input: its uid, its fields (None: the ledger could not have read them), its seal (r, vs)."""


class _Calldata:
    """An input as the EVM reads it: 32-byte words at any 256-bit position, zeros beyond the end."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.size = len(raw)

    def word(self, at: int) -> bytes:
        chunk = self.raw[at % _WORD : at % _WORD + 32]
        return chunk + bytes(32 - len(chunk))

    def uint(self, at: int) -> int:
        return int.from_bytes(self.word(at), "big")

    def tail(self, base: int, pointer: int, head: int) -> int | None:
        """``access_calldata_tail``: where the tuple or ``bytes`` that the offset at ``pointer``
        (relative to ``base``) names begins; None where the ledger reverts (``head``: its head's size)."""
        relative = self.uint(pointer)
        if not _slt(relative, (self.size - base - (head - 1)) % _WORD):
            return None
        return (base + relative) % _WORD

    def payload(self, record: int) -> bytes | None:
        """A Record's ``payload`` (``access_calldata_tail_t_bytes_calldata_ptr``); None where the ledger reverts."""
        at = self.tail(record, record + 0xA0, 0x20)
        if at is None:
            return None
        length = self.uint(at)
        start = (at + 32) % _WORD
        if length > _MAX_OFFSET or _sgt(start, (self.size - length) % _WORD):
            return None
        # Past those checks a payload of any length lies inside the input (an offset that wraps to
        # past its end reads a zero length there: an empty payload).
        payload = self.raw[start : start + length]
        return payload if len(payload) == length else None

    def record(self, at: int) -> tuple[bytes, Fields | None]:
        """The Record tuple at ``at``: its uid, and its fields where the ledger could read them all."""
        uid = self.word(at)
        kind = self.uint(at + 0x20)
        payload = self.payload(at)
        if kind > 0xFF or payload is None:  # solc reverts reading them: a record the ledger never read
            return uid, None
        return uid, (uid, kind, self.word(at + 0x40), self.word(at + 0x60), self.word(at + 0x80), payload)

    def seal(self, at: int) -> tuple[bytes, bytes]:
        return self.word(at), self.word(at + 0x20)

    def array(self, head: int, stride: int) -> tuple[int, int] | None:
        """``abi_decode_t_array…_calldata_ptr`` of the dynamic array whose head offset is at ``head``:
        (position of its items, length); None where the ledger reverts."""
        offset = self.uint(head)
        if offset > _MAX_OFFSET:
            return None
        offset += _HEAD_START
        if not _slt(offset + 0x1F, self.size):
            return None
        length = self.uint(offset)
        if length > _MAX_OFFSET or offset + 0x20 + length * stride > self.size:
            return None
        return offset + 0x20, length


def _signed(value: int) -> int:
    return value - _WORD if value & _SIGN else value


def _slt(a: int, b: int) -> bool:
    return _signed(a) < _signed(b)


def _sgt(a: int, b: int) -> bool:
    return _signed(a) > _signed(b)


def batch_records(raw: bytes) -> list[Carried] | None:
    """The records of a ``submitBatch`` input (``raw``: selector included), in input order; None for
    an input the ledger reverts on before its first record (or whose records it cannot all reach)."""
    data = _Calldata(raw)
    if data.size - _HEAD_START < 0x40:
        return None
    records, seals = data.array(_HEAD_START, 0x20), data.array(_HEAD_START + 0x20, _SEAL)
    if records is None or seals is None or records[1] != seals[1]:
        return None
    (base, count), seals_at = records, seals[0]
    out: list[Carried] = []
    for i in range(count):
        at = data.tail(base, base + 32 * i, _RECORD_HEAD)
        if at is None:
            return None  # ``records[i]`` reverts: no record of the input was kept
        uid, fields = data.record(at)
        out.append((uid, fields, data.seal(seals_at + _SEAL * i)))
    return out


def submit_record(raw: bytes) -> list[Carried] | None:
    """The one record of a ``submit`` input (``raw``: selector included); None where the ledger reverts
    on reading it (``submit`` reverts on any refusal, so a record it logs had every field read)."""
    data = _Calldata(raw)
    if data.size - _HEAD_START < 0x60:
        return None
    offset = data.uint(_HEAD_START)
    if offset > _MAX_OFFSET or data.size - (_HEAD_START + offset) < _RECORD_HEAD:
        return None
    uid, fields = data.record(_HEAD_START + offset)
    return [(uid, fields, data.seal(_HEAD_START + 0x20))]
