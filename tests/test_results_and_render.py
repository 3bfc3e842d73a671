import datetime as dt
import io

import pytest

from kpi_rules.render import make_console
from kpi_rules.render.json import scorecards_as_dict
from kpi_rules.render.table import format_value, period_label, render_table
from kpi_rules.results import GoalResult, KpiResult, Scorecard, exit_code, worst


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


@pytest.mark.parametrize("fail_on, statuses, code", [
    ("fail", ["warn", "no_data"], 0), ("fail", ["fail"], 1), ("warn", ["warn"], 1), ("never", ["fail"], 0),
])
def test_exit_codes(fail_on, statuses, code):
    assert exit_code([card(*(kpi(s) for s in statuses))], fail_on) == code


def test_summary_counts_every_status():
    assert card(kpi("pass"), kpi("fail"), kpi("info")).summary == {"pass": 1, "warn": 0, "fail": 1, "no_data": 0, "info": 1}


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


def test_json_numbers_are_rounded_and_nan_is_null():
    report = scorecards_as_dict([card(kpi("pass", 1 / 3), kpi("info", float("nan")), kpi("warn", 2.0))])
    assert [k["value"] for k in report["scorecards"][0]["kpis"]] == [0.333333, None, 2]


def test_statuses_are_registered_once_for_severity_renderers_and_the_schema():
    from kpi_rules.render.table import STATUS_STYLE
    from kpi_rules.results import SEVERITY, STATUSES
    from kpi_rules.schema import load_schema

    assert set(SEVERITY) == set(STATUSES) == set(STATUS_STYLE)
    assert tuple(load_schema("scorecard")["$defs"]["status"]["enum"]) == STATUSES
