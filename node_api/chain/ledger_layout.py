"""Where the ledger keeps what a record's checks read, for an EIP-2930 access list.

``ProjectLedger`` inherits OpenZeppelin's ``EIP712``, whose two fallback strings take storage
slots 0 and 1; then come ``_entries`` (slot 2: a record's entry by uid) and ``_projects``
(slot 3: a project's number, registrant and closure by id). A mapping's value for ``key`` lies
at keccak256(key ‖ slot). Every record reads its own entry (the duplicate check); a record
naming a project reads the project's, one naming a ref reads that record's entry. The first
read of a slot in a transaction costs 2,100 gas, a later one 100; a slot named in the
transaction's access list costs 1,900 up front and 100 at every read, and the list's address
2,400 once. So the list pays when it names more than 24 slots, each read once at least.
tests/contracts/test_access_list.py compares these slots with the chain's storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from node_api.domain.hashing import keccak256
from node_api.domain.records import ZERO32, Record

ENTRIES_SLOT = 2
PROJECTS_SLOT = 3
SLOT_GAS_SAVED = 100  # 2,100 cold read - (1,900 listed + 100 warm read)
ADDRESS_GAS = 2_400  # a listed address


def entry_slot(uid: bytes) -> bytes:
    """The storage key of the entry of record ``uid``."""
    return keccak256(uid + ENTRIES_SLOT.to_bytes(32, "big"))


def project_slot(project_id: bytes) -> bytes:
    """The storage key of project ``project_id``'s number, registrant and closure."""
    return keccak256(project_id + PROJECTS_SLOT.to_bytes(32, "big"))


def access_list(ledger: str, records: Sequence[Record]) -> list[tuple[bytes, list[bytes]]] | None:
    """The access list naming the ledger slots ``records`` read (each once), or None when it would
    not save gas (too few slots to pay for the address)."""
    slots: dict[bytes, None] = {}
    for r in records:
        slots[entry_slot(r.uid)] = None
        if r.project != ZERO32:
            slots[project_slot(r.project)] = None
        if r.ref != ZERO32:
            slots[entry_slot(r.ref)] = None
    if len(slots) * SLOT_GAS_SAVED <= ADDRESS_GAS:
        return None
    return [(bytes.fromhex(ledger.removeprefix("0x")), list(slots))]
