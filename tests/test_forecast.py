"""forecast: cost-per-result KPIs found in the playbook, the seed's numbers exactly, and the Poisson interval
checked against published tables and against a second method computed here without scipy."""

import json
import math
from pathlib import Path

import pytest
from conftest import REPO

from kpi_rules.compile import Compiler
from kpi_rules.diagnostics import InputError
from kpi_rules.forecast import (
    CostPerResult,
    cost_per_result_kpis,
    forecast_clients,
    poisson_interval,
)
from kpi_rules.pipeline import compile_clients

SEED = REPO / "tests" / "data" / "forecast" / "vk-test.yaml"
SEED_PERIOD = "2026-11-01..2026-11-03"

# Exact (Garwood) limits of a Poisson mean as tables print them, e.g. Garwood (1936), Biometrika 28, and the
# tables reproduced from it (Haenszel et al. 1962; Ulm 1990, Am J Epidemiol 131:373): count -> (lower, upper).
PUBLISHED_95 = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.2422, 7.225), 10: (4.795, 18.39), 50: (37.11, 65.92)}
PUBLISHED_90 = {0: (0.0, 2.996), 1: (0.0513, 4.744), 2: (0.3554, 6.296), 10: (5.425, 16.96), 50: (38.96, 63.29)}


@pytest.mark.parametrize(("confidence", "table"), [(95, PUBLISHED_95), (90, PUBLISHED_90)])
def test_interval_matches_published_tables(confidence, table):
    for count, (low, high) in table.items():
        got_low, got_high = poisson_interval(count, confidence)
        assert got_low == pytest.approx(low, abs=6e-4, rel=1e-3)
        assert got_high == pytest.approx(high, rel=1e-3)


def _poisson_cdf(count: int, mean: float) -> float:
    """P(X <= count) for a Poisson mean, summed term by term in logs (math only)."""
    return sum(math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(count + 1)) if mean > 0 else 1.0


def _solve(function, target: float, low: float, high: float) -> float:
    """Bisection of a decreasing function to ``target``."""
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if function(middle) > target else (low, middle)
    return (low + high) / 2


@pytest.mark.parametrize("count", [1, 3, 7, 10, 25, 50, 137])
@pytest.mark.parametrize("confidence", [80, 90, 95, 99])
def test_interval_is_the_exact_poisson_interval(count, confidence):
    """The definition, solved here by bisection: the upper limit leaves P(X <= n) = tail, the lower P(X >= n) = tail."""
    tail = (1 - confidence / 100) / 2
    upper = _solve(lambda mean: _poisson_cdf(count, mean), tail, 0, 10 * count + 20)
    lower = _solve(lambda mean: _poisson_cdf(count - 1, mean), 1 - tail, 0, 10 * count + 20)
    assert poisson_interval(count, confidence) == pytest.approx((lower, upper), rel=1e-7)


def test_cost_per_result_kpis_of_the_library():
    playbook = Compiler().playbook("builtin:smm", Path())
    found = cost_per_result_kpis(playbook)
    assert found["cpl"] == CostPerResult("cpl", "leads")
    assert found["cpm"] == CostPerResult("cpm", "impressions", 1000.0)
    assert {kpi: cost.metric for kpi, cost in found.items()} == {
        "cpc": "clicks", "cpm": "impressions", "cpv": "video_views", "cpf": "new_followers", "cpa": "actions",
        "cpl": "leads", "cpo": "orders", "cpf_paid": "new_followers_paid", "cost_per_dialogue": "dialogues",
    }
    # Not a cost per result: revenue / spend, spend / revenue, spend + fees, spend / posts of the production costs.
    assert not {"roas", "drr", "smm_cost", "cost_per_post"} & set(found)


def test_the_seed_numbers_exactly():
    """A 3-day VK test: 3,000 RUB spent, 50 leads -> CPL 60 RUB; 30,000 RUB -> 500 leads (about 390-633, 90 %)."""
    (client,), problems = forecast_clients(compile_clients([SEED]), SEED_PERIOD, budget=30000, wanted={"leads": 500})
    assert problems == ()
    assert (client.spend, client.days, client.currency) == (3000, 3, "RUB")
    leads = next(item for item in client.forecasts if item.kpi == "cpl")
    assert (leads.count, leads.cost, leads.results) == (50, 60, 500)
    assert (round(leads.low), round(leads.high)) == (390, 633)
    assert leads.reliable
    (need,) = client.needed
    assert (need.metric, need.budget) == ("leads", 30000)
    # 500 leads at the interval's ends of the cost: 3,000 / 63.29 and 3,000 / 38.96 per lead.
    assert need.low == pytest.approx(500 * 3000 / 63.287074, rel=1e-6)
    assert need.high == pytest.approx(500 * 3000 / 38.964733, rel=1e-6)
    cpm = next(item for item in client.forecasts if item.kpi == "cpm")
    assert (cpm.count, cpm.results) == (36000, 360000)
    assert cpm.cost == pytest.approx(3000 / 36000 * 1000)


def test_a_named_period_is_the_test_period_whole(write):
    """--period 2026-09 on a daily client: every day of September, one forecast."""
    (client,), _ = forecast_clients(compile_clients([REPO / "examples" / "clients" / "b2b-firm.yaml"]), "2026-09", budget=60000)
    assert (str(client.start), str(client.end)) == ("2026-09-01", "2026-09-30")
    leads = next(item for item in client.forecasts if item.kpi == "cpl")
    assert (leads.count, client.spend) == (54, pytest.approx(56321.93))
    assert leads.results == pytest.approx(54 * 60000 / 56321.93)


def test_few_results_are_not_reliable(write):
    write("few.csv", "date,spend,leads\n2026-11-01,900,4\n")
    client = write("few.yaml", "kpi-rules: 1\nclient: Few\nplaybook: builtin:smm\ngoals: [leads]\nperiod: day\ndata: few.csv\n")
    (forecast,), _ = forecast_clients(compile_clients([client]), "2026-11-01", budget=9000)
    (leads,) = forecast.forecasts
    assert (leads.count, leads.results, leads.reliable) == (4, 40, False)
    assert [cost.kpi for cost in forecast.absent] == ["cpc", "cpm", "cpv", "cpf", "cpf_paid", "cost_per_dialogue", "cpa", "cpo"]


def _codes(error: pytest.ExceptionInfo) -> list[tuple[str, str, str]]:
    return [(d.path, d.code, d.message) for d in error.value.diagnostics]


@pytest.mark.parametrize(
    ("options", "option", "words"),
    [
        ({}, "--budget", "give --budget, or the results wanted"),
        ({"budget": 0}, "--budget", "above 0"),
        ({"budget": 100, "wanted": {"leads": -5}}, "--leads", "above 0"),
        ({"budget": 100, "confidence": 100}, "--confidence", "from 50 to below 100"),
        ({"budget": 100, "client": "VK tset"}, "--client", 'no client "VK tset" in the data (did you mean "VK test"?)'),
    ],
)
def test_bad_options(options, option, words):
    with pytest.raises(InputError) as error:
        forecast_clients(compile_clients([SEED]), SEED_PERIOD, **options)
    ((path, code, message),) = _codes(error)
    assert (path, code) == (option, "KR401") and words in message


def test_all_periods_is_no_test_period():
    with pytest.raises(InputError) as error:
        forecast_clients(compile_clients([SEED]), "all", budget=100)
    assert _codes(error)[0][:2] == ("--period", "KR401")


def test_results_the_data_cannot_price():
    with pytest.raises(InputError) as error:
        forecast_clients(compile_clients([SEED]), SEED_PERIOD, wanted={"orders": 10, "leads": 10})
    ((path, code, message),) = _codes(error)
    assert (path, code) == (str(SEED), "KR411")
    assert message.startswith("cannot price --orders: the data has no orders column beside spend (it can price: --leads, --clicks, --impressions)")


def test_data_without_spend_has_nothing_to_forecast(write):
    write("organic.csv", "date,leads,clicks\n2026-11-01,4,50\n")
    client = write("organic.yaml", "kpi-rules: 1\nclient: Organic\nplaybook: builtin:smm\ngoals: [leads]\ndata: organic.csv\n")
    with pytest.raises(InputError) as error:
        forecast_clients(compile_clients([client]), "latest", budget=100)
    ((_, code, message),) = _codes(error)
    assert code == "KR411" and "needs a spend column and one of actions, clicks, dialogues, impressions, leads" in message


def test_cli_json(cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli("forecast", SEED.relative_to(REPO), "--budget", "30000", "--period", SEED_PERIOD, "--format", "json", "--confidence", "95")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (client,) = document["clients"]
    leads = next(item for item in client["forecasts"] if item["kpi"] == "cpl")
    assert (client["confidence"], leads["results"], leads["cost_per_result"]) == (0.95, 500, 60)
    assert (leads["low"], leads["high"]) == pytest.approx((371.10963737, 659.18766664))
    assert "Garwood" in document["method"] and "linear" in document["assumption"]


def test_each_client_of_a_shared_file_and_one_by_name(write):
    write("agency.csv", "date,client,spend,leads\n2026-11-01,North,1000,20\n2026-11-01,South,500,25\n")
    client = write("all.yaml", "kpi-rules: 1\nclients: all\nplaybook: builtin:smm\ngoals: [leads]\nperiod: day\ncurrency: EUR\ndata: agency.csv\n")
    both, _ = forecast_clients(compile_clients([client]), "2026-11-01", budget=2000)
    assert [(f.client, f.forecasts[0].cost, f.forecasts[0].results) for f in both] == [("North", 50, 40), ("South", 20, 100)]
    (south,), _ = forecast_clients(compile_clients([client]), "2026-11-01", budget=2000, client="South")
    assert (south.client, south.currency) == ("South", "EUR")


def test_a_folder_of_client_files_each_with_what_its_own_data_lacks():
    forecasts, _ = forecast_clients(compile_clients([REPO / "examples" / "clients"]), "2026-10", budget=10000)
    absent = {forecast.client: [cost.kpi for cost in forecast.absent] for forecast in forecasts}
    assert absent == {
        "Volga Industrial": ["cpv", "cpf_paid", "cost_per_dialogue", "cpa", "cpo"],
        "Coffee House": ["cpv", "cpf_paid", "cost_per_dialogue", "cpa", "cpl"],
        "Fitness Studio": ["cpc", "cpv", "cpf", "cpf_paid", "cost_per_dialogue", "cpa", "cpl", "cpo"],
    }
    fitness = next(forecast for forecast in forecasts if forecast.client == "Fitness Studio")
    assert [item.kpi for item in fitness.forecasts] == ["cpm"]
