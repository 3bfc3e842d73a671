"""The formula language: a safe subset of Python expressions, evaluated column-wise.

The one module that imports simpleeval. A formula is parsed and checked once
(``parse_formula``), statically, so unknown constructs, conditions used as numbers,
constants out of range and formulas over a limit are reported at compile time.
``build_expression`` then evaluates it with simpleeval whose names are bound to
polars expressions: the result is one ``pl.Expr`` that runs over every client and
period at once in native code.

Semantics, in one place:
- every value is a finite number or null (unknown): ``a / b`` with ``b`` 0, an
  overflow, an infinite input or the root of a negative number give null;
- nulls propagate through arithmetic, comparisons, ``and or not`` and functions
  (``coalesce`` exists to replace them); ``a if c else b`` is null when ``c`` is;
- a condition is a comparison, or ``and or not`` of conditions; never a number.

The built expression grows linearly with the formula: polars expands a repeated
sub-expression into a tree, so a value needed twice (a divisor checked for
infinity, the arguments of max) is repeated only when small, else computed once as
a field of a struct and named (``_Bindings``).
"""

from __future__ import annotations

import ast
import collections
import functools
import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from simpleeval import SimpleEval

if TYPE_CHECKING:
    import polars as pl

# Limits, so that no formula can make compile or evaluation slow or crash: at the limits the worst
# formulas build and run in under 0.3 s (tests/test_expressions.py). Refused with KR208.
MAX_FORMULA_LENGTH = 1_000  # characters
MAX_NESTING_DEPTH = 32  # levels of sub-expressions: a + b + c is 3 deep, max(a, b) 2
MAX_FORMULA_PARTS = 200  # names, numbers, operations and calls
MAX_ROUND_DIGITS = 15  # a float has 15-17 significant digits

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
    "previous": (1, 1, "the value in the period before, e.g. previous(followers) (null when that period has no data)"),
}
# Functions that compare periods: meaningless in a formula evaluated row by row.
PERIOD_FUNCTIONS = frozenset({"previous"})

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


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _written(text: str, node: ast.expr) -> str:
    """The node as written in the formula, on one line."""
    # Offsets count bytes of UTF-8 within a line: plain slicing only fits one line of ASCII.
    if text.isascii() and "\n" not in text:
        return text[node.col_offset : node.end_col_offset]
    return " ".join((ast.get_source_segment(text, node) or "").split())


def _shown(text: str, node: ast.expr) -> str:
    """The node as written, cut short for an error message (a number may have a thousand digits)."""
    written = _written(text, node)
    return written if len(written) <= 40 else written[:37] + "..."


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


@dataclass(frozen=True)
class Part:
    """A divisor or a ``previous(...)`` met while building an expression, kept to explain nulls."""

    text: str
    expression: pl.Expr


@dataclass(frozen=True)
class BuiltFormula:
    """The formula as one polars expression, with its divisors and look-backs.

    A part's expression may name a value computed once inside the formula: use it
    only in a reason given to ``explain``.
    """

    expression: pl.Expr
    denominators: list[Part]
    previous: list[Part]
    bindings: _Bindings

    def explain(self, reason: pl.Expr) -> pl.Expr:
        """``reason``, which may use the parts' expressions."""
        return self.bindings.around(reason)


def build_expression(
    formula: ParsedFormula, names: dict[str, pl.Expr], previous: Callable[[pl.Expr], pl.Expr] | None = None
) -> BuiltFormula:
    """The formula as one polars expression over ``names``, with its divisors and look-backs.

    ``previous`` turns an expression into its value in the period before; the
    caller knows what a period is. Without it, ``previous()`` is refused.
    """
    evaluator = _ColumnEvaluator(formula, names, previous)
    value = null_if_not_finite(evaluator.eval(formula.text, previously_parsed=formula.tree))
    return BuiltFormula(evaluator.bindings.around(value), evaluator.denominators, evaluator.previous_values, evaluator.bindings)


def null_if_not_finite(value: pl.Expr) -> pl.Expr:
    """``value`` as a float, with inf, -inf and NaN made null. It names ``value`` twice: give it a small expression."""
    import polars as pl

    return pl.when(value.is_finite()).then(value).otherwise(_null_float())


@functools.cache
def _null_float() -> pl.Expr:
    """A null of type float, made once: a typed literal costs 20 µs to build, a quarter of a small formula."""
    import polars as pl

    return pl.lit(None, pl.Float64)


class _Bindings:
    """Values computed once and named: the fields of a struct, added one by one."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, pl.Expr]] = []

    def bind(self, value: pl.Expr) -> pl.Expr:
        import polars as pl

        self.fields.append((f"v{len(self.fields)}", value))
        return pl.field(self.fields[-1][0])

    def around(self, expression: pl.Expr) -> pl.Expr:
        """``expression``, evaluated where the bound names are defined."""
        import polars as pl

        if not self.fields:
            return expression
        # A column of nulls first: a struct that starts with a number (length 1) could not take a column.
        scope = pl.struct(pl.repeat(None, pl.len()).alias("rows"))
        for name, value in self.fields:
            scope = scope.struct.with_fields(value.alias(name))
        return scope.struct.with_fields(expression.alias("result")).struct.field("result")


class _ColumnEvaluator(SimpleEval):
    """simpleeval over polars expressions instead of Python values.

    Only the constructs of the language have handlers; operators and functions are
    passed explicitly (simpleeval's defaults include ``rand`` and size guards that
    treat a column like a string). Conditions are floats: 1 true, 0 false, null
    unknown, so that and/or/not propagate nulls (polars' & and | would not).
    Non-finite values (x / 0, overflow) may flow through arithmetic, which keeps
    them non-finite; they are made null wherever they could turn finite again
    (a divisor, a power's base, a comparison, a function's argument) and at the end.
    """

    def __init__(self, formula: ParsedFormula, names: dict[str, pl.Expr], previous: Callable[[pl.Expr], pl.Expr] | None):
        comparisons = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
        super().__init__(
            operators={ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, **comparisons},
            functions={
                "abs": self._abs,
                "min": lambda args: self._extreme(args, "min"),
                "max": lambda args: self._extreme(args, "max"),
                "round": self._round,
                "coalesce": self._coalesce,
            },
            names=names,
        )
        self.nodes = {
            ast.Constant: self._eval_constant,
            ast.Name: self._eval_name,
            ast.UnaryOp: self._eval_unaryop,
            ast.BinOp: self._eval_binop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
            ast.IfExp: self._eval_ifexp,
            ast.Call: self._eval_call,
        }
        self.text, self.tree = formula.text, formula.tree
        self.bindings = _Bindings()
        self.denominators: list[Part] = []
        self.previous_values: list[Part] = []
        self._previous = previous
        self._bound_names: dict[str, pl.Expr] = {}
        self._plain: dict[ast.AST, bool] = {}

    def _once(self, value: pl.Expr, node: ast.expr) -> pl.Expr:
        """``value``, to be named more than once: repeated if small, else computed once (a struct's field).

        Small is plain arithmetic, or one operation on plain arithmetic: repeating it
        costs a few copies of each plain part. Repeating more, level after level,
        would double the expression at every level; a field costs about 1 ms of planning.
        """
        small = self._is_plain(node) or all(self._is_plain(child) for child in _operands(node))
        return value if small else self.bindings.bind(value)

    def _is_plain(self, node: ast.AST) -> bool:
        """Numbers and names combined by + - * (and previous() of those). Remembered: each node is looked at once."""
        if node not in self._plain:
            match node:
                case ast.Constant():
                    plain = True
                case ast.Name(id=name):
                    plain = name in self._bound_names or not self._is_expression(name)
                case ast.BinOp(op=ast.Add() | ast.Sub() | ast.Mult(), left=left, right=right):
                    plain = self._is_plain(left) and self._is_plain(right)
                case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=operand) | ast.Call(func=ast.Name(id="previous"), args=[operand]):
                    plain = self._is_plain(operand)
                case _:
                    plain = False
            self._plain[node] = plain
        return self._plain[node]

    def _finite(self, node: ast.expr) -> pl.Expr:
        """The node's value where a non-finite one could turn finite (x / inf is 0): made null."""
        return null_if_not_finite(self._once(self._eval(node), node))

    def _eval_constant(self, node: ast.Constant) -> pl.Expr:
        import polars as pl

        return pl.lit(float(node.value))

    def _eval_name(self, node: ast.Name) -> pl.Expr:
        if node.id not in self._bound_names and self._is_expression(node.id) and self._occurrences[node.id] > 1:
            self._bound_names[node.id] = self.bindings.bind(self.names[node.id])
        return self._bound_names.get(node.id, self.names[node.id])

    def _is_expression(self, name: str) -> bool:
        """Whether the name stands for an expression (a KPI evaluated per row) rather than a column or number."""
        value = self.names[name]
        return not (value.meta.is_column() or value.meta.is_literal())

    @functools.cached_property
    def _occurrences(self) -> collections.Counter[str]:
        return collections.Counter(node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name))

    def _eval_unaryop(self, node: ast.UnaryOp) -> pl.Expr:
        operand = self._eval(node.operand)
        match node.op:
            case ast.USub():
                return -operand
            case ast.Not():
                return 1.0 - operand
        return operand

    def _eval_binop(self, node: ast.BinOp) -> pl.Expr:
        import polars as pl

        match node.op:
            case ast.Div():
                left = self._eval(node.left)
                right = self._once(self._eval(node.right), node.right)
                self.denominators.append(Part(_written(self.text, node.right), right))
                return left / null_if_not_finite(right)  # x / 0 is inf or NaN: made null later
            case ast.Pow():
                return self._finite(node.left) ** pl.lit(float(node.right.value))  # inf ** 0 would be 1
        return self.operators[type(node.op)](self._eval(node.left), self._eval(node.right))

    def _eval_boolop(self, node: ast.BoolOp) -> pl.Expr:
        import polars as pl

        total = pl.sum_horizontal([self._eval(value) for value in node.values], ignore_nulls=False)
        return (total == len(node.values) if isinstance(node.op, ast.And) else total > 0).cast(pl.Float64)

    def _eval_compare(self, node: ast.Compare) -> pl.Expr:
        import polars as pl

        values = [self._finite(operand) for operand in (node.left, *node.comparators)]  # in a < b < c, b twice
        pairs = [self.operators[type(op)](a, b).cast(pl.Float64) for op, a, b in zip(node.ops, values, values[1:])]
        return pairs[0] if len(pairs) == 1 else (pl.sum_horizontal(pairs, ignore_nulls=False) == len(pairs)).cast(pl.Float64)

    def _eval_ifexp(self, node: ast.IfExp) -> pl.Expr:
        import polars as pl

        condition = self._once(self._eval(node.test), node.test)
        # Neither 1 nor 0 (null): null, rather than falling through to the else branch.
        return pl.when(condition == 1).then(self._eval(node.body)).when(condition == 0).then(self._eval(node.orelse))

    def _eval_call(self, node: ast.Call) -> pl.Expr:
        if node.func.id != "previous":
            return self.functions[node.func.id](node.args)
        if self._previous is None:
            raise FormulaError("previous() compares periods: it cannot be used in a formula evaluated per row", node.col_offset)
        value = self._once(self._previous(self._eval(node.args[0])), node)
        self.previous_values.append(Part(_written(self.text, node), value))
        return value

    def _abs(self, args: list[ast.expr]) -> pl.Expr:
        return self._eval(args[0]).abs()

    def _extreme(self, args: list[ast.expr], function: str) -> pl.Expr:
        import polars as pl

        values = [self._finite(arg) for arg in args]
        horizontal = pl.min_horizontal if function == "min" else pl.max_horizontal
        # polars' min and max skip nulls: here a null argument makes the result unknown.
        return pl.when(pl.any_horizontal([value.is_null() for value in values])).then(None).otherwise(horizontal(values))

    def _round(self, args: list[ast.expr]) -> pl.Expr:
        import polars as pl

        value = self._once(self._eval(args[0]), args[0])
        scale = 10.0 ** (args[1].value if len(args) > 1 else 0)
        scaled = value * scale
        # Half away from zero on the number as written: 2.675 is stored as 2.67499999999999982, so a half is
        # recognised up to 2**-50 relatively (float noise). Above 2**52 a float has no fraction left to round.
        rounded = scaled.sign() * (scaled.abs() * (1 + 2**-50) + 0.5).floor() / scale
        return pl.when(scaled.abs() < 2**52).then(rounded).otherwise(value)

    def _coalesce(self, args: list[ast.expr]) -> pl.Expr:
        import polars as pl

        return pl.coalesce([self._finite(arg) for arg in args])


def _operands(node: ast.AST) -> list[ast.expr]:
    """The sub-expressions a node works on (not a call's function name)."""
    function = node.func if isinstance(node, ast.Call) else None
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr) and child is not function]
