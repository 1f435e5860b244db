"""The submitter seals deferred rows with keys it unlocks when it sends them; a key it cannot
unlock fails that organisation's rows with the reason, once, instead of stalling the queue
(review of the deferred seals: a ``load`` that raised escaped ``_send`` and the submitter resynced
onto the same rows forever). Real SQLite outbox."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_api.chain.pipeline import DEFERRED_SEAL, GroupSealing, Outbox, Submitter
from node_api.chain.seal import Sealer
from node_api.config import Settings
from node_api.domain.records import Kind, Record
from node_api.errors import ConfigurationError
from node_api.store.database import Database
from node_api.store.outbox import OutboxTable
from tests.unit.test_contracts_codec import CONTRACTS, DEPLOYMENT


def _outbox(tmp_path: Path, orgs: list[int]) -> Outbox:
    outbox = Outbox(Database(tmp_path / "node.sqlite3"))
    with outbox.db.transaction() as conn:
        for org in orgs:
            uid = org.to_bytes(4, "big") + os.urandom(28)
            record = Record(uid, Kind.APPROVAL, os.urandom(32), b"\0" * 32, os.urandom(32), os.urandom(96))
            OutboxTable.insert(conn, "0x" + uid.hex(), org, record, DEFERRED_SEAL, time.time(), True)
    return outbox


def test_a_key_that_cannot_be_unlocked_fails_its_rows_and_only_them(tmp_path: Path) -> None:
    held = Account.create()

    def load(org: int) -> LocalAccount | None:
        if org == 9:
            raise ConfigurationError("cannot unlock key 'seal-org-9': wrong keystore password")
        return held if org == 7 else None

    outbox = _outbox(tmp_path, [7, 9, 3, 7])
    sealing = GroupSealing(Sealer(DEPLOYMENT.chain_id, DEPLOYMENT.ledger), lambda org: None, load)
    submitter = Submitter(
        cast(Any, None), CONTRACTS, Account.create(), Settings(), outbox, cast(Any, None), sealing
    )
    rows = outbox.table.next_accepted(10)
    kept = asyncio.run(submitter._with_deferred_keys(rows))
    assert [int(r["org_id"]) for r in kept] == [7, 7]
    failed = outbox.db.all("SELECT org_id, error FROM outbox WHERE state = 'failed' ORDER BY org_id")
    assert [(int(r["org_id"]), str(r["error"])) for r in failed] == [
        (3, "seal refused: this node holds no seal key of organisation 3 to seal it"),
        (9, "seal refused: the seal key of organisation 9 cannot be unlocked: "
            "cannot unlock key 'seal-org-9': wrong keystore password"),
    ]  # fmt: skip
    assert [int(r["org_id"]) for r in outbox.table.next_accepted(10)] == [7, 7]
