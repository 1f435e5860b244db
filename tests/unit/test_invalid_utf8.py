"""Fields whose bytes on chain are not UTF-8 as the views show them: the API form with its marker
(public and opened restricted fields alike), and the page's note (Chinese first, English beside)."""

from __future__ import annotations

import os

from eth_abi import encode
from eth_utils import keccak

from node_api.api.pages import approval_item, event_item
from node_api.domain.catalogue import item_code, item_ref
from node_api.domain.records import Kind, Opening
from node_api.ledger.reader import present_fields


def _event(category: bytes, note: bytes) -> tuple[bytes, Opening]:
    content = encode(["bytes"], [note])  # (string note), laid out as bytes
    opening = Opening(os.urandom(32), content)
    payload = encode(["uint8", "bytes", "uint64", "uint64", "bytes32[]", "bytes32"],
                     [3, category, 1_782_864_000, 1_877_472_000, [], opening.commitment])  # fmt: skip
    return payload, opening


def test_public_and_opened_fields_are_marked_together() -> None:
    payload, opening = _event("质量".encode() + b"\xff", "现场".encode() + b"\xe5\xba")
    public = present_fields(Kind.EVENT, payload)
    assert public["category"] == "质量\ufffd" and public["invalid_utf8"] == ["category"]
    assert public["severity"] == "serious" and "note" not in public
    opened = present_fields(Kind.EVENT, payload, opening)
    assert opened["note"] == "现场\ufffd" and opened["invalid_utf8"] == ["category", "note"]
    assert "restricted_unreadable" not in opened


def test_only_the_opened_field_is_marked_when_the_public_text_is_utf8() -> None:
    payload, opening = _event("质量安全".encode(), b"\xc0\xaf")
    assert "invalid_utf8" not in present_fields(Kind.EVENT, payload)
    opened = present_fields(Kind.EVENT, payload, opening)
    assert opened["invalid_utf8"] == ["note"] and opened["category"] == "质量安全"


def test_pages_note_a_replaced_text_and_only_it() -> None:
    marked = {"uid": "0x01", "status": "active", "document_no": "庄发改发\ufffd号", "invalid_utf8": ["document_no"],
              "category": "质量\ufffd"}  # fmt: skip
    html = approval_item(marked)
    assert "庄发改发\ufffd号" in html and 'data-invalid-utf8="document_no"' in html
    assert html.index("含无效字符") < html.index("contains invalid UTF-8")
    assert "含无效字符" not in event_item(marked)  # its category is not the marked field
    assert "含无效字符" not in approval_item({**marked, "invalid_utf8": None})
    assert 'data-invalid-utf8="category"' in event_item({**marked, "invalid_utf8": ["category"]})


def _acceptance(item: bytes) -> bytes:
    return encode(["bytes", "uint32", "uint64", "bytes32"], [item, 1, 1_782_864_000, bytes(32)])


def test_an_item_read_with_u_fffd_names_no_item_and_no_ledger_key() -> None:
    """``X ‖ ff`` and ``X ‖ ef bf bd`` (a real U+FFFD) both read ``X\ufffd``: only the second is that
    item's code, and its key is keccak256 of those bytes."""
    marked = present_fields(Kind.ACCEPTANCE, _acceptance(b"ZL-X\xff"))
    valid = present_fields(Kind.ACCEPTANCE, _acceptance("ZL-X\ufffd".encode()))
    assert marked["item"] == valid["item"] == "ZL-X\ufffd" and marked["invalid_utf8"] == ["item"]
    assert (item_code(marked), item_ref(marked)) == (None, None)
    assert item_code(valid) == "ZL-X\ufffd" and item_ref(valid) == "0x" + keccak("ZL-X\ufffd".encode()).hex()
