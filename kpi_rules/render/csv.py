"""CSV: one row per client x period x KPI, for a spreadsheet or another tool.

The rows are laid out column-wise by polars (``kpi_rows``), a block of scorecards at a time: the scorecard's
columns repeated, the KPIs' own (id, label, unit) cycled, and per KPI one select of its values out of the scored
frame, concatenated and interleaved by position into report order; never a Python loop per KPI per row (30,000
scorecards x 56 KPIs is 1.7M rows). junit, github, xlsx and parquet read the same rows.

Spreadsheet formula injection: a text cell that starts with = + - @, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` in a client's name). As OWASP advises
(https://owasp.org/www-community/attacks/CSV_Injection), such a cell is prefixed with a single quote, which the
spreadsheet shows as text; numbers are written as numbers and never prefixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import polars as pl

from kpi_rules.columns import (
    change_column,
    gap_column,
    previous_column,
    projected_column,
    reason_column_of_kpi,
    score_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.model import GRAINS, THRESHOLDS
from kpi_rules.results import Results, ScoredGroup

DECIMALS = 6
# The CSV's columns, in order; kpi_rows has them all (and a few more for the other renderers).
COLUMNS = (
    "client", "period_start", "period_end", "grain", "goals", "kpi", "label", "value", "unit", "better", "status",
    "target", "warn", "min", "max", "gap", "previous", "change", "projected", "reason", "score",
)
NUMBERS = ("value", *THRESHOLDS, "gap", "previous", "change", "projected", "score")
# A cell starting with one of these is a formula to a spreadsheet (OWASP, CSV Injection).
FORMULA_START = r"^[=+\-@\t\r]"


def render_csv(results: Results, stream: IO[str]) -> None:
    rows = kpi_rows(results).select(COLUMNS)
    text = [name for name, dtype in rows.schema.items() if dtype in (pl.String, pl.Categorical)]
    rows = rows.with_columns(neutralise(pl.col(name).cast(pl.String)).alias(name) for name in text)
    rows.write_csv(stream, date_format="%Y-%m-%d", null_value="")


def neutralise(text: pl.Expr) -> pl.Expr:
    """A text cell a spreadsheet would take for a formula, prefixed with ' (OWASP's advice)."""
    return pl.when(text.str.contains(FORMULA_START)).then(pl.concat_str(pl.lit("'"), text)).otherwise(text)


def kpi_rows(results: Results) -> pl.DataFrame:
    """Every KPI of every scorecard as a row, in report order (client, period, then the KPIs' order).

    Columns: COLUMNS, plus currency, the period's days, days_with_data and complete, ``order`` (the client's
    place), ``kpi_index`` and ``grain_index``.
    """
    blocks = list(kpi_row_blocks(results))
    return pl.concat(blocks, how="vertical", rechunk=False) if blocks else pl.DataFrame(schema=KPI_ROWS_SCHEMA)


def kpi_row_blocks(results: Results) -> Iterator[pl.DataFrame]:
    """kpi_rows a block of scorecards at a time: a writer that streams (Parquet) never holds them all (18M rows
    from 10M rows of data)."""
    for group, start, length in results.blocks(SCORECARDS_PER_BLOCK):
        if group.kpis:
            yield _block_rows(group, group.frame.slice(start, length), results.lang)


# 20,000 scorecards of 56 KPIs: 1.1M rows, about 0.2 GB.
SCORECARDS_PER_BLOCK = 20_000
# The texts that repeat on every row (a KPI's label on each of 30,000 scorecards' rows) are categorical: a
# number per row, not a copy of the text. At 10M rows of data (18M KPI rows) that is most of the memory.
REPEATED = ("client", "currency", "grain", "goals", "kpi", "label", "unit", "better", "status")
KPI_ROWS_SCHEMA = {
    "client": pl.String, "currency": pl.String, "period_start": pl.Date, "period_end": pl.Date, "grain": pl.String,
    "goals": pl.String, "kpi": pl.String, "label": pl.String, "unit": pl.String, "better": pl.String,
    "status": pl.String, "reason": pl.String, **dict.fromkeys(NUMBERS, pl.Float64),
    "days": pl.Int64, "days_with_data": pl.Int64, "complete": pl.Boolean,
    "order": pl.Int64, "grain_index": pl.Int64, "kpi_index": pl.Int64,
} | dict.fromkeys(REPEATED, pl.Categorical)


def _block_rows(group: ScoredGroup, frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    columns = set(frame.columns)
    playbook = group.playbook
    grain = next(iter(group.clients.values())).grain
    currency = {name: client.currency for name, client in group.clients.items()}

    def number(column: str) -> pl.Expr:
        return pl.col(column).cast(pl.Float64).round(DECIMALS) if column in columns else pl.lit(None, pl.Float64)

    # Each scorecard's KPIs in turn (the frame is in report order): row i of the block is KPI i % count of
    # scorecard i // count. What a scorecard's rows share is repeated, what a KPI's share cycles, and only the
    # per-KPI values are gathered across the KPIs' columns.
    scorecards, count = frame.height, len(group.kpis)
    position = pl.int_range(scorecards * count, dtype=pl.Int64)
    shared = frame.select(
        pl.col("client").cast(pl.String).cast(pl.Categorical),
        pl.col("client").cast(pl.String).replace_strict(currency, default=None, return_dtype=pl.String).cast(pl.Categorical).alias("currency"),
        pl.col("period_start").cast(pl.Date),
        pl.col("period_end").cast(pl.Date),
        pl.lit(group.grain, pl.String).cast(pl.Categorical).alias("grain"),
        number(score_column()).alias("score"),
        pl.col("days").cast(pl.Int64),
        pl.col("days_with_data").cast(pl.Int64),
        pl.col("complete").cast(pl.Boolean),
        pl.col("order").cast(pl.Int64),
        pl.lit(GRAINS.index(grain), pl.Int64).alias("grain_index"),
    ).select(pl.all().gather(position // count))
    kpis = [playbook.kpis[kpi_id] for kpi_id in group.kpis]
    of_kpis = pl.DataFrame(
        {
            "goals": [" ".join(goal for goal in group.goals if kpi.id in playbook.goals[goal].kpis) for kpi in kpis],
            "kpi": list(group.kpis),
            "label": [kpi.label(lang) for kpi in kpis],
            "unit": [kpi.unit for kpi in kpis],
            "better": [kpi.better for kpi in kpis],
            "kpi_index": list(range(count)),
        },
        schema={**dict.fromkeys(("goals", "kpi", "label", "unit", "better"), pl.Categorical), "kpi_index": pl.Int64},
    ).select(pl.all().gather(position % count))
    per_kpi = [
        frame.select(
            pl.col(status_column(kpi_id)).cast(pl.String).cast(pl.Categorical).alias("status"),
            pl.col(reason_column_of_kpi(kpi_id)).cast(pl.String).alias("reason"),
            number(value_column(kpi_id)).alias("value"),
            *(number(threshold_column(kpi_id, name)).alias(name) for name in THRESHOLDS),
            number(gap_column(kpi_id)).alias("gap"),
            number(previous_column(kpi_id)).alias("previous"),
            number(change_column(kpi_id)).alias("change"),
            number(projected_column(kpi_id)).alias("projected"),
        )
        for kpi_id in group.kpis
    ]
    # Gathering from one chunk is a third faster than from a chunk per KPI.
    values = pl.concat(per_kpi, how="vertical", rechunk=True).select(pl.all().gather((position % count) * scorecards + position // count))
    return pl.concat([shared, of_kpis, values], how="horizontal").select(list(KPI_ROWS_SCHEMA))
