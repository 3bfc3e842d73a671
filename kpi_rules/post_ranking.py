"""The best and worst posts of each client and period, for the report: the part of a monthly report an agency
writes by hand.

A source of posts (``rows: post``) with a ``link`` or ``text`` column gives one row per post. Each post is
valued by the KPI its client file names (``posts: {rank_by: ...}``, ER per post by default), evaluated on the
row as a mean_of_rows KPI is (kpi_rules.evaluate.row_expressions), and ranked within its client and period in
one columnar query: no Python loop over posts.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kpi_rules.evaluate import row_expressions
from kpi_rules.model import POST_COLUMNS, PlaybookDef
from kpi_rules.periods import PeriodSpan, period_start

RANKED = 3  # posts listed as the best, and as the worst
KEYS = ["group", "client", "period_start"]


def rank_posts(rows: pl.LazyFrame, playbook: PlaybookDef, rank_by: Mapping[int, str], grain: str, span: PeriodSpan | None) -> pl.DataFrame | None:
    """For each client file index in ``rank_by`` (its KPI), its clients' best and worst posts per period.

    Columns: group, client, period_start, best (True for the best, False for the worst), place (1 is the best,
    or the worst), date, link, text, value. Posts without a value (a stock missing, a denominator 0) are not
    ranked. A period of fewer than 2 x RANKED posts lists each once: the worst are those the best leave.
    None when the rows have no post with a link or text.
    """
    columns = rows.collect_schema().names()
    shown = [column for column in POST_COLUMNS if column in columns]
    if not shown or not rank_by:
        return None
    per_row = row_expressions(playbook, sorted(set(rank_by.values())), columns)
    by_kpi: dict[str, list[int]] = {}
    for index, kpi in rank_by.items():
        by_kpi.setdefault(kpi, []).append(index)
    in_files = {kpi: pl.col("group").is_in(indices) for kpi, indices in by_kpi.items()}
    value = pl.coalesce(*(pl.when(in_files[kpi]).then(per_row[kpi]) for kpi in by_kpi))
    # The ranking reads "higher is better": a cost (better: lower) is ranked by its negative.
    merit = pl.coalesce(*(pl.when(in_files[kpi]).then(per_row[kpi] * (-1 if playbook.kpis[kpi].better == "lower" else 1)) for kpi in by_kpi))
    posts = (
        rows.filter(pl.col("group").is_in(list(rank_by)) & pl.any_horizontal(pl.col(column).is_not_null() for column in shown))
        .select("group", "client", "date", *shown, value=value, merit=merit, period_start=period_start(pl.col("date"), grain, span))
        .filter(pl.col("merit").is_finite())
        # Ties go to the earlier post, then by link or text, so that a report never changes between runs.
        .sort([*KEYS, "merit", "date", *shown], descending=[False, False, False, True, False, *[False] * len(shown)], nulls_last=True)
        .with_columns(place=pl.int_range(1, pl.len() + 1).over(KEYS), count=pl.len().over(KEYS))
    )
    best = posts.filter(pl.col("place") <= RANKED).with_columns(best=pl.lit(True))
    worst = (
        posts.filter(pl.col("place") > pl.max_horizontal(pl.col("count") - RANKED, RANKED))
        .with_columns(best=pl.lit(False), place=pl.col("count") - pl.col("place") + 1)
    )
    ranked = pl.concat([best, worst]).sort([*KEYS, "best", "place"], descending=[False, False, False, True, False])
    for column in POST_COLUMNS:
        if column not in shown:
            ranked = ranked.with_columns(pl.lit(None, pl.String).alias(column))
    return ranked.select(*KEYS, "best", "place", "date", *POST_COLUMNS, "value").collect()
