"""Excel and OpenDocument sheets read as text, on real files written by real writers at test time."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from kpi_rules.data.excel import read_spreadsheet
from kpi_rules.diagnostics import InputError
from kpi_rules.model import SourceDef

FORMATS = ["xlsx", "xls", "ods"]
Rows = list[list[object]]


def write_xlsx(path: Path, sheets: dict[str, Rows]) -> None:
    book = xlsxwriter.Workbook(path)
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    moment = book.add_format({"num_format": "dd.mm.yyyy hh:mm:ss"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, moment)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), day)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)  # as typed: "05.10.2026" stays text
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()


def write_xls(path: Path, sheets: dict[str, Rows]) -> None:
    book = xlwt.Workbook()
    day = xlwt.easyxf(num_format_str="DD.MM.YYYY")
    moment = xlwt.easyxf(num_format_str="DD.MM.YYYY HH:MM:SS")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write(r, c, value, moment)
                elif isinstance(value, dt.date):
                    sheet.write(r, c, value, day)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))


def write_ods(path: Path, sheets: dict[str, Rows]) -> None:
    book = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            cells = TableRow()
            for value in row:
                if isinstance(value, dt.date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                elif isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=repr(value))
                else:
                    cell = TableCell(valuetype="string") if value is not None else TableCell()
                if value is not None:
                    cell.addElement(P(text=str(value)))
                cells.addElement(cell)
            table.addElement(cells)
        book.spreadsheet.addElement(table)
    book.save(str(path))


WRITERS = {"xlsx": write_xlsx, "xls": write_xls, "ods": write_ods}


def workbook(tmp_path: Path, kind: str, sheets: dict[str, Rows]) -> Path:
    path = tmp_path / f"report.{kind}"
    WRITERS[kind](path, sheets)
    return path


def read(path: Path, **options) -> object:
    return read_spreadsheet(SourceDef(path, "excel", **options))


def problem(path: Path, **options):
    with pytest.raises(InputError) as error:
        read(path, **options)
    [diagnostic] = error.value.diagnostics
    return diagnostic


HEADER = ["Дата", "Показы", "Клики", "Расход", "Время"]
DATA = [
    [dt.date(2026, 10, 5), 1200, 34.0, 0.125, dt.datetime(2026, 10, 5, 14, 30, 5)],
    ["05.10.2026", "n/a", None, -1234.5, "   "],
    ["Итого", 1200, 34, 1234.625, None],
]
EXPECTED = {
    "Дата": ["2026-10-05", "05.10.2026", "Итого"],
    "Показы": ["1200", "n/a", "1200"],
    "Клики": ["34", None, "34"],
    "Расход": ["0.125", "-1234.5", "1234.625"],
    "Время": ["2026-10-05 14:30:05", None, None],
}


@pytest.mark.parametrize("kind", FORMATS)
def test_cells_come_back_as_the_text_a_user_sees(tmp_path, kind):
    path = workbook(tmp_path, kind, {"Данные": [HEADER, *DATA, [" ", None, "  "]]})  # a last row of spaces is no row
    table = read(path)
    assert table.frame.to_dict(as_series=False) == EXPECTED
    assert set(table.frame.schema.values()) == {pl.String}
    assert (table.sheet, table.first_row, table.first_column) == ("Данные", 2, 1)


@pytest.mark.parametrize("kind", FORMATS)
def test_a_header_under_title_rows(tmp_path, kind):
    rows = [["Отчёт за октябрь 2026"], ["Клиент: ООО Ромашка"], [f" {name} " for name in HEADER], *DATA]
    table = read(workbook(tmp_path, kind, {"Отчёт": rows}), header_row=3)
    assert table.frame.columns == HEADER  # stripped
    assert table.frame["Показы"].to_list() == EXPECTED["Показы"]
    assert table.first_row == 4
    assert table.position(1, "Показы") == (5, 2)  # the "n/a" cell: row 5, column B


@pytest.mark.parametrize("kind", FORMATS)
def test_empty_rows_and_columns_before_the_header_are_skipped(tmp_path, kind):
    rows = [[], [], *([None, *row] for row in [HEADER, *DATA])]
    table = read(workbook(tmp_path, kind, {"Данные": rows}))
    assert table.frame.to_dict(as_series=False) == EXPECTED
    assert (table.first_row, table.first_column) == (4, 2)
    assert table.position(2, "Дата") == (6, 2)  # "Итого" is in B6


@pytest.mark.parametrize("kind", FORMATS)
def test_a_sheet_by_name_or_number(tmp_path, kind):
    path = workbook(tmp_path, kind, {"Сводка": [["Итог"], [1]], "Данные": [HEADER, *DATA]})
    by_name, by_number, first = read(path, sheet="Данные"), read(path, sheet=2), read(path)
    assert by_name.frame.to_dict(as_series=False) == by_number.frame.to_dict(as_series=False) == EXPECTED
    assert (by_name.sheet, by_number.sheet, first.sheet) == ("Данные", "Данные", "Сводка")
    assert first.frame.to_dict(as_series=False) == {"Итог": ["1"]}


def test_an_unknown_sheet_lists_the_sheets(tmp_path):
    path = workbook(tmp_path, "xlsx", {"Сводка": [["a"]], "Данные": [["a"]]})
    by_name = problem(path, sheet="данные")
    assert by_name.code == "KR301"
    assert by_name.message == 'no sheet "данные" (did you mean "Данные"?): the workbook has "Сводка", "Данные"'
    by_number = problem(path, sheet=3)
    assert (by_number.code, by_number.message) == ("KR301", 'no sheet 3: the workbook has 2 sheets: "Сводка", "Данные"')


@pytest.mark.parametrize("kind", FORMATS)
def test_duplicate_headers_name_both_columns(tmp_path, kind):
    path = workbook(tmp_path, kind, {"Данные": [["Дата", "Показы", "Клики", " Показы"], [dt.date(2026, 10, 5), 1, 2, 3]]})
    found = problem(path)
    assert (found.path, found.line, found.column, found.code) == (str(path), 1, 4, "KR304")
    assert found.message == 'duplicate column "Показы" (columns B and D)'


@pytest.mark.parametrize("kind", FORMATS)
def test_an_empty_sheet_or_a_header_past_the_end(tmp_path, kind):
    path = workbook(tmp_path, kind, {"Данные": [HEADER, *DATA], "Пусто": []})
    empty = problem(path, sheet="Пусто")
    assert (empty.code, empty.message) == ("KR304", 'sheet "Пусто" is empty')
    past = problem(path, header_row=9)
    assert (past.code, past.message) == ("KR304", 'sheet "Данные" has no header at row 9 or below: its last row is 4')


def test_a_header_with_no_rows_is_an_empty_table(tmp_path):
    table = read(workbook(tmp_path, "xlsx", {"Данные": [HEADER]}))
    assert (table.frame.columns, table.frame.height) == (HEADER, 0)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"date,clicks\n2026-10-05,3\n", "cannot read Excel: the file is text (CSV or HTML?), not a workbook"),
        (b"PK\x03\x04\x00\x00broken zip", "cannot read Excel: Xlsx error: Zip error"),
        (bytes(range(256)) * 4, "cannot read Excel: "),
    ],
)
def test_a_file_that_is_not_a_spreadsheet(tmp_path, content, says):
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    found = problem(path)
    assert found.code == "KR301"
    assert found.message.startswith(says)


def test_a_workbook_under_the_wrong_extension_is_read_by_its_content(tmp_path):
    path = workbook(tmp_path, "xlsx", {"Данные": [HEADER, *DATA]}).rename(tmp_path / "export.xls")
    assert read(path).frame.to_dict(as_series=False) == EXPECTED


def test_without_fastexcel_the_message_says_what_to_install(tmp_path, monkeypatch):
    path = workbook(tmp_path, "xlsx", {"Данные": [HEADER, *DATA]})
    monkeypatch.setitem(sys.modules, "fastexcel", None)  # import fastexcel now raises ImportError
    found = problem(path)
    assert found.code == "KR301"
    assert 'pip install "kpi-rules[excel]"' in found.message


def test_importing_the_module_loads_neither_polars_nor_fastexcel():
    code = "import sys, kpi_rules.data.excel; print(sorted({'polars', 'fastexcel'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
