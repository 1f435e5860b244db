"""What the benchmark writes and reads: realistic 庄浪县 records with unique content.

Every record is an approval (批复, the most frequent record) with its own approval
document digest, so no two records share a uid (uids derive from content) and every
written digest can be looked up by ``POST /v1/verify/document``. Projects get about
``RECORDS_PER_PROJECT`` records each, as a county project collects over its life.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

from node_api.domain.uscc import org_code_check_character, uscc_check_character

RECORDS_PER_PROJECT = 100
# The demo's approval authorities and, for each, items of the demo catalogue (demo/catalogue.json)
# it decides, with their stages: an approval names its department's item, as the ledger requires.
APPROVERS = ("fgj", "zrzyj", "zjj")
ITEMS: dict[str, tuple[tuple[str, int], ...]] = {
    "fgj": (("ZL-S1-002", 1), ("ZL-S1-004", 1), ("ZL-S2-003", 2)),
    "zrzyj": (("ZL-S1-005", 1), ("ZL-S1-007", 1), ("ZL-S2-002", 2), ("ZL-S4-001", 4)),
    "zjj": (("ZL-S3-002", 3), ("ZL-S3-004", 3), ("ZL-S4-002", 4), ("ZL-S4-005", 4)),
}
# Decisions that need no commitment record (approved_on_commitment and accepted_with_deficiencies
# write a second record, the commitment, which would change what a benchmark record is).
_DECISIONS = ("approved", "approved", "approved", "approved", "rejected")


def project_code(n: int, run: int) -> str:
    """A well-formed, unique project code of 庄浪县 (run id keeps codes apart across runs)."""
    return f"2026-620825-{48 + run % 40:02d}-01-{n:06d}"


def document_digest(run: int, n: int) -> str:
    """The digest of approval document ``n`` of this run."""
    return "0x" + hashlib.sha256(f"projchain-bench/{run}/approval/{n}".encode()).hexdigest()


def owner_uscc(n: int) -> str:
    """A valid Unified Social Credit Code of a project owner."""
    org8 = f"{n % 10**8:08d}"
    first17 = "91620825" + org8 + org_code_check_character(org8)
    return first17 + uscc_check_character(first17)


def project_item(code: str, n: int) -> dict[str, Any]:
    """A ``type: project`` batch item."""
    return {
        "type": "project",
        "code": code,
        "name": f"庄浪县基准测试建设项目 {n}",
        "owner_uscc": owner_uscc(n),
        "project_type": "approval",
        "region_code": "620825",
        "industry_code": code[12:14],
        "total_investment": f"{1_000_000 + n * 37}.00",
    }


def approver(n: int) -> str:
    """The organisation that writes approval ``n`` (its key in the demo)."""
    return APPROVERS[n % len(APPROVERS)]


def approval_body(run: int, n: int, org: str | None = None) -> dict[str, Any]:
    """Fields of approval ``n`` by ``org`` (default ``approver(n)``), as for ``POST /v1/projects/{code}/approvals``.

    The item is one of ``org``'s catalogue items; the node fills in its version in force.
    """
    issued = dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)
    items = ITEMS[org or approver(n)]
    item, stage = items[(n // len(APPROVERS)) % len(items)]
    return {
        "stage": stage,
        "item": item,
        "decision": _DECISIONS[n % len(_DECISIONS)],
        "document_digest": document_digest(run, n),
        "document_no": f"庄审批〔2026〕{n}号",
        "issued_at": issued.isoformat(),
    }


def approval_item(run: int, n: int, code: str, org: str | None = None) -> dict[str, Any]:
    """A ``type: approval`` batch item of ``org`` (default ``approver(n)``)."""
    return {"type": "approval", "project_code": code, **approval_body(run, n, org)}


class Sample:
    """A bounded uniform sample (reservoir) of written records: uid and document digest."""

    def __init__(self, size: int = 200_000, seed: int = 7) -> None:
        self.size = size
        self.items: list[tuple[str, str]] = []
        self.seen = 0
        self._rng = random.Random(seed)

    def add(self, uid: str, digest: str) -> None:
        """Offers one written record to the sample."""
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append((uid, digest))
            return
        j = self._rng.randrange(self.seen)
        if j < self.size:
            self.items[j] = (uid, digest)

    def pick(self, rng: random.Random) -> tuple[str, str]:
        """A random sampled record."""
        return self.items[rng.randrange(len(self.items))]
