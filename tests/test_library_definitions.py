"""The bundled library checked against the published definitions (issue 13): each case hand-computed, the
arithmetic in a comment."""

import datetime as dt

import polars as pl
import pytest

from conftest import REPO
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
