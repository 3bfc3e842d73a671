"""Data in a database (DuckDB, PostgreSQL, Spark, ClickHouse ... through Ibis), aggregated where it lives.

A source with ``connection:`` is opened here: its table (or query) is looked at, its columns matched to
metrics like a file's headers (data.headers) and typed, and the source's ``where`` and ``absent`` applied,
all as Ibis expressions: nothing is read yet. The pipeline then asks for the aggregation (data.pushdown),
which the database runs as one query; only the client x period rows come back.

Ibis and the engine's driver are imported here only, when a client file has such a source. The query sent
is logged (``kpi-rules check --verbose`` prints it). Every problem (an unset variable, an engine that is not
installed, a server that does not answer, a missing table or column, text where a number belongs) is a
diagnostic at the source in the client file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kpi_rules.data.files import file_problem
from kpi_rules.data.headers import ColumnPlan, plan_columns, where_header
from kpi_rules.diagnostics import InputError, did_you_mean
from kpi_rules.sources import DATABASE_EXTRAS

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import polars as pl

    from kpi_rules.model import MetricDef, PlaybookDef, SourceDef
    from kpi_rules.periods import PeriodSpan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseRows:
    """A database source's rows as an Ibis table: date, moment (from a timestamp), client, channel, metrics."""

    source: SourceDef
    table: Any  # ibis.Table, still a query
    plan: ColumnPlan
    backend: Any  # the connection, to be closed when the rows have been aggregated

    def close(self) -> None:
        """Disconnect, except from Spark: its session is shared by the whole process, and stopping it would lose
        the tables registered in it."""
        _disconnect(self.backend)

    def with_zeros(self, metrics: list[str]) -> DatabaseRows:
        """With ``metrics`` 0 on every row (a source's ``absent`` ones)."""
        import ibis

        if not metrics:
            return self
        return DatabaseRows(self.source, self.table.mutate(**{name: ibis.literal(0.0, "float64") for name in metrics}), self.plan, self.backend)


def open_source(source: SourceDef, metric_ids: list[str]) -> DatabaseRows:
    """The source's table, typed and filtered; close() it when done."""
    backend = _connect(source)
    try:
        return _opened(source, metric_ids, backend)
    except InputError:
        _disconnect(backend)
        raise


def _opened(source: SourceDef, metric_ids: list[str], backend: Any) -> DatabaseRows:
    import ibis

    raw = _table(source, backend)
    headers = list(raw.columns)
    plan = plan_columns(source, headers, set(metric_ids))
    kept = [raw[where_header(column, headers)].cast("string").strip().isin(list(values)) for column, values in source.where]
    typed = raw.filter(*kept) if kept else raw
    columns = {**_dates(source, typed, plan.feeds["date"][0]), **{key: typed[plan.feeds[key][0]].cast("string") for key in ("client", "channel") if key in plan.feeds}}
    problems = []
    for metric, names in plan.feeds.items():
        if metric in ("date", "client", "channel"):
            continue
        kinds = {name: typed[name].type() for name in names}
        problems += [file_problem(source, "KR302", f'column "{name}" is {kind}, not a number: cast it in query:') for name, kind in kinds.items() if not kind.is_numeric() or kind.is_boolean()]
        values = [typed[name].cast("float64") if kinds[name].is_decimal() else typed[name] for name in names]
        # Several columns mapped to one metric are added up; null only when all are.
        columns[metric] = values[0] if len(values) == 1 else ibis.ifelse(ibis.and_(*[v.isnull() for v in values]), ibis.null("float64"), sum(v.fill_null(0) for v in values))
    if problems:
        raise InputError(problems)
    return DatabaseRows(source, typed.select(**columns), plan, backend)


def aggregate_in_database(
    rows: DatabaseRows,
    metrics: dict[str, MetricDef],
    grain: str,
    playbook: PlaybookDef,
    row_kpis: list[str],
    span: PeriodSpan | None,
    names: tuple[str, ...] | None,
    group: int,
) -> pl.DataFrame:
    """The periods of the source's rows (of the clients ``names``, or all), as ``aggregate`` gives them, with
    ``group``: the index of the client file. The database aggregates; ``aggregate.finish`` does the rest."""
    import ibis
    import polars as pl

    from kpi_rules.aggregate import finish
    from kpi_rules.data.pushdown import aggregate_query, row_values

    source = rows.source
    table = rows.table
    if "client" not in table.columns:
        table = table.mutate(client=ibis.literal(names[0]))
    elif names is not None:
        table = table.filter(table.client.isin(list(names)))
    per_row = row_values(playbook, row_kpis, table, lambda message: file_problem(source, "KR309", message))
    query, fixed = aggregate_query(table, metrics, grain, per_row, span)
    log.info("query sent for %s:\n%s", _described(source), ibis.to_sql(query))
    try:
        frame = query.to_polars()
    except Exception as error:  # each engine and driver has its own errors; all are a failed query here
        raise InputError([file_problem(source, "KR309", f"the query failed: {_first_line(error)}")]) from None
    undated = frame.filter(pl.col("period_start").is_null() | pl.col("client").is_null())
    if undated.height:
        raise InputError([file_problem(source, "KR303", f"{_described(source)} has rows without a date or a client: filter them out in query: or fill them in")])
    present = [metric for metric in metrics.values() if metric.id in table.columns]
    # Typed as the polars path has them: sums of whole millionths (Decimal here) and stocks' smaller values as
    # floats, counts as UInt32, flags as booleans.
    floats = [name for name, kind in frame.schema.items() if kind == pl.Decimal or name.startswith("smaller:")]
    counts = [name for name in frame.columns if name.startswith(("n:", "count:")) or name == "days_with_data"]
    flags = [name for name in frame.columns if name.startswith("negative:")]
    frame = frame.with_columns(pl.col(floats).cast(pl.Float64), pl.col(counts).cast(pl.UInt32), pl.col(flags).cast(pl.Boolean))
    finite = [metric.id for metric in present]
    if finite and frame.select(pl.any_horizontal(~pl.col(finite).cast(pl.Float64).is_finite()).any()).item():
        raise InputError([file_problem(source, "KR302", f"{_described(source)} has a value that is not a finite number (inf or NaN): filter it out in query:")])
    return finish(frame.lazy().with_columns(group=pl.lit(group, pl.Int32)), present, grain, span, fixed, list(per_row)).collect()


def client_names(source: SourceDef, metric_ids: list[str]) -> list[str]:
    """The names in the source's client column (for a hint, when a client has no rows)."""
    try:
        rows = open_source(source, metric_ids)
    except InputError:
        return []
    try:
        if "client" not in rows.table.columns:
            return []
        return sorted(rows.table.select("client").distinct().to_polars()["client"].drop_nulls().to_list())
    finally:
        rows.close()


def _dates(source: SourceDef, table: ir.Table, column: str) -> dict[str, ir.Value]:
    kind = table[column].type()
    if kind.is_date():
        return {"date": table[column]}
    if kind.is_timestamp():
        if source.timezone:
            message = f'column "{column}" holds timestamps, and the client has a time zone: convert them in query: (e.g. AT TIME ZONE) to dates of {source.timezone}'
            raise InputError([file_problem(source, "KR303", message)])
        # A stock is taken at its latest moment, not merely its last day (see aggregate).
        return {"date": table[column].date(), "moment": table[column].cast("timestamp")}
    raise InputError([file_problem(source, "KR303", f'column "{column}" is {kind}, not a date: cast it in query: (CAST(... AS DATE))')])


def _table(source: SourceDef, backend: Any) -> ir.Table:
    try:
        if source.query:
            return backend.sql(source.query)
        database, _, name = source.table.rpartition(".")
        return backend.table(name, database=database or None)
    except Exception as error:  # a missing table, a bad query: each backend has its own exception
        if source.query:
            raise InputError([file_problem(source, "KR309", f"the query failed: {_first_line(error)}")]) from None
        raise InputError([file_problem(source, "KR309", f'no table "{source.table}" in {source.connection.removeprefix("duckdb://")}{_tables_hint(backend, source.table)}')]) from None


def _connect(source: SourceDef) -> Any:
    url = source.connection
    if url.startswith("env:"):
        url = os.environ.get(url[4:], "")
        if not url:
            raise InputError([file_problem(source, "KR309", f"the environment variable {source.connection[4:]} is not set: it holds the connection URL")])
    scheme = url.partition("://")[0].lower()
    extra = DATABASE_EXTRAS.get(scheme)
    if extra is None:
        shown = _redacted(url)
        raise InputError([file_problem(source, "KR309", f'{source.connection[4:]} holds "{shown}", which names no database kpi-rules knows: {", ".join(sorted(DATABASE_EXTRAS))}')])
    try:
        import ibis

        if scheme == "duckdb":
            # Read only: a report never changes the user's database, and a missing file is never created.
            return ibis.duckdb.connect(url.removeprefix("duckdb://"), read_only=True)
        return ibis.connect(url)
    except ImportError:
        raise InputError([file_problem(source, "KR309", f'{scheme} sources need the engine\'s driver: pip install "kpi-rules[{extra}]"')]) from None
    except Exception as error:  # unreachable servers, bad credentials: each driver has its own exception
        raise InputError([file_problem(source, "KR309", f"cannot connect to {_redacted(url)}: {_first_line(error)}")]) from None


def _disconnect(backend: Any) -> None:
    if backend.name != "pyspark":
        backend.disconnect()


def _tables_hint(backend: Any, table: str) -> str:
    try:
        database, _, _ = table.rpartition(".")
        names = backend.list_tables(database=database or None)
    except Exception:  # the hint is a courtesy; the missing table is the problem reported
        return ""
    return did_you_mean(table.rpartition(".")[2], names) or (f"; it has: {', '.join(sorted(names)[:10])}" if names else "")


def _described(source: SourceDef) -> str:
    where = f"query of {source.connection}" if source.query else f'table "{source.table}" of {source.connection}'
    return where.replace("duckdb://", "")


def _redacted(url: str) -> str:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


