"""Formulas evaluated column-wise: the one module that imports simpleeval.

``build_expression`` evaluates a formula parsed by ``formulas.parse_formula`` with
simpleeval whose names are bound to polars expressions: the result is one ``pl.Expr``
that runs over every client and period at once in native code, following the
semantics in ``formulas``.

The built expression grows linearly with the formula: polars expands a repeated
sub-expression into a tree, so a value needed twice (a divisor checked for
infinity, the arguments of max) is repeated only when small, else computed once as
a field of a struct and named (``_Bindings``).
"""

from __future__ import annotations

import ast
import collections
import functools
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from simpleeval import SimpleEval

from kpi_rules.formulas import PERIOD_FUNCTIONS, RATE_DAYS, FormulaError, ParsedFormula, periods_back, written

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class Part:
    """A divisor or a period function's value (``previous(x, 2)``) met while building an expression, kept to explain nulls."""

    text: str
    expression: pl.Expr
    function: str = ""  # of a period function's value: previous or baseline
    periods_back: int = 0  # of previous()


@dataclass(frozen=True)
class Periods:
    """What the period functions need from the caller, who knows what a period and a client are."""

    previous: Callable[[pl.Expr, int], pl.Expr]  # a value n periods back
    baseline: Callable[[pl.Expr], pl.Expr]  # a value's mean over the baseline periods
    days_elapsed: pl.Expr


@dataclass(frozen=True)
class BuiltFormula:
    """The formula as one polars expression, with its divisors and period functions' values.

    A part's expression may name a value computed once inside the formula: use it
    only in a reason given to ``explain``.
    """

    expression: pl.Expr
    denominators: list[Part]
    period_values: list[Part]
    bindings: _Bindings

    def explain(self, reason: pl.Expr) -> pl.Expr:
        """``reason``, which may use the parts' expressions."""
        return self.bindings.around(reason)


def build_expression(formula: ParsedFormula, names: dict[str, pl.Expr], periods: Periods | None = None) -> BuiltFormula:
    """The formula as one polars expression over ``names``, with its divisors and period functions' values.

    Without ``periods`` (a formula evaluated per row), the period functions are refused.
    """
    evaluator = _ColumnEvaluator(formula, names, periods)
    value = null_if_not_finite(evaluator.eval(formula.text, previously_parsed=formula.tree))
    return BuiltFormula(evaluator.bindings.around(value), evaluator.denominators, evaluator.period_values, evaluator.bindings)


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

    def __init__(self, formula: ParsedFormula, names: dict[str, pl.Expr], periods: Periods | None):
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
        self.period_values: list[Part] = []
        self._periods = periods
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
                case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=operand) | ast.Call(func=ast.Name(id="previous"), args=[operand, *_]):
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
                self.denominators.append(Part(written(self.text, node.right), right))
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
        function = node.func.id
        if function not in PERIOD_FUNCTIONS:
            return self.functions[function](node.args)
        if self._periods is None:
            raise FormulaError(f"{function}() is a fact of the period: it cannot be used in a formula evaluated per row", node.col_offset)
        if function in RATE_DAYS:
            return self._rate(node.args[0], RATE_DAYS[function])
        value = self._eval(node.args[0])
        back = 0
        if function == "previous":
            back = periods_back(node.args[1]) if len(node.args) > 1 else 1
            value = self._periods.previous(value, back)
        else:
            value = self._periods.baseline(value)
        value = self._once(value, node)
        self.period_values.append(Part(written(self.text, node), value, function, back))
        return value

    def _rate(self, flow: ast.expr, days: float) -> pl.Expr:
        """A flow per ``days`` days of the period so far: written out, flow / days_elapsed * days."""
        days_elapsed = self._periods.days_elapsed
        self.denominators.append(Part("days_elapsed", days_elapsed))
        rate = self._eval(flow) / days_elapsed  # 0 days gives inf or NaN: made null later, as any division by 0
        return rate if days == 1 else rate * days

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
