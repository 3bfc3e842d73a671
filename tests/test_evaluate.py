import datetime as dt

import polars as pl
import pytest

from kpi_rules.columns import (
    gap_column,
    reason_column_of_kpi,
    status_column,
    value_column,
)
from kpi_rules import evaluate as evaluate_stage
from kpi_rules.thresholds import apply_targets
from kpi_rules.formulas import parse_formula
from kpi_rules.model import ClientDef, KpiDef, MetricDef, PlaybookDef, TargetDef
from kpi_rules.results import SEVERITY, status_type


def evaluate(frame: pl.LazyFrame, book: PlaybookDef, clients: list[ClientDef], kpis: list[str]) -> pl.LazyFrame:
    return apply_targets(evaluate_stage.evaluate(frame, book, kpis), book, clients, kpis)


def playbook(**kpis: tuple[str, str]) -> PlaybookDef:
    metrics = {name: MetricDef(name, "sum") for name in ("spend", "leads", "clicks")}
    return PlaybookDef(
        name="t", path="t.yaml", metrics=metrics,
        kpis={kpi: KpiDef(kpi, parse_formula(formula), better=better) for kpi, (formula, better) in kpis.items()},
        goals={}, targets={},
    )


def client(name: str, book: PlaybookDef, **targets: TargetDef) -> ClientDef:
    return ClientDef(name=name, path=f"{name}.yaml", playbook=book, goals=(), grain="month", sources=(), targets=targets)


def periods(**columns) -> pl.LazyFrame:
    size = len(next(iter(columns.values())))
    base = {
        "period_start": [dt.date(2026, 10, 1)] * size, "previous_start": [dt.date(2026, 9, 1)] * size,
        "days": [31] * size, "days_elapsed": [31] * size, "days_with_data": [31] * size,
        "baseline_start": pl.Series([None] * size, dtype=pl.Date), "baseline_end": pl.Series([None] * size, dtype=pl.Date),
    }
    return pl.DataFrame({**base, **columns}).lazy()


def test_kpis_using_kpis_and_per_client_targets():
    book = playbook(cpl=("spend / leads", "lower"), cpl_with_vat=("cpl * 1.2", "lower"))
    clients = [client("a", book, cpl=TargetDef(target=60, warn=80)), client("b", book, cpl=TargetDef(target=40))]
    result = evaluate(periods(client=["a", "b"], spend=[3000.0, 3000.0], leads=[50.0, 50.0], clicks=[1.0, 1.0]), book, clients, list(book.kpis)).collect()
    assert result[value_column("cpl_with_vat")].to_list() == [72.0, 72.0]
    assert result[status_column("cpl")].to_list() == ["pass", "fail"]
    assert result[gap_column("cpl")].to_list() == [0.0, 20.0]
    assert result[status_column("cpl_with_vat")].to_list() == ["info", "info"]


def test_statuses_are_an_enum_worst_first_whose_codes_are_the_ranks():
    book = playbook(cpl=("spend / leads", "lower"))
    targets = {"cpl": TargetDef(target=60, warn=80)}
    result = evaluate(periods(client=["a"] * 4, spend=[3000.0, 3500.0, 5000.0, 1.0], leads=[60.0, 50.0, 50.0, 0.0]), book, [client("a", book, **targets)], ["cpl"]).collect()
    statuses = result[status_column("cpl")]
    assert statuses.dtype == status_type() and statuses.to_list() == ["pass", "warn", "fail", "no_data"]
    # The renderers' ranks: fail 0, warn 1, no_data 2, pass 3 (SEVERITY).
    assert statuses.to_physical().to_list() == [3, 1, 0, 2] == [SEVERITY.index(status) for status in statuses]


def test_no_data_reasons_follow_the_chain():
    book = playbook(cpl=("spend / leads", "lower"), cpl_with_vat=("cpl * 1.2", "lower"), cost=("spend + clicks", "lower"))
    result = evaluate(
        periods(client=["a", "a"], spend=[3000.0, None], leads=[0.0, 5.0], clicks=[1.0, 2.0]),
        book,
        [client("a", book, cpl=TargetDef(target=60))],
        list(book.kpis),
    ).collect()
    assert result[status_column("cpl")].to_list() == ["no_data", "no_data"]
    assert result[reason_column_of_kpi("cpl")].to_list() == ["leads is 0: the ratio is undefined", "no spend data in this period"]
    assert result[reason_column_of_kpi("cpl_with_vat")].to_list() == result[reason_column_of_kpi("cpl")].to_list()
    assert result[reason_column_of_kpi("cost")].to_list() == [None, "no spend data in this period"]


def test_band_and_missing_metric_column():
    book = playbook(ratio=("spend / clicks", "band"))
    result = evaluate(
        periods(client=["a", "a", "a"], spend=[1.0, 5.0, 9.0], clicks=[1.0, 1.0, 1.0]),
        book,
        [client("a", book, ratio=TargetDef(min=2, max=8))],
        ["ratio"],
    ).collect()
    assert result[status_column("ratio")].to_list() == ["fail", "pass", "fail"]
    assert result[gap_column("ratio")].to_list() == [-1.0, 0.0, 1.0]
    missing = evaluate(periods(client=["a"], spend=[1.0]), playbook(rate=("leads / spend", "higher")), [], ["rate"]).collect()
    assert missing[reason_column_of_kpi("rate")].to_list() == ['the data has no "leads" column']


def test_only_the_kpis_asked_for_and_what_they_use_are_evaluated():
    book = playbook(cpl=("spend / leads", "lower"), cpl_with_vat=("cpl * 1.2", "lower"), cpc=("spend / clicks", "lower"))
    result = evaluate(periods(client=["a"], spend=[3000.0], leads=[50.0], clicks=[1.0]), book, [client("a", book)], ["cpl_with_vat"])
    columns = result.collect_schema().names()
    assert value_column("cpl") in columns and value_column("cpl_with_vat") in columns
    assert value_column("cpc") not in columns


def test_clients_sharing_targets_share_one_row_of_thresholds():
    book = playbook(cpl=("spend / leads", "lower"))
    shared = {"cpl": TargetDef(target=60)}
    clients = [ClientDef(name, f"{name}.yaml", book, (), "month", (), shared) for name in ("a", "b")]
    clients.append(client("c", book, cpl=TargetDef(target=40)))
    result = evaluate(periods(client=["a", "b", "c"], spend=[3000.0] * 3, leads=[60.0] * 3), book, clients, ["cpl"]).collect()
    assert result[status_column("cpl")].to_list() == ["pass", "pass", "fail"]


def test_band_gap_is_null_without_a_value():
    book = playbook(ratio=("spend / clicks", "band"))
    result = evaluate(
        periods(client=["a", "a"], spend=[5.0, 5.0], clicks=[1.0, 0.0]), book, [client("a", book, ratio=TargetDef(min=2, max=8))], ["ratio"]
    ).collect()
    assert result[status_column("ratio")].to_list() == ["pass", "no_data"]
    assert result[gap_column("ratio")].to_list() == [0.0, None]


def test_a_value_that_is_not_finite_is_no_data_with_its_reason():
    book = playbook(huge=("spend ** 1100", "higher"), total=("spend + clicks", "higher"))
    result = evaluate(
        periods(client=["a", "a"], spend=[2.0, 3.0], leads=[1.0, 1.0], clicks=[1.0, float("inf")]), book, [client("a", book)], list(book.kpis)
    ).collect()
    assert result[value_column("huge")].to_list() == [None, None]
    assert result[value_column("total")].to_list() == [3.0, None]
    not_finite = "the value is not finite (an overflow, an infinite input or the root of a negative number)"
    assert result[reason_column_of_kpi("huge")].to_list() == [not_finite, not_finite]
    assert result[reason_column_of_kpi("total")].to_list() == [None, not_finite]


def test_nested_divisors_explain_which_is_zero():
    # The divisor clicks / leads holds a divisor of its own: it is computed once, for the value and the reason.
    book = playbook(ratio=("spend / (clicks / leads)", "higher"))
    result = evaluate(
        periods(client=["a"] * 3, spend=[6.0, 6.0, 6.0], clicks=[3.0, 0.0, 3.0], leads=[1.0, 1.0, 0.0]), book, [client("a", book)], ["ratio"]
    ).collect()
    assert result[value_column("ratio")].to_list() == [2.0, None, None]
    assert result[reason_column_of_kpi("ratio")].to_list() == [None, "clicks / leads is 0: the ratio is undefined", "leads is 0: the ratio is undefined"]


def test_a_mean_of_rows_too_large_for_a_float_is_no_data():
    book = PlaybookDef(
        name="t", path="t.yaml", metrics={"spend": MetricDef("spend", "sum")},
        kpis={"avg": KpiDef("avg", parse_formula("spend"), method="mean_of_rows")}, goals={}, targets={},
    )
    result = evaluate(periods(client=["a", "a"], spend=[1.0, 1.0], **{"mean:avg": [2.0, float("inf")]}), book, [client("a", book)], ["avg"]).collect()
    assert result[value_column("avg")].to_list() == [2.0, None]
    assert result[reason_column_of_kpi("avg")].to_list()[1].startswith("the value is not finite")


# Period functions: frames as aggregate leaves them (one row per client and period, sorted by group, client and
# period_start), with the baseline span the pipeline joins in.
def months(year_months: list[tuple[int, int]]) -> dict[str, list[dt.date]]:
    starts = [dt.date(year, month, 1) for year, month in year_months]
    return {"period_start": starts, "previous_start": [(start - dt.timedelta(days=1)).replace(day=1) for start in starts]}


def period_frame(rows: list[dict]) -> pl.LazyFrame:
    schema = {"group": pl.Int32, "baseline_start": pl.Date, "baseline_end": pl.Date, "days_elapsed": pl.Int64}
    frame = pl.DataFrame(rows).with_columns(*[pl.col(name).cast(dtype) for name, dtype in schema.items() if name in rows[0]])
    return frame.with_columns(days=pl.lit(30), days_with_data=pl.lit(30)).lazy()


def values(frame: pl.LazyFrame, **formulas: str) -> pl.DataFrame:
    """The KPIs' values and reasons, evaluated without targets; every metric is summed."""
    metrics = {name: MetricDef(name, "sum") for name in ("x", "followers")}
    book = PlaybookDef("t", "t.yaml", metrics, {kpi: KpiDef(kpi, parse_formula(f)) for kpi, f in formulas.items()}, {}, {})
    return evaluate_stage.evaluate(frame, book, list(formulas)).collect()


def series(client: str, year_months: list[tuple[int, int]], x: list[float | None], group: int = 0, **constant) -> list[dict]:
    starts = months(year_months)
    return [
        {"group": group, "client": client, "period_start": start, "previous_start": before, "x": value, **constant}
        for start, before, value in zip(starts["period_start"], starts["previous_start"], x)
    ]


def test_previous_looks_back_n_periods_only_over_periods_without_a_gap():
    # April is missing: May and June cannot see past it, July sees May (2 back: June and May are there).
    frame = period_frame(series("a", [(2026, m) for m in (1, 2, 3, 5, 6, 7)], [1.0, 2.0, 3.0, 5.0, 6.0, 7.0]))
    result = values(frame, back_1="previous(x)", back_2="previous(x, 2)")
    assert result[value_column("back_1")].to_list() == [None, 1.0, 2.0, None, 5.0, 6.0]
    assert result[value_column("back_2")].to_list() == [None, None, 1.0, None, None, 5.0]
    assert result[reason_column_of_kpi("back_1")].to_list()[3] == "previous(x) is unknown: no data for the period before"
    assert result[reason_column_of_kpi("back_2")].to_list()[4] == (
        "previous(x, 2) is unknown: no data 2 periods before, or for a period in between"
    )


def test_previous_never_crosses_to_another_client_of_the_same_name():
    # Client "a" of the first file ends in February, a competitor "a" of the second starts in March.
    rows = series("a", [(2026, 1), (2026, 2)], [1.0, 2.0]) + series("a", [(2026, 3), (2026, 4)], [30.0, 40.0], group=1)
    assert values(period_frame(rows), back="previous(x)")[value_column("back")].to_list() == [None, 1.0, None, 30.0]
    without_groups = period_frame([{key: value for key, value in row.items() if key != "group"} for row in rows[:2]])
    assert values(without_groups, back="previous(x)")[value_column("back")].to_list() == [None, 1.0]


def test_growth_compounds():
    # +5 % a period: 5 % each period against the one before, 10.25 % against two periods back (not 10 %).
    frame = period_frame(series("a", [(2026, m) for m in (1, 2, 3, 4)], [10000.0, 10500.0, 11025.0, 11576.25]))
    result = values(frame, growth="(x / previous(x) - 1) * 100", growth_2="(x / previous(x, 2) - 1) * 100")
    assert result[value_column("growth")].to_list()[1:] == pytest.approx([5.0, 5.0, 5.0], rel=1e-12)
    assert result[value_column("growth_2")].to_list()[2:] == pytest.approx([10.25, 10.25], rel=1e-12)
    assert result[value_column("growth")].to_list()[0] is None


def test_baseline_is_the_mean_of_the_baseline_periods():
    span = {"baseline_start": dt.date(2026, 7, 1), "baseline_end": dt.date(2026, 9, 30)}
    five_months = [(2026, m) for m in (6, 7, 8, 9, 10)]
    rows = (
        series("with", five_months, [1000.0, 20.0, 30.0, 40.0, 45.0], **span)  # July to September: (20 + 30 + 40) / 3 = 30
        + series("without", five_months, [1.0] * 5, baseline_start=None, baseline_end=None)
        + series("empty", five_months, [5.0, None, None, None, 5.0], **span)
        + series("with", five_months, [10.0] * 5, group=1, **span)  # a namesake in another client file
    )
    result = values(period_frame(rows), vs_baseline="x / baseline(x) * 100 - 100")
    assert result[value_column("vs_baseline")].to_list()[:5] == pytest.approx([3233.333333333, -33.333333333, 0.0, 33.333333333, 50.0])
    assert result[value_column("vs_baseline")].to_list()[5:15] == [None] * 10
    assert result[value_column("vs_baseline")].to_list()[15:] == [0.0] * 5
    reasons = result[reason_column_of_kpi("vs_baseline")].to_list()
    assert reasons[5] == "no baseline: the client file sets none (baseline:)"
    assert reasons[10] == "baseline(x) is unknown: no data in the baseline period"


def test_rates_per_day_week_and_month_of_the_days_so_far():
    # A 30-day month 15 days in, 150 so far: 10 a day, 70 a week, 304.375 a month of 30.4375 days.
    rows = series("a", [(2026, 9), (2026, 11)], [150.0, 0.0], days_elapsed=15)
    rows[1]["days_elapsed"] = 0
    result = values(period_frame(rows), day="per_day(x)", week="per_week(x)", month="per_month(x)")
    assert [result[value_column(kpi)].to_list()[0] for kpi in ("day", "week", "month")] == [10.0, 70.0, 304.375]
    assert result[value_column("month")].to_list()[1] is None
    assert result[reason_column_of_kpi("month")].to_list()[1] == "days_elapsed is 0: the ratio is undefined"
