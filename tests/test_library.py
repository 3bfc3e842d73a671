"""The bundled library (rules/): the catalogue's contract, hand-computed values for every KPI, benchmarks."""

from pathlib import Path

import pytest

from kpi_rules.compile import Compiler
from kpi_rules.loading import load_yaml
from kpi_rules.pipeline import compile_clients, score
from kpi_rules.resources import builtin_names, bundled_dir
from kpi_rules.schema import validate_document

LANGUAGES = ("en", "ru", "pl")

# The KPI table of shared/KPI-CATALOGUE.md: id -> (unit, better, goals). Formulas are checked by value below.
CATALOGUE_KPIS = {
    "followers": ("count", "higher", {"awareness"}),
    "new_followers": ("count", "higher", {"awareness"}),
    "unfollows": ("count", "lower", {"awareness"}),
    "net_follower_growth": ("count", "higher", {"awareness"}),
    "follower_growth_rate": ("%", "higher", {"awareness"}),
    "churn_rate": ("%", "lower", {"awareness"}),
    "reach": ("count", "higher", {"awareness"}),
    "viral_share": ("%", "higher", {"awareness"}),
    "impressions": ("count", "higher", {"awareness"}),
    "frequency": ("x", "band", {"awareness"}),
    "views_per_post": ("count", "higher", {"awareness"}),
    "mentions": ("count", "higher", {"awareness", "reputation"}),
    "hashtag_posts": ("count", "higher", {"awareness", "community"}),
    "share_of_voice": ("%", "higher", {"awareness", "reputation"}),
    "engagements": ("count", "higher", {"community"}),
    "er": ("%", "higher", {"community"}),
    "er_day": ("%", "higher", {"community"}),
    "err": ("%", "higher", {"community"}),
    "er_impressions": ("%", "higher", {"community"}),
    "er_views": ("%", "higher", {"community"}),
    "love_rate": ("%", "higher", {"community"}),
    "talk_rate": ("%", "higher", {"community"}),
    "applause_rate": ("per post", "higher", {"community"}),
    "conversation_rate": ("per post", "higher", {"community"}),
    "amplification_rate": ("per post", "higher", {"community", "awareness"}),
    "virality_rate": ("%", "higher", {"awareness"}),
    "ugc_posts": ("count", "higher", {"community", "reputation"}),
    "site_clicks": ("count", "higher", {"traffic"}),
    "contact_clicks": ("count", "higher", {"traffic", "leads"}),
    "ctr": ("%", "higher", {"traffic"}),
    "cpc": ("currency", "lower", {"traffic"}),
    "cpm": ("currency", "lower", {"awareness"}),
    "cpv": ("currency", "lower", {"awareness"}),
    "vtr": ("%", "higher", {"awareness"}),
    "cpf": ("currency", "lower", {"awareness"}),
    "leads": ("count", "higher", {"leads"}),
    "cpl": ("currency", "lower", {"leads"}),
    "lead_cr": ("%", "higher", {"leads"}),
    "cpa": ("currency", "lower", {"leads", "sales"}),
    "orders": ("count", "higher", {"sales"}),
    "lead_to_sale": ("%", "higher", {"sales"}),
    "cpo": ("currency", "lower", {"sales"}),
    "revenue": ("currency", "higher", {"sales"}),
    "aov": ("currency", "higher", {"sales"}),
    "roas": ("ratio", "higher", {"sales"}),
    "drr": ("%", "lower", {"sales"}),
    "roi": ("%", "higher", {"sales"}),
    "revenue_per_follower": ("currency", "higher", {"sales"}),
    "net_sentiment": ("points", "higher", {"reputation"}),
    "response_rate": ("%", "higher", {"reputation"}),
    "response_time": ("minutes", "lower", {"reputation"}),
    "smm_cost": ("currency", "lower", {"production"}),
    "cost_per_post": ("currency", "lower", {"production"}),
}

FLOWS = (
    "posts likes comments shares saves views video_views completed_views impressions clicks site_clicks contact_clicks "
    "new_followers unfollows leads actions orders revenue spend fees content_cost mentions mentions_positive "
    "mentions_negative mentions_neutral competitor_mentions hashtag_posts ugc_posts messages_received "
    "messages_answered reply_time_total post_reach video_starts new_followers_paid dialogues cogs watch_time"
).split()
NON_ADDITIVE = ("reach", "reach_organic", "reach_paid", "reach_viral", "unique_users", "frequency", "active_core")

# One month of one account, a row dated at the month's start (so reach counts), and September's followers.
OCTOBER = dict(
    posts=10, likes=1800, comments=150, shares=50, saves=30, views=50000, video_views=8000, completed_views=2000,
    impressions=100000, clicks=1500, site_clicks=900, contact_clicks=60, new_followers=1200, unfollows=200, leads=50,
    actions=80, orders=20, revenue=60000, spend=3000, fees=20000, content_cost=5000, mentions=300,
    mentions_positive=120, mentions_negative=30, mentions_neutral=150, competitor_mentions=700, hashtag_posts=40,
    ugc_posts=12, messages_received=200, messages_answered=180, reply_time_total=5400, followers=20000,
    reach=40000, reach_viral=6000, post_reach=80000, video_starts=5000, new_followers_paid=600, dialogues=40,
    cogs=24000, active_core=900, watch_time=96000, reply_time=12, reach_organic=30000, unique_users=5000,
)
SEPTEMBER_FOLLOWERS = 19000

# Worked out by hand from OCTOBER (31 days) and the catalogue's formulas.
EXPECTED = {
    "followers": 20000,
    "new_followers": 1200,
    "unfollows": 200,
    "net_follower_growth": 1000,  # 1200 - 200
    "follower_growth_rate": 5.263158,  # (20000 - 19000) / 19000 * 100
    "churn_rate": 1.052632,  # 200 / 19000 * 100
    "reach": 40000,
    "reach_rate": 200,  # 40000 / 20000 * 100 (non-followers reached too)
    "viral_share": 15,  # 6000 / 40000 * 100
    "impressions": 100000,
    "frequency": 2.5,  # 100000 / 40000
    "views_per_post": 5000,  # 50000 / 10
    "view_rate": 25,  # 50000 / 10 / 20000 * 100
    "vtr": 2,  # 2000 / 100000 * 100
    "video_completion_rate": 40,  # 2000 / 5000 * 100
    "video_view_rate": 8,  # 8000 / 100000 * 100
    "avg_watch_time": 12,  # 96000 s / 8000 video views
    "engagements": 2000,  # 1800 + 150 + 50
    "engagements_with_saves": 2030,  # 1800 + 150 + 50 + 30
    "er_with_saves": 1.015,  # 2030 / 10 / 20000 * 100
    "err_with_saves": 2.5375,  # 2030 / 80000 * 100
    "active_core": 900,
    "er": 1,  # 2000 / 10 / 20000 * 100
    "er_avg": 1,  # one row: the same as er
    "er_day": 0.322581,  # 2000 / 31 / 20000 * 100
    "err": 2.5,  # 2000 / 80000 (summed post reach) * 100
    "err_unique_reach": 5,  # 2000 / 40000 (unique reach) * 100
    "err_avg": 2.5,  # one row: the same as err
    "er_impressions": 2,  # 2000 / 100000 * 100
    "er_views": 4,  # 2000 / 50000 * 100
    "er_views_avg": 4,  # one row: the same as er_views
    "love_rate": 0.9,  # 1800 / 10 / 20000 * 100
    "talk_rate": 0.075,  # 150 / 10 / 20000 * 100
    "applause_rate": 180,  # 1800 / 10
    "conversation_rate": 15,  # 150 / 10
    "amplification_rate": 5,  # 50 / 10
    "virality_rate": 0.05,  # 50 / 100000 * 100
    "ugc_posts": 12,
    "hashtag_posts": 40,
    "site_clicks": 900,
    "contact_clicks": 60,
    "ctr": 1.5,  # 1500 / 100000 * 100
    "cpc": 2,  # 3000 / 1500
    "cpm": 30,  # 3000 / 100000 * 1000
    "cpv": 0.375,  # 3000 / 8000
    "cpf": 2.5,  # 3000 / 1200
    "cpf_paid": 5,  # 3000 / 600
    "cpe": 1.5,  # 3000 / 2000
    "cost_per_dialogue": 75,  # 3000 / 40
    "cpa": 37.5,  # 3000 / 80
    "leads": 50,
    "cpl": 60,  # 3000 / 50 (worked example 1)
    "lead_cr": 3.333333,  # 50 / 1500 * 100
    "orders": 20,
    "lead_to_sale": 40,  # 20 / 50 * 100
    "cpo": 150,  # 3000 / 20
    "revenue": 60000,
    "aov": 3000,  # 60000 / 20
    "roas": 20,  # 60000 / 3000
    "romi": 1900,  # (60000 - 3000) / 3000 * 100
    "drr": 5,  # 3000 / 60000 * 100
    "smm_cost": 28000,  # 3000 + 20000 + 5000
    "roi": 114.285714,  # (60000 - 3000 - 20000 - 5000) / 28000 * 100
    "roi_margin": 28.571429,  # (60000 - 24000 - 28000) / 28000 * 100
    "revenue_per_follower": 3,  # 60000 / 20000
    "mentions": 300,
    "share_of_voice": 30,  # 300 / (300 + 700) * 100
    "net_sentiment": 30,  # (120 - 30) / (120 + 30 + 150) * 100
    "positive_share": 80,  # 120 / (120 + 30) * 100
    "response_rate": 90,  # 180 / 200 * 100
    "response_time": 30,  # 5400 / 180
    "organic_reach_share": 75,  # 30000 / 40000 * 100
    "unique_visitors": 5000,  # as supplied for the month
    "median_response_time": 12,  # one message row: the median of one reply time is itself
    "cost_per_post": 500,  # 5000 / 10
}


@pytest.fixture(scope="module")
def library():
    compiler = Compiler()
    playbook = compiler.playbook("builtin:smm", Path())
    assert not compiler.diagnostics
    return playbook


def score_month(tmp_path: Path, months: dict[str, dict], kpis, period="2026-10") -> dict:
    """Score one client over the given monthly rows; return {kpi: KpiResult} for ``period``."""
    columns = sorted({column for row in months.values() for column in row})
    lines = ["date," + ",".join(columns)]
    lines += [date + "," + ",".join(str(row.get(c, "")) for c in columns) for date, row in months.items()]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "playbook.yaml").write_text(
        f"kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  everything: {{kpis: [{', '.join(kpis)}]}}\n"
    )
    (tmp_path / "client.yaml").write_text(
        "kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [everything]\ndata: data.csv\n"
    )
    (card,) = score(compile_clients([tmp_path / "client.yaml"]), period)
    return {kpi.id: kpi for kpi in card.kpis}


def test_every_catalogue_kpi_is_in_the_library_as_the_catalogue_defines_it(library):
    for kpi_id, (unit, better, goals) in CATALOGUE_KPIS.items():
        kpi = library.kpis[kpi_id]
        assert (kpi.unit, kpi.better, set(kpi.serves)) == (unit, better, goals), kpi_id


def test_every_catalogue_metric_with_its_aggregation(library):
    expected = {**dict.fromkeys(FLOWS, "sum"), "followers": "last", **dict.fromkeys(NON_ADDITIVE, "none")}
    assert {metric: library.metrics[metric].agg for metric in expected} == expected


def test_every_kpi_and_metric_has_three_languages_a_description_and_a_source(library):
    for item in (*library.metrics.values(), *library.kpis.values()):
        assert set(item.labels) == set(LANGUAGES), item.id
        assert all(text.strip() for text in item.labels.values()), item.id
        assert item.description and item.source, item.id
    for goal in library.goals.values():
        assert set(goal.labels) == set(LANGUAGES) and goal.description, goal.id


def test_goal_templates_list_kpis_that_serve_them(library):
    assert list(library.goals) == ["awareness", "community", "traffic", "leads", "sales", "reputation", "production"]
    for goal in library.goals.values():
        for kpi in goal.kpis:
            assert goal.id in library.kpis[kpi].serves, (goal.id, kpi)


def test_the_library_is_one_file_per_domain_each_valid_as_a_playbook():
    domains = sorted(path.stem for path in (bundled_dir("rules") / "smm").glob("*.yaml"))
    assert domains == ["ads-costs", "audience", "engagement", "leads-and-sales", "production", "reach", "reputation", "traffic"]
    for path in (bundled_dir("rules") / "smm").glob("*.yaml"):
        assert validate_document(load_yaml(path), "playbook") == [], path.name


def test_every_bundled_file_is_valid_against_its_schema():
    """Compiling skips the schema for the bundled library (it is checked here, once, not on every run)."""
    rules = bundled_dir("rules")
    for path in sorted(rules.rglob("*.yaml")):
        kind = "preset" if path.parent.name == "presets" else "playbook"
        assert validate_document(load_yaml(path), kind) == [], path.relative_to(rules)


def test_the_expected_table_covers_every_library_kpi(library):
    assert set(EXPECTED) == set(library.kpis)


@pytest.fixture(scope="module")
def october(tmp_path_factory, library):
    """Every library KPI scored on OCTOBER (with September's followers), once for all the cases below."""
    return score_month(tmp_path_factory.mktemp("october"), {"2026-09-01": {"followers": SEPTEMBER_FOLLOWERS}, "2026-10-01": OCTOBER}, library.kpis)


@pytest.fixture(scope="module")
def all_zero(tmp_path_factory, library):
    """Every library KPI scored on a month where every metric is 0."""
    zeros = dict.fromkeys(OCTOBER, 0)
    return score_month(tmp_path_factory.mktemp("zero"), {"2026-09-01": {"followers": 0}, "2026-10-01": zeros}, library.kpis)


@pytest.mark.parametrize("kpi_id", EXPECTED)
def test_kpi_by_hand(october, kpi_id):
    assert october[kpi_id].value == pytest.approx(EXPECTED[kpi_id], abs=1e-6)
    assert october[kpi_id].status == "info"  # no targets in the library


@pytest.mark.parametrize("kpi_id", EXPECTED)
def test_kpi_with_zero_inputs(library, all_zero, kpi_id):
    """A ratio with a zero denominator is no data, with its reason; a count of nothing is 0."""
    kpi = all_zero[kpi_id]
    if "/" in library.kpis[kpi_id].formula.text:
        assert (kpi.value, kpi.status) == (None, "no_data") and kpi.reason
    else:
        assert kpi.value == 0


def test_growth_needs_the_period_just_before(tmp_path):
    kpis = score_month(
        tmp_path,
        {"2026-08-01": {"followers": 18000}, "2026-10-01": {"followers": 20000, "unfollows": 10}},
        ["follower_growth_rate", "churn_rate"],
    )
    assert kpis["follower_growth_rate"].value is None
    assert kpis["follower_growth_rate"].reason == "previous(followers) is unknown: no data for the period before"
    assert kpis["churn_rate"].value is None


def test_growth_compounds_month_over_month(tmp_path):
    months = {"2026-08-01": {"followers": 10000}, "2026-09-01": {"followers": 10500}, "2026-10-01": {"followers": 11025}}
    for period in ("2026-09", "2026-10"):
        assert score_month(tmp_path, months, ["follower_growth_rate"], period)["follower_growth_rate"].value == pytest.approx(5)


def test_er_averaged_per_post_differs_from_pooled_er(tmp_path):
    """Two posts: ER 1 % (10 of 1,000 followers) and 1.5 % (30 of 2,000): 1.25 % averaged; pooled, 40 / 2 / 2,000 = 1 %."""
    posts = {
        "2026-10-03 10:00": {"posts": 1, "likes": 10, "comments": 0, "shares": 0, "followers": 1000},
        "2026-10-20 18:30": {"posts": 1, "likes": 25, "comments": 3, "shares": 2, "followers": 2000},
    }
    kpis = score_month(tmp_path, posts, ["er", "er_avg"])
    assert kpis["er_avg"].value == pytest.approx(1.25)
    assert kpis["er"].value == pytest.approx(1.0)


def test_err_pools_or_averages_post_reach_and_unique_reach_needs_the_period_figure(tmp_path):
    kpis = score_month(
        tmp_path,
        {
            "2026-10-03": {"posts": 1, "likes": 10, "comments": 0, "shares": 0, "post_reach": 100, "reach": 100},
            "2026-10-20": {"posts": 1, "likes": 10, "comments": 0, "shares": 0, "post_reach": 1000, "reach": 1000},
        },
        ["err", "err_avg", "err_unique_reach", "er_avg"],
    )
    assert kpis["err_avg"].value == pytest.approx(5.5)  # (10 / 100 * 100 + 10 / 1000 * 100) / 2 = (10 % + 1 %) / 2
    assert kpis["err"].value == pytest.approx(1.818182, abs=1e-6)  # (10 + 10) / (100 + 1000) * 100, pooled
    # Unique reach is never summed from posts: without a figure for the whole period, no value.
    assert kpis["err_unique_reach"].value is None
    assert kpis["er_avg"].reason == 'the data has no "followers" column'


def test_every_builtin_compiles_and_every_benchmark_names_its_source():
    assert set(builtin_names()) >= {"smm", "smm-benchmarks", "smm-benchmarks-instagram", "smm-benchmarks-vk"}
    for name in builtin_names():
        compiler = Compiler()
        playbook = compiler.playbook(f"builtin:{name}", Path())
        assert not compiler.diagnostics, name
        for kpi_id, target in playbook.targets.items():
            assert target.source and target.note, (name, kpi_id)


def test_platform_benchmarks_override_the_generic_ones():
    compiler = Compiler()
    generic = compiler.playbook("builtin:smm-benchmarks", Path())
    vk = compiler.playbook("builtin:smm-benchmarks-vk", Path())
    assert generic.targets["er"].as_dict() == {"target": 3, "warn": 1}
    assert vk.targets["er"].as_dict() == {"target": 1}
    assert vk.targets["response_time"] == generic.targets["response_time"]


def test_the_readme_counts_the_library_right(library):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"{len(library.metrics)} raw metrics with their aggregation and {len(library.kpis)} KPIs" in readme
