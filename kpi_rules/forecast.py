"""Budget forecasts from a test period: what a budget buys at the test's cost per result, and what a number of
results costs, each with an honest range.

The model is the agencies' own (a 3-day VK test, 3,000 RUB spent, 50 leads: CPL 60 RUB, so 30,000 RUB buys
500 leads): results grow in proportion to spend. The count a test observed is itself a sample, so the range is
the exact (Garwood) Poisson interval on that count, scaled by budget / spend; it covers the chance in the count
only, not an audience that costs more once the cheapest part is reached.

Cost-per-result KPIs are found in the playbook, not listed here: every KPI whose formula is ``spend / COUNT``
(or ``spend / COUNT * 1000``, per mille), COUNT a summed metric: cpl, cpc, cpm, cpo, cpf, cpa, cpv in the library.
scipy is imported only when an interval is computed.
"""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, replace

from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean
from kpi_rules.model import ClientGroupDef, GoalDef, PlaybookDef
from kpi_rules.periods import ALL, CURRENT, LATEST, parse_period

SPEND = "spend"
DEFAULT_CONFIDENCE = 90.0  # percent
# Fewer results than this in the test period and the range is too wide to plan with: say so.
RELIABLE_FROM = 10
METHOD = "exact Poisson (Garwood) interval on the test period's count, scaled by budget / spend"
ASSUMPTION = "results grow in proportion to spend (linear), each at the test period's cost per result"
CAVEAT = "the range covers the chance in the test's counts only; a larger budget may reach a costlier audience"
# The options asking what a number of results costs: option name -> the count metric it means.
WANTED_OPTIONS = {"leads": "leads", "clicks": "clicks", "orders": "orders", "followers": "new_followers", "impressions": "impressions"}
_GOAL = "forecast"  # the goal the cost-per-result KPIs are scored under, for this command only


@dataclass(frozen=True)
class CostPerResult:
    """A KPI that is spend per result: ``per`` results are what its value costs (1000 for CPM)."""

    kpi: str
    metric: str
    per: float = 1.0


@dataclass(frozen=True)
class ResultForecast:
    """One cost-per-result KPI of the test period, and what the budget buys at it."""

    kpi: str
    label: str  # the KPI's
    metric: str
    result_label: str  # the count's: Leads
    per: float
    count: float  # results in the test period
    cost: float | None  # the KPI's value; None without results
    results: float | None = None  # what the budget buys
    low: float | None = None
    high: float | None = None

    @property
    def reliable(self) -> bool:
        return self.count >= RELIABLE_FROM


@dataclass(frozen=True)
class BudgetNeeded:
    """The budget a number of results costs at the test period's cost per result, with its range."""

    metric: str
    result_label: str
    wanted: float
    budget: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ClientForecast:
    client: str
    currency: str | None
    start: dt.date
    end: dt.date
    days: int
    days_with_data: int
    spend: float | None
    budget: float | None
    confidence: float  # percent
    forecasts: tuple[ResultForecast, ...]
    needed: tuple[BudgetNeeded, ...]
    absent: tuple[CostPerResult, ...] = ()  # cost-per-result KPIs whose count (or spend) the data does not have


def cost_per_result_kpis(playbook: PlaybookDef) -> dict[str, CostPerResult]:
    """The playbook's KPIs of the form spend / COUNT (times a constant: per mille), by id."""
    found = {}
    for kpi in playbook.kpis.values():
        tree, per = kpi.formula.tree, 1.0
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult) and _is_number(tree.right):
            tree, per = tree.left, float(tree.right.value)
        if (
            isinstance(tree, ast.BinOp)
            and isinstance(tree.op, ast.Div)
            and isinstance(tree.left, ast.Name)
            and tree.left.id == SPEND
            and isinstance(tree.right, ast.Name)
            and (metric := playbook.metrics.get(tree.right.id)) is not None
            and metric.agg == "sum"
            and metric.unit in ("count", "")
            and kpi.method == "ratio_of_totals"
            and per > 0
        ):
            found[kpi.id] = CostPerResult(kpi.id, metric.id, per)
    return found


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def poisson_interval(count: float, confidence: float) -> tuple[float, float]:
    """The exact (Garwood, 1936) two-sided interval of a Poisson mean from one observed ``count``, at
    ``confidence`` percent: chi-square quantiles, 0 as the lower end when nothing was observed."""
    from scipy.stats import chi2

    tail = (1 - confidence / 100) / 2
    low = float(chi2.ppf(tail, 2 * count)) / 2 if count > 0 else 0.0
    high = float(chi2.ppf(1 - tail, 2 * count + 2)) / 2
    return low, high


def check_forecast_options(budget: float | None, wanted: dict[str, float], confidence: float) -> None:
    """Refuse what cannot be forecast before any data is read."""
    problems = []
    if budget is None and not wanted:
        options = ", ".join(f"--{name}" for name in WANTED_OPTIONS)
        problems.append(_option_problem("--budget", f"give --budget, or the results wanted ({options}), or both"))
    if budget is not None and not budget > 0:
        problems.append(_option_problem("--budget", f"the budget must be above 0, not {budget:g}"))
    problems += [_option_problem(f"--{name}", f"must be above 0, not {value:g}") for name, value in wanted.items() if not value > 0]
    if not 50 <= confidence < 100:
        problems.append(_option_problem("--confidence", f"a percentage from 50 to below 100, e.g. 90 or 95, not {confidence:g}"))
    if problems:
        raise InputError(problems)


def _option_problem(option: str, message: str) -> Diagnostic:
    return Diagnostic(option, None, None, "KR401", message)


def forecast_clients(
    groups: list[ClientGroupDef],
    period: str,
    *,
    client: str | None = None,
    budget: float | None = None,
    wanted: dict[str, float] | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[list[ClientForecast], tuple[Diagnostic, ...]]:
    """Each client's forecast from its test period, and the data's warnings. ``wanted``: option name -> results."""
    from kpi_rules.pipeline import score

    wanted = wanted or {}
    check_forecast_options(budget, wanted, confidence)
    priced = {index: _priced_by_data(group) for index, group in enumerate(groups)}
    costs = {kpi: cost for found in priced.values() for kpi, cost in found[0].items()}
    if not costs:
        raise InputError([_nothing_to_forecast(group, priced[index][1]) for index, group in enumerate(groups)])
    forecastable = [_forecast_group(group, priced[index][0]) for index, group in enumerate(groups) if priced[index][0]]
    results = score(forecastable, _one_period(period))
    lacking = {group.path: set(priced[index][1]) for index, group in enumerate(groups)}
    forecasts = [
        _client_forecast(row, scored, costs, lacking[scored.clients[row["client"]].path], budget, wanted, confidence)
        for scored in results.groups
        for row in scored.frame.sort("order").iter_rows(named=True)
    ]
    if client is not None:
        names = [forecast.client for forecast in forecasts]
        forecasts = [forecast for forecast in forecasts if forecast.client == client]
        if not forecasts:
            raise InputError([_option_problem("--client", f'no client "{client}" in the data{did_you_mean(client, names)}')])
    _check_wanted(forecasts, wanted, groups[0].path)
    return forecasts, results.problems


def _priced_by_data(group: ClientGroupDef) -> tuple[dict[str, CostPerResult], list[str]]:
    """The playbook's cost-per-result KPIs whose spend and count the client file's data has, and those it lacks.

    The files' headers are read (a CSV is scanned, not loaded) so that a KPI the data cannot price is left
    out instead of failing the run as a missing column."""
    from kpi_rules.data.load import read_source

    costs = cost_per_result_kpis(group.playbook)
    provided = {metric for source in group.template.sources for metric in read_source(source, list(group.playbook.metrics)).plan.feeds}
    priced = {kpi: cost for kpi, cost in costs.items() if {SPEND, cost.metric} <= provided}
    return priced, [kpi for kpi in costs if kpi not in priced]


def _nothing_to_forecast(group: ClientGroupDef, lacking: list[str]) -> Diagnostic:
    if not lacking:
        return Diagnostic(group.path, None, None, "KR411", "nothing to forecast: the playbook has no KPI of the form spend / results (cpl, cpc, cpm...)")
    counts = ", ".join(sorted({cost.metric for kpi, cost in cost_per_result_kpis(group.playbook).items() if kpi in lacking}))
    return Diagnostic(group.path, *group.data_at, "KR411", f"nothing to forecast: the data needs a spend column and one of {counts}")


def _forecast_group(group: ClientGroupDef, priced: dict[str, CostPerResult]) -> ClientGroupDef:
    """The client file scored on the cost-per-result KPIs its data prices, without targets or competitors."""
    playbook = replace(group.playbook, goals={**group.playbook.goals, _GOAL: GoalDef(_GOAL, tuple(priced))})
    template = replace(group.template, playbook=playbook, goals=(_GOAL,), targets={}, waivers={}, goal_weights={}, competitors=())
    return replace(group, template=template, overrides={})


def _one_period(period: str) -> str:
    """The test period as one period: a named one (2026-09, 2026-W44) is scored as the range of its days."""
    if period in (LATEST, CURRENT):
        return period
    if period == ALL:
        raise InputError([_option_problem("--period", "a forecast needs one test period: latest, current, a period or a range")])
    try:
        span = parse_period(period)
    except ValueError as error:
        raise InputError([_option_problem("--period", str(error))]) from None
    return f"{span.start}..{span.end}"


def _client_forecast(row: dict, scored, costs: dict[str, CostPerResult], lacking: set[str], budget, wanted, confidence) -> ClientForecast:
    from kpi_rules.columns import value_column

    playbook = scored.playbook
    spend = row.get(SPEND)
    forecasts, absent = [], [cost for kpi, cost in cost_per_result_kpis(playbook).items() if kpi in lacking]
    for cost in (costs[kpi] for kpi in scored.kpis if kpi in costs):
        count = row.get(cost.metric)
        if count is None or spend is None:
            absent.append(cost)  # the column is there, but without a value in the test period
            continue
        value = row[value_column(cost.kpi)]
        forecast = ResultForecast(
            cost.kpi, playbook.kpis[cost.kpi].label(), cost.metric, playbook.metrics[cost.metric].label(), cost.per, count, value
        )
        if budget is not None and spend > 0 and value is not None:
            low, high = poisson_interval(count, confidence)
            forecast = replace(forecast, results=count * budget / spend, low=low * budget / spend, high=high * budget / spend)
        forecasts.append(forecast)
    by_metric = {forecast.metric: forecast for forecast in forecasts}
    needed = []
    for option, number in wanted.items():
        metric = WANTED_OPTIONS[option]
        found = by_metric.get(metric)
        if found is None:
            continue
        item = BudgetNeeded(metric, found.result_label, number, None)
        if found.count > 0 and spend:
            low, high = poisson_interval(found.count, confidence)
            # More results per unit of spend, a smaller budget: the interval's ends swap.
            item = replace(item, budget=number * spend / found.count, low=number * spend / high, high=number * spend / low)
        needed.append(item)
    client = scored.clients[row["client"]]
    return ClientForecast(
        client.name, client.currency, row["period_start"], row["period_end"], row["days"], row["days_with_data"],
        spend, budget, confidence, tuple(forecasts), tuple(needed), tuple(absent),
    )


def _check_wanted(forecasts: list[ClientForecast], wanted: dict[str, float], path: str) -> None:
    """Results asked for that no client's test period has a cost for: an error naming those it has."""
    have = {forecast.metric for client in forecasts for forecast in client.forecasts}
    missing = [option for option in wanted if WANTED_OPTIONS[option] not in have]
    if missing:
        known = ", ".join(f"--{option}" for option, metric in WANTED_OPTIONS.items() if metric in have) or "none"
        raise InputError(
            [
                Diagnostic(path, None, None, "KR411", f"cannot price --{option}: the data has no {WANTED_OPTIONS[option]} column beside spend (it can price: {known})")
                for option in missing
            ]
        )
