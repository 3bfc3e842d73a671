"""The aggregation of kpi_rules.aggregate written for the database that holds the rows, through Ibis.

One query per source: the rows are cut into periods, aggregated per client, channel and period by each
metric's ``agg``, then across channels, exactly as ``aggregate`` does it in polars (its module docstring
has the semantics), and only the client x period rows come back. ``aggregate.finish`` then turns them into
the periods' columns, the same function the polars path ends with, so the two cannot drift apart.

Sums of fractional numbers are taken as whole millionths (row values as 1e-12ths) in a DECIMAL(38, 0), as
the polars path does in Int128: the same rows give the same numbers, whatever engine and order.

The per-row formulas of mean_of_rows KPIs become Ibis expressions here (``row_value``), with the semantics
of kpi_rules.expressions: a division by zero and any operation on a null give null.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from kpi_rules.aggregate import FIXED, FIXED_ROW_VALUE, negative_column, smaller_column
from kpi_rules.diagnostics import InputError
from kpi_rules.periods import PeriodSpan

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from kpi_rules.model import MetricDef, PlaybookDef

# Ibis' truncation units of the grains (ISO weeks start on Monday in every engine Ibis compiles for).
TRUNCATE = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def aggregate_query(
    table: ir.Table, metrics: dict[str, MetricDef], grain: str, row_values: dict[str, ir.Value], span: PeriodSpan | None
) -> tuple[ir.Table, set[str]]:
    """The query of one row per client and period (``table``: date, optional moment, client, optional channel,
    the metrics), and the flows it sums as whole millionths (for ``aggregate.finish``)."""
    import ibis

    columns = table.columns
    present = [metric for metric in metrics.values() if metric.id in columns]
    channels = "channel" in columns
    keys = ["client", "channel", "period_start"] if channels else ["client", "period_start"]
    rows = table.mutate(period_start=_period_start(table.date, grain, span), **{f"row:{name}": value for name, value in row_values.items()})
    stocks = [metric for metric in present if metric.agg in ("last", "first")]
    moment = "moment" if "moment" in columns else "date"
    if stocks:
        # Over a window, not a join: a join would lose the rows without a channel (NULL equals nothing in SQL).
        within_key = ibis.window(group_by=keys)
        dated = {m.id: ibis.ifelse(rows[m.id].notnull(), rows[moment], ibis.null(rows[moment].type())) for m in stocks}
        rows = rows.mutate(**{f"date:{m.id}": getattr(dated[m.id], "max" if m.agg == "last" else "min")().over(within_key) for m in stocks})
    fixed = {m.id for m in present if m.agg == "sum" and rows[m.id].type().is_floating() and m.unit != "count"}
    within = {name: value for m in present for name, value in _within_channel(rows, m, m.id in fixed, moment).items()}
    within |= {f"sum:{name}": _fixed_sum(rows[f"row:{name}"], FIXED_ROW_VALUE) for name in row_values}
    within |= {f"count:{name}": rows[f"row:{name}"].count() for name in row_values}
    within |= {negative_column(m.id): ibis.ifelse(rows[m.id] < 0, 1, 0).max() for m in present if m.agg == "sum"}
    within |= {"last_date": rows.date.max(), "whole_periods": (rows.date == rows.period_start).all()}
    if not channels:
        within["days_with_data"] = rows.date.nunique()
    per_client = per_channel = rows.group_by(keys).aggregate(**within)
    if channels:
        across = {name: value for m in present for name, value in _across_channels(per_channel, m).items()}
        across |= {f"{part}:{name}": per_channel[f"{part}:{name}"].sum() for name in row_values for part in ("sum", "count")}
        across |= {negative_column(m.id): per_channel[negative_column(m.id)].max() for m in present if m.agg == "sum"}
        across |= {"last_date": per_channel.last_date.max(), "whole_periods": per_channel.whole_periods.all()}
        coverage = rows.group_by("client", "period_start").aggregate(days_with_data=rows.date.nunique())
        per_client = _joined(per_channel.group_by("client", "period_start").aggregate(**across), coverage)
    medians = [m.id for m in present if m.agg == "median"]
    if medians:
        # A median does not combine across days or channels: it is taken over all the period's rows at once.
        per_client = _joined(per_client, rows.group_by("client", "period_start").aggregate(**{m: rows[m].median() for m in medians}))
    return per_client, fixed


def _joined(left: ir.Table, right: ir.Table) -> ir.Table:
    """Two per-client-and-period tables side by side. Null-safe: rows without a date (a null period) must come
    through, to be reported, rather than vanish in the join."""
    keys = [left[key].identical_to(right[key]) for key in ("client", "period_start")]
    return left.join(right, keys).drop("client_right", "period_start_right")


def _period_start(date: ir.DateValue, grain: str, span: PeriodSpan | None) -> ir.DateValue:
    """periods.period_start in the database: the grain's period, or blocks of a range's days from its first day."""
    import ibis

    if span is not None:
        first = ibis.date(span.start)
        blocks = date.delta(first, unit="day") // span.days  # floor division: days before the range count back
        return first + (blocks * span.days).as_interval("D")
    return date if grain == "day" else date.truncate(TRUNCATE[grain])


def _within_channel(rows: ir.Table, metric: MetricDef, fixed: bool, moment: str) -> dict[str, ir.Scalar]:
    value = rows[metric.id]
    match metric.agg:
        case "sum":
            # SUM of no values is NULL, as aggregate's "no data rather than 0".
            return {metric.id: _fixed_sum(value, FIXED) if fixed else value.sum()}
        case "last" | "first":
            on_date = rows[moment] == rows[f"date:{metric.id}"]
            return {metric.id: value.max(where=on_date), smaller_column(metric.id): value.min(where=on_date)}
        case "mean" | "min" | "max":
            return {metric.id: getattr(value, metric.agg)()}
        case "median":
            return {}
        case "none":
            return {
                metric.id: value.max(),
                f"n:{metric.id}": value.count(),
                f"at_start:{metric.id}": ~(value.notnull() & (rows.date != rows.period_start)).any(),
            }
    raise ValueError(f"unknown aggregation {metric.agg}")


def _across_channels(per_channel: ir.Table, metric: MetricDef) -> dict[str, ir.Scalar]:
    if metric.agg == "median":
        return {}
    value = per_channel[metric.id]
    match metric.agg:
        case "mean" | "min" | "max":
            return {metric.id: getattr(value, metric.agg)()}
        case "none":
            return {metric.id: value.sum(), f"n:{metric.id}": per_channel[f"n:{metric.id}"].sum(), f"at_start:{metric.id}": per_channel[f"at_start:{metric.id}"].all()}
        case "sum":
            return {metric.id: value.sum()}
        case "last" | "first":
            smaller = smaller_column(metric.id)
            return {metric.id: value.sum(), smaller: per_channel[smaller].sum()}
    raise ValueError(f"unknown aggregation {metric.agg}")


def _fixed_sum(value: ir.NumericValue, scale: int) -> ir.Scalar:
    import ibis.expr.datatypes as dt_

    return (value * scale).round().cast(dt_.Decimal(38, 0)).sum()


def row_values(playbook: PlaybookDef, kpis: list[str], table: ir.Table, where: Any) -> dict[str, ir.Value]:
    """The formulas of ``kpis`` (mean_of_rows KPIs) over one row of ``table``, with the KPIs they use.
    A construct the database cannot be given is an InputError at ``where`` (a Diagnostic factory)."""
    import ibis

    names: dict[str, ir.Value] = {
        metric: table[metric].cast("float64") if metric in table.columns else ibis.null("float64") for metric in playbook.metrics
    }

    def on_row(kpi_id: str) -> ir.Value:
        if kpi_id not in names:
            formula = playbook.kpis[kpi_id].formula
            inner = {name: on_row(name) for name in formula.names}
            try:
                names[kpi_id] = _RowFormula(inner).value(formula.tree)
            except _NotPushed as error:
                raise InputError([where(f'{kpi_id} is averaged per row (mean_of_rows), and its formula has {error}, which is not evaluated in a database: score it from a file')]) from None
        return names[kpi_id]

    return {kpi_id: on_row(kpi_id) for kpi_id in kpis}


class _NotPushed(Exception):
    pass


class _RowFormula:
    """A parsed formula (kpi_rules.formulas) as an Ibis expression over one row: arithmetic and abs, min, max,
    coalesce. A null operand or a division by zero makes the result null, as in kpi_rules.expressions."""

    def __init__(self, names: dict[str, ir.Value]):
        self.names = names

    def value(self, node: ast.expr) -> ir.Value:
        import ibis

        match node:
            case ast.Constant(value=number):
                return ibis.literal(float(number), "float64")
            case ast.Name(id=name):
                return self.names[name]
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -self.value(operand)
            case ast.UnaryOp(op=ast.UAdd(), operand=operand):
                return self.value(operand)
            case ast.BinOp(op=ast.Div(), left=left, right=right):
                return self.value(left) / self.value(right).nullif(0)
            case ast.BinOp(op=ast.Add() | ast.Sub() | ast.Mult() as op, left=left, right=right):
                a, b = self.value(left), self.value(right)
                return a + b if isinstance(op, ast.Add) else a - b if isinstance(op, ast.Sub) else a * b
            case ast.Call(func=ast.Name(id="abs"), args=[argument]):
                return self.value(argument).abs()
            case ast.Call(func=ast.Name(id="min" | "max" as function), args=arguments):
                values = [self.value(argument) for argument in arguments]
                extreme = (ibis.least if function == "min" else ibis.greatest)(*values)
                # Engines differ on a null argument (PostgreSQL skips it): here it makes the result unknown.
                return ibis.ifelse(ibis.or_(*[value.isnull() for value in values]), ibis.null("float64"), extreme)
            case ast.Call(func=ast.Name(id="coalesce"), args=arguments):
                return ibis.coalesce(*[self.value(argument) for argument in arguments])
        raise _NotPushed(f'"{ast.unparse(node)}"')

