"""plans.py (planned values per period) and scores.py (0-100 scores), unit by unit, with hand-computed numbers."""

from __future__ import annotations

import datetime as dt

import polars as pl

from kpi_rules.columns import score_column, status_column
from kpi_rules.formulas import parse_formula
from kpi_rules.model import GoalDef, KpiDef, PlanPoint, PlaybookDef, TargetDef
from kpi_rules.plans import planned_values
from kpi_rules.scores import add_scores

D = dt.date


def test_a_weekly_plan_across_iso_week_53_knows_the_week_before():
    weeks = (PlanPoint(D(2026, 12, 28), D(2027, 1, 3), 100), PlanPoint(D(2027, 1, 4), D(2027, 1, 10), 110))
    assert planned_values(TargetDef(plan=weeks), "week") == {D(2026, 12, 28): (100, None), D(2027, 1, 4): (110, 100)}


def test_a_plan_knows_the_planned_value_of_the_period_before():
    plan = TargetDef(plan=(PlanPoint(D(2026, 9, 1), D(2026, 9, 30), 4800), PlanPoint(D(2026, 10, 1), D(2026, 10, 31), 5200)))
    assert planned_values(plan, "month") == {D(2026, 9, 1): (4800, None), D(2026, 10, 1): (5200, 4800)}


def test_a_line_rises_by_equal_steps_per_period():
    line = TargetDef(line=(PlanPoint(D(2026, 1, 1), D(2026, 1, 31), 20000), PlanPoint(D(2026, 6, 1), D(2026, 6, 30), 35000)))
    values = planned_values(line, "month")
    assert [value for value, _ in values.values()] == [20000, 23000, 26000, 29000, 32000, 35000]
    assert values[D(2026, 2, 1)] == (23000, 20000)


def playbook() -> PlaybookDef:
    kpis = {name: KpiDef(name, parse_formula("1")) for name in ("a", "b", "c")}
    goals = {"one": GoalDef("one", ("a", "b")), "two": GoalDef("two", ("c",))}
    return PlaybookDef("t", "t.yaml", {}, kpis, goals, {})


def test_scores_count_pass_warn_fail_and_leave_out_the_rest():
    frame = pl.DataFrame(
        {
            "client": ["x", "x", "y"],
            status_column("a"): ["pass", "waived", "no_data"],
            status_column("b"): ["warn", "fail", "info"],
            status_column("c"): ["fail", "pass", "no_data"],
        }
    )
    scored = add_scores(frame, playbook(), ("one", "two"), {"x": {"one": 3}, "y": {}})
    assert scored[score_column("one")].to_list() == [75.0, 0.0, None]
    assert scored[score_column("two")].to_list() == [0.0, 100.0, None]
    # x weighs goal one 3 to 1: (75 x 3 + 0) / 4, then (0 x 3 + 100) / 4; y has nothing scored: no score, not 0.
    assert scored[score_column()].to_list() == [56.25, 25.0, None]
