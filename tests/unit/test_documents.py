"""Encrypted content-addressed document store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from node_api.errors import NotFoundError, ProjchainError, ValidationError
from node_api.store.documents import DocumentStore, IntegrityError, sha256_hex

KEY = bytes(range(32))
# 1 KB that cannot appear in ciphertext by chance, so a plain search proves encryption.
PLAINTEXT = ("项目审批-SECRET-PLAINTEXT-".encode() * 64)[:1024]


def stored_files(root: Path) -> list[Path]:
    """Every file under the store root, temp files included."""
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "docs", KEY)


def test_round_trip_and_digest(store: DocumentStore) -> None:
    digest = store.put(PLAINTEXT)
    assert digest == hashlib.sha256(PLAINTEXT).hexdigest() == sha256_hex(PLAINTEXT)
    assert store.get(digest) == PLAINTEXT
    assert store.exists(digest)
    assert store.size(digest) == len(PLAINTEXT)


def test_empty_document(store: DocumentStore) -> None:
    digest = store.put(b"")
    assert store.get(digest) == b"" and store.size(digest) == 0


def test_layout_and_no_plaintext_on_disk(store: DocumentStore, tmp_path: Path) -> None:
    digest = store.put(PLAINTEXT)
    path = tmp_path / "docs" / digest[:2] / digest[2:4] / digest
    assert stored_files(tmp_path / "docs") == [path]
    blob = path.read_bytes()
    assert blob[0] == 1
    assert len(blob) == 1 + 12 + len(PLAINTEXT) + 16
    assert PLAINTEXT not in blob and b"SECRET" not in blob


def test_nonce_is_random(tmp_path: Path) -> None:
    a, b = DocumentStore(tmp_path / "a", KEY), DocumentStore(tmp_path / "b", KEY)
    digest = a.put(PLAINTEXT)
    b.put(PLAINTEXT)
    blob_a = (tmp_path / "a" / digest[:2] / digest[2:4] / digest).read_bytes()
    blob_b = (tmp_path / "b" / digest[:2] / digest[2:4] / digest).read_bytes()
    assert blob_a != blob_b


def test_same_content_twice_is_one_file(store: DocumentStore, tmp_path: Path) -> None:
    first = store.put(PLAINTEXT)
    path = stored_files(tmp_path / "docs")[0]
    before = path.read_bytes()
    assert store.put(PLAINTEXT) == first
    assert stored_files(tmp_path / "docs") == [path]
    assert path.read_bytes() == before  # not rewritten


@pytest.mark.parametrize("position", [0, 1, 12, 13, 500, -1])
def test_tampering_any_byte_is_detected(store: DocumentStore, tmp_path: Path, position: int) -> None:
    digest = store.put(PLAINTEXT)
    path = stored_files(tmp_path / "docs")[0]
    blob = bytearray(path.read_bytes())
    blob[position] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(IntegrityError) as info:
        store.get(digest)
    assert info.value.code == "document_corrupt" and info.value.status == 500
    assert isinstance(info.value, ProjchainError)


def test_truncated_file_is_detected(store: DocumentStore, tmp_path: Path) -> None:
    digest = store.put(PLAINTEXT)
    path = stored_files(tmp_path / "docs")[0]
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(IntegrityError):
        store.get(digest)
    with pytest.raises(IntegrityError):
        store.size(digest)


def test_file_moved_under_another_digest_is_detected(store: DocumentStore, tmp_path: Path) -> None:
    # A valid ciphertext of one document must not be served as another.
    digest_a = store.put(b"document A")
    digest_b = store.put(b"document B")
    root = tmp_path / "docs"
    path_a = root / digest_a[:2] / digest_a[2:4] / digest_a
    path_b = root / digest_b[:2] / digest_b[2:4] / digest_b
    path_b.write_bytes(path_a.read_bytes())
    with pytest.raises(IntegrityError):
        store.get(digest_b)


def test_wrong_key(store: DocumentStore, tmp_path: Path) -> None:
    digest = store.put(PLAINTEXT)
    other = DocumentStore(tmp_path / "docs", os.urandom(32))
    with pytest.raises(IntegrityError):
        other.get(digest)


def test_missing(store: DocumentStore) -> None:
    digest = sha256_hex(b"never stored")
    with pytest.raises(NotFoundError):
        store.get(digest)
    assert not store.exists(digest)
    assert store.size(digest) is None


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "../" + "a" * 61,
        "/etc/passwd",
        "A" * 64,  # uppercase
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "g" * 64,
        "",
        "ab/cd/" + "a" * 58,
    ],
)
def test_bad_digests_are_rejected(store: DocumentStore, bad: str) -> None:
    for call in (store.get, store.exists, store.size):
        with pytest.raises(ValidationError) as info:
            call(bad)
        assert info.value.field == "digest"


def test_key_must_be_32_bytes(tmp_path: Path) -> None:
    for key in (b"", b"k" * 16, b"k" * 31, b"k" * 33):
        with pytest.raises(ValueError):
            DocumentStore(tmp_path, key)


def test_no_temp_files_left(store: DocumentStore, tmp_path: Path) -> None:
    for i in range(5):
        store.put(PLAINTEXT + bytes([i]))
    assert not [p for p in stored_files(tmp_path / "docs") if p.name.startswith(".tmp-")]
    assert len(stored_files(tmp_path / "docs")) == 5
