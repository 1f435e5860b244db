"""The owner's credit profile (信用画像) wired to the chain: its facts from the index as of a block,
the viewer's scope from the access rules, the grade from ``domain/credit.py`` (docs/credit.md).

``Profiles.profile(uscc, as_of_block=None, viewer=org)`` reads every project whose registration
(as of the block) names the owner, its approvals, events, commitments and their status changes in
blocks ≤ the block, and grades them at the block's timestamp: the same block gives the same profile
on every node, later records change nothing. ``as_of_block`` None is the last indexed block.

The viewer's scope comes from ``Access.project_basis`` (the one implementation of the access rules):
a reading role (approval authority, supervisor, auditor) sees every fact (``full``); another member
sees the public part and, on each project it holds a live grant of restricted fields on, the rest of
that project's facts (``granted``); anyone else the public part (``public``). The grade is computed
over exactly the facts the viewer sees and says so (``basis``), so it never carries a restricted fact.
Every read by an organisation is an access-log entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node_api.chain.rpc import RpcClient
from node_api.domain.credit import (
    FULL,
    PUBLIC,
    RULES,
    AsOf,
    CommitmentFact,
    EventFact,
    Grade,
    OwnerFacts,
    Scope,
    grade,
    granted,
    visible,
)
from node_api.domain.credit_history import GradeChange, boundaries, history
from node_api.domain.records import STAGES, Kind, key_text
from node_api.domain.uscc import validate_uscc
from node_api.domain.workdays import beijing_date
from node_api.errors import NotFoundError, ValidationError
from node_api.ledger.access import ROLE_READERS, Access
from node_api.ledger.facts import Facts, ProjectRecords, utc
from node_api.ledger.membership import Organization
from node_api.ledger.reader import Reader, approval_expired, stage_status
from node_api.ledger.supervision import Supervision
from node_api.store.owners import OwnerIndex
from node_api.store.warnings import WarningFilter

WARNINGS_LIMIT = 500  # open warnings listed in one profile


@dataclass(frozen=True)
class ProjectFacts:
    """One of the owner's projects as of the block: its registration and its stages."""

    project: str  # on-chain id
    code: str
    fields: dict[str, Any]  # the registration's public fields
    status: str
    registration: dict[str, Any]  # uid, block_number, tx_hash
    stages: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Profile:
    """An owner's profile as one viewer may see it (``profile_views.profile_view`` is the API's JSON)."""

    uscc: str
    as_of: AsOf
    block_hash: str
    scope: Scope
    grade: Grade  # over the facts ``scope`` sees (``grade.basis``)
    projects: tuple[ProjectFacts, ...]
    facts: OwnerFacts  # every fact (the viewer's part is ``seen``)
    seen: OwnerFacts
    records: dict[str, dict[str, Any]] = field(repr=False)  # uid -> its row's chain position and issuer
    warnings: list[dict[str, Any]] | None = None  # None: not reproducible at a past block


class Profiles:
    """Owner credit profiles and grade histories, as of a block, scoped to the viewer."""

    def __init__(
        self,
        owners: OwnerIndex,
        facts: Facts,
        reader: Reader,
        access: Access,
        supervision: Supervision,
        rpc: RpcClient,
        checkpoint: Callable[[], tuple[int, str | None]],
    ) -> None:
        self.owners = owners
        self.facts = facts
        self.reader = reader
        self.access = access
        self.supervision = supervision
        self.rpc = rpc
        self.checkpoint = checkpoint

    # -- the interface -------------------------------------------------------------------
    async def profile(
        self, uscc: str, *, as_of_block: int | None = None, viewer: Organization | None = None,
        action: str | None = "owner.profile",
    ) -> Profile:  # fmt: skip
        """The owner's profile as of the block, as ``viewer`` may see it; logged as ``action`` (None: not)."""
        uscc = validate_uscc(uscc, "uscc")
        as_of, block_hash = await self.as_of(as_of_block)
        projects, facts, records = self._facts(uscc, as_of)
        scope, bases = self.scope(viewer, projects)
        seen = visible(facts, as_of, scope)
        warnings = None
        if as_of_block is None:
            ids = [p.project for p in projects]
            found, _ = self.supervision.warnings(
                viewer, WarningFilter(projects=ids, state="open"), 0, WARNINGS_LIMIT
            )
            warnings = found
        profile = Profile(
            uscc, as_of, block_hash, scope, grade(facts, as_of, RULES, scope), tuple(projects), facts, seen,
            records, warnings,
        )  # fmt: skip
        if viewer is not None and action is not None:
            for code, basis in bases:
                await self.access.log(viewer, action, uscc, code, basis)
        return profile

    async def grade(
        self, uscc: str, *, as_of_block: int | None = None, viewer: Organization | None = None
    ) -> Grade:
        """The owner's grade as of the block over the facts ``viewer`` may see (not logged: the caller logs)."""
        return (await self.profile(uscc, as_of_block=as_of_block, viewer=viewer, action=None)).grade

    async def grade_history(
        self, uscc: str, *, as_of_block: int | None = None, viewer: Organization | None = None,
        action: str | None = "owner.grade_history",
    ) -> tuple[Profile, list[GradeChange]]:  # fmt: skip
        """Every change of the owner's grade up to the block, with its cause, over the viewer's facts.

        The grade is evaluated at every block holding one of the owner's records (registrations,
        events, commitments, their status changes) and at every instant a time-dependent rule
        flips (``credit_history.boundaries``) with the facts known then.
        """
        profile = await self.profile(uscc, as_of_block=as_of_block, viewer=viewer, action=action)
        facts, as_of = profile.facts, profile.as_of
        times = block_times(profile)
        points = [AsOf(b, at) for b, at in sorted(times.items()) if b <= as_of.block]
        first = min((p.at for p in points), default=as_of.at)  # nothing to grade before the first record
        for instant in boundaries(facts, RULES):
            if first <= instant <= as_of.at:
                before = [p.block for p in points if p.at <= instant]
                points.append(AsOf(max(before, default=0), instant))
        points.append(as_of)
        return profile, history(facts, points, RULES, profile.scope)

    # -- the block, the scope, the facts -------------------------------------------------
    async def as_of(self, as_of_block: int | None) -> tuple[AsOf, str]:
        """The block asked for (the last indexed one when None) and its timestamp and hash."""
        head, _ = self.checkpoint()
        number = head if as_of_block is None else as_of_block
        if number < 0 or number > head:
            raise ValidationError("as_of_block", f"must be between 0 and the last indexed block, {head}")
        row = self.owners.block(number)
        if row is not None:
            return AsOf(number, utc(int(row["timestamp"]))), str(row["hash"])
        header = await self.rpc.block(number)  # a block without records: the index keeps no header of it
        if header is None:
            raise NotFoundError(f"block {number} is not on the chain")
        return AsOf(number, utc(int(header["timestamp"], 16))), str(header["hash"])

    def scope(
        self, viewer: Organization | None, projects: list[ProjectFacts]
    ) -> tuple[Scope, list[tuple[str | None, str]]]:
        """The viewer's scope over the owner's projects, and the access-log entries (project code, basis)
        a read under it makes: one per granted project, else one for the owner."""
        if viewer is None or viewer.suspended:
            return PUBLIC, [(None, "public")]
        for role in ROLE_READERS:
            if viewer.has(role):
                return FULL, [(None, f"role:{role}")]
        grants = {p.code: self.access.project_basis(viewer, p.project, "fields") for p in projects}
        bases = sorted((c, b) for c, b in grants.items() if b is not None)
        if not bases:
            return PUBLIC, [(None, "public")]
        return granted(c for c, _ in bases), [(c, b) for c, b in bases]

    def _facts(
        self, uscc: str, as_of: AsOf
    ) -> tuple[list[ProjectFacts], OwnerFacts, dict[str, dict[str, Any]]]:
        projects: list[ProjectFacts] = []
        events: list[EventFact] = []
        commitments: list[CommitmentFact] = []
        records: dict[str, dict[str, Any]] = {}
        candidates = dict.fromkeys(
            str(r["project"]) for r in self.owners.registrations_naming(uscc, as_of.block)
        )
        for pid in candidates:
            known = self.facts.project(pid, as_of.block)
            project = _project(known, as_of)
            if project is None or project.fields.get("owner_uscc") != uscc:
                continue  # another owner's project naming this code elsewhere, or since re-registered
            projects.append(project)
            for e in known.entries:
                records[e.uid] = {"block_number": e.block, "tx_hash": e.tx_hash, "block_time": int(e.at.timestamp()),
                                  "issuer": self._issuer(e.issuer)}  # fmt: skip
            events += known.events(project.code)
            commitments += known.commitments(project.code)
        if not projects:
            raise NotFoundError(f"no project of owner {uscc} is registered as of block {as_of.block}")
        return projects, OwnerFacts(uscc, tuple(events), tuple(commitments)), records

    def _issuer(self, org_id: int) -> str | None:
        org = self.reader.membership.get(org_id)
        return None if org is None else org.name


def block_times(profile: Profile) -> dict[int, dt.datetime]:
    """The timestamp of every block holding one of the owner's records or a status change of one."""
    times = {int(r["block_number"]): utc(int(r["block_time"])) for r in profile.records.values()}
    for f in profile.facts.all():
        for c in f.changes:
            times[c.block] = c.at
    return times


def _project(known: ProjectRecords, as_of: AsOf) -> ProjectFacts | None:
    registrations = [
        e for e in known.of(Kind.PROJECT) if known.status(e.uid, e.kind) in ("active", "revoked")
    ]
    if not registrations:
        return None
    reg = registrations[-1]
    if key_text(reg.fields, "code") is None:
        # Its code on chain is not UTF-8: read with U+FFFD it is not the project's code, and two such
        # projects may read alike, so nothing here may name, key or scope a project by it (a grant on
        # one would open the other). The project stays out of the profile, as when it was unreadable.
        return None
    on = beijing_date(as_of.at)
    stages: dict[str, dict[str, str]] = {}
    for n, name in STAGES.items():
        live = []
        for a in known.of(Kind.APPROVAL):
            if a.fields["stage"] != n or known.status(a.uid, a.kind) != "active":
                continue
            live.append(
                {"fields": a.fields, "status": "expired" if approval_expired(a.fields, on) else "active"}
            )
        stages[str(n)] = {"name": name, "status": stage_status(live)}
    return ProjectFacts(
        project=known.project, code=str(reg.fields["code"]), fields=reg.fields, status=known.status(reg.uid, reg.kind),
        registration={"uid": reg.uid, "block_number": reg.block, "tx_hash": reg.tx_hash},
        stages=stages,
    )  # fmt: skip
