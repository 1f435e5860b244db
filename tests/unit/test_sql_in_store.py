"""All SQL lives in ``node_api/store/``: no other module of the package holds an SQL statement.

Every module under ``node_api/`` is parsed; a string constant (an f-string's literal parts
included) that begins with an SQL statement keyword outside the store is a finding, named
by file and line. The import side of the same rule is an import-linter contract
("SQL only in the store", pyproject.toml): the services never import ``sqlite3``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "node_api"
STORE = PACKAGE / "store"
# A statement keyword in upper case followed by a space (prose such as "Update the …" is not SQL).
STATEMENT = re.compile(
    r"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN|COMMIT|ROLLBACK|VACUUM)\b\s"
)


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant in ``path`` that begins with an SQL statement keyword."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and STATEMENT.match(node.value)
    ]


def modules_outside_store() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if STORE not in p.parents)


def test_no_sql_outside_the_store() -> None:
    findings = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text.strip()[:70]!r}"
        for path in modules_outside_store()
        for line, text in sorted(sql_strings(path))
    ]
    assert not findings, "SQL outside node_api/store/ (put it in a repository there):\n" + "\n".join(findings)


def test_the_store_is_where_the_sql_is() -> None:
    # The scan itself finds SQL (it would pass vacuously if it never matched anything).
    assert any(sql_strings(p) for p in STORE.glob("*.py"))


@pytest.mark.parametrize(
    "source",
    [
        'q = "SELECT 1 FROM t"',
        'q = f"SELECT x FROM t WHERE {cond}"',
        'q = ("INSERT INTO t(a) "\n     "VALUES(?)")',
        'q = """\n    WITH r AS (SELECT 1) SELECT * FROM r"""',
        'conn.execute(f"DELETE FROM t WHERE {c} = ?", (1,))',
    ],
)
def test_the_scan_finds_sql(tmp_path: Path, source: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source + "\n")
    assert sql_strings(module)


@pytest.mark.parametrize(
    "source",
    [
        '"""Select the records of a project."""',
        'msg = "Update your token"',
        'msg = f"delete {uid} first"',
        'name = "SELECTED"',
    ],
)
def test_the_scan_leaves_prose_alone(tmp_path: Path, source: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source + "\n")
    assert not sql_strings(module)
