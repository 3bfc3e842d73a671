"""Data-quality warnings (KR520-KR524): each kind found, summarised per client file, and not found where the data is fine."""

import datetime as dt

import polars as pl

from kpi_rules.aggregate import aggregate
from kpi_rules.model import MetricDef
from kpi_rules.periods import PeriodSpan, parse_period
from kpi_rules.quality import quality_warnings

D = dt.date
PATHS = {0: "clients/agency.yaml", 1: "clients/other.yaml"}


def days(first: dt.date, last: dt.date, skip: tuple[dt.date, ...] = ()) -> list[dt.date]:
    return [day for n in range((last - first).days + 1) if (day := first + dt.timedelta(days=n)) not in skip]


def warnings(rows: dict, metrics: dict[str, str], grain: str = "month", span: PeriodSpan | None = None) -> list[str]:
    frame = pl.DataFrame(rows).with_columns(pl.col("client").cast(pl.String))
    if "group" not in frame.columns:
        frame = frame.with_columns(group=pl.lit(0, pl.Int32))
    definitions = {name: MetricDef(name, agg) for name, agg in metrics.items()}
    periods = aggregate(frame.lazy(), definitions, grain, span=span).collect()
    return [str(warning) for warning in quality_warnings(periods, definitions, grain, PATHS, span)]


def test_a_flow_below_zero_names_the_file_client_metric_period_and_total():
    rows = {"client": ["a"] * 3, "date": [D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 3)], "spend": [10.0, -5.0, 3.5]}
    assert warnings(rows, {"spend": "sum"}) == [
        'clients/agency.yaml: warning KR520 rows below 0 in a count or an amount: "a": spend in 2026-10 (total 8.50)'
    ]


def test_a_negative_row_in_one_channel_is_found_and_zero_is_fine():
    rows = {
        "client": ["a"] * 4,
        "channel": ["vk", "vk", "tg", "tg"],
        "date": [D(2026, 10, 1), D(2026, 11, 1), D(2026, 10, 1), D(2026, 11, 1)],
        "likes": [0.0, 4.0, 3.0, -2.0],
        "posts": [0.0, 1.0, 1.0, 1.0],
    }
    assert warnings(rows, {"likes": "sum", "posts": "sum"}) == [
        'clients/agency.yaml: warning KR520 rows below 0 in a count or an amount: "a": likes in 2026-11 (total 2)'
    ]
    rows["likes"][3] = 0.0
    assert warnings(rows, {"likes": "sum", "posts": "sum"}) == []


def test_one_warning_per_client_file_and_kind_however_many_clients():
    rows = {
        "group": [0, 0, 0, 1],
        "client": ["b", "a", "c", "d"],
        "date": [D(2026, 10, 1)] * 4,
        "leads": [-1.0, -2.0, -3.0, -4.0],
    }
    assert warnings(rows, {"leads": "sum"}) == [
        'clients/agency.yaml: warning KR520 rows below 0 in a count or an amount: 3 clients, e.g. "a": leads in 2026-10 (total -2)',
        'clients/other.yaml: warning KR520 rows below 0 in a count or an amount: "d": leads in 2026-10 (total -4)',
    ]


def test_a_stock_with_two_values_on_the_day_it_is_read_from():
    rows = {
        "client": ["a"] * 3,
        "date": [D(2026, 10, 30), D(2026, 10, 31), D(2026, 10, 31)],
        "followers": [1100.0, 1200.0, 1350.0],
    }
    assert warnings(rows, {"followers": "last"}) == [
        "clients/agency.yaml: warning KR521 two different values of a stock on the day it is read from (the larger is used): "
        '"a": followers 1,350 and 1,200 on the last day of 2026-10'
    ]


def test_post_rows_of_one_day_and_two_values_on_a_day_not_read_are_no_duplicates():
    # Three posts on one day, each row with the day's followers (as posts.py fills them); two values on the 30th,
    # which the period's value does not read.
    rows = {
        "client": ["a"] * 6,
        "date": [D(2026, 10, 30), D(2026, 10, 30), D(2026, 10, 31), D(2026, 10, 31), D(2026, 10, 31), D(2026, 10, 31)],
        "followers": [1000.0, 1010.0, 1200.0, 1200.0, 1200.0, 1200.0],
        "likes": [None, None, 5.0, 9.0, 2.0, None],
    }
    assert warnings(rows, {"followers": "last", "likes": "sum"}) == []


def test_days_and_periods_without_rows_between_the_first_and_the_last():
    missing = (D(2026, 9, 10), D(2026, 9, 11), D(2026, 9, 12))
    rows = {"date": [*days(D(2026, 8, 3), D(2026, 9, 30), skip=missing), *days(D(2026, 11, 1), D(2026, 12, 5))]}
    rows |= {"client": ["a"] * len(rows["date"]), "spend": [1.0] * len(rows["date"])}
    assert warnings(rows, {"spend": "sum"}) == [
        "clients/agency.yaml: warning KR522 days without rows between the client's first and last month: "
        '"a": 2026-09 has rows on 27 of 30 days; no rows in 2026-10'
    ]


def test_gaps_are_summarised_after_a_few():
    rows = {"date": [D(2026, 1, 1), *[D(2026, month, 2) for month in range(2, 7)], *days(D(2026, 7, 1), D(2026, 7, 31)), D(2026, 8, 1)]}
    rows |= {"client": ["a"] * len(rows["date"]), "spend": [1.0] * len(rows["date"])}
    assert warnings(rows, {"spend": "sum"}) == [
        "clients/agency.yaml: warning KR522 days without rows between the client's first and last month: "
        '"a": 2026-02 has rows on 1 of 28 days; 2026-03 has rows on 1 of 31 days; 2026-04 has rows on 1 of 30 days; and 2 more'
    ]


def test_periods_without_rows_in_a_row_are_named_as_a_span():
    rows = {"date": [*days(D(2026, 1, 1), D(2026, 1, 31)), D(2026, 4, 1)]}
    rows |= {"client": ["a"] * len(rows["date"]), "spend": [1.0] * len(rows["date"])}
    assert warnings(rows, {"spend": "sum"}) == [
        "clients/agency.yaml: warning KR522 days without rows between the client's first and last month: "
        '"a": no rows from 2026-02 to 2026-03'
    ]


def test_no_gaps_for_weekly_rows_for_posts_or_at_the_ends_of_the_data():
    mondays = [D(2026, 9, 7) + dt.timedelta(weeks=n) for n in range(12)]  # a row a week: never every day of a month
    assert warnings({"client": ["a"] * 12, "date": mondays, "spend": [1.0] * 12}, {"spend": "sum"}) == []
    ends = days(D(2026, 9, 20), D(2026, 11, 10))  # the data starts and ends inside a month
    assert warnings({"client": ["a"] * len(ends), "date": ends, "spend": [1.0] * len(ends)}, {"spend": "sum"}) == []
    # Posts on some days of a month, a daily stock on all of them: the stock's rows cover the days.
    stock_days = days(D(2026, 9, 1), D(2026, 11, 30))
    rows = {
        "client": ["a"] * (len(stock_days) + 2),
        "date": [*stock_days, D(2026, 10, 5), D(2026, 10, 5)],
        "followers": [1000.0] * len(stock_days) + [1000.0, 1000.0],
        "likes": [None] * len(stock_days) + [3.0, 4.0],
    }
    assert warnings(rows, {"followers": "last", "likes": "sum"}) == []


def test_a_stock_jumping_more_than_half_from_one_period_to_the_next():
    rows = {"client": ["a", "a", "b", "b"], "date": [D(2026, 9, 30), D(2026, 10, 31)] * 2, "followers": [1000.0, 2000.0, 1000.0, 400.0]}
    assert warnings(rows, {"followers": "last"}) == [
        "clients/agency.yaml: warning KR523 a stock changing by more than 50% from one month to the next: "
        '2 clients, e.g. "a": followers 1,000 in 2026-09, 2,000 in 2026-10 (+100%)'
    ]


def test_weeks_are_named_as_iso_weeks():
    rows = {"client": ["a", "a"], "date": [D(2026, 9, 28), D(2026, 10, 5)], "followers": [1000.0, 1600.0]}
    assert warnings(rows, {"followers": "last"}, "week") == [
        "clients/agency.yaml: warning KR523 a stock changing by more than 50% from one week to the next: "
        '"a": followers 1,000 in 2026-W40, 1,600 in 2026-W41 (+60%)'
    ]


def test_quarters_are_named_as_quarters():
    rows = {"client": ["a", "a"], "date": [D(2026, 9, 30), D(2026, 12, 31)], "followers": [1000.0, 400.0]}
    assert warnings(rows, {"followers": "last"}, "quarter") == [
        "clients/agency.yaml: warning KR523 a stock changing by more than 50% from one quarter to the next: "
        '"a": followers 1,000 in 2026-Q3, 400 in 2026-Q4 (-60%)'
    ]


def test_blocks_of_a_date_range_are_named_by_their_days():
    # --period 2026-10-01..2026-10-03: the data is cut in blocks of 3 days counted back from the range, and a
    # warning names those blocks, never the months they start in.
    rows = {"client": ["a"] * 6, "date": days(D(2026, 9, 28), D(2026, 10, 3)), "followers": [1000.0] * 3 + [1600.0] * 3}
    assert warnings(rows, {"followers": "last"}, "month", parse_period("2026-10-01..2026-10-03")) == [
        "clients/agency.yaml: warning KR523 a stock changing by more than 50% from one 3-day period to the next: "
        '"a": followers 1,000 in 2026-09-28..2026-09-30, 1,600 in 2026-10-01..2026-10-03 (+60%)'
    ]


def test_no_jump_for_a_change_of_40_percent_or_between_periods_that_are_not_neighbours():
    rows = {"client": ["a"] * 3, "date": [D(2026, 8, 31), D(2026, 9, 30), D(2026, 11, 30)], "followers": [1000.0, 1400.0, 3000.0]}
    assert warnings(rows, {"followers": "last"}) == []


def test_followers_rising_with_no_new_followers():
    rows = {
        "client": ["a"] * 3,
        "date": [D(2026, 9, 30), D(2026, 10, 31), D(2026, 10, 31)],
        "followers": [1000.0, 1200.0, None],
        "new_followers": [4.0, None, 0.0],
    }
    assert warnings(rows, {"followers": "last", "new_followers": "sum"}) == [
        "clients/agency.yaml: warning KR524 followers rising with no new followers: "
        '"a": followers 1,000 in 2026-09, 1,200 in 2026-10 with new_followers 0'
    ]


def test_followers_rising_with_new_followers_falling_without_or_new_followers_unknown_are_fine():
    metrics = {"followers": "last", "new_followers": "sum"}
    rising = {"client": ["a", "a"], "date": [D(2026, 9, 30), D(2026, 10, 31)], "followers": [1000.0, 1200.0]}
    assert warnings(rising | {"new_followers": [4.0, 7.0]}, metrics) == []
    assert warnings(rising | {"new_followers": [4.0, None]}, metrics) == []
    assert warnings(rising | {"followers": [1200.0, 1000.0], "new_followers": [4.0, 0.0]}, metrics) == []
    assert warnings(rising, {"followers": "last"}) == []  # no new_followers column: nothing to compare
