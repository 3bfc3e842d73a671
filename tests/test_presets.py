"""Platform exports as they come (tests/data/exports/, totals computed by hand in its README)."""

from pathlib import Path

import pytest

from kpi_rules.data.presets import load_preset
from kpi_rules.diagnostics import InputError
from kpi_rules.pipeline import compile_clients, score
from kpi_rules.resources import preset_names

EXPORTS = Path(__file__).parent / "data" / "exports"
METRICS = ["spend", "impressions", "clicks", "actions", "orders", "revenue", "leads", "posts", "views", "likes",
           "comments", "shares", "saves", "new_followers", "unfollows", "followers"]


@pytest.fixture
def totals(write):
    """Score one client whose data is ``sources``; return each metric's October total (None: no data) and the results."""
    kpis = "".join(f"  total_{m}: {{formula: {m}, unit: count}}\n" for m in METRICS)
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\nkpis:\n" + kpis + "goals:\n  totals: {kpis: [" + ", ".join(f"total_{m}" for m in METRICS) + "]}\n")

    def run(sources: str, period: str = "2026-10", currency: str = "") -> tuple[dict, object]:
        client = write("client.yaml", f"kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [totals]\n{currency}data:\n{sources}")
        results = score(compile_clients([client]), period)
        (card,) = results
        values = {kpi.id.removeprefix("total_"): kpi.value for kpi in card.kpis}
        return {m: (round(v, 6) if v is not None else None) for m, v in values.items()}, results

    return run


def source(name: str, **options: str) -> str:
    """A data source of the sample ``name`` with the preset of its platform."""
    options = {"preset": name.removesuffix(".csv").removesuffix("-day").removesuffix("-weekly").removesuffix("-facebook"), **options}
    extra = "".join(f", {key}: {value}" for key, value in options.items())
    return f"  - {{path: {EXPORTS / name}{extra}}}\n"


def test_every_bundled_preset_validates_and_cites_its_sources():
    assert set(preset_names()) == {"meta-ads", "meta-posts", "vk-community", "vk-ads", "telegram"}
    for name in preset_names():
        assert load_preset(name)["columns"]


def test_meta_ads_summary_row_left_out_currency_read_from_the_header(totals):
    values, results = totals(source("meta-ads.csv"))
    assert {m: values[m] for m in ("spend", "impressions", "clicks", "actions", "orders", "revenue")} == {
        "spend": 335.0, "impressions": 33500.0, "clicks": 605.0, "actions": 381.0, "orders": 6.0, "revenue": 380.0,
    }
    assert any(p.code == "KR501" and p.level == "warning" for p in results.problems)


def test_meta_ads_day_column_wins_over_the_reports_range(totals):
    values, _ = totals(source("meta-ads-day.csv"))
    assert (values["spend"], values["impressions"], values["clicks"], values["orders"]) == (335.0, 33500.0, 605.0, 6.0)


def test_meta_ads_results_filtered_to_leads(totals):
    values, _ = totals(source("meta-ads.csv", where="{Result indicator: actions:lead}", columns="{Results: leads}"))
    assert (values["leads"], values["spend"], values["clicks"]) == (15.0, 165.0, 165.0)


def test_meta_ads_weekly_row_straddling_the_month_is_split_and_estimated(totals):
    values, results = totals(source("meta-ads-weekly.csv"))
    assert (values["spend"], values["impressions"], values["clicks"], values["actions"], values["orders"]) == (
        1000.0, 97000.0, 1600.0, 954.0, 18.0)
    (card,) = results
    assert next(kpi for kpi in card.kpis if kpi.id == "total_spend").estimated
    leads, _ = totals(source("meta-ads-weekly.csv", where="{Result indicator: actions:lead}", columns="{Results: leads}"))
    assert (leads["leads"], leads["spend"]) == (36.0, 500.0)


def test_money_in_another_currency_than_the_clients_is_refused(totals):
    with pytest.raises(InputError, match="KR307"):
        totals(source("meta-ads.csv"), currency="currency: RUB\n")


def test_meta_posts_instagram_and_facebook_rows_are_posts(totals):
    values, _ = totals(source("meta-posts.csv"))
    assert {m: values[m] for m in ("posts", "views", "likes", "comments", "shares", "saves", "new_followers")} == {
        "posts": 5.0, "views": 14000.0, "likes": 590.0, "comments": 47.0, "shares": 55.0, "saves": 92.0, "new_followers": 15.0,
    }
    values, _ = totals(source("meta-posts-facebook.csv"))
    assert {m: values[m] for m in ("posts", "views", "likes", "comments", "shares", "clicks")} == {
        "posts": 4.0, "views": 7400.0, "likes": 270.0, "comments": 25.0, "shares": 30.0, "clicks": 62.0,
    }


def test_vk_community_long_table_each_criterion_a_column(totals):
    values, _ = totals(source("vk-community.csv"))
    assert {m: values[m] for m in ("new_followers", "unfollows", "likes", "comments", "shares")} == {
        "new_followers": 25.0, "unfollows": 8.0, "likes": 155.0, "comments": 15.0, "shares": 4.0,
    }
    september, _ = totals(source("vk-community.csv"), period="2026-09")
    assert (september["new_followers"], september["likes"]) == (9.0, 64.0)


def test_vk_community_one_criterion_by_where_as_before(totals):
    path = EXPORTS / "vk-community.csv"
    values, _ = totals(f"  - {{path: {path}, where: {{Критерий: members, Парам. №1: Новые участники}}, encoding: cp1251,"
                       f' separator: ";", date_format: "%d.%m.%Y", columns: {{Дата: date, Значение: new_followers}}}}\n')
    assert values["new_followers"] == 25.0


def test_vk_ads_decimal_comma_and_no_break_spaces(totals):
    values, _ = totals(source("vk-ads.csv"), currency="currency: RUB\n")
    assert (values["spend"], values["impressions"], values["clicks"], values["actions"]) == (6551.0, 59500.0, 535.0, 28.0)
    september, _ = totals(source("vk-ads.csv"), period="2026-09", currency="currency: RUB\n")
    assert september["spend"] == 4151.0


def test_telegram_followers_last_day_and_views_summed(totals):
    values, _ = totals(source("telegram.csv"))
    assert (values["followers"], values["views"]) == (5100.0, 7800.0)
