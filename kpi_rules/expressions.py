"""The formula language: a safe subset of Python expressions, evaluated column-wise.

The one module that imports simpleeval. A formula is parsed and checked once
(``parse_formula``), statically, so unknown names and forbidden constructs are
reported at compile time. ``build_expression`` then evaluates it with simpleeval
whose names are bound to polars expressions: the result is one ``pl.Expr`` that
runs over every client and period at once in native code.

Semantics: ``a / b`` is null when ``b`` is 0 or null (never inf or NaN); nulls
propagate through arithmetic, functions and conditions.
"""

from __future__ import annotations

import ast
import functools
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from simpleeval import SimpleEval

if TYPE_CHECKING:
    import polars as pl

# name -> (min args, max args or None for any, description). Feeds docs and checks.
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "abs": (1, 1, "absolute value"),
    "min": (2, None, "smallest argument (null if any is null)"),
    "max": (2, None, "largest argument (null if any is null)"),
    "round": (1, 2, "round(x, digits): digits is a whole number, default 0"),
    "coalesce": (2, None, "first argument that is not null, e.g. coalesce(fees, 0)"),
    "previous": (1, 1, "the value in the period before, e.g. previous(followers) (null when that period has no data)"),
}
# Functions that compare periods: meaningless in a formula evaluated row by row.
PERIOD_FUNCTIONS = frozenset({"previous"})

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


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
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise FormulaError(f"syntax error: {error.msg}", max((error.offset or 1) - 1, 0), "KR202") from None
    names: set[str] = set()
    _check(tree, names)
    if _is_condition(tree):
        raise FormulaError("gives true/false, not a number: use `value if condition else other`")
    functions = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    return ParsedFormula(text, tree, frozenset(names), frozenset(functions))


def _check(node: ast.AST, names: set[str]) -> None:
    match node:
        case ast.Constant(value=value) if isinstance(value, (int, float)):
            return
        case ast.Name(id=name):
            names.add(name)
            return
        case ast.BinOp(op=op) if isinstance(op, _ARITHMETIC):
            if isinstance(op, ast.Pow) and not _is_number(node.right):
                raise FormulaError("** needs a plain number as exponent", node.col_offset)
        case ast.UnaryOp(op=ast.USub() | ast.UAdd() | ast.Not()):
            pass
        case ast.BoolOp() | ast.IfExp():
            pass
        case ast.Compare(ops=ops) if all(isinstance(op, _COMPARISONS) for op in ops):
            pass
        case ast.Call(func=ast.Name(id=function), args=args, keywords=[]):
            _check_call(function, args, node.col_offset)
            for argument in args:
                _check(argument, names)
            return
        case _:
            raise FormulaError(f"{_construct_name(node)} is not allowed in a formula", getattr(node, "col_offset", 0))
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
            _check(child, names)


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
    if function == "round" and len(args) == 2 and not (_is_number(args[1]) and isinstance(args[1].value, int)):
        raise FormulaError("round()'s digits must be a whole number", column)


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _is_condition(node: ast.AST) -> bool:
    return isinstance(node, (ast.Compare, ast.BoolOp)) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not))


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
    expression: pl.Expr
    denominators: list[Part]
    previous: list[Part]


def build_expression(
    formula: ParsedFormula, names: dict[str, pl.Expr], previous: Callable[[pl.Expr], pl.Expr] | None = None
) -> BuiltFormula:
    """The formula as one polars expression over ``names``, with its divisors and look-backs.

    ``previous`` turns an expression into its value in the period before; the
    caller knows what a period is. Without it, ``previous()`` is refused.
    """
    import polars as pl

    evaluator = _ColumnEvaluator(names, previous)
    result = evaluator.eval(formula.text, previously_parsed=formula.tree)
    # NaN (a negative number to a fractional power) would compare as larger than any target: make it null.
    expression = _as_expression(result).cast(pl.Float64).fill_nan(None)
    return BuiltFormula(expression, evaluator.denominators, evaluator.previous_values)


def _as_expression(value: Any) -> pl.Expr:
    import polars as pl

    return value if isinstance(value, pl.Expr) else pl.lit(value)


def _null_if_any_null(values: list[Any], result: pl.Expr) -> pl.Expr:
    import polars as pl

    nulls = [_as_expression(value).is_null() for value in values]
    return pl.when(pl.any_horizontal(nulls)).then(None).otherwise(result)


def _min(*values: Any) -> pl.Expr:
    import polars as pl

    return _null_if_any_null(list(values), pl.min_horizontal([_as_expression(v) for v in values]))


def _max(*values: Any) -> pl.Expr:
    import polars as pl

    return _null_if_any_null(list(values), pl.max_horizontal([_as_expression(v) for v in values]))


def _round(value: Any, digits: int = 0) -> pl.Expr:
    return _as_expression(value).round(digits)


def _coalesce(*values: Any) -> pl.Expr:
    import polars as pl

    return pl.coalesce([_as_expression(v) for v in values])


_FUNCTION_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "abs": lambda value: _as_expression(value).abs(),
    "min": _min,
    "max": _max,
    "round": _round,
    "coalesce": _coalesce,
}
# previous() is bound per evaluation, by the caller: see _ColumnEvaluator._eval_call.
assert _FUNCTION_IMPLEMENTATIONS.keys() == FUNCTIONS.keys() - PERIOD_FUNCTIONS


class _ColumnEvaluator(SimpleEval):
    """simpleeval over polars expressions instead of Python values.

    Operators and functions are passed explicitly: the defaults include ``rand``
    and size guards that treat a column like a string.
    """

    def __init__(self, names: dict[str, pl.Expr], previous: Callable[[pl.Expr], pl.Expr] | None):
        super().__init__(
            operators={
                ast.Add: operator.add,
                ast.Sub: operator.sub,
                ast.Mult: operator.mul,
                ast.Pow: operator.pow,
                ast.USub: operator.neg,
                ast.UAdd: operator.pos,
                ast.Not: lambda value: ~_as_expression(value),
                ast.Eq: operator.eq,
                ast.NotEq: operator.ne,
                ast.Lt: operator.lt,
                ast.LtE: operator.le,
                ast.Gt: operator.gt,
                ast.GtE: operator.ge,
            },
            functions=dict(_FUNCTION_IMPLEMENTATIONS),
            names=names,
        )
        for node_type in (ast.Attribute, ast.Subscript, ast.JoinedStr, ast.FormattedValue):
            self.nodes.pop(node_type, None)
        self.nodes[ast.BoolOp] = self._eval_boolop
        self.nodes[ast.Compare] = self._eval_compare
        self.nodes[ast.IfExp] = self._eval_ifexp
        self.denominators: list[Part] = []
        self.previous_values: list[Part] = []
        self._previous = previous

    def _eval_call(self, node: ast.Call) -> Any:
        if not (isinstance(node.func, ast.Name) and node.func.id == "previous"):
            return super()._eval_call(node)
        if self._previous is None:
            raise FormulaError("previous() compares periods: it cannot be used in a formula evaluated per row", node.col_offset)
        value = self._previous(_as_expression(self._eval(node.args[0])))
        self.previous_values.append(Part(ast.unparse(node), value))
        return value

    def _eval_binop(self, node: ast.BinOp) -> Any:
        if not isinstance(node.op, ast.Div):
            return super()._eval_binop(node)
        import polars as pl

        numerator = _as_expression(self._eval(node.left))
        denominator = _as_expression(self._eval(node.right))
        self.denominators.append(Part(ast.unparse(node.right), denominator))
        # A zero or null denominator gives null ("no data"), never inf or NaN.
        return pl.when(denominator != 0).then(numerator / denominator)

    def _eval_boolop(self, node: ast.BoolOp) -> pl.Expr:
        values = [_as_expression(self._eval(value)) for value in node.values]
        return functools.reduce(operator.and_ if isinstance(node.op, ast.And) else operator.or_, values)

    def _eval_compare(self, node: ast.Compare) -> pl.Expr:
        left = self._eval(node.left)
        pairs = []
        for operation, comparator in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comparator)
            pairs.append(_as_expression(self.operators[type(operation)](left, right)))
            left = right
        return functools.reduce(operator.and_, pairs)

    def _eval_ifexp(self, node: ast.IfExp) -> pl.Expr:
        import polars as pl

        condition = _as_expression(self._eval(node.test))
        body = _as_expression(self._eval(node.body))
        orelse = _as_expression(self._eval(node.orelse))
        # A null condition gives null rather than falling through to the else branch.
        return pl.when(condition.is_null()).then(None).when(condition).then(body).otherwise(orelse)
