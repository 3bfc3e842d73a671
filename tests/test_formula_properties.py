"""Properties of the formula language, on random formulas and data (hypothesis).

A plain Python evaluator, written here from the documented semantics, is the reference: the polars
expression that build_expression makes must give the same value on every row. The semantics:
- a value is a finite number or null: a division by 0 or by null, an overflow, an infinite or NaN input give null;
- nulls propagate through arithmetic, comparisons, and/or/not and min/max/abs/round; coalesce picks the
  first value that is not null; `a if c else b` is null when c is, and ignores the branch not taken;
- round(x, d) goes half away from zero, a half being recognised up to float noise (2**-50 relatively).
"""

from __future__ import annotations

import ast
import math
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpi_rules.expressions import Periods, build_expression
from kpi_rules.formulas import FormulaError, parse_formula

# Deterministic (the same examples every run: no flaky failures) and quick (a few seconds in all).
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ("a", "b", "c")
NUMBERS = ("0", "1", "2", "0.5", "3", "10", "2.675", "1e300")
VALUES = (None, 0.0, -0.0, 1.0, -1.0, 2.5, 0.1, -7.25, 2.675, 1e300, -1e300, math.inf, -math.inf, math.nan)


@st.composite
def formulas(draw, kind: str = "number", depth: int = 3) -> str:
    """A well-formed formula (``kind`` number) or condition, at most ``depth`` operations deep."""
    if kind == "condition":
        choice = draw(st.sampled_from(["compare", "chain", "and-or", "not"] if depth else ["compare"]))
        sub = max(depth - 1, 0)
        if choice == "compare":
            return f"{draw(formulas('number', sub))} {draw(st.sampled_from(['<', '<=', '>', '>=', '==', '!=']))} {draw(formulas('number', sub))}"
        if choice == "chain":
            first, second, third = (draw(formulas("number", sub)) for _ in range(3))
            return f"{first} < {second} <= {third}"
        if choice == "and-or":
            return f"({draw(formulas('condition', sub))} {draw(st.sampled_from(['and', 'or']))} {draw(formulas('condition', sub))})"
        return f"(not {draw(formulas('condition', sub))})"
    if depth == 0:
        return draw(st.sampled_from(NAMES + NUMBERS))
    sub = depth - 1
    choice = draw(st.sampled_from(["leaf", "arithmetic", "arithmetic", "minus", "if", "abs", "min-max", "round", "coalesce"]))
    match choice:
        case "leaf":
            return draw(st.sampled_from(NAMES + NUMBERS))
        case "arithmetic":
            return f"({draw(formulas('number', sub))} {draw(st.sampled_from('+-*/'))} {draw(formulas('number', sub))})"
        case "minus":
            return f"-{draw(formulas('number', sub))}"
        case "if":
            return f"({draw(formulas('number', sub))} if {draw(formulas('condition', sub))} else {draw(formulas('number', sub))})"
        case "abs":
            return f"abs({draw(formulas('number', sub))})"
        case "min-max":
            arguments = draw(st.lists(formulas("number", sub), min_size=2, max_size=3))
            return f"{draw(st.sampled_from(['min', 'max']))}({', '.join(arguments)})"
        case "round":
            return f"round({draw(formulas('number', sub))}, {draw(st.integers(0, 3))})"
    return f"coalesce({draw(formulas('number', sub))}, {draw(formulas('number', sub))})"


def known(value: float | None) -> float | None:
    """The documented rule: whatever is not a finite number is unknown."""
    return value if value is not None and math.isfinite(value) else None


def reference(node: ast.expr, row: dict[str, float | None]) -> float | None:
    """The formula's value on one row, by the documented semantics, in plain Python; conditions are 1.0 / 0.0."""
    match node:
        case ast.Constant(value=value):
            return known(float(value))
        case ast.Name(id=name):
            return known(row[name])
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            value = reference(operand, row)
            return None if value is None else -value
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            value = reference(operand, row)
            return None if value is None else 1.0 - value
        case ast.BinOp(left=left, op=op, right=right):
            a, b = reference(left, row), reference(right, row)
            if a is None or b is None:
                return None
            if isinstance(op, ast.Div):
                return None if b == 0 else known(a / b)
            return known({ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(op)])
        case ast.BoolOp(op=op, values=values):
            conditions = [reference(value, row) for value in values]
            if None in conditions:
                return None
            return float(all(conditions) if isinstance(op, ast.And) else any(conditions))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            operands = [reference(operand, row) for operand in (left, *comparators)]
            if None in operands:
                return None
            compare = {ast.Lt: float.__lt__, ast.LtE: float.__le__, ast.Gt: float.__gt__, ast.GtE: float.__ge__, ast.Eq: float.__eq__, ast.NotEq: float.__ne__}
            return float(all(compare[type(op)](a, b) for op, a, b in zip(ops, operands, operands[1:])))
        case ast.IfExp(test=test, body=body, orelse=orelse):
            condition = reference(test, row)
            return None if condition is None else reference(body if condition == 1 else orelse, row)
        case ast.Call(func=ast.Name(id=function), args=args):
            values = [reference(argument, row) for argument in args]
            if function == "coalesce":
                return next((value for value in values if value is not None), None)
            if values[0] is None or None in values:
                return None
            if function == "round":
                return round_documented(values[0], int(values[1]) if len(values) > 1 else 0)
            return {"abs": abs, "min": min, "max": max}[function](*values)
    raise AssertionError(f"not in the generated language: {ast.dump(node)}")


def round_documented(x: float, digits: int) -> float:
    scale = 10.0**digits
    y = x * scale
    if not abs(y) < 2**52:
        return x  # no fraction left to round
    return math.copysign(math.floor(abs(y) * (1 + 2**-50) + 0.5), y) / scale


rows = st.lists(st.fixed_dictionaries({name: st.sampled_from(VALUES) | st.floats(-1e6, 1e6) for name in NAMES}), min_size=1, max_size=6)


# One client whose rows are its periods, one after another; c as days_elapsed brings zeros, nulls and infinities.
PERIODS = Periods(previous=lambda value, n: value.shift(n), baseline=lambda value: value.mean(), days_elapsed=pl.col("c"))


def evaluate(formula: str, data: list[dict]) -> list[float | None]:
    parsed = parse_formula(formula)
    frame = pl.DataFrame(data, schema={name: pl.Float64 for name in NAMES})
    built = build_expression(parsed, {name: pl.col(name) for name in parsed.names}, PERIODS)
    return frame.select(built.expression.alias("value")).to_series().to_list()


@SETTINGS
@given(formulas(), rows)
def test_the_columns_agree_with_the_reference_on_every_row(formula, data):
    try:
        parse_formula(formula)
    except FormulaError as error:
        assert error.code == "KR209"  # numbers only, out of range (1e300 * 1e300): refused at compile
        assume(False)
    tree = ast.parse(formula, mode="eval").body
    expected = [reference(tree, row) for row in data]
    values = evaluate(formula, data)
    if len(values) == 1 < len(data):  # numbers only: one value for every row
        values *= len(data)
    # polars divides a column by a number as a product by its inverse: the last digit may differ.
    assert all(v is e is None or None not in (v, e) and math.isclose(v, e, rel_tol=1e-12, abs_tol=1e-300) for v, e in zip(values, expected)), (
        formula, values, expected
    )


# Anything: numbers and conditions mixed up, huge and odd numbers, powers, period functions. Parsed, it runs.
ANYTHING_LEAVES = NAMES + NUMBERS + ("1e308", "1e999", "1" + "0" * 400, "True", "(-8)", "0.0")


@st.composite
def anything(draw, depth: int = 4) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(ANYTHING_LEAVES))
    operand = anything(depth - 1)
    template = draw(
        st.sampled_from(
            ["({} + {})", "({} - {})", "({} * {})", "({} / {})", "({} ** 0.5)", "({} ** 2)", "({} ** 1000)", "-{}", "({} < {})",
             "({} == {} != {})", "({} and {})", "({} or {})", "(not {})", "({} if {} else {})", "abs({})", "min({}, {})",
             "max({}, {}, {})", "round({}, 2)", "round({})", "coalesce({}, {})", "previous({})",
             "previous({}, 2)", "baseline({})", "per_day({})", "per_month({})"]
        )
    )
    return template.format(*(draw(operand) for _ in range(template.count("{}"))))


@SETTINGS
@given(anything(), rows)
def test_every_formula_parse_accepts_builds_and_gives_finite_numbers_or_nulls(formula, data):
    try:
        parse_formula(formula)
    except FormulaError:
        return
    values = evaluate(formula, data)
    assert all(value is None or math.isfinite(value) for value in values), (formula, values)


@SETTINGS
@given(st.decimals(min_value=-10**6, max_value=10**6, places=6, allow_nan=False, allow_infinity=False), st.integers(0, 5))
def test_round_is_half_away_from_zero_on_the_number_as_written(number, digits):
    written = number.normalize()
    assume(len(written.as_tuple().digits) <= 12)  # a number as people write it, not float noise
    expected = float(written.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    frame = pl.DataFrame({"x": [float(written)]})
    parsed = parse_formula(f"round(x, {digits})")
    (value,) = frame.select(build_expression(parsed, {"x": pl.col("x")}).expression).to_series().to_list()
    assert value == expected, (str(written), digits)
