"""Excel and OpenDocument sheets (.xlsx, .xls, .ods) as text cells, for the data loader.

Read by fastexcel (calamine, in Rust), the engine behind polars' ``read_excel``, called directly: polars'
wrapper drops empty rows and columns (which would shift every cell's position), renames header-less
columns, and cannot list the sheets for an error message without opening the file a second time.

Every cell comes back as the text a user sees, so that the loader types Excel files exactly as it types
CSV and reports a bad cell at ``file.xlsx:ROW:COL``. Numbers are written by fastexcel as Excel's General
format does (``1200``, ``0.125``), rounded to 9 decimal places: ample for counts, money and rates.
A formula's error (``#DIV/0!``, ``#N/A``) comes back as an empty cell: fastexcel reads errors as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean
from kpi_rules.model import SourceDef

if TYPE_CHECKING:
    import polars as pl

INSTALL_HINT = 'pip install "kpi-rules[excel]"'
# fastexcel writes a date cell as "2026-10-05 00:00:00" (from .ods: "2026-10-05T00:00:00"): a date is
# shown as its day, a date with a time as "2026-10-05 14:30:05", as a CSV export would have them.
ISO_T = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"
MIDNIGHT = r"^\d{4}-\d{2}-\d{2} 00:00:00(?:\.0+)?$"


@dataclass(frozen=True)
class SpreadsheetTable:
    """One sheet's data rows: String columns named by the (stripped) headers; an empty cell is null.

    Frame row ``i`` is spreadsheet row ``first_row + i`` and frame column ``j`` is spreadsheet column
    ``first_column + j``, both 1-based as Excel numbers them (column 1 is A). Rows are returned as they
    are, empty ones inside the table and total rows ("Итого") included, so that the mapping stays a
    plain offset; only empty rows after the last row with a value are left out.
    """

    frame: pl.DataFrame
    sheet: str
    first_row: int  # the row under the header
    first_column: int  # calamine starts a sheet at its first column with a value

    def position(self, row: int, column: str) -> tuple[int, int]:
        """The spreadsheet's (row, column) of frame row ``row`` (0-based) in the column named ``column``."""
        return self.first_row + row, self.first_column + self.frame.columns.index(column)


def read_spreadsheet(source: SourceDef) -> SpreadsheetTable:
    """The sheet ``source.sheet`` (a name, or a number from 1; None: the first) with its header on row
    ``source.header_row``, or the first row with a value below it (calamine skips empty rows too)."""
    try:
        import fastexcel
        import polars as pl
    except ImportError:
        raise InputError([_problem(source, "KR301", f"reading Excel and OpenDocument files needs fastexcel: {INSTALL_HINT}")]) from None
    try:
        reader = _open(source, fastexcel)
        names = reader.sheet_names
        index = _sheet_index(source, names)
        # header_row=None and skip_rows=0: every row from row 1 (title and empty rows too), so that frame
        # row r is spreadsheet row r + 1; the header is found below. Cells of spaces count as empty.
        sheet = reader.load_sheet(
            index, header_row=None, skip_rows=0, dtypes="string", whitespace_as_null=True, skip_whitespace_tail_rows=True
        )
        columns = sheet.available_columns()
        cells = sheet.to_polars()
    except OSError as error:
        raise InputError([_problem(source, "KR301", f"cannot read Excel: {error.strerror or error}")]) from None
    except fastexcel.FastExcelError as error:
        raise InputError([_problem(source, "KR301", f"cannot read Excel: {_first_line(error)}")]) from None

    sheet_name = names[index]
    first_column = columns[0].absolute_index + 1 if columns else 1
    header = _header_index(source, cells, sheet_name)
    cells = cells.with_columns(_iso_text(pl.col(name)) for name in cells.columns)
    frame = cells.slice(header + 1)
    frame.columns = _headers(source, cells.row(header), header + 1, first_column)
    return SpreadsheetTable(frame, sheet_name, first_row=header + 2, first_column=first_column)


def _header_index(source: SourceDef, cells: pl.DataFrame, sheet_name: str) -> int:
    """The frame row of the header: row ``header_row``, or the first row below it with a value."""
    import polars as pl

    start = source.header_row - 1
    filled = cells.slice(start).select(pl.any_horizontal(pl.all().is_not_null())).to_series().arg_true() if cells.width else []
    if len(filled):
        return start + filled[0]
    if cells.height == 0:
        raise InputError([_problem(source, "KR304", f'sheet "{sheet_name}" is empty')])
    message = f'sheet "{sheet_name}" has no header at row {source.header_row} or below: its last row is {cells.height}'
    raise InputError([_problem(source, "KR304", message)])


def _iso_text(cell: pl.Expr) -> pl.Expr:
    # when/then with a plain match: polars' regex replace with groups is ten times slower (0.3 s per 100k rows).
    import polars as pl

    spaced = pl.when(cell.str.contains(ISO_T)).then(cell.str.replace("T", " ", literal=True)).otherwise(cell)
    return pl.when(spaced.str.contains(MIDNIGHT)).then(spaced.str.head(10)).otherwise(spaced)


def _open(source: SourceDef, fastexcel):
    """The workbook, by its extension; failing that, by its content (an .xlsx saved as .xls is common)."""
    try:
        return fastexcel.read_excel(source.path)
    except fastexcel.CalamineError as by_name:
        data = source.path.read_bytes()
        try:
            return fastexcel.read_excel(data)
        except fastexcel.CalamineError:
            if _looks_like_text(data):
                raise InputError([_problem(source, "KR301", "cannot read Excel: the file is text (CSV or HTML?), not a workbook")]) from None
            raise by_name from None  # calamine's reason for the format the name says: "password protected", ...


def _looks_like_text(data: bytes) -> bool:
    """An HTML page or a CSV saved as .xls: the commonest "Excel export" that is not a workbook."""
    head = data[:4096]
    return bool(head.strip()) and b"\x00" not in head


def _sheet_index(source: SourceDef, names: list[str]) -> int:
    listed = ", ".join(f'"{name}"' for name in names)
    if source.sheet is None:
        return 0
    if isinstance(source.sheet, int):
        if 1 <= source.sheet <= len(names):
            return source.sheet - 1
        count = f"{len(names)} sheet" + ("s" if len(names) != 1 else "")
        raise InputError([_problem(source, "KR301", f"no sheet {source.sheet}: the workbook has {count}: {listed}")])
    if source.sheet in names:
        return names.index(source.sheet)
    hint = did_you_mean(source.sheet, names)
    raise InputError([_problem(source, "KR301", f'no sheet "{source.sheet}"{hint}: the workbook has {listed}')])


def _headers(source: SourceDef, cells: tuple[str | None, ...], row: int, first_column: int) -> list[str]:
    """The column names; a column without a header is named as polars and fastexcel name it."""
    names = [(cell or "").strip() or f"__UNNAMED__{j}" for j, cell in enumerate(cells)]
    seen: dict[str, int] = {}
    problems = []
    for j, name in enumerate(names):
        if name in seen:
            both = f"{_letter(first_column + seen[name])} and {_letter(first_column + j)}"
            problems.append(Diagnostic(str(source.path), row, first_column + j, "KR304", f'duplicate column "{name}" (columns {both})'))
        seen.setdefault(name, j)
    if problems:
        raise InputError(problems)
    return names


def _letter(column: int) -> str:
    """A 1-based column number as Excel writes it: 1 -> A, 27 -> AA."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _first_line(error: Exception) -> str:
    """calamine's message without its "Context:" trail: "Xlsx error: Workbook is password protected"."""
    line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return line.removeprefix("calamine error: ")


def _problem(source: SourceDef, code: str, message: str) -> Diagnostic:
    return Diagnostic(str(source.path), None, None, code, message)
