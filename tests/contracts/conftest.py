"""Contract tests: one automining anvil per session, a snapshot reverted after every test.

The session deployment holds 2-of-3 admins, six organisations (two approval authorities,
two supervisors, a bank, the catalogue role ``cat``), the catalogue items of
``payloads.WORLD_ITEMS`` and two projects registered by ``auth``; a test changes that world
freely, ``h`` puts it back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node_api.config import Settings
from node_api.domain.records import project_id
from tests.contracts.harness import Anvil, Harness
from tests.contracts.payloads import WORLD_ITEMS, catalogue_record, project_record

PROJECT_CODE = "2026-620825-44-01-000001"
OTHER_PROJECT_CODE = "2026-620825-48-01-000002"
P = project_id(PROJECT_CODE)
Q = project_id(OTHER_PROJECT_CODE)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The deployed contracts with their members and projects (do not change state through it)."""
    tmp = tmp_path_factory.mktemp("contracts")
    settings = Settings(data_dir=tmp, chain_id=620825)
    anvil = Anvil(settings, log_dir=tmp)
    harness: Harness | None = None
    try:
        harness = Harness(anvil, settings)
        harness.admit("auth", "116208250139204126", ["approval_authority"], relayer=True)
        harness.admit("auth2", "11620825013920455K", ["approval_authority"])
        harness.admit("sup", "11620825013920471A", ["supervisor"])
        harness.admit("bank", "91620825MA72XXXX1B", ["financial_institution"])
        harness.admit("sup2", "11620825013920498X", ["supervisor"])
        harness.admit("cat", "11620825013920519H", ["catalogue"])
        items = [
            catalogue_record(
                harness, code, stage=stage, commitment=commitment, department=harness.orgs[org].id
            )
            for code, stage, org, commitment in WORLD_ITEMS
        ]
        harness.transact(harness.relayer, harness.batch_call(items, [harness.seal(r, "cat") for r in items]))
        harness.submit(project_record(harness, PROJECT_CODE), "auth")
        harness.submit(project_record(harness, OTHER_PROJECT_CODE), "auth")
        yield harness
    finally:
        if harness is not None:
            harness.close()
        anvil.stop()


@pytest.fixture
def h(world: Harness) -> Iterator[Harness]:
    """The session world, restored to its initial state after the test."""
    snapshot = world.snapshot()
    yield world
    world.revert_to(snapshot)
