"""An unfinished period checked on its pace: what it will come to if it goes on as it has.

Flows (summed metrics) are projected linearly to the period's end, value / days_elapsed x days, and every
KPI is evaluated again on the projected metrics (kpi_rules.evaluate, beside the actual values): a ratio of two
flows (ER, CPL) keeps its value, a count grows to the period's length. Stocks are not projected (followers on
day 15 are followers); a plan for a stock is interpolated to the data's last day instead (kpi_rules.thresholds).
"""

from __future__ import annotations

import polars as pl

from kpi_rules.model import PlaybookDef

UNFINISHED = ~pl.col("complete") & (pl.col("days_elapsed") < pl.col("days"))


def has_unfinished(periods: pl.DataFrame) -> bool:
    return "days_elapsed" in periods.columns and periods.select(UNFINISHED.any()).item()


def paced_names(names: dict[str, pl.Expr], playbook: PlaybookDef) -> dict[str, pl.Expr]:
    """The names a formula reads, at the pace of an unfinished period (as they are in the other periods:
    previous() still reads the period before as it was). The projection describes the period at its end, so
    its days have all elapsed (per_day(x) stays the same rate)."""
    scale = pl.col("days") / pl.col("days_elapsed")
    paced = dict(names)
    for metric in playbook.metrics.values():
        if metric.agg == "sum":
            paced[metric.id] = pl.when(UNFINISHED).then(names[metric.id] * scale).otherwise(names[metric.id])
    paced["days_elapsed"] = pl.when(UNFINISHED).then(pl.col("days")).otherwise(pl.col("days_elapsed"))
    return paced
