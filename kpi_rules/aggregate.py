"""Roll rows up to the reporting grain, per client, by each metric's aggregation.

Two steps: per client, channel and period by the metric's ``agg``; then across
channels (a client's followers are the sum of each channel's last value).
Non-additive metrics (``agg: none``, e.g. reach) are never summed over time:
they must come as exactly one value per period, dated at its start, or the
period gets null with a reason column ``reason:<metric>``.

``row_values`` are expressions over one data row (a KPI with method
mean_of_rows): each is averaged over all the client's rows in the period,
across channels, into a column ``mean:<name>``.

Two kinds of column feed the data-quality warnings (kpi_rules.quality): per flow,
whether a row of the period has it below 0 (``negative:<metric>``), and per stock,
its smaller value on the date it is taken from (``smaller:<metric>``: below the
stock when that day has two different values).

Where the rows carry a time of day (a ``date_time`` column: see data.cells), a stock is taken at its latest
(``last``) or earliest (``first``) moment, not merely its last day: of two posts on 31 October, 10,250
followers at 09:00 and 10,240 at 21:00, the period's followers are 10,240. A row without a time (a daily
export beside a per-post one) stands at the start of its day. Two rows at the same moment still take the larger.
"""

from __future__ import annotations

import polars as pl

from kpi_rules.columns import mean_column, reason_column, split_column
from kpi_rules.data.cells import MOMENT
from kpi_rules.model import MetricDef
from kpi_rules.periods import PeriodSpan, most_days, period_length, period_name, period_start


# Flows per bit mask (Int64): bits 0..62, so that a mask is never negative.
MASK_BITS = 63
# Fractional numbers are added as whole millionths (per-row ratios as 1e-12ths): integers add up the same in
# any order, floats do not, and the streaming engine adds rows in no fixed order. So the same input gives
# byte-identical reports. Counts are whole numbers already, which floats add exactly in any order: they are
# summed as they are (cheaper).
FIXED = 10**6
FIXED_ROW_VALUE = 10**12


def negative_column(metric: str) -> str:
    return f"negative:{metric}"


def smaller_column(metric: str) -> str:
    return f"smaller:{metric}"


def aggregate(
    rows: pl.LazyFrame,
    metrics: dict[str, MetricDef],
    grain: str,
    row_values: dict[str, pl.Expr] | None = None,
    span: PeriodSpan | None = None,
) -> pl.LazyFrame:
    """One row per client and period: client (and group), period_start, period_end, previous_start, days,
    days_elapsed, days_with_data, complete; one column per metric; the reason, mean, negative, smaller and
    split columns (the last where ``rows`` has them: see data.ranges).

    Periods are the ``grain``'s, or with a ``span`` (a range of N days), blocks of N days counted from its
    first day (see periods.period_start).
    """
    row_values = row_values or {}
    columns = rows.collect_schema().names()
    present = [m for m in metrics.values() if m.id in columns]
    splits = [split_column(m.id) for m in present if split_column(m.id) in columns]
    channels = "channel" in columns
    rows = rows.with_columns(
        period_start(pl.col("date"), grain, span).alias("period_start"),
        *[expression.alias(f"row:{name}") for name, expression in row_values.items()],
    )
    # A client is also told apart by the client file (group) its rows came through, if any: a name in two
    # files must come out as two rows, to be reported, not silently added up.
    client = ["group", "client"] if "group" in columns else ["client"]
    keys = [*client, "channel", "period_start"] if channels else [*client, "period_start"]
    stocks = [metric for metric in present if metric.agg in ("last", "first")]
    flows = [metric.id for metric in present if metric.agg == "sum"]
    # Rows split over days carry fractions of counts too.
    schema = rows.collect_schema()
    fixed = {m.id for m in present if m.agg == "sum" and schema[m.id].is_float() and (m.unit != "count" or splits)}
    masks = [f"negative_mask:{index}" for index in range(len(_masked(flows)))]
    moment = "date"
    if stocks and MOMENT in columns:
        moment = "moment"
        rows = rows.with_columns(pl.coalesce(MOMENT, pl.col("date").cast(pl.Datetime("us"))).alias(moment))
    if stocks:
        # A stock's value is the one on its last (first) date (moment) with a value: that is found first, in a
        # small pass, so that the main aggregation needs no sorting and can run streaming.
        dates = rows.group_by(keys).agg(*[_stock_date(metric, moment) for metric in stocks])
        rows = rows.join(dates, on=keys, how="left", nulls_equal=True)
    day_masks = _day_masks(most_days(grain, span))
    day_columns = [mask.meta.output_name() for mask in day_masks]
    # Means of row values travel as sum and count, so that rows of every channel weigh the same.
    # Without a channel column the first step is already per client: one pass over the rows.
    per_group = rows.group_by(keys).agg(
        *[expression for metric in present for expression in _within_channel(metric, metric.id in fixed, moment)],
        *[_fixed_sum(pl.col(f"row:{name}"), FIXED_ROW_VALUE).alias(f"sum:{name}") for name in row_values],
        *[pl.col(f"row:{name}").count().alias(f"count:{name}") for name in row_values],
        *[pl.col(split).any() for split in splits],
        *_negative_masks(flows),
        last_date=pl.col("date").max(),
        whole_periods=(pl.col("date") == pl.col("period_start")).all(),
        *day_masks,
    )
    if channels:
        per_client = per_group.group_by(*client, "period_start").agg(
            *[expression for metric in present for expression in _across_channels(metric)],
            *[pl.col(f"{part}:{name}").sum() for name in row_values for part in ("sum", "count")],
            *[pl.col(split).any() for split in splits],
            *[pl.col(mask).bitwise_or() for mask in [*masks, *day_columns]],
            pl.col("last_date").max(),
            pl.col("whole_periods").all(),
        )
    else:
        per_client = per_group
    per_client = per_client.with_columns(
        days_with_data=pl.sum_horizontal(pl.col(mask).bitwise_count_ones() for mask in day_columns).cast(pl.UInt32)
    ).drop(day_columns)
    medians = [metric.id for metric in present if metric.agg == "median"]
    if medians:
        # A median does not combine across days or channels: it is taken over all the period's rows at once.
        pooled = rows.group_by(*client, "period_start").agg(pl.col(median).median() for median in medians)
        per_client = per_client.join(pooled, on=[*client, "period_start"], how="left", nulls_equal=True)
    per_client = per_client.with_columns(
        ((pl.col(mask) & (1 << bit)) != 0).alias(negative_column(flow))
        for mask, chunk in zip(masks, _masked(flows)) for bit, flow in enumerate(chunk)
    ).drop(masks)
    return finish(per_client, present, grain, span, fixed, list(row_values))


def finish(
    per_client: pl.LazyFrame, present: list[MetricDef], grain: str, span: PeriodSpan | None, fixed: set[str], row_values: list[str]
) -> pl.LazyFrame:
    """The periods' columns from the per-client aggregates, wherever those were computed (here, or in the
    database that holds the rows: data.pushdown): ``fixed`` flows summed as whole millionths, row values as
    ``sum:`` (whole 1e-12ths) and ``count:``, non-additive metrics with ``n:`` and ``at_start:``, and
    ``last_date``, ``whole_periods`` and ``days_with_data``."""
    every = period_length(grain, span)
    client = ["group", "client"] if "group" in per_client.collect_schema().names() else ["client"]
    per_client = per_client.with_columns(
        *[(pl.col(flow) / FIXED).alias(flow) for flow in fixed],
        *[
            pl.when(pl.col(f"count:{name}") > 0)
            .then(pl.col(f"sum:{name}") / FIXED_ROW_VALUE / pl.col(f"count:{name}"))
            .alias(mean_column(name))
            for name in row_values
        ],
    ).drop([f"{part}:{name}" for name in row_values for part in ("sum", "count")])
    non_additive = [m for m in present if m.agg == "none"]
    per_client = per_client.with_columns(
        *[_checked_non_additive(metric) for metric in non_additive],
        *[_non_additive_reason(metric, period_name(grain, span)) for metric in non_additive],
    ).drop([column for m in non_additive for column in (f"n:{m.id}", f"at_start:{m.id}")])

    # Whole-number columns (Parquet) were summed as integers, exactly; formulas see every metric as a float.
    per_client = per_client.with_columns(pl.col(m.id).cast(pl.Float64) for m in present)

    # A period is complete when the data reaches its last day; data that comes a period per row reaches the
    # end of each. The days elapsed are those the data reaches (all of them when complete): what flows are
    # paced by.
    period_end = pl.col("period_start").dt.offset_by(every) - pl.duration(days=1)
    reached = pl.when(pl.col("whole_periods").all().over(client)).then(pl.col("period_end")).otherwise(pl.col("last_date").max().over(client))
    return (
        per_client.with_columns(period_end=period_end, previous_start=pl.col("period_start").dt.offset_by(f"-{every}"))
        .with_columns(reached.alias("reached"))
        .with_columns(
            days=(pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1,
            days_elapsed=(pl.min_horizontal("period_end", "reached") - pl.col("period_start")).dt.total_days() + 1,
            complete=pl.col("period_end") <= pl.col("reached"),
        )
        .drop("last_date", "whole_periods", "reached")
        .sort(*client, "period_start")
    )


def _within_channel(metric: MetricDef, fixed: bool, moment: str = "date") -> list[pl.Expr]:
    value = pl.col(metric.id)
    match metric.agg:
        case "sum":
            return [pl.when(value.count() > 0).then(_fixed_sum(value, FIXED) if fixed else value.sum()).alias(metric.id)]
        case "last" | "first":
            # By date (and time), not file order (exports often come newest first); of two rows at that moment,
            # the larger.
            on_date = pl.when(pl.col(moment) == pl.col(f"date:{metric.id}")).then(value)
            return [on_date.max().alias(metric.id), on_date.min().alias(smaller_column(metric.id))]
        case "mean" | "min" | "max":
            return [getattr(value, metric.agg)().alias(metric.id)]
        case "median":
            return []  # over the period's rows of every channel at once, after (see aggregate)
        case "none":
            # Kept only when there is exactly one value (then max is that value), dated at the period start.
            return [
                value.max().alias(metric.id),
                value.count().alias(f"n:{metric.id}"),
                (~(value.is_not_null() & (pl.col("date") != pl.col("period_start"))).any()).alias(f"at_start:{metric.id}"),
            ]
    raise ValueError(f"unknown aggregation {metric.agg}")


def _masked(flows: list[str]) -> list[list[str]]:
    return [flows[start : start + MASK_BITS] for start in range(0, len(flows), MASK_BITS)]


def _negative_masks(flows: list[str]) -> list[pl.Expr]:
    """A bit per flow, set when a row has it below 0: one aggregation for up to 63 flows. At the benchmark's
    million rows and 31 flows, a min per flow cost 0.15 s more CPU, this about 0.05 s."""
    return [
        pl.sum_horizontal([pl.when(pl.col(flow) < 0).then(pl.lit(1 << bit, pl.Int64)).otherwise(0) for bit, flow in enumerate(chunk)])
        .bitwise_or()
        .alias(f"negative_mask:{index}")
        for index, chunk in enumerate(_masked(flows))
    ]


def _day_masks(days: int) -> list[pl.Expr]:
    """Which days of its period (of at most ``days``) a group's rows have, a bit per day in masks of 63 days,
    for ``days_with_data``. bitwise_or is one of the streaming engine's reductions; n_unique is not, and with
    it polars held every column of the rows (2.9 GB of the 10M-row benchmark's)."""
    day = (pl.col("date") - pl.col("period_start")).dt.total_days()
    return [
        pl.when(day // MASK_BITS == index).then(pl.lit(2, pl.Int64).pow(day % MASK_BITS)).otherwise(0).bitwise_or().alias(f"day_mask:{index}")
        for index in range(-(-days // MASK_BITS))
    ]


def _stock_date(metric: MetricDef, moment: str = "date") -> pl.Expr:
    dates = pl.when(pl.col(metric.id).is_not_null()).then(pl.col(moment))
    return (dates.max() if metric.agg == "last" else dates.min()).alias(f"date:{metric.id}")


def _across_channels(metric: MetricDef) -> list[pl.Expr]:
    value = pl.col(metric.id)
    match metric.agg:
        case "mean" | "min" | "max":
            return [getattr(value, metric.agg)().alias(metric.id)]
        case "median":
            return []
        case "none":
            return [
                value.sum().alias(metric.id),
                pl.col(f"n:{metric.id}").sum(),
                pl.col(f"at_start:{metric.id}").all(),
            ]
        case "sum":
            return [_total(value).alias(metric.id)]
        case "last" | "first":
            smaller = smaller_column(metric.id)
            return [_total(value).alias(metric.id), _total(pl.col(smaller)).alias(smaller)]
    raise ValueError(f"unknown aggregation {metric.agg}")


def _fixed_sum(value: pl.Expr, scale: int) -> pl.Expr:
    """The sum in whole units of 1/scale: exact, so the same whatever order the rows come in (Int128: a
    trillion rows of a trillion each still fit)."""
    return (value * scale).round().cast(pl.Int128).sum()


def _total(value: pl.Expr) -> pl.Expr:
    """The sum, null (no data) rather than 0 when there is no value."""
    return pl.when(value.count() > 0).then(value.sum())


def _checked_non_additive(metric: MetricDef) -> pl.Expr:
    valid = (pl.col(f"n:{metric.id}") == 1) & pl.col(f"at_start:{metric.id}")
    return pl.when(valid).then(pl.col(metric.id)).alias(metric.id)


def _non_additive_reason(metric: MetricDef, period: str) -> pl.Expr:
    count = pl.col(f"n:{metric.id}")
    return (
        pl.when(count > 1)
        .then(
            pl.format(
                f"{metric.id} counts unique people and cannot be summed from {{}} rows (days, posts or channels): supply it once per {period}, for several channels on one row with an empty channel cell",
                count,
            )
        )
        .when((count == 1) & ~pl.col(f"at_start:{metric.id}"))
        .then(pl.lit(f"{metric.id} is not dated at the start of the {period}: supply it once per {period}"))
        .alias(reason_column(metric.id))
    )
