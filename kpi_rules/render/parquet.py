"""Parquet: the CSV's rows (one per client x period x KPI) with their types, for BI tools and the next step of a
pipeline: dates are dates, numbers floats, the status one of STATUSES (an enum), the texts that repeat on every
row (client, KPI, label ...) dictionary-encoded, and the period's facts beside.

Written by polars from the same rows as csv, junit, github and xlsx (kpi_rules.render.csv.kpi_rows).
"""

from __future__ import annotations

from typing import IO

import polars as pl

from kpi_rules.render.csv import COLUMNS, kpi_rows
from kpi_rules.results import STATUSES, Results

FACTS = ("currency", "days", "days_with_data", "complete")


def render_parquet(results: Results, stream: IO[bytes]) -> None:
    rows = kpi_rows(results).select(*COLUMNS, *FACTS).with_columns(pl.col("status").cast(pl.Enum(STATUSES)))
    rows.write_parquet(stream)
