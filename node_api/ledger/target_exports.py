"""The seed's target tables as CSV and XLSX, for the officials who paste them into their reports.

Rendered from plain data (``domain.targets.TargetReport``): this module reads nothing from
the node. Every table opens with the working-day calendar it was counted on and the instant
it was counted at, then a header row in Chinese with English beside it (``即办件数 Same-day``).

* CSV (stdlib ``csv``): one table per file, UTF-8 with a byte-order mark so that Excel on
  Windows opens the Chinese text as such; shares as percentages ("90.0%").
* XLSX (openpyxl): one sheet per table, shares as numbers formatted ``0.0%``, the header row
  bold and frozen. The workbook's created/modified dates are the report's ``as_of``, so the
  same report gives the same figures in the same cells every time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from node_api.domain.divisions import division_name
from node_api.domain.records import STAGES
from node_api.domain.targets import (
    COMMITMENT,
    INSTANT_FILING,
    SAME_DAY,
    DaysRow,
    ShareRow,
    Target,
    TargetReport,
)
from node_api.domain.workdays import BEIJING

GROUP_NAMES = {
    "all": "全部 All",
    "county": "县区 County",
    "department": "部门 Department",
    "stage": "阶段 Stage",
}
_YES_NO = {True: "是 Yes", False: "否 No", None: ""}
_PERCENT = "0.0%"


@dataclass(frozen=True)
class Table:
    """One table ready to write: its id, titles, header cells and rows of plain values."""

    id: str
    sheet: str  # XLSX sheet name (at most 31 characters)
    title: str
    note: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    percent_columns: frozenset[int]  # columns holding shares (0..1 or None)


def _key_name(group: str, key: str, departments: Mapping[int, str]) -> str:
    if group == "all":
        return ""
    if group == "county":
        name = division_name(key)
        return f"{key} {name}" if name else key
    if group == "department":
        name = departments.get(int(key))
        return f"{key} {name}" if name else key
    if group == "stage":
        name = STAGES.get(int(key))
        return f"{key} {name}" if name else key
    return key


_SHARE_HEADERS = {
    SAME_DAY.id: ("当日办结数 Same-day", "办结总数 Decided"),
    INSTANT_FILING.id: ("秒批数 Filed in seconds", "备案总数 Filings"),
    COMMITMENT.id: ("承诺制办理数 On commitment", "负面清单外批复数 Approvals off the negative list"),
}


def _share_table(
    target: Target, sheet: str, rows: tuple[ShareRow, ...], departments: Mapping[int, str]
) -> Table:
    numerator, denominator = _SHARE_HEADERS[target.id]
    headers = (
        "分组 Group", "对象 Key", numerator, denominator, "占比 Share", "目标 Goal", "是否达标 Met",
    )  # fmt: skip
    body = tuple(
        (GROUP_NAMES[r.group], _key_name(r.group, r.key, departments), r.numerator, r.denominator,
         r.share, r.goal, _YES_NO[r.met])
        for r in rows
    )  # fmt: skip
    return Table(
        id=target.id,
        sheet=sheet,
        title=f"{target.name_zh} {target.name_en}",
        note=f"目标 Goal ≥ {target.goal:.0%} — {target.source}",
        headers=headers,
        rows=body,
        percent_columns=frozenset({4, 5}),
    )


def _days_table(rows: tuple[DaysRow, ...]) -> Table:
    columns: tuple[tuple[str, Callable[[DaysRow], Any]], ...] = (
        ("分组 Group", lambda r: GROUP_NAMES[r.group]),
        ("对象 Key", lambda r: _key_name(r.group, r.key, {})),
        ("已取得施工许可 Permitted", lambda r: r.permitted),
        ("50个工作日内 Within 50", lambda r: r.within_target),
        ("50日内占比 Share within 50", lambda r: r.share_within_target),
        ("90个工作日内 Within 90", lambda r: r.within_maximum),
        ("90日内占比 Share within 90", lambda r: r.share_within_maximum),
        ("在办项目 On their way", lambda r: r.on_the_way),
        ("在办超50日 On their way past 50", lambda r: r.on_the_way_over_target),
        ("在办超90日 On their way past 90", lambda r: r.on_the_way_over_maximum),
        ("日历未覆盖 Calendar does not cover", lambda r: r.uncounted),
    )
    return Table(
        id="project_days",
        sheet="50-90天 Days",
        title="开工前审批用时 Working days to the construction permit",
        note="一般项目50个工作日，最多不超过90个工作日 (seed task 4); from the first 受理 to the 施工许可 批复",
        headers=tuple(h for h, _ in columns),
        rows=tuple(tuple(get(r) for _, get in columns) for r in rows),
        percent_columns=frozenset({4, 6}),
    )


def tables(report: TargetReport, departments: Mapping[int, str] | None = None) -> list[Table]:
    """The four tables of a report; ``departments`` names organisation ids where known."""
    names = departments or {}
    return [
        _share_table(SAME_DAY, "即办 Same-day", report.same_day, names),
        _share_table(INSTANT_FILING, "秒批 Instant filings", report.instant_filing, names),
        _share_table(COMMITMENT, "承诺制 Commitment", report.commitment, names),
        _days_table(report.project_days),
    ]


def _preamble(report: TargetReport, table: Table) -> list[list[str]]:
    as_of = report.as_of.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    return [
        [f"工作日历 Working-day calendar: {report.calendar}"],
        [f"统计时点 As of: {as_of} (Asia/Shanghai)"],
        [table.title, table.note],
    ]


def _percent(value: Any) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def to_csv(report: TargetReport, table_id: str, departments: Mapping[int, str] | None = None) -> bytes:
    """One table (``same_day``, ``instant_filing``, ``commitment`` or ``project_days``) as CSV bytes."""
    table = next((t for t in tables(report, departments) if t.id == table_id), None)
    if table is None:
        raise KeyError(f"no table {table_id!r}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_preamble(report, table))
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(
            [
                _percent(v) if i in table.percent_columns else ("" if v is None else v)
                for i, v in enumerate(row)
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: TargetReport, departments: Mapping[int, str] | None = None) -> bytes:
    """The four tables as one workbook, a sheet each."""
    book = Workbook()
    book.remove(book.active)
    created = report.as_of.astimezone(BEIJING).replace(tzinfo=None)
    book.properties.created = book.properties.modified = created
    book.properties.creator = "projchain"
    book.properties.title = f"Supervision targets ({report.calendar})"
    bold = Font(bold=True)
    for table in tables(report, departments):
        sheet = book.create_sheet(table.sheet)
        for line in _preamble(report, table):
            sheet.append(line)
        sheet.append(list(table.headers))
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = bold
        for row in table.rows:
            sheet.append(list(row))
            for column in table.percent_columns:
                sheet.cell(row=sheet.max_row, column=column + 1).number_format = _PERCENT
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
        for index, header in enumerate(table.headers, start=1):
            sheet.column_dimensions[sheet.cell(row=header_row, column=index).column_letter].width = max(
                12, len(header) + 4
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
