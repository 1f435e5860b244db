"""``collector.settle``: the started process's objects frozen out of the collector's sight, and the
thresholds raised, in a child interpreter (freezing changes the interpreter for good)."""

from __future__ import annotations

import json
import subprocess
import sys

from node_api import collector

PROBE = """
import gc, json
from node_api import collector
held = [[i] for i in range(10_000)]  # a started process's long-lived heap
before = gc.get_freeze_count()
collector.settle()
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(),
                  "tracked": sum(1 for o in gc.get_objects() if o is held[0])}))
"""


def test_settle_freezes_what_the_process_holds_and_raises_the_thresholds() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    seen = json.loads(out)
    assert seen["before"] == 0
    assert seen["frozen"] >= 10_000  # the heap held at start is out of the collector's sight
    assert seen["tracked"] == 0  # ... so no collection walks it
    assert tuple(seen["threshold"]) == (collector.YOUNG, collector.OLDER, collector.OLDER)
    assert collector.YOUNG > 700  # above CPython's default, or settle changes nothing
