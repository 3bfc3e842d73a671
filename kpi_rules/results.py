"""Plain result objects: what a check found. They decide the exit code; they never print."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

STATUSES = ("pass", "warn", "fail", "no_data", "info")
# Worst first: a scorecard or goal takes the worst status among its KPIs.
SEVERITY = ("fail", "warn", "no_data", "pass", "info")
FAIL_ON = {"fail": ("fail",), "warn": ("fail", "warn"), "never": ()}


def worst(statuses) -> str:
    present = set(statuses)
    return next((status for status in SEVERITY if status in present), "info")


@dataclass(frozen=True)
class KpiResult:
    id: str
    label: str
    value: float | None
    unit: str
    better: str
    status: str
    target: dict[str, float] | None
    gap: float | None
    reason: str | None


@dataclass(frozen=True)
class GoalResult:
    id: str
    label: str
    kpis: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class Scorecard:
    client: str
    playbook: str
    currency: str | None
    grain: str
    start: dt.date
    end: dt.date
    days: int
    days_with_data: int
    complete: bool
    goals: tuple[GoalResult, ...]
    kpis: tuple[KpiResult, ...]

    @property
    def status(self) -> str:
        return worst(kpi.status for kpi in self.kpis)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for kpi in self.kpis:
            counts[kpi.status] += 1
        return counts


def exit_code(scorecards: list[Scorecard], fail_on: str) -> int:
    """1 when any KPI is at or above the --fail-on level, else 0."""
    failing = FAIL_ON[fail_on]
    return 1 if any(kpi.status in failing for card in scorecards for kpi in card.kpis) else 0
