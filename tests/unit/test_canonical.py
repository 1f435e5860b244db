"""The canonical reader gives eth_abi's values for canonical payloads and declines every other byte string;
a canonical payload whose strings are not UTF-8 (which the ledger accepts and eth_abi refuses) reads with
U+FFFD, its fields named."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.domain import canonical
from node_api.domain.records import (
    PAYLOAD_SCHEMAS,
    RESTRICTED_SCHEMAS,
    Kind,
    decode_payload,
    decode_restricted,
    invalid_utf8,
)

SCHEMAS = [tuple(t for _, t in s) for s in (*PAYLOAD_SCHEMAS.values(), *RESTRICTED_SCHEMAS.values())]
TYPES = sorted({t for s in SCHEMAS for t in s})


def _value(kind: str) -> st.SearchStrategy[Any]:
    if kind.startswith("uint"):
        return st.integers(0, 2 ** int(kind[4:]) - 1)
    if kind == "bytes32":
        return st.binary(min_size=32, max_size=32)
    if kind == "string":
        return st.text(max_size=80)
    if kind == "bytes32[]":
        return st.lists(st.binary(min_size=32, max_size=32), max_size=5)
    assert kind == "string[]"
    return st.lists(st.text(max_size=40), max_size=4)


@st.composite
def _encoded(draw: st.DrawFn) -> tuple[tuple[str, ...], bytes]:
    types = draw(st.sampled_from(SCHEMAS))
    return types, encode(list(types), [draw(_value(t)) for t in types])


def test_every_schema_type_is_read() -> None:
    assert all(canonical.supported(s) for s in SCHEMAS), TYPES


@settings(max_examples=300, deadline=None)
@given(_encoded())
def test_canonical_bytes_read_as_eth_abi_decodes_them(case: tuple[tuple[str, ...], bytes]) -> None:
    types, data = case
    assert canonical.read(types, data) == decode(list(types), data)
    assert canonical.read_marked(types, data) == (decode(list(types), data), ())  # valid text: nothing marked


@settings(max_examples=500, deadline=None)
@given(_encoded(), st.data())
def test_changed_bytes_are_read_only_when_eth_abi_reads_them_alike(
    case: tuple[tuple[str, ...], bytes], data: st.DataObject
) -> None:
    types, encoded = case
    changed = bytearray(encoded)
    how = data.draw(st.sampled_from(["flip", "cut", "append"]))
    if how == "flip" and changed:
        at = data.draw(st.integers(0, len(changed) - 1))
        changed[at] ^= data.draw(st.integers(1, 255))
    elif how == "cut":
        del changed[data.draw(st.integers(0, len(changed))) :]
    else:
        changed += data.draw(st.binary(min_size=1, max_size=64))
    marked = canonical.read_marked(types, bytes(changed))
    if marked is not None and not marked[1]:
        # Whatever the reader accepts is a canonical encoding, so eth_abi reads the same values
        # and re-encoding them gives the bytes back.
        got = marked[0]
        assert got == decode(list(types), bytes(changed))
        assert encode(list(types), list(got)) == bytes(changed)
    elif marked is not None:  # canonical, but a string is not UTF-8: eth_abi refuses what the ledger accepts
        with pytest.raises(UnicodeDecodeError):
            decode(list(types), bytes(changed))


@pytest.mark.parametrize(
    ("types", "data"),
    [
        # a uint8 word with a bit above its 8
        (("uint8",), (256).to_bytes(32, "big")),
        # a string whose offset is not where the canonical encoder puts it
        (("string",), (64).to_bytes(32, "big") + bytes(32) + (1).to_bytes(32, "big") + b"a".ljust(32, b"\0")),
        # a string's pad not zero
        (("string",), (32).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"ab".ljust(32, b"\0")),
        # an array longer than the bytes
        (("bytes32[]",), (32).to_bytes(32, "big") + (2**31).to_bytes(32, "big")),
        (("string[]",), (32).to_bytes(32, "big") + (2**31).to_bytes(32, "big")),
        # bytes after the last value
        (("uint8",), bytes(33)),
        # invalid UTF-8 in a string that is not canonical (its pad not zero)
        (("string",), (32).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\xff\x01".ljust(32, b"\0")),
    ],
)
def test_not_canonical_is_declined(types: tuple[str, ...], data: bytes) -> None:
    assert canonical.read(types, data) is None


def test_decode_payload_still_refuses_what_eth_abi_refuses() -> None:
    # Declined by the reader, refused by eth_abi: the payload error the index records.
    bad = (32).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\xff".ljust(32, b"\0")
    with pytest.raises(ValueError, match="not a valid payload"):
        decode_payload(Kind.ACCEPTANCE, bad + bytes(64))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_plain_values_are_written_as_eth_abi_encodes_them(data: st.DataObject) -> None:
    types = data.draw(st.sampled_from(SCHEMAS))
    values = [data.draw(_value(t)) for t in types]
    assert canonical.write(types, values) == encode(list(types), values)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("uint8", 256),
        ("uint8", -1),
        ("uint64", True),
        ("uint32", "7"),
        ("bytes32", b"short"),
        ("bytes32", "0x" + "00" * 32),
        ("string", b"bytes"),
        ("bytes32[]", [b"x"]),
        ("string[]", ["a", 1]),
        ("string[]", "not a list"),
    ],
)
def test_values_not_plainly_of_their_type_are_left_to_eth_abi(kind: str, value: Any) -> None:
    assert canonical.write((kind,), [value]) is None


def _raw_strings(types: tuple[str, ...], values: list[Any]) -> bytes:
    """The canonical encoding with raw bytes for strings (ABI ``bytes`` is laid out as ``string``)."""
    raw = ["bytes" if t == "string" else "bytes[]" if t == "string[]" else t for t in types]
    return encode(raw, values)


INVALID = [b"\xe5\xba", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", "庄发改发".encode() + b"\x80" + "号".encode()]


@pytest.mark.parametrize("bad", INVALID, ids=["truncated", "stray", "overlong", "surrogate", "continuation"])
def test_canonical_strings_that_are_not_utf8_read_replaced_and_marked(bad: bytes) -> None:
    types = PAYLOAD_SCHEMAS[Kind.APPROVAL]
    names = tuple(t for _, t in types)
    data = _raw_strings(names, [1, 0, b"ZL-S1-001", 1, bad, 0, 0, bytes(32)])
    with pytest.raises(UnicodeDecodeError):
        decode(list(names), data)  # eth_abi (and so the node before) refuses what the ledger accepted
    values, invalid = canonical.read_marked(names, data) or ((), ())
    assert values[4] == bad.decode("utf-8", errors="replace") and "\ufffd" in values[4]
    assert values[2] == "ZL-S1-001" and invalid == (4,)
    assert canonical.read(names, data) == values
    fields = decode_payload(Kind.APPROVAL, data)
    assert fields["document_no"] == values[4]
    assert fields["invalid_utf8"] == ["document_no"] and invalid_utf8(fields, "document_no")
    assert not invalid_utf8(fields, "item")


def test_a_string_list_is_marked_once_whichever_of_its_strings() -> None:
    names = tuple(t for _, t in RESTRICTED_SCHEMAS[Kind.COMMITMENT])  # summary, missing (string[]), note
    data = _raw_strings(names, [b"ok", [b"a", b"\xff", b"\xfe"], b"n\xc0"])
    assert canonical.read_marked(names, data) == (("ok", ("a", "\ufffd", "\ufffd"), "n\ufffd"), (1, 2))
    assert decode_restricted(Kind.COMMITMENT, data)["invalid_utf8"] == ["missing", "note"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=3, max_size=3))
def test_any_bytes_in_canonical_strings_read_as_their_replaced_text(strings: list[bytes]) -> None:
    """Whatever bytes the ledger accepts in a string field, the value is its U+FFFD-replaced text
    and it is marked exactly when those bytes are not UTF-8; valid text is eth_abi's value."""
    # code, name, owner_uscc, project_type, region_code, industry_code, restricted
    names = tuple(t for _, t in PAYLOAD_SCHEMAS[Kind.PROJECT])
    data = _raw_strings(names, [strings[0], strings[1], strings[2], 1, b"450100", b"48", bytes(32)])
    values, invalid = canonical.read_marked(names, data) or ((), ())
    assert list(values[:3]) == [s.decode("utf-8", errors="replace") for s in strings]

    def valid(s: bytes) -> bool:
        try:
            s.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    assert invalid == tuple(i for i, s in enumerate(strings) if not valid(s))
    if not invalid:
        assert values == decode(list(names), data)
