"""Repository of supervision's tables: ``supervised_projects``, ``warnings``, ``warning_history``.

A project is due for re-assessment when one of its records was indexed (``recheck_at`` a short
settling delay after the first record not yet assessed) or its ``recheck_at`` passed;
``apply_many`` stores several assessments' transitions and each project's next ``recheck_at`` in one
commit (one fsync for a slice of projects, not one a project).

One process of a node assesses (``node_api.node.runs_supervision``), but ``apply_many`` is written so
that two overlapping for a moment (a worker being replaced) store no transition twice: a warning
another assessment already opened is not opened again (the unique index on open warnings), and a
change already stored writes no second history row. The assessing process publishes its counters
(``publish_figures``) for the /metrics of the node's other processes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from node_api.store.database import Database

_CURSOR_KEY = "supervision.rowid"
_FIGURES_KEY = "supervision.figures"  # the assessing process's counters, for the others' /metrics


@dataclass(frozen=True)
class StoredWarning:
    """A warning's row as ``apply`` writes it (``evidence`` a list of uids)."""

    rule: str
    rule_version: int
    project: str
    project_code: str | None
    region: str | None
    subject: str
    severity: str
    responsible: int | None
    evidence: tuple[str, ...]
    first_fired_at: float
    detail: str


@dataclass(frozen=True)
class Assessment:
    """One project's assessment as ``apply_many`` stores it."""

    project: str
    opened: Sequence[StoredWarning] = ()
    changed: Sequence[StoredWarning] = ()
    closed: Sequence[tuple[str, str]] = ()  # (rule, subject) of the warnings that no longer hold
    recheck_at: float | None = None  # the project's next look without a new record (None: none)


@dataclass(frozen=True)
class WarningFilter:
    """What ``GET /v1/warnings`` narrows by (None: any)."""

    projects: Sequence[str] | None = None  # project ids the caller may see (None: all)
    region: str | None = None  # a division code prefix
    responsible: int | None = None
    severity: str | None = None
    rule: str | None = None
    state: str | None = None  # open | closed


class WarningTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- what is due ---------------------------------------------------------------------
    def cursor(self) -> int:
        """The newest index rowid whose project has been marked due (0 before the first look)."""
        return int(self.db.get_meta(_CURSOR_KEY) or 0)

    def mark_due(self, projects: Iterable[str], cursor: int, at: float = 0.0) -> None:
        """The projects had records indexed: due at ``at`` (or earlier if they already were); the
        cursor moves past them."""
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO supervised_projects(project, recheck_at) VALUES(?, ?)"
                " ON CONFLICT(project) DO UPDATE SET"
                " recheck_at = min(coalesce(recheck_at, excluded.recheck_at), excluded.recheck_at)",
                [(p, at) for p in projects],
            )
            conn.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (_CURSOR_KEY, str(cursor)),
            )

    def due(self, now: float, limit: int) -> list[str]:
        """Projects whose ``recheck_at`` has passed, earliest first (the index on recheck_at)."""
        rows = self.db.all(
            "SELECT project FROM supervised_projects WHERE recheck_at IS NOT NULL AND recheck_at <= ?"
            " ORDER BY recheck_at LIMIT ?",
            (now, limit),
        )
        return [str(r["project"]) for r in rows]

    def count_due(self, now: float) -> int:
        """How many projects are due for re-assessment at ``now``."""
        return int(
            self.db.scalar(
                "SELECT count(*) FROM supervised_projects WHERE recheck_at IS NOT NULL AND recheck_at <= ?",
                (now,),
            )
        )

    def next_recheck(self) -> float | None:
        """The earliest ``recheck_at`` of any project (None: none is waiting for time)."""
        value = self.db.scalar("SELECT min(recheck_at) FROM supervised_projects WHERE recheck_at IS NOT NULL")
        return None if value is None else float(value)

    # -- the assessing process's counters ----------------------------------------------------
    def publish_figures(self, figures: Mapping[str, float]) -> None:
        """Stores the assessing process's counters for the node's other processes."""
        self.db.set_meta(_FIGURES_KEY, json.dumps(dict(figures)))

    def published_figures(self) -> dict[str, float]:
        """The counters the assessing process published last (empty before it did)."""
        value = self.db.get_meta(_FIGURES_KEY)
        return {str(k): float(v) for k, v in json.loads(value).items()} if value else {}

    # -- the warnings --------------------------------------------------------------------
    def open_of(self, project: str) -> list[sqlite3.Row]:
        """The project's open warnings."""
        return self.db.all(
            "SELECT * FROM warnings WHERE project = ? AND closed_at IS NULL ORDER BY id", (project,)
        )

    def apply_many(self, assessments: Sequence[Assessment], now: float) -> list[tuple[int, str]]:
        """Stores the assessments in one commit; the (warning id, transition) written, in order."""
        out: list[tuple[int, str]] = []
        with self.db.transaction() as conn:
            for a in assessments:
                out += _apply(conn, a, now)
        return out

    def get(self, warning_id: int) -> sqlite3.Row | None:
        return self.db.one("SELECT * FROM warnings WHERE id = ?", (warning_id,))

    def history(self, warning_ids: Sequence[int]) -> dict[int, list[sqlite3.Row]]:
        """The transitions of each warning, oldest first."""
        out: dict[int, list[sqlite3.Row]] = {i: [] for i in warning_ids}
        if not warning_ids:
            return out
        marks = ",".join("?" * len(warning_ids))
        for r in self.db.all(
            f"SELECT * FROM warning_history WHERE warning_id IN ({marks}) ORDER BY seq", tuple(warning_ids)
        ):
            out[int(r["warning_id"])].append(r)
        return out

    def search(self, f: WarningFilter, after: int, limit: int) -> list[sqlite3.Row]:
        """Warnings matching ``f`` with id below ``after`` (0: from the newest), newest first."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if after:
            where.append("id < ?")
            params.append(after)
        if f.projects is not None:
            if not f.projects:
                return []
            where.append(f"project IN ({','.join('?' * len(f.projects))})")
            params.extend(f.projects)
        if f.region:
            where.append("region LIKE ? || '%'")
            params.append(f.region)
        for column, value in (("responsible", f.responsible), ("severity", f.severity), ("rule", f.rule)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if f.state == "open":
            where.append("closed_at IS NULL")
        elif f.state == "closed":
            where.append("closed_at IS NOT NULL")
        params.append(limit)
        return self.db.all(
            f"SELECT * FROM warnings WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", params
        )

    def count_open(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM warnings WHERE closed_at IS NULL"))

    # -- transitions, for the notifications ----------------------------------------------------
    def transitions_after(self, seq: int, limit: int) -> list[sqlite3.Row]:
        """History rows after ``seq``, oldest first, each with its warning's rule and project."""
        return self.db.all(f"{_TRANSITIONS} WHERE h.seq > ? ORDER BY h.seq LIMIT ?", (seq, limit))

    def transition(self, seq: int) -> sqlite3.Row | None:
        """One history row with its warning's rule and project."""
        return self.db.one(f"{_TRANSITIONS} WHERE h.seq = ?", (seq,))


_TRANSITIONS = (
    "SELECT h.seq, h.warning_id, h.transition, h.at, w.rule, w.project, w.project_code"
    " FROM warning_history h JOIN warnings w ON w.id = h.warning_id"
)


def _history(
    conn: sqlite3.Connection,
    warning_id: int,
    transition: str,
    severity: str,
    evidence: Iterable[str],
    now: float,
) -> tuple[int, str]:
    conn.execute(
        "INSERT INTO warning_history(warning_id, transition, at, severity, evidence) VALUES(?,?,?,?,?)",
        (warning_id, transition, now, severity, json.dumps(list(evidence))),
    )
    return warning_id, transition


def _apply(conn: sqlite3.Connection, a: Assessment, now: float) -> list[tuple[int, str]]:
    """One assessment's rows, inside the caller's transaction."""
    out: list[tuple[int, str]] = []
    changed = list(a.changed)
    for w in a.opened:
        cur = conn.execute(
            "INSERT INTO warnings(rule, rule_version, project, project_code, region, subject, severity,"
            " responsible, evidence, first_fired_at, detail, opened_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(rule, project, subject) WHERE closed_at IS NULL DO NOTHING",
            (w.rule, w.rule_version, a.project, w.project_code, w.region, w.subject, w.severity,
             w.responsible, json.dumps(list(w.evidence)), w.first_fired_at, w.detail, now),
        )  # fmt: skip
        if cur.rowcount == 1:
            out.append(_history(conn, int(cur.lastrowid or 0), "opened", w.severity, w.evidence, now))
        else:  # already open (an overlapping assessment opened it): at most a change
            changed.append(w)
    for w in changed:
        row = conn.execute(
            "SELECT id, rule_version, severity, responsible, evidence, first_fired_at FROM warnings"
            " WHERE rule = ? AND project = ? AND subject = ? AND closed_at IS NULL",
            (w.rule, a.project, w.subject),
        ).fetchone()
        if row is None or tuple(row[1:]) == (
            w.rule_version,
            w.severity,
            w.responsible,
            json.dumps(list(w.evidence)),
            w.first_fired_at,
        ):
            continue  # closed meanwhile, or the change is stored already
        conn.execute(
            "UPDATE warnings SET rule_version = ?, severity = ?, responsible = ?, evidence = ?,"
            " first_fired_at = ?, detail = ?, changed_at = ? WHERE id = ?",
            (w.rule_version, w.severity, w.responsible, json.dumps(list(w.evidence)),
             w.first_fired_at, w.detail, now, row[0]),
        )  # fmt: skip
        out.append(_history(conn, int(row[0]), "changed", w.severity, w.evidence, now))
    for rule, subject in a.closed:
        row = conn.execute(
            "SELECT id, severity, evidence FROM warnings WHERE rule = ? AND project = ? AND subject = ?"
            " AND closed_at IS NULL",
            (rule, a.project, subject),
        ).fetchone()
        if row is None:
            continue
        conn.execute("UPDATE warnings SET closed_at = ? WHERE id = ?", (now, row[0]))
        out.append(_history(conn, int(row[0]), "closed", str(row[1]), json.loads(row[2]), now))
    conn.execute(
        "INSERT INTO supervised_projects(project, recheck_at, assessed_at) VALUES(?,?,?)"
        " ON CONFLICT(project) DO UPDATE SET recheck_at = excluded.recheck_at,"
        " assessed_at = excluded.assessed_at",
        (a.project, a.recheck_at, now),
    )
    return out
