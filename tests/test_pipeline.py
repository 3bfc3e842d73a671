"""Aggregation, evaluation and period selection through the whole pipeline."""

import datetime as dt

import pytest

from kpi_rules.diagnostics import InputError
from kpi_rules.pipeline import compile_clients, score


def kpis_of(client_path, period="latest"):
    (card,) = score(compile_clients([client_path]), period)
    return card, {kpi.id: kpi for kpi in card.kpis}


def test_flows_sum_and_ratios_come_from_period_totals(mini_agency):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,100,1,10\n2026-10-02,500,9,10\n", goals="[leads]")
    card, kpis = kpis_of(client, "2026-10")
    assert kpis["leads"].value == 10
    assert kpis["cpl"].value == pytest.approx(60.0)  # 600 / 10, not the mean of 100 and 55.6
    assert kpis["lead_cr"].value == pytest.approx(50.0)
    assert (card.start, card.end, card.days, card.days_with_data) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31), 31, 2)


def test_stocks_take_each_channels_last_value_and_add_channels(mini_agency):
    client = mini_agency(
        "date,channel,followers\n2026-10-01,vk,100\n2026-10-31,vk,130\n2026-10-02,tg,50\n2026-10-20,tg,55\n2026-10-25,tg,\n",
        goals="[awareness]",
    )
    _, kpis = kpis_of(client, "2026-10")
    assert kpis["followers"].value == 185


def test_non_additive_reach_is_refused_when_summed_over_days(mini_agency):
    client = mini_agency("date,reach\n2026-10-01,100\n2026-10-02,120\n", goals="[awareness]")
    _, kpis = kpis_of(client, "2026-10")
    assert kpis["reach"].status == "no_data"
    assert "cannot be summed from 2 rows" in kpis["reach"].reason


def test_non_additive_reach_at_the_reporting_grain_is_used(mini_agency):
    client = mini_agency("date,reach\n2026-10-01,1000\n2026-11-01,1200\n", goals="[awareness]")
    _, kpis = kpis_of(client, "2026-11")
    assert kpis["reach"].value == 1200 and kpis["reach"].status == "info"


def test_missing_columns_and_zero_denominators_explain_no_data(mini_agency):
    client = mini_agency("date,spend,leads\n2026-10-01,3000,0\n", goals="[leads]", targets="cpl: {target: 60}")
    _, kpis = kpis_of(client, "2026-10")
    assert (kpis["cpl"].value, kpis["cpl"].status) == (None, "no_data")
    assert kpis["cpl"].reason == "leads is 0: the ratio is undefined"
    assert kpis["lead_cr"].reason == 'the data has no "clicks" column'


@pytest.mark.parametrize(
    "value_csv, status, gap",
    [("3000,50", "pass", 0.0), ("3500,50", "warn", 10.0), ("4500,50", "fail", 30.0)],
)
def test_lower_is_better_thresholds(mini_agency, value_csv, status, gap):
    client = mini_agency(f"date,spend,leads\n2026-10-01,{value_csv}\n", targets="cpl: {target: 60, warn: 80}")
    _, kpis = kpis_of(client, "2026-10")
    assert (kpis["cpl"].status, kpis["cpl"].gap) == (status, pytest.approx(gap))


def test_band_targets(mini_agency):
    client = mini_agency(
        "date,impressions,reach\n2026-10-01,5000,1000\n2026-11-01,3000,1000\n",
        goals="[awareness]",
        targets="frequency: {min: 1.5, max: 4}",
    )
    client.parent.joinpath("playbook.yaml").write_text(
        "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  awareness: {kpis: [frequency]}\n"
    )
    cards = score(compile_clients([client]), "all")
    assert [(c.kpis[0].status, c.kpis[0].gap) for c in cards] == [("fail", 1.0), ("pass", 0.0)]


def test_latest_is_the_last_complete_period(mini_agency):
    client = mini_agency("date,leads\n2026-09-30,1\n2026-10-31,2\n2026-11-03,3\n")
    card, kpis = kpis_of(client)
    assert card.start == dt.date(2026, 10, 1) and card.complete and kpis["leads"].value == 2


def test_monthly_rows_make_complete_months(mini_agency):
    client = mini_agency("date,leads\n2026-09-01,1\n2026-10-01,2\n")
    card, _ = kpis_of(client)
    assert card.start == dt.date(2026, 10, 1) and card.complete


@pytest.mark.parametrize(
    "period, grain, starts",
    [
        ("2026-Q4", "month", ["2026-10-01", "2026-11-01"]),
        ("2026-W44", "week", ["2026-10-26"]),
        ("2026-10-05", "day", ["2026-10-05"]),
        ("2026", "quarter", ["2026-10-01"]),
        ("all", "month", ["2026-10-01", "2026-11-01"]),
    ],
)
def test_period_selection(mini_agency, period, grain, starts):
    client = mini_agency("date,leads\n2026-10-05,1\n2026-10-27,1\n2026-11-02,1\n", period=grain)
    cards = score(compile_clients([client]), period)
    assert [card.start.isoformat() for card in cards] == starts


def test_period_outside_the_data_and_bad_period_are_input_errors(mini_agency):
    client = mini_agency("date,leads\n2026-10-05,1\n")
    with pytest.raises(InputError, match="no data for client \"Acme\" in period 2025-01; the data covers 2026-10-01 to 2026-10-31"):
        score(compile_clients([client]), "2025-01")
    with pytest.raises(InputError, match='"2026-13" is not a period'):
        score(compile_clients([client]), "2026-13")


def test_shared_data_file_is_read_once_and_rows_are_matched_by_client(write, monkeypatch):
    from kpi_rules.data import load as data

    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    write("all.csv", "date,client,leads\n2026-10-01,A,1\n2026-10-01,B,7\n")
    for name in "AB":
        write(f"clients/{name}.yaml", f"kpi-rules: 1\nclient: {name}\nplaybook: ../playbook.yaml\ngoals: [leads]\ndata: ../all.csv\n")
    reads = []
    original = data.read_source
    monkeypatch.setattr(data, "read_source", lambda *args, **options: reads.append(args[0]) or original(*args, **options))
    cards = score(compile_clients([write("x", "").parent / "clients"]), "2026-10")
    assert len(reads) == 1
    assert [(card.client, card.kpis[0].value) for card in cards] == [("A", 1), ("B", 7)]


def test_client_missing_from_a_shared_file(write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    write("all.csv", "date,client,leads\n2026-10-01,Acme Ltd,1\n")
    client = write("c.yaml", "kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [leads]\ndata: all.csv\n")
    with pytest.raises(InputError, match='no data rows for client "Acme" \\(did you mean "Acme Ltd"\\?\\)'):
        score(compile_clients([client]))


@pytest.mark.parametrize("data_csv, message", [
    ("date,spend\n2026-10-01,10\n2026-10-02,ten\n", 'data.csv:3:2: error KR302 "ten" in column "spend" is not a number'),
    ("date,spend\n2026-10-01,10\n,20\n", 'data.csv:3:1: error KR303 an empty cell in column "date" is not a date'),
    ("date,spend\n2026-10-01,10\n2026-1O-02,20\n", 'data.csv:3:1: error KR303 "2026-1O-02" in column "date" is not a date'),
])
def test_a_scanned_file_with_a_bad_cell_is_read_again_to_name_it(mini_agency, data_csv, message):
    client = mini_agency(data_csv)
    with pytest.raises(InputError) as caught:
        score(compile_clients([client]))
    assert message in str(caught.value)


def test_an_empty_date_in_a_scanned_parquet_file_is_named(write, tmp_path):
    import datetime as dt

    import polars as pl

    pl.DataFrame({"date": [dt.date(2026, 10, 1), None], "spend": [1.0, 2.0]}).write_parquet(tmp_path / "d.parquet")
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    client = write("c.yaml", "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [leads]\ndata: d.parquet\n")
    with pytest.raises(InputError, match='row 2: an empty cell in column "date" is not a date'):
        score(compile_clients([client]))


def test_only_the_columns_the_scored_kpis_read_are_parsed(mini_agency):
    """Text in a column no scored KPI reads is not looked at; in a column one reads, it is an error."""
    data = "date,spend,leads,likes\n2026-10-01,3000,50,lots\n"
    (card,) = score(compile_clients([mini_agency(data, goals="[leads]")]), "2026-10")
    assert next(kpi for kpi in card.kpis if kpi.id == "cpl").value == 60.0
    with pytest.raises(InputError, match='"lots" in column "likes" is not a number'):
        score(compile_clients([mini_agency(data, goals="[community]")]), "2026-10")
