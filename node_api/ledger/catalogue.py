"""The catalogue (事项库) as the chain holds it: every version of every item, and the one in force.

Read from the canonical CATALOGUE records of the index (``store.catalogue``), decoded once
and kept until the index changes (one cheap query tells). The contract keeps only the
version in force; every earlier version stays a record of its own, so an approval that
named version 1 still shows which item version it was decided under after version 2.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from node_api.domain.catalogue import ITEM_COMMITMENT_NAMES, LIST_NAMES, ItemVersion, item_code, item_key
from node_api.domain.records import STAGES, ZERO32, Kind, PayloadError, decode_payload, key_text
from node_api.ledger.membership import Membership
from node_api.store.catalogue import CatalogueTable
from node_api.store.outbox import OutboxTable

MAX_PAGE = 200
_NO_PROJECT = "0x" + ZERO32.hex()


@dataclass(frozen=True)
class Recorded:
    """A catalogue item version and the record that put it on chain."""

    item: ItemVersion
    uid: str
    issuer: int
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Page:
    """One page of a catalogue listing, and the cursor of the next (None: the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class Catalogue:
    """The catalogue read model: look-ups for the writer's checks, listings and item histories for the API."""

    def __init__(self, table: CatalogueTable, outbox: OutboxTable, membership: Membership) -> None:
        self.table = table
        self.outbox = outbox
        self.membership = membership
        self._seen: tuple[int, int] | None = None
        self._stamp: tuple[int, int] | None = None  # the database's change stamp when last looked
        self._versions: dict[str, list[Recorded]] = {}
        self._by_version: dict[tuple[str, int], ItemVersion] = {}  # supervision asks it per approval
        self._codes: dict[str, str] = {}  # 0x-hex item key -> code
        self._holds = 0  # ``held`` blocks open: look-ups answer from what was read at the first

    @contextmanager
    def held(self) -> Iterator[None]:
        """Looks at the database once, then answers every look-up from what it read until the block
        ends: for a caller that asks many in one go on the event loop (supervision asks for the item of
        every approval of a project, and each look-up would otherwise ask the database whether it
        changed)."""
        self._refresh()
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1

    def _refresh(self) -> None:
        if self._holds:
            return
        # Taken first: a change after it makes the next look read the version again.
        changes = self.table.stamp()
        if changes != self._stamp:  # else nothing in the database changed since the last look
            self._reload()
            self._stamp = changes  # only once reloaded: a failed reload is tried again

    def _reload(self) -> None:
        stamp = self.table.version()
        if stamp == self._seen:
            return
        versions: dict[str, list[Recorded]] = {}
        for row in self.table.records():
            try:
                fields = decode_payload(Kind.CATALOGUE, bytes(row["payload"]))
                item = ItemVersion.from_fields(fields)
            except (PayloadError, ValueError):  # the contract accepts only canonical payloads
                continue
            if key_text(fields, "code") is None:  # read with U+FFFD: not the code its ledger key hashes
                continue
            versions.setdefault(item.code, []).append(
                Recorded(
                    item, str(row["uid"]), int(row["issuer"]), int(row["block_number"]), str(row["tx_hash"])
                )
            )
        self._versions = versions
        self._by_version = {}
        for code, recorded in versions.items():
            for r in recorded:
                self._by_version.setdefault((code, r.item.version), r.item)  # the first, as before
        self._codes = {"0x" + item_key(code).hex(): code for code in versions}
        self._seen = stamp

    # -- look-ups ----------------------------------------------------------------------------
    def current(self, code: str) -> ItemVersion | None:
        """The version in force of an item (confirmed on chain), None when the catalogue lacks it."""
        recorded = self.recorded(code)
        return None if recorded is None else recorded.item

    def recorded(self, code: str) -> Recorded | None:
        """The version in force of an item, with its record."""
        self._refresh()
        versions = self._versions.get(code)
        return versions[-1] if versions else None

    def history(self, code: str) -> list[Recorded]:
        """Every version of an item, oldest first."""
        self._refresh()
        return list(self._versions.get(code, []))

    def version(self, code: str, version: int) -> ItemVersion | None:
        """Version ``version`` of an item (what an approval naming it was decided under)."""
        self._refresh()
        return self._by_version.get((code, version))

    def item_of(self, fields: Mapping[str, Any]) -> ItemVersion | None:
        """The item version a decoded approval or acceptance was decided under (its ``item`` at
        ``item_version``); None when the catalogue lacks it, or when its code on chain is not a text
        (``item_code``: read with U+FFFD, it would name another item, whose code holds a real U+FFFD)."""
        code = item_code(fields)
        return None if code is None else self.version(code, int(fields["item_version"]))

    def in_force(self) -> list[ItemVersion]:
        """The version in force of every item (retired ones too), by code."""
        self._refresh()
        return [self._versions[code][-1].item for code in sorted(self._versions)]

    def code_of(self, key: str) -> str | None:
        """The code of the item of ledger key ``key`` (0x-hex keccak256 of its code), if in the catalogue."""
        self._refresh()
        return self._codes.get(key)

    def pending_versions(self, code: str) -> list[int]:
        """Versions of an item this node accepted and has not seen on chain yet."""
        out = []
        for row in self.outbox.open_rows(_NO_PROJECT):
            if int(row["kind"]) != Kind.CATALOGUE:
                continue
            try:
                fields = decode_payload(Kind.CATALOGUE, bytes(row["payload"]))
            except PayloadError:
                continue
            if fields["code"] == code:
                out.append(int(fields["version"]))
        return out

    def code_of_key(self, key: str) -> str | None:
        """The code of the confirmed item of ledger key ``key`` (0x-hex keccak256 of its code)."""
        self._refresh()
        return self._codes.get(key)

    def knows_key(self, key: str) -> bool:
        """Whether the item of ledger key ``key`` (0x-hex keccak256 of its code) is in the catalogue,
        or on its way there from this node."""
        self._refresh()
        if key in self._codes:
            return True
        return any("0x" + item_key(code).hex() == key for code in self._pending_codes())

    def _pending_codes(self) -> set[str]:
        codes = set()
        for row in self.outbox.open_rows(_NO_PROJECT):
            if int(row["kind"]) == Kind.CATALOGUE:
                try:
                    codes.add(str(decode_payload(Kind.CATALOGUE, bytes(row["payload"]))["code"]))
                except PayloadError:
                    continue
        return codes

    # -- API views ---------------------------------------------------------------------------
    def search(
        self,
        stage: int | None = None,
        list_name: str | None = None,
        department: int | None = None,
        q: str | None = None,
        include_retired: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """Items in force, by code, filtered; ``cursor`` is the ``next_cursor`` of the page before."""
        self._refresh()
        needle = (q or "").strip().lower()
        out: list[Recorded] = []
        for code in sorted(self._versions):
            if cursor is not None and code <= cursor:
                continue
            r = self._versions[code][-1]
            it = r.item
            if (
                (it.retired and not include_retired)
                or (stage is not None and it.stage != stage)
                or (list_name is not None and LIST_NAMES.get(it.list) != list_name)
                or (department is not None and it.department != department)
                or (needle and needle not in it.name.lower() and needle not in it.code.lower())
            ):
                continue
            out.append(r)
            if len(out) > limit:
                break
        more = len(out) > limit
        page = out[:limit]
        return Page([self.view(r) for r in page], page[-1].item.code if more and page else None)

    def detail(self, code: str) -> dict[str, Any] | None:
        """An item: its version in force and every version with the record that wrote it."""
        history = self.history(code)
        if not history:
            return None
        return {
            "code": code,
            "current": self.view(history[-1]),
            "versions": [self.view(r) for r in reversed(history)],
            "pending_versions": self.pending_versions(code),
        }

    def view(self, r: Recorded) -> dict[str, Any]:
        """One item version in its API form."""
        it = r.item
        department = self.membership.get(it.department)
        return {
            "code": it.code,
            "version": it.version,
            "name": it.name,
            "stage": it.stage,
            "stage_name": STAGES.get(it.stage, ""),
            "list": LIST_NAMES.get(it.list, str(it.list)),
            "department": {"id": it.department, "name": department.name if department else None},
            "time_limit_days": it.time_limit_days,
            "on_the_spot": it.on_the_spot,
            "commitment": ITEM_COMMITMENT_NAMES.get(it.commitment, str(it.commitment)),
            "retired": it.retired,
            "depends_on": [self._codes.get(key, key) for key in it.depends_on],
            "guide_digest": it.guide,
            "record": {
                "uid": r.uid,
                "issuer": r.issuer,
                "block_number": r.block_number,
                "tx_hash": r.tx_hash,
            },
        }
