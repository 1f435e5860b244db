"""``payload_uint`` reads a uint field from a payload's head exactly as a full decode does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.domain.records import (
    PAYLOAD_SCHEMAS,
    Kind,
    PayloadError,
    decode_payload,
    encode_payload,
    payload_uint,
)

_APPROVAL = {
    "stage": 2,
    "decision": 1,
    "item": "620825-A-001",
    "document_no": "庄发改〔2026〕12号",
    "issued_at": 1_767_225_600,
    "valid_until": 0,
    "restricted": b"\x07" * 32,
}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 255), st.text(max_size=40))
def test_an_approvals_uint_fields_read_from_the_head_equal_the_decoded_ones(
    version: int, stage: int, item: str
) -> None:
    payload = encode_payload(
        Kind.APPROVAL, {**_APPROVAL, "item_version": version, "stage": stage, "item": item}
    )
    fields = decode_payload(Kind.APPROVAL, payload)
    for name, kind in PAYLOAD_SCHEMAS[Kind.APPROVAL]:
        if kind.startswith("uint"):
            assert payload_uint(Kind.APPROVAL, payload, name) == fields[name]


def test_a_head_too_short_or_a_word_too_wide_is_refused() -> None:
    payload = encode_payload(Kind.APPROVAL, {**_APPROVAL, "item_version": 3})
    with pytest.raises(PayloadError):
        payload_uint(Kind.APPROVAL, payload[:100], "item_version")
    head = 32 * len(PAYLOAD_SCHEMAS[Kind.APPROVAL])
    with pytest.raises(PayloadError):  # item_version's word whole, the head not
        payload_uint(Kind.APPROVAL, payload[: head - 32], "item_version")
    with pytest.raises(KeyError):
        payload_uint(Kind.APPROVAL, payload, "item")  # a string, not a uint
    wide = payload[:96] + (2**32).to_bytes(32, "big") + payload[128:]  # item_version is head word 3
    with pytest.raises(PayloadError):
        payload_uint(Kind.APPROVAL, wide, "item_version")
    with pytest.raises(PayloadError):
        decode_payload(Kind.APPROVAL, wide)
