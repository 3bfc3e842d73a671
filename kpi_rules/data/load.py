"""Load clients' data files into one typed polars frame: the data stage of the pipeline.

Each distinct source (file plus reading options) is read once, however many
client files share it: its cells read (``files``), its columns matched to
metrics (``headers``), typed (``cells``). Large files are scanned rather than
read, so their rows stream through the aggregation without being held in memory;
when a scanned file will not parse, the pipeline asks again with ``scan=False``,
which reports every bad cell with its file, line and column.

One client file's bad data does not hide the others: a source that cannot be
read leaves out the client files that use it, and a bad cell the client it
belongs to; the problems are returned with the rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from kpi_rules.data.cells import type_rows
from kpi_rules.data.files import csv_headers, file_problem, read_table, widen
from kpi_rules.data.headers import ColumnPlan, plan_columns
from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean
from kpi_rules.model import ClientDef, ClientGroupDef, SourceDef

if TYPE_CHECKING:
    from kpi_rules.data.warehouse import DatabaseRows


@dataclass(frozen=True)
class SourceRows:
    """One source's typed rows (``frame``: date, client, channel, metrics), and what was found reading it.
    A database source has its rows as a query instead (``database``), aggregated where they live."""

    frame: pl.LazyFrame | None
    plan: ColumnPlan
    problems: tuple[Diagnostic, ...] = ()
    excluded: frozenset[str] = frozenset()  # clients left out for a bad cell
    database: DatabaseRows | None = None


@dataclass(frozen=True)
class LoadedData:
    rows: pl.LazyFrame | None  # every usable client file's rows, with ``group``: its index in ``groups``
    problems: tuple[Diagnostic, ...]  # errors and warnings, of the client files left out too
    failed: frozenset[int]  # client files left out: a source of theirs could not be read
    excluded: frozenset[str]  # clients left out for a bad cell
    queried: dict[int, DatabaseRows]  # client files whose (one) source is a database: its rows, by index

    def close(self) -> None:
        """Close the databases' connections (once the rows are aggregated)."""
        for rows in {id(rows): rows for rows in self.queried.values()}.values():
            rows.close()


def load_data(groups: list[ClientGroupDef], only: Collection[int] | None = None, *, scan: bool = True) -> LoadedData:
    """The rows of ``groups`` (or of those at the indices ``only``).

    Nothing is read yet where it can be scanned: which clients a group has (``clients: all``) is known
    once the rows are aggregated, see ``find_clients``.
    """
    indices = list(range(len(groups))) if only is None else list(only)
    metric_ids = _metric_ids([groups[index] for index in indices])
    problems: list[Diagnostic] = []
    read: dict[SourceDef, SourceRows] = {}
    for source in dict.fromkeys(source for index in indices for source in groups[index].template.sources):
        try:
            read[source] = read_source(source, metric_ids, scan=scan)
            problems += read[source].problems
        except InputError as error:
            problems += error.diagnostics
    rows: list[pl.LazyFrame] = []
    failed: set[int] = set()
    queried: dict[int, DatabaseRows] = {}
    for index in indices:
        group = groups[index]
        try:
            if any(source not in read for source in group.template.sources):
                raise InputError([])
            _check_currency(group, [read[source] for source in group.template.sources])
            if not group.competitor:
                problems += _missing_inputs(group, [read[source].plan for source in group.template.sources])
            if read[group.template.sources[0]].database is not None:
                queried[index] = read[group.template.sources[0]].database  # a database source is the file's only one
                continue
            rows += [_rows_of(group, source, read[source]).with_columns(group=pl.lit(index, pl.Int32)) for source in group.template.sources]
        except InputError as error:
            problems += error.diagnostics
            failed.add(index)
    excluded = frozenset(name for found in read.values() for name in found.excluded)
    return LoadedData(pl.concat(rows, how="diagonal_relaxed") if rows else None, tuple(problems), frozenset(failed), excluded, queried)


def find_clients(
    groups: list[ClientGroupDef], found: dict[int, Collection[str]], excluded: Collection[str] = ()
) -> tuple[list[ClientDef], list[Diagnostic]]:
    """The clients of the groups, given the client names each group's rows have (by group index).

    ``clients: all`` takes every name, in name order; a listed client without rows, an override for a
    client without rows and a client in two files are problems (the first file keeps the client).
    ``excluded`` clients were left out for a bad cell, which is reported already.
    """
    problems: list[Diagnostic] = []
    clients: list[ClientDef] = []
    for index, names_in_rows in found.items():
        group = groups[index]
        in_rows = set(names_in_rows)
        names_found = in_rows | set(excluded)
        names = group.names if group.names is not None else tuple(sorted(in_rows))
        problems += [_no_rows(group, name) for name in names if name not in names_found]
        if group.names is None:
            problems += [_no_rows(group, name, "override for") for name in group.overrides if name not in names_found]
        clients.extend(group.client(name) for name in names if name in in_rows)
    problems += _defined_twice(clients)
    first = {(client.name, client.grain): client for client in reversed(clients)}
    return list(first.values())[::-1], problems


def _metric_ids(groups: list[ClientGroupDef]) -> list[str]:
    return sorted({metric for group in groups for metric in group.template.playbook.metrics})


def _rows_of(group: ClientGroupDef, source: SourceDef, read: SourceRows) -> pl.LazyFrame:
    names = group.names
    if "client" not in read.plan.feeds:
        if names is None or len(names) != 1:
            message = f'no "client" column to tell the clients of {group.path} apart'
            raise InputError([file_problem(source, "KR304", message)])
        return read.frame.with_columns(client=pl.lit(names[0]))
    if names is None:
        return read.frame
    return read.frame.filter(pl.col("client") == names[0]) if len(names) == 1 else read.frame.filter(pl.col("client").is_in(names))


def _no_rows(group: ClientGroupDef, name: str, what: str = "client") -> Diagnostic:
    names = sorted({found for source in group.template.sources for found in _client_names(source, _metric_ids([group]))})
    hint = f"; the client column has: {', '.join(names[:10])}" + ("..." if len(names) > 10 else "") if names else ""
    return Diagnostic(group.path, None, None, "KR305", f'no data rows for {what} "{name}"{did_you_mean(name, names)}{hint}')


def _client_names(source: SourceDef, metric_ids: list[str]) -> list[str]:
    """The names in a source's client column (for a hint: read again, only when something is wrong)."""
    if source.format == "database":
        from kpi_rules.data.warehouse import client_names

        return client_names(source, metric_ids)
    try:
        read = read_source(source, metric_ids, scan=False)
    except InputError:
        return []
    if "client" not in read.plan.feeds:
        return []
    return read.frame.select(pl.col("client").unique().drop_nulls()).collect()["client"].to_list()


def _defined_twice(clients: list[ClientDef]) -> list[Diagnostic]:
    """Clients defined by two files of one grain: one problem per pair of files (two `clients: all` files share
    thousands). A client checked by month in one file and by week in another is two scorecards, not a problem."""
    first_seen: dict[tuple[str, str], ClientDef] = {}
    twice: dict[tuple[str, str, str], list[str]] = {}
    for client in clients:
        key = (client.name, client.grain)
        if key in first_seen:
            twice.setdefault((client.path, first_seen[key].path, client.grain), []).append(client.name)
        first_seen.setdefault(key, client)
    problems = []
    for (path, other, grain), names in twice.items():
        shown = ", ".join(f'"{name}"' for name in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        what = f"client {shown} is" if len(names) == 1 else f"clients {shown} are"
        problems.append(Diagnostic(path, None, None, "KR205", f"{what} also defined in {other}, both by {grain}"))
    return problems


def read_source(source: SourceDef, metric_ids: list[str], *, scan: bool = True) -> SourceRows:
    """One data file as typed rows: date (Date), date_end where rows cover several days, client/channel
    (String), metrics (Float64). With ``scan``, a UTF-8 CSV or a Parquet file is scanned, not read."""
    known = set(metric_ids)
    if source.format == "database":
        from kpi_rules.data.warehouse import open_source

        opened = open_source(source, metric_ids)
        zeros, problems = _absent(source, opened.plan, known)
        return SourceRows(None, opened.plan, tuple(problems), database=opened.with_zeros(zeros))
    # A total row that only blank columns tell apart is found the slow way, where it is reported; a long
    # table is turned wide in memory.
    scan = scan and not source.total_row_blank and not source.long
    if source.long:
        raw = widen(source, read_table(source, (), scan=False))
        plan = plan_columns(source, raw.headers, known)
    elif source.format == "csv":
        plan = plan_columns(source, csv_headers(source), known)
        metric_headers = {header for metric, headers in plan.feeds.items() if metric in known for header in headers}
        raw = read_table(source, metric_headers, scan=scan)
    else:
        raw = read_table(source, (), scan=scan)
        plan = plan_columns(source, raw.headers, known)
    try:
        typed = type_rows(source, raw, plan)
    except pl.exceptions.PolarsError:
        if not scan:
            raise
        # A scanned file is read first here, for a sample of its rows (a quote left open in a CSV fails then):
        # read the slow way, which names the problem and its line.
        return read_source(source, metric_ids, scan=False)
    zeros, absent_problems = _absent(source, plan, known)
    frame = typed.frame.with_columns(pl.lit(0.0, pl.Float64).alias(name) for name in zeros)
    return SourceRows(frame, plan, (*typed.problems, *absent_problems), typed.excluded)


def _absent(source: SourceDef, plan: ColumnPlan, known: set[str]) -> tuple[list[str], list[Diagnostic]]:
    """The metrics a source declares ``absent``, to be 0 on each of its rows, each noted with a warning; a column
    the file does have is read as it is. A name that is no metric is an error: a typo would otherwise hide nothing."""
    unknown = [name for name in source.absent if name not in known]
    if unknown:
        raise InputError([file_problem(source, "KR308", f'absent: "{name}" is no metric of the playbook{did_you_mean(name, known)}') for name in unknown])
    zeros = [name for name in source.absent if name not in plan.feeds]
    # A database source's at its entry in the client file; a file's at the file.
    if source.declared_at:
        where, rows = source.declared_at, "this table's rows" if source.table else "this query's rows"
    else:
        where, rows = (str(source.path), None, None), "this file's rows"
    problems = [
        Diagnostic(*where, "KR505", f"{name} declared absent: counted as 0 on {rows} (the platform has no such action)", level="warning")
        for name in zeros
    ]
    return zeros, problems


def _check_currency(group: ClientGroupDef, sources: list[SourceRows]) -> None:
    """Money in a file's header ("Amount spent (USD)") must be in the client's currency."""
    currencies = {group.template.currency, *(override.currency for override in group.overrides.values())} - {None}
    for source, read in zip(group.template.sources, sources, strict=True):
        other = currencies - {read.plan.currency}
        if read.plan.currency and other:
            header = next(h for target, headers in read.plan.feeds.items() for h in headers if read.plan.currency in h.upper())
            message = (
                f'"{header}" is in {read.plan.currency}, but {group.path} scores money in {", ".join(sorted(other))}: '
                "money is never compared across currencies"
            )
            raise InputError([file_problem(source, "KR307", message)])


def _missing_inputs(group: ClientGroupDef, plans: list[ColumnPlan]) -> list[Diagnostic]:
    """A scored KPI's input that none of the client file's sources has: named, with the closest headers."""
    provided = {metric for plan in plans for metric in plan.feeds} | {metric for source in group.template.sources for metric in source.absent} | ({"posts"} if any(s.rows == "post" for s in group.template.sources) else set())
    ignored = sorted({header for plan in plans for header in plan.ignored})
    needs: dict[str, list[str]] = {}
    for kpi in group.kpis:
        for metric in group.playbook.inputs(kpi):
            if metric not in provided:
                needs.setdefault(metric, []).append(kpi)
    problems = []
    for metric, kpis in sorted(needs.items()):
        hint = did_you_mean(metric, ignored) or (f"; the files have: {', '.join(ignored[:12])}" if ignored else "")
        shown = ", ".join(kpis[:4]) + (" ..." if len(kpis) > 4 else "")
        message = f'no data file has a "{metric}" column, which {shown} need{"s" if len(kpis) == 1 else ""}{hint}: map it under columns:'
        problems.append(Diagnostic(group.path, *group.data_at, "KR304", message))
    return problems
