import datetime as dt

import pytest

from kpi_rules.periods import PeriodSpan, parse_period


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
