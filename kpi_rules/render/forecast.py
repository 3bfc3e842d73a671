"""`forecast` in the terminal and as JSON: per client, the test period, what the budget buys, what results cost,
the assumption, the method and confidence of the ranges, and a warning where the test saw too few results."""

from __future__ import annotations

import json
from typing import IO

from rich.console import Console
from rich.table import Table

from kpi_rules.forecast import (
    ASSUMPTION,
    CAVEAT,
    METHOD,
    RELIABLE_FROM,
    BudgetNeeded,
    ClientForecast,
    ResultForecast,
)
from kpi_rules.render.formatting import EMPTY, money, number, period_label


def render_forecasts(forecasts: list[ClientForecast], console: Console) -> None:
    for index, forecast in enumerate(forecasts):
        if index:
            console.print()
        _render_client(forecast, console)


def _render_client(forecast: ClientForecast, console: Console) -> None:
    spent = EMPTY if forecast.spend is None else money(forecast.spend, forecast.currency)
    console.print(
        f"{forecast.client} · test period {period_label('range', forecast.start, forecast.end)} "
        f"({forecast.days} days, data on {forecast.days_with_data}) · spent {spent}",
        markup=False,
    )
    level = _percent(forecast.confidence)
    if forecast.forecasts:
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("result")
        table.add_column("in test", justify="right")
        table.add_column("cost per result", justify="right")
        if forecast.budget is not None:
            table.add_column(f"{money(forecast.budget, forecast.currency)} buys", justify="right")
            table.add_column(f"range ({level})", justify="right")
        for item in forecast.forecasts:
            row = [f"{item.result_label} ({item.kpi})", _count(item.count), _cost(item, forecast.currency)]
            if forecast.budget is not None:
                row += [_count(item.results), _range(item.low, item.high, _count)]
            table.add_row(*row)
        console.print(table)
    if forecast.needed:
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("results wanted")
        table.add_column("budget needed", justify="right")
        table.add_column(f"range ({level})", justify="right")
        for need in forecast.needed:
            table.add_row(*_need_row(need, forecast.currency))
        console.print(table)
    for item in forecast.forecasts:
        if item.count == 0:
            console.print(f"No {item.result_label.lower()} in the test period: nothing to scale. Keep testing.", markup=False)
        elif not item.reliable:
            console.print(
                f"Not reliable: only {_count(item.count)} {item.result_label.lower()} in the test period (fewer than "
                f"{RELIABLE_FROM}): the range is wide. Keep testing before planning a budget on it.",
                markup=False,
                soft_wrap=True,
            )
    if forecast.absent:
        lacking = ", ".join(f"{cost.kpi} ({cost.metric})" for cost in forecast.absent)
        console.print(f"Not in the test period's data: {lacking}.", markup=False, soft_wrap=True)
    if not forecast.forecasts:
        console.print("Nothing to forecast: the test period has no spend with results.", markup=False)
        return
    console.print(f"Assumption: {ASSUMPTION}.", markup=False)
    console.print(f"Range: {METHOD}; {level} confidence; {CAVEAT}.", markup=False, soft_wrap=True)


def _need_row(need: BudgetNeeded, currency: str | None) -> list[str]:
    wanted = f"{_count(need.wanted)} {need.result_label.lower()}"
    if need.budget is None:
        return [wanted, EMPTY, "no results in the test period"]
    return [wanted, money(need.budget, currency), _range(need.low, need.high, lambda value: money(value, currency))]


def _cost(item: ResultForecast, currency: str | None) -> str:
    if item.cost is None:
        return EMPTY
    text = money(item.cost, currency)
    return text if item.per == 1 else f"{text} per {number(item.per, 0)}"


def _count(value: float | None) -> str:
    """Results are whole things: rounded to the nearest one."""
    return EMPTY if value is None else number(value, 0)


def _range(low: float | None, high: float | None, show) -> str:
    return EMPTY if low is None or high is None else f"{show(low)} – {show(high)}"


def _percent(confidence: float) -> str:
    return f"{confidence:g} %"


def forecasts_as_json(forecasts: list[ClientForecast]) -> dict:
    """The forecasts as plain data: numbers unrounded, the confidence a fraction (0.9)."""
    return {
        "assumption": ASSUMPTION,
        "method": METHOD,
        "caveat": CAVEAT,
        "reliable_from": RELIABLE_FROM,
        "clients": [
            {
                "client": forecast.client,
                "currency": forecast.currency,
                "test_period": {
                    "start": forecast.start.isoformat(),
                    "end": forecast.end.isoformat(),
                    "days": forecast.days,
                    "days_with_data": forecast.days_with_data,
                },
                "spend": forecast.spend,
                "budget": forecast.budget,
                "confidence": forecast.confidence / 100,
                "forecasts": [
                    {
                        "kpi": item.kpi,
                        "label": item.label,
                        "result": item.metric,
                        "per": item.per,
                        "in_test": item.count,
                        "cost_per_result": item.cost,
                        "results": item.results,
                        "low": item.low,
                        "high": item.high,
                        "reliable": item.reliable,
                    }
                    for item in forecast.forecasts
                ],
                "budget_needed": [
                    {"result": need.metric, "wanted": need.wanted, "budget": need.budget, "low": need.low, "high": need.high}
                    for need in forecast.needed
                ],
                "not_in_data": [{"kpi": cost.kpi, "result": cost.metric} for cost in forecast.absent],
            }
            for forecast in forecasts
        ],
    }


def render_forecasts_json(forecasts: list[ClientForecast], stream: IO[str]) -> None:
    stream.write(json.dumps(forecasts_as_json(forecasts), ensure_ascii=False, indent=2) + "\n")
