"""Accepting writes: check, build the record, seal it, put it in the outbox.

The gateway checks what the contract will check (role, subject, legal status
change, the catalogue item an approval names) so a client gets a precise
403/404/409/422 at once and nothing is written; the contract checks it again,
whatever a gateway does. An approval on commitment (or with deficiencies) and the
commitment bound to it are accepted together, in one outbox commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from node_api.chain.capacity import ChainMemoryGuard
from node_api.chain.keystore import KeyStore
from node_api.chain.pipeline import DEFERRED_SEAL, Outbox, OutboxItem
from node_api.chain.seal import Sealer
from node_api.domain.catalogue import ITEM_COMMITMENT_NAMES, ItemVersion, decision_allowed
from node_api.domain.records import (
    DECISIONS,
    REPAIR_WAIT,
    REQUIRED_ROLE,
    RESTRICTED_SCHEMAS,
    SUPERSEDABLE,
    TRANSITIONS,
    ZERO32,
    Kind,
    Opening,
    PayloadError,
    Record,
    Status,
    decode_payload,
    derive_uid,
    encode_payload,
    project_id,
    seal_payload,
    uid_org,
)
from node_api.errors import ConflictError, ForbiddenError, NotFoundError, ProjchainError, ValidationError
from node_api.ledger.catalogue import Catalogue
from node_api.ledger.membership import Membership, Organization
from node_api.ledger.reader import Reader
from node_api.store.index import IndexTable
from node_api.store.openings import OpeningVault
from node_api.store.outbox import OutboxState

SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


@dataclass(frozen=True)
class PreSeal:
    """A seal made on the organisation's own device: the uid it chose and the signature."""

    uid: bytes
    seal: bytes
    salt: bytes | None = None  # of the restricted-content commitment, chosen by the sealing device


@dataclass(frozen=True)
class Attachment:
    """The commitment an approval on commitment / with deficiencies carries, written with it.

    ``fields`` are the commitment's payload and restricted fields but ``approval``, which the
    writer sets to the approval's uid; ``digest`` is the owner's 承诺书.
    """

    fields: dict[str, Any]
    digest: bytes
    preseal: PreSeal | None = None


@dataclass(frozen=True)
class Accepted:
    """What the API answers for an accepted write."""

    uid: str
    created: bool
    record: Record
    attached: Accepted | None = None  # the commitment accepted with an approval


@dataclass(frozen=True)
class Write:
    """One write as ``Writer.write`` takes it: a record (and an approval's commitment)."""

    kind: Kind
    code: str
    fields: dict[str, Any]
    digest: bytes = ZERO32
    ref: str | None = None
    idempotency_key: str | None = None
    preseal: PreSeal | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class _Prepared:
    """A checked record ready for the outbox (``seal`` None: this very record is there already)."""

    record: Record
    seal: bytes | None
    opening: Opening | None
    node_sealed: bool = False  # sealed with this node's key (not pre-sealed): its group may seal it


SEAL_KEY_PREFIX = "seal-org-"


class _Lookups:
    """The index's answers a batch's checks ask again and again (its records name a few projects and
    catalogue items many times), asked once per ``write_many``. Nothing of the batch is accepted
    before every check of it ran, so the batch is checked as of its first look, as one ``write``
    each at that moment would be; the contract checks everything again."""

    def __init__(self) -> None:
        self.known: dict[str, bool] = {}
        self.closed: dict[str, bool] = {}
        self.items: dict[str, ItemVersion | None] = {}
        self.seal_key: LocalAccount | None = None  # the batch's organisation's, checked active on chain


def seal_key_name(org_id: int) -> str:
    """Keystore name of an organisation's seal key on this node."""
    return f"{SEAL_KEY_PREFIX}{org_id}"


class Writer:
    """Turns validated API input into sealed records in the outbox."""

    def __init__(
        self,
        index: IndexTable,
        reader: Reader,
        membership: Membership,
        sealer: Sealer,
        keystore: KeyStore,
        outbox: Outbox,
        vault: OpeningVault,
        catalogue: Catalogue,
        capacity: ChainMemoryGuard | None = None,
        defer_seals: bool = False,
    ) -> None:
        # Records sealed with this node's key are put in the outbox unsealed (DEFERRED_SEAL) and sealed
        # by the submitter when sent: under group seals (one per organisation and transaction) a
        # record's own seal is used only when it travels alone, so most were never sent (issue #15).
        self.defer_seals = defer_seals
        self.capacity = capacity  # refuses writes while the embedded chain is over its memory limit
        self.index = index
        self.reader = reader
        self.membership = membership
        self.sealer = sealer
        self.keystore = keystore
        self.outbox = outbox
        self.vault = vault
        self.catalogue = catalogue

    async def write(
        self,
        org: Organization,
        kind: Kind,
        code: str,
        fields: dict[str, Any],
        digest: bytes = ZERO32,
        ref: str | None = None,
        idempotency_key: str | None = None,
        preseal: PreSeal | None = None,
        attachment: Attachment | None = None,
    ) -> Accepted:
        """Checks and accepts one record (and an approval's commitment); returns its uid.

        An approval's ``item_version`` None is filled with the item's version in force.
        With an ``attachment`` (approvals only) the commitment bound to the approval is
        checked and accepted with it, in the same outbox commit.
        """
        parts = await self._parts(
            org, Write(kind, code, fields, digest, ref, idempotency_key, preseal, attachment)
        )
        return _accepted(parts, await self._accept(org, parts))

    async def write_many(self, org: Organization, writes: list[Write]) -> list[Accepted | ProjchainError]:
        """``write`` for each of ``writes``, all accepted in one outbox commit; each answer is its
        ``Accepted`` or the error that refused it (a refused write does not sink the others).

        The same as ``write`` on each concurrently (every check runs before any is accepted), without
        a task and a wait per record.
        """
        prepared: list[list[_Prepared] | ProjchainError] = []
        looks = _Lookups()
        self._look_ahead(writes, looks)
        for w in writes:
            try:
                prepared.append(await self._parts(org, w, looks))
            except ProjchainError as e:
                prepared.append(e)
        outcomes = iter(
            await self._accept_each(org, [p for ps in prepared if isinstance(ps, list) for p in ps])
        )
        answers: list[Accepted | ProjchainError] = []
        for parts in prepared:
            if isinstance(parts, ProjchainError):
                answers.append(parts)
                continue
            mine = [next(outcomes) for _ in parts]
            refused = next((o for o in mine if isinstance(o, ProjchainError)), None)
            answers.append(refused if refused is not None else _accepted(parts, [bool(o) for o in mine]))
        return answers

    def _look_ahead(self, writes: list[Write], looks: _Lookups) -> None:
        """Whether each project the batch writes to is registered, and revoked, in two queries for
        the batch instead of two a record (a batch of 1,000 approvals names up to 1,000 projects)."""
        codes = sorted({w.code for w in writes if not (w.kind == Kind.PROJECT and w.ref is None)})
        if not codes:
            return
        registered = self.reader.registered_codes(codes)
        pids = {code: "0x" + project_id(code).hex() for code in codes}
        closed = self.reader.closed_projects(sorted({pids[c] for c in registered}))
        for code in codes:
            pid_hex = pids[code]
            if code in registered:
                looks.known[code] = True
                looks.closed[pid_hex] = pid_hex in closed
            # else: not indexed yet, maybe accepted here (``_project_known`` asks the outbox when needed)

    async def _parts(self, org: Organization, w: Write, looks: _Lookups | None = None) -> list[_Prepared]:
        """The checked, sealed records of one write: the record, and an approval's commitment."""
        if self.capacity is not None:
            self.capacity.check()
        kind, code = w.kind, w.code
        looks = looks or _Lookups()  # the record and its commitment share them too
        main = await self._prepare(
            org, kind, code, w.fields, w.digest, w.ref, w.idempotency_key, w.preseal, looks
        )
        parts = [main]
        attachment = w.attachment
        if attachment is not None:
            if kind != Kind.APPROVAL:
                raise ValueError("only an approval carries a commitment")
            held = self.outbox.table.state("0x" + main.record.uid.hex())
            if main.seal is not None and held is not None and held != OutboxState.FAILED:
                # its uid holds other content (a reused idempotency key): refuse both, write neither
                raise ConflictError(
                    f"record 0x{main.record.uid.hex()} was accepted before with different content"
                )
            bound = {**attachment.fields, "approval": main.record.uid}
            # A correction's commitment takes over the corrected approval's pending one (it supersedes
            # it), so the owner's one obligation is not left pending, and falling overdue, twice.
            # A commitment sealed on the owner's device names no ref: it stands beside the old one.
            correction = "0x" + main.record.uid.hex()
            follows = None
            if w.ref is not None and attachment.preseal is None:
                follows = self._followed(org, code, w.ref, correction)
            parts.append(
                await self._prepare(
                    org,
                    Kind.COMMITMENT,
                    code,
                    bound,
                    attachment.digest,
                    follows,
                    w.idempotency_key,
                    attachment.preseal,
                    looks,
                )
            )
        return parts

    def _followed(self, org: Organization, code: str, approval: str, correction: str) -> str | None:
        """The commitment of ``org`` bound to ``approval`` that the commitment of its ``correction`` takes
        over: the one this correction's commitment took over already (a retry, once the chain has it),
        else the one still pending on chain, if any."""
        pid = "0x" + project_id(code).hex()
        written = self._bound(pid, correction)
        if written:  # a retry: what the chain holds decides, the old commitment is no longer pending
            ref = str(written[0]["ref"])
            return None if ref == "0x" + ZERO32.hex() else ref
        for row in self._bound(pid, approval):
            uid = str(row["uid"])
            if int(row["issuer"]) == org.id and self.index.latest_status(uid) is None:
                return uid  # never changed since recorded: pending
        return None

    def _bound(self, pid: str, approval: str) -> list[Any]:
        """The project's commitments on chain bound to ``approval`` (a uid), oldest first."""
        out = []
        for row in self.index.commitments_naming(pid, approval):
            try:
                if decode_payload(Kind.COMMITMENT, bytes(row["payload"]))["approval"] == approval:
                    out.append(row)
            except PayloadError:
                continue
        return out

    async def _prepare(
        self,
        org: Organization,
        kind: Kind,
        code: str,
        fields: dict[str, Any],
        digest: bytes,
        ref: str | None,
        idempotency_key: str | None,
        preseal: PreSeal | None,
        looks: _Lookups,
    ) -> _Prepared:
        """Checks one record and seals it (unless this very record is in the outbox already)."""
        self._check_role(org, kind)
        pid = project_id(code)
        pid_hex = "0x" + pid.hex()
        ref_bytes = bytes.fromhex(ref[2:]) if ref else ZERO32
        if preseal is not None:
            uid, salt = preseal.uid, preseal.salt
            if salt is None and kind in RESTRICTED_SCHEMAS:
                raise ValidationError(
                    "seal.salt", "the salt of the restricted-content commitment is required"
                )
        else:
            # From the request as sent (an approval's item_version as the client gave it, or None).
            key = (idempotency_key or "").encode() or hashlib.sha256(
                json.dumps([code, ref, "0x" + digest.hex(), sorted(fields.items())], default=str).encode()
            ).digest()
            uid = derive_uid(org.id, kind, (b"k:" if idempotency_key else b"c:") + key)
            salt = self.vault.salt(uid)  # deterministic: a retry seals the very same record
        if kind in (Kind.APPROVAL, Kind.ACCEPTANCE):
            fields = self._check_item(org, fields, looks)
        try:
            payload, opening = seal_payload(kind, fields, salt)
        except (ValueError, OverflowError, TypeError) as e:  # a value the on-chain type cannot hold
            raise ValidationError("record", f"a field is out of range for the ledger: {e}") from e
        record = Record(uid=uid, kind=kind, project=pid, ref=ref_bytes, digest=digest, payload=payload)
        # A retry of an accepted request answers with the same uid before any state check:
        # the first attempt may already have changed the state the checks look at.
        if self._is_retry(org, record):
            return _Prepared(record, None, opening)
        if kind == Kind.PROJECT and ref is None:
            if self.reader.project_id(code) is not None or self.outbox.table.registration_live(pid_hex):
                raise ConflictError(f"project {code} is already registered")
        elif not self._project_known(code, pid_hex, looks):
            raise NotFoundError(f"project {code} is not registered")
        elif kind in (Kind.APPROVAL, Kind.COMMITMENT, Kind.GRANT, Kind.ACCEPTANCE) and self._project_closed(
            pid_hex, looks
        ):
            raise ConflictError(
                f"project {code} was revoked; it takes no new approvals, commitments or grants"
            )
        if ref is not None:
            self._check_ref(org, kind, ref, pid_hex, fields)
        if kind == Kind.GRANT:
            self._check_registrant(org, pid_hex, code)
        seal_key = None if preseal is not None else looks.seal_key or await self.seal_key(org)
        looks.seal_key = seal_key or looks.seal_key  # one organisation's batch: its key checked once
        return _Prepared(
            record, self._seal(org, record, preseal, seal_key), opening, node_sealed=preseal is None
        )

    async def _accept(self, org: Organization, parts: list[_Prepared]) -> list[bool]:
        """Puts the sealed parts in the outbox, in one commit; whether each is new there (a part whose
        uid holds other content raises its conflict)."""
        outcomes = await self._accept_each(org, parts)
        for outcome in outcomes:
            if isinstance(outcome, ProjchainError):
                raise outcome
        return [bool(o) for o in outcomes]

    async def _accept_each(self, org: Organization, parts: list[_Prepared]) -> list[bool | ProjchainError]:
        """Puts the sealed parts in the outbox, in one commit; for each, whether it is new there, or
        the conflict of a uid holding other content."""
        items = [
            OutboxItem(
                record=p.record,
                seal=p.seal,
                org_id=org.id,
                opening=None if p.opening is None else self.vault.seal("0x" + p.record.uid.hex(), p.opening),
                node_sealed=p.node_sealed,
            )
            for p in parts
            if p.seal is not None
        ]
        created = iter(await self.outbox.accept_each(items) if items else [])
        return [next(created) if p.seal is not None else False for p in parts]

    def _check_item(self, org: Organization, fields: dict[str, Any], looks: _Lookups) -> dict[str, Any]:
        """An approval's fields with the item's version in force filled in, once the catalogue allows it.

        What the contract refuses (unknown or retired item, another version than the one in
        force, an issuer that is not the item's department, another stage, a decision the
        item's 承诺制 type does not allow) is refused here first, with what to do instead.
        """
        code = str(fields["item"])
        if code not in looks.items:
            looks.items[code] = self.catalogue.current(code)
        item = looks.items[code]
        if item is None:
            if self.catalogue.pending_versions(code):
                raise ConflictError(f"catalogue item {code} is not confirmed on chain yet; retry once it is")
            raise ValidationError(
                "item", f"{code} is not in the catalogue (GET /v1/catalogue lists the items)"
            )
        if item.retired:
            raise ConflictError(
                f"catalogue item {code} is retired (version {item.version}): it takes no approvals"
            )
        given = fields.get("item_version")
        if given is not None and int(given) != item.version:
            raise ConflictError(
                f"catalogue item {code}: version {given} is not the version in force; the current version is "
                f"{item.version}"
            )
        if item.department != org.id:
            department = self.membership.get(item.department)
            raise ForbiddenError(
                f"{org.name} is not the department of catalogue item {code} ({item.name}); it is decided by "
                f"{department.name if department else f'organisation {item.department}'}"
            )
        if "stage" not in fields:  # a 受理: the item's department accepts any application of it
            return {**fields, "item_version": item.version}
        if int(fields["stage"]) != item.stage:
            raise ValidationError(
                "stage", f"catalogue item {code} ({item.name}) belongs to stage {item.stage}"
            )
        decision = int(fields["decision"])
        if not decision_allowed(decision, item.commitment):
            names = {v: k for k, v in DECISIONS.items()}
            raise ValidationError(
                "decision",
                f"{names.get(decision, decision)} is not allowed for catalogue item {code}, whose 承诺制 type is "
                f"{ITEM_COMMITMENT_NAMES.get(item.commitment, item.commitment)} (approved_on_commitment needs "
                f"credit, accepted_with_deficiencies needs deficiency)",
            )
        return {**fields, "item_version": item.version}

    async def write_catalogue(
        self, org: Organization, item: ItemVersion, idempotency_key: str | None = None
    ) -> tuple[Accepted, int]:
        """Writes ``item`` as the next version of its catalogue item (the version in force + 1).

        Answers with the version in force (``created`` False) when it says the same already;
        refuses while another version of the item is on its way to the chain.
        """
        if self.capacity is not None:
            self.capacity.check()
        self._check_role(org, Kind.CATALOGUE)
        pending = self.catalogue.pending_versions(item.code)
        if pending:
            raise ConflictError(
                f"version {max(pending)} of catalogue item {item.code} is not confirmed on chain yet; "
                "retry once it is"
            )
        current = self.catalogue.recorded(item.code)
        if current is not None and current.item.same_content(item):
            return Accepted(
                uid=current.uid,
                created=False,
                record=_catalogue_record(bytes.fromhex(current.uid[2:]), current.item),
            ), current.item.version
        if self.membership.get(item.department) is None:
            raise ValidationError(
                "department", f"organisation {item.department} is not a member of the consortium"
            )
        unknown = [key for key in item.depends_on if not self.catalogue.knows_key(key)]
        if unknown:
            raise ValidationError("depends_on", f"{len(unknown)} of the items named are not in the catalogue")
        version = 1 if current is None else current.item.version + 1
        new = dataclasses.replace(item, version=version)
        fields = new.payload_fields()
        key = (idempotency_key or "").encode() or hashlib.sha256(
            json.dumps(
                sorted(fields.items()), default=lambda v: v.hex() if isinstance(v, bytes) else str(v)
            ).encode()
        ).digest()
        uid = derive_uid(org.id, Kind.CATALOGUE, (b"k:" if idempotency_key else b"c:") + key)
        record = _catalogue_record(uid, new)
        if self._is_retry(org, record):
            return Accepted(uid="0x" + uid.hex(), created=False, record=record), version
        seal = self.sealer.seal(record, await self.seal_key(org))
        created = await self.outbox.accept(
            OutboxItem(record=record, seal=seal, org_id=org.id, node_sealed=True)
        )
        return Accepted(uid="0x" + uid.hex(), created=created, record=record), version

    def _is_retry(self, org: Organization, record: Record) -> bool:
        """Whether this organisation's outbox holds this very record already (not failed)."""
        return self.outbox.table.holds_own(org.id, record)

    def _check_role(self, org: Organization, kind: Kind) -> None:
        needed = REQUIRED_ROLE.get(kind)
        if org.suspended:
            raise ForbiddenError(f"organisation {org.name} is suspended")
        if needed is not None and not (set(org.roles) & needed):
            raise ForbiddenError(
                f"{org.name} ({', '.join(org.roles)}) may not issue {kind.name.lower()} records; "
                f"needs role {' or '.join(sorted(needed))}"
            )

    def _project_known(self, code: str, pid_hex: str, looks: _Lookups) -> bool:
        known = looks.known.get(code)
        if known is None:
            known = self.reader.project_id(code) is not None or self.outbox.table.registration_live(pid_hex)
            looks.known[code] = known
        return known

    def _project_closed(self, pid_hex: str, looks: _Lookups) -> bool:
        closed = looks.closed.get(pid_hex)
        if closed is None:
            closed = looks.closed[pid_hex] = self.reader.project_closed(pid_hex)
        return closed

    def _check_registrant(self, org: Organization, pid_hex: str, code: str) -> None:
        issuer = self.index.registrant(pid_hex)
        if issuer is None:
            raise ConflictError(f"project {code} is not confirmed on chain yet; grant after it is")
        if issuer != org.id:
            raise ForbiddenError(f"only the registering authority of {code} may grant access to it")

    def _check_ref(
        self, org: Organization, kind: Kind, ref: str, pid_hex: str, fields: dict[str, Any]
    ) -> None:
        target = self.reader.chain_row(ref)
        if target is None:
            if self.outbox.table.is_live(ref):
                raise ConflictError(f"record {ref} is not confirmed on chain yet; retry once it is")
            raise NotFoundError(f"record {ref} does not exist")
        if target["project"] != pid_hex:
            raise ConflictError(f"record {ref} belongs to another project")
        target_kind = Kind(int(target["kind"]))
        status = self.reader.status(ref, target_kind)
        pending = self.outbox.table.open_change_of(ref)
        if kind in TRANSITIONS:
            kinds, from_states, _ = TRANSITIONS[kind]
            if kind == Kind.REVOCATION and int(target["issuer"]) != org.id:
                raise ForbiddenError(f"only the issuer of {ref} may revoke it")
            if kind in (Kind.PAUSE, Kind.RESUME) and int(target["issuer"]) != org.id:
                raise ForbiddenError(f"only the department that accepted {ref} may pause or resume its clock")
            if target_kind not in kinds or status not in from_states:
                raise ConflictError(
                    f"cannot {kind.name.lower()} a {target_kind.name.lower()} record in status {status.name.lower()}"
                )
            if kind == Kind.REPAIR:
                self._check_repair_wait(ref, target)
            if kind in (Kind.OBJECTION_UPHELD, Kind.OBJECTION_REJECTED) and self._objector(ref) == org.id:
                raise ForbiddenError(
                    f"{org.name} objected to {ref}; another organisation decides the objection"
                )
        else:
            live = SUPERSEDABLE.get(kind)
            if live is None or target_kind != kind:
                raise ConflictError(
                    f"a {kind.name.lower()} record cannot supersede a {target_kind.name.lower()}"
                )
            if int(target["issuer"]) != org.id:
                raise ForbiddenError(f"only the issuer of {ref} may supersede it")
            if status != live:
                raise ConflictError(f"record {ref} is {status.name.lower()} and can no longer be superseded")
            if kind == Kind.EVENT:
                old = int(decode_payload(Kind.EVENT, bytes(target["payload"]))["severity"])
                if int(fields["severity"]) < old:
                    raise ConflictError(f"a correction may not lower the severity of event {ref}")
        if pending is not None:
            raise ConflictError(f"a change of record {ref} is already pending ({pending})")

    def _check_repair_wait(self, ref: str, target: Any) -> None:
        """信用修复 only after the minimum publication period, counted from the ORIGINAL event
        (a correction does not restart nor shorten it; the contract counts the same way)."""
        severity = int(decode_payload(Kind.EVENT, bytes(target["payload"]))["severity"])
        original = target
        while int(original["ref"], 16) != 0:
            earlier = self.reader.chain_row(original["ref"])
            if earlier is None or int(earlier["kind"]) != Kind.EVENT:
                break
            original = earlier
        recorded_at = self.index.block_timestamp(original["block_hash"]) or 0
        allowed = recorded_at + REPAIR_WAIT.get(severity, 0)
        if time.time() < allowed:
            raise ConflictError(
                f"信用修复 of {ref} is possible only after the minimum publication period "
                f"(from unix time {allowed})"
            )

    def _objector(self, event: str) -> int | None:
        """The organisation of the latest objection to ``event``."""
        return self.index.latest_issuer(event, Kind.OBJECTION)

    def _seal(
        self, org: Organization, record: Record, preseal: PreSeal | None, key: LocalAccount | None
    ) -> bytes:
        if preseal is not None:
            if len(preseal.seal) != 65:
                raise ValidationError("seal.signature", "must be 65 bytes (r, s, v)")
            # The contract (OpenZeppelin ECDSA) refuses the malleable high-s form; so do we.
            if int.from_bytes(preseal.seal[32:64], "big") > SECP256K1_HALF_N:
                raise ValidationError(
                    "seal.signature", "s must be in the lower half of the curve order (EIP-2)"
                )
            try:
                signer = self.sealer.signer(record, preseal.seal)
            except Exception as e:
                raise ValidationError("seal.signature", "not a valid secp256k1 signature") from e
            if not self.membership.active_seal_key(org.id, signer):
                raise ForbiddenError(f"the seal was made by {signer}, not an active seal key of {org.name}")
            if uid_org(record.uid) != org.id:  # the contract refuses it too (LedgerUidNotIssuers)
                raise ValidationError(
                    "seal.uid", f"a uid of {org.name} begins with its organisation id {org.id:#010x}"
                )
            return preseal.seal
        assert key is not None  # write() unlocks the organisation's key when no seal was sent
        return DEFERRED_SEAL if self.defer_seals else self.sealer.seal(record, key)

    async def seal_key(self, org: Organization) -> LocalAccount:
        """The organisation's seal key held by this node (unlocked off the event loop the first time)."""
        name = seal_key_name(org.id)
        key = self.keystore.cached(name)
        if key is None:
            if not self.keystore.exists(name):
                raise ForbiddenError(f"this node holds no seal key for {org.name}; send a pre-signed seal")
            key = await asyncio.to_thread(self.keystore.load, name)
        # The ledger refuses every record sealed with a revoked key (at once or deferred): refused
        # here, as a pre-sealed record of such a key is, instead of a 202 for a record that cannot land.
        if not self.membership.active_seal_key(org.id, key.address):
            raise ForbiddenError(
                f"the seal key {key.address} this node holds for {org.name} is not an active seal key"
                f" of {org.name}; send a pre-signed seal"
            )
        return key


def _catalogue_record(uid: bytes, item: ItemVersion) -> Record:
    """The CATALOGUE record of an item version (no project, no ref; its digest binds the 服务指南)."""
    digest = bytes.fromhex(item.guide[2:]) if item.guide else ZERO32
    return Record(
        uid, Kind.CATALOGUE, ZERO32, ZERO32, digest, encode_payload(Kind.CATALOGUE, item.payload_fields())
    )


def _accepted(parts: list[_Prepared], created: list[bool]) -> Accepted:
    """The answer to one write: its record, and an approval's commitment attached."""
    out = [
        Accepted(uid="0x" + p.record.uid.hex(), created=c, record=p.record)
        for p, c in zip(parts, created, strict=True)
    ]
    return dataclasses.replace(out[0], attached=out[1]) if len(out) > 1 else out[0]


def status_name(status: Status) -> str:
    """API name of a status."""
    return status.name.lower()
