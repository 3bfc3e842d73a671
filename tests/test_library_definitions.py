"""The bundled library checked against the published definitions (issue 13): each case hand-computed, the
arithmetic in a comment."""

from pathlib import Path

import polars as pl
import pytest
from conftest import REPO

from kpi_rules.compile import Compiler
from kpi_rules.data.load import read_source
from kpi_rules.model import SourceDef
from kpi_rules.pipeline import compile_clients, score

DATA = REPO / "tests" / "data" / "library"
POSTS = DATA / "posts-followers.csv"


def client_file(write, kpis: list[str], data: str, extra: str = ""):
    write("playbook.yaml", f"kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  g: {{kpis: [{', '.join(kpis)}]}}\n")
    return write("client.yaml", f"kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [g]\n{extra}data:\n{data}")


def values(client, period: str) -> dict[str, float | None]:
    (card,) = score(compile_clients([client]), period)
    return {kpi.id: kpi.value for kpi in card.kpis}


# --- followers (agg last / first) of per-post rows with timestamps ------------------------------------------

POST_SOURCE = f"  - {{path: {POSTS}, rows: post, columns: {{Publish time: date, Likes: likes, Followers: followers}}}}\n"


def test_followers_of_per_post_rows_are_those_of_the_latest_post_of_the_last_day(write):
    client = client_file(write, ["followers", "follower_growth_rate"], POST_SOURCE)
    # Two posts on 31 October: 10,250 followers at 09:00, 10,240 at 21:00. The period's followers are those of
    # 21:00, 10,240 (the larger value of the day, 10,250, was taken before).
    assert values(client, "2026-10")["followers"] == 10240.0


def test_the_first_value_is_the_earliest_of_the_first_day():
    source = SourceDef(path=POSTS, format="csv", rows="post", columns=(("Publish time", "date"), ("Likes", "likes"), ("Followers", "followers")))
    rows = read_source(source, ["likes", "followers"], scan=False).frame
    from kpi_rules.aggregate import aggregate
    from kpi_rules.model import MetricDef

    (october,) = aggregate(rows.with_columns(client=pl.lit("a")), {"followers": MetricDef("followers", "first")}, "month").collect().to_dicts()
    # 1 October: 10,020 at 08:00 and 10,010 at 18:00; the earliest, 10,020 (not the larger by chance: the
    # larger of 31 October, 10,250, is the wrong one for `last`).
    assert october["followers"] == 10020.0


def test_rows_without_times_keep_no_time_column_and_take_the_larger_of_a_day(write):
    path = write("daily.csv", "date,followers\n2026-10-31,100\n2026-10-31,90\n")
    source = SourceDef(path=path, format="csv")
    frame = read_source(source, ["followers"], scan=True).frame
    assert "date_time" not in frame.collect_schema().names()
    client = client_file(write, ["followers"], f"  - {{path: {path}}}\n")
    # Two rows on one day without a time: the larger, 100, as before (and a KR521 warning).
    assert values(client, "2026-10")["followers"] == 100.0


def test_times_are_ordered_in_the_client_time_zone(write):
    path = write(
        "tz.csv",
        "date,followers\n"
        "2026-10-31T05:00:00Z,300\n"  # 08:00 in Moscow, 31 October
        "2026-10-31T08:00:00+03:00,200\n"  # 08:00 in Moscow too: a tie, the larger (300) is kept...
        "2026-10-31T18:00:00+03:00,250\n",  # ...but 18:00 Moscow is later: 250
    )
    client = client_file(write, ["followers"], f"  - {{path: {path}, rows: post}}\n", "timezone: Europe/Moscow\n")
    assert values(client, "2026-10")["followers"] == 250.0


# --- which variant each id is (one case per ambiguity, each computed from a tiny CSV) ------------------------

def month_values(write, kpis: list[str], csv: str) -> dict[str, float | None]:
    path = write("month.csv", csv)
    return values(client_file(write, kpis, f"  - {{path: {path}}}\n"), "2026-10")


def test_err_is_by_summed_post_reach_and_err_unique_reach_by_the_period_reach(write):
    kpis = month_values(
        write, ["err", "err_unique_reach"], "date,posts,likes,comments,shares,post_reach,reach\n2026-10-01,2,100,15,10,2500,2000\n"
    )
    assert kpis["err"] == pytest.approx(5)  # (100 + 15 + 10) / 2500 * 100
    assert kpis["err_unique_reach"] == pytest.approx(6.25)  # 125 / 2000 * 100: the same people counted once


def test_engagements_leave_saves_out_and_the_with_saves_ids_count_them(write):
    kpis = month_values(
        write,
        ["engagements", "engagements_with_saves", "er", "er_with_saves", "err", "err_with_saves"],
        "date,posts,likes,comments,shares,saves,followers,post_reach\n2026-10-01,4,300,40,20,40,1000,8000\n",
    )
    assert kpis["engagements"] == 360  # 300 + 40 + 20
    assert kpis["engagements_with_saves"] == 400  # 300 + 40 + 20 + 40
    assert kpis["er"] == pytest.approx(9)  # 360 / 4 / 1000 * 100
    assert kpis["er_with_saves"] == pytest.approx(10)  # 400 / 4 / 1000 * 100
    assert kpis["err"] == pytest.approx(4.5)  # 360 / 8000 * 100
    assert kpis["err_with_saves"] == pytest.approx(5)  # 400 / 8000 * 100


def test_er_divides_by_the_followers_at_the_end_of_the_period(write):
    kpis = month_values(
        write, ["er", "er_avg"], "date,posts,likes,comments,shares,followers\n2026-10-05,1,20,0,0,1000\n2026-10-25,1,20,0,0,2000\n"
    )
    assert kpis["er"] == pytest.approx(1)  # (20 + 20) / 2 posts / 2000 (25 October, the last) * 100
    assert kpis["er_avg"] == pytest.approx(1.5)  # (20 / 1000 * 100 + 20 / 2000 * 100) / 2: each post's own day


def test_follower_growth_rate_is_net_not_gross(write):
    kpis = month_values(
        write,
        ["follower_growth_rate", "net_follower_growth"],
        "date,followers,new_followers,unfollows\n2026-09-30,10000,,\n2026-10-31,10100,300,200\n",
    )
    assert kpis["follower_growth_rate"] == pytest.approx(1)  # (10100 / 10000 - 1) * 100; gross would be 300 / 10000 = 3 %
    assert kpis["net_follower_growth"] == 100  # 300 - 200


def test_cpf_counts_every_new_follower_and_cpf_paid_only_those_from_ads(write):
    kpis = month_values(write, ["cpf", "cpf_paid"], "date,spend,new_followers,new_followers_paid\n2026-10-01,1000,500,200\n")
    assert kpis["cpf"] == pytest.approx(2)  # 1000 / 500
    assert kpis["cpf_paid"] == pytest.approx(5)  # 1000 / 200


def test_roi_is_on_revenue_and_roi_margin_on_the_gross_margin(write):
    kpis = month_values(
        write, ["roi", "roi_margin", "roas", "romi"], "date,revenue,cogs,spend,fees,content_cost\n2026-10-01,10000,6000,1000,500,500\n"
    )
    assert kpis["roi"] == pytest.approx(400)  # (10000 - 2000) / 2000 * 100, costs 1000 + 500 + 500
    assert kpis["roi_margin"] == pytest.approx(100)  # (10000 - 6000 - 2000) / 2000 * 100
    assert kpis["roas"] == pytest.approx(10)  # 10000 / 1000: a ratio, ads only
    assert kpis["romi"] == pytest.approx(900)  # (10000 - 1000) / 1000 * 100, as VK Ads shows ROMI


def test_vtr_is_of_impressions_and_video_completion_rate_of_starts(write):
    kpis = month_values(
        write,
        ["vtr", "video_completion_rate", "video_view_rate"],
        "date,completed_views,impressions,video_starts,video_views\n2026-10-01,300,10000,1000,800\n",
    )
    assert kpis["vtr"] == pytest.approx(3)  # 300 / 10000 * 100
    assert kpis["video_completion_rate"] == pytest.approx(30)  # 300 / 1000 * 100
    assert kpis["video_view_rate"] == pytest.approx(8)  # 800 views (platform threshold) / 10000 * 100


def test_net_sentiment_counts_neutral_mentions_and_positive_share_leaves_them_out(write):
    kpis = month_values(
        write,
        ["net_sentiment", "positive_share"],
        "date,mentions_positive,mentions_negative,mentions_neutral\n2026-10-01,60,20,120\n",
    )
    assert kpis["net_sentiment"] == pytest.approx(20)  # (60 - 20) / (60 + 20 + 120) * 100; without neutral: 50
    assert kpis["positive_share"] == pytest.approx(75)  # 60 / (60 + 20) * 100


def test_kaushik_rates_are_per_post_not_percent_of_followers(write):
    kpis = month_values(
        write,
        ["applause_rate", "conversation_rate", "amplification_rate", "love_rate", "talk_rate"],
        "date,posts,likes,comments,shares,followers\n2026-10-01,5,500,50,25,10000\n",
    )
    assert kpis["applause_rate"] == pytest.approx(100)  # 500 / 5
    assert kpis["conversation_rate"] == pytest.approx(10)  # 50 / 5
    assert kpis["amplification_rate"] == pytest.approx(5)  # 25 / 5
    assert kpis["love_rate"] == pytest.approx(1)  # 500 / 5 / 10000 * 100: the %-of-followers kind
    assert kpis["talk_rate"] == pytest.approx(0.1)  # 50 / 5 / 10000 * 100


def test_the_new_cost_and_audience_kpis(write):
    kpis = month_values(
        write,
        ["cpe", "cost_per_dialogue", "reach_rate", "active_core"],
        "date,spend,likes,comments,shares,dialogues,reach,followers,active_core\n2026-10-01,900,250,40,10,30,6000,4000,120\n",
    )
    assert kpis["cpe"] == pytest.approx(3)  # 900 / (250 + 40 + 10)
    assert kpis["cost_per_dialogue"] == pytest.approx(30)  # 900 / 30
    assert kpis["reach_rate"] == pytest.approx(150)  # 6000 / 4000 * 100
    assert kpis["active_core"] == 120


def test_er_views_avg_averages_each_posts_erview_as_popsters_does(write):
    kpis = month_values(
        write,
        ["er_views", "er_views_avg"],
        "date,posts,likes,comments,shares,views\n2026-10-02 10:00,1,40,5,5,1000\n2026-10-09 10:00,1,30,0,0,10000\n",
    )
    assert kpis["er_views_avg"] == pytest.approx(2.65)  # (50 / 1000 * 100 + 30 / 10000 * 100) / 2 = (5 + 0.3) / 2
    assert kpis["er_views"] == pytest.approx(0.727273, abs=1e-6)  # (50 + 30) / (1000 + 10000) * 100, pooled


def test_average_watch_time_is_seconds_watched_per_video_view(write):
    kpis = month_values(
        write, ["avg_watch_time"], "date,watch_time,video_views\n2026-10-01,1800,100\n2026-10-02,600,20\n"
    )
    assert kpis["avg_watch_time"] == pytest.approx(20)  # (1800 + 600) s / (100 + 20) views, pooled


# --- labels -------------------------------------------------------------------------------------------------

def library_kpis():
    return Compiler().playbook("builtin:smm", Path()).kpis


@pytest.mark.parametrize("kpi_id", sorted(library_kpis()))
def test_every_kpi_has_ru_and_pl_labels_that_are_not_the_english_one(kpi_id):
    labels = library_kpis()[kpi_id].labels
    assert labels["ru"].strip() and labels["pl"].strip()
    assert labels["ru"] != labels["en"] and labels["pl"] != labels["en"]


def test_the_labels_the_issue_named_read_as_natives_write_them():
    kpis = library_kpis()
    assert kpis["response_time"].labels["ru"] == "Среднее время первого ответа"  # minutes, not a "speed"
    assert kpis["net_sentiment"].labels["ru"] == "Индекс тональности"  # a score, not the sentiment itself
    assert "%" in kpis["view_rate"].labels["ru"]  # views as % of followers, not "views from followers"
    assert kpis["unfollows"].labels["pl"] == "Utraceni obserwujący"
    assert kpis["impressions"].labels["pl"] == "Impresje" and "Wyświetlenia" not in kpis["cpm"].labels["pl"]
    # "Продажи" is the KPI (confirmed orders), the metric says what it counts; one spelling of "viral"
    assert kpis["orders"].labels["ru"].startswith("Продажи")
    texts = " ".join(label for kpi in kpis.values() for label in kpi.labels.values())
    assert "ирусн" not in texts


def test_reach_of_several_channels_comes_on_one_row_with_an_empty_channel_cell(write):
    per_channel = "date,channel,posts,likes,comments,shares,reach\n2026-10-01,vk,2,10,1,1,1000\n2026-10-01,telegram,2,10,1,1,800\n"
    kpis = month_values(write, ["reach"], per_channel)
    assert kpis["reach"] is None  # 1,000 + 800 would count the people who follow both channels twice
    (card,) = score(compile_clients([write("client.yaml", "kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [g]\ndata: month.csv\n")]), "2026-10")
    assert card.kpis[0].reason.endswith("supply it once per month, for several channels on one row with an empty channel cell")
    together = "date,channel,posts,likes,comments,shares,reach\n2026-10-01,vk,2,10,1,1,\n2026-10-01,telegram,2,10,1,1,\n2026-10-01,,,,,,1500\n"
    kpis = month_values(write, ["reach", "err_unique_reach"], together)
    assert kpis["reach"] == 1500
    assert kpis["err_unique_reach"] == pytest.approx(1.6)  # (10 + 1 + 1) x 2 channels / 1500 * 100


def test_show_prints_which_variant_err_is(cli):
    result = cli("show", "err")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "engagements / post_reach * 100" in text and "that is err_unique_reach" in text
