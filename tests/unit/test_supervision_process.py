"""Exactly one process of a node assesses the warnings, in every gateway layout (node.runs_supervision)."""

from __future__ import annotations

import pytest

from node_api.config import Settings
from node_api.node import runs_supervision


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
@pytest.mark.parametrize("primary_serves", [False, True])
def test_one_process_assesses_and_with_workers_it_is_worker_1(workers: int, primary_serves: bool) -> None:
    settings = Settings(workers=workers, primary_serves=primary_serves)
    # The gateway workers `projchain run` starts (node_api/cli.py): N - 1 beside a serving primary, else N.
    public = workers == 1 or primary_serves
    started = range(1, (workers - 1 if public else workers) + 1) if workers > 1 else range(0)
    assessing = ["primary"] if runs_supervision(settings, "primary") else []
    assessing += [
        f"worker-{i}"
        for i in started
        if runs_supervision(settings.model_copy(update={"worker_index": i}), "worker")
    ]
    assert assessing == (["primary"] if workers == 1 else ["worker-1"])
