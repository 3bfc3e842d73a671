"""A source's `absent:` list (issue 13): a platform without an action (a Telegram channel has no shares in older
exports) counts it as 0, with a KR505 warning, instead of leaving every ER that reads it without data."""

import pytest

from kpi_rules.diagnostics import InputError
from kpi_rules.pipeline import compile_clients, score

TELEGRAM = "date,posts,likes,comments,views,followers\n2026-10-01,4,300,60,20000,5000\n"


def client(write, absent: str = "") -> object:
    write("telegram.csv", TELEGRAM)
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  g: {kpis: [engagements, er, er_views, amplification_rate]}\n")
    source = "{path: telegram.csv" + (f", absent: {absent}" if absent else "") + "}"
    return write("client.yaml", f"kpi-rules: 1\nclient: Channel\nplaybook: playbook.yaml\ngoals: [g]\ndata: [{source}]\n")


def scored(path) -> dict:
    (card,) = score(compile_clients([path]), "2026-10")
    return {kpi.id: kpi for kpi in card.kpis}


def test_without_absent_no_shares_means_no_er(write):
    kpis = scored(client(write))
    assert kpis["er"].value is None and kpis["engagements"].value is None


def test_absent_shares_count_as_zero(write):
    kpis = scored(client(write, "[shares]"))
    assert kpis["engagements"].value == 360  # 300 likes + 60 comments + 0 shares
    assert kpis["er"].value == pytest.approx(1.8)  # 360 / 4 posts / 5000 followers * 100
    assert kpis["er_views"].value == pytest.approx(1.8)  # 360 / 20000 * 100
    assert kpis["amplification_rate"].value == 0  # 0 shares / 4 posts


def test_the_check_notes_the_declared_zero_with_a_warning(write, cli):
    result = cli("check", client(write, "[shares]"), "--period", "2026-10")
    assert result.exit_code == 0
    assert "telegram.csv: warning KR505 shares declared absent: counted as 0 on this file's rows" in result.output
    assert "0 no data · 4 info" in result.output


def test_a_column_the_file_has_is_read_as_it_is(write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  g: {kpis: [engagements]}\n")
    write("data.csv", "date,likes,comments,shares\n2026-10-01,10,2,3\n")
    path = write("client.yaml", "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [g]\ndata: [{path: data.csv, absent: [shares]}]\n")
    assert scored(path)["engagements"].value == 15  # 10 + 2 + 3: the file's shares, not 0


def test_an_absent_name_that_is_no_metric_is_an_error_with_a_suggestion(write):
    path = client(write, "[shars]")
    with pytest.raises(InputError) as error:
        scored(path)
    (problem,) = error.value.diagnostics
    assert problem.code == "KR308" and 'did you mean "shares"' in problem.message
