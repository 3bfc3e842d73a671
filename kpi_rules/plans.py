"""Planned targets laid out per period: a plan's values, and a line's values between its two ends.

A line ``from: {2026-01: 20000}, to: {2026-06: 35000}`` rises by equal steps per period of the client's
grain (20,000, 23,000, ... 35,000), not per day: months differ in length, and a reader checks a plan by
periods. Each period also gets the planned value of the period before (``before``), for pacing a stock
through an unfinished period: on day 15 of 30 its target is halfway from the last period's plan to this one's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kpi_rules.model import PlanPoint, TargetDef

# The period after, per grain, in months or days.
MONTHS = {"month": 1, "quarter": 3, "year": 12}
DAYS = {"day": 1, "week": 7}


def planned_values(target: TargetDef, grain: str) -> dict[dt.date, tuple[float, float | None]]:
    """Period start -> (planned value, planned value of the period before, if planned)."""
    points = list(_line(*target.line, grain)) if target.line else [(point.start, point.value) for point in target.plan]
    values = dict(points)
    return {start: (value, values.get(step(start, grain, -1))) for start, value in points}


def _line(first: PlanPoint, last: PlanPoint, grain: str) -> Iterator[tuple[dt.date, float]]:
    starts = [first.start]
    while starts[-1] < last.start:
        starts.append(step(starts[-1], grain, 1))
    steps = len(starts) - 1
    for index, start in enumerate(starts):
        yield start, first.value + (last.value - first.value) * index / steps


def step(start: dt.date, grain: str, periods: int) -> dt.date:
    """The start of the period ``periods`` away (negative: before) from the period starting at ``start``."""
    if grain in DAYS:
        return start + dt.timedelta(days=DAYS[grain] * periods)
    month = start.year * 12 + start.month - 1 + MONTHS[grain] * periods
    return dt.date(month // 12, month % 12 + 1, 1)
