import polars as pl
import pytest

from kpi_rules.expressions import FormulaError, build_expression, parse_formula

FRAME = pl.DataFrame({"spend": [3000.0, 3000.0, None, 10.0], "leads": [50.0, 0.0, 5.0, None]})


def evaluate(formula: str) -> list:
    parsed = parse_formula(formula)
    expression = build_expression(parsed, {name: pl.col(name) for name in parsed.names}).expression
    return FRAME.select(expression).to_series().to_list()


def test_division_by_zero_or_null_is_null_never_inf():
    assert evaluate("spend / leads") == [60.0, None, None, None]


def test_names_and_divisors_are_recorded():
    parsed = parse_formula("(spend - leads) / (leads + 1) * 100")
    assert parsed.names == {"spend", "leads"}
    divisors = build_expression(parsed, {name: pl.col(name) for name in parsed.names}).denominators
    assert [d.text for d in divisors] == ["leads + 1"]


def test_conditions_with_null_do_not_fall_through_to_else():
    assert evaluate("spend if leads > 1 else -1") == [3000.0, -1.0, None, None]


def test_chained_comparison_and_boolean_operators():
    assert evaluate("1 if 1 < leads <= 50 and not spend > 5000 else 0") == [1.0, 0.0, None, None]


def test_functions():
    assert evaluate("max(spend, leads)") == [3000.0, 3000.0, None, None]
    assert evaluate("min(spend, leads)") == [50.0, 0.0, None, None]
    assert evaluate("coalesce(leads, 0)") == [50.0, 0.0, 5.0, 0.0]
    assert evaluate("round(spend / 7, 2)") == [428.57, 428.57, None, 1.43]
    assert evaluate("abs(-spend)") == [3000.0, 3000.0, None, 10.0]


def test_constants_only_and_power():
    assert evaluate("3000 / 50") == [60.0]
    assert evaluate("leads ** 2") == [2500.0, 0.0, 25.0, None]


@pytest.mark.parametrize(
    "formula, message",
    [
        ("spend.real", "attribute access"),
        ("spend[0]", "indexing"),
        ("open('x')", 'unknown function "open"'),
        ("__import__('os')", 'unknown function "__import__"'),
        ("spend ** leads", "plain number as exponent"),
        ("'text'", "text is not allowed"),
        ("spend +", "syntax error"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[x for x in spend]", "ListComp is not allowed"),
        ("min(spend)", "takes 2 or more"),
        ("round(spend, 1.5)", "whole number"),
        ("spend > 1", "gives true/false"),
        ("spend // 2", "FloorDiv is not allowed"),
        ("maxx(spend, leads)", 'did you mean "max"'),
    ],
)
def test_rejected_formulas(formula, message):
    with pytest.raises(FormulaError, match=message):
        parse_formula(formula)


def test_nan_becomes_null():
    frame = pl.DataFrame({"x": [-4.0, 4.0]})
    parsed = parse_formula("x ** 0.5")
    expression = build_expression(parsed, {"x": pl.col("x")}).expression
    assert frame.select(expression).to_series().to_list() == [None, 2.0]
