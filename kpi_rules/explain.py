"""Why a KPI has its value and status (``kpi-rules explain``): from the pipeline's own results for one client.

The client file is scored by ``pipeline.score`` with a goal made of the one KPI (so a KPI its goals do not score
can be explained too); the scored frame holds every input's aggregated value, the KPI's value, thresholds,
status and no-data reason. What the frame does not keep is looked up beside it: how many rows of which file fed
each input (the data read again, filtered to the client and period, never aggregated here), and in which file
and line a formula or target was written. The arithmetic is the parsed formula's AST with the values put in.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from kpi_rules.columns import (
    projected_column,
    reason_column,
    reason_column_of_kpi,
    reference_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean
from kpi_rules.formulas import PERIOD_FUNCTIONS, ParsedFormula
from kpi_rules.loading import load_yaml
from kpi_rules.model import AGGREGATIONS, PERIOD_NAMES, THRESHOLDS, ClientDef, ClientGroupDef, GoalDef, PlaybookDef
from kpi_rules.resources import bundled_dir

EXPLAINED_GOAL = "kpi-rules explain"


@dataclass(frozen=True)
class SourceUse:
    """Rows of one data file that have a value of an input in the period."""

    path: str
    rows: int
    first: dt.date | None
    last: dt.date | None


@dataclass(frozen=True)
class InputExplained:
    name: str
    kind: str  # metric, kpi or period (days, days_elapsed...)
    value: float | None
    how: str  # a metric's aggregation, a KPI's formula, a period fact's meaning
    sources: tuple[SourceUse, ...] = ()
    reason: str | None = None  # why there is no value
    arithmetic: str | None = None  # of a KPI input
    inputs: tuple[InputExplained, ...] = ()  # of a KPI input


@dataclass(frozen=True)
class Explanation:
    client: str
    kpi: str
    label: str
    unit: str
    better: str
    currency: str | None
    grain: str
    start: dt.date
    end: dt.date
    complete: bool
    formula: str
    formula_written: str  # file:line
    inputs: tuple[InputExplained, ...]
    arithmetic: str
    value: float | None
    projected: float | None
    thresholds: dict[str, float]
    target_from: str  # where the target was agreed, or "no target"
    reference: float | None  # what a relative target is measured against
    status: str
    why: str
    reasons: tuple[str, ...]  # for no data: the chain down to the missing input, one level per entry
    scored: bool  # whether the client's goals score this KPI


def explain_kpi(client_file: Path, kpi: str, period: str = "latest", client: str | None = None) -> list[Explanation]:
    """The explanation of ``kpi`` for a client of ``client_file``, in every period ``period`` selects."""
    from kpi_rules.pipeline import compile_clients, score

    if client_file.is_dir():
        raise InputError([Diagnostic(str(client_file), None, None, "KR401", "is a folder: explain takes one client file")])
    group = compile_clients([client_file])[0]
    playbook = group.playbook
    if kpi not in playbook.kpis:
        raise InputError([Diagnostic(group.path, None, None, "KR205", f'unknown KPI "{kpi}"{did_you_mean(kpi, playbook.kpis)}')])
    if client is not None and group.names is not None and client not in group.names:
        raise InputError([Diagnostic("--client", None, None, "KR205", f'{group.path} has no client "{client}"{did_you_mean(client, group.names)}')])
    results = score([_scoring_only(group, kpi)], period)
    errors = [problem for problem in results.problems if problem.is_error]
    if errors:
        raise InputError(errors)
    frame = results.groups[0].frame
    names = list(dict.fromkeys(frame["client"].to_list()))
    if client is None and len(names) > 1:
        message = f"{group.path} has {len(names)} clients: name one with --client ({', '.join(names[:10])})"
        raise InputError([Diagnostic("--client", None, None, "KR401", message)])
    name = client or names[0]
    if name not in names:
        raise InputError([Diagnostic("--client", None, None, "KR205", f'no data for client "{name}"{did_you_mean(name, names)}')])
    definition = group.client(name)
    scored = kpi in definition.kpis
    sources = _read_sources(definition, playbook.inputs(kpi))
    return [_explain_row(row, definition, kpi, sources, scored) for row in frame.iter_rows(named=True) if row["client"] == name]


def _scoring_only(group: ClientGroupDef, kpi: str) -> ClientGroupDef:
    """The client file scoring just ``kpi`` (and what it uses), whatever its goals."""
    playbook = replace(group.playbook, goals={**group.playbook.goals, EXPLAINED_GOAL: GoalDef(EXPLAINED_GOAL, (kpi,))})
    template = replace(group.template, playbook=playbook, goals=(EXPLAINED_GOAL,))
    overrides = {name: replace(override, goals=None) for name, override in group.overrides.items()}
    return replace(group, template=template, overrides=overrides, warnings=())


def _explain_row(row: dict, client: ClientDef, kpi_id: str, sources, scored: bool) -> Explanation:
    playbook = client.playbook
    kpi = playbook.kpis[kpi_id]
    start, end = row["period_start"], row["period_end"]
    inputs = _inputs(kpi.formula, row, playbook, sources, start, end, seen={kpi_id})
    value = row[value_column(kpi_id)]
    thresholds = {name: row[column] for name in THRESHOLDS if (column := threshold_column(kpi_id, name)) in row and row[column] is not None}
    status = row[status_column(kpi_id)]
    reason = row[reason_column_of_kpi(kpi_id)]
    projected = row.get(projected_column(kpi_id))
    return Explanation(
        client=client.name,
        kpi=kpi_id,
        label=kpi.label(client.lang or "en"),
        unit=kpi.unit,
        better=kpi.better,
        currency=client.currency,
        grain=client.grain,
        start=start,
        end=end,
        complete=row["complete"],
        formula=kpi.formula.text,
        formula_written=_written(playbook.files, ("kpis", kpi_id, "formula")),
        inputs=inputs,
        arithmetic=substituted(kpi.formula, _values(inputs)),
        value=value,
        projected=projected,
        thresholds=thresholds,
        target_from=target_origin(client, kpi_id),
        reference=row.get(reference_column(kpi_id)),
        status=status,
        why=why_status(status, value if projected is None else projected, thresholds, kpi.better, reason, projected is not None),
        reasons=tuple(_reason_chain(inputs)) if status == "no_data" else (),
        scored=scored,
    )


def _inputs(formula: ParsedFormula, row: dict, playbook: PlaybookDef, sources, start, end, seen: set[str]) -> tuple[InputExplained, ...]:
    found = []
    for name in _names_in_order(formula.tree):
        if name in playbook.metrics:
            metric = playbook.metrics[name]
            uses = tuple(use for use in (_rows_with(read, name, start, end) for read in sources) if use is not None)
            reason = row.get(reason_column(name)) if row.get(name) is None else None
            if row.get(name) is None and reason is None:
                reason = f"no {name} data in this period" if uses or name in _columns(sources) else f'the data has no "{name}" column'
            found.append(InputExplained(name, "metric", row.get(name), f"{metric.agg}: {AGGREGATIONS[metric.agg]}", uses, reason))
        elif name in playbook.kpis and name not in seen:
            used = playbook.kpis[name]
            nested = _inputs(used.formula, row, playbook, sources, start, end, seen | {name})
            value = row.get(value_column(name))
            found.append(
                InputExplained(
                    name, "kpi", value, used.formula.text, reason=row.get(reason_column_of_kpi(name)) if value is None else None,
                    arithmetic=substituted(used.formula, _values(nested)), inputs=nested,
                )
            )
        elif name in PERIOD_NAMES:
            found.append(InputExplained(name, "period", row.get(name), PERIOD_NAMES[name]))
    return tuple(found)


def _names_in_order(tree: ast.expr) -> list[str]:
    """The formula's names, each once, left to right as written (ast.walk goes level by level)."""
    names: list[str] = []

    class Names(ast.NodeVisitor):
        def visit_Name(self, node: ast.Name) -> None:
            names.append(node.id)

    Names().visit(tree)
    return list(dict.fromkeys(names))


def _values(inputs: tuple[InputExplained, ...]) -> dict[str, float | None]:
    return {item.name: item.value for item in inputs}


class _Substitute(ast.NodeTransformer):
    """Names replaced by their values, written as names so that ast.unparse prints them as they are."""

    def __init__(self, values: dict[str, float | None]):
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in self.values:
            return node
        return ast.copy_location(ast.Name(id=plain(self.values[node.id])), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        # previous(x), baseline(x), per_day(x)... are facts of other periods: kept as written.
        return node if node.func.id in PERIOD_FUNCTIONS else self.generic_visit(node)


def substituted(formula: ParsedFormula, values: dict[str, float | None]) -> str:
    """The formula with each name's value in place of the name: ``spend / orders`` -> ``64281 / 88``."""
    return ast.unparse(_Substitute(values).visit(copy.deepcopy(formula.tree)))


def plain(value: float | None) -> str:
    """A number as a formula would have it: no thousands separators, up to 4 decimals; null for no value."""
    if value is None:
        return "null"
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def why_status(status: str, value: float | None, thresholds: dict[str, float], better: str, reason: str | None, projected: bool) -> str:
    """The comparison that gave the status, in words."""
    shown = plain(value)
    at_pace = " (the value at the unfinished period's pace)" if projected else ""
    target, warn, low, high = (thresholds.get(name) for name in THRESHOLDS)
    meets, misses = (">=", "<") if better == "higher" else ("<=", ">")
    match status:
        case "no_data":
            return f"no data: {reason}" if reason else "no data"
        case "waived":
            return reason or "waived"
        case "info":
            return "info: no target is agreed for this KPI, the value is shown for information"
    if target is not None:
        if status == "pass":
            return f"pass: {shown}{at_pace} {meets} target {plain(target)}"
        if status == "warn":
            return f"warn: {shown}{at_pace} {misses} target {plain(target)}, but {meets} warn {plain(warn)}"
        bar = f"warn {plain(warn)}" if warn is not None else f"target {plain(target)}"
        return f"fail: {shown}{at_pace} {misses} {bar} ({better} is better)"
    band = f"{plain(low) if low is not None else '-inf'} .. {plain(high) if high is not None else 'inf'}"
    if status == "pass":
        return f"pass: {shown}{at_pace} is within the band {band}"
    return f"fail: {shown}{at_pace} is outside the band {band}"


def _reason_chain(inputs: tuple[InputExplained, ...], depth: int = 0) -> list[str]:
    """Each input without a value and its own reason, down to the missing data (the KPI's reason is the status's)."""
    chain = []
    for item in inputs:
        if item.value is None:
            where = ", ".join(f"{use.path}: {use.rows} row(s)" for use in item.sources) or "no rows with a value"
            detail = f" ({where})" if item.kind == "metric" else ""
            chain.append("  " * depth + f"{item.name} has no value: {item.reason or 'unknown'}{detail}")
            if item.kind == "kpi":
                chain += _reason_chain(item.inputs, depth + 1)
    return chain


def target_origin(client: ClientDef, kpi: str) -> str:
    """Where the target in force was agreed: a client file's override or targets, the playbook, the library."""
    target = client.targets.get(kpi)
    if target is None:
        return "no target"
    kind = "a plan per period, " if target.plan else "a line from/to, " if target.line else f"relative to {target.vs}, " if target.vs else ""
    document = load_yaml(Path(client.path))
    overrides = document.data.get("overrides", {}).get(client.name, {})
    if kpi in overrides.get("targets", {}):
        line, _ = document.position(("overrides", client.name, "targets", kpi))
        return f"{kind}set in the client file's override for {client.name}, {client.path}:{line}"
    if kpi in document.data.get("targets", {}):
        line, _ = document.position(("targets", kpi))
        return f"{kind}set in the client file, {client.path}:{line}"
    return f"{kind}set in {_written(client.playbook.files, ('targets', kpi))}"


def _written(files: tuple[str, ...], where: tuple) -> str:
    """The last layer of a playbook that writes ``where`` (later layers override earlier ones), as file:line."""
    bundled = bundled_dir("rules").resolve()
    for path in reversed(files):
        document = load_yaml(Path(path))
        section = document.data
        for key in where:
            section = section.get(key) if isinstance(section, dict) else None
        if section is not None:
            line, _ = document.position(where)
            resolved = Path(path).resolve()
            if resolved.is_relative_to(bundled):
                return f"the bundled library, rules/{resolved.relative_to(bundled).as_posix()}:{line}"
            return f"the playbook, {path}:{line}"
    return "unknown"


@dataclass(frozen=True)
class _SourceRows:
    path: str
    frame: object  # polars DataFrame: date, metric columns of the client's rows


def _read_sources(client: ClientDef, metrics: list[str]) -> list[_SourceRows]:
    """Each data file's rows of the client, read again (unaggregated) to count what fed the KPI's inputs."""
    import polars as pl

    from kpi_rules.data.load import read_source

    read = []
    for source in client.sources:
        # Every metric is known, as when checking: a file's column mapping names any of them.
        rows = read_source(source, sorted(client.playbook.metrics), scan=False)
        if rows.database is not None:
            # One client's rows, a few columns: fetched from the database as they are.
            table = rows.database.table
            table = table.filter(table.client == client.name) if "client" in table.columns else table
            kept = [name for name in ("date", *metrics) if name in table.columns]
            with closing(rows.database):
                read.append(_SourceRows(str(source.path), table.select(kept).to_polars()))
            continue
        frame = rows.frame
        if "client" in rows.plan.feeds:
            frame = frame.filter(pl.col("client") == client.name)
        kept = [name for name in ("date", "date_end", *metrics) if name in frame.collect_schema().names()]
        read.append(_SourceRows(str(source.path), frame.select(kept).collect()))
    return read


def _columns(sources: list[_SourceRows]) -> set[str]:
    return {column for read in sources for column in read.frame.columns}


def _rows_with(read: _SourceRows, metric: str, start: dt.date, end: dt.date) -> SourceUse | None:
    import polars as pl

    if metric not in read.frame.columns:
        return None
    ends = pl.col("date_end") if "date_end" in read.frame.columns else pl.col("date")
    rows = read.frame.filter((pl.col("date") <= end) & (ends >= start) & pl.col(metric).is_not_null())
    if not rows.height:
        return SourceUse(read.path, 0, None, None)
    return SourceUse(read.path, rows.height, rows["date"].min(), rows["date"].max())
