"""Documents behind the digests on chain: uploads, and reads from this node or its peers.

Who may read a document is ``Access.document_basis``'s decision; this service only stores and
finds the bytes (encrypted at rest, ``node_api.store.documents``).
"""

from __future__ import annotations

from node_api.ledger.membership import Organization
from node_api.ledger.peers import Peers
from node_api.store.documents import DocumentStore, DocumentTable

DEFAULT_TYPE = "application/octet-stream"


class Documents:
    """The node's document library."""

    def __init__(self, files: DocumentStore, table: DocumentTable, peers: Peers) -> None:
        self.files = files
        self.table = table
        self.peers = peers

    def upload(self, org: Organization, data: bytes, content_type: str) -> str:
        """Stores a document for ``org``; its SHA-256 digest (0x…)."""
        digest = "0x" + self.files.put(data)
        self.table.record_upload(digest, org.id, len(data), content_type[:100])
        return digest

    async def read(self, org: Organization, digest: str) -> tuple[bytes, str]:
        """(bytes, content type) of a document (0x digest), from this node or, for ``org``, from a peer."""
        if self.files.exists(digest[2:]):
            data = self.files.get(digest[2:])
        else:
            data = await self.peers.fetch_document(org, digest)
        return data, self.table.content_type(digest) or DEFAULT_TYPE
