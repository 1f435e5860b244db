"""The catalogue (事项库): items an approval must name, their versions, and the rules the ledger applies.

A catalogue item version is a CATALOGUE record (``records.PAYLOAD_SCHEMAS[Kind.CATALOGUE]``);
the ledger keeps the version in force of each item (keyed by ``item_key(code)``) and refuses
an approval that the item does not allow. The same rules are written here once, for the
gateway's checks before sealing (docs/catalogue.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node_api.domain.hashing import keccak256
from node_api.domain.records import (
    CATALOGUE_LISTS,
    COMMITMENT_TYPES,
    DECISIONS,
    ITEM_COMMITMENTS,
    key_text,
)

MAX_CODE_BYTES = 64  # the contract's MAX_ITEM_CODE_BYTES
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_CODE = re.compile(CODE_PATTERN)

LIST_NAMES = {v: k for k, v in CATALOGUE_LISTS.items()}
ITEM_COMMITMENT_NAMES = {v: k for k, v in ITEM_COMMITMENTS.items()}

# Decisions that need the item's 承诺制 type, and the type of the commitment bound to them.
DECISION_NEEDS = {
    DECISIONS["approved_on_commitment"]: ITEM_COMMITMENTS["credit"],  # 信用承诺制: approved on the promise
    DECISIONS["accepted_with_deficiencies"]: ITEM_COMMITMENTS["deficiency"],  # 容缺受理
}
BOUND_COMMITMENT_TYPE = {
    DECISIONS["approved_on_commitment"]: COMMITMENT_TYPES["approval_substitute"],
    DECISIONS["accepted_with_deficiencies"]: COMMITMENT_TYPES["deficiency_acceptance"],
}


def item_key(code: str) -> bytes:
    """The ledger's key of an item: keccak256 of its code (also what ``depends_on`` holds)."""
    return keccak256(code.encode())


def item_code(fields: Mapping[str, Any]) -> str | None:
    """The code of the item a decoded approval or acceptance names, None when its ``item`` read with
    U+FFFD: those bytes on chain are not the text shown, and a valid code holding a real U+FFFD is
    another item (docs/records.md, "A replaced text is shown, never used as a key")."""
    return key_text(fields, "item")


def item_ref(fields: Mapping[str, Any]) -> str | None:
    """The 0x-hex ledger key (``item_key``) of the item a decoded approval or acceptance names, None
    when its code is not a text (``item_code``)."""
    code = item_code(fields)
    return None if code is None else "0x" + item_key(code).hex()


def valid_code(code: str) -> bool:
    """Whether ``code`` can name an item: 1-64 ASCII letters, digits, '.', '_' or '-', not starting with one of those three."""
    return bool(_CODE.match(code))


def decision_allowed(decision: int, commitment: int) -> bool:
    """Whether an item of 承诺制 type ``commitment`` allows ``decision`` (the contract's rule)."""
    needed = DECISION_NEEDS.get(decision)
    return needed is None or needed == commitment


@dataclass(frozen=True)
class ItemVersion:
    """One version of a catalogue item, as a CATALOGUE record's payload holds it."""

    code: str
    version: int
    name: str
    stage: int
    list: int
    department: int
    time_limit_days: int
    on_the_spot: bool
    commitment: int
    retired: bool
    depends_on: tuple[str, ...]  # 0x-hex keccak256 of the prerequisite codes
    guide: str | None  # 0x-hex SHA-256, None for none

    @classmethod
    def from_fields(cls, f: dict[str, Any]) -> ItemVersion:
        """From a decoded CATALOGUE payload (``records.decode_payload``)."""
        guide = str(f["guide"])
        return cls(
            code=str(f["code"]),
            version=int(f["version"]),
            name=str(f["name"]),
            stage=int(f["stage"]),
            list=int(f["list"]),
            department=int(f["department"]),
            time_limit_days=int(f["time_limit_days"]),
            on_the_spot=bool(f["on_the_spot"]),
            commitment=int(f["commitment"]),
            retired=bool(f["retired"]),
            depends_on=tuple(str(d) for d in f["depends_on"]),
            guide=None if int(guide, 16) == 0 else guide,
        )

    def payload_fields(self) -> dict[str, Any]:
        """The CATALOGUE payload fields of this version (``records.encode_payload``)."""
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "stage": self.stage,
            "list": self.list,
            "department": self.department,
            "time_limit_days": self.time_limit_days,
            "on_the_spot": int(self.on_the_spot),
            "commitment": self.commitment,
            "retired": int(self.retired),
            "depends_on": [bytes.fromhex(d[2:]) for d in self.depends_on],
            "guide": bytes.fromhex(self.guide[2:]) if self.guide else b"\x00" * 32,
        }

    def same_content(self, other: ItemVersion) -> bool:
        """Whether two versions say the same thing (everything but the version number)."""
        return {**self.payload_fields(), "version": 0} == {**other.payload_fields(), "version": 0}
