import json
import math
import os
import re
import subprocess
import sys

import polars as pl
import pytest

from kpi_rules.expressions import build_expression
from kpi_rules.formulas import (
    MAX_FORMULA_LENGTH,
    MAX_FORMULA_PARTS,
    MAX_NESTING_DEPTH,
    PERIOD_FUNCTIONS,
    FormulaError,
    parse_formula,
)

FRAME = pl.DataFrame({"spend": [3000.0, 3000.0, None, 10.0], "leads": [50.0, 0.0, 5.0, None]})


def evaluate(formula: str, frame: pl.DataFrame = FRAME) -> list:
    parsed = parse_formula(formula)
    expression = build_expression(parsed, {name: pl.col(name) for name in parsed.names}).expression
    return frame.select(expression).to_series().to_list()


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


def test_a_null_anywhere_in_a_condition_makes_it_null():
    # polars' own | says null or true = true, and & says null and false = false: both would hide the null.
    assert evaluate("1 if leads > 1 or spend > 0 else 0") == [1.0, 1.0, None, None]
    assert evaluate("1 if leads > 100 and spend > 0 else 0") == [0.0, 0.0, None, None]
    assert evaluate("1 if not (spend > 0) else 0") == [0.0, 0.0, None, 0.0]
    # The example: with shares 0, comments / shares is unknown, so the whole condition is.
    frame = pl.DataFrame({"likes": [10.0], "comments": [5.0], "shares": [0.0]})
    assert evaluate("likes if likes > 0 or comments / shares > 1 else 0", frame) == [None]


def test_functions():
    assert evaluate("max(spend, leads)") == [3000.0, 3000.0, None, None]
    assert evaluate("min(spend, leads)") == [50.0, 0.0, None, None]
    assert evaluate("coalesce(leads, 0)") == [50.0, 0.0, 5.0, 0.0]
    assert evaluate("round(spend / 7, 2)") == [428.57, 428.57, None, 1.43]
    assert evaluate("abs(-spend)") == [3000.0, 3000.0, None, 10.0]


def test_round_goes_half_away_from_zero_on_the_number_as_written():
    frame = pl.DataFrame({"x": [1039.45, 2.675, 2.665, -2.675, 0.5, 1.5, 2.5, -0.5, -0.4, 1e300, 123456789.125, None]})
    assert evaluate("round(x, 1)", frame)[:2] == [1039.5, 2.7]
    assert evaluate("round(x, 2)", frame)[1:4] == [2.68, 2.67, -2.68]
    rounded = evaluate("round(x)", frame)
    assert rounded[4:] == [1.0, 2.0, 3.0, -1.0, 0.0, 1e300, 123456789.0, None]
    assert evaluate("round(x, 2)", frame)[10] == 123456789.13


def test_constants_only_and_power():
    assert evaluate("3000 / 50") == [60.0]
    assert evaluate("leads ** 2") == [2500.0, 0.0, 25.0, None]


def test_nothing_non_finite_comes_out():
    frame = pl.DataFrame({"x": [2.0, 1e200, math.inf, -math.inf, math.nan, -4.0, 0.0]})
    assert evaluate("x ** 1100", frame) == [None, None, None, None, None, None, 0.0]
    assert evaluate("x * 1e308", frame)[:2] == [None, None]
    assert evaluate("x ** 0.5", frame)[5] is None  # the root of a negative number
    assert evaluate("x * 2", frame)[2:5] == [None, None, None]  # an infinite or NaN input cell
    # A non-finite value is unknown at once, not only at the end: it cannot turn into a number again.
    assert evaluate("coalesce(x * 1e308, 7)", frame)[:2] == [7.0, 7.0]
    assert evaluate("min(x * 1e308, 7)", frame)[:2] == [None, None]
    assert evaluate("1 / (x * 1e308)", frame)[1] is None
    assert evaluate("1 if x * 1e308 > 0 else 0", frame)[1] is None
    assert evaluate("(1 / x) * 0 + 5", frame)[6] is None


def test_nan_becomes_null():
    frame = pl.DataFrame({"x": [-4.0, 4.0]})
    parsed = parse_formula("x ** 0.5")
    expression = build_expression(parsed, {"x": pl.col("x")}).expression
    assert frame.select(expression).to_series().to_list() == [None, 2.0]


@pytest.mark.parametrize(
    "formula, message",
    [
        ("spend.real", "attribute access"),
        ("spend[0]", "indexing"),
        ("open('x')", 'unknown function "open"'),
        ("__import__('os')", 'unknown function "__import__"'),
        ("spend ** leads", "plain number as exponent"),
        ("'text'", "text is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[x for x in spend]", "ListComp is not allowed"),
        ("min(spend)", "takes 2 or more"),
        ("round(spend, 1.5)", "whole number from 0 to 15"),
        ("round(spend, -1)", "whole number from 0 to 15"),
        ("spend > 1", "gives true/false"),
        ("spend // 2", "FloorDiv is not allowed"),
        ("maxx(spend, leads)", 'did you mean "max"'),
        # A condition is not a number, and a number is not a condition.
        ("spend if spend else 0", "`spend` is a number, not a condition: compare it, e.g. `spend > 0`"),
        ("(spend and leads) + 1", "`spend` is a number, not a condition"),
        ("(not spend) + 1", "`spend` is a number, not a condition"),
        ("(spend > 1) * 10", "`spend > 1` is a condition (true/false), not a number"),
        ("max(spend > 1, 2)", "is a condition (true/false), not a number"),
        ("1 if (spend > 1) > 0 else 0", "is a condition (true/false), not a number"),
        ("True + spend", "True is not a number"),
        ("spend * False", "False is not a number"),
    ],
)
def test_rejected_formulas(formula, message):
    with pytest.raises(FormulaError, match=re.escape(message)) as error:
        parse_formula(formula)
    assert error.value.code in ("KR202", "KR203", "KR209")


@pytest.mark.parametrize(
    "formula, column, code",
    [
        ("previous(followers, 0)", 20, "KR209"),
        ("previous(followers, 37)", 20, "KR209"),
        ("previous(x, 1.5)", 12, "KR203"),
        ("previous(x, n)", 12, "KR203"),
        ("previous(x, -1)", 12, "KR203"),
        ("x / previous(x, 2.0)", 16, "KR203"),
    ],
)
def test_previous_looks_back_a_whole_number_of_periods_known_before_it_runs(formula, column, code):
    with pytest.raises(FormulaError) as error:
        parse_formula(formula)
    assert error.value.message == "previous()'s n (how many periods back) must be a whole number from 1 to 36"
    assert (error.value.column, error.value.code) == (column, code)


@pytest.mark.parametrize(
    "formula, message",
    [
        ("previous(x, 1, 2)", "previous() takes 1 to 2 argument(s), got 3"),
        ("baseline(x, 2)", "baseline() takes 1 argument(s), got 2"),
        ("per_day()", "per_day() takes 1 argument(s), got 0"),
        ("per_mnth(x)", 'did you mean "per_month"'),
    ],
)
def test_period_functions_take_their_arguments(formula, message):
    with pytest.raises(FormulaError, match=re.escape(message)):
        parse_formula(formula)


@pytest.mark.parametrize("formula", ["previous(x)", "previous(x, 36)", "baseline(x)", "per_day(x)", "per_week(x)", "per_month(x)"])
def test_period_functions_are_refused_in_a_formula_evaluated_per_row(formula):
    parsed = parse_formula(formula)
    assert parsed.functions <= PERIOD_FUNCTIONS
    with pytest.raises(FormulaError, match="is a fact of the period: it cannot be used in a formula evaluated per row"):
        build_expression(parsed, {"x": pl.col("x")})


@pytest.mark.parametrize(
    "formula, character",
    [("ｌｉｋｅｓ", "ｌ (U+FF4C)"), ("ℓikes / 2", "ℓ (U+2113)"), ("likеs", "е (U+0435)"), ("ｍａｘ(likes, 1)", "ｍ (U+FF4D)")],
)
def test_a_look_alike_name_is_not_the_metric(formula, character):
    # Python reads ｌｉｋｅｓ and ℓikes as likes (NFKC): the formula would silently use the metric.
    with pytest.raises(FormulaError) as error:
        parse_formula(formula)
    letter, code = character.split(" ")
    assert error.value.code == "KR201" and f'character "{letter}" {code}' in error.value.message


@pytest.mark.parametrize(
    "formula, shown",
    [
        ("10.0 ** 400", "`10.0 ** 400`"),
        ("10 ** 400", "`10 ** 400`"),
        ("10 ** 100000000", "`10 ** 100000000`"),  # in integers, this never ends
        ("1" + "0" * 399, "`1000000000000000000000000000000000000...`"),
        ("1e999", "`1e999`"),
        ("spend * 1e999", "`1e999`"),
        ("(-8) ** 0.5", "`(-8) ** 0.5`"),
        ("spend + 1 / 0", "`1 / 0`"),
        ("spend * (1e308 * 10)", "`1e308 * 10`"),
        ("round(spend, 16)", "round()'s digits"),
    ],
)
def test_numbers_out_of_range_are_refused_at_compile(formula, shown):
    with pytest.raises(FormulaError) as error:
        parse_formula(formula)
    assert error.value.code == "KR209" and shown in error.value.message


@pytest.mark.parametrize(
    "formula, message",
    [
        (" + ".join(["likes"] * 350), "the formula is 2,797 characters long, the limit is 1,000"),
        ("likes + " * 124 + "likes", "the formula nests more than 32 levels deep"),
        ("-" * 500 + "likes", "the formula nests more than 32 levels deep"),
        ("a if " + " and ".join(["a > 0"] * 70) + " else 0", "has 214 parts (names, numbers, operations, calls), the limit is 200"),
        ("(" * 300 + "likes" + ")" * 300, "too many nested parentheses"),
        (" ".join(f"{i} if likes == {i} else" for i in range(1000)) + " -1", "the limit is 1,000"),
    ],
)
def test_formulas_over_a_limit_are_refused_with_advice(formula, message):
    with pytest.raises(FormulaError) as error:
        parse_formula(formula)
    assert error.value.code == "KR208" and message in error.value.message
    if "parentheses" not in message:
        assert "split it into KPIs that use each other" in error.value.message


def test_the_limits_leave_room_for_real_formulas():
    assert (MAX_FORMULA_LENGTH, MAX_NESTING_DEPTH, MAX_FORMULA_PARTS) == (1_000, 32, 200)
    parse_formula(" + ".join([f"metric_{i}" for i in range(32)]))  # a sum of 32 metrics
    parse_formula("(" + " + ".join(f"likes_{i}" for i in range(20)) + ") / (" + " + ".join(f"posts_{i}" for i in range(20)) + ")")


# Each formula below, before the limits and the single-reference building, took from 14 s to forever, or
# crashed (RecursionError): built and run in a child process with a time limit, so that a regression fails
# the test instead of hanging the suite.
def nested(template: str, levels: int, inner: str = "a") -> str:
    for _ in range(levels):
        inner = template.format(inner)
    return inner


AT_THE_LIMITS = {
    "nested max": nested("max({}, b)", MAX_NESTING_DEPTH - 1),
    "nested division": nested("a / ({})", MAX_NESTING_DEPTH - 1),
    "nested round": nested("round({}, 2)", MAX_NESTING_DEPTH - 1),
    "nested if": nested("(a if {} > b else b)", MAX_NESTING_DEPTH // 2 - 1),
    "nested chained comparison": nested("(1 if 0 < {} < 2 else 0)", MAX_NESTING_DEPTH // 2 - 1),
    "nested coalesce and min": nested("min(coalesce({}, 1), b)", MAX_NESTING_DEPTH // 2 - 1),
    "nested previous": nested("previous({} / b)", MAX_NESTING_DEPTH // 2 - 1),
    "nested look-back of 36": nested("previous({} / b, 36)", MAX_NESTING_DEPTH // 2 - 1),
    "nested baseline": nested("baseline({} / b)", MAX_NESTING_DEPTH // 2 - 1),
    "nested per_month": nested("per_month({} / b)", MAX_NESTING_DEPTH // 2 - 1),
    "comparison chain": "1 if " + " < ".join(["a", "b"] * 49) + " else 0",
    "and terms": "1 if " + " and ".join(["a > b"] * 49) + " else 0",
    "if chain": nested("(a if a > 1 else {})", MAX_NESTING_DEPTH - 2, "b"),
    "sum": " + ".join(["a"] * MAX_NESTING_DEPTH),
    "unary minus": "-" * (MAX_NESTING_DEPTH - 1) + "a",
}
BUILD_AND_RUN = """
import json, sys, time
import datetime as dt
import polars as pl
from kpi_rules.evaluate import evaluate
from kpi_rules.formulas import parse_formula
from kpi_rules.model import KpiDef, MetricDef, PlaybookDef

frame = pl.DataFrame({
    "client": ["x"] * 4, "period_start": [dt.date(2026, m, 1) for m in (1, 2, 3, 4)],
    "previous_start": [dt.date(2026, m, 1) for m in (1, 1, 2, 3)], "days": [31] * 4, "days_with_data": [31] * 4,
    "days_elapsed": [31] * 4, "baseline_start": [dt.date(2026, 1, 1)] * 4, "baseline_end": [dt.date(2026, 2, 28)] * 4,
    "a": [1.0, 0.0, None, 2.0], "b": [2.0, 1.0, 3.0, 0.0],
}).lazy()
metrics = {name: MetricDef(name, "sum") for name in ("a", "b")}
for name, formula in json.loads(sys.argv[1]).items():
    print(name, flush=True)
    started = time.perf_counter()
    book = PlaybookDef("t", "t.yaml", metrics, {"k": KpiDef("k", parse_formula(formula))}, {}, {})
    evaluate(frame, book, ["k"]).collect()  # the value and its no-data reason
    print(name, round(time.perf_counter() - started, 3), flush=True)
"""


def run_bounded(code: str, *args: str, seconds: float = 60, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    try:
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=seconds, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"took over {seconds} s; last output: {error.stdout!r}")


def test_formulas_at_the_limits_build_and_run_in_well_under_a_second():
    for formula in AT_THE_LIMITS.values():
        parse_formula(formula)  # within the limits: accepted
    run = run_bounded(BUILD_AND_RUN, json.dumps(AT_THE_LIMITS))
    assert run.returncode == 0, run.stderr
    seconds = {name: float(line.rsplit(" ", 1)[1]) for name in AT_THE_LIMITS for line in run.stdout.splitlines() if line.startswith(name + " ")}
    assert seconds.keys() == AT_THE_LIMITS.keys() and max(seconds.values()) < 2.0, seconds


# Through the commands: validate refuses at the formula's line whatever would crash or hang check.
PLAYBOOK = """\
kpi-rules: 1
name: t
metrics: {likes: {agg: sum}, comments: {agg: sum}, shares: {agg: sum}}
kpis:
  k:
    formula: FORMULA
goals:
  g: {kpis: [k]}
"""
CLIENT = "kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [g]\nperiod: month\ndata: data.csv\n"
CSV = "date,likes,comments,shares\n2026-10-01,10,5,0\n"


@pytest.fixture
def agency(tmp_path):
    def make(formula: str):
        (tmp_path / "playbook.yaml").write_text(PLAYBOOK.replace("FORMULA", json.dumps(formula, ensure_ascii=False)), encoding="utf-8")
        (tmp_path / "client.yaml").write_text(CLIENT)
        (tmp_path / "data.csv").write_text(CSV)
        return tmp_path

    return make


@pytest.mark.parametrize(
    "formula, code",
    [
        ("10 ** 100000000", "KR209"),  # before: validate said valid, check never ended
        ("max(" * 40 + "likes" + ", 1)" * 40, "KR208"),
        (" + ".join(["likes"] * 350), "KR208"),  # before: RecursionError, exit 3
    ],
)
def test_commands_refuse_what_would_hang_or_crash(agency, formula, code):
    folder = agency(formula)
    for command in (["validate", "playbook.yaml", "client.yaml"], ["check", "client.yaml", "--format", "json"]):
        run = run_bounded("from kpi_rules.cli import main; main()", *command, seconds=30, cwd=folder)
        assert run.returncode == 2 and f"playbook.yaml:6:14: error {code} " in run.stdout + run.stderr, run.stdout + run.stderr


@pytest.mark.parametrize(
    "formula, code",
    [
        ("10.0 ** 400", "KR209"),
        ("(-8) ** 0.5", "KR209"),
        ("1e999", "KR209"),
        ("likes if likes else 0", "KR203"),
        ("(likes and comments) + 1", "KR203"),
        ("(not likes) + 1", "KR203"),
        ("True + likes", "KR203"),
        ("ｌｉｋｅｓ / comments", "KR201"),
        ("likes + " * 40 + "likes", "KR208"),
    ],
)
def test_validate_and_check_refuse_at_the_formula_line(cli, agency, formula, code):
    folder = agency(formula)
    for command in (["validate", folder / "playbook.yaml", folder / "client.yaml"], ["check", folder / "client.yaml"]):
        result = cli(*command)
        assert result.exit_code == 2 and f"playbook.yaml:6:14: error {code} " in result.output, result.output


@pytest.mark.parametrize(
    "formula, value, reason",
    [
        ("likes ** 1000", None, "the value is not finite"),
        ("likes * 1e308 * 10", None, "the value is not finite"),
        ("likes if likes > 0 or comments / shares > 1 else 0", None, "shares is 0: the ratio is undefined"),
        ("round(1039.45, 1) + likes * 0", 1039.5, None),
    ],
)
def test_check_gives_no_data_never_inf(cli, agency, formula, value, reason):
    folder = agency(formula)
    result = cli("check", folder / "client.yaml", "--format", "json")
    (kpi,) = json.loads(result.output)["scorecards"][0]["kpis"]
    assert result.exit_code == 0 and kpi["value"] == value
    assert (kpi["reason"] or "").startswith(reason or "")

