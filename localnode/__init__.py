"""Nodes on this machine for tests, the benchmark and the demo: ``projchain run`` as a child process."""

from localnode.process import NodeProcess, free_port

__all__ = ["NodeProcess", "free_port"]
