"""``Catalogue.held``: one look at the database for a run of look-ups (supervision asks for the item of
every approval of a project); a change made after the block is seen by the next look-up."""

from __future__ import annotations

from typing import cast

from node_api.ledger.catalogue import Catalogue
from node_api.ledger.membership import Membership
from node_api.store.catalogue import CatalogueTable
from node_api.store.outbox import OutboxTable


class _Table:
    """The catalogue's table as far as its change stamp: counts the looks, no catalogue rows."""

    def __init__(self) -> None:
        self.looks = 0
        self.changes = (1, 0)

    def stamp(self) -> tuple[int, int]:
        self.looks += 1
        return self.changes

    def version(self) -> tuple[int, int]:
        return self.changes

    def records(self) -> list[object]:
        return []


def _catalogue(table: _Table) -> Catalogue:
    return Catalogue(cast(CatalogueTable, table), cast(OutboxTable, None), cast(Membership, None))


def test_a_held_catalogue_looks_once_and_looks_again_after() -> None:
    table = _Table()
    catalogue = _catalogue(table)
    catalogue.version("X", 1)
    assert table.looks == 1, "without a hold every look-up asks whether the database changed"
    with catalogue.held():
        for _ in range(5):
            assert catalogue.version("X", 1) is None
        with catalogue.held():  # nested: still the one look
            catalogue.item_of({"item": "X", "item_version": 1})
    assert table.looks == 2
    table.changes = (2, 0)
    catalogue.version("X", 1)
    assert table.looks == 3, "after the block a look-up asks again"


def test_a_hold_ends_when_its_block_raises() -> None:
    table = _Table()
    catalogue = _catalogue(table)
    try:
        with catalogue.held():
            raise ValueError("an assessment failed")
    except ValueError:
        pass
    catalogue.version("X", 1)
    catalogue.version("X", 1)
    assert table.looks == 3
