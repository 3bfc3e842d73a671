"""kpi-rules explain: numbers computed here from the examples' CSV, independently of the pipeline."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import EXAMPLES, REPO

from kpi_rules.explain import substituted
from kpi_rules.formulas import parse_formula


def _coffee_december(column: str) -> tuple[float, int]:
    """The sum of a column over Coffee House's December 2025 rows, and how many rows have a value."""
    total, rows = 0.0, 0
    with (EXAMPLES / "data" / "agency-daily.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["client"] == "Coffee House" and row["date"].startswith("2025-12") and row[column] != "":
                total += float(row[column])
                rows += 1
    return total, rows


@pytest.fixture(autouse=True)
def _from_the_repository(monkeypatch):
    monkeypatch.chdir(REPO)


def test_cost_per_order_with_its_inputs_rows_arithmetic_target_and_status(cli):
    spend, spend_rows = _coffee_december("spend")
    orders, order_rows = _coffee_december("orders")
    cpo = spend / orders
    result = cli("explain", "examples/clients/coffee-house.yaml", "cpo", "--period", "2025-12")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Cost per order (cpo) · Coffee House · 2025-12-01 – 2025-12-31"
    library = (REPO / "rules" / "smm" / "leads-and-sales.yaml").read_text(encoding="utf-8").splitlines()
    line = library.index("    formula: spend / orders") + 1  # where the library writes it, however the file grows
    assert lines[1] == f"Formula     spend / orders    written in the bundled library, rules/smm/leads-and-sales.yaml:{line}"
    text = result.stdout
    assert f"  spend = {spend:.2f}    sum: summed (a flow)" in text
    assert f"  orders = {orders:.0f}    sum: summed (a flow)" in text
    assert f"      {spend_rows} row(s), 2025-12-01 to 2025-12-31 in examples/data/agency-daily.csv" in text
    assert spend_rows == order_rows == 62  # two channels, every day
    assert f"Arithmetic  {spend:.2f} / {orders:.0f} = {cpo:.4f}" in text
    assert f"Result      {cpo:,.2f} RUB" in text
    # The client file agrees 450 (warn 600) for this client, over the playbook's 500 (700).
    assert "Target      <= 450 (warn <= 600)    set in the client file, examples/clients/coffee-house.yaml:13" in text
    assert cpo > 600
    assert f"Status      fail: {cpo:.4f} > warn 600 (lower is better)" in text


def test_a_kpi_made_of_a_kpi_shows_both_levels(cli):
    likes, comments, shares = (_coffee_december(column)[0] for column in ("likes", "comments", "shares"))
    posts = _coffee_december("posts")[0]
    result = cli("explain", "examples/clients/coffee-house.yaml", "er", "--period", "2025-12", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (explained,) = json.loads(result.stdout)
    engagements = next(item for item in explained["inputs"] if item["name"] == "engagements")
    assert engagements["kind"] == "kpi"
    assert engagements["value"] == likes + comments + shares
    assert engagements["arithmetic"] == f"{likes:.0f} + {comments:.0f} + {shares:.0f}"
    assert [item["name"] for item in explained["inputs"]] == ["engagements", "posts", "followers"]
    followers = next(item for item in explained["inputs"] if item["name"] == "followers")
    assert followers["how"].startswith("last:")
    assert explained["value"] == pytest.approx((likes + comments + shares) / posts / followers["value"] * 100)
    assert explained["target_from"] == "set in the playbook, examples/playbook.yaml:33"
    assert explained["status"] == "pass"
    assert explained["scored"] is True


def test_no_data_gives_the_chain_down_to_the_missing_inputs(cli):
    result = cli("explain", "examples/clients/b2b-firm.yaml", "roi", "--period", "2026-02")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "Note        not among the KPIs this client's goals score: explained as if it were" in text
    assert "Result      no value" in text
    assert "Status      no data: no revenue data in this period" in text
    assert "  because   revenue has no value: no revenue data in this period (examples/data/agency-daily.csv: 0 row(s))" in text
    assert "  because   smm_cost has no value: no content_cost data in this period" in text
    assert "  because     fees has no value: no fees data in this period (examples/data/agency-daily.csv: 0 row(s))" in text


def test_every_period_of_a_span_is_explained(cli):
    result = cli("explain", "examples/clients/b2b-firm.yaml", "leads", "--period", "2025-Q4", "--format", "json")
    explained = json.loads(result.stdout)
    assert [item["start"] for item in explained] == ["2025-11-01", "2025-12-01"]
    assert all(item["target_from"] == "set in the client file, examples/clients/b2b-firm.yaml:12" for item in explained)


def test_unknown_kpi_and_client_are_diagnosed(cli, write, tmp_path):
    folder = cli("explain", "examples/clients", "cpo")
    assert folder.exit_code == 2 and "examples/clients: error KR401 is a folder: explain takes one client file" in folder.stderr
    unknown = cli("explain", "examples/clients/coffee-house.yaml", "CPO")
    assert unknown.exit_code == 2
    assert 'examples/clients/coffee-house.yaml: error KR205 unknown KPI "CPO" (did you mean "cpo"?)' in unknown.stderr
    client = write(
        "clients.yaml",
        f"""
        kpi-rules: 1
        clients: [Coffee House, Volga Industrial]
        playbook: {EXAMPLES / "playbook.yaml"}
        goals: [sales]
        data: {EXAMPLES / "data" / "agency-daily.csv"}
        """,
    )
    several = cli("explain", client, "orders")
    assert several.exit_code == 2
    assert "error KR401" in several.stderr and "name one with --client (Coffee House, Volga Industrial)" in several.stderr
    misspelt = cli("explain", client, "orders", "--client", "Coffe House")
    assert misspelt.exit_code == 2
    assert 'has no client "Coffe House" (did you mean "Coffee House"?)' in misspelt.stderr
    chosen = cli("explain", client, "orders", "--client", "Volga Industrial", "--period", "2025-12")
    assert chosen.exit_code == 0, chosen.stderr
    assert chosen.stdout.startswith("Sales (confirmed orders) (orders) · Volga Industrial · 2025-12-01 – 2025-12-31")


@pytest.mark.parametrize(
    ("formula", "values", "expected"),
    [
        ("spend / orders", {"spend": 1000.5, "orders": 4}, "1000.5 / 4"),
        ("(revenue - cost) / cost * 100", {"revenue": 10, "cost": None}, "(10 - null) / null * 100"),
        ("followers / previous(followers) - 1", {"followers": 1200}, "1200 / previous(followers) - 1"),
        ("max(a, b) if a > 0 else 0", {"a": 1.23456, "b": 2}, "max(1.2346, 2) if 1.2346 > 0 else 0"),
    ],
)
def test_arithmetic_substitutes_values_in_the_parsed_formula(formula, values, expected):
    assert substituted(parse_formula(formula), values) == expected


def test_an_unfinished_period_is_judged_at_its_pace(cli, write):
    write("d.csv", "date,leads\n2026-10-01,10\n2026-10-10,10\n")
    client = write(
        "c.yaml",
        "kpi-rules: 1\nclient: A\nplaybook: builtin:smm\ngoals: [leads]\ndata: d.csv\ntargets:\n  leads: {target: 300, warn: 200}\n",
    )
    result = cli("explain", client, "leads", "--period", "current")
    assert result.exit_code == 0, result.stderr
    # 20 leads in the first 10 of 31 days: 62 at that pace.
    assert "Result      20\nAt its pace 62 (the period is unfinished: its status is of this value)\n" in result.stdout
    assert f"set in the client file, {client}:7" in result.stdout
    assert "Status      fail: 62 (the value at the unfinished period's pace) < warn 200 (higher is better)" in result.stdout


@pytest.mark.parametrize(
    ("status", "value", "thresholds", "better", "expected"),
    [
        ("warn", 70.0, {"target": 60, "warn": 80}, "lower", "warn: 70 > target 60, but <= warn 80"),
        ("fail", 1.0, {"target": 3}, "higher", "fail: 1 < target 3 (higher is better)"),
        ("pass", 2.0, {"min": 1.5, "max": 4}, "band", "pass: 2 is within the band 1.5 .. 4"),
        ("fail", 5.0, {"max": 4}, "band", "fail: 5 is outside the band -inf .. 4"),
        ("info", 5.0, {}, "higher", "info: no target is agreed for this KPI, the value is shown for information"),
    ],
)
def test_why_a_status(status, value, thresholds, better, expected):
    from kpi_rules.explain import why_status

    assert why_status(status, value, thresholds, better, None, False) == expected


def test_a_file_whose_columns_are_mapped_to_metrics(cli):
    # The fitness studio's export is in Russian, cp1251, mapped column by column in its client file.
    result = cli("explain", "examples/clients/fitness-studio.yaml", "story_er", "--period", "2026-10")
    assert result.exit_code == 0, result.stderr
    assert "31 row(s), 2026-10-01 to 2026-10-31 in examples/data/fitness-studio-vk.csv" in result.stdout


def test_relative_targets_and_waivers(cli, write):
    client = write(
        "r.yaml",
        f"""
        kpi-rules: 1
        client: Coffee House
        playbook: {EXAMPLES / "playbook.yaml"}
        goals: [community, sales]
        baseline: 2025-11
        data: {EXAMPLES / "data" / "agency-daily.csv"}
        targets:
          cpo: {{vs: previous, change: -5%}}
        waivers:
          orders: {{until: 2026-12-31, reason: rebrand}}
        """,
    )
    november = {}
    with (EXAMPLES / "data" / "agency-daily.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["client"] == "Coffee House" and row["date"].startswith("2025-11"):
                for column in ("spend", "orders"):
                    november[column] = november.get(column, 0.0) + float(row[column] or 0)
    previous_cpo = november["spend"] / november["orders"]
    cpo = json.loads(cli("explain", client, "cpo", "--period", "2025-12", "--format", "json").stdout)[0]
    assert cpo["reference"] == pytest.approx(previous_cpo)
    assert cpo["thresholds"]["target"] == pytest.approx(previous_cpo * 0.95)
    assert cpo["target_from"] == f"relative to previous, set in the client file, {client}:8"
    orders = cli("explain", client, "orders", "--period", "2025-12")
    assert "Status      waived until 2026-12-31: rebrand" in orders.stdout
