"""Load clients' data files into one typed polars frame.

Each distinct source (file plus reading options) is read once, however many
client files share it. Columns are renamed by the source's mapping, the date
parsed, metrics coerced to Float64 column-wise; a cell that is not a number or
a date is reported with its file, line and column. Large files are scanned
rather than read (see ``read_source``), so their rows stream through the
aggregation without being held in memory.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Collection
from pathlib import Path

import polars as pl

from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean
from kpi_rules.loading import load_yaml
from kpi_rules.model import ClientDef, ClientGroupDef, SourceDef

KEY_COLUMNS = ("date", "client", "channel")
MAX_CELL_PROBLEMS_PER_COLUMN = 5
UTF8_CHECK_BYTES = 1 << 20
CSV_FIRST_DATA_LINE = 2  # line 1 is the header


def load_data(groups: list[ClientGroupDef]) -> pl.LazyFrame:
    """Every group's rows: client, channel, date, one Float64 per metric, and ``group`` (its index in ``groups``).

    Nothing is read yet where it can be scanned: which clients a group has (``clients: all``) is known
    once the rows are aggregated, see ``find_clients``.
    """
    metric_ids = _metric_ids(groups)
    problems: list[Diagnostic] = []
    frames: dict[SourceDef, pl.LazyFrame] = {}
    for source in dict.fromkeys(source for group in groups for source in group.template.sources):
        try:
            frames[source] = read_source(source, metric_ids)
        except InputError as error:
            problems.extend(error.diagnostics)
    rows: list[pl.LazyFrame] = []
    for index, group in enumerate(groups):
        for source in group.template.sources:
            if source in frames:
                try:
                    rows.append(_rows_of(group, source, frames[source]).with_columns(group=pl.lit(index, pl.Int32)))
                except InputError as error:
                    problems.extend(error.diagnostics)
    if problems:
        raise InputError(problems)
    return pl.concat(rows, how="diagonal_relaxed")


def find_clients(groups: list[ClientGroupDef], found: dict[int, Collection[str]]) -> list[ClientDef]:
    """The clients of the groups, given the client names each group's rows have (by group index).

    ``clients: all`` takes every name, in name order; a listed client without rows, an override for a
    client without rows and a client in two files are errors.
    """
    problems: list[Diagnostic] = []
    clients: list[ClientDef] = []
    for index, names_in_rows in found.items():
        group = groups[index]
        names_found = set(names_in_rows)
        names = group.names if group.names is not None else tuple(sorted(names_found))
        problems += [_no_rows(group, name) for name in names if name not in names_found]
        if group.names is None:
            problems += [_no_rows(group, name, "override for") for name in group.overrides if name not in names_found]
        clients.extend(group.client(name) for name in names)
    problems += _defined_twice(clients)
    if problems:
        raise InputError(problems)
    return clients


def diagnose(groups: list[ClientGroupDef], error: Exception) -> InputError:
    """Why scanning the data failed: every source read the slow way, which reports bad cells one by one."""
    metric_ids = _metric_ids(groups)
    problems: list[Diagnostic] = []
    for source in dict.fromkeys(source for group in groups for source in group.template.sources):
        try:
            read_source(source, metric_ids, scan=False)
        except InputError as found:
            problems.extend(found.diagnostics)
    if not problems:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        paths = ", ".join(sorted({str(source.path) for group in groups for source in group.template.sources}))
        problems.append(Diagnostic(paths, None, None, "KR301", f"cannot read the data: {message}"))
    return InputError(problems)


def _metric_ids(groups: list[ClientGroupDef]) -> list[str]:
    return sorted({metric for group in groups for metric in group.template.playbook.metrics})


def _rows_of(group: ClientGroupDef, source: SourceDef, frame: pl.LazyFrame) -> pl.LazyFrame:
    names = group.names
    if "client" not in frame.collect_schema().names():
        if names is None or len(names) != 1:
            raise InputError([_file_problem(source, "KR304", 'no "client" column to tell the clients of ' + f"{group.path} apart")])
        return frame.with_columns(client=pl.lit(names[0]))
    if names is None:
        return frame
    return frame.filter(pl.col("client") == names[0]) if len(names) == 1 else frame.filter(pl.col("client").is_in(names))


def _no_rows(group: ClientGroupDef, name: str, what: str = "client") -> Diagnostic:
    names = sorted({found for source in group.template.sources for found in _client_names(source)})
    hint = f"; the client column has: {', '.join(names[:10])}" + ("..." if len(names) > 10 else "") if names else ""
    return Diagnostic(group.path, None, None, "KR305", f'no data rows for {what} "{name}"{did_you_mean(name, names)}{hint}')


def _client_names(source: SourceDef) -> list[str]:
    """The names in a source's client column (for a hint: read again, only when something is wrong)."""
    frame = _read_raw(source, [], scan=False).lazy()
    mapping = {old: new for old, new in source.columns if new == "client"}
    frame = frame.rename(mapping)
    if "client" not in frame.collect_schema().names():
        return []
    return frame.select(pl.col("client").cast(pl.String).unique().drop_nulls()).collect()["client"].to_list()


def _defined_twice(clients: list[ClientDef]) -> list[Diagnostic]:
    """Clients defined by two files: one problem per pair of files (two `clients: all` files share thousands)."""
    first_seen: dict[str, ClientDef] = {}
    twice: dict[tuple[str, str], list[str]] = {}
    for client in clients:
        if client.name in first_seen:
            twice.setdefault((client.path, first_seen[client.name].path), []).append(client.name)
        first_seen.setdefault(client.name, client)
    problems = []
    for (path, other), names in twice.items():
        shown = ", ".join(f'"{name}"' for name in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        what = f"client {shown} is" if len(names) == 1 else f"clients {shown} are"
        problems.append(Diagnostic(path, None, None, "KR205", f"{what} also defined in {other}"))
    return problems


def read_source(source: SourceDef, metric_ids: list[str], *, scan: bool = True) -> pl.LazyFrame:
    """One data file as a typed frame: date (Date), client/channel (String), metrics (Float64).

    With ``scan``, a UTF-8 CSV file and a Parquet file with numeric metric columns are scanned, not read:
    the query that aggregates them streams, so files larger than memory work. A cell that will not parse
    then fails that query, and ``diagnose`` reads the file again without ``scan``, which reports every bad
    cell with its line and column.
    """
    raw = _read_raw(source, metric_ids, scan=scan)
    raw_columns = raw.collect_schema().names()
    mapping = dict(source.columns)
    problems = []
    for original, target in mapping.items():
        if original not in raw_columns:
            problems.append(_file_problem(source, "KR304", f'mapped column "{original}" is not in the file{did_you_mean(original, raw_columns)}'))
        elif target not in metric_ids and target not in KEY_COLUMNS:
            problems.append(_file_problem(source, "KR205", f'column "{original}" is mapped to unknown metric "{target}"{did_you_mean(target, metric_ids)}'))
    frame = raw.rename({c: mapping[c] for c in raw_columns if c in mapping})
    columns = frame.collect_schema().names()
    known = set(metric_ids) | set(KEY_COLUMNS)
    for column in columns:
        hint = "" if column in known else did_you_mean(column, known)
        if hint:
            problems.append(_file_problem(source, "KR304", f'column "{column}" is not a metric{hint}; rename it or map it under columns:'))
    if "date" not in columns:
        hint = did_you_mean("date", columns)
        if source.format == "csv" and len(raw_columns) == 1:
            other = next((s for s in (";", "\t", "|", ",") if s in raw_columns[0] and s != source.separator), None)
            hint = f'; the header looks separated by "{other}": add separator: "{other}" to the source' if other else hint
        problems.append(_file_problem(source, "KR304", 'no "date" column' + hint))
    if problems:
        raise InputError(problems)

    metrics = [column for column in columns if column in metric_ids]
    if isinstance(frame, pl.LazyFrame):
        schema = frame.collect_schema()
        if all(schema[m].is_numeric() for m in metrics):
            # Dates that will not parse (or are empty) come out null: pipeline asks diagnose to name them.
            return frame.select(
                _parse_date(schema["date"], source.date_format).alias("date"),
                *[pl.col(c).cast(pl.String) for c in ("client", "channel") if c in columns],
                *[pl.col(m).cast(pl.Float64) for m in metrics],
            )
        raw, frame = raw.collect(), frame.collect()
    try:
        typed = _typed(frame, metrics, source)
    except pl.exceptions.PolarsError as error:
        raise InputError([_file_problem(source, "KR301", f"cannot read its columns: {str(error).strip().splitlines()[0]}")]) from None
    problems = _cell_problems(source, raw, frame, typed, ["date", *metrics])
    if problems:
        raise InputError(problems)
    return typed.lazy()


def _typed(frame: pl.DataFrame, metrics: list[str], source: SourceDef) -> pl.DataFrame:
    return frame.select(
        _parse_date(frame.schema["date"], source.date_format).alias("date"),
        *[pl.col(c).cast(pl.String) for c in ("client", "channel") if c in frame.columns],
    ).with_columns(_parse_number(frame[m], source.decimal) for m in metrics)


def _read_raw(source: SourceDef, metric_ids: list[str], *, scan: bool) -> pl.DataFrame | pl.LazyFrame:
    """The file as read (or scanned), before renaming and typing."""
    try:
        if source.format == "csv":
            if source.encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
                with source.path.open("rb") as file:
                    _check_utf8(source, file.read(UTF8_CHECK_BYTES))
                return _read_csv(source, source.path, metric_ids, scan=scan)  # polars reads the file itself, mapped
            text = io.BytesIO(source.path.read_bytes().decode(source.encoding).encode("utf-8"))
            return _read_csv(source, text, metric_ids, scan=False)
        if source.format == "parquet":
            if not scan:
                return pl.read_parquet(source.path)
            frame = pl.scan_parquet(source.path)
            frame.collect_schema()  # reads the footer: a file that is not Parquet fails here, where it is reported
            return frame
        if source.format == "json":
            return pl.read_json(source.path, infer_schema_length=None)
        return _read_yaml_records(source)
    except InputError:
        raise
    except (LookupError, UnicodeDecodeError) as error:
        raise InputError([_file_problem(source, "KR301", f"cannot decode as {source.encoding}: {error}")]) from None
    except (OSError, pl.exceptions.PolarsError, ValueError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError([_file_problem(source, "KR301", f"cannot read {source.format.upper()}: {message}")]) from None


def _read_csv(source: SourceDef, data: Path | io.BytesIO, metric_ids: list[str], *, scan: bool) -> pl.DataFrame | pl.LazyFrame:
    """Metric columns parsed as numbers by the CSV reader (fast: scanned, or read); when a cell will not
    parse, the file is read again as text, so that the bad cells can be reported rather than guessed at."""
    options = {"separator": source.separator, "raise_if_empty": False}
    header = pl.read_csv(data, n_rows=0, infer_schema=False, **options).columns
    mapping = dict(source.columns)
    numeric = {column for column in header if mapping.get(column, column) in metric_ids}
    if numeric:
        schema = {column: pl.Float64 if column in numeric else pl.String for column in header}
        typed = {"schema_overrides": schema, "decimal_comma": source.decimal == ",", **options}
        if scan and isinstance(data, Path):
            return pl.scan_csv(data, **typed)
        try:
            return pl.read_csv(data, **typed)
        except pl.exceptions.ComputeError:
            pass  # a cell that is not a plain number ("1 234,56", "n/a"): the text path below deals with it
    return pl.read_csv(data, infer_schema=False, **options)


def _check_utf8(source: SourceDef, data: bytes) -> None:
    """Excel's Russian exports are cp1251: say so, rather than let the headers come out garbled."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError as error:
        raise InputError(
            [_file_problem(source, "KR301", f"not UTF-8 (byte {error.start}): add encoding: cp1251 (or the file's encoding) to the source")]
        ) from None


def _read_yaml_records(source: SourceDef) -> pl.DataFrame:
    document = load_yaml(source.path)
    if not isinstance(document.data, list) or not all(isinstance(row, dict) for row in document.data):
        raise InputError([Diagnostic(str(source.path), 1, 1, "KR301", "expected a list of records (one mapping per row)")])
    return pl.DataFrame(document.data, strict=False, infer_schema_length=None)


def _parse_date(dtype: pl.DataType, date_format: str | None) -> pl.Expr:
    column = pl.col("date")
    if dtype == pl.Date:
        return column
    if isinstance(dtype, pl.Datetime):
        return column.dt.date()
    text = column.cast(pl.String).str.strip_chars()
    if date_format:
        if any(code in date_format for code in ("%H", "%M", "%S", "%T")):
            return text.str.to_datetime(date_format, strict=False).dt.date()
        return text.str.to_date(date_format, strict=False)
    # ISO dates, or ISO timestamps of per-post exports ("2026-10-05 14:30"): the day is what counts.
    return text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _parse_number(column: pl.Series, decimal: str) -> pl.Series:
    """The column as Float64; a cell that is not a number becomes null (and is reported)."""
    if column.dtype.is_numeric():
        return column.cast(pl.Float64)
    text = column.cast(pl.String)
    if decimal == ",":
        text = text.str.replace(",", ".", literal=True)
    numbers = text.cast(pl.Float64, strict=False)
    if numbers.null_count() > text.null_count():
        # Exports write thousands with spaces ("1 234,56", often a no-break space): the slower path, only when needed.
        numbers = text.str.replace_all(r"[\s\u00a0\u202f]", "").cast(pl.Float64, strict=False)
    return numbers


def _cell_problems(
    source: SourceDef, raw: pl.DataFrame, renamed: pl.DataFrame, typed: pl.DataFrame, columns: list[str]
) -> list[Diagnostic]:
    """Cells that were present but did not parse, at most a few per column."""
    original_names = {new: old for old, new in dict(source.columns).items()}
    problems = []
    for column in columns:
        given, parsed = renamed[column], typed[column]
        if column == "date":
            # A row without a date belongs to no period: an empty date is as bad as an unreadable one.
            bad = parsed.is_null().arg_true()
        elif parsed.null_count() == given.null_count():
            continue
        else:
            present = given.str.strip_chars().str.len_chars() > 0 if given.dtype == pl.String else given.is_not_null()
            bad = (present & parsed.is_null()).arg_true()
        if bad.is_empty():
            continue
        header = original_names.get(column, column)
        field = raw.columns.index(header) + 1
        kind, code = ("date", "KR303") if column == "date" else ("number", "KR302")
        for row in bad.head(MAX_CELL_PROBLEMS_PER_COLUMN).to_list():
            value = given[row]
            cell = f'"{value}"' if value not in (None, "") else "an empty cell"
            line, col = (CSV_FIRST_DATA_LINE + row, field) if source.format == "csv" else (None, None)
            where = "" if source.format == "csv" else f"row {row + 1}: "
            problems.append(Diagnostic(str(source.path), line, col, code, f'{where}{cell} in column "{header}" is not a {kind}'))
        if len(bad) > MAX_CELL_PROBLEMS_PER_COLUMN:
            problems.append(
                Diagnostic(str(source.path), None, None, code, f'column "{header}": {len(bad) - MAX_CELL_PROBLEMS_PER_COLUMN} more cells are not a {kind}')
            )
    return problems


def _file_problem(source: SourceDef, code: str, message: str) -> Diagnostic:
    return Diagnostic(str(source.path), 1 if source.format == "csv" else None, 1 if source.format == "csv" else None, code, message)
