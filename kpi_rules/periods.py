"""Reporting periods written the way people say them: 2026-10, 2026-W42, 2026-Q4, 2026, 2026-10-05."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

LATEST = "latest"
ALL = "all"
# Each grain as a polars duration, for truncating dates to their period.
EVERY = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


@dataclass(frozen=True)
class PeriodSpan:
    """An inclusive span of days; the scorecards shown are the periods that overlap it."""

    start: dt.date
    end: dt.date


def parse_period(text: str) -> PeriodSpan:
    """Parse a --period value; raise ValueError with a helpful message."""
    text = text.strip()
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
    raise ValueError(
        f'"{text}" is not a period: use 2026-10 (month), 2026-W42 (ISO week), 2026-Q4, 2026, 2026-10-05 (day), {LATEST} or {ALL}'
    )


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)
