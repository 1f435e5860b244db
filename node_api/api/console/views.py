"""The console's pages: a Jinja2 environment over ``templates/`` (autoescaped), and its labels.

Every label is Chinese first with its English beside it (``bi``), as on the public QR page,
whose tables of decisions, statuses and severities the console shares (``node_api.api.pages``).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from node_api.api import pages
from node_api.domain import labels
from node_api.ledger.officers import Session

ROLE_NAMES: dict[str, tuple[str, str]] = {
    "approval_authority": ("审批部门", "Approval authority"),
    "supervisor": ("监督管理机构", "Supervisor"),
    "financial_institution": ("金融机构", "Financial institution"),
    "auditor": ("审计", "Auditor"),
    "catalogue": ("事项库维护", "Catalogue"),
    "admin": ("联盟管理", "Consortium admin"),
}
CLOCK_STATES: dict[str, tuple[str, str, str]] = {
    "running": ("计时中", "Running", "warn"),
    "paused": ("已暂停", "Paused", "muted"),
    "overdue": ("已超期", "Overdue", "bad"),
    "decided_in_time": ("按时办结", "Decided in time", "ok"),
    "decided_late": ("超期办结", "Decided late", "bad"),
    "uncounted": ("无法计时", "Not counted", "muted"),
    "not_started": ("未开始", "Not started", "muted"),
    "over_target": ("超过50日", "Past 50 days", "warn"),
    "over_maximum": ("超过90日", "Past 90 days", "bad"),
    "permitted_in_target": ("50日内办结", "Permitted within 50", "ok"),
    "permitted_within_maximum": ("90日内办结", "Permitted within 90", "warn"),
    "permitted_late": ("超期办结", "Permitted late", "bad"),
}
WARNING_SEVERITIES: dict[str, tuple[str, str, str]] = {
    "high": ("高", "High", "bad"),
    "medium": ("中", "Medium", "warn"),
    "low": ("低", "Low", "muted"),
}


def bi(zh: str, en: str) -> Markup:
    """Chinese with its English beside it."""
    return Markup(pages.bi(zh, en))


def _pill(value: object, table: dict[str, tuple[str, str, str]]) -> Markup:
    zh, en, tone = table.get(str(value), (str(value), str(value), "muted"))
    return Markup(f'<span class="pill {tone}" data-status="{pages.esc(value)}">{pages.bi(zh, en)}</span>')


def status_pill(status: object) -> Markup:
    """A record's status badge (the QR page's)."""
    return Markup(pages.pill(None if status is None else str(status)))


def named(table: str, value: object) -> Markup:
    """A code shown by its Chinese and English names (decisions, severities, project types …)."""
    tables: dict[str, dict[str, tuple[str, str]]] = {
        "decision": labels.DECISIONS, "severity": labels.SEVERITIES, "project_type": labels.PROJECT_TYPES,
        "commitment_type": labels.COMMITMENT_TYPES, "role": ROLE_NAMES,
    }  # fmt: skip
    zh, en = tables[table].get(str(value), (str(value), ""))
    return bi(zh, en) if en else Markup(pages.esc(zh))


def when(value: object) -> str:
    """Unix seconds or ISO text as Beijing time (YYYY-MM-DD HH:MM)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, (int, float)):
        moment = dt.datetime.fromtimestamp(float(value), dt.UTC)
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            return str(value)
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


@cache
def environment() -> Environment:
    """The templates, autoescaped, with the console's filters."""
    env = Environment(
        loader=PackageLoader("node_api.api.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(bi=bi, named=named, status_pill=status_pill, stage_en=labels.STAGE_NAMES_EN)
    env.filters.update(
        short=pages.short_hash, when=when,
        clock_pill=lambda v: _pill(v, CLOCK_STATES), severity_pill=lambda v: _pill(v, WARNING_SEVERITIES),
    )  # fmt: skip
    return env


def render(
    request: Request, template: str, session: Session | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A console page; every page knows the officer (if any) and the session's form token."""
    page = environment().get_template(template).render(
        request=request, session=session, officer=None if session is None else session.officer,
        csrf=None if session is None else session.csrf, **context,
    )  # fmt: skip
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
    return HTMLResponse(page, status_code=status, headers=headers)
