"""Read a data file as it is, one function per kind: CSV, Parquet, JSON, YAML, spreadsheets.

Nothing is renamed or typed here (see headers and cells), except that a CSV file's
metric columns may be parsed as numbers by the CSV reader itself when they are plain
numbers: the fast path of large files, scanned rather than read.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean
from kpi_rules.loading import load_yaml
from kpi_rules.model import SourceDef

PEEK_BYTES = 1 << 20


@dataclass(frozen=True)
class RawTable:
    """A file's cells: ``frame`` row i stands on line (or spreadsheet row) ``first_line + i``, where lines exist."""

    frame: pl.DataFrame | pl.LazyFrame
    headers: list[str]  # as the file has them, a repeated name included
    first_line: int | None = None
    first_column: int = 1  # a spreadsheet's table may start right of column A
    warnings: tuple[Diagnostic, ...] = ()  # found reading the file whole (short rows)


def file_problem(source: SourceDef, code: str, message: str) -> Diagnostic:
    """A problem of the file as a whole: at its header line, where the file has lines; a database source's
    at the source in the client file."""
    if source.declared_at:
        return Diagnostic(*source.declared_at, code, message)
    line = source.header_row if source.format in ("csv", "excel") else None
    return Diagnostic(str(source.path), line, 1 if line else None, code, message)


def read_table(source: SourceDef, numeric: Collection[str], *, scan: bool) -> RawTable:
    """The file's cells. A CSV file's ``numeric`` headers are read as numbers by the reader where they are plain ones."""
    try:
        if source.format == "csv":
            return _read_csv(source, numeric, scan=scan)
        if source.format == "excel":
            from kpi_rules.data.excel import read_spreadsheet

            sheet = read_spreadsheet(source)
            return RawTable(sheet.frame, list(sheet.frame.columns), sheet.first_row, sheet.first_column)
        if source.format == "parquet":
            frame = pl.scan_parquet(source.path) if scan else pl.read_parquet(source.path)
            return RawTable(frame, frame.collect_schema().names())  # a file that is not Parquet fails here, reported
        if source.format == "json":
            frame = pl.read_json(source.path, infer_schema_length=None)
        else:
            frame = _read_yaml_records(source)
        return RawTable(frame, frame.columns)
    except InputError:
        raise
    except (LookupError, UnicodeDecodeError) as error:
        raise InputError([file_problem(source, "KR301", f"cannot decode as {source.encoding}: {error}")]) from None
    except (OSError, pl.exceptions.PolarsError, ValueError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        problem = file_problem(source, "KR301", f"cannot read {source.format.upper()}: {message}")
        where = _locate_csv_problem(source) if source.format == "csv" and isinstance(error, pl.exceptions.PolarsError) else None
        if where:
            problem = Diagnostic(problem.path, *where, problem.code, problem.message)
        raise InputError([problem]) from None


def widen(source: SourceDef, raw: RawTable) -> RawTable:
    """A long table (one value per row, named by other columns) as one column per name: "members / Новые участники".

    The rows are keyed by every other column (the date, client, channel); cell positions are lost, so bad cells
    are reported by row.
    """
    names, value = source.long
    missing = [column for column in (*names, value) if column not in raw.headers]
    if missing:
        message = f'long: column "{missing[0]}" is not in the file{did_you_mean(missing[0], raw.headers)}'
        raise InputError([file_problem(source, "KR304", message)])
    frame = raw.frame.lazy().collect() if isinstance(raw.frame, pl.LazyFrame) else raw.frame
    keys = [column for column in raw.headers if column not in (*names, value)]
    named = frame.with_columns(
        pl.concat_str([pl.col(n).cast(pl.String).str.strip_chars() for n in names], separator=" / ", ignore_nulls=True)
        .str.replace_all(r"( / )+$", "")
        .alias("__name")
    )
    wide = named.pivot(on="__name", index=keys, values=value, aggregate_function="first")
    return RawTable(wide, wide.columns)


def _read_csv(source: SourceDef, numeric: Collection[str], *, scan: bool) -> RawTable:
    """Scanned when the file is UTF-8 text as it is; metric columns typed by the reader when the decimal is "."."""
    data = _csv_data(source)
    headers = csv_headers(source, data)
    options = {"separator": source.separator, "raise_if_empty": False, "skip_rows": source.header_row - 1}
    first_line = source.header_row + 1
    typed = set(numeric) & set(headers) if source.decimal == "." and len(set(headers)) == len(headers) else set()
    schema = {header: pl.Float64 if header in typed else pl.String for header in headers}
    if typed and scan and isinstance(data, Path):
        # The fast path of large files: short rows are not looked for (that is another pass over the file).
        return RawTable(pl.scan_csv(data, schema_overrides=schema, **options), headers, first_line)
    try:
        frame = pl.read_csv(data, schema_overrides=schema, **options) if typed else pl.read_csv(data, infer_schema=False, **options)
    except pl.exceptions.ComputeError:
        # A cell that is not a plain number ("1 234.56", "n/a"): read as text, parsed and reported later.
        frame = pl.read_csv(data, infer_schema=False, **options)
    return RawTable(frame, headers, first_line, warnings=tuple(_short_rows(source, data, headers)))


def _short_rows(source: SourceDef, data: Path | bytes, headers: list[str]) -> list[Diagnostic]:
    """Lines with fewer fields than the header: the reader fills the missing cells in silently, so say so."""
    text = data.read_bytes() if isinstance(data, Path) else data
    lines = text.decode("utf-8", errors="replace").split("\n")[source.header_row:]
    short = []
    for number, line in enumerate(lines, start=source.header_row + 1):
        if not line.strip():
            continue
        # Quoted fields may hold the separator: only such lines go through the csv module.
        fields = len(next(csv.reader([line], delimiter=source.separator))) if '"' in line else line.count(source.separator) + 1
        if fields < len(headers):
            short.append((number, fields))
    if not short:
        return []
    number, fields = short[0]
    more = f" (and {len(short) - 1} more line(s))" if len(short) > 1 else ""
    message = f"line has {fields} of the header's {len(headers)} fields{more}: the missing cells are read as empty"
    return [Diagnostic(str(source.path), number, fields, "KR504", message, "warning")]


def _csv_data(source: SourceDef) -> Path | bytes:
    """The file itself when polars can read it as it is (UTF-8 with LF or CRLF lines), else its text as UTF-8."""
    if source.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig"):
        with source.path.open("rb") as file:
            start = file.read(PEEK_BYTES)
        _check_text(source, start)
        if b"\r" in start and b"\n" not in start:
            # Old Mac line endings (CR only): polars would see one long line.
            return source.path.read_bytes().replace(b"\r", b"\n")
        return source.path
    raw = source.path.read_bytes()
    _check_text(source, raw[:PEEK_BYTES], utf8=False)
    return raw.decode(source.encoding).replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")


def csv_headers(source: SourceDef, data: Path | bytes | None = None) -> list[str]:
    """A CSV file's header, from its first lines."""
    data = _csv_data(source) if data is None else data
    if isinstance(data, Path):
        with data.open(encoding="utf-8-sig", errors="replace", newline="") as file:
            start = file.read(PEEK_BYTES)
    else:
        start = data[:PEEK_BYTES].decode("utf-8", errors="replace").removeprefix("\ufeff")
    rows = csv.reader(io.StringIO(start), delimiter=source.separator)
    for _ in range(source.header_row - 1):
        next(rows, None)
    return next(rows, [])  # as polars names the columns: surrounding spaces are matched by headers.normalise


def _check_text(source: SourceDef, start: bytes, *, utf8: bool = True) -> None:
    """A CSV file must be text: say what it is instead (a spreadsheet, binary data, another encoding)."""
    if start.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError([file_problem(source, "KR301", "is a spreadsheet (Excel or OpenDocument), not CSV: name it .xlsx/.xls/.ods or add format: excel")])
    if b"\x00" in start:
        at = start.index(b"\x00")
        raise InputError([_at_byte(source, start, at, f"has NUL bytes (byte {at}): it is not a text CSV file")])
    if utf8:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(start, final=False)
        except UnicodeDecodeError as error:
            message = f"not UTF-8 (byte {error.start}): add encoding: cp1251 (or the file's encoding) to the source"
            raise InputError([_at_byte(source, start, error.start, message)]) from None


def _at_byte(source: SourceDef, start: bytes, at: int, message: str) -> Diagnostic:
    """A problem at a byte of the file, with the line and column it is on."""
    line_start = start.rfind(b"\n", 0, at) + 1
    return Diagnostic(str(source.path), start.count(b"\n", 0, at) + 1, at - line_start + 1, "KR301", message)


def _locate_csv_problem(source: SourceDef) -> tuple[int, int] | None:
    """Where a CSV file the reader gave up on goes wrong: a line with more fields than the header, or a quote
    left open. Only asked when reading failed, to point at the line rather than the file."""
    data = _csv_data(source)
    text = data.read_text(encoding="utf-8-sig", errors="replace") if isinstance(data, Path) else data.decode("utf-8", errors="replace")
    lines = io.StringIO(text)
    for _ in range(source.header_row - 1):
        lines.readline()
    reader = csv.reader(lines, delimiter=source.separator, strict=True)
    before = source.header_row - 1  # file lines before the reader's first
    width = len(next(reader, []))
    while True:
        starts = before + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return _stray_quote(text, source.header_row - 1)
        except csv.Error:
            return starts, 1
        if len(row) > width:
            return starts, width + 1


def _stray_quote(text: str, skip: int) -> tuple[int, int] | None:
    """The first line with an odd number of quotes: one opened and never closed, or one inside a field
    (``Fitness Studio"53534``), which Python's csv reads as text and polars does not."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > skip and line.count('"') % 2:
            return number, line.index('"') + 1
    return None


def _read_yaml_records(source: SourceDef) -> pl.DataFrame:
    document = load_yaml(source.path)
    if not isinstance(document.data, list) or not all(isinstance(row, dict) for row in document.data):
        raise InputError([Diagnostic(str(source.path), 1, 1, "KR301", "expected a list of records (one mapping per row)")])
    return pl.DataFrame(document.data, strict=False, infer_schema_length=None)
