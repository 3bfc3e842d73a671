"""Planned targets laid out per period: a plan's values, and a line's values between its two ends.

A line ``from: {2026-01: 20000}, to: {2026-06: 35000}`` rises by equal steps per period of the client's
grain (20,000, 23,000, ... 35,000), not per day: months differ in length, and a reader checks a plan by
periods. Each period also gets the planned value of the period before (``before``), for pacing a stock
through an unfinished period: on day 15 of 30 its target is halfway from the last period's plan to this one's.
"""

from __future__ import annotations

import datetime as dt

from kpi_rules.model import TargetDef
from kpi_rules.periods import PeriodSpan, grain_periods, period_of


def planned_values(target: TargetDef, grain: str) -> dict[dt.date, tuple[float, float | None]]:
    """Period start -> (planned value, planned value of the period before, if planned)."""
    if target.line:
        first, last = target.line
        starts = [period.start for period in grain_periods(PeriodSpan(first.start, last.end), grain)]
        steps = len(starts) - 1
        values = {start: first.value + (last.value - first.value) * index / steps for index, start in enumerate(starts)}
    else:
        values = {point.start: point.value for point in target.plan}
    return {start: (value, values.get(period_of(start - dt.timedelta(days=1), grain).start)) for start, value in values.items()}
