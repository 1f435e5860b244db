"""Python's cyclic garbage collector, set for a long-running node process.

A node process keeps a large heap that lives as long as the process: the modules, the catalogue,
the read models and the caches (``present_fields``' payloads, the records supervision keeps). With
CPython's default thresholds (700, 10, 10) a gateway worker under load made a full collection
every second or two, each walking that whole heap for 100–280 ms and freeing nothing (measured with
``gc.callbacks`` during single-record writes at 1,024 clients on a 50,000-record ledger): every
request waiting for its block was old enough to be promoted, so the old generation kept growing by
a quarter, and each pause held up every request of the process (docs/benchmark.md, "The garbage
collector").

``settle`` is called once the process has started: what exists then is moved out of the
collector's sight (``gc.freeze``: it is held for the life of the process; a frozen object that
later became part of an unreachable cycle would not be collected, which start-up objects are not
expected to do), and the youngest generation is collected every ``YOUNG`` allocations instead of 700, so a
request's objects are usually freed by reference counting before a collection promotes them.
Cycles are still collected, only less often; the memory a cycle holds meanwhile is bounded by
``YOUNG`` container allocations.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # container allocations between two collections of the youngest generation (default 700)
OLDER = 20  # collections of a generation between two of the next one (default 10)


def settle() -> None:
    """Freezes the objects of the started process and sets the thresholds (see the module)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
