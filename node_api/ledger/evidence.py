"""Evidence bundles (证据包) of a project, gathered from the read model for ``verify.bundle``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node_api.chain.contracts import Deployment
from node_api.chain.group import GroupProof
from node_api.chain.seal import Sealer, struct_hash
from node_api.domain.records import Kind, Record
from node_api.ledger.membership import Membership
from node_api.ledger.reader import Reader
from node_api.store.openings import Openings
from node_api.verify.bundle import BundleEntry, build_bundle


@dataclass(frozen=True)
class Evidence:
    """Builds a project's evidence bundle from the canonical records this node indexed."""

    reader: Reader
    membership: Membership
    openings: Openings
    sealer: Sealer
    deployment: Deployment
    checkpoint: Callable[[], tuple[int, str | None]]  # the last block fully indexed
    node_name: str

    def bundle(self, code: str) -> dict[str, Any] | None:
        """The evidence bundle of a project (canonical records only); None if it is not registered."""
        pid = self.reader.project_id(code)
        if pid is None:
            return None
        as_of, _ = self.checkpoint()
        rows = self.reader.canonical_rows(pid)
        openings = self.openings.get_many([r["uid"] for r in rows])
        return build_bundle(
            code=code,
            project_id=pid,
            generated_by=self.node_name,
            deployment=self.deployment,
            as_of=as_of,
            entries=[self._entry(row, openings.get(row["uid"])) for row in rows],
        )

    def _entry(self, row: Any, opening: Any) -> BundleEntry:
        issuer = self.membership.get(int(row["issuer"]))
        known = int(row["kind"]) != 0
        record = Record.from_row(row) if known else None
        return BundleEntry(
            row=row,
            issuer_name=issuer.name if issuer else None,
            issuer_uscc=issuer.uscc if issuer else None,
            status=self.reader.status(row["uid"], Kind(int(row["kind"]))).name.lower()
            if known
            else "unknown",
            typed_data=self.sealer.typed_data(record) if record is not None else None,
            group=self._group(record, bytes(row["seal"])) if record is not None else None,
            opening=opening,
        )

    def _group(self, record: Record, seal: bytes) -> dict[str, Any] | None:
        """The group proof of a record sealed with its group (None for its own 65-byte seal)."""
        proof = GroupProof.decode(seal) if len(seal) != 65 else None
        if proof is None:
            return None
        root = proof.root(struct_hash(record))
        typed = None if root is None else self.sealer.group_typed_data(root, proof.count, proof.relayer)
        return {**proof.as_json(root), "typed_data": typed}
