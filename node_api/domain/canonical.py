"""Canonical ABI encodings written and read without eth_abi: the payloads the ledger accepts.

The ledger refuses any payload that is not its kind's *canonical* ABI encoding (every
offset where the standard encoder puts it, every pad zero, no byte left over:
``ProjectLedger._canonical``). For such bytes the values can be read at fixed places, which
costs a few microseconds against eth_abi's ≈ 60 µs for an approval — a cost the indexer paid
for every record (issue #15).

``read`` takes only the types the payload schemas use (``uint8/32/64/256``, ``bytes32``,
``string``, ``bytes32[]``, ``string[]``) and answers ``None`` for anything that is not exactly
the canonical encoding, so the caller falls back to eth_abi and whatever eth_abi decides (a
value or an error) stays the answer for those bytes. For canonical bytes the values are the
ones eth_abi returns (a property test compares the two on generated payloads and on mutated
ones) — with one difference: the ledger checks a string's length, offset and padding but not
that its bytes are UTF-8, so a canonical string that is not UTF-8 (which eth_abi refuses) is
read with U+FFFD for each invalid sequence, and ``read_marked`` names the fields so read
(docs/records.md, "Strings that are not UTF-8").

``write`` is the other direction, for the gateway, which encodes every payload and its
restricted content (eth_abi: ≈ 120 µs a record's two encodings): it writes plain values
(ints in range, 32-byte ``bytes``, ``str``, lists of those) and answers ``None`` for anything
else, so eth_abi's encoding or error stands for those.
"""

from __future__ import annotations

from typing import Any

WORD = 32
UINT_BITS = {"uint8": 8, "uint32": 32, "uint64": 64, "uint256": 256}
_DYNAMIC = ("string", "bytes32[]", "string[]")


class _NotCanonical(Exception):
    """The bytes are not the canonical encoding (the caller falls back to eth_abi)."""


def supported(types: tuple[str, ...]) -> bool:
    """Whether ``read`` knows every type of ``types``."""
    return all(t in UINT_BITS or t == "bytes32" or t in _DYNAMIC for t in types)


def read(types: tuple[str, ...], data: bytes) -> tuple[Any, ...] | None:
    """The values of ``data`` as eth_abi decodes them (``bytes`` for bytes32, tuples for arrays),
    when ``data`` is exactly the canonical encoding of ``types``; None otherwise. A string that is
    not UTF-8 reads with U+FFFD in place of each invalid sequence (``read_marked`` says which)."""
    marked = read_marked(types, data)
    return None if marked is None else marked[0]


def read_marked(types: tuple[str, ...], data: bytes) -> tuple[tuple[Any, ...], tuple[int, ...]] | None:
    """``read``'s values and the positions (in ``types``) of the fields holding a string that is
    not UTF-8 (a ``string[]`` counts once, whichever of its strings); None when not canonical."""
    try:
        values, end, invalid = _tuple(types, data, 0)
    except _NotCanonical:
        return None
    return (values, invalid) if end == len(data) else None


def write(types: tuple[str, ...], values: tuple[Any, ...] | list[Any]) -> bytes | None:
    """The canonical encoding of ``values`` as ``types`` (what eth_abi's ``encode`` gives), or None
    when a value is not plainly of its type (an int out of range, a bytes32 not of 32 bytes, …):
    the caller then asks eth_abi, whose answer (an encoding or an error) stands."""
    if len(types) != len(values):
        return None
    try:
        return b"".join(_encode_tuple(types, values))
    except _NotCanonical:
        return None


def _encode_tuple(types: tuple[str, ...], values: tuple[Any, ...] | list[Any]) -> list[bytes]:
    heads: list[bytes] = []
    tails: list[bytes] = []
    tail_at = WORD * len(types)
    for kind, value in zip(types, values, strict=True):
        if kind == "bytes32":
            if type(value) is not bytes or len(value) != WORD:
                raise _NotCanonical
            heads.append(value)
        elif kind in UINT_BITS:
            if type(value) is not int or value < 0 or value >> UINT_BITS[kind]:
                raise _NotCanonical
            heads.append(value.to_bytes(WORD, "big"))
        else:
            encoded = _encode_dynamic(kind, value)
            heads.append(tail_at.to_bytes(WORD, "big"))
            tails.append(encoded)
            tail_at += len(encoded)
    return heads + tails


def _encode_dynamic(kind: str, value: Any) -> bytes:
    if kind == "string":
        if type(value) is not str:
            raise _NotCanonical
        raw = value.encode("utf-8")
        return len(raw).to_bytes(WORD, "big") + raw + bytes(-len(raw) % WORD)
    if type(value) not in (list, tuple):
        raise _NotCanonical
    length = len(value).to_bytes(WORD, "big")
    if kind == "bytes32[]":
        if any(type(v) is not bytes or len(v) != WORD for v in value):
            raise _NotCanonical
        return length + b"".join(value)
    return length + b"".join(_encode_tuple(("string",) * len(value), value))  # string[]


def _word(data: bytes, at: int) -> bytes:
    word = data[at : at + WORD]
    if len(word) != WORD:
        raise _NotCanonical
    return word


def _uint(data: bytes, at: int, bits: int) -> int:
    value = int.from_bytes(_word(data, at), "big")
    if value >> bits:
        raise _NotCanonical
    return value


def _tuple(types: tuple[str, ...], data: bytes, base: int) -> tuple[tuple[Any, ...], int, tuple[int, ...]]:
    """Values of a tuple encoded at ``base``, where its encoding ends (its last tail's end), and
    the positions of its values that hold a string that is not UTF-8."""
    tail = base + WORD * len(types)  # where the next dynamic value must start
    values: list[Any] = []
    invalid: list[int] = []
    for i, kind in enumerate(types):
        head = base + WORD * i
        if kind == "bytes32":
            values.append(_word(data, head))
        elif kind in UINT_BITS:
            values.append(_uint(data, head, UINT_BITS[kind]))
        else:
            if _uint(data, head, 64) != tail - base:
                raise _NotCanonical
            value, tail, utf8 = _dynamic(kind, data, tail)
            values.append(value)
            if not utf8:
                invalid.append(i)
    return tuple(values), tail, tuple(invalid)


def _dynamic(kind: str, data: bytes, at: int) -> tuple[Any, int, bool]:
    """A dynamic value at ``at``, where it ends, and whether its strings (if any) are all UTF-8."""
    length = _uint(data, at, 32)
    body = at + WORD
    if kind == "string":
        padded = -(-length // WORD) * WORD
        raw = data[body : body + padded]
        if len(raw) != padded or any(raw[length:]):
            raise _NotCanonical
        try:
            return raw[:length].decode("utf-8"), body + padded, True
        except UnicodeDecodeError:  # the ledger accepted these bytes: read them, marked
            return raw[:length].decode("utf-8", errors="replace"), body + padded, False
    if kind == "bytes32[]":
        end = body + WORD * length
        if end > len(data):
            raise _NotCanonical
        return tuple(data[i : i + WORD] for i in range(body, end, WORD)), end, True
    # string[]: a tuple of `length` strings, offsets relative to ``body``
    if body + WORD * length > len(data):
        raise _NotCanonical
    values, end, invalid = _tuple(("string",) * length, data, body)
    return values, end, not invalid
