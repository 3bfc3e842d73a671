"""Reporting periods written the way people say them: 2026-10, 2026-W42, 2026-Q4, 2026, 2026-10-05, and ranges
of them (2026-11-01..2026-11-03); where a date falls: the grain's period (ISO weeks start on Monday), or with a
range, consecutive blocks of the range's length.

Polars is imported only by the functions that build expressions: validating a client file reads no data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

LATEST = "latest"
CURRENT = "current"  # the period the data has not finished yet
ALL = "all"
# Each grain as a polars duration, for truncating dates to their period.
EVERY = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}
EPOCH = dt.date(1970, 1, 1)  # polars stores a date as the days since


@dataclass(frozen=True)
class PeriodSpan:
    """An inclusive span of days; the scorecards shown are the periods that overlap it.

    ``is_range``: written as a range (``start..end``), whose length the pipeline takes as the period's.
    """

    start: dt.date
    end: dt.date
    is_range: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(text: str) -> PeriodSpan:
    """Parse a --period value: one period, or a range ``first..last`` of any two (both included); raise
    ValueError with a helpful message."""
    text = text.strip()
    if ".." in text:
        first, _, last = text.partition("..")
        start, end = _parse_one(first.strip()), _parse_one(last.strip())
        if start is None or end is None:
            raise ValueError(f'"{text}" is not a range of days: use first..last, e.g. 2026-11-01..2026-11-30 or 2026-07..2026-09')
        if end.end < start.start:
            raise ValueError(f'"{text}" ends ({end.end}) before it starts ({start.start}): write the earlier period first')
        return PeriodSpan(start.start, end.end, is_range=True)
    span = _parse_one(text)
    if span is None:
        raise ValueError(
            f'"{text}" is not a period: use 2026-10 (month), 2026-W42 (ISO week), 2026-Q4, 2026, 2026-10-05 (day), '
            f"a range 2026-11-01..2026-11-30, {LATEST}, {CURRENT} or {ALL}"
        )
    return span


def _parse_one(text: str) -> PeriodSpan | None:
    try:
        if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            day = dt.date(*map(int, match.groups()))
            return PeriodSpan(day, day)
        if match := re.fullmatch(r"(\d{4})-W(\d{1,2})", text, re.IGNORECASE):
            start = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return PeriodSpan(start, start + dt.timedelta(days=6))
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.IGNORECASE):
            first_month = 3 * (int(match[2]) - 1) + 1
            return PeriodSpan(dt.date(int(match[1]), first_month, 1), _month_end(int(match[1]), first_month + 2))
        if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            year, month = int(match[1]), int(match[2])
            return PeriodSpan(dt.date(year, month, 1), _month_end(year, month))
        if match := re.fullmatch(r"(\d{4})", text):
            return PeriodSpan(dt.date(int(text), 1, 1), dt.date(int(text), 12, 31))
    except ValueError:
        pass
    return None


def period_of(day: dt.date, grain: str) -> PeriodSpan:
    """The period of ``grain`` that ``day`` falls in."""
    match grain:
        case "day":
            return PeriodSpan(day, day)
        case "week":
            start = day - dt.timedelta(days=day.weekday())
            return PeriodSpan(start, start + dt.timedelta(days=6))
        case "month":
            return PeriodSpan(day.replace(day=1), _month_end(day.year, day.month))
        case "quarter":
            first_month = 3 * ((day.month - 1) // 3) + 1
            return PeriodSpan(dt.date(day.year, first_month, 1), _month_end(day.year, first_month + 2))
        case "year":
            return PeriodSpan(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    raise ValueError(f"unknown grain {grain}")


def is_period_of_grain(span: PeriodSpan, grain: str) -> bool:
    """Whether ``span`` is exactly one period of ``grain`` (a whole month, ISO week, quarter, year or day)."""
    period = period_of(span.start, grain)
    return (period.start, period.end) == (span.start, span.end)


def grain_periods(span: PeriodSpan, grain: str) -> list[PeriodSpan]:
    """The periods of ``grain`` that overlap ``span``, in order (the first and last may reach past it)."""
    periods = [period_of(span.start, grain)]
    while periods[-1].end < span.end:
        periods.append(period_of(periods[-1].end + dt.timedelta(days=1), grain))
    return periods


def period_length(grain: str, span: PeriodSpan | None = None) -> str:
    """A period's length as a polars duration: the grain's, or with a range, the range's days."""
    return f"{span.days}d" if span is not None else EVERY[grain]


MOST_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


def most_days(grain: str, span: PeriodSpan | None = None) -> int:
    """The most days a period can have: the grain's longest, or with a range, the range's days."""
    return span.days if span is not None else MOST_DAYS[grain]


def period_name(grain: str, span: PeriodSpan | None = None) -> str:
    """What a period is called in messages: "month", or with a range, "3-day period"."""
    return f"{span.days}-day period" if span is not None else grain


def period_start(date: pl.Expr, grain: str, span: PeriodSpan | None = None) -> pl.Expr:
    """The first day of the period each date falls in.

    With a range of N days, periods are consecutive blocks of N days counted from its first day, before it
    too (so the previous period is the N days before). Whole-number arithmetic on the days since 1970:
    one cheap expression, no Python per row.
    """
    if span is None:
        return date.dt.truncate(EVERY[grain])
    import polars as pl

    first = (span.start - EPOCH).days
    # Floor division: a day before the range belongs to the block before, not to the range's first block.
    return (((date.cast(pl.Int32) - first) // span.days) * span.days + first).cast(pl.Date)


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)
