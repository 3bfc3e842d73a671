"""Post-level rows (``rows: post``) meet the client's daily stocks.

A KPI evaluated on every row (``method: mean_of_rows``, e.g. ER per post) that needs a stock the post rows
lack, such as followers, takes the client's latest value as of the post's day from its other sources; where
rows carry a time of day (``date_time``), as of the post's moment (a row without a time stands at the start of
its day).
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from kpi_rules.data.cells import MOMENT
from kpi_rules.model import PlaybookDef


def stocks_as_of_each_row(rows: pl.LazyFrame, playbook: PlaybookDef, kpis: list[str], ranked: Collection[str] = ()) -> pl.LazyFrame:
    """``rows`` with the stocks that per-row KPIs read filled on every row from the same client's latest value;
    ``ranked`` are KPIs evaluated on each post to rank the posts (kpi_rules.post_ranking)."""
    columns = rows.collect_schema().names()
    per_row = [kpi for kpi in kpis if playbook.kpis[kpi].method == "mean_of_rows"] + list(ranked)
    stocks = sorted(
        {m for kpi in per_row for m in playbook.inputs(kpi) if playbook.metrics[m].agg in ("last", "first") and m in columns}
    )
    if not stocks:
        return rows
    client = [key for key in ("group", "client") if key in columns]
    # On one day the stock's own row comes first, so a post of that day takes that day's value.
    moment = [pl.coalesce(MOMENT, pl.col("date").cast(pl.Datetime("us")))] if MOMENT in columns else []
    ordered = rows.sort([*client, "date", *moment, pl.col(stocks[0]).is_null()])
    return ordered.with_columns(pl.col(stock).forward_fill().over(client) for stock in stocks)
