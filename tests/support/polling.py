"""Waiting on a condition instead of for a time: a poll loop with a deadline that names what failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Polls ``condition`` until it returns a true value, and returns that value.

    Fails with ``what`` (the condition, said as what should have happened) once ``timeout``
    seconds have passed without it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)
