"""Processes on this machine, read from Linux ``/proc``: who runs, who started whom, what they use.

The one place that scans ``/proc``: the node finds its gateway workers and an adopted
chain, the benchmark splits the machine's CPU, the tests find the processes they
crash. It imports nothing of the node, so every layer may use it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger("projchain.processes")

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 on); None if it is gone."""
    try:
        return (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def command_lines() -> Iterator[tuple[int, list[str]]]:
    """(pid, command line) of every process whose command line can be read (kernel threads have none)."""
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if raw:
            yield int(entry.name), raw.rstrip(b"\0").decode(errors="surrogateescape").split("\0")


def matching(match: Callable[[list[str]], bool]) -> list[int]:
    """The pids whose command line satisfies ``match``."""
    return [pid for pid, argv in command_lines() if match(argv)]


def children(parent: int) -> list[tuple[int, list[str]]]:
    """(pid, command line) of the processes whose parent is ``parent``."""
    out: list[tuple[int, list[str]]] = []
    for pid, argv in command_lines():
        fields = _stat_fields(pid)
        if fields is not None and int(fields[1]) == parent:
            out.append((pid, argv))
    return out


def option(argv: list[str], flag: str) -> str | None:
    """The value after ``flag`` in a command line (None if the flag is absent or last)."""
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process used so far; 0 if it is gone."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS if fields else 0.0


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process in MB (None if unknown)."""
    if not pid:
        return None
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def busy_seconds() -> float:
    """CPU seconds all cores of the machine spent busy since boot."""
    values = [int(v) for v in (_PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICKS


def die_with_parent(parent: int) -> None:
    """Asks Linux to SIGKILL this process when its parent exits; exits at once if it already has.

    SIGKILL, not SIGTERM: a process whose parent is gone must stop at once (a gateway
    worker: nothing would send what it accepts), and such a process holds nothing a
    crash would lose.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d)", ctypes.get_errno())
    if os.getppid() != parent:
        sys.exit(0)
