"""Targets built and checked: against their KPI's direction, and what a client file agrees against what it scores.

- A target is one kind: fixed thresholds (target/warn), a band (min/max), a plan per period, a line
  (from/to), or relative (vs a reference, with a change); ``build_target`` turns its YAML into a TargetDef.
- Thresholds are finite numbers read in the KPI's direction (``target_problem``).
- A target for a KPI that none of the client's goals scores is ignored: a warning at its line says so.
- A money target stated in one currency (``currency: USD``, as the bundled Facebook ad benchmarks are) is
  never compared with a client's money in another: an error at validation, where both are known.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import re
from typing import Any

from kpi_rules.diagnostics import Diagnostic
from kpi_rules.loading import Document, JsonPath
from kpi_rules.model import Change, ClientOverrideDef, PlanPoint, PlaybookDef, TargetDef
from kpi_rules.periods import parse_period

# What a target may be; one kind each.
KINDS = {"target/warn": ("target",), "min/max": ("min", "max"), "plan": ("plan",), "from/to": ("from", "to"), "vs/change": ("vs", "change")}
REFERENCES = ("baseline", "previous", "best_competitor", "competitors_mean")  # or a competitor's name
_CHANGE = re.compile(r"([+-]?[0-9]+(?:\.[0-9]+)?)%")

# A problem found building a target: where under the target (a JSON path), code, message.
TargetProblem = tuple[JsonPath, str, str]


def check_client_targets(
    document: Document, playbook: PlaybookDef, targets: Mapping[str, TargetDef], overrides: Mapping[str, ClientOverrideDef]
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """A client file's money targets in another currency (errors) and targets nothing scores (warnings)."""
    data = document.data

    def scored(goals) -> set[str]:
        return {kpi for goal in goals if goal in playbook.goals for kpi in playbook.goals[goal].kpis}

    shared = scored(data["goals"])
    warnings = unscored_targets(document, ("targets",), data.get("targets", {}), shared)
    errors = foreign_currency_targets(document, ("targets",), targets, shared, data.get("currency"), playbook)
    for name, override in overrides.items():
        where = ("overrides", name, "targets")
        kpis = scored(override.goals) if override.goals else shared
        warnings += unscored_targets(document, where, override.targets, kpis)
        currency = override.currency or data.get("currency")
        errors += foreign_currency_targets(document, where, {**targets, **override.targets}, kpis, currency, playbook)
    return errors, warnings


def unscored_targets(document: Document, where: JsonPath, targets: Mapping[str, object], scored: Collection[str]) -> list[Diagnostic]:
    return [
        document.diagnostic(
            (*where, kpi), "KR510", f'target for "{kpi}", which none of the goals scored here has: it is ignored', key=True
        ).as_warning()
        for kpi in targets
        if kpi not in scored
    ]


def foreign_currency_targets(
    document: Document, where: JsonPath, targets: Mapping[str, TargetDef], scored: Collection[str], currency: str | None, playbook: PlaybookDef
) -> list[Diagnostic]:
    problems = []
    for kpi in scored:
        target = targets.get(kpi)
        if target is None or target.currency is None or target.currency == currency or playbook.kpis[kpi].unit != "currency":
            continue
        written_here = kpi in document.data.get("targets", {})
        at = (*where, kpi) if written_here else ("playbook",)
        client_money = f"this client's money is in {currency}" if currency else "this client's currency is not stated (currency:)"
        message = f'the target for "{kpi}" is in {target.currency}, but {client_money}: money is never compared across currencies'
        if not written_here:
            message += f"; set {kpi}'s target in this file"
        problems.append(document.diagnostic(at, "KR307", message))
    return problems


def _finite(value: float) -> bool:
    """A number within float range (a 400-digit integer is not: it cannot be compared as a float)."""
    try:
        return math.isfinite(float(value)) and abs(float(value)) < 1e300
    except OverflowError:
        return False


def target_problem(target: TargetDef, better: str) -> str | None:
    for name, value in target.as_dict().items():
        if isinstance(value, bool) or not _finite(value):
            return f"{name} {str(value)[:20]} is not a finite number a KPI can be compared with"
    threshold = target.target is not None or target.warn is not None
    band = target.min is not None or target.max is not None
    if threshold and band:
        return "use either target/warn or min/max, not both"
    if band:
        if target.min is not None and target.max is not None and target.min > target.max:
            return f"min {target.min:g} is above max {target.max:g}"
        return None
    if better == "band":
        return "this KPI is better within a band: give min and/or max"
    if target.target is None:
        return "warn needs a target"
    if target.warn is not None:
        if better == "higher" and target.warn > target.target:
            return f"warn {target.warn:g} is above target {target.target:g}, but higher is better for this KPI"
        if better == "lower" and target.warn < target.target:
            return f"warn {target.warn:g} is below target {target.target:g}, but lower is better for this KPI"
    return None


def build_target(fields: dict[str, Any], better: str | None) -> tuple[TargetDef | None, list[TargetProblem]]:
    """A target's YAML as a TargetDef, or None and what is wrong, at the key it is about."""
    kinds = [kind for kind, keys in KINDS.items() if any(key in fields for key in keys)]
    if len(kinds) > 1:
        return None, [((), "KR206", f"use either {kinds[0]} or {kinds[1]}, not both: a target is one of {', '.join(KINDS)}")]
    common = {"note": fields.get("note", ""), "source": fields.get("source", ""), "currency": fields.get("currency")}
    warn = fields.get("warn")
    if not kinds or kinds[0] in ("target/warn", "min/max"):
        if isinstance(warn, str):
            return None, [(("warn",), "KR206", f"warn {warn} is a change: it goes with plan, from/to or vs; beside target give a number")]
        target = TargetDef(fields.get("target"), warn, fields.get("min"), fields.get("max"), **common)
        problem = target_problem(target, better) if better else None
        return (None, [((), "KR206", problem)]) if problem else (target, [])
    if better == "band":
        return None, [((), "KR206", "this KPI is better within a band: give min and/or max")]
    warn_change = _change(warn) if warn is not None else None
    if kinds[0] == "plan":
        points, problems = _plan(fields["plan"])
        target = TargetDef(plan=points, warn_change=warn_change, **common)
    elif kinds[0] == "from/to":
        points, problems = _line(fields)
        target = TargetDef(line=points, warn_change=warn_change, **common) if points else None
    else:
        if "vs" not in fields or "change" not in fields:
            missing = "vs" if "vs" not in fields else "change"
            example = "vs: baseline" if missing == "vs" else "change: +10% (or 0%: at least as good)"
            return None, [((), "KR213", f"a relative target needs {missing}: e.g. {example}")]
        change = _change(fields["change"])
        target = TargetDef(vs=fields["vs"], change=change, warn_change=warn_change, **common)
        problems = _warn_beyond_change(change, warn_change, better)
    if not problems and warn_change is not None and target and not target.vs:
        problems = _warn_beyond_change(Change(0.0, warn_change.percent), warn_change, better)
    return (None, problems) if problems else (target, [])


def _change(value: float | str) -> Change:
    """``+10%`` -> 10 percent; ``+500`` (a number) -> an amount. The schema has checked the text."""
    if isinstance(value, str):
        return Change(float(_CHANGE.fullmatch(value.strip())[1]), percent=True)
    return Change(float(value), percent=False)


def _warn_beyond_change(change: Change, warn: Change | None, better: str | None) -> list[TargetProblem]:
    """warn must be easier to reach than the target itself: lower for higher-is-better, higher otherwise."""
    if warn is None or better is None or warn.percent != change.percent:
        return []
    if (better == "higher" and warn.amount > change.amount) or (better == "lower" and warn.amount < change.amount):
        side = "above" if better == "higher" else "below"
        wanted = "higher" if better == "higher" else "lower"
        return [(("warn",), "KR206", f"warn {warn} is {side} {change}, but {wanted} is better for this KPI: warn is the easier bar")]
    return []


def _plan(plan: dict[Any, float]) -> tuple[tuple[PlanPoint, ...], list[TargetProblem]]:
    points: list[PlanPoint] = []
    for key, value in plan.items():
        span, problem = _period(key, value)
        if problem:
            return (), [(("plan", key), "KR212", problem)]
        if points and span.start <= points[-1].end:
            return (), [(("plan", key), "KR212", f"plan period {key} comes before or inside the one above it: list periods in order, each once")]
        points.append(PlanPoint(span.start, span.end, float(value)))
    return tuple(points), []


def _line(fields: dict[str, Any]) -> tuple[tuple[PlanPoint, PlanPoint] | None, list[TargetProblem]]:
    if "from" not in fields or "to" not in fields:
        given, missing = ("from", "to") if "from" in fields else ("to", "from")
        return None, [((given,), "KR212", f"a line needs both ends: give {missing} as well, e.g. {missing}: {{2026-06: 35000}}")]
    ends = []
    for end in ("from", "to"):
        ((key, value),) = fields[end].items()
        span, problem = _period(key, value)
        if problem:
            return None, [((end, key), "KR212", problem)]
        ends.append(PlanPoint(span.start, span.end, float(value)))
    if ends[1].start <= ends[0].end:
        return None, [(("to",), "KR212", "to must be a period after from")]
    return (ends[0], ends[1]), []


def _period(key: Any, value: float):
    """A plan's period key as a span, or what is wrong with it."""
    if not _finite(value):
        return None, f"{str(value)[:20]} is not a finite number a KPI can be compared with"
    try:
        span = parse_period(str(key))
    except ValueError as error:
        return None, str(error)
    if getattr(span, "is_range", False):
        return None, f'"{key}" is a range: a plan gives a value per period of the client\'s grain'
    return span, None
