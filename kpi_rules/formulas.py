"""The formula language, statically: a safe subset of Python expressions, parsed and checked once.

``parse_formula`` reports, at compile time, syntax errors, unknown constructs, conditions used
as numbers, names that are not plain ASCII, constants out of range and formulas over a limit
(``FormulaError`` with the diagnostic's code). ``expressions`` builds a parsed formula into a
polars expression.

Semantics, in one place:
- every value is a finite number or null (unknown): ``a / b`` with ``b`` 0, an
  overflow, an infinite input or the root of a negative number give null;
- nulls propagate through arithmetic, comparisons, ``and or not`` and functions
  (``coalesce`` exists to replace them); ``a if c else b`` is null when ``c`` is;
- a condition is a comparison, or ``and or not`` of conditions; never a number;
- period functions (``previous``, ``baseline``, ``per_day``...) need the client's periods: they are
  refused in a formula evaluated per data row, and null where those periods lack data.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass


# Limits, so that no formula can make compile or evaluation slow or crash: at the limits the worst
# formulas build and run in under 0.3 s (tests/test_expressions.py). Refused with KR208.
MAX_FORMULA_LENGTH = 1_000  # characters
MAX_NESTING_DEPTH = 32  # levels of sub-expressions: a + b + c is 3 deep, max(a, b) 2
MAX_FORMULA_PARTS = 200  # names, numbers, operations and calls
MAX_ROUND_DIGITS = 15  # a float has 15-17 significant digits
MAX_PERIODS_BACK = 36  # previous(x, n): three years of months
DAYS_PER_MONTH = 30.4375  # 365.25 / 12

# name -> (min args, max args or None for any, description). Feeds docs and checks.
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "abs": (1, 1, "absolute value"),
    "min": (2, None, "smallest argument (null if any is null)"),
    "max": (2, None, "largest argument (null if any is null)"),
    "round": (
        1,
        2,
        "round(x, digits): digits a whole number from 0 to 15, default 0; halves go away from zero, on the number "
        "as written in decimal: round(2.675, 2) = 2.68, round(1039.45, 1) = 1039.5, round(-0.5) = -1",
    ),
    "coalesce": (2, None, "first argument that is not null, e.g. coalesce(fees, 0)"),
    "previous": (
        1,
        2,
        f"previous(x, n): the value n periods back, n a whole number from 1 to {MAX_PERIODS_BACK}, default 1 (the period "
        "before), e.g. followers / previous(followers, 12) - 1; null unless the data has each of those periods",
    ),
    "baseline": (
        1,
        1,
        "baseline(x): the mean of x over the periods of the client's baseline (the client file's baseline:), "
        "e.g. leads / baseline(leads) - 1; null when the client sets no baseline or its periods have no value",
    ),
    "per_day": (1, 1, "per_day(x): a flow per day of the period so far, x / days_elapsed"),
    "per_week": (1, 1, "per_week(x): a flow per 7 days of the period so far, x / days_elapsed * 7"),
    "per_month": (
        1,
        1,
        f"per_month(x): a flow per month of the period so far, x / days_elapsed * {DAYS_PER_MONTH} "
        "(365.25 / 12, the mean length of a month, so that months of 28 to 31 days compare)",
    ),
}
# Functions of the period (they compare periods or read its days): meaningless in a formula evaluated row by row.
PERIOD_FUNCTIONS = frozenset({"previous", "baseline", "per_day", "per_week", "per_month"})
# per_day, per_week, per_month: a flow's rate per day of the period so far, times these days.
RATE_DAYS = {"per_day": 1, "per_week": 7, "per_month": DAYS_PER_MONTH}

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_SPLIT = "split it into KPIs that use each other (a formula may name another KPI)"


class FormulaError(Exception):
    """A formula that cannot be used; ``column`` is 0-based within the formula, ``code`` the diagnostic's."""

    def __init__(self, message: str, column: int = 0, code: str = "KR203"):
        super().__init__(message)
        self.message = message
        self.column = column
        self.code = code


@dataclass(frozen=True)
class ParsedFormula:
    text: str
    tree: ast.expr
    names: frozenset[str]
    functions: frozenset[str] = frozenset()


def parse_formula(text: str) -> ParsedFormula:
    """Parse and statically check a formula; raise ``FormulaError`` if it is not allowed."""
    text = text.strip()
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(f"the formula is {len(text):,} characters long, the limit is {MAX_FORMULA_LENGTH:,}: {_SPLIT}", 0, "KR208")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        code = "KR208" if "too many nested" in str(error.msg) else "KR202"
        raise FormulaError(f"syntax error: {error.msg}", max((error.offset or 1) - 1, 0), code) from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"the formula nests too deeply (the limit is {MAX_NESTING_DEPTH} levels): {_SPLIT}", 0, "KR208") from None
    except ValueError as error:  # a NUL character
        raise FormulaError(f"syntax error: {error}", 0, "KR202") from None
    _check_ascii_names(text, tree)
    checker = _Checker(text)
    if checker.kind(tree)[0] == "condition":
        raise FormulaError("gives true/false, not a number: use `value if condition else other`")
    if checker.parts > MAX_FORMULA_PARTS:
        raise FormulaError(
            f"the formula has {checker.parts} parts (names, numbers, operations, calls), the limit is {MAX_FORMULA_PARTS}: {_SPLIT}",
            0,
            "KR208",
        )
    return ParsedFormula(text, tree, frozenset(checker.names), frozenset(checker.functions))


def _check_ascii_names(text: str, tree: ast.expr) -> None:
    """Python reads ｌｉｋｅｓ and ℓikes as likes (it normalises names): a look-alike must not pass for a metric."""
    if text.isascii():
        return
    for node in ast.walk(tree):
        written = ast.get_source_segment(text, node) if isinstance(node, ast.Name) else None
        if written and not written.isascii():
            character = next(c for c in written if not c.isascii())
            raise FormulaError(
                f'name "{written}" has the character "{character}" (U+{ord(character):04X}): names are plain ASCII letters, digits and _',
                node.col_offset,
                "KR201",
            )


class _Checker:
    """The static checks: allowed constructs, numbers versus conditions, constants within range."""

    def __init__(self, text: str):
        self.text = text
        self.names: set[str] = set()
        self.functions: set[str] = set()
        self.parts = 0

    def kind(self, node: ast.expr, depth: int = 1) -> tuple[str, float | None]:
        """"number" or "condition", and the value when the node is made of numbers only (checked finite)."""
        self.parts += 1
        if depth > MAX_NESTING_DEPTH:  # checked before going deeper: Python's own recursion limit is not far
            raise FormulaError(f"the formula nests more than {MAX_NESTING_DEPTH} levels deep: {_SPLIT}", node.col_offset, "KR208")
        depth += 1
        match node:
            case ast.Constant(value=bool()):
                raise FormulaError(f"{node.value} is not a number: write a comparison, e.g. likes > 0", node.col_offset)
            case ast.Constant(value=int() | float() as value):
                return "number", self._in_range(node, lambda: float(value))
            case ast.Name(id=name):
                self.names.add(name)
                return "number", None
            case ast.BinOp(op=op) if isinstance(op, _ARITHMETIC):
                if isinstance(op, ast.Pow) and not _is_number(node.right):
                    raise FormulaError("** needs a plain number as exponent", node.col_offset)
                left, right = self.number(node.left, depth), self.number(node.right, depth)
                if left is None or right is None:
                    return "number", None
                return "number", self._in_range(node, lambda: _fold(op, left, right))
            case ast.UnaryOp(op=ast.USub() | ast.UAdd() as op):
                value = self.number(node.operand, depth)
                return "number", (-value if isinstance(op, ast.USub) and value is not None else value)
            case ast.UnaryOp(op=ast.Not()):
                self.condition(node.operand, depth)
                return "condition", None
            case ast.BoolOp(values=values):
                for value in values:
                    self.condition(value, depth)
                return "condition", None
            case ast.Compare(left=left, ops=ops, comparators=comparators) if all(isinstance(op, _COMPARISONS) for op in ops):
                for operand in (left, *comparators):
                    self.number(operand, depth)
                return "condition", None
            case ast.IfExp(test=test, body=body, orelse=orelse):
                self.condition(test, depth)
                self.number(body, depth)
                self.number(orelse, depth)
                return "number", None
            case ast.Call(func=ast.Name(id=function), args=args, keywords=[]):
                _check_call(function, args, node.col_offset)
                self.functions.add(function)
                for argument in args:
                    self.number(argument, depth)
                return "number", None
        raise FormulaError(f"{_construct_name(node)} is not allowed in a formula", getattr(node, "col_offset", 0))

    def number(self, node: ast.expr, depth: int) -> float | None:
        kind, value = self.kind(node, depth)
        if kind == "condition":
            raise FormulaError(
                f"`{_shown(self.text, node)}` is a condition (true/false), not a number: write `1 if condition else 0`", node.col_offset
            )
        return value

    def condition(self, node: ast.expr, depth: int) -> None:
        if self.kind(node, depth)[0] == "number":
            shown = _shown(self.text, node)
            raise FormulaError(f"`{shown}` is a number, not a condition: compare it, e.g. `{shown} > 0`", node.col_offset)

    def _in_range(self, node: ast.expr, compute: Callable[[], float]) -> float:
        try:
            value = compute()
        except (ArithmeticError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise FormulaError(
                f"`{_shown(self.text, node)}` is not a finite real number (too large, a division by zero or the root of a "
                f"negative number): numbers must lie within ±{_LARGEST:.3g}",
                node.col_offset,
                "KR209",
            )
        return value


_LARGEST = 1.7976931348623157e308


def _fold(op: ast.operator, left: float, right: float) -> float:
    """Arithmetic on two constants, in floats: it cannot hang (10 ** 100000000 in integers would) nor turn complex."""
    match op:
        case ast.Add():
            return left + right
        case ast.Sub():
            return left - right
        case ast.Mult():
            return left * right
        case ast.Div():
            return left / right
    return math.pow(left, right)


def _check_call(function: str, args: list[ast.expr], column: int) -> None:
    if function not in FUNCTIONS:
        from kpi_rules.diagnostics import did_you_mean

        raise FormulaError(
            f'unknown function "{function}"{did_you_mean(function, FUNCTIONS)}; available: {", ".join(FUNCTIONS)}', column
        )
    least, most, _ = FUNCTIONS[function]
    if len(args) < least or (most is not None and len(args) > most):
        wanted = f"{least}" if least == most else (f"{least} or more" if most is None else f"{least} to {most}")
        raise FormulaError(f"{function}() takes {wanted} argument(s), got {len(args)}", column)
    if function == "round" and len(args) == 2:
        digits = args[1].value if _is_number(args[1]) else None
        if not isinstance(digits, int) or not 0 <= digits <= MAX_ROUND_DIGITS:
            code = "KR209" if isinstance(digits, int) else "KR203"
            raise FormulaError(f"round()'s digits must be a whole number from 0 to {MAX_ROUND_DIGITS}", column, code)
    if function == "previous" and len(args) == 2:
        periods_back(args[1])


def periods_back(node: ast.expr) -> int:
    """previous()'s n: a whole-number constant, so that how far a formula looks back is known before it runs."""
    back = node.value if _is_number(node) else None
    if not isinstance(back, int) or not 1 <= back <= MAX_PERIODS_BACK:
        code = "KR209" if isinstance(back, int) else "KR203"
        raise FormulaError(
            f"previous()'s n (how many periods back) must be a whole number from 1 to {MAX_PERIODS_BACK}", node.col_offset, code
        )
    return back


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def written(text: str, node: ast.expr) -> str:
    """The node as written in the formula, on one line."""
    # Offsets count bytes of UTF-8 within a line: plain slicing only fits one line of ASCII.
    if text.isascii() and "\n" not in text:
        return text[node.col_offset : node.end_col_offset]
    return " ".join((ast.get_source_segment(text, node) or "").split())


def _shown(text: str, node: ast.expr) -> str:
    """The node as written, cut short for an error message (a number may have a thousand digits)."""
    shown = written(text, node)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _construct_name(node: ast.AST) -> str:
    match node:
        case ast.Constant(value=str()):
            return "text"
        case ast.Attribute():
            return "attribute access (.)"
        case ast.Subscript():
            return "indexing ([])"
        case ast.Call():
            return "this kind of call"
        case ast.BinOp(op=op) | ast.UnaryOp(op=op):
            return f"the operator {type(op).__name__}"
        case ast.Compare():
            return "this comparison"
    return type(node).__name__
