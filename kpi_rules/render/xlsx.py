"""An Excel workbook: a Summary sheet (a row per client x period: status, score, counts of statuses) and a sheet
per client (a row per period x KPI: value, unit, status, thresholds, gap, previous, change), statuses coloured
green, amber and red by conditional formats. Written with xlsxwriter (the ``reports`` extra), imported only here.

Values are numbers with a number format by unit; text cells are written as strings (xlsxwriter never turns a
string into a formula with ``write_string``), so a client named "=HYPERLINK(...)" stays text.
"""

from __future__ import annotations

import re
from typing import IO

import polars as pl

from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.render.csv import kpi_rows
from kpi_rules.render.junit import period_name
from kpi_rules.results import SEVERITY, STATUSES, Results

INSTALL = 'xlsx needs xlsxwriter: pip install "kpi-rules[reports]"'
COLOURS = {"pass": "#C6EFCE", "warn": "#FFEB9C", "fail": "#FFC7CE", "no_data": "#E7E6E6", "waived": "#DDEBF7"}
NUMBER_FORMATS = {"%": '0.00"%"', "count": "#,##0", "currency": "#,##0.00", "ratio": "0.00", "x": '0.00"x"'}
DEFAULT_NUMBER = "#,##0.00"
SUMMARY = ("client", "period", "start", "end", "status", "score", *STATUSES)
CLIENT_COLUMNS = (
    "period", "start", "end", "kpi", "label", "value", "unit", "status", "target", "warn", "min", "max", "gap", "previous",
    "change", "projected", "reason",
)
NUMBER_COLUMNS = {"value", "target", "warn", "min", "max", "gap", "previous", "projected"}
SHEET_NAME_LIMIT = 31


def check_xlsx_writer() -> None:
    """InputError (KR401) when xlsxwriter is not installed: called before scoring."""
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        raise InputError([Diagnostic("--output", None, None, "KR401", INSTALL)]) from None


def render_xlsx(results: Results, stream: IO[bytes]) -> None:
    check_xlsx_writer()
    import xlsxwriter

    rows = kpi_rows(results)
    book = xlsxwriter.Workbook(stream, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    formats = _Formats(book)
    _summary(book, formats, rows)
    names: set[str] = {"summary"}
    for (client,), client_rows in rows.partition_by("client", as_dict=True, maintain_order=True).items():
        sheet = book.add_worksheet(sheet_name(client, names))
        _client_sheet(sheet, formats, client_rows)
    book.close()


class _Formats:
    def __init__(self, book) -> None:
        self.header = book.add_format({"bold": True, "bottom": 1})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.percent_change = book.add_format({"num_format": "+0.0%;-0.0%;0.0%"})
        self.score = book.add_format({"num_format": "0.0"})
        self.status = {status: book.add_format({"bg_color": colour}) for status, colour in COLOURS.items()}
        self._numbers = {unit: book.add_format({"num_format": code}) for unit, code in NUMBER_FORMATS.items()}
        self._default = book.add_format({"num_format": DEFAULT_NUMBER})

    def number(self, unit: str | None):
        return self._numbers.get(unit or "", self._default)


def _colour_statuses(sheet, formats: _Formats, column: int, last_row: int) -> None:
    for status, colour in formats.status.items():
        sheet.conditional_format(
            1, column, max(last_row, 1), column, {"type": "cell", "criteria": "==", "value": f'"{status}"', "format": colour}
        )


def _summary(book, formats: _Formats, rows: pl.DataFrame) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write_row(0, 0, SUMMARY, formats.header)
    counts = [(pl.col("status") == status).sum().alias(status) for status in STATUSES]
    cards = (
        rows.group_by("order", "grain_index", "period_start", "client", maintain_order=True)
        .agg(pl.col("period_end").first(), pl.col("grain").first(), pl.col("score").first(), pl.col("status"), *counts)
        .sort("order", "grain_index", "period_start", maintain_order=True)
    )
    for number, card in enumerate(cards.iter_rows(named=True), start=1):
        status = next((s for s in SEVERITY if s in card["status"]), "info")
        sheet.write_string(number, 0, card["client"])
        sheet.write_string(number, 1, period_name(card))
        sheet.write_datetime(number, 2, card["period_start"], formats.date)
        sheet.write_datetime(number, 3, card["period_end"], formats.date)
        sheet.write_string(number, 4, status)
        if card["score"] is not None:
            sheet.write_number(number, 5, card["score"], formats.score)
        for offset, name in enumerate(STATUSES):
            sheet.write_number(number, 6 + offset, card[name])
    _colour_statuses(sheet, formats, 4, cards.height)
    sheet.set_column(0, 1, 20)
    sheet.set_column(2, 3, 11)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, cards.height, len(SUMMARY) - 1)


def _client_sheet(sheet, formats: _Formats, rows: pl.DataFrame) -> None:
    sheet.write_row(0, 0, CLIENT_COLUMNS, formats.header)
    for number, row in enumerate(rows.iter_rows(named=True), start=1):
        number_format = formats.number(row["unit"])
        for column, name in enumerate(CLIENT_COLUMNS):
            if name == "period":
                sheet.write_string(number, column, period_name(row))
            elif name in ("start", "end"):
                sheet.write_datetime(number, column, row[f"period_{name}"], formats.date)
            elif name == "change":
                if row[name] is not None:
                    sheet.write_number(number, column, row[name], formats.percent_change)
            elif name in NUMBER_COLUMNS:
                if row[name] is not None:
                    sheet.write_number(number, column, row[name], number_format)
            elif name == "unit" and row["unit"] == "currency" and row["currency"]:
                sheet.write_string(number, column, row["currency"])
            elif row[name] is not None:
                sheet.write_string(number, column, row[name])
    _colour_statuses(sheet, formats, CLIENT_COLUMNS.index("status"), rows.height)
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 2, 11)
    sheet.set_column(3, 4, 22)
    sheet.freeze_panes(1, 5)
    sheet.autofilter(0, 0, rows.height, len(CLIENT_COLUMNS) - 1)


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid sheet name (at most 31 characters, none of []:*?/\\, not starting or ending with ') unused so far.

    ``taken`` holds the names used, in lower case (Excel compares them case-insensitively); the new one is added.
    """
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("' ") or "client"
    if base.lower() == "history":  # reserved by Excel
        base = "history_"
    # Cut to the limit, the cut must not end with ' either (xlsxwriter refuses such a name).
    candidate, number = base[:SHEET_NAME_LIMIT].rstrip("' ") or "client", 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = base[: SHEET_NAME_LIMIT - len(suffix)].rstrip("'") + suffix
    taken.add(candidate.lower())
    return candidate
