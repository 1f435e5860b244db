"""The target tables as CSV and XLSX: calendar named on top, Chinese headers with English, read back."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from node_api.domain.clock import Span, project_clock
from node_api.domain.targets import DecidedItem, Filing, ProjectFigure, TargetReport, target_report
from node_api.domain.workdays import BEIJING, WorkCalendar
from node_api.ledger.target_exports import tables, to_csv, to_xlsx

CAL = WorkCalendar.official()
ZL = "620825"


def bj(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=BEIJING)


def report() -> TargetReport:
    items = [
        DecidedItem(
            ZL, 101, 1, "I1", bj(2025, 10, 9, 9), bj(2025, 10, 9, 11), "approved_on_commitment", "credit"
        ),
        DecidedItem(ZL, 101, 1, "I2", bj(2025, 10, 9, 9), bj(2025, 10, 13, 11), "approved", "credit"),
        DecidedItem(ZL, 103, 3, "I3", bj(2025, 10, 10, 9), bj(2025, 10, 10, 10), "approved", "none"),
    ]
    filings = [Filing(ZL, 101, "P1", bj(2025, 10, 9, 9), bj(2025, 10, 9, 9) + dt.timedelta(seconds=3))]
    clock = project_clock([Span(bj(2025, 9, 24, 15))], bj(2025, 11, 20), bj(2025, 12, 1), CAL)
    return target_report(items, filings, [ProjectFigure(ZL, "P1", clock)], CAL.label, bj(2025, 12, 1, 9))


def test_xlsx_reads_back_with_the_calendar_and_bilingual_headers() -> None:
    data = to_xlsx(report(), departments={101: "县发改局", 103: "县住建局"})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["即办 Same-day", "秒批 Instant filings", "承诺制 Commitment", "50-90天 Days"]
    sheet = book["即办 Same-day"]
    assert (
        sheet["A1"].value
        == "工作日历 Working-day calendar: chinese-calendar 1.11.0 (State Council holidays 2004–2026)"
    )
    assert sheet["A2"].value == "统计时点 As of: 2025-12-01 09:00 (Asia/Shanghai)"
    assert sheet["A3"].value == "即办件占比 Same-day decisions"
    headers = [c.value for c in sheet[4]]
    assert headers[:5] == ["分组 Group", "对象 Key", "当日办结数 Same-day", "办结总数 Decided", "占比 Share"]
    assert sheet[4][0].font.bold
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert rows[0] == ["全部 All", None, 2, 3, pytest.approx(2 / 3), 0.9, "否 No"]
    assert rows[1][:4] == ["县区 County", "620825 甘肃省平凉市庄浪县", 2, 3]
    assert rows[2][:4] == ["部门 Department", "101 县发改局", 1, 2]
    assert rows[-1][:4] == ["阶段 Stage", "3 施工许可", 1, 1]
    assert sheet.cell(row=5, column=5).number_format == "0.0%"
    commitment = [[c.value for c in r] for r in book["承诺制 Commitment"].iter_rows(min_row=5, max_row=5)]
    assert commitment[0][2:5] == [1, 2, 0.5]
    days = book["50-90天 Days"]
    assert days["A1"].value.startswith("工作日历 Working-day calendar: chinese-calendar 1.11.0")
    assert [c.value for c in days[4]][2] == "已取得施工许可 Permitted"
    assert [c.value for c in days[5]][2:5] == [1, 1, 1.0]


def test_the_same_report_gives_the_same_cells() -> None:
    first = openpyxl.load_workbook(io.BytesIO(to_xlsx(report())))
    second = openpyxl.load_workbook(io.BytesIO(to_xlsx(report())))
    for name in first.sheetnames:
        assert [[c.value for c in r] for r in first[name].iter_rows()] == [
            [c.value for c in r] for r in second[name].iter_rows()
        ]
    assert first.properties.created == dt.datetime(2025, 12, 1, 9)


def test_csv_has_a_bom_the_calendar_row_and_percent_shares() -> None:
    data = to_csv(report(), "instant_filing")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [
        "工作日历 Working-day calendar: chinese-calendar 1.11.0 (State Council holidays 2004–2026)"
    ]
    assert rows[3][:3] == ["分组 Group", "对象 Key", "秒批数 Filed in seconds"]
    assert rows[4] == ["全部 All", "", "1", "1", "100.0%", "99.0%", "是 Yes"]
    empty = target_report([], [], [], CAL.label, bj(2025, 12, 1))
    blank = list(csv.reader(io.StringIO(to_csv(empty, "same_day").decode("utf-8-sig"))))
    assert blank[4] == ["全部 All", "", "0", "0", "", "90.0%", ""]
    with pytest.raises(KeyError):
        to_csv(empty, "nothing")


def test_every_table_has_bilingual_headers() -> None:
    for table in tables(report()):
        assert len(table.sheet) <= 31
        for header in table.headers:
            chinese, _, english = header.partition(" ")
            assert chinese and english and not chinese.isascii() and english.isascii(), header
