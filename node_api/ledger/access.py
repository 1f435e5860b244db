"""Who may read what, and the access log of every restricted read.

Approval authorities, supervisors and auditors read by role; a financial
institution reads a project only under a live grant recorded on chain (not
expired, not revoked). Every restricted read is logged; the log is a Merkle log
whose roots are anchored on chain (see ``verify/accesslog.py``).
"""

from __future__ import annotations

import asyncio
import json
import time
from contextvars import ContextVar
from typing import Any

from node_api.domain.records import Kind, Status
from node_api.errors import ForbiddenError
from node_api.ledger.membership import Organization
from node_api.ledger.reader import Reader
from node_api.store.access_log import AccessLogTable
from node_api.store.documents import DocumentTable
from node_api.store.index import IndexTable
from node_api.verify.merkle import leaf_hash

ROLE_READERS = ("approval_authority", "supervisor", "auditor")
# The API token (officer) behind the current request: "who" in the access log.
CURRENT_TOKEN: ContextVar[int | None] = ContextVar("projchain_token", default=None)
# The console officer behind the current request ("<id>:<username>"), None for API tokens.
CURRENT_OFFICER: ContextVar[str | None] = ContextVar("projchain_officer", default=None)
# Grant scopes: 1 documents, 2 restricted fields, 3 all. Record content (history,
# one record) carries restricted fields, so it needs scope 2 or 3 like the detailed summary.
ACCESS_LOG_LINGER = 0.002  # seconds a read waits for others to share its access-log commit
_SCOPES = {"documents": {1, 3}, "fields": {2, 3}, "records": {2, 3}}


class Access:
    """Authorisation decisions and the access log."""

    def __init__(
        self, index: IndexTable, documents: DocumentTable, access_log: AccessLogTable, reader: Reader
    ) -> None:
        self.index = index
        self.documents = documents
        self.access_log = access_log
        self.reader = reader
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []

    def live_grant(self, org: Organization, project: str, need: str = "records") -> str | None:
        """uid of a live grant of ``project`` to ``org`` covering ``need``, if any.

        Grantee, scope and expiry are the contract's own (``chain_grants``, read from its
        ``entry(uid)``), the status is the chain's; a revoked project's grants are dead.
        """
        rows = self.index.grants(project, org.id)
        now = time.time()
        live = [r for r in rows if int(r["expires_at"]) > now and int(r["scope"]) in _SCOPES[need]]
        if not live or self.reader.project_closed(project):
            return None
        for row in live:
            if self.reader.status(row["uid"], Kind.GRANT) == Status.ACTIVE:
                return str(row["uid"])
        return None

    @staticmethod
    def role_basis(org: Organization) -> str | None:
        """ "role:…" when ``org`` reads every project by a role, else None."""
        return next((f"role:{role}" for role in ROLE_READERS if org.has(role)), None)

    def project_basis(self, org: Organization, project: str, need: str = "records") -> str | None:
        """Why ``org`` may read ``project`` ("role:…" or "grant:0x…"), or None."""
        role = self.role_basis(org)
        if role is not None:
            return role
        grant = self.live_grant(org, project, need)
        return None if grant is None else f"grant:{grant}"

    def reading_bases(self, org: Organization, need: str = "fields") -> tuple[str | None, dict[str, str]]:
        """Every project ``org`` may read for ``need``: (its role basis, which covers all projects, or None;
        the projects it may read under a live grant, each with its "grant:0x…" basis)."""
        role = self.role_basis(org)
        if role is not None:
            return role, {}
        granted: dict[str, str] = {}
        for project in self.index.granted_projects(org.id):
            grant = self.live_grant(org, project, need)
            if grant is not None:
                granted[project] = f"grant:{grant}"
        return None, granted

    def require_project(self, org: Organization, project: str, code: str, need: str = "records") -> str:
        """The basis for reading, or 403 that reveals nothing about the project's content."""
        basis = self.project_basis(org, project, need)
        if basis is None:
            raise ForbiddenError(f"{org.name} holds no live grant to read project {code}")
        return basis

    def document_projects(self, digest: str) -> list[Any]:
        """The projects (``project``, ``code``) a document belongs to: those of the records binding it.

        When the document was uploaded here, only records issued by an organisation that
        uploaded it count: anyone may put a known digest in a record of another project (every
        digest is public on chain), and that must not pull the document into that project and
        open it to that project's grantees. A node that does not hold the document (it fetches
        it from a peer) cannot tell; the holding node decides with this same rule.
        """
        return self.index.projects_binding(digest, self.documents.uploaders(digest))

    def document_basis(self, org: Organization, digest: str) -> tuple[str, str | None] | None:
        """Why ``org`` may download a document (and the project it belongs to), or None."""
        uploaded = self.documents.uploaded_by(digest, org.id)
        projects = self.document_projects(digest)
        code = projects[0]["code"] if projects else None
        if uploaded:
            return "uploader", code
        role = self.role_basis(org)
        if role is not None:
            return role, code
        for p in projects:
            grant = self.live_grant(org, p["project"], "documents")
            if grant is not None:
                return f"grant:{grant}", p["code"]
        return None

    async def log(
        self, org: Organization, action: str, subject: str, project_code: str | None, basis: str
    ) -> None:
        """Appends an access-log entry before the read is answered (group-committed with concurrent reads)."""
        at = time.time()
        token_id = CURRENT_TOKEN.get()
        officer = CURRENT_OFFICER.get()
        entry = entry_json(at, org.id, org.name, action, subject, project_code, basis, token_id, officer)
        row = (
            at,
            org.id,
            org.name,
            token_id,
            action,
            subject,
            project_code,
            basis,
            leaf_hash(entry.encode()).hex(),
            officer,
        )
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((row, done))
        if len(self._pending) == 1:
            # Linger a moment so concurrent reads share one commit (each commit is an fsync,
            # and with gateway workers it waits its turn for the database's write lock).
            loop.call_later(ACCESS_LOG_LINGER, self._flush)
        await done

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            self.access_log.append([r for r, _ in batch])
        except Exception as e:  # the read is refused rather than served unlogged
            for _, f in batch:
                if not f.done():
                    f.set_exception(e)
            return
        for _, f in batch:
            if not f.done():
                f.set_result(None)


def entry_json(
    at: float,
    org_id: int,
    org_name: str,
    action: str,
    subject: str,
    project_code: str | None,
    basis: str,
    token_id: int | None = None,
    officer: str | None = None,
) -> str:
    """Canonical JSON of an access-log entry: the bytes its Merkle leaf hashes.

    ``officer`` (a console officer, "<id>:<username>") is a key only when there is one, so the
    entries of API tokens hash as they always did.
    """
    data: dict[str, Any] = {
        "token_id": token_id,
        "at": round(at, 6),
        "org_id": org_id,
        "org_name": org_name,
        "action": action,
        "subject": subject,
        "project_code": project_code,
        "basis": basis,
    }
    if officer is not None:
        data["officer"] = officer
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
