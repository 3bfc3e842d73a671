import datetime as dt

import polars as pl

from kpi_rules.aggregate import aggregate, negative_column, smaller_column
from kpi_rules.columns import mean_column, reason_column
from kpi_rules.model import MetricDef

D = dt.date


def run(rows: dict, metrics: dict[str, str], grain: str = "month") -> list[dict]:
    frame = pl.DataFrame(rows).with_columns(pl.col("client").cast(pl.String))
    definitions = {name: MetricDef(name, agg) for name, agg in metrics.items()}
    return aggregate(frame.lazy(), definitions, grain).collect().to_dicts()


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
