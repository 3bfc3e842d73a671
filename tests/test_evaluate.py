import datetime as dt

import polars as pl

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
    base = {"period_start": [dt.date(2026, 10, 1)] * size, "days": [31] * size, "days_with_data": [31] * size}
    return pl.DataFrame({**base, **columns}).lazy()


def test_kpis_using_kpis_and_per_client_targets():
    book = playbook(cpl=("spend / leads", "lower"), cpl_with_vat=("cpl * 1.2", "lower"))
    clients = [client("a", book, cpl=TargetDef(target=60, warn=80)), client("b", book, cpl=TargetDef(target=40))]
    result = evaluate(periods(client=["a", "b"], spend=[3000.0, 3000.0], leads=[50.0, 50.0], clicks=[1.0, 1.0]), book, clients, list(book.kpis)).collect()
    assert result[value_column("cpl_with_vat")].to_list() == [72.0, 72.0]
    assert result[status_column("cpl")].to_list() == ["pass", "fail"]
    assert result[gap_column("cpl")].to_list() == [0.0, 20.0]
    assert result[status_column("cpl_with_vat")].to_list() == ["info", "info"]


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
