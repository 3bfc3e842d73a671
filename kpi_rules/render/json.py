"""The JSON scorecard format, documented by schemas/scorecard.schema.json."""

from __future__ import annotations

import json
import math

from rich.console import Console

from kpi_rules import __version__
from kpi_rules.results import Scorecard

DECIMALS = 6


def scorecards_as_dict(scorecards: list[Scorecard]) -> dict:
    return {"kpi_rules_version": __version__, "scorecards": [_scorecard(card) for card in scorecards]}


def render_json(scorecards: list[Scorecard], console: Console) -> None:
    console.out(json.dumps(scorecards_as_dict(scorecards), ensure_ascii=False, indent=2), highlight=False)


def _number(value: float | None) -> float | int | None:
    if value is None or math.isnan(value):
        return None
    rounded = round(value, DECIMALS)
    return int(rounded) if rounded.is_integer() else rounded


def _scorecard(card: Scorecard) -> dict:
    return {
        "client": card.client,
        "playbook": card.playbook,
        "currency": card.currency,
        "period": {
            "start": card.start.isoformat(),
            "end": card.end.isoformat(),
            "grain": card.grain,
            "days": card.days,
            "days_with_data": card.days_with_data,
            "complete": card.complete,
        },
        "status": card.status,
        "summary": card.summary,
        "goals": [{"id": g.id, "label": g.label, "status": g.status, "kpis": list(g.kpis)} for g in card.goals],
        "kpis": [
            {
                "id": kpi.id,
                "label": kpi.label,
                "value": _number(kpi.value),
                "unit": kpi.unit,
                "better": kpi.better,
                "status": kpi.status,
                "target": kpi.target,
                "gap": _number(kpi.gap),
                "reason": kpi.reason,
            }
            for kpi in card.kpis
        ],
    }
