import datetime as dt

import polars as pl

from kpi_rules.aggregate import aggregate, negative_column, smaller_column
from kpi_rules.columns import mean_column, reason_column, split_column
from kpi_rules.data.ranges import spread_rows
from kpi_rules.model import MetricDef
from kpi_rules.periods import parse_period

D = dt.date


def run(rows: dict, metrics: dict[str, str], grain: str = "month", span: str | None = None) -> list[dict]:
    frame = pl.DataFrame(rows).with_columns(pl.col("client").cast(pl.String))
    definitions = {name: MetricDef(name, agg) for name, agg in metrics.items()}
    return aggregate(frame.lazy(), definitions, grain, span=parse_period(span) if span else None).collect().to_dicts()


def facts(row: dict) -> tuple:
    return row["period_start"], row["period_end"], row["previous_start"], row["days"], row["days_elapsed"], row["complete"]


def test_each_aggregation_and_period_facts():
    (october,) = run(
        {
            "client": ["a"] * 3,
            "date": [D(2026, 10, 3), D(2026, 10, 1), D(2026, 10, 20)],
            "flow": [1.0, 2.0, None],
            "stock": [20.0, 10.0, None],
            "opening": [20.0, 10.0, 30.0],
            "avg": [1.0, 2.0, 6.0],
            "low": [1.0, 2.0, 6.0],
        },
        {"flow": "sum", "stock": "last", "opening": "first", "avg": "mean", "low": "min"},
    )
    assert (october["flow"], october["stock"], october["opening"], october["avg"], october["low"]) == (3.0, 20.0, 10.0, 3.0, 1.0)
    assert (october["period_start"], october["period_end"], october["days"], october["days_with_data"]) == (
        D(2026, 10, 1), D(2026, 10, 31), 31, 3,
    )
    assert october["complete"] is False


def test_a_median_is_taken_over_every_row_of_the_period_whatever_its_channel():
    # Reply times of five messages in October: vk 5, 60, 10 and tg 3, 1000. Pooled, sorted 3 5 10 60 1000: the
    # median is 10 (the channels' own medians, 10 and 501.5, would give neither). November: 4 and 8 -> 6.
    (october, november) = run(
        {
            "client": ["a"] * 7,
            "channel": ["vk", "vk", "vk", "tg", "tg", "vk", "tg"],
            "date": [D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 9), D(2026, 10, 1), D(2026, 10, 30), D(2026, 11, 3), D(2026, 11, 4)],
            "reply_time": [5.0, 60.0, 10.0, 3.0, 1000.0, 4.0, 8.0],
        },
        {"reply_time": "median"},
    )
    assert (october["reply_time"], november["reply_time"]) == (10.0, 6.0)


def test_a_period_with_no_values_is_null_not_zero():
    (row,) = run({"client": ["a"], "date": [D(2026, 10, 1)], "flow": [None]}, {"flow": "sum"})
    assert row["flow"] is None


def test_channels_are_aggregated_first_then_added():
    rows = run(
        {
            "client": ["a"] * 4,
            "channel": ["vk", "vk", "tg", "tg"],
            "date": [D(2026, 10, 1), D(2026, 10, 31), D(2026, 10, 1), D(2026, 10, 30)],
            "followers": [100.0, 110.0, 50.0, 40.0],
        },
        {"followers": "last"},
    )
    assert rows[0]["followers"] == 150.0 and rows[0]["complete"] is True


def test_non_additive_metrics_need_one_value_at_the_period_start():
    rows = run(
        {
            "client": ["daily", "daily", "monthly", "late"],
            "date": [D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 1), D(2026, 10, 15)],
            "reach": [100.0, 120.0, 900.0, 500.0],
        },
        {"reach": "none"},
    )
    by_client = {row["client"]: row for row in rows}
    assert by_client["monthly"]["reach"] == 900.0 and by_client["monthly"][reason_column("reach")] is None
    assert by_client["daily"]["reach"] is None
    assert "cannot be summed from 2 rows" in by_client["daily"][reason_column("reach")]
    assert by_client["late"]["reach"] is None
    assert "not dated at the start of the month" in by_client["late"][reason_column("reach")]


def test_weeks_start_on_monday_and_rows_a_period_each_are_complete():
    rows = run({"client": ["a", "a"], "date": [D(2026, 10, 12), D(2026, 10, 19)], "flow": [1.0, 2.0]}, {"flow": "sum"}, "week")
    assert [(row["period_start"], row["complete"]) for row in rows] == [(D(2026, 10, 12), True), (D(2026, 10, 19), True)]


def test_row_values_are_averaged_over_every_row_of_every_channel():
    frame = pl.DataFrame(
        {
            "client": ["a"] * 3,
            "channel": ["vk", "vk", "tg"],
            "date": [D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 1)],
            "likes": [10.0, 20.0, 60.0],
            "posts": [1.0, 0.0, 2.0],
        }
    )
    per_post = {"likes_per_post": pl.when(pl.col("posts") != 0).then(pl.col("likes") / pl.col("posts"))}
    definitions = {"likes": MetricDef("likes", "sum"), "posts": MetricDef("posts", "sum")}
    (row,) = aggregate(frame.lazy(), definitions, "month", per_post).collect().to_dicts()
    # vk day 1: 10, vk day 2: no posts (skipped), tg day 1: 30 -> (10 + 30) / 2, not the mean of channel means
    assert row[mean_column("likes_per_post")] == 20.0
    assert row["previous_start"] == D(2026, 9, 1)


def test_stocks_are_taken_by_date_not_by_file_order():
    (row,) = run(
        {"client": ["a"] * 3, "date": [D(2026, 10, 30), D(2026, 10, 2), D(2026, 10, 31)], "followers": [130.0, 100.0, None]},
        {"followers": "last"},
    )
    assert row["followers"] == 130.0
    (row,) = run({"client": ["a"] * 2, "date": [D(2026, 10, 30), D(2026, 10, 2)], "followers": [130.0, 100.0]}, {"followers": "first"})
    assert row["followers"] == 100.0


def test_negative_flows_are_marked_per_period_also_past_one_mask_of_flows():
    flows = [f"flow{n}" for n in range(70)]  # two bit masks: 63 flows and 7
    rows = {"client": ["a", "a"], "channel": ["vk", "tg"], "date": [D(2026, 10, 1)] * 2} | {flow: [1.0, 2.0] for flow in flows}
    rows["flow3"], rows["flow66"] = [-1.0, 2.0], [1.0, -2.0]
    (row,) = run(rows, {flow: "sum" for flow in flows})
    assert [flow for flow in flows if row[negative_column(flow)]] == ["flow3", "flow66"]
    assert row["flow66"] == -1.0 and not any(column.startswith("negative_mask") for column in row)


def test_a_stocks_smaller_value_on_its_day_is_kept_beside_it():
    rows = run(
        {
            "client": ["a"] * 4,
            "channel": ["vk", "vk", "tg", "tg"],
            "date": [D(2026, 10, 31), D(2026, 10, 31), D(2026, 10, 30), D(2026, 10, 31)],
            "followers": [120.0, 100.0, 70.0, 50.0],
        },
        {"followers": "last"},
    )
    assert (rows[0]["followers"], rows[0][smaller_column("followers")]) == (170.0, 150.0)


def test_money_and_per_row_means_do_not_depend_on_the_order_of_the_rows():
    """Once: the same input gave 619.913438 in one run and 619.913437 in the next (floats added in another order)."""
    import random

    generator = random.Random(7)
    amounts = [round(generator.uniform(0, 1000), 2) for _ in range(20_000)]
    ratios = [generator.uniform(0, 3) for _ in range(20_000)]
    definitions = {"spend": MetricDef("spend", "sum", unit="currency")}
    totals = []
    for order in (amounts, amounts[::-1], sorted(amounts)):
        rows = pl.DataFrame({"client": "a", "date": D(2026, 10, 1), "spend": order, "ratio": ratios[: len(order)]})
        (period,) = aggregate(rows.lazy(), definitions, "month", {"er": pl.col("ratio")}).collect().to_dicts()
        totals.append((period["spend"], period[mean_column("er")]))
    assert totals[0][0] == totals[1][0] == totals[2][0] == round(sum(amounts), 2)
    rows = pl.DataFrame({"client": "a", "date": D(2026, 10, 1), "spend": amounts, "ratio": ratios[::-1]})
    (reversed_ratios,) = aggregate(rows.lazy(), definitions, "month", {"er": pl.col("ratio")}).collect().to_dicts()
    assert reversed_ratios[mean_column("er")] == totals[0][1]


def test_days_elapsed_run_to_the_clients_last_day_of_data():
    rows = run(
        {
            "client": ["a", "a", "a", "b"],
            "channel": ["vk", "vk", "tg", "vk"],
            "date": [D(2026, 9, 3), D(2026, 10, 10), D(2026, 10, 12), D(2026, 10, 31)],
            "flow": [1.0, 2.0, 3.0, 4.0],
        },
        {"flow": "sum"},
    )
    by_client = [(row["client"], facts(row)) for row in rows]
    assert by_client == [
        # September is behind the data's last day (12 October): complete, all its days elapsed.
        ("a", (D(2026, 9, 1), D(2026, 9, 30), D(2026, 8, 1), 30, 30, True)),
        # October runs to the 12th, a day of another channel: 12 of 31 days.
        ("a", (D(2026, 10, 1), D(2026, 10, 31), D(2026, 9, 1), 31, 12, False)),
        ("b", (D(2026, 10, 1), D(2026, 10, 31), D(2026, 9, 1), 31, 31, True)),
    ]


def test_a_period_per_row_elapses_whole():
    rows = run({"client": ["a", "a"], "date": [D(2028, 1, 1), D(2028, 2, 1)], "flow": [1.0, 2.0]}, {"flow": "sum"})
    assert [facts(row) for row in rows] == [
        (D(2028, 1, 1), D(2028, 1, 31), D(2027, 12, 1), 31, 31, True),
        (D(2028, 2, 1), D(2028, 2, 29), D(2028, 1, 1), 29, 29, True),  # a leap year's February
    ]


def test_iso_weeks_across_the_new_year_and_a_53rd_week():
    rows = run(
        {"client": ["a"] * 3, "date": [D(2026, 12, 31), D(2027, 1, 3), D(2027, 1, 4)], "flow": [1.0, 2.0, 4.0]},
        {"flow": "sum"},
        "week",
    )
    # Thursday 31 December and Sunday 3 January are both in 2026-W53 (Monday 28 December); Monday 4 January starts 2027-W01.
    assert [(facts(row), row["flow"]) for row in rows] == [
        ((D(2026, 12, 28), D(2027, 1, 3), D(2026, 12, 21), 7, 7, True), 3.0),
        ((D(2027, 1, 4), D(2027, 1, 10), D(2026, 12, 28), 7, 1, False), 4.0),
    ]


def test_quarters_and_years_end_on_their_last_day():
    (quarter,) = run({"client": ["a"], "date": [D(2028, 2, 29)], "flow": [1.0]}, {"flow": "sum"}, "quarter")
    assert facts(quarter) == (D(2028, 1, 1), D(2028, 3, 31), D(2027, 10, 1), 91, 60, False)  # 31 + 29 days to 29 February
    (year,) = run({"client": ["a"], "date": [D(2028, 3, 1)], "flow": [1.0]}, {"flow": "sum"}, "year")
    assert facts(year) == (D(2028, 1, 1), D(2028, 12, 31), D(2027, 1, 1), 366, 61, False)


def test_a_range_makes_periods_of_its_length_from_its_first_day():
    rows = run(
        {
            "client": ["a"] * 6,
            "date": [D(2026, 10, 28), D(2026, 10, 29), D(2026, 10, 31), D(2026, 11, 1), D(2026, 11, 3), D(2026, 11, 4)],
            "flow": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
            "stock": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        },
        {"flow": "sum", "stock": "last"},
        span="2026-11-01..2026-11-03",
    )
    assert [(facts(row), row["flow"], row["stock"], row["days_with_data"]) for row in rows] == [
        ((D(2026, 10, 26), D(2026, 10, 28), D(2026, 10, 23), 3, 3, True), 1.0, 10.0, 1),
        # The three days before the range: its previous period.
        ((D(2026, 10, 29), D(2026, 10, 31), D(2026, 10, 26), 3, 3, True), 6.0, 30.0, 2),
        ((D(2026, 11, 1), D(2026, 11, 3), D(2026, 10, 29), 3, 3, True), 24.0, 50.0, 2),
        ((D(2026, 11, 4), D(2026, 11, 6), D(2026, 11, 1), 3, 1, False), 32.0, 60.0, 1),
    ]


def test_a_range_across_a_leap_day_counts_it():
    rows = run(
        {"client": ["a"] * 3, "date": [D(2028, 2, 26), D(2028, 2, 29), D(2028, 3, 2)], "flow": [1.0, 2.0, 4.0]},
        {"flow": "sum"},
        span="2028-02-28..2028-03-02",
    )
    # Four-day periods from 28 February: 28, 29 February, 1, 2 March; the one before is 24 to 27 February.
    assert [(facts(row), row["flow"]) for row in rows] == [
        ((D(2028, 2, 24), D(2028, 2, 27), D(2028, 2, 20), 4, 4, True), 1.0),
        ((D(2028, 2, 28), D(2028, 3, 2), D(2028, 2, 24), 4, 4, True), 6.0),
    ]


def test_a_range_names_its_periods_in_the_reason_for_unique_counts():
    (row,) = run({"client": ["a", "a"], "date": [D(2026, 11, 1), D(2026, 11, 2)], "reach": [1.0, 2.0]}, {"reach": "none"}, span="2026-11-01..2026-11-03")
    assert row["reach"] is None and row[reason_column("reach")].endswith("supply it once per 3-day period, for several channels on one row with an empty channel cell")


def test_rows_across_a_ranges_periods_are_split_at_its_boundaries():
    rows = pl.DataFrame(
        {
            "client": ["a", "a", "a"],
            "date": [D(2026, 10, 30), D(2026, 11, 1), D(2026, 11, 2)],
            "date_end": [D(2026, 11, 1), D(2026, 11, 3), D(2026, 11, 5)],
            "flow": [30.0, 9.0, 40.0],
            "stock": [5.0, 6.0, 7.0],
        }
    )
    metrics = {"flow": MetricDef("flow", "sum"), "stock": MetricDef("stock", "last")}
    span = parse_period("2026-11-01..2026-11-03")
    spread, problems = spread_rows(rows.lazy(), "month", metrics, ["d.csv"], span)
    periods = aggregate(spread, metrics, "month", span=span).collect()
    # 30 October to 1 November: 10 a day, two days in the block of 29 to 31 October; 2 to 5 November: 10 a day,
    # two days in the range. The row of 1 to 3 November is the range's own: kept whole, with its stock.
    assert periods.select("period_start", "flow", "stock", split_column("flow")).rows() == [
        (D(2026, 10, 29), 20.0, None, True),
        (D(2026, 11, 1), 10.0 + 9.0 + 20.0, 6.0, True),
        (D(2026, 11, 4), 20.0, None, True),
    ]
    (problem,) = problems
    assert problem.code == "KR502" and "2 row(s) between 2026-10-30 and 2026-11-05 cross a 3-day period's boundary" in problem.message


def test_days_with_data_count_each_day_once_whatever_its_rows_or_channels():
    # October: the 1st twice on vk and once on tg, the 2nd on tg, the 31st (bit 30 of the month's mask) on vk:
    # 3 days. November: the 30th alone: 1 day.
    rows = run(
        {
            "client": ["a"] * 6,
            "channel": ["vk", "vk", "tg", "tg", "vk", "tg"],
            "date": [D(2026, 10, 1), D(2026, 10, 1), D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 31), D(2026, 11, 30)],
            "flow": [1.0] * 6,
        },
        {"flow": "sum"},
    )
    assert [(row["period_start"], row["days_with_data"]) for row in rows] == [(D(2026, 10, 1), 3), (D(2026, 11, 1), 1)]


def test_days_with_data_of_a_year_span_every_mask_of_63_days():
    # Days 0, 62 (the first mask's last bit), 63 (the second's first), 126, 189, 252, 315 and 364 (the
    # sixth's) of 2026, and day 0 again: 8 days.
    days = [0, 62, 63, 126, 189, 252, 315, 364, 0]
    (year,) = run(
        {"client": ["a"] * len(days), "date": [D(2026, 1, 1) + dt.timedelta(days=day) for day in days], "flow": [1.0] * len(days)},
        {"flow": "sum"},
        grain="year",
    )
    assert (year["days"], year["days_with_data"]) == (365, 8)


def test_days_with_data_of_a_range_longer_than_its_grain():
    # A 100-day range counted from 2026-01-01: its first block has days 0, 63 and 99; the day before falls in
    # the block before (its last day, bit 99 of that block).
    dates = [D(2026, 1, 1), D(2026, 3, 5), D(2026, 4, 10), D(2025, 12, 31)]
    rows = run({"client": ["a"] * 4, "date": dates, "flow": [1.0] * 4}, {"flow": "sum"}, span="2026-01-01..2026-04-10")
    assert [(row["period_start"], row["days"], row["days_with_data"]) for row in rows] == [
        (D(2025, 9, 23), 100, 1), (D(2026, 1, 1), 100, 3),
    ]
