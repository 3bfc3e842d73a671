"""The best and worst posts of a period in the report: ranked by hand in tests/data/posts/README.md."""

import datetime as dt
import shutil
from dataclasses import replace

import polars as pl
import pytest
from conftest import REPO
from pages import DESKTOP, Page, needs_browser, open_report

from kpi_rules.compile import Compiler
from kpi_rules.diagnostics import InputError
from kpi_rules.pipeline import compile_clients, score
from kpi_rules.post_ranking import rank_posts
from kpi_rules.render.posts import clickable

POSTS = REPO / "tests" / "data" / "posts"


def october(path=POSTS / "cafe.yaml", lang=None):
    (card,) = score(compile_clients([path]), "2026-10", lang or "en")
    return card


def captions(posts) -> list[tuple[str, float]]:
    return [(post.text, round(post.value, 6)) for post in posts]


def test_posts_are_ranked_by_er_per_post_with_followers_as_of_their_day():
    ranking = october().posts
    assert (ranking.kpi, ranking.unit) == ("er", "%")
    assert captions(ranking.best) == [("Quiz", 8.0), ("Giveaway", 8.0), ("Autumn menu", 4.0)]
    assert captions(ranking.worst) == [("Weekend", 0.2), ("Latte art", 1.0), ("<b>Promo</b>", 1.5)]
    assert ranking.best[0].date == dt.date(2026, 10, 9) and ranking.best[0].link == "https://vk.com/wall-1_3"
    assert ranking.best[1].link is None


def test_a_period_of_few_posts_lists_each_once():
    (card,) = score(compile_clients([POSTS / "cafe.yaml"]), "2026-11")
    assert captions(card.posts.best) == [("November", 0.5)] and card.posts.worst == ()


def test_a_kpi_where_lower_is_better_ranks_the_smallest_first():
    playbook = Compiler().playbook(str(POSTS / "playbook.yaml"), REPO)
    rows = pl.LazyFrame(
        {
            "group": [0, 0, 0],
            "client": ["A", "A", "A"],
            "date": [dt.date(2026, 10, day) for day in (1, 2, 3)],
            "link": ["https://a/1", "https://a/2", "https://a/3"],
            "likes": [5.0, 1.0, 3.0],
        }
    )
    playbook = replace(playbook, kpis={**playbook.kpis, "likes": replace(playbook.kpis["likes"], better="lower")})
    ranked = rank_posts(rows, playbook, {0: "likes"}, "month", None)
    best = ranked.filter(pl.col("best"))
    assert best["value"].to_list() == [1.0, 3.0, 5.0] and ranked.filter(~pl.col("best")).height == 0


def test_the_client_file_names_the_ranking_kpi(tmp_path):
    for name in ("playbook.yaml", "posts.csv", "followers.csv"):
        shutil.copy(POSTS / name, tmp_path / name)
    client = tmp_path / "cafe.yaml"
    client.write_text((POSTS / "cafe.yaml").read_text() + "posts: {rank_by: likes}\n")
    assert captions(october(client).posts.best) == [("Giveaway", 100.0), ("Barista", 60.0), ("Quiz", 50.0)]


@pytest.mark.parametrize(
    "setting, code, message",
    [
        ("posts: {rank_by: lieks}", "KR205", 'posts are ranked by unknown KPI "lieks" (did you mean "likes"?)'),
        ("posts: {rank_by: reach_share}", "KR203", 'posts cannot be ranked by "reach_share": days is a fact of the period'),
        ("posts: {by: er}", "KR101", "by"),
    ],
)
def test_a_bad_ranking_kpi_is_reported_at_its_line(tmp_path, setting, code, message):
    for name in ("playbook.yaml", "posts.csv", "followers.csv"):
        shutil.copy(POSTS / name, tmp_path / name)
    client = tmp_path / "cafe.yaml"
    client.write_text((POSTS / "cafe.yaml").read_text() + setting + "\n")
    with pytest.raises(InputError) as raised:
        compile_clients([client])
    (problem,) = raised.value.diagnostics
    assert (problem.code, problem.line) == (code, 15) and message in problem.message


def test_only_http_links_are_clickable():
    assert clickable("https://vk.com/wall-1_3") == "https://vk.com/wall-1_3"
    assert clickable(" HTTP://t.me/cafe/12 ") == "HTTP://t.me/cafe/12"
    assert [clickable(link) for link in ("javascript:alert(1)", "data:text/html,x", "vk.com/wall", "https://", None)] == [None] * 5


def test_the_markdown_and_html_reports_list_the_posts_escaped(cli, tmp_path):
    markdown = cli("check", POSTS / "cafe.yaml", "--period", "2026-10", "--format", "markdown").stdout
    assert "| 2026-10-09 | [Quiz](<https://vk.com/wall-1_3>) | 8.00% |" in markdown
    assert "| 2026-10-12 | \\<b\\>Promo\\</b\\> `javascript:alert(1)` | 1.50% |" in markdown
    output = tmp_path / "report.html"
    cli("check", POSTS / "cafe.yaml", "--period", "2026-10", "--lang", "ru", "--output", output)
    text = output.read_text(encoding="utf-8")
    page = Page(text)
    assert [link["href"] for link in page.all("a", rel="noopener noreferrer")] == [
        "https://vk.com/wall-1_3", "https://vk.com/wall-1_1", "https://vk.com/wall-1_7", "https://vk.com/wall-1_2",
    ]
    assert "&lt;b&gt;Promo&lt;/b&gt;" in text and "<b>Promo" not in text and 'href="javascript' not in text
    assert "Лучшие публикации" in text and "8,00" in text


@needs_browser
def test_the_posts_in_a_browser(cli, browser, tmp_path):
    output = tmp_path / "report.html"
    cli("check", POSTS / "cafe.yaml", "--period", "2026-10", "--output", output)
    page, requests, errors = open_report(browser, output.as_uri(), DESKTOP)
    assert errors == [] and requests == [output.as_uri()]
    rows = page.locator("tr.kr-post")
    assert rows.count() == 6
    assert rows.nth(0).inner_text().split("\t") == ["2026-10-09", "Quiz", "8.00%"]
    assert rows.nth(5).inner_text().split("\t") == ["2026-10-12", "<b>Promo</b> javascript:alert(1)", "1.50%"]
    assert page.locator("tr.kr-post a").count() == 4


def test_a_link_column_in_a_source_of_days_is_refused_with_the_way_out(cli, tmp_path):
    for name in ("playbook.yaml", "posts.csv", "followers.csv"):
        shutil.copy(POSTS / name, tmp_path / name)
    client = tmp_path / "cafe.yaml"
    client.write_text((POSTS / "cafe.yaml").read_text().replace("    rows: post\n", ""))
    result = cli("check", client, "--period", "2026-10")
    assert result.exit_code == 2
    assert 'error KR205 column "Post link" is mapped to link, which only a source of posts has: add rows: post to it' in result.output
