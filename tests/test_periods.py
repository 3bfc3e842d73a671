import datetime as dt

import pytest

from kpi_rules.periods import (
    ALL,
    CURRENT,
    LATEST,
    PeriodSpan,
    grain_periods,
    is_period_of_grain,
    parse_period,
    period_length,
    period_name,
    period_of,
    period_start,
)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("2026-2", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("2026-12", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("2026-W42", dt.date(2026, 10, 12), dt.date(2026, 10, 18)),
        ("2026-w01", dt.date(2025, 12, 29), dt.date(2026, 1, 4)),
        ("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("2026-10-05", dt.date(2026, 10, 5), dt.date(2026, 10, 5)),
        (" 2026-10 ", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    ],
)
def test_periods_as_people_write_them(text, start, end):
    assert parse_period(text) == PeriodSpan(start, end)


@pytest.mark.parametrize("text", ["2026-13", "2026-W54", "2026-Q5", "2026-02-30", "October", "", "26-10"])
def test_not_a_period(text):
    with pytest.raises(ValueError, match="is not a period: use 2026-10"):
        parse_period(text)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2026-11-01..2026-11-03", dt.date(2026, 11, 1), dt.date(2026, 11, 3)),
        ("2026-07..2026-09", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        ("2026-W53..2027-W01", dt.date(2026, 12, 28), dt.date(2027, 1, 10)),  # 2026 has an ISO week 53
        ("2028-02-27 .. 2028-02", dt.date(2028, 2, 27), dt.date(2028, 2, 29)),  # leap year: the month ends on the 29th
        ("2026-Q4..2027", dt.date(2026, 10, 1), dt.date(2027, 12, 31)),
        ("2026-10-05..2026-10-05", dt.date(2026, 10, 5), dt.date(2026, 10, 5)),
    ],
)
def test_ranges_join_any_two_periods_both_included(text, start, end):
    span = parse_period(text)
    assert span == PeriodSpan(start, end, is_range=True)
    assert span.days == (end - start).days + 1


def test_a_single_period_is_not_a_range():
    assert parse_period("2026-11").is_range is False
    assert parse_period("2026-11").days == 30


def test_a_range_that_ends_before_it_starts():
    with pytest.raises(ValueError, match=r'"2026-11-03..2026-11-01" ends \(2026-11-01\) before it starts \(2026-11-03\)'):
        parse_period("2026-11-03..2026-11-01")
    # A month and a day inside it overlap backwards: the range would end before it starts.
    with pytest.raises(ValueError, match="before it starts"):
        parse_period("2026-11..2026-10-31")


@pytest.mark.parametrize("text", ["2026-11-01..", "..2026-11-03", "2026-11-01..soon", "2026-11-01...2026-11-03", "2026-02-30..2026-03-01", ".."])
def test_not_a_range(text):
    with pytest.raises(ValueError, match="is not a range of days: use first..last"):
        parse_period(text)


def test_the_message_names_every_keyword():
    with pytest.raises(ValueError) as caught:
        parse_period("now")
    assert f"{LATEST}, {CURRENT} or {ALL}" in str(caught.value) and "2026-11-01..2026-11-30" in str(caught.value)
    assert CURRENT == "current"


@pytest.mark.parametrize(
    "day, grain, start, end",
    [
        (dt.date(2026, 10, 14), "day", dt.date(2026, 10, 14), dt.date(2026, 10, 14)),
        (dt.date(2026, 10, 14), "week", dt.date(2026, 10, 12), dt.date(2026, 10, 18)),
        (dt.date(2027, 1, 1), "week", dt.date(2026, 12, 28), dt.date(2027, 1, 3)),  # a Friday of 2026-W53
        (dt.date(2028, 2, 10), "month", dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        (dt.date(2026, 2, 10), "month", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2026, 12, 31), "quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        (dt.date(2026, 5, 1), "quarter", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        (dt.date(2028, 7, 4), "year", dt.date(2028, 1, 1), dt.date(2028, 12, 31)),
    ],
)
def test_the_period_a_day_falls_in(day, grain, start, end):
    assert period_of(day, grain) == PeriodSpan(start, end)


@pytest.mark.parametrize(
    "text, grain, expected",
    [
        ("2026-10", "month", True),
        ("2028-02", "month", True),
        ("2028-02-01..2028-02-28", "month", False),  # the leap day is missing
        ("2026-10-01..2026-10-31", "month", True),  # a range can still be exactly one month
        ("2026-W42", "week", True),
        ("2026-10-13..2026-10-19", "week", False),  # seven days, Tuesday to Monday
        ("2026-Q4", "quarter", True),
        ("2026-10", "quarter", False),
        ("2026", "year", True),
        ("2026-10-05", "day", True),
        ("2026-10", "day", False),
    ],
)
def test_is_period_of_grain(text, grain, expected):
    assert is_period_of_grain(parse_period(text), grain) is expected


def test_grain_periods_overlap_the_span_in_order():
    months = grain_periods(parse_period("2028-01-15..2028-03-01"), "month")
    assert [(p.start, p.end) for p in months] == [
        (dt.date(2028, 1, 1), dt.date(2028, 1, 31)),
        (dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        (dt.date(2028, 3, 1), dt.date(2028, 3, 31)),
    ]
    weeks = grain_periods(parse_period("2026-12"), "week")
    assert [p.start for p in weeks] == [dt.date(2026, 11, 30), dt.date(2026, 12, 7), dt.date(2026, 12, 14), dt.date(2026, 12, 21), dt.date(2026, 12, 28)]
    assert weeks[-1].end == dt.date(2027, 1, 3)
    assert grain_periods(parse_period("2026-10-05"), "quarter") == [PeriodSpan(dt.date(2026, 10, 1), dt.date(2026, 12, 31))]


def test_period_starts_in_polars_match_the_periods_in_python():
    import polars as pl

    days = [dt.date(2026, 12, 27) + dt.timedelta(days=n) for n in range(800)]  # across 2026-W53 and 2028-02-29
    frame = pl.DataFrame({"date": days})
    for grain in ("day", "week", "month", "quarter", "year"):
        starts = frame.select(period_start(pl.col("date"), grain))["date"].to_list()
        assert starts == [period_of(day, grain).start for day in days], grain


def test_a_range_cuts_blocks_of_its_length_from_its_first_day_backwards_too():
    import polars as pl

    span = parse_period("2026-11-01..2026-11-03")
    days = [dt.date(2026, 10, 28), dt.date(2026, 10, 29), dt.date(2026, 10, 31), dt.date(2026, 11, 1), dt.date(2026, 11, 3), dt.date(2026, 11, 4)]
    starts = pl.DataFrame({"date": days}).select(period_start(pl.col("date"), "month", span))["date"].to_list()
    assert starts == [dt.date(2026, 10, 26), dt.date(2026, 10, 29), dt.date(2026, 10, 29), dt.date(2026, 11, 1), dt.date(2026, 11, 1), dt.date(2026, 11, 4)]
    assert (period_length("month", span), period_length("month")) == ("3d", "1mo")
    assert (period_name("week", span), period_name("week")) == ("3-day period", "week")
