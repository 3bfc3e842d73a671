"""Evaluate every KPI formula once over all clients and periods, then targets -> statuses.

Adds, per KPI scored (and per KPI those use), the columns of kpi_rules.columns
(value, status, reason, gap) to the aggregated frame, all in one lazy query. Targets differ by
client (client files override the playbook), so they are joined in as a small
table with one row per client.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import polars as pl

from kpi_rules.columns import (
    mean_column,
    projected_column,
    reason_column,
    reason_column_of_kpi,
    value_column,
)
from kpi_rules.expressions import Part, Periods, build_expression, null_if_not_finite
from kpi_rules.model import (
    PERIOD_NAMES,
    KpiDef,
    PlaybookDef,
    kpis_named,
    kpis_used,
)
from kpi_rules.pacing import UNFINISHED, paced_names

NOT_FINITE = "the value is not finite (an overflow, an infinite input or the root of a negative number)"
NO_BASELINE = "no baseline: the client file sets none (baseline:)"


def needed_kpis(playbook: PlaybookDef, kpis: list[str]) -> list[KpiDef]:
    """``kpis`` and the KPIs their formulas use, in dependency order."""
    wanted = kpis_used(playbook.kpis, playbook.metrics, kpis)
    return [kpi for kpi in playbook.kpis.values() if kpi.id in wanted]


def row_values(playbook: PlaybookDef, kpis: list[str], columns: list[str]) -> dict[str, pl.Expr]:
    """The formulas of mean_of_rows KPIs over one data row, for aggregate to average.

    KPIs they use are evaluated on the row too (compile made sure none needs a period).
    """
    return row_expressions(playbook, row_kpis(playbook, kpis), columns)


def row_kpis(playbook: PlaybookDef, kpis: list[str]) -> list[str]:
    """The mean_of_rows KPIs that scoring ``kpis`` needs: their formulas are evaluated on each data row."""
    return [kpi.id for kpi in needed_kpis(playbook, kpis) if kpi.method == "mean_of_rows"]


def row_expressions(playbook: PlaybookDef, kpis: list[str], columns: list[str]) -> dict[str, pl.Expr]:
    """The formulas of ``kpis`` over one data row (a day, or a post), with the KPIs they use; none may read a
    fact of the period (compile checks that)."""
    # Floats: a whole-number column (Parquet) must overflow to inf (then no data), never wrap around.
    names: dict[str, pl.Expr] = {
        metric: pl.col(metric).cast(pl.Float64) if metric in columns else pl.lit(None, pl.Float64) for metric in playbook.metrics
    }

    def on_row(kpi_id: str) -> pl.Expr:
        if kpi_id not in names:
            formula = playbook.kpis[kpi_id].formula
            names[kpi_id] = build_expression(formula, {name: on_row(name) for name in formula.names}).expression
        return names[kpi_id]

    return {kpi_id: on_row(kpi_id) for kpi_id in kpis}


def client_keys(columns: Collection[str]) -> list[str]:
    """The columns that tell clients apart: a client and a competitor of another client file may share a name."""
    return ["group", "client"] if "group" in columns else ["client"]


RUN = "_run"  # a column evaluate adds and thresholds drops: see with_runs


def with_runs(periods: pl.LazyFrame) -> pl.LazyFrame:
    """The periods numbered by run: a client's periods that follow one another without a gap share a number.

    Rows are sorted by client and period, so the row n back is the period n back exactly when it is in the
    same run: look-backs are then plain shifts, with no window per client (56 KPIs' previous values at the
    benchmark's 33,000 periods cost 0.3 s as windows).
    """
    by = client_keys(periods.collect_schema().names())
    same_client = pl.all_horizontal([pl.col(key).shift(1) == pl.col(key) for key in by])
    follows = same_client & (pl.col("period_start").shift(1) == pl.col("previous_start"))
    return periods.with_columns((~follows).fill_null(True).cum_sum().alias(RUN))


def previous_value(value: pl.Expr, n: int = 1) -> pl.Expr:
    """``value`` n periods back, null unless the data has each period in between (needs ``with_runs``)."""
    return pl.when(pl.col(RUN).shift(n) == pl.col(RUN)).then(value.shift(n))


def baseline_value(value: pl.Expr, by: list[str]) -> pl.Expr:
    """The mean of ``value`` over the client's periods that start within its baseline (columns baseline_start and
    baseline_end, null without one): each period counts once, whatever its number of days or rows."""
    in_baseline = pl.col("period_start").is_between(pl.col("baseline_start"), pl.col("baseline_end"))
    return pl.when(in_baseline).then(value).mean().over(by)


def evaluate(periods: pl.LazyFrame, playbook: PlaybookDef, kpis: list[str], *, paced: bool = False) -> pl.LazyFrame:
    """Values and no-data reasons of ``kpis`` (and the KPIs they use) for every client and period; with
    ``paced``, also ``projected:k`` in unfinished periods for every KPI but stocks (kpi_rules.pacing).

    Statuses come after (kpi_rules.thresholds), once competitors' values are known.
    """
    evaluated = needed_kpis(playbook, kpis)
    available = set(periods.collect_schema().names())
    by = client_keys(available)
    period_functions = Periods(
        previous=previous_value,
        baseline=lambda value: baseline_value(value, by),
        days_elapsed=pl.col("days_elapsed"),
    )
    names: dict[str, pl.Expr] = {name: pl.col(name) for name in PERIOD_NAMES}
    reasons: dict[str, pl.Expr] = {name: pl.lit(f"no {name} for this period") for name in PERIOD_NAMES}
    for metric in playbook.metrics:
        if metric in available:
            names[metric] = pl.col(metric)
            reason = pl.lit(f"no {metric} data in this period")
            if reason_column(metric) in available:
                reason = pl.coalesce(pl.col(reason_column(metric)), reason)
            reasons[metric] = reason
        else:
            names[metric] = pl.lit(None, pl.Float64)
            reasons[metric] = pl.lit(f'the data has no "{metric}" column')
    for kpi in evaluated:
        names.setdefault(kpi.id, pl.col(value_column(kpi.id)))
        reasons.setdefault(kpi.id, pl.col(reason_column_of_kpi(kpi.id)))

    at_pace = paced_names(names, playbook) if paced else {}

    frame = periods if RUN in available else with_runs(periods)
    # One with_columns per dependency level: a KPI may use the KPIs of the levels before it.
    for level in _dependency_levels(evaluated, playbook):
        values, explanations = [], []
        for kpi in level:
            if kpi.method == "mean_of_rows":
                value, reason = _mean_of_rows(kpi, playbook, available)
            else:
                value, reason = _ratio_of_totals(kpi, names, reasons, period_functions)
            values.append(value.alias(value_column(kpi.id)))
            explanations.append(pl.when(pl.col(value_column(kpi.id)).is_null()).then(reason).alias(reason_column_of_kpi(kpi.id)))
            if at_pace and not playbook.is_stock(kpi.id):
                # A mean of rows is not scaled: its pace is its value.
                projected = value if kpi.method == "mean_of_rows" else _at_pace(kpi, at_pace, period_functions)
                values.append(pl.when(UNFINISHED).then(projected).alias(projected_column(kpi.id)))
                if kpi.id not in playbook.metrics:  # a metric of the same name wins, as in ``names``
                    at_pace[kpi.id] = pl.when(UNFINISHED).then(pl.col(projected_column(kpi.id))).otherwise(pl.col(value_column(kpi.id)))
        # The reasons after the values: they test the value column rather than compute the value again.
        frame = frame.with_columns(*values).with_columns(*explanations)

    return frame


def _ratio_of_totals(
    kpi: KpiDef, names: dict[str, pl.Expr], reasons: dict[str, pl.Expr], periods: Periods
) -> tuple[pl.Expr, pl.Expr]:
    """The formula on the period's values, and why it may be null: inputs, other periods, zeros, else not finite."""
    kpi_names = {name: names[name] for name in kpi.formula.names}
    built = build_expression(kpi.formula, kpi_names, periods)
    causes = [pl.when(kpi_names[name].is_null()).then(reasons[name]) for name in sorted(kpi.formula.names)]
    causes += [pl.when(p.expression.is_null()).then(_unknown(p)) for p in built.period_values]
    causes += [pl.when(d.expression == 0).then(pl.lit(f"{d.text} is 0: the ratio is undefined")) for d in built.denominators]
    return built.expression, built.explain(pl.coalesce(*causes, pl.lit(NOT_FINITE)))


def _at_pace(kpi: KpiDef, at_pace: dict[str, pl.Expr], periods: Periods) -> pl.Expr:
    paced_periods = replace(periods, days_elapsed=at_pace["days_elapsed"])
    return build_expression(kpi.formula, {name: at_pace[name] for name in kpi.formula.names}, paced_periods).expression


def _unknown(part: Part) -> pl.Expr:
    """Why the value of previous(...) or baseline(...) is null."""
    if part.function == "baseline":
        no_value = pl.lit(f"{part.text} is unknown: no data in the baseline period")
        return pl.when(pl.col("baseline_start").is_null()).then(pl.lit(NO_BASELINE)).otherwise(no_value)
    if part.periods_back == 1:
        return pl.lit(f"{part.text} is unknown: no data for the period before")
    return pl.lit(f"{part.text} is unknown: no data {part.periods_back} periods before, or for a period in between")


def _mean_of_rows(kpi: KpiDef, playbook: PlaybookDef, available: set[str]) -> tuple[pl.Expr, pl.Expr]:
    """The average aggregate made of the formula's per-row values, and why it may be null."""
    missing = [name for name in playbook.inputs(kpi.id) if name not in available]
    cause = f'the data has no "{missing[0]}" column' if missing else "no data row in this period gives a value (inputs missing or a denominator 0)"
    mean = pl.col(mean_column(kpi.id))
    # Finite rows can still add up to more than a float holds.
    return null_if_not_finite(mean), pl.when(mean.is_null()).then(pl.lit(cause)).otherwise(pl.lit(NOT_FINITE))


def _dependency_levels(kpis: list[KpiDef], playbook: PlaybookDef) -> list[list[KpiDef]]:
    """KPIs (in dependency order) grouped so that each group uses only metrics and KPIs of earlier groups."""
    level: dict[str, int] = {}
    for kpi in kpis:
        used = [level[name] for name in kpis_named(kpi.formula.names, level, playbook.metrics)]
        level[kpi.id] = 1 + max(used, default=-1)
    levels: list[list[KpiDef]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for kpi in kpis:
        levels[level[kpi.id]].append(kpi)
    return levels
