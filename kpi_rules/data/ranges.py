"""Rows that cover several days (a weekly or monthly export, Meta's Reporting starts/ends).

A row inside one reporting period counts there, dated at its first day. A row that
straddles a boundary is split over its days: a flow (``agg: sum``) evenly, and the
periods it reaches are marked estimated for the metrics it carried (``split:<metric>``
columns, which aggregate keeps). A stock or a count of unique people cannot be
split: those values are left out, with a warning naming the rows.
"""

from __future__ import annotations

import polars as pl

from kpi_rules.columns import estimated_column, split_column
from kpi_rules.diagnostics import Diagnostic
from kpi_rules.model import MetricDef, PlaybookDef
from kpi_rules.periods import PeriodSpan, period_name, period_start

ESTIMATED_REASON = "estimated: a row of the data covers days on both sides of the period's boundary and was split evenly over its days"


def spread_rows(
    rows: pl.LazyFrame, grain: str, metrics: dict[str, MetricDef], files: list[str], span: PeriodSpan | None = None
) -> tuple[pl.LazyFrame, list[Diagnostic]]:
    """``rows`` with every straddling row split over its days; warnings for the values that cannot be split.

    The periods are the ``grain``'s, or with a ``span``, those aggregate cuts from it: pass the same to both.
    """
    columns = rows.collect_schema().names()
    flows = [m for m in metrics.values() if m.id in columns and m.agg == "sum"]
    others = [m for m in metrics.values() if m.id in columns and m.agg != "sum"]
    end = pl.coalesce("date_end", "date")
    backwards = end < pl.col("date")
    straddles = (period_start(pl.col("date"), grain, span) != period_start(end, grain, span)) & ~backwards
    days = (end - pl.col("date")).dt.total_days() + 1
    split = (
        rows.filter(straddles)
        .with_columns(
            *[(pl.col(m.id) / days).alias(m.id) for m in flows],
            *[pl.col(m.id).is_not_null().alias(split_column(m.id)) for m in flows],
            *[pl.lit(None, pl.Float64).alias(m.id) for m in others],
            date=pl.date_ranges("date", end),
        )
        .explode("date")
    )
    whole = rows.filter(~straddles).with_columns(*[pl.lit(False).alias(split_column(m.id)) for m in flows])
    found = rows.select(
        *[(straddles & pl.col(m.id).is_not_null()).sum().alias(m.id) for m in others],
        backwards=backwards.sum(),
        first=pl.col("date").filter(straddles).min(),
        last=end.filter(straddles).max(),
    ).collect()
    where = ", ".join(files)
    problems = []
    for metric in others:
        if found[metric.id][0]:
            kind = {"last": "stock", "first": "stock", "none": "count of unique people"}.get(metric.agg, f"{metric.agg} of rows")
            message = (
                f"{metric.id}: {found[metric.id][0]} row(s) between {found['first'][0]} and {found['last'][0]} cross a {period_name(grain, span)}'s "
                f"boundary, and a {kind} cannot be split over days: left out"
            )
            problems.append(Diagnostic(where, None, None, "KR502", message, "warning"))
    if found["backwards"][0]:
        message = f"{found['backwards'][0]} row(s) end before they start: counted on their first day"
        problems.append(Diagnostic(where, None, None, "KR503", message, "warning"))
    return pl.concat([whole, split], how="diagonal_relaxed").drop("date_end"), problems


def estimated_columns(playbook: PlaybookDef, kpis: list[str], columns: list[str]) -> list[pl.Expr]:
    """Per KPI, whether a metric it reads has a share of a split row in the period (``estimated:<kpi>``)."""
    expressions = []
    for kpi in kpis:
        splits = [pl.col(split_column(m)) for m in playbook.inputs(kpi) if split_column(m) in columns]
        if splits:
            expressions.append(pl.any_horizontal(splits).fill_null(False).alias(estimated_column(kpi)))
    return expressions
