"""0-100 scores, per goal and per client, from the statuses: what a client reads first.

A KPI counts 100 for pass, 50 for warn and 0 for fail (results.POINTS); no data, info and waived KPIs are left
out (and counted in the summary beside). A goal's score is the mean of its KPIs' points; the client's is the
mean of its goals' scores weighted by ``goal_weights`` (1 unless set). Nothing scored gives no score (null),
never 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kpi_rules.columns import score_column, status_column
from kpi_rules.model import PlaybookDef
from kpi_rules.results import POINTS


def add_scores(frame: pl.DataFrame, playbook: PlaybookDef, goals: tuple[str, ...], weights: Mapping[str, Mapping[str, float]]) -> pl.DataFrame:
    """``score:<goal>`` per goal and ``score``; ``weights`` by client name, then goal."""
    goal_scores = [_goal_score(playbook.goals[goal].kpis).alias(score_column(goal)) for goal in goals]
    weight = {goal: _weight(goal, weights) for goal in goals}
    frame = frame.with_columns(goal_scores)
    scored = [pl.col(score_column(goal)).is_not_null() for goal in goals]
    weighted = pl.sum_horizontal([pl.col(score_column(g)) * weight[g] for g in goals])
    total = pl.sum_horizontal([pl.when(s).then(weight[g]).otherwise(0.0) for g, s in zip(goals, scored)])
    score = pl.when(total > 0).then(weighted / total) if goals else pl.lit(None, pl.Float64)
    return frame.with_columns(score.cast(pl.Float64).alias(score_column()))


def _weight(goal: str, weights: Mapping[str, Mapping[str, float]]) -> pl.Expr:
    """The goal's weight per row: 1 unless the row's client sets another (a small mapping, not a join)."""
    other = {client: float(goals[goal]) for client, goals in weights.items() if goals.get(goal, 1) != 1}
    if not other:
        return pl.lit(1.0)
    return pl.col("client").replace_strict(other, default=1.0, return_dtype=pl.Float64)


def _goal_score(kpis: tuple[str, ...]) -> pl.Expr:
    points = [pl.col(status_column(kpi)).replace_strict(POINTS, default=None, return_dtype=pl.Float64) for kpi in kpis]
    return pl.mean_horizontal(points, ignore_nulls=True)
