"""What a client file agrees over time, compiled and checked: baseline, waivers, goal weights, and the targets
that need them (plans in the client's periods, relative targets with their reference).

Everything that can be known without the data is reported here, at its line, so that ``validate`` catches it:
a plan period that is not of the client's grain, ``vs: baseline`` without a baseline, an unknown competitor,
a waiver date that is not a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from kpi_rules.diagnostics import Diagnostic, Suggestions
from kpi_rules.loading import Document, JsonPath
from kpi_rules.model import ClientOverrideDef, PlaybookDef, TargetDef, WaiverDef
from kpi_rules.periods import PeriodSpan, is_period_of_grain, parse_period
from kpi_rules.targets import REFERENCES


@dataclass(frozen=True)
class Agreements:
    baseline: tuple[dt.date, dt.date] | None = None
    waivers: Mapping[str, WaiverDef] = field(default_factory=dict)
    goal_weights: Mapping[str, float] = field(default_factory=dict)


def compile_agreements(
    document: Document, playbook: PlaybookDef, targets: Mapping[str, TargetDef], overrides: Mapping[str, ClientOverrideDef]
) -> tuple[Agreements, list[Diagnostic]]:
    """The client file's baseline, waivers and goal weights, and its problems (warnings among them), with
    those of the targets that depend on them (its own, its overrides' and the playbook's it scores)."""
    data = document.data
    grain = data.get("period", "month")
    goal_sets = [data["goals"], *(override.goals for override in overrides.values() if override.goals)]
    problems: list[Diagnostic] = []
    baseline = None
    if "baseline" in data:
        baseline, problem = _baseline(data["baseline"], grain)
        if problem:
            problems.append(document.diagnostic(("baseline",), "KR215", problem))
    waivers, found = _waivers(document, playbook, {kpi for goals in goal_sets for kpi in _scored(playbook, goals)})
    problems += found + _unknown_weighted_goals(document, {goal for goals in goal_sets for goal in goals})
    timed = {"grain": grain, "has_baseline": baseline is not None, "competitors": list(data.get("competitors", {}))}
    scored = _scored(playbook, data["goals"])
    problems += check_timed_targets(document, ("targets",), targets, scored, **timed)
    for name, override in overrides.items():
        override_scored = _scored(playbook, override.goals) if override.goals else scored
        problems += check_timed_targets(document, ("overrides", name, "targets"), {**targets, **override.targets}, override_scored, **timed)
    weights = {goal: float(weight) for goal, weight in data.get("goal_weights", {}).items()}
    return Agreements(baseline, waivers, weights), problems


def _scored(playbook: PlaybookDef, goals: Collection[str]) -> set[str]:
    """The KPIs of the goals (an unknown goal is reported by compile)."""
    return {kpi for goal in goals if goal in playbook.goals for kpi in playbook.goals[goal].kpis}


def _waivers(document: Document, playbook: PlaybookDef, scored: Collection[str]) -> tuple[dict[str, WaiverDef], list[Diagnostic]]:
    waivers: dict[str, WaiverDef] = {}
    problems = []
    suggest = Suggestions(playbook.kpis)
    for kpi, fields in document.data.get("waivers", {}).items():
        try:
            until = dt.date.fromisoformat(fields["until"].strip())
        except ValueError:
            problems.append(document.diagnostic(("waivers", kpi, "until"), "KR214", f'"{fields["until"]}" is not a date: write it as 2026-11-30'))
            continue
        if kpi not in playbook.kpis:
            problems.append(document.diagnostic(("waivers", kpi), "KR205", f'waiver for unknown KPI "{kpi}"{suggest(kpi)}', key=True))
        elif kpi not in scored:
            message = f'waiver for "{kpi}", which none of the goals scored here has: it waives nothing'
            problems.append(document.diagnostic(("waivers", kpi), "KR214", message, key=True).as_warning())
        waivers[kpi] = WaiverDef(until, fields["reason"])
    return waivers, problems


def _unknown_weighted_goals(document: Document, goals: Collection[str]) -> list[Diagnostic]:
    suggest = Suggestions(goals)
    return [
        document.diagnostic(("goal_weights", goal), "KR205", f'weight for goal "{goal}", which this client file does not score{suggest(goal)}', key=True)
        for goal in document.data.get("goal_weights", {})
        if goal not in goals
    ]


def check_timed_targets(
    document: Document,
    where: JsonPath,
    targets: Mapping[str, TargetDef],
    scored: Collection[str],
    *,
    grain: str,
    has_baseline: bool,
    competitors: Collection[str],
) -> list[Diagnostic]:
    """Plans whose periods are not of the client's grain, and relative targets without their reference.

    A target inherited from the playbook is reported at the client file's ``playbook:`` line.
    """
    problems = []
    suggest = Suggestions([*REFERENCES, *competitors])
    for kpi in sorted(scored):
        target = targets.get(kpi)
        if target is None:
            continue
        written_here = kpi in _section(document.data, where)
        at = (*where, kpi) if written_here else ("playbook",)
        prefix = f'target for "{kpi}"' + ("" if written_here else " (from the playbook)")
        for point in (*target.plan, *(target.line or ())):
            span = PeriodSpan(point.start, point.end)
            if not is_period_of_grain(span, grain):
                problems.append(document.diagnostic(at, "KR212", f"{prefix}: the period from {point.start} to {point.end} is not a {grain}: this client is checked by {grain}"))
                break
        if target.vs is None:
            continue
        if target.vs == "baseline" and not has_baseline:
            problems.append(document.diagnostic(at, "KR213", f"{prefix} is vs baseline, but this client file sets no baseline: (e.g. baseline: 2026-09)"))
        elif target.vs in ("best_competitor", "competitors_mean") and not competitors:
            problems.append(document.diagnostic(at, "KR213", f"{prefix} is vs {target.vs}, but this client file lists no competitors:"))
        elif target.vs not in REFERENCES and target.vs not in competitors:
            known = ", ".join([*REFERENCES, *competitors])
            problems.append(document.diagnostic(at, "KR213", f'{prefix}: vs "{target.vs}" is not a reference or a competitor{suggest(target.vs)}; use {known}'))
    return problems


def _baseline(text: str, grain: str) -> tuple[tuple[dt.date, dt.date] | None, str | None]:
    try:
        span = parse_period(str(text))
    except ValueError as error:
        return None, str(error)
    first, last = (parse_period(part) for part in str(text).split("..")) if span.is_range else (span, span)
    if not (is_period_of_grain(first, grain) and is_period_of_grain(last, grain)):
        return None, f'baseline "{text}" is not made of whole {grain}s: this client is checked by {grain}, e.g. {_example(grain)}'
    return (span.start, span.end), None


def _example(grain: str) -> str:
    return {"day": "2026-09-01", "week": "2026-W36", "month": "2026-09", "quarter": "2026-Q3", "year": "2026"}[grain]


def _section(data: dict, where: JsonPath) -> dict:
    for key in where:
        data = data.get(key, {})
    return data
