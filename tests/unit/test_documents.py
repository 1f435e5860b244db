"""Encrypted content-addressed document store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from node_api.errors import NotFoundError, ProjchainError, ValidationError
from node_api.store.documents import FORMAT_VERSION, DocumentStore, IntegrityError, sha256_hex

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
    assert blob[0] == FORMAT_VERSION == 2
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


def node_document_key(data_dir: Path, password: str) -> bytes:
    """The document key a node with this data directory and keystore password uses."""
    from node_api.config import Settings
    from node_api.store import keys
    from node_api.store.database import Database

    settings = Settings(data_dir=data_dir, env="test", keystore_password=password)
    # What the composition root (node_api.node) derives the key from.
    return keys.document_key(settings.documents_dir, settings.password, Database(settings.database_path))


def test_the_same_password_gives_each_node_its_own_document_key(tmp_path: Path) -> None:
    # The attack: with a fixed salt the key is a function of the password alone, so one
    # dictionary of scrypt(password) precomputed for projchain opens every node's documents,
    # and a store copied from one node opens on any other node with the same password.
    password = "correct horse battery staple"
    key_a = node_document_key(tmp_path / "a", password)
    key_b = node_document_key(tmp_path / "b", password)
    assert key_a != key_b
    fixed_salt = hashlib.scrypt(
        password.encode(), salt=b"projchain/documents/v1", n=2**14, r=8, p=1, dklen=32
    )
    assert fixed_salt not in (key_a, key_b)
    digest = DocumentStore(tmp_path / "a" / "documents", key_a).put(PLAINTEXT)
    with pytest.raises(IntegrityError):
        DocumentStore(tmp_path / "a" / "documents", fixed_salt).get(digest)
    assert node_document_key(tmp_path / "a", password) == key_a  # kept: the store opens again


def legacy_file(root: Path, data: bytes, key: bytes) -> str:
    """A document as a node of the fixed-salt days wrote it (format 1)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    digest = sha256_hex(data)
    nonce = os.urandom(12)
    path = root / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x01" + nonce + AESGCM(key).encrypt(nonce, data, digest.encode()))
    return digest


def test_a_fixed_salt_node_is_re_encrypted_once_under_its_own_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node_api.domain.records import Opening
    from node_api.store import keys
    from node_api.store.database import Database
    from node_api.store.openings import OpeningCorrupt, Openings, OpeningVault

    password, root = "an old node's password", tmp_path / "documents"
    old_key = keys.derive(password, keys.LEGACY_SALT)
    db = Database(tmp_path / "node.sqlite3")
    old_docs = [legacy_file(root, f"批复 {i}".encode() * 100, old_key) for i in range(3)]
    opening = Opening(salt=b"s" * 32, content=b"restricted")
    Openings(db, OpeningVault(old_key)).put("0x" + "cd" * 32, opening, "issued")
    # An upgrade interrupted after one document: the new salt is pending, one file is new already.
    pending_salt = os.urandom(32)
    (root / "key-salt.new").write_text(pending_salt.hex())
    new_key = keys.derive(password, pending_salt)
    DocumentStore(root, new_key).reencrypt_legacy(lambda: old_key)
    legacy_file(root, b"written after", old_key)

    key = node_key = keys.document_key(root, password, db)
    assert key == new_key and key != old_key
    assert (root / "key-salt").read_text().strip() == pending_salt.hex() and not (
        root / "key-salt.new"
    ).exists()
    store = DocumentStore(root, key)
    for i, digest in enumerate(old_docs):
        assert store.get(digest) == f"批复 {i}".encode() * 100
    assert store.get(sha256_hex(b"written after")) == b"written after"
    assert all(p.read_bytes()[0] == FORMAT_VERSION for p in root.glob("??/??/*"))
    assert Openings(db, OpeningVault(key)).get("0x" + "cd" * 32) == opening
    with pytest.raises(OpeningCorrupt):
        Openings(db, OpeningVault(old_key)).get("0x" + "cd" * 32)
    # From now on the old key is never derived again.
    monkeypatch.setattr(keys, "LEGACY_SALT", None)
    assert keys.document_key(root, password, db) == node_key
