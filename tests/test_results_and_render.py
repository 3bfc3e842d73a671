import datetime as dt
import io
import json
from dataclasses import replace

import polars as pl
import pytest

from kpi_rules import __version__
from kpi_rules.columns import (
    change_column,
    gap_column,
    previous_column,
    reason_column_of_kpi,
    score_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.formulas import parse_formula
from kpi_rules.model import ClientDef, GoalDef, KpiDef, PlaybookDef, TargetDef
from kpi_rules.render import make_console
from kpi_rules.render.json import render_json
from kpi_rules.render.table import format_value, period_label, render_table
from kpi_rules.results import (
    failing_statuses,
    GoalResult,
    KpiResult,
    Results,
    Scorecard,
    ScoredGroup,
    worst,
)


def kpi(status: str, value: float | None = 1.0, **extra) -> KpiResult:
    fields = dict(id=f"k_{status}", label=status, value=value, unit="%", better="higher", status=status, target=None, gap=None, reason=None)
    return KpiResult(**{**fields, **extra})


def card(*kpis: KpiResult) -> Scorecard:
    return Scorecard(
        client="Acme", playbook="P", currency="RUB", grain="month", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31),
        days=31, days_with_data=31, complete=True, goals=(GoalResult("g", "Goal", tuple(k.id for k in kpis), worst(k.status for k in kpis)),),
        kpis=kpis,
    )


def test_worst_status_order():
    assert worst(["pass", "no_data", "info"]) == "no_data"
    assert worst(["pass", "warn", "fail"]) == "fail"
    assert worst([]) == "info"


def scored(client: str = "Acme", order: int = 0, months: int = 1, **kpis: tuple[list, list]) -> ScoredGroup:
    """A scored frame as evaluate and pipeline make it: KPI id -> (values, statuses), a row per month."""
    playbook = PlaybookDef(
        name="P", path="p.yaml", metrics={}, goals={"g": GoalDef("g", tuple(kpis), {"en": "Goal"})}, targets={},
        kpis={kpi_id: KpiDef(kpi_id, parse_formula("1"), {"en": kpi_id.title()}, unit="%") for kpi_id in kpis},
    )
    starts = [dt.date(2026, 10 - months + 1 + index, 1) for index in range(months)]
    columns = {
        "client": [client] * months, "order": [order] * months, "period_start": starts,
        "period_end": [start.replace(day=28) for start in starts], "days": [28] * months, "days_with_data": [28] * months,
        "complete": [True] * months, score_column("g"): [50.0] * months, score_column(): [50.0] * months,
    }
    numbers = (value_column, gap_column, previous_column, change_column, lambda k: threshold_column(k, "target"))
    for kpi_id, (values, statuses) in kpis.items():
        columns |= {value_column(kpi_id): values, status_column(kpi_id): statuses, threshold_column(kpi_id, "target"): [1.0] * months}
        columns |= {column(kpi_id): [None] * months for column in (gap_column, previous_column, change_column)}
        columns[reason_column_of_kpi(kpi_id)] = [None if v is not None else 'no "leads" data' for v in values]
    frame = pl.DataFrame(columns, schema_overrides={c(k): pl.Float64 for k in kpis for c in numbers})
    targets = {kpi_id: TargetDef(target=1.0) for kpi_id in kpis}
    definition = ClientDef(client, "c.yaml", playbook, ("g",), "month", (), targets, "RUB")
    return ScoredGroup(frame, playbook, ("g",), tuple(kpis), {client: definition})


@pytest.mark.parametrize("fail_on, statuses, code", [
    ("fail", ["warn", "no_data"], 0), ("fail", ["fail"], 1), ("warn", ["warn"], 1), ("never", ["fail"], 0),
])
def test_exit_codes(fail_on, statuses, code):
    kpis = {f"k{index}": ([1.0], [status]) for index, status in enumerate(statuses)}
    assert Results((scored(**kpis),)).exit_code(failing_statuses(fail_on)) == code


@pytest.mark.parametrize("text, statuses", [
    ("fail", ("fail",)), ("warn", ("fail", "warn")), ("fail,no_data", ("fail", "no_data")), (" warn , no_data", ("fail", "warn", "no_data")),
    ("never", ()),
])
def test_fail_on_takes_a_comma_list_of_statuses(text, statuses):
    assert failing_statuses(text) == statuses


def test_fail_on_an_unknown_status_suggests_the_nearest():
    with pytest.raises(ValueError, match='unknown status "nodata" \\(did you mean "no_data"\\?\\)'):
        failing_statuses("fail,nodata")


def test_summary_counts_every_status():
    assert card(kpi("pass"), kpi("fail"), kpi("info")).summary == {"pass": 1, "warn": 0, "fail": 1, "no_data": 0, "info": 1, "waived": 0}


@pytest.mark.parametrize("value, unit, text", [
    (1234567.891, "count", "1,234,568"), (12.5, "count", "12.5"), (3.14159, "%", "3.14%"),
    (1234.5, "currency", "1,234.50 RUB"), (1.5, "x", "1.50×"), (None, "%", "—"), (2.0, "minutes", "2.00 minutes"),
    (1.54, "ratio", "1.54"), (12.0, "per post", "12.00 per post"), (-25.0, "points", "-25.00 points"),
])
def test_values_with_units(value, unit, text):
    assert format_value(value, unit, "RUB") == text


@pytest.mark.parametrize("grain, start, label", [
    ("month", dt.date(2026, 10, 1), "2026-10"), ("week", dt.date(2026, 10, 12), "2026-W42"),
    ("quarter", dt.date(2026, 10, 1), "2026-Q4"), ("year", dt.date(2026, 1, 1), "2026"), ("day", dt.date(2026, 10, 5), "2026-10-05"),
])
def test_period_labels(grain, start, label):
    assert period_label(grain, start) == label


def test_table_reads_without_colour_and_explains_no_data():
    stream = io.StringIO()
    render_table([card(kpi("pass", target={"target": 1.0}, gap=0.0), kpi("no_data", None, reason="leads is 0"))], make_console(stream, to_file=True))
    text = stream.getvalue()
    assert "\x1b[" not in text
    assert "✔ pass" in text and "? no data" in text and "leads is 0" in text and "≥ 1.00%" in text


def json_of(*groups: ScoredGroup) -> dict:
    stream = io.StringIO()
    render_json(Results(groups), make_console(stream, to_file=True))
    return json.loads(stream.getvalue())


def test_json_numbers_are_rounded_and_missing_values_are_null():
    report = json_of(scored(a=([1 / 3], ["pass"]), b=([None], ["no_data"]), c=([2.0], ["warn"])))
    (card,) = report["scorecards"]
    assert [k["value"] for k in card["kpis"]] == [0.333333, None, 2]
    assert card["status"] == "warn" and card["summary"] == {"pass": 1, "warn": 1, "fail": 0, "no_data": 1, "info": 0, "waived": 0}
    assert card["score"] == 50 and card["goals"] == [{"id": "g", "status": "warn", "score": 50}]
    assert card["kpis"][1] == {
        "id": "b", "value": None, "status": "no_data", "target": {"target": 1.0}, "gap": None, "reason": 'no "leads" data',
        "previous": None, "change": None,
    }
    assert report["playbooks"] == {
        "P": {
            "goals": {"g": {"label": "Goal", "kpis": ["a", "b", "c"]}},
            "kpis": {k: {"label": k.title(), "unit": "%", "better": "higher"} for k in "abc"},
        }
    }


def test_json_escapes_names_from_the_data():
    name = 'Café "Du Nord"\\Kraków\n'
    (card,) = json_of(scored(client=name, a=([1.0], ["pass"])))["scorecards"]
    assert card["client"] == name


def test_json_keeps_report_order_across_groups_and_chunks(monkeypatch):
    monkeypatch.setattr("kpi_rules.render.json.ROWS_PER_CHUNK", 2)
    first = scored(client="first", order=0, months=3, a=([1.0, 2.0, 3.0], ["pass"] * 3))
    second = scored(client="second", order=1, months=2, b=([4.0, 5.0], ["fail"] * 2))
    cards = json_of(second, first)["scorecards"]
    assert [(c["client"], c["period"]["start"]) for c in cards] == [
        ("first", "2026-08-01"), ("first", "2026-09-01"), ("first", "2026-10-01"), ("second", "2026-09-01"), ("second", "2026-10-01"),
    ]


def test_no_scorecards_is_an_empty_list():
    assert json_of() == {"kpi_rules_version": __version__, "playbooks": {}, "scorecards": []}


def test_two_playbooks_of_one_name_are_told_apart_by_path():
    first = scored(client="a", order=0, a=([1.0], ["pass"]))
    second = scored(client="b", order=1, a=([1.0], ["pass"]))
    second = replace(second, playbook=replace(second.playbook, path="other/p.yaml"))
    report = json_of(first, second)
    assert list(report["playbooks"]) == ["P (p.yaml)", "P (other/p.yaml)"]
    assert [card["playbook"] for card in report["scorecards"]] == ["P (p.yaml)", "P (other/p.yaml)"]


def test_statuses_are_registered_once_for_severity_renderers_and_the_schema():
    from kpi_rules.render.table import STATUS_STYLE
    from kpi_rules.results import SEVERITY, STATUSES
    from kpi_rules.schema import load_schema

    assert set(SEVERITY) == set(STATUSES) == set(STATUS_STYLE)
    assert tuple(load_schema("scorecard")["$defs"]["status"]["enum"]) == STATUSES


def rendered_table(cards, details=None) -> str:
    stream = io.StringIO()
    render_table(cards, make_console(stream, to_file=True), details)
    return stream.getvalue()


def test_many_scorecards_print_the_overview_unless_details_are_asked_for():
    from kpi_rules.render.table import DETAILS_UP_TO

    many = [card(kpi("pass")) for _ in range(DETAILS_UP_TO + 1)]
    text = rendered_table(many)
    assert "All clients" in text and "Summary:" not in text
    assert text.rstrip().endswith(f"{DETAILS_UP_TO + 1} scorecards: only the overview. --details prints each one; --format json has everything.")
    assert rendered_table(many, details=True).count("Summary:") == DETAILS_UP_TO + 1


def test_summary_asked_for_is_only_the_overview():
    text = rendered_table([card(kpi("fail"))], details=False)
    assert "All clients" in text and "Summary:" not in text and "only the overview" not in text
