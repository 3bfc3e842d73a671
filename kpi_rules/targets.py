"""What a client file agrees on targets, checked against what it scores and the money it scores in.

- A target for a KPI that none of the client's goals scores is ignored: a warning at its line says so.
- A money target stated in one currency (``currency: USD``, as the bundled Facebook ad benchmarks are) is
  never compared with a client's money in another: an error at validation, where both are known.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from kpi_rules.diagnostics import Diagnostic
from kpi_rules.loading import Document, JsonPath
from kpi_rules.model import PlaybookDef, TargetDef


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
