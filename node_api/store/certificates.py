"""Verification certificates this node issued (table ``certificates``, insert-only)."""

from __future__ import annotations

from dataclasses import dataclass

from node_api.store.database import Database


@dataclass(frozen=True)
class CertificateRow:
    """One issued certificate as stored: the sealed JSON exactly as issued."""

    id: str
    org_id: int
    project: str
    project_code: str
    as_of_block: int
    document: bytes
    issued_at: float


class CertificateTable:
    """Repository of issued certificates: added once, read by id, never changed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, row: CertificateRow) -> None:
        """Stores a new certificate (its id is fresh and random)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO certificates (id, org_id, project, project_code, as_of_block, document, issued_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.org_id, row.project, row.project_code, row.as_of_block, row.document, row.issued_at),
            )  # fmt: skip

    def get(self, certificate_id: str) -> CertificateRow | None:
        """The certificate of this id, if this node issued it."""
        r = self.db.one("SELECT * FROM certificates WHERE id = ?", (certificate_id,))
        if r is None:
            return None
        return CertificateRow(
            id=str(r["id"]), org_id=int(r["org_id"]), project=str(r["project"]),
            project_code=str(r["project_code"]), as_of_block=int(r["as_of_block"]),
            document=bytes(r["document"]), issued_at=float(r["issued_at"]),
        )  # fmt: skip

    def add_pdf(self, certificate_id: str, pdf: bytes) -> None:
        """Keeps a certificate's rendered PDF (a second rendering of the same JSON is the same; kept once)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO certificate_pdfs (id, pdf) VALUES (?, ?)", (certificate_id, pdf)
            )

    def pdf(self, certificate_id: str) -> bytes | None:
        """The certificate's PDF, if rendered already."""
        pdf = self.db.scalar("SELECT pdf FROM certificate_pdfs WHERE id = ?", (certificate_id,))
        return None if pdf is None else bytes(pdf)

    def count(self, org_id: int | None = None) -> int:
        """How many certificates this node issued (for one organisation, when given)."""
        if org_id is None:
            return int(self.db.scalar("SELECT count(*) FROM certificates") or 0)
        return int(self.db.scalar("SELECT count(*) FROM certificates WHERE org_id = ?", (org_id,)) or 0)
