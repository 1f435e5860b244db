"""Demo data of 庄浪县 (620825) for ``projchain run --demo`` (``make run``).

Not part of the node: the node finds ``load_demo`` through the entry point
``projchain.seeds: demo`` (pyproject.toml) when asked for ``--demo``.
"""

from demo.data import HEATING, HOSPITAL, ORCHARD, ORGANISATIONS
from demo.loader import load_demo

__all__ = ["HEATING", "HOSPITAL", "ORCHARD", "ORGANISATIONS", "load_demo"]
