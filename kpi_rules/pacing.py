"""An unfinished period checked on its pace: what it will come to if it goes on as it has.

Flows (summed metrics) are projected linearly to the period's end, value / days_elapsed x days, and every
KPI is evaluated again on the projected metrics: a ratio of two flows (ER, CPL) keeps its value, a count
grows to the period's length. Stocks are not projected (followers on day 15 are followers); a plan for a
stock is interpolated to the data's last day instead (kpi_rules.thresholds). The actual value is kept beside.
"""

from __future__ import annotations

import polars as pl

from kpi_rules.columns import projected_column, value_column
from kpi_rules.evaluate import evaluate, needed_kpis
from kpi_rules.model import PlaybookDef

_UNFINISHED = ~pl.col("complete") & (pl.col("days_elapsed") < pl.col("days"))


def projected_values(periods: pl.DataFrame, playbook: PlaybookDef, kpis: list[str], keys: list[str]) -> pl.LazyFrame:
    """``keys`` and ``projected:k`` for every KPI evaluated but stocks, on unfinished periods only (rows of the
    clients that have one: join them with a left join)."""
    # Only the clients with an unfinished period, all their periods (a formula's previous() reads back).
    by = [key for key in keys if key != "period_start"]
    periods = periods.join(periods.filter(_UNFINISHED).select(by).unique(), on=by, how="semi", maintain_order="left")
    flows = [metric.id for metric in playbook.metrics.values() if metric.agg == "sum" and metric.id in periods.columns]
    scale = pl.col("days") / pl.col("days_elapsed")
    # Every period is kept: previous() in a formula still reads the period before as it was. The projection
    # describes the period at its end, so its days have all elapsed (per_day(x) stays the same rate).
    projected = (
        periods.lazy()
        .with_columns(_unfinished=_UNFINISHED)
        .with_columns(
            *[pl.when(pl.col("_unfinished")).then(pl.col(flow) * scale).otherwise(pl.col(flow)).alias(flow) for flow in flows],
            days_elapsed=pl.when(pl.col("_unfinished")).then(pl.col("days")).otherwise(pl.col("days_elapsed")),
        )
    )
    paced = [kpi for kpi in needed_kpis(playbook, kpis) if not playbook.is_stock(kpi.id)]
    return evaluate(projected, playbook, kpis).select(
        *keys,
        *[pl.when(pl.col("_unfinished")).then(pl.col(value_column(kpi.id))).alias(projected_column(kpi.id)) for kpi in paced],
    )


def has_unfinished(periods: pl.DataFrame) -> bool:
    return "days_elapsed" in periods.columns and periods.select(_UNFINISHED.any()).item()
