"""Data-quality findings: warnings about the data behind the scorecards, printed after them.

They are read from the periods ``aggregate`` returns (a row per client file ``group``, client and
period), never from the rows, so that they cost next to nothing at a million rows; aggregate carries
the two facts a period's totals cannot tell: which flows have a row below 0 (``negative:<metric>``),
and a stock's smaller value on the day it is read from (``smaller:<metric>``). Each kind gives one
warning per client file: how many clients, and the first one's periods and numbers as the example.

Duplicate dates are looked for in stocks only. The rows of a per-post export share days by nature,
and nothing in the rows says whether they are posts or days; a stock has one value per day and
channel, and two different values on the day it is read from change the result (aggregate takes the
larger). Two identical rows are therefore not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import polars as pl

from kpi_rules.aggregate import negative_column, smaller_column
from kpi_rules.diagnostics import Diagnostic
from kpi_rules.model import MetricDef
from kpi_rules.periods import PeriodSpan, period_length, period_name

JUMP = 0.5  # a stock changing by more than this share from one period to the next is not plausible growth
FOLLOWERS, NEW_FOLLOWERS = "followers", "new_followers"
SHOWN = 3  # findings shown for the example client
KEYS = ["group", "client"]
TITLES = {
    "KR520": "rows below 0 in a count or an amount",
    "KR521": "two different values of a stock on the day it is read from (the larger is used)",
    "KR522": "days without rows between the client's first and last {grain}",
    "KR523": f"a stock changing by more than {JUMP:.0%} from one {{grain}} to the next",
    "KR524": "followers rising with no new followers",
}
# Rows come in aggregate's order (by client file, client and period): the row before is the client's
# period before when it is the same client and that period. Cheaper than windows over the clients.
SAME_CLIENT = (pl.col("group").shift() == pl.col("group")) & (pl.col("client").shift() == pl.col("client"))
FOLLOWS = SAME_CLIENT & (pl.col("period_start").shift() == pl.col("previous_start"))


def quality_warnings(
    periods: pl.DataFrame, metrics: dict[str, MetricDef], grain: str, paths: dict[int, str], span: PeriodSpan | None = None
) -> list[Diagnostic]:
    """Warnings KR520-KR524 about aggregate's ``periods``, one per client file (``paths``, by group) and kind.

    ``metrics`` may hold more than the frame has: only the metrics with columns in it are checked.
    """
    flows = [m.id for m in metrics.values() if m.agg == "sum" and negative_column(m.id) in periods.columns]
    stocks = [m for m in metrics.values() if m.agg in ("last", "first") and smaller_column(m.id) in periods.columns]
    checks = {
        "KR520": (_below_zero(periods, flows), _describe_below_zero),
        "KR521": (_two_values(periods, stocks), _describe_two_values),
        "KR522": (_gaps(periods, grain, span), _describe_gap),
        "KR523": (_jumps(periods, stocks), _describe_jump),
        "KR524": (_followers_without_new(periods), _describe_followers),
    }
    label = partial(_label, grain=grain, span=span)
    return [
        Diagnostic(paths[group], None, None, code, f"{TITLES[code].format(grain=period_name(grain, span))}: {summary}", "warning")
        for code, (found, describe) in checks.items()
        if found is not None
        for group, summary in _summarise(found, partial(describe, label=label))
    ]


def _below_zero(periods: pl.DataFrame, flows: list[str]) -> pl.DataFrame | None:
    if not flows:
        return None
    # The few periods with a negative row first (mostly none), then which flows.
    periods = periods.filter(pl.any_horizontal(negative_column(flow) for flow in flows))
    if periods.is_empty():
        return None
    return pl.concat(
        periods.filter(pl.col(negative_column(flow))).select(*KEYS, "period_start", metric=pl.lit(flow), total=pl.col(flow))
        for flow in flows
    )


def _two_values(periods: pl.DataFrame, stocks: list[MetricDef]) -> pl.DataFrame | None:
    found = [
        periods.filter(pl.col(smaller_column(stock.id)) < pl.col(stock.id)).select(
            *KEYS,
            "period_start",
            metric=pl.lit(stock.id),
            day=pl.lit(stock.agg),
            used=pl.col(stock.id),
            other=pl.col(smaller_column(stock.id)),
        )
        for stock in stocks
    ]
    return pl.concat(found) if found else None


def _gaps(periods: pl.DataFrame, grain: str, span: PeriodSpan | None) -> pl.DataFrame:
    """Periods with days missing, and periods with no rows at all, between a client's first and last period.
    Only for a client with a row on every day of some period: weekly or monthly rows, and posts, leave days
    empty by nature."""
    inside = SAME_CLIENT & SAME_CLIENT.shift(-1)  # neither the client's first period nor its last
    found = periods.select(
        *KEYS,
        "period_start",
        "days_with_data",
        "days",
        partial=inside & (pl.col("days_with_data") < pl.col("days")),
        # Periods with no rows: from the one after the period before to the one before this.
        empty_from=pl.when(SAME_CLIENT & ~FOLLOWS).then(pl.col("period_start").shift().dt.offset_by(period_length(grain, span))),
        empty_to=pl.col("previous_start"),
    ).filter(pl.col("partial") | pl.col("empty_from").is_not_null())
    daily = periods.filter(pl.col("days_with_data") == pl.col("days")).select(KEYS)
    return found.join(daily, on=KEYS, how="semi")


def _jumps(periods: pl.DataFrame, stocks: list[MetricDef]) -> pl.DataFrame | None:
    found = [
        periods.select(*KEYS, "period_start", "previous_start", metric=pl.lit(stock.id), before=_before(stock.id), now=pl.col(stock.id))
        .filter(pl.col("before") > 0, (pl.col("now") - pl.col("before")).abs() > JUMP * pl.col("before"))
        for stock in stocks
    ]
    return pl.concat(found) if found else None


def _followers_without_new(periods: pl.DataFrame) -> pl.DataFrame | None:
    if FOLLOWERS not in periods.columns or NEW_FOLLOWERS not in periods.columns:
        return None
    return periods.select(
        *KEYS, "period_start", "previous_start", before=_before(FOLLOWERS), now=pl.col(FOLLOWERS), new=pl.col(NEW_FOLLOWERS)
    ).filter(pl.col("now") > pl.col("before"), pl.col("new") == 0)


def _before(column: str) -> pl.Expr:
    """The client's value in the period before, when the data has that period: changes are between neighbours."""
    return pl.when(FOLLOWS).then(pl.col(column).shift())


def _summarise(found: pl.DataFrame, describe: Callable[[dict], str]) -> list[tuple[int, str]]:
    """Per client file: how many clients, and the first client's findings (the first few) as the example."""
    summaries = []
    found = found.sort(*KEYS, "period_start", maintain_order=True)
    for (group,), rows in found.group_by("group", maintain_order=True):
        name, clients = rows["client"][0], rows["client"].n_unique()
        example = rows.filter(pl.col("client") == name)
        details = "; ".join(describe(row) for row in example.head(SHOWN).iter_rows(named=True))
        more = f"; and {example.height - SHOWN} more" if example.height > SHOWN else ""
        who = f'"{name}"' if clients == 1 else f'{clients:,} clients, e.g. "{name}"'
        summaries.append((group, f"{who}: {details}{more}"))
    return summaries


def _describe_below_zero(row: dict, label: Callable[[dt.date], str]) -> str:
    return f"{row['metric']} in {label(row['period_start'])} (total {_number(row['total'])})"


def _describe_two_values(row: dict, label: Callable[[dt.date], str]) -> str:
    values = f"{_number(row['used'])} and {_number(row['other'])}"
    return f"{row['metric']} {values} on the {row['day']} day of {label(row['period_start'])}"


def _describe_gap(row: dict, label: Callable[[dt.date], str]) -> str:
    parts = []
    if row["empty_from"] is not None:
        first, last = label(row["empty_from"]), label(row["empty_to"])
        parts.append(f"no rows in {last}" if first == last else f"no rows from {first} to {last}")
    if row["partial"]:
        parts.append(f"{label(row['period_start'])} has rows on {row['days_with_data']} of {row['days']} days")
    return "; ".join(parts)


def _describe_jump(row: dict, label: Callable[[dt.date], str]) -> str:
    change = (row["now"] - row["before"]) / row["before"]
    return (
        f"{row['metric']} {_number(row['before'])} in {label(row['previous_start'])}, "
        f"{_number(row['now'])} in {label(row['period_start'])} ({change:+.0%})"
    )


def _describe_followers(row: dict, label: Callable[[dt.date], str]) -> str:
    return (
        f"{FOLLOWERS} {_number(row['before'])} in {label(row['previous_start'])}, {_number(row['now'])} in "
        f"{label(row['period_start'])} with {NEW_FOLLOWERS} 0"
    )


def _label(start: dt.date, grain: str, span: PeriodSpan | None = None) -> str:
    """A period as --period takes it: a block of a date range by its days."""
    if span is not None:
        return f"{start}..{start + dt.timedelta(days=span.days - 1)}"
    match grain:
        case "week":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        case "quarter":
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.strftime({"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[grain])


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
