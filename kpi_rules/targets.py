"""Targets checked: against their KPI's direction, and what a client file agrees against what it scores.

- Thresholds are finite numbers read in the KPI's direction (``target_problem``).
- A target for a KPI that none of the client's goals scores is ignored: a warning at its line says so.
- A money target stated in one currency (``currency: USD``, as the bundled Facebook ad benchmarks are) is
  never compared with a client's money in another: an error at validation, where both are known.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from kpi_rules.diagnostics import Diagnostic
from kpi_rules.loading import Document, JsonPath
from kpi_rules.model import ClientOverrideDef, PlaybookDef, TargetDef


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
