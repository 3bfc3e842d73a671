"""Plan and fact over time in the renderers: scores, waivers, trends, projections, relative targets, competitors."""

import datetime as dt
import io
import json

import polars as pl
import pytest

from kpi_rules.columns import (
    change_column,
    competitors_column,
    gap_column,
    note_column,
    previous_column,
    projected_column,
    reason_column_of_kpi,
    reference_column,
    score_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.formulas import parse_formula
from kpi_rules.model import Change, ClientDef, GoalDef, KpiDef, PlanPoint, PlaybookDef, TargetDef
from kpi_rules.render import make_console
from kpi_rules.render.json import render_json
from kpi_rules.render.periods_table import render_periods
from kpi_rules.render.table import format_change, format_kpi_target, render_table, sparkline
from kpi_rules.results import GoalResult, KpiResult, Results, Scorecard, ScoredGroup
from kpi_rules.schema import validator


def kpi(kpi_id: str, label: str, value: float | None, unit: str = "%", status: str = "pass", **extra) -> KpiResult:
    fields = dict(id=kpi_id, label=label, value=value, unit=unit, better="higher", status=status, target=None, gap=None, reason=None)
    return KpiResult(**{**fields, **extra})


def rendered(render, *args, width: int = 100) -> str:
    stream = io.StringIO()
    console = make_console(stream, to_file=True)
    console.width = width
    render(*args, console)
    return "\n".join(line.rstrip() for line in stream.getvalue().splitlines())


@pytest.mark.parametrize("values, line", [
    ((1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0), "▁▂▃▄▅▆▇█"),
    ((10.0, None, 0.0, 5.0), "█ ▁▅"),
    ((3.0, 3.0, 3.0), "▄▄▄"),
    ((None, 2.0), " ▄"),
    ((None,), ""),
    ((), ""),
])
def test_sparkline_scales_between_the_values_shown(values, line):
    assert sparkline(values) == line


@pytest.mark.parametrize("change, text", [(0.1, "+10.0%"), (-0.054, "-5.4%"), (0.0, "+0.0%"), (12.5, "+1,250.0%"), (None, "—")])
def test_change_against_the_period_before(change, text):
    assert format_change(change) == text


@pytest.mark.parametrize("extra, text", [
    (dict(target={"target": 3.3}, vs="baseline", reference=3.0, change_agreed="+10%"), "≥ 3.30% (baseline 3.00% +10%)"),
    (
        dict(target={"target": 3.3, "warn": 2.85}, vs="previous", reference=3.0, change_agreed="+10%"),
        "≥ 3.30% (previous period 3.00% +10%; warn ≥ 2.85%)",
    ),
    (dict(target={"target": 2.992}, vs="Rival Cafe", reference=2.72, change_agreed="+10%"), "≥ 2.99% (Rival Cafe 2.72% +10%)"),
    (dict(target={"target": 3.22}, vs="baseline", reference=3.0, change_agreed="+0.22"), "≥ 3.22% (baseline 3.00% +0.22)"),
    (dict(target={"target": 54.0}, vs="competitors_mean", reference=60.0, better="lower", unit="currency", change_agreed="-10%"),
     "≤ 54.00 RUB (competitors' mean 60.00 RUB -10%)"),
    (dict(target={"min": 2.7, "max": 3.3}, vs="baseline", reference=3.0), "2.70% – 3.30% (vs baseline 3.00%)"),
    (dict(target=None, vs="best_competitor", reference=None), "no best competitor value"),
    (dict(target={"target": 3.0, "warn": 1.5}), "≥ 3.00% (warn ≥ 1.50%)"),
])
def test_relative_target_says_what_it_was_measured_against(extra, text):
    assert format_kpi_target(kpi("er", "ER", 3.0, **extra), "RUB") == text


def unfinished_card(**extra) -> Scorecard:
    kpis = (
        kpi("er", "ER by followers", 3.4, target={"target": 3.3, "warn": 2.85}, gap=0.1, vs="baseline", reference=3.0, change_agreed="+10%", previous=3.1,
            change=0.0968, history=(2.8, 2.9, None, 3.1, 3.4), competitors=(("Rival Cafe", 2.72), ("Bean Bar", None))),
        kpi("leads", "Leads", 1200, "count", "warn", target={"target": 2600, "warn": 2400}, gap=-120, projected=2480, change=-0.05,
            history=(1300, 1263, 1200)),
        kpi("cpl", "Cost per lead", 600, "currency", "waived", target={"target": 450}, gap=150,
            reason="waived until 2026-11-30: rebrand: ads paused", history=(600, 600)),
        kpi("reach", "Reach", None, "count", "no_data", reason="reach is not in the data", note="waiver until 2026-10-31 expired: rebrand"),
    )
    fields = dict(
        client="Coffee House", playbook="Northwind", currency="RUB", grain="month", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30),
        days=30, days_with_data=15, complete=False, kpis=kpis, score=72.4, days_elapsed=15,
        goals=(GoalResult("sales", "Sales", ("er", "leads", "cpl", "reach"), "warn", score=75.0, weight=2.0),),
    )
    return Scorecard(**{**fields, **extra})


def test_scorecard_over_time_reads_at_100_columns():
    assert rendered(render_table, [unfinished_card()]) == """\
Coffee House · 2026-11 · ! warn · Score 72/100
Northwind · 2026-11-01 – 2026-11-30
⚠ the period is not over (15 of 30 days): checked on its pace
Sales  ! warn  score 75 (weight 2)
┏━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┓
┃ KPI         ┃         Value ┃ Target      ┃ Status    ┃       Trend ┃ Competitors ┃ Gap / note   ┃
┡━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━┩
│ ER by       │         3.40% │ ≥ 3.30%     │ ✔ pass    │ ▁▂ ▅█ +9.7% │ Rival Cafe  │ +0.10 pp     │
│ followers   │               │ (baseline   │           │             │ 2.72% ·     │              │
│             │               │ 3.00% +10%; │           │             │ Bean Bar —  │              │
│             │               │ warn ≥      │           │             │             │              │
│             │               │ 2.85%)      │           │             │             │              │
│ Leads       │ 1,200 → 2,480 │ ≥ 2,600     │ ! warn    │   █▅▁ -5.0% │             │ -120;        │
│             │               │ (warn ≥     │           │             │             │ projected    │
│             │               │ 2,400)      │           │             │             │              │
│ Cost per    │    600.00 RUB │ ≥ 450.00    │ ~ waived  │        ▄▄ — │             │ waived until │
│ lead        │               │ RUB         │           │             │             │ 2026-11-30:  │
│             │               │             │           │             │             │ rebrand: ads │
│             │               │             │           │             │             │ paused       │
│ Reach       │             — │             │ ? no data │           — │             │ reach is not │
│             │               │             │           │             │             │ in the data; │
│             │               │             │           │             │             │ waiver until │
│             │               │             │           │             │             │ 2026-10-31   │
│             │               │             │           │             │             │ expired:     │
│             │               │             │           │             │             │ rebrand      │
└─────────────┴───────────────┴─────────────┴───────────┴─────────────┴─────────────┴──────────────┘
Summary: 1 pass · 1 warn · 0 fail · 1 no data · 0 info · 1 waived
"""


def test_without_history_or_competitors_the_table_keeps_its_columns():
    plain = unfinished_card(
        kpis=(kpi("er", "ER", 3.4, target={"target": 3.0}, gap=0.4),), goals=(GoalResult("g", "G", ("er",), "pass"),),
        complete=True, days_with_data=30, days_elapsed=None, score=None,
    )
    text = rendered(render_table, [plain])
    assert "┃ KPI ┃ Value ┃ Target  ┃ Status ┃ Gap / note ┃" in text
    assert "Score" not in text and "not over" not in text


def test_overview_has_each_clients_score_and_waived_count():
    cards = [unfinished_card(), unfinished_card(client="Bean Bar", score=None)]
    text = rendered(lambda cards, console: render_table(cards, console, False), cards)
    assert text == """\
All clients
┏━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━┳━━━━━━┳━━━━━━┳━━━━━━━━━┳━━━━━━━━┓
┃ Client       ┃ Period  ┃ Status ┃ Score ┃ Pass ┃ Warn ┃ Fail ┃ No data ┃ Waived ┃
┡━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━╇━━━━━━╇━━━━━━╇━━━━━━━━━╇━━━━━━━━┩
│ Coffee House │ 2026-11 │ ! warn │    72 │    1 │    1 │    0 │       1 │      1 │
│ Bean Bar     │ 2026-11 │ ! warn │     — │    1 │    1 │    0 │       1 │      1 │
└──────────────┴─────────┴────────┴───────┴──────┴──────┴──────┴─────────┴────────┘
"""


def month(number: int, statuses: tuple[str, str], score: float | None, **extra) -> Scorecard:
    start = dt.date(2026, number, 1)
    kpis = (
        kpi("er", "ER by followers", 3 + number / 10, status=statuses[0]),
        kpi("cpl", "Cost per lead", None if statuses[1] == "no_data" else 400.0 + number, "currency", statuses[1]),
    )
    fields = dict(
        client="Coffee House", playbook="Northwind", currency="RUB", grain="month", start=start, end=start.replace(day=28), days=28,
        days_with_data=28, complete=True, goals=(GoalResult("g", "G", ("er", "cpl"), "pass"),), kpis=kpis, score=score,
    )
    return Scorecard(**{**fields, **extra})


def test_periods_table_shows_each_kpi_by_period_then_the_score():
    cards = [
        month(10, ("pass", "waived"), 100.0),
        month(9, ("warn", "no_data"), 50.0),
        month(11, ("fail", "info"), 0.0, complete=False, days_with_data=14, days_elapsed=14),
    ]
    assert rendered(render_periods, cards) == """\
Coffee House · Northwind · by month · RUB
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━┓
┃ KPI             ┃ 2026-09 ┃  2026-10 ┃ 2026-11* ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━┩
│ ER by followers │ 3.90% ! │  4.00% ✔ │  4.10% ✘ │
│ Cost per lead   │     — ? │ 410.00 ~ │ 411.00 · │
├─────────────────┼─────────┼──────────┼──────────┤
│ Score           │      50 │      100 │        0 │
└─────────────────┴─────────┴──────────┴──────────┘
* 2026-11 is not over (14 of 28 days): values so far, statuses on its pace
✔ pass  ! warn  ✘ fail  ? no data  · info  ~ waived
"""


def test_periods_that_do_not_fit_go_on_to_the_next_table_and_clients_stay_apart():
    cards = [month(number, ("pass", "pass"), 100.0) for number in range(1, 13)]
    cards.append(month(1, ("pass", "pass"), None, client="Bean Bar"))
    text = rendered(render_periods, cards, width=60)
    assert text.count("Coffee House · Northwind · by month · RUB") == 1
    assert [line.count("2026-") for line in text.splitlines() if line.startswith("┃ KPI")] == [3, 3, 3, 3, 1]
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "Bean Bar · Northwind · by month · RUB" in text and "│ Score           │        — │" in text


def relative_group() -> ScoredGroup:
    """Two clients over two months: a plan, a relative target, competitors, a waiver and an unfinished month."""
    playbook = PlaybookDef(
        name="P", path="p.yaml", metrics={}, targets={},
        goals={"g": GoalDef("g", ("er", "leads"), {"en": "Goal"})},
        kpis={"er": KpiDef("er", parse_formula("1"), {"en": "ER"}, unit="%"), "leads": KpiDef("leads", parse_formula("1"), {"en": "Leads"}, unit="count")},
    )
    october, november = (PlanPoint(dt.date(2026, month, 1), dt.date(2026, month, days), value) for month, days, value in ((10, 31, 450), (11, 30, 520)))
    relative = {"er": TargetDef(vs="baseline", change=Change(10, True)), "leads": TargetDef(plan=(october, november))}
    clients = {
        "Acme": ClientDef("Acme", "a.yaml", playbook, ("g",), "month", (), relative, "RUB"),
        "Bolt": ClientDef("Bolt", "b.yaml", playbook, ("g",), "month", (), {}, None),
    }
    competitor = pl.List(pl.Struct({"name": pl.String, "value": pl.Float64}))
    frame = pl.DataFrame(
        {
            "client": ["Acme", "Acme", "Bolt"], "order": [0, 0, 1],
            "period_start": [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 11, 1)],
            "period_end": [dt.date(2026, 10, 31), dt.date(2026, 11, 30), dt.date(2026, 11, 30)],
            "days": [31, 30, 30], "days_with_data": [31, 15, 15], "complete": [True, False, False],
            score_column("g"): [100.0, 75.0, None], score_column(): [100.0, 75.0, None],
            value_column("er"): [3.4, 3.1, 2.0], status_column("er"): ["pass", "fail", "info"],
            threshold_column("er", "target"): [3.3, 3.3, None], threshold_column("er", "warn"): [None, 3.2, None],
            gap_column("er"): [0.1, -0.2, None], reason_column_of_kpi("er"): [None, None, None],
            previous_column("er"): [None, 3.4, 2.5], change_column("er"): [None, -0.088235294, -0.2],
            projected_column("er"): [None, 3.1, 2.0], reference_column("er"): [3.0, 3.0, None],
            competitors_column("er"): [[{"name": 'Rival "Cafe"', "value": 2.72}, {"name": "Bean Bar", "value": 3.1}], [], None],
            note_column("er"): [None, None, None],
            value_column("leads"): [500.0, 300.0, None], status_column("leads"): ["pass", "waived", "no_data"],
            threshold_column("leads", "target"): [450.0, 520.0, None], gap_column("leads"): [50.0, -220.0, None],
            reason_column_of_kpi("leads"): [None, "waived until 2026-11-30: rebrand", "no leads data"],
            previous_column("leads"): [None, 500.0, None], change_column("leads"): [None, -0.4, None],
            projected_column("leads"): [None, 600.0, None], reference_column("leads"): [None, None, None],
            competitors_column("leads"): [None, None, None],
            note_column("leads"): [None, None, "waiver until 2026-10-31 expired: rebrand"],
        },
        schema_overrides={
            competitors_column("er"): competitor, competitors_column("leads"): competitor, note_column("er"): pl.String,
            reason_column_of_kpi("er"): pl.String, reference_column("leads"): pl.Float64, threshold_column("er", "warn"): pl.Float64,
        },
    )
    return ScoredGroup(frame, playbook, ("g",), ("er", "leads"), clients)


def json_report(*groups: ScoredGroup) -> dict:
    stream = io.StringIO()
    render_json(Results(groups), make_console(stream, to_file=True))
    report = json.loads(stream.getvalue())
    validator("scorecard").validate(report)
    return report


def test_json_over_time_is_valid_and_reads_the_rows_thresholds():
    october, november, bolt = json_report(relative_group())["scorecards"]
    assert october["score"] == 100 and october["goals"] == [{"id": "g", "status": "pass", "score": 100}]
    assert october["kpis"][0] == {
        "id": "er", "value": 3.4, "status": "pass", "target": {"target": 3.3}, "gap": 0.1, "reason": None, "previous": None,
        "change": None, "vs": "baseline", "reference": 3.0, "competitors": {'Rival "Cafe"': 2.72, "Bean Bar": 3.1},
        "note": None,
    }
    assert november["kpis"][0]["target"] == {"target": 3.3, "warn": 3.2}
    # No competitor gives the KPI in November: no key.
    assert (november["kpis"][0]["change"], november["kpis"][0]["projected"], "competitors" in november["kpis"][0]) == (-0.088235, 3.1, False)
    assert november["kpis"][1] == {
        "id": "leads", "value": 300.0, "status": "waived", "target": {"target": 520.0}, "gap": -220.0,
        "reason": "waived until 2026-11-30: rebrand", "previous": 500.0, "change": -0.4, "projected": 600.0, "vs": None,
        "reference": None, "note": None,
    }
    assert november["summary"]["waived"] == 1 and november["status"] == "fail"
    assert bolt["score"] is None and bolt["goals"][0]["score"] is None
    assert bolt["kpis"][0]["target"] is None and bolt["kpis"][0]["vs"] is None
    assert bolt["kpis"][1]["note"] == "waiver until 2026-10-31 expired: rebrand"


def test_json_leaves_out_the_keys_whose_columns_the_check_has_not():
    group = relative_group()
    optional = [column(k) for k in group.kpis for column in (projected_column, reference_column, competitors_column, note_column)]
    group = ScoredGroup(group.frame.drop(optional), group.playbook, group.goals, group.kpis, group.clients)
    for card in json_report(group)["scorecards"]:
        for item in card["kpis"]:
            assert list(item) == ["id", "value", "status", "target", "gap", "reason", "previous", "change"]


def test_json_band_thresholds_and_no_thresholds():
    group = relative_group()
    frame = group.frame.drop(threshold_column("er", "target"), threshold_column("er", "warn")).with_columns(
        pl.Series(threshold_column("er", "min"), [2.5, None, None]), pl.Series(threshold_column("er", "max"), [4.0, 3.5, None])
    )
    cards = json_report(ScoredGroup(frame, group.playbook, group.goals, group.kpis, group.clients))["scorecards"]
    assert [card["kpis"][0]["target"] for card in cards] == [{"min": 2.5, "max": 4.0}, {"max": 3.5}, None]


def test_markdown_scorecards_have_scores_waivers_projections_and_changes():
    from kpi_rules.render.markdown import render_markdown_scorecards

    assert render_markdown_scorecards([unfinished_card()]) == """\
## Coffee House · 2026-11 · ! warn · score 72/100

Northwind · 2026-11-01 – 2026-11-30. The period is not over (15 of 30 days): checked on its pace.

### Sales · ! warn · score 75 (weight 2)

| KPI | value | target | status | change | gap / note |
|---|--:|---|---|--:|---|
| ER by followers | 3.40% | ≥ 3.30% (baseline 3.00% +10%; warn ≥ 2.85%) | ✔ pass | +9.7% | +0.10 pp |
| Leads | 1,200 → 2,480 | ≥ 2,600 (warn ≥ 2,400) | ! warn | -5.0% | -120; projected |
| Cost per lead | 600.00 RUB | ≥ 450.00 RUB | ~ waived | — | waived until 2026-11-30: rebrand: ads paused |
| Reach | — |  | ? no data | — | reach is not in the data; waiver until 2026-10-31 expired: rebrand |
"""


def test_markdown_is_a_registered_format_with_every_scorecard():
    from kpi_rules.render import RENDERERS

    stream = io.StringIO()
    RENDERERS["markdown"](Results((relative_group(),)), make_console(stream, to_file=True), False)
    assert stream.getvalue().count("\n## ") == 2 and stream.getvalue().startswith("## Acme · 2026-10 · ✔ pass · score 100/100")


@pytest.mark.parametrize("target, text", [
    (TargetDef(vs="baseline", change=Change(10, True), warn_change=Change(0, True)), "baseline +10% (warn +0%)"),
    (TargetDef(vs="Rival Cafe", change=Change(-200, False)), "Rival Cafe -200"),
    (TargetDef(plan=(PlanPoint(dt.date(2026, 9, 1), dt.date(2026, 9, 30), 4800), PlanPoint(dt.date(2026, 10, 1), dt.date(2026, 10, 31), 5200)),
               warn_change=Change(-5, True)), "plan 4,800 (2026-09-01) … 5,200 (2026-10-01); warn -5%"),
    (TargetDef(line=(PlanPoint(dt.date(2026, 1, 1), dt.date(2026, 1, 31), 20000), PlanPoint(dt.date(2026, 6, 1), dt.date(2026, 6, 30), 35000)),
               warn=15000), "line 20,000 (2026-01-01) … 35,000 (2026-06-01); warn 15,000"),
    (TargetDef(target=3, warn=1.5), "≥ 3 (warn ≥ 1.5)"),
])
def test_a_target_is_described_as_defined_in_the_reference(target, text):
    from kpi_rules.render.table import describe_target

    assert describe_target(target, "count", "higher", None) == text
