"""The worked examples of shared/KPI-CATALOGUE.md, through the whole pipeline."""

import pytest

from kpi_rules.pipeline import compile_clients, score


def values(mini_agency, data_csv, goals="[leads]", period="month", extra_playbook=""):
    client = mini_agency(data_csv, goals=goals, period=period)
    if extra_playbook:
        client.parent.joinpath("playbook.yaml").write_text("kpi-rules: 1\nextends: [builtin:smm]\n" + extra_playbook)
    (card,) = score(compile_clients([client]), "all")
    return {kpi.id: kpi for kpi in card.kpis}


def test_1_test_campaign_cpl_and_linear_forecast(mini_agency):
    kpis = values(
        mini_agency,
        "date,spend,leads\n2026-10-01,3000,50\n",
        goals="[forecast]",
        extra_playbook=(
            "kpis:\n  forecast_leads: {formula: 30000 / cpl, unit: count, description: linear assumption}\n"
            "goals:\n  forecast: {kpis: [cpl, forecast_leads]}\n"
        ),
    )
    assert kpis["cpl"].value == pytest.approx(60.00)
    assert kpis["forecast_leads"].value == pytest.approx(500)


def test_2_meta_cpm(mini_agency):
    kpis = values(mini_agency, "date,spend,impressions\n2026-10-01,50,10000\n", goals="[reach]",
                  extra_playbook="goals:\n  reach: {kpis: [cpm]}\n")
    assert kpis["cpm"].value == pytest.approx(5.00)


def test_3_a_week_of_posts(mini_agency):
    rows = "".join(
        f"2026-10-{5 + day:02d},20000,{posts},{likes},{comments},{shares}\n"
        for day, (posts, likes, comments, shares) in enumerate(
            [(2, 400, 30, 10), (1, 200, 20, 5), (2, 300, 30, 10), (1, 200, 20, 5), (2, 300, 20, 10), (1, 200, 15, 5), (1, 200, 15, 5)]
        )
    )
    kpis = values(
        mini_agency,
        "date,followers,posts,likes,comments,shares\n" + rows,
        goals="[week]",
        period="week",
        extra_playbook="goals:\n  week: {kpis: [engagements, er, er_day, love_rate, talk_rate]}\n",
    )
    assert kpis["engagements"].value == 2000
    assert kpis["er"].value == pytest.approx(1.00)
    assert kpis["er_day"].value == pytest.approx(1.428571, rel=1e-6)
    assert kpis["love_rate"].value == pytest.approx(0.90)
    assert kpis["talk_rate"].value == pytest.approx(0.075)


def test_4_no_leads_is_no_data_not_zero_or_infinity(mini_agency):
    kpis = values(mini_agency, "date,spend,leads\n2026-10-01,3000,0\n")
    assert kpis["cpl"].value is None and kpis["cpl"].status == "no_data"
