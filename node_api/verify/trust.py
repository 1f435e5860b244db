"""What a bundle's producer must not choose: which contracts are the consortium's, and when the bundle ends.

**The pin.** A bundle names its own Consortium and ProjectLedger. Anyone can deploy a
look-alike pair on the same chain, admit members under the real organisations' names and
fill it with invented records; a bundle naming it is internally perfect. So the verifier
takes the real deployment from its own source — the node's deployment file
(``--deployment``) or the ledger's address (``--ledger``, optionally ``--consortium``) — and
checks everything against that. Without a pin the result is UNPINNED: a failure.

**Staleness.** The producer also chooses ``as_of_block``. The verifier reads the ledger's
``RecordAdded`` logs of the project from there up to the chain head and names every
later record: a bundle that stops before an inconvenient event is STALE, not VERIFIED.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address

from node_api.domain.records import SEVERITIES, Kind
from node_api.errors import ValidationError
from node_api.verify import record_added
from node_api.verify.bundle import _ADDRESS, _HEX32

if TYPE_CHECKING:
    from node_api.verify.chain_reader import ChainReader

PIN_FLAGS = "--deployment path/to/deployment.json (the consortium's deployment file) or --ledger 0x… [--consortium 0x…]"


# -- the pin -------------------------------------------------------------------------
@dataclass(frozen=True)
class Pin:
    """The deployment the verifier trusts, from its own source (never from the bundle)."""

    ledger: str
    consortium: str | None = None
    chain_id: int | None = None
    genesis_hash: str | None = None
    source: str = ""

    def describe(self) -> str:
        """Where the pin came from, for the report."""
        return self.source or f"ledger {self.ledger}"


def _address(value: Any, flag: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ValidationError(flag, f"{value!r} is not a 0x-address of 40 hex digits")
    return to_checksum_address(value)


def load_pin(deployment: str | None, ledger: str | None, consortium: str | None) -> Pin | None:
    """The pin the verifier was given; None if none. ValidationError names an unusable flag."""
    if deployment is not None and (ledger is not None or consortium is not None):
        raise ValidationError(
            "--deployment", "pins the contracts already: give --ledger/--consortium or it, not both"
        )
    if consortium is not None and ledger is None:
        raise ValidationError(
            "--consortium", "needs --ledger (the consortium alone does not say which ledger)"
        )
    if ledger is not None:
        return Pin(_address(ledger, "--ledger"), _address(consortium, "--consortium") if consortium else None)
    if deployment is None:
        return None
    try:
        d = json.loads(Path(deployment).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValidationError("--deployment", f"cannot read {deployment}: {e.strerror}") from e
    except ValueError as e:
        raise ValidationError("--deployment", f"{deployment} is not JSON: {e}") from e
    if not isinstance(d, dict):
        raise ValidationError("--deployment", f"{deployment} is not a deployment file")
    chain_id, genesis = d.get("chain_id"), d.get("genesis_hash")
    if not isinstance(chain_id, int) or not (isinstance(genesis, str) and _HEX32.match(genesis)):
        raise ValidationError(
            "--deployment", f"{deployment} needs chain_id and genesis_hash (a node's deployment.json)"
        )
    return Pin(
        ledger=_address(d.get("ledger"), "--deployment ledger"),
        consortium=_address(d.get("consortium"), "--deployment consortium"),
        chain_id=chain_id,
        genesis_hash=genesis.lower(),
        source=f"the deployment file {deployment}",
    )


async def pinned_contracts(
    chain: ChainReader, bundle: dict[str, Any], pin: Pin | None
) -> tuple[dict[str, str], list[str]]:
    """(the contracts to check against, bundle-level problems): the pinned ones, if pinned.

    The ledger is the pinned one; the consortium is the one that ledger's ``consortium()``
    names (which must be the pinned consortium, if one is pinned). The bundle must name both.
    """
    named = bundle["contracts"]
    if pin is None:
        return dict(named), []
    problems: list[str] = []
    if pin.chain_id is not None and pin.chain_id != bundle["chain_id"]:
        problems.append(
            f"the bundle is for chain {bundle['chain_id']}, the pinned deployment for chain {pin.chain_id}"
        )
    if pin.genesis_hash is not None:
        genesis = await chain.rpc.block(0)
        actual = str(genesis.get("hash", "")).lower() if isinstance(genesis, dict) else None
        if actual != pin.genesis_hash:
            problems.append(
                f"the RPC endpoint's genesis block is {actual}, not the pinned deployment's {pin.genesis_hash}: "
                "another chain"
            )
    (answer,) = await chain.views(pin.ledger, "consortium()", ["0x"])
    governor = to_checksum_address(answer[12:32]) if answer is not None and len(answer) == 32 else None
    if governor is None:
        problems.append(
            f"the pinned ledger {pin.ledger} does not answer consortium(): no projchain ledger there"
        )
    elif pin.consortium is not None and governor != pin.consortium:
        problems.append(
            f"the ledger {pin.ledger} is governed by the consortium {governor}, not the pinned {pin.consortium}"
        )
    consortium = governor or pin.consortium or named["consortium"]
    if named["ledger"].lower() != pin.ledger.lower():
        problems.append(f"the bundle names ledger {named['ledger']}, not the pinned {pin.ledger}")
    if named["consortium"].lower() != consortium.lower():
        problems.append(f"the bundle names consortium {named['consortium']}, not the pinned {consortium}")
    return {"ledger": pin.ledger, "consortium": consortium}, problems


# -- staleness -----------------------------------------------------------------------
@dataclass(frozen=True)
class LaterRecord:
    """A record of the project that the chain accepted after the bundle's ``as_of_block``."""

    uid: str
    kind: str
    block: int
    tx_hash: str
    severity: str | None = None  # of an event

    def describe(self) -> str:
        """``event 0x… (serious, block 130)``."""
        return f"{self.kind} {self.uid} ({self.severity + ', ' if self.severity else ''}block {self.block})"

    @property
    def weight(self) -> int:
        """How much it matters to a reader of the bundle: serious events and revocations first."""
        if self.kind == "event":
            return {"serious": 0, "general": 2}.get(self.severity or "", 4)
        return {"revocation": 1, "breach": 1, "objection_upheld": 3, "objection": 3}.get(self.kind, 5)


def verdict_of(
    failed: bool, pin: Pin | None, later: list[LaterRecord], names: tuple[str, str, str, str]
) -> str:
    """A check's verdict, ``names`` = (failed, unpinned, stale, good): failed if anything failed; else
    unpinned without a pin; else stale when the chain holds later records of the project; else good."""
    if failed:
        return names[0]
    if pin is None:
        return names[1]
    return names[2] if later else names[3]


_ENTRY = "(uint8,uint8,uint8,uint32,uint32,uint40,uint32,uint40)"  # ProjectLedger.entry(uid)
_NAMED = 10  # later records named in the one-line summary; all are listed below it


async def later_records(
    chain: ChainReader, ledger: str, project_id: str, as_of: int, head: int
) -> list[LaterRecord]:
    """Every RecordAdded of the project on ``ledger`` in (as_of, head], with its kind (and severity)."""
    if head <= as_of:
        return []
    logs = await chain.logs(ledger, [record_added.topics(), None, project_id], as_of + 1, head)
    found = [(lg, record_added.decode(lg)) for lg in logs]
    added = [(lg, d) for lg, d in found if d is not None]
    entries = await chain.views(ledger, "entry(bytes32)", ["0x" + d.uid.hex() for _, d in added])
    severities = {v: k for k, v in SEVERITIES.items()}
    out: list[LaterRecord] = []
    for (lg, d), entry in zip(added, entries, strict=True):
        kind, level = _kind_and_level(entry)
        out.append(
            LaterRecord(
                uid="0x" + d.uid.hex(),
                kind=kind,
                block=int(lg["blockNumber"], 16),
                tx_hash=str(lg.get("transactionHash")),
                severity=severities.get(level, f"severity {level}") if kind == "event" else None,
            )
        )
    return out


def _kind_and_level(entry: bytes | None) -> tuple[str, int]:
    if entry is None or len(entry) < 32 * 8:
        return "record", 0
    (kind, _, level, *_) = abi_decode([_ENTRY], entry)[0]
    try:
        return Kind(kind).name.lower(), int(level)
    except ValueError:
        return f"record of kind {kind}", int(level)


def stale_line(later: list[LaterRecord], as_of: int, what: str = "bundle") -> str:
    """``the bundle is stale: N records since block B, including <kind> <uid> (…), …``."""
    ranked = sorted(later, key=lambda r: (r.weight, r.block))
    named = ", ".join(r.describe() for r in ranked[:_NAMED])
    more = f" and {len(later) - _NAMED} more" if len(later) > _NAMED else ""
    noun = "record" if len(later) == 1 else "records"
    return f"the {what} is stale: {len(later)} {noun} since block {as_of}, including {named}{more}"
