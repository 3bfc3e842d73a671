"""A file's cells -> typed rows: date (and date_end), client, channel, one Float64 per metric.

Two ways, one set of rules. A scanned file (``LazyFrame``) is typed strictly: a cell that
will not parse fails the query, and the file is then read again the slow way. Read the
slow way (``DataFrame``), a total row is skipped with a warning and every bad cell is
reported with its line and column; the rows of a client with a bad cell are left out
(the other clients of the file are still scored), or the whole file when it has no
client column.

Dates in the client's time zone (``timezone:``): a date cell that is a timestamp (a datetime column, or text
such as ``2026-10-31T22:30:00Z`` or ``2026-10-31 22:30:00+00:00``) is converted to it before its day is
taken, so a post at 22:30 UTC on 31 October counts in November in Moscow. A timestamp without an offset is
already local time, as exports write it (Meta's "Publish time" is in the account's zone): its day is kept. A
plain date is already a day of the client's calendar and is kept. Without ``timezone:`` a timestamp's own day
counts, as written.

The time of day is kept where the date cells carry one: a ``date_time`` column (local time, as the day is
taken) beside ``date``, so that a stock (followers, agg ``last``) of per-post rows is the one of the day's
latest post, not the day's largest value. A source whose date cells are plain dates gets no such column (the
first rows of a text column are looked at to tell).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from kpi_rules.data.files import RawTable
from kpi_rules.data.headers import ColumnPlan, normalise, where_header
from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.model import POST_COLUMNS, SourceDef

MAX_CELL_PROBLEMS_PER_COLUMN = 5
# What exports write in the date cell of a total row (Russian, English, Polish, German).
TOTAL_WORDS = frozenset({"итого", "итог", "всего", "total", "totals", "grand total", "razem", "suma", "podsumowanie", "gesamt"})
ROW = "__row"
MOMENT = "date_time"
# Columns read as text: who a row is about, and a post's link and text.
TEXT_COLUMNS = ("client", "channel", *POST_COLUMNS)
# Rows looked at to tell whether a text date column carries times.
TIME_SAMPLE_ROWS = 1000
SPACES = r"[\s\u00a0\u202f]"
# An ISO date, optionally with a time (seconds and fractions optional) and an offset: Z, UTC, +03, +0300, +03:00.
TIMESTAMP = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d)(?:[.,]\d+)?)?"
    r"\s*(?:(?P<utc>Z|UTC)|(?P<sign>[+-])(?P<offset_hours>[01]\d|2[0-3])(?::?(?P<offset_minutes>[0-5]\d))?)?)?$"
)


@dataclass(frozen=True)
class TypedRows:
    frame: pl.LazyFrame
    problems: tuple[Diagnostic, ...] = ()  # total rows skipped (warnings), bad cells of left-out clients
    excluded: frozenset[str] = frozenset()  # clients left out for a bad cell


def type_rows(source: SourceDef, raw: RawTable, plan: ColumnPlan) -> TypedRows:
    frame = raw.frame
    if source.where:
        frame = frame.filter(*[_kept(column, values, raw.headers) for column, values in source.where])
    if isinstance(frame, pl.LazyFrame):
        return TypedRows(frame.select(_typed(source, plan, frame.collect_schema(), frame, strict=True)))
    # Empty rows inside a spreadsheet's table are no data; their numbers stay counted for the positions.
    frame = frame.with_row_index(ROW).filter(~pl.all_horizontal(pl.exclude(ROW).is_null()))
    frame, problems = _without_total_rows(source, raw, plan, frame)
    problems += raw.warnings
    parsed = frame.select(pl.col(ROW), *_cells(source, plan, frame.schema))
    bad_rows, cell_problems = _bad_cells(source, raw, plan, frame, parsed)
    typed = frame.select(pl.col(ROW), *_typed(source, plan, frame.schema, frame, strict=False))
    excluded: frozenset[str] = frozenset()
    if cell_problems:
        if "client" not in plan.feeds:
            raise InputError(cell_problems + problems)
        excluded = frozenset(typed.filter(pl.col(ROW).is_in(bad_rows))["client"].drop_nulls().to_list())
        typed = typed.filter(~pl.col("client").is_in(list(excluded)))
        problems += [_left_out(source, excluded)] + cell_problems
    return TypedRows(typed.drop(ROW).lazy(), tuple(problems), excluded)


def _kept(column: str, values: tuple[str, ...], headers: list[str]) -> pl.Expr:
    return pl.col(where_header(column, headers)).cast(pl.String).str.strip_chars().is_in(list(values))


def _typed(source: SourceDef, plan: ColumnPlan, schema: pl.Schema, frame: pl.DataFrame | pl.LazyFrame, *, strict: bool) -> list[pl.Expr]:
    """date, date_end, client, channel and the metrics, each from the columns that feed it."""
    expressions = [_date(plan.feeds["date"][0], schema, source).alias("date")]
    if has_times(frame, plan.feeds["date"][0], schema, source):
        expressions.append(_moment(plan.feeds["date"][0], schema, source).alias(MOMENT))
    if "date_end" in plan.feeds:
        expressions.append(_date(plan.feeds["date_end"][0], schema, source).alias("date_end"))
    elif source.rows in ("week", "month"):
        start = expressions[0]
        end = start.dt.month_end() if source.rows == "month" else start.dt.offset_by("6d")
        expressions.append(end.alias("date_end"))
    expressions += [pl.col(plan.feeds[key][0]).cast(pl.String).alias(key) for key in TEXT_COLUMNS if key in plan.feeds]
    for metric, headers in plan.feeds.items():
        if metric in ("date", "date_end", *TEXT_COLUMNS):
            continue
        numbers = [_number(header, schema, source.decimal, strict=strict, integers=True) for header in headers]
        if len(numbers) == 1:
            expressions.append(numbers[0].alias(metric))
        else:
            # Several columns mapped to one metric are added up; null only when all are empty.
            present = pl.any_horizontal(number.is_not_null() for number in numbers)
            expressions.append(pl.when(present).then(pl.sum_horizontal(numbers)).alias(metric))
    if source.rows == "post" and "posts" not in plan.feeds:
        expressions.append(pl.lit(1.0).alias("posts"))  # a row is a post
    return expressions


def _cells(source: SourceDef, plan: ColumnPlan, schema: pl.Schema) -> list[pl.Expr]:
    """Every column the plan reads, parsed on its own (for reporting the cells that will not parse)."""
    expressions = []
    for target, headers in plan.feeds.items():
        for header in headers:
            if target in ("date", "date_end"):
                expressions.append(_date(header, schema, source).alias(header))
            elif target not in TEXT_COLUMNS:
                expressions.append(_number(header, schema, source.decimal, strict=False).alias(header))
    return expressions


def _date(header: str, schema: pl.Schema, source: SourceDef) -> pl.Expr:
    """A date column as Date: timestamps taken to the source's time zone first, when it has one."""
    column, dtype, date_format, zone = pl.col(header), schema[header], source.date_format, source.timezone
    if dtype == pl.Date:
        return column
    if isinstance(dtype, pl.Datetime):
        return _day_in_zone(column, zone, aware=dtype.time_zone is not None)
    text = column.cast(pl.String).str.strip_chars()
    if date_format:
        if any(code in date_format for code in ("%H", "%M", "%S", "%T")):
            # An offset in the format (%z) makes the parsed times UTC instants.
            aware = re.search(r"%[:#]*z", date_format) is not None
            return _day_in_zone(text.str.to_datetime(date_format, strict=False), zone, aware=aware)
        return text.str.to_date(date_format, strict=False)
    if zone:
        return _iso_day_in_zone(text, zone)
    # ISO dates, or ISO timestamps of per-post exports ("2026-10-05 14:30"): the day is what counts.
    return text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def has_times(frame: pl.DataFrame | pl.LazyFrame, header: str, schema: pl.Schema, source: SourceDef) -> bool:
    """Whether the date cells carry a time of day: a datetime column, a format with hours, or ISO text with a
    time in the first rows."""
    dtype = schema[header]
    if isinstance(dtype, pl.Datetime):
        return True
    if dtype == pl.Date:
        return False
    if source.date_format:
        return any(code in source.date_format for code in ("%H", "%M", "%S", "%T"))
    sample = frame.head(TIME_SAMPLE_ROWS).select(pl.col(header).cast(pl.String).str.strip_chars().str.contains(r"^\d{4}-\d{2}-\d{2}[T ]\d").any())
    found = sample.collect() if isinstance(sample, pl.LazyFrame) else sample
    return bool(found.item())


def _moment(header: str, schema: pl.Schema, source: SourceDef) -> pl.Expr:
    """The date cell as a local date and time (no zone), taken as the day is (see ``_date``); a plain date at
    midnight. What orders the rows of one day."""
    column, dtype, date_format, zone = pl.col(header), schema[header], source.date_format, source.timezone
    if isinstance(dtype, pl.Datetime):
        return _local(column, zone, aware=dtype.time_zone is not None)
    text = column.cast(pl.String).str.strip_chars()
    if date_format:
        aware = re.search(r"%[:#]*z", date_format) is not None
        return _local(text.str.to_datetime(date_format, strict=False), zone, aware=aware)
    parts = text.str.extract_groups(TIMESTAMP)
    written = _clock(parts)
    if not zone:
        return written
    has_offset = parts.struct.field("utc").is_not_null() | parts.struct.field("sign").is_not_null()
    return pl.when(has_offset).then(_local(_instant(parts), zone, aware=True)).otherwise(written)


def _local(timestamps: pl.Expr, zone: str | None, *, aware: bool) -> pl.Expr:
    if not aware:
        return timestamps.cast(pl.Datetime("us"))
    if zone is None:
        return timestamps.dt.replace_time_zone(None).cast(pl.Datetime("us"))
    return timestamps.dt.convert_time_zone(zone).dt.replace_time_zone(None).cast(pl.Datetime("us"))


def _clock(parts: pl.Expr) -> pl.Expr:
    """The date and time as written (a missing time: midnight), without regard to an offset."""
    day = parts.struct.field("date").str.to_date("%Y-%m-%d", strict=False)

    def number(name: str) -> pl.Expr:
        return parts.struct.field(name).cast(pl.Int64).fill_null(0)

    return day.cast(pl.Datetime("us")) + pl.duration(hours=number("hour"), minutes=number("minute"), seconds=number("second"))


def _instant(parts: pl.Expr) -> pl.Expr:
    """The UTC instant of an ISO timestamp with an offset."""

    def number(name: str) -> pl.Expr:
        return parts.struct.field(name).cast(pl.Int64)

    offset = (number("offset_hours") * 60 + number("offset_minutes").fill_null(0)).fill_null(0)
    offset = pl.when(parts.struct.field("sign") == "-").then(-offset).otherwise(offset)
    return (_clock(parts) - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")


def _day_in_zone(timestamps: pl.Expr, zone: str | None, *, aware: bool) -> pl.Expr:
    """The day of each timestamp in ``zone``; a naive one (local time already) and, without a zone, any one:
    the day as written."""
    if zone is None or not aware:
        return timestamps.dt.date()
    return timestamps.dt.convert_time_zone(zone).dt.date()


def _iso_day_in_zone(text: pl.Expr, zone: str) -> pl.Expr:
    """ISO dates kept, ISO timestamps converted to ``zone``: the instant is built from the parts of the text, so
    that one column may mix offsets, and anything else (a time of 25:00) is null, reported as not a date."""
    parts = text.str.extract_groups(TIMESTAMP)
    day = parts.struct.field("date").str.to_date("%Y-%m-%d", strict=False)

    def number(name: str) -> pl.Expr:
        return parts.struct.field(name).cast(pl.Int64)

    clock = pl.duration(hours=number("hour"), minutes=number("minute"), seconds=number("second").fill_null(0))
    offset = (number("offset_hours") * 60 + number("offset_minutes").fill_null(0)).fill_null(0)
    offset = pl.when(parts.struct.field("sign") == "-").then(-offset).otherwise(offset)
    instant = (day.cast(pl.Datetime("us")) + clock - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")
    has_offset = parts.struct.field("utc").is_not_null() | parts.struct.field("sign").is_not_null()
    return pl.when(has_offset).then(_day_in_zone(instant, zone, aware=True)).otherwise(day)


def _number(header: str, schema: pl.Schema, decimal: str, *, strict: bool, integers: bool = False) -> pl.Expr:
    """A number column as Float64: "1 234,56" with decimal ",", spaces (also no-break) as thousands separators.

    With ``integers``, a column that is typed as whole numbers (Parquet) stays Int64: its sums are exact.
    """
    column = pl.col(header)
    if integers and schema[header].is_integer():
        return column.cast(pl.Int64)
    if schema[header].is_numeric():
        return column.cast(pl.Float64)
    text = column.cast(pl.String).str.replace_all(SPACES, "")
    if decimal == ",":
        text = text.str.replace(",", ".", literal=True)
    # Strict (scanned): a cell that is not a number fails the query, and the file is read again to report it.
    return pl.when(text != "").then(text).cast(pl.Float64, strict=strict)


def _without_total_rows(source: SourceDef, raw: RawTable, plan: ColumnPlan, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Diagnostic]]:
    header = plan.feeds["date"][0]
    blank = [pl.col(where_header(column, raw.headers)).cast(pl.String).str.strip_chars().fill_null("") == "" for column in source.total_row_blank if _has(column, raw.headers)]
    is_total = pl.all_horizontal(blank) if blank else pl.lit(False)
    if frame.schema[header] == pl.String:
        is_total = is_total | pl.col(header).str.strip_chars(" :*").str.to_lowercase().is_in(TOTAL_WORDS)
    totals = frame.filter(is_total)
    problems = []
    for row, text in totals.select(ROW, header).iter_rows():
        shown = f' "{text.strip()}"' if isinstance(text, str) and text.strip() else ""
        message = f"total row{shown} skipped: its numbers are the other rows' sum"
        problems.append(_cell(source, raw, row, header, "KR501", message, level="warning"))
    return (frame.filter(~pl.col(ROW).is_in(totals[ROW])) if totals.height else frame), problems


def _has(column: str, headers: list[str]) -> bool:
    return any(normalise(header) == normalise(column) for header in headers)


def _bad_cells(source: SourceDef, raw: RawTable, plan: ColumnPlan, given: pl.DataFrame, parsed: pl.DataFrame) -> tuple[list[int], list[Diagnostic]]:
    """Cells that are present but will not parse (and empty dates), at most a few per column."""
    bad_rows: set[int] = set()
    problems = []
    for target, headers in plan.feeds.items():
        if target in ("client", "channel"):
            continue
        for header in headers:
            cell, value = given[header], parsed[header]
            if target == "date":
                bad = value.is_null()  # a row without a date belongs to no period: empty is as bad as unreadable
            elif target == "date_end":
                bad = value.is_null() & cell.is_not_null()
            else:
                present = cell.cast(pl.String).str.strip_chars().str.len_chars() > 0
                bad = present & (value.is_null() | value.is_infinite() | value.is_nan())
            positions = bad.fill_null(False).arg_true().to_list()
            bad_rows.update(given[ROW].gather(positions).to_list())
            code = "KR303" if target in ("date", "date_end") else "KR302"
            for position in positions[:MAX_CELL_PROBLEMS_PER_COLUMN]:
                text, number = cell[position], value[position]
                shown = f'"{text}"' if text not in (None, "") else "an empty cell"
                kind = "date" if code == "KR303" else ("finite number" if number is not None else "number")
                message = f'{shown} in column "{header}" is not a {kind}'
                problems.append(_cell(source, raw, given[ROW][position], header, code, message))
            if len(positions) > MAX_CELL_PROBLEMS_PER_COLUMN:
                more = len(positions) - MAX_CELL_PROBLEMS_PER_COLUMN
                kind = "date" if code == "KR303" else "number"
                problems.append(Diagnostic(str(source.path), None, None, code, f'column "{header}": {more} more cells are not a {kind}'))
    return sorted(bad_rows), problems


def _cell(source: SourceDef, raw: RawTable, row: int, header: str, code: str, message: str, level: str = "error") -> Diagnostic:
    if raw.first_line is None:
        return Diagnostic(str(source.path), None, None, code, f"row {row + 1}: {message}", level)
    return Diagnostic(str(source.path), raw.first_line + row, raw.first_column + raw.headers.index(header), code, message, level)


def _left_out(source: SourceDef, clients: frozenset[str]) -> Diagnostic:
    names = sorted(clients)
    shown = ", ".join(f'"{name}"' for name in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return Diagnostic(str(source.path), None, None, "KR302", f"not scored for a bad cell below: {shown}")
