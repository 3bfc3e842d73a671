"""An attack corpus: hostile or broken inputs, each run through both `validate` and `check`.

Every case is a tiny agency in tmp_path (a playbook with one KPI, `attack`, scored for one goal, on its own
two metrics or on builtin:smm; a client file; a CSV) with one thing changed. Whatever the input, both
commands must:

- finish within TIMEOUT seconds, without a traceback, with exit code 0, 1 or 2 (never 3, never a signal);
- when they exit 2, print a diagnostic ``file:line:col: error KRxxx`` at the line of the problem;
- leave every file as it was (byte for byte, and no new or leftover files);
- when `check` accepts the input, print JSON that parses strictly: no NaN or Infinity, no number that
  overflows a float;
- agree: `validate` exits 2 whenever `check` refuses the same files or would crash on them.

Expectations, per case:
- INVALID: the files are wrong; both commands exit 2 with the diagnostic where the case says.
- CHECK_INVALID: the files are fine but the data or the command line is not; `check` exits 2.
- VALID: both commands accept the input (0 or 1).
- OPEN: the outcome is a design choice not yet made (refuse it, or show no data?); only the invariants above,
  plus: an exit 2 points where the case says, and an accepted formula has one of the values listed.

Cases that could hang or crash the interpreter (huge numbers, deep nesting, bombs, special files) run in a
subprocess, killed after TIMEOUT seconds a command; the others run in-process through the CliRunner, which
is much faster (an exception escaping is then the test's failure, as exit 3 would be for a user).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import resource
import select
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TIMEOUT = 10  # seconds per command; a normal run of this tiny agency takes well under one
MEMORY_LIMIT = 3 << 30  # address space of an isolated run: a memory bomb fails instead of swapping the machine

INVALID, CHECK_INVALID, VALID, OPEN = "invalid", "check-invalid", "valid", "open"
# In the environment of isolated runs: a playbook or data source pointed at /proc/self/environ must not print it.
SECRET = "hunter2-" + "5f3c9a1e7b2d4068"

# The tiny agency. The formula of `attack` is on line 7 of the playbook, its target on line 15.
# Line 3 either declares the two metrics the KPI reads or takes them from the bundled library. Most cases use
# their own metrics: loading and schema-checking the library's ten layers costs about 0.4 s per command, which
# over this corpus would be minutes; the cases marked "on-builtin-smm" run on the library.
FORMULA_LINE, TARGET_LINE, END_OF_PLAYBOOK = 7, 15, 16
OWN_METRICS = "metrics: {likes: {agg: sum}, comments: {agg: sum}}"
LIBRARY = "extends: [builtin:smm]"
PLAYBOOK = """\
kpi-rules: 1
name: Attack playbook
@LINE3@
kpis:
  attack:
    label: Attack
    formula: @FORMULA@
    unit: x
    better: higher
goals:
  g:
    label: G
    kpis: [attack]
targets:
  attack: @TARGET@
"""
DEFAULT_FORMULA = "likes / comments"
DEFAULT_TARGET = "{target: 1, warn: 0.5}"

DATA_LINE = 7
CLIENT = """\
kpi-rules: 1
client: Acme
playbook: playbook.yaml
goals: [g]
period: month
currency: RUB
data: data.csv
"""

# January: likes 30, comments 5 (likes / comments = 6); February is incomplete.
CSV = "date,likes,comments\n2026-01-01,10,2\n2026-01-15,20,3\n2026-02-01,5,1\n"

VALIDATE = ("validate", "playbook.yaml", "client.yaml")
CHECK = ("check", "client.yaml", "--period", "2026-01", "--format", "json")


def playbook(
    formula: str = DEFAULT_FORMULA, target: str = DEFAULT_TARGET, extra: str = "", *, library: bool = False, raw: bool = False
) -> str:
    # A JSON string is a YAML double-quoted scalar: any formula fits on line 7, quotes, newlines and all.
    quoted = formula if raw else json.dumps(formula, ensure_ascii=False)
    line3 = LIBRARY if library else OWN_METRICS
    return PLAYBOOK.replace("@LINE3@", line3).replace("@FORMULA@", quoted).replace("@TARGET@", target) + extra


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # over the default agency; None: absent
    expect: str = OPEN
    # Where an exit 2 may point: (file name, the acceptable lines or None for any line or none).
    where: tuple[tuple[str, frozenset[int] | None], ...] = ()
    # The acceptable values of `attack` in January when check accepts the input (None: no data); () unchecked.
    values: tuple = ()
    isolate: bool = False
    check_args: tuple[str, ...] = ()
    links: tuple[tuple[str, str, str], ...] = ()  # (kind "symlink" | "hardlink" | "folder" | "fifo", name, target)
    library: bool = False  # the playbook's line 3 extends builtin:smm instead of declaring its two metrics


def at(name: str, *lines: int) -> tuple[tuple[str, frozenset[int] | None], ...]:
    return ((name, frozenset(lines) if lines else None),)


AT_FORMULA = at("playbook.yaml", FORMULA_LINE)


def formula_case(id: str, formula: str, expect: str = OPEN, values: tuple = (), isolate: bool = False) -> Case:
    return Case(f"formula-{id}", {"playbook.yaml": playbook(formula)}, expect, AT_FORMULA, values, isolate)


def nested(template: str, levels: int, inner: str = "likes") -> str:
    formula = inner
    for _ in range(levels):
        formula = template.format(formula)
    return formula


def nested_division_value(levels: int) -> float:
    value = 30.0
    for _ in range(levels):
        value = 30.0 / value
    return value


# ---------------------------------------------------------------- formulas: size, depth, numbers, types
FORMULA_CASES = [
    formula_case("pow-10-100000000", "10 ** 100000000", values=(None,), isolate=True),
    formula_case("nested-max-14", nested("max({}, 1)", 14), values=(30,), isolate=True),
    formula_case("nested-max-30", nested("max({}, 1)", 30), values=(30,), isolate=True),
    formula_case("nested-division-14", nested("likes / ({})", 14), values=(nested_division_value(14),), isolate=True),
    formula_case("nested-division-30", nested("likes / ({})", 30), values=(nested_division_value(30),), isolate=True),
    formula_case("nested-coalesce-30", nested("coalesce({}, 0)", 30), values=(30,)),
    formula_case("nested-previous-50", nested("previous({})", 50), values=(None,), isolate=True),
    formula_case("comparison-chain-300", "likes if " + " <= ".join(["likes"] * 300) + " else 0", values=(30,), isolate=True),
    formula_case("and-300-terms", "likes if " + " and ".join(["likes > 0"] * 300) + " else 0", values=(30,), isolate=True),
    formula_case("or-300-terms", "likes if " + " or ".join(["likes < 0"] * 299 + ["likes > 0"]) + " else 0", values=(30,)),
    formula_case("sum-350-terms", " + ".join(["likes"] * 350), values=(10500,), isolate=True),
    formula_case("unary-minus-500", "-" * 500 + "likes", values=(30,), isolate=True),
    formula_case("not-500", "likes if " + "not " * 500 + "likes > 0 else 0", values=(30,), isolate=True),
    formula_case("parentheses-5000", "(" * 5000 + "likes" + ")" * 5000, values=(30,), isolate=True),
    formula_case(
        "if-chain-1000", " ".join(f"{i} if likes == {i} else" for i in range(1000)) + " -1", values=(30,), isolate=True
    ),
    formula_case("formula-of-1MB", " + ".join(["likes"] * 150_000), values=(4_500_000,), isolate=True),
    formula_case("pow-float-10-400", "10.0 ** 400", values=(None,)),
    formula_case("pow-int-10-400", "10 ** 400", values=(None,)),
    formula_case("literal-400-digits", "1" + "0" * 399, values=(None,)),
    formula_case("literal-1e999", "1e999", values=(None,)),
    formula_case("literal-1e999-minus-1e999", "1e999 - 1e999", values=(None,)),
    formula_case("negative-pow-half", "(-8) ** 0.5", values=(None,)),
    formula_case("likes-pow-1000", "likes ** 1000", values=(None,)),
    formula_case("likes-pow-minus-1000", "likes ** -1000", values=(None, 0)),
    formula_case("zero-pow-minus-1", "0 ** -1", values=(None,)),
    formula_case("likes-times-1e308", "likes * 1e308", values=(None,)),
    formula_case("division-by-literal-zero", "likes / 0", values=(None,)),
    formula_case("division-by-zero-expression", "likes / (comments - comments)", values=(None,)),
    formula_case("round-digits-huge", "round(likes, 100000000000000000000)", values=(30,)),
    formula_case("round-digits-negative", "round(likes, -5)", values=(0,)),
    formula_case("number-as-condition", "likes if likes else 0", values=(30,)),
    formula_case("and-as-number", "(likes and comments) + 1", values=(6, 2)),
    formula_case("or-as-number", "(likes or comments) + 1", values=(31, 2)),
    formula_case("not-as-number", "(not likes) + 1", values=(1,)),
    formula_case("comparison-as-number", "(likes > comments) * 10", values=(10,)),
    formula_case("true-false-as-numbers", "likes * True + False", values=(30,)),
    formula_case("true-alone", "True", values=(1,)),
    formula_case("fullwidth-lookalike-name", "ｌｉｋｅｓ / comments", values=(6,)),
    formula_case("script-l-lookalike-name", "ℓikes / comments", values=(6,)),
    formula_case("empty-formula", "", INVALID),
    formula_case("blank-formula", "   ", INVALID),
    formula_case("condition-only", "likes > comments", INVALID),
    Case("formula-not-a-string-list", {"playbook.yaml": playbook("[likes, comments]", raw=True)}, INVALID, AT_FORMULA),
    Case("formula-a-number", {"playbook.yaml": playbook("42", raw=True)}, OPEN, AT_FORMULA, (42,)),
    Case("formula-null", {"playbook.yaml": playbook("null", raw=True)}, INVALID, AT_FORMULA),
]

# ---------------------------------------------------------------- formulas: breaking out of the sandbox
# From simpleeval's own security tests (tests/test_security.py, test_disallowed_functions.py; formerly
# test_simpleeval.py: TestTryingToBreakOut and friends), and more. Every one must be refused at its line.
BREAKOUTS = {
    "dunder-class": "likes.__class__",
    "dunder-class-name": "__class__",
    "dunder-builtins": "__builtins__",
    "dunder-import": "__import__('os').system('id')",
    "tuple-bases-subclasses": "().__class__.__bases__[0].__subclasses__()",
    "true-class-chain": "True.__class__.__class__.__base__.__subclasses__()[-1].__init__.func_globals['sys'].exit(1)",
    "function-globals": "max.__globals__",
    "function-func-globals": "max.func_globals",
    "method-on-number": "(1).from_bytes(('123123123123123123123123').encode()*999999, 'big')",
    "mro": "likes.mro()",
    "generator-frame": "foo.bar().gi_frame.f_globals['__builtins__'].exec('raise RuntimeError(\"Oh no\")')",
    "module-path": "path.os.popen('id').read()",
    "lambda": "lambda x: 22",
    "lambda-called": "(lambda x: 22)(44)",
    "list-comprehension": "[a + 1 for a in [1, 2, 3]]",
    "generator-in-max": "max(x for x in (likes, comments))",
    "dict-comprehension": "{k: 1 for k in 'ab'}",
    "f-string": "f\"{likes.__class__}\"",
    "f-string-globals": "f\"{max.__globals__}\"",
    "f-string-long": "f'{\"foo\"*50000}'",
    "str-format": "\"{string.__class__}\".format(string=\"things\")",
    "str-format-map": "'{a.__class__}'.format_map(x)",
    "import-statement": "import os",
    "import-after-newline": "likes\nimport os",
    "statement-after-semicolon": "likes; import os",
    "exec": "exec('import os')",
    "eval": "eval('1+1')",
    "open": "open('/etc/passwd')",
    "compile": "compile('1', 'x', 'eval')",
    "getattr": "getattr(likes, '__class__')",
    "type": "type(likes)",
    "globals": "globals()",
    "locals": "locals()",
    "vars": "vars()",
    "dir": "dir(str)",
    "breakpoint": "breakpoint()",
    "help": "help()",
    "input": "input()",
    "simpleeval-rand": "rand()",
    "simpleeval-randint": "randint(1000)",
    "call-of-a-call": "max(likes, 1)(2)",
    "dunder-call": "abs.__call__(likes)",
    "subscript": "likes[0]",
    "slice": "'hello'[::-1]",
    "list-literal": "[likes, comments][0]",
    "dict-literal": "{\"a\": likes}[\"a\"]",
    "tuple-literal": "(likes, comments)",
    "set-literal": "{likes}",
    "walrus": "(x := likes) + x",
    "starred-arguments": "max(*[likes, comments])",
    "keyword-argument": "round(likes, ndigits=2)",
    "yield": "(yield likes)",
    "await": "await likes",
    "shift-left-huge": "1 << 25000",
    "shift-right": "likes >> 2",
    "bitwise-or": "likes | comments",
    "bitwise-and": "likes & comments",
    "bitwise-invert": "~likes",
    "bitwise-xor": "likes ^ 2",
    "matrix-multiply": "likes @ comments",
    "floor-division": "likes // 2",
    "modulo": "likes % 2",
    "pow-tower-9-9-8": "9 ** 9 ** 8",
    "pow-tower-9-9-5": "9 ** 9 ** 5",
    "pow-by-a-name": "likes ** likes",
    "pow-by-an-expression": "2 ** (likes + 1)",
    "in-operator": "likes if likes in (1, 2) else 0",
    "is-operator": "likes if likes is None else 0",
    "string-literal": "'a'",
    "string-times-50000": "50000 * 'text'",
    "string-times-20000": "'stuff' * 20000",
    "string-concatenated": "('stuff' * 20000) + ('stuff' * 20000)",
    "bytes-literal": "b'x' * 10",
    "encode-times": "'123121323123131231223'.encode() * 5000",
    "split-times": "('spam spam spam' * 5000).split() * 5000",
    "none": "likes + None",
    "ellipsis": "...",
    "complex-literal": "1j * likes",
    "unknown-name-os": "os.system('id')",
    "polars-name": "pl.col('likes')",
}
BREAKOUT_CASES = [formula_case(f"breakout-{name}", text, INVALID) for name, text in BREAKOUTS.items()] + [
    formula_case("breakout-string-a-times-10-9", '"a" * 10**9', INVALID, isolate=True),
    formula_case("breakout-long-string-250000", "'" + 50000 * "stuff" + "'", INVALID),
    formula_case("breakout-long-string-times-100", "'" + 10000 * "stuff" + "' * 100", INVALID),
]

# ---------------------------------------------------------------- YAML
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
BOMB_LINES = frozenset(range(END_OF_PLAYBOOK, END_OF_PLAYBOOK + 9))
UNKNOWN_TARGETS = "".join(f"  unknown_kpi_{i}: {{target: 1}}\n" for i in range(20_000))
TABBED = playbook().replace("    unit: x\n", "\tunit: x\n")

YAML_CASES = [
    Case("yaml-billion-laughs", {"playbook.yaml": playbook(extra=BILLION_LAUGHS)}, INVALID,
         (("playbook.yaml", BOMB_LINES),), isolate=True),
    Case("yaml-billion-laughs-as-a-label", {"playbook.yaml": BILLION_LAUGHS.replace("a: &a", "x_a: &a")
         .replace("\nb:", "\nx_b:").replace("\nc:", "\nx_c:").replace("\nd:", "\nx_d:").replace("\ne:", "\nx_e:")
         .replace("\nf:", "\nx_f:").replace("\ng:", "\nx_g:").replace("\nh:", "\nx_h:").replace("\ni:", "\nx_i:")
         + playbook().replace("    label: Attack\n", "    label: *i\n")}, INVALID,
         (("playbook.yaml", frozenset(range(1, 10 + 9))),), isolate=True),
    Case("yaml-recursive-alias", {"playbook.yaml": playbook(extra="x: &a [*a]\n")}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-recursive-alias-mapping", {"playbook.yaml": playbook(extra="x: &a {y: *a}\n")}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-merge-key-bomb", {"playbook.yaml": playbook(extra="x: &a {<<: *a}\n")}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-brackets-1000-deep", {"playbook.yaml": playbook(extra="x: " + "[" * 1000 + "]" * 1000 + "\n")}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-braces-1000-deep", {"playbook.yaml": playbook(extra="x: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n")},
         INVALID, at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-brackets-50000-deep", {"playbook.yaml": playbook(extra="x: " + "[" * 50_000 + "]" * 50_000 + "\n")},
         INVALID, at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-brackets-1000-deep-in-a-label",
         {"playbook.yaml": playbook().replace("    label: Attack\n", "    label: " + "[" * 1000 + "]" * 1000 + "\n")},
         INVALID, at("playbook.yaml", 6), isolate=True),
    Case("yaml-block-sequence-1000-deep",
         {"playbook.yaml": playbook(extra="x:\n" + "".join(" " * i + "-\n" for i in range(1000)))},
         INVALID, (("playbook.yaml", frozenset(range(END_OF_PLAYBOOK, END_OF_PLAYBOOK + 1002))),), isolate=True),
    Case("yaml-20000-unknown-targets", {"playbook.yaml": playbook(extra=UNKNOWN_TARGETS)}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK), isolate=True),
    Case("yaml-duplicate-key", {"playbook.yaml": playbook(extra="  attack: {target: 2}\n")}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK)),
    Case("yaml-duplicate-key-in-client", {"client.yaml": CLIENT + "period: week\n"}, INVALID, at("client.yaml", 8)),
    Case("yaml-tab-indentation", {"playbook.yaml": TABBED}, INVALID, at("playbook.yaml", 8)),
    Case("yaml-python-tag", {"playbook.yaml": playbook(extra='x: !!python/object/apply:os.system ["echo pwned"]\n')},
         INVALID, at("playbook.yaml", END_OF_PLAYBOOK)),
    Case("yaml-python-tag-as-a-value",
         {"playbook.yaml": playbook().replace("name: Attack playbook", 'name: !!python/object/apply:os.system ["touch pwned"]')},
         INVALID, at("playbook.yaml", 2)),
    Case("yaml-unknown-tag", {"playbook.yaml": playbook().replace("name: Attack playbook", "name: !shell Attack playbook")},
         INVALID, at("playbook.yaml", 2)),
    Case("yaml-binary-tag-as-name", {"playbook.yaml": playbook().replace("name: Attack playbook", "name: !!binary aGVsbG8=")},
         INVALID, at("playbook.yaml", 2)),
    Case("yaml-date-as-name", {"playbook.yaml": playbook().replace("name: Attack playbook", "name: 2026-01-01")},
         OPEN, at("playbook.yaml", 2)),
    Case("yaml-complex-key", {"playbook.yaml": playbook(extra="? [a, b]\n: c\n")}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK)),
    Case("yaml-null-key", {"playbook.yaml": playbook(extra="~: c\n")}, INVALID, at("playbook.yaml", END_OF_PLAYBOOK)),
    Case("yaml-integer-kpi-id", {"playbook.yaml": playbook().replace("  attack:\n    label", "  12:\n    label")},
         INVALID, (("playbook.yaml", frozenset({5, 13, 15})),)),
    Case("yaml-two-documents", {"playbook.yaml": playbook() + "---\nkpi-rules: 1\n"}, INVALID,
         at("playbook.yaml", END_OF_PLAYBOOK)),
    Case("yaml-binary-file", {"playbook.yaml": bytes(range(256)) * 8}, INVALID, at("playbook.yaml")),
    Case("yaml-png-as-client", {"client.yaml": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4}, INVALID, at("client.yaml")),
    Case("yaml-nul-bytes", {"playbook.yaml": playbook().replace("Attack playbook", "Attack\x00playbook")}, INVALID,
         at("playbook.yaml")),
    Case("yaml-control-characters", {"playbook.yaml": playbook().replace("Attack playbook", "Attack\x1b[2Jplaybook")},
         OPEN, at("playbook.yaml", 2), values=(6,)),
    Case("yaml-empty-playbook", {"playbook.yaml": ""}, INVALID, at("playbook.yaml")),
    Case("yaml-empty-client", {"client.yaml": ""}, INVALID, at("client.yaml")),
    Case("yaml-comment-only-client", {"client.yaml": "# nothing\n"}, INVALID, at("client.yaml")),
    Case("yaml-list-as-playbook", {"playbook.yaml": "- 1\n- 2\n"}, INVALID, at("playbook.yaml")),
    Case("yaml-scalar-as-client", {"client.yaml": "hello\n"}, INVALID, at("client.yaml")),
    Case("yaml-utf16-client", {"client.yaml": CLIENT.encode("utf-16")}, INVALID, at("client.yaml")),
    Case("yaml-bom-and-crlf", {"playbook.yaml": "\ufeff" + playbook().replace("\n", "\r\n"),
                               "client.yaml": "\ufeff" + CLIENT.replace("\n", "\r\n")}, VALID, values=(6,)),
    Case("yaml-cr-only-line-endings", {"playbook.yaml": playbook().replace("\n", "\r")}, OPEN,
         at("playbook.yaml"), values=(6,)),
    Case("yaml-version-99", {"playbook.yaml": playbook().replace("kpi-rules: 1", "kpi-rules: 99")}, INVALID,
         at("playbook.yaml", 1)),
    Case("yaml-huge-integer-version", {"playbook.yaml": playbook().replace("kpi-rules: 1", "kpi-rules: 1" + "0" * 400)},
         INVALID, at("playbook.yaml", 1)),
    Case("yaml-extends-itself", {"playbook.yaml": playbook(library=True).replace("[builtin:smm]", "[builtin:smm, playbook.yaml]")},
         INVALID, at("playbook.yaml", 3)),
    Case("yaml-extends-etc-passwd", {"playbook.yaml": playbook(library=True).replace("[builtin:smm]", "[builtin:smm, /etc/passwd]")},
         INVALID, (("playbook.yaml", frozenset({3})), ("passwd", None))),
    Case("yaml-extends-dev-zero", {"playbook.yaml": playbook(library=True).replace("[builtin:smm]", "[builtin:smm, /dev/zero]")},
         INVALID, (("playbook.yaml", frozenset({3})), ("zero", None)), isolate=True),
    Case("yaml-extends-builtin-traversal",
         {"playbook.yaml": playbook(library=True).replace("[builtin:smm]", "[builtin:smm, builtin:../../../etc/passwd]")},
         INVALID, at("playbook.yaml", 3)),
    Case("yaml-extends-proc-self-environ",
         {"playbook.yaml": playbook(library=True).replace("[builtin:smm]", "[builtin:smm, /proc/self/environ]")},
         INVALID, (("playbook.yaml", frozenset({3})), ("environ", None)), isolate=True),
    Case("yaml-client-playbook-etc-passwd", {"client.yaml": CLIENT.replace("playbook: playbook.yaml", "playbook: /etc/passwd")},
         INVALID, (("client.yaml", frozenset({3})), ("passwd", None))),
    Case("yaml-client-file-is-a-fifo", {"client.yaml": None}, INVALID, at("client.yaml"), isolate=True,
         links=(("fifo", "client.yaml", ""),)),
    Case("yaml-playbook-is-a-fifo", {"playbook.yaml": None}, INVALID, (("client.yaml", frozenset({3})), ("playbook.yaml", None)),
         isolate=True, links=(("fifo", "playbook.yaml", ""),)),
    Case("yaml-playbook-symlink-loop", {"playbook.yaml": None}, INVALID,
         (("client.yaml", frozenset({3})), ("playbook.yaml", None)), links=(("symlink", "playbook.yaml", "playbook.yaml"),)),
    Case("yaml-playbook-is-the-client", {"client.yaml": CLIENT.replace("playbook: playbook.yaml", "playbook: client.yaml")},
         INVALID, at("client.yaml")),
]

# ---------------------------------------------------------------- targets and names
def metric_named(name: str, library: bool = False) -> str:
    """A third metric on line 3, or, on the library, a metrics section whose line 5 overrides or adds it."""
    if library:
        return playbook(library=True).replace("kpis:\n", f"metrics:\n  {name}: {{agg: sum}}\nkpis:\n", 1)
    return playbook().replace("{agg: sum}}", f"{{agg: sum}}, {name}: {{agg: sum}}}}", 1)


def kpi_named(name: str) -> str:
    return playbook().replace("  attack:", f"  {name}:").replace("[attack]", f"[{name}]")


AT_TARGET = at("playbook.yaml", TARGET_LINE)
TARGET_CASES = [
    Case("target-400-digits", {"playbook.yaml": playbook(target="{target: 1" + "0" * 399 + "}")}, OPEN, AT_TARGET, (6,)),
    Case("target-warn-400-digits", {"playbook.yaml": playbook(target="{target: 1, warn: -1" + "0" * 399 + "}")}, OPEN,
         AT_TARGET, (6,)),
    Case("target-inf", {"playbook.yaml": playbook(target="{target: .inf}")}, OPEN, AT_TARGET, (6,)),
    Case("target-minus-inf-warn", {"playbook.yaml": playbook(target="{target: 1, warn: -.inf}")}, OPEN, AT_TARGET, (6,)),
    Case("target-nan", {"playbook.yaml": playbook(target="{target: .nan}")}, OPEN, AT_TARGET, (6,)),
    Case("target-nan-warn", {"playbook.yaml": playbook(target="{target: 1, warn: .nan}")}, OPEN, AT_TARGET, (6,)),
    Case("target-band-inf-nan", {"playbook.yaml": playbook(target="{min: .nan, max: .inf}")}, OPEN, AT_TARGET, (6,)),
    Case("target-1e999-string", {"playbook.yaml": playbook(target="{target: 1e999}")}, OPEN, AT_TARGET, (6,)),
    Case("target-text", {"playbook.yaml": playbook(target='{target: "3"}')}, INVALID, AT_TARGET),
    Case("target-boolean", {"playbook.yaml": playbook(target="{target: true}")}, INVALID, AT_TARGET),
    Case("target-warn-wrong-way", {"playbook.yaml": playbook(target="{target: 1, warn: 2}")}, INVALID, AT_TARGET),
    Case("target-in-client-400-digits", {"client.yaml": CLIENT + "targets:\n  attack: {target: 1" + "0" * 399 + "}\n"},
         OPEN, at("client.yaml", 9), (6,)),
    Case("target-in-client-nan", {"client.yaml": CLIENT + "targets:\n  attack: {target: .nan}\n"}, OPEN,
         at("client.yaml", 9), (6,)),
    *[
        Case(f"metric-named-{name}", {"playbook.yaml": metric_named(name)}, INVALID, at("playbook.yaml", 3))
        for name in ("date", "client", "channel", "days", "days_with_data", "date_end")
    ],
    *[
        Case(f"metric-named-{name}-on-builtin-smm", {"playbook.yaml": metric_named(name, library=True)}, INVALID,
             at("playbook.yaml", 5))
        for name in ("date", "days")
    ],
    *[Case(f"kpi-named-{name}", {"playbook.yaml": kpi_named(name)}, INVALID, at("playbook.yaml", 5)) for name in ("date", "client", "days")],
    Case("kpi-named-like-a-metric", {"playbook.yaml": kpi_named("likes").replace(DEFAULT_FORMULA, "likes * 2")}, OPEN,
         (("playbook.yaml", frozenset({5, FORMULA_LINE})),)),
    Case("kpi-using-itself", {"playbook.yaml": playbook("attack + 1")}, INVALID, AT_FORMULA),
]

# ---------------------------------------------------------------- data
def data_source(extra: str) -> str:
    return CLIENT.replace("data: data.csv\n", f"data:\n  - path: data.csv\n{extra}")


DATA_CASES = [
    Case("data-inf-cell", {"data.csv": CSV.replace("2026-01-01,10,", "2026-01-01,inf,")}, OPEN, at("data.csv", 2), (None,)),
    Case("data-minus-inf-cell", {"data.csv": CSV.replace("2026-01-01,10,", "2026-01-01,-inf,")}, OPEN, at("data.csv", 2), (None,)),
    Case("data-nan-cell", {"data.csv": CSV.replace("2026-01-01,10,", "2026-01-01,NaN,")}, OPEN, at("data.csv", 2), (None, 4)),
    Case("data-1e400-cell", {"data.csv": CSV.replace("2026-01-01,10,", "2026-01-01,1e400,")}, OPEN, at("data.csv", 2), (None,)),
    Case("data-400-digit-cell", {"data.csv": CSV.replace("2026-01-01,10,", "2026-01-01,1" + "0" * 399 + ",")}, OPEN,
         at("data.csv", 2), (None,)),
    Case("data-inf-in-denominator", {"data.csv": CSV.replace("2026-01-01,10,2", "2026-01-01,10,inf")}, OPEN,
         at("data.csv", 2), (None, 0)),
    Case("data-nul-byte-in-cell", {"data.csv": CSV.replace("2026-01-01,10,", "2026-01-01,1\x000,")}, OPEN, at("data.csv", 2), (6,)),
    Case("data-nul-byte-in-header", {"data.csv": CSV.replace("likes", "li\x00kes", 1)}, OPEN, at("data.csv", 1), (6,)),
    Case("data-file-of-nul-bytes", {"data.csv": b"\x00" * 4096}, CHECK_INVALID, at("data.csv")),
    Case("data-binary-file", {"data.csv": bytes(range(256)) * 16}, CHECK_INVALID, at("data.csv")),
    Case("data-cr-only-line-endings", {"data.csv": CSV.replace("\n", "\r")}, OPEN, at("data.csv"), (6,)),
    Case("data-crlf-line-endings", {"data.csv": CSV.replace("\n", "\r\n")}, VALID, values=(6,)),
    Case("data-bom", {"data.csv": "\ufeff" + CSV}, VALID, values=(6,)),
    Case("data-short-ragged-row", {"data.csv": CSV.replace("2026-01-01,10,2\n", "2026-01-01,10\n")}, OPEN, at("data.csv", 2)),
    Case("data-long-ragged-row", {"data.csv": CSV.replace("2026-01-01,10,2\n", "2026-01-01,10,2,99,100\n")}, OPEN,
         at("data.csv", 2), (6,)),
    Case("data-unclosed-quote", {"data.csv": CSV.replace("2026-01-01,10,", '2026-01-01,"10,')}, OPEN, at("data.csv", 2)),
    Case("data-duplicate-column-names", {"data.csv": CSV.replace("date,likes,comments", "date,likes,likes,comments")
         .replace("2026-01-01,10,2", "2026-01-01,10,10,2").replace("2026-01-15,20,3", "2026-01-15,20,20,3")
         .replace("2026-02-01,5,1", "2026-02-01,5,5,1")}, CHECK_INVALID, at("data.csv", 1)),
    Case("data-duplicate-date-columns", {"data.csv": CSV.replace("date,likes,comments", "date,likes,date")}, CHECK_INVALID,
         at("data.csv", 1)),
    Case("data-columns-likes-to-comments", {"client.yaml": data_source("    columns: {likes: comments}\n")}, CHECK_INVALID,
         (("client.yaml", frozenset({7, 8, 9})), ("data.csv", frozenset({1})))),
    Case("data-columns-two-to-one", {"client.yaml": data_source("    columns: {likes: x, comments: x}\n")}, OPEN,
         (("client.yaml", frozenset({7, 8, 9})), ("data.csv", frozenset({1})))),
    Case("data-text-in-number-column", {"data.csv": CSV.replace("2026-01-15,20,", "2026-01-15,lots,")}, CHECK_INVALID,
         at("data.csv", 3)),
    Case("data-bad-date", {"data.csv": CSV.replace("2026-01-15,", "2026-13-45,")}, CHECK_INVALID, at("data.csv", 3)),
    Case("data-huge-year", {"data.csv": CSV.replace("2026-01-15,", "99999999-01-15,")}, OPEN, at("data.csv", 3)),
    Case("data-latin1-byte", {"data.csv": CSV.encode().replace(b"2026-01-15,20,", b"2026-01-15,2\xe90,")}, OPEN,
         at("data.csv", 3)),
    Case("data-empty-file", {"data.csv": ""}, CHECK_INVALID, at("data.csv")),
    Case("data-header-only", {"data.csv": "date,likes,comments\n"}, OPEN, (("data.csv", None), ("client.yaml", None))),
    Case("data-missing-file", {"data.csv": None}, INVALID, (("client.yaml", frozenset({DATA_LINE})), ("data.csv", None))),
    Case("data-a-folder", {"client.yaml": CLIENT.replace("data: data.csv", "data: .")}, INVALID,
         (("client.yaml", frozenset({DATA_LINE})), (".", None))),
    Case("data-dev-zero", {"client.yaml": CLIENT.replace("data: data.csv", "data: /dev/zero")}, OPEN,
         (("client.yaml", frozenset({DATA_LINE})), ("zero", None)), isolate=True),
    Case("data-dev-zero-as-csv", {"client.yaml": data_source("    format: csv\n").replace("path: data.csv", "path: /dev/zero")},
         OPEN, (("client.yaml", frozenset({7, 8, 9})), ("zero", None)), isolate=True),
    Case("data-dev-urandom-as-csv",
         {"client.yaml": data_source("    format: csv\n").replace("path: data.csv", "path: /dev/urandom")},
         OPEN, (("client.yaml", frozenset({7, 8, 9})), ("urandom", None)), isolate=True),
    Case("data-proc-self-environ-as-csv",
         {"client.yaml": data_source('    format: csv\n    separator: "="\n').replace("path: data.csv", "path: /proc/self/environ")},
         OPEN, (("client.yaml", frozenset({7, 8, 9, 10})), ("environ", None)), isolate=True),
    Case("data-file-is-a-fifo", {"data.csv": None}, OPEN, (("client.yaml", frozenset({DATA_LINE})), ("data.csv", None)),
         isolate=True, links=(("fifo", "data.csv", ""),)),
    Case("data-symlink-loop", {"data.csv": None}, INVALID, (("client.yaml", frozenset({DATA_LINE})), ("data.csv", None)),
         links=(("symlink", "data.csv", "data.csv"),)),
    Case("data-the-client-file-itself", {"client.yaml": CLIENT.replace("data: data.csv", "data: client.yaml")}, OPEN,
         (("client.yaml", None),)),
    Case("data-the-playbook", {"client.yaml": CLIENT.replace("data: data.csv", "data: playbook.yaml")}, OPEN,
         (("client.yaml", None), ("playbook.yaml", None))),
    Case("data-separator-nul", {"client.yaml": data_source('    separator: "\\0"\n')}, OPEN,
         (("client.yaml", frozenset({7, 8, 9})), ("data.csv", None))),
    Case("data-separator-long", {"client.yaml": data_source('    separator: ";;;;"\n')}, OPEN,
         (("client.yaml", frozenset({7, 8, 9})), ("data.csv", None))),
    Case("data-encoding-not-a-text-encoding", {"client.yaml": data_source("    encoding: rot13\n")}, INVALID,
         (("client.yaml", frozenset({7, 8, 9})),)),
    Case("data-encoding-that-does-not-exist", {"client.yaml": data_source("    encoding: cp-0\n")}, INVALID,
         (("client.yaml", frozenset({7, 8, 9})),)),
    Case("data-date-format-injection", {"client.yaml": data_source('    date_format: "%Y-%m-%d%n%s%%%"\n')}, OPEN,
         (("client.yaml", frozenset({7, 8, 9})), ("data.csv", None))),
]

# ---------------------------------------------------------------- --output onto an input or nowhere
OUTPUT_CASES = [
    Case("output-onto-the-client-file", check_args=("--output", "client.yaml"), expect=CHECK_INVALID, where=at("client.yaml")),
    Case("output-onto-the-data-file", check_args=("--output", "data.csv"), expect=CHECK_INVALID, where=at("data.csv")),
    Case("output-onto-the-playbook", check_args=("--output", "playbook.yaml"), expect=CHECK_INVALID, where=at("playbook.yaml")),
    Case("output-onto-the-data-by-another-path", check_args=("--output", "./sub/../data.csv"), expect=CHECK_INVALID,
         where=at("data.csv"), links=(("folder", "sub", ""),)),
    Case("output-through-a-symlink-to-the-data", check_args=("--output", "report.json"), expect=CHECK_INVALID,
         where=at("report.json"), links=(("symlink", "report.json", "data.csv"),)),
    Case("output-through-a-hardlink-to-the-playbook", check_args=("--output", "report.json"), expect=CHECK_INVALID,
         where=at("report.json"), links=(("hardlink", "report.json", "playbook.yaml"),)),
    Case("output-dot", check_args=("--output", "."), expect=CHECK_INVALID, where=at(".")),
    Case("output-empty", check_args=("--output", ""), expect=CHECK_INVALID, where=(("", None), (".", None))),
    Case("output-a-folder-that-does-not-exist", check_args=("--output", "nowhere/report.json"), expect=CHECK_INVALID,
         where=at("report.json")),
    *[
        Case(f"option-period-{name}", check_args=("--period", value), expect=CHECK_INVALID, where=at("--period"))
        for name, value in (
            ("month-99", "9999-99"), ("empty", ""), ("24-digits", "1" + "0" * 23), ("week-99", "2026-W99"),
            ("year-0", "0000-01"), ("february-30", "2026-02-30"), ("quarter-5", "2026-Q5"), ("nul", "2026\x00-01"),
        )
    ],
    Case("option-fail-on-nonsense", check_args=("--fail-on", "fail,__class__"), expect=CHECK_INVALID, where=at("--fail-on")),
    Case("option-lang-path", check_args=("--lang", "../../../../etc/passwd"), expect=OPEN, where=at("--lang"), values=(6,)),
    Case("output-dev-null", check_args=("--output", "/dev/null"), expect=OPEN, where=at("null")),
]

# ---------------------------------------------------------------- the same on the bundled library
def on_library(case: Case) -> Case:
    return dataclasses.replace(case, id=f"{case.id}-on-builtin-smm", library=True)


BASELINE = Case("baseline", expect=VALID, values=(6,))
_BY_ID = {case.id: case for case in FORMULA_CASES + BREAKOUT_CASES + YAML_CASES + TARGET_CASES + DATA_CASES}
LIBRARY_CASES = [on_library(BASELINE)] + [
    on_library(_BY_ID[id])
    for id in (
        "formula-pow-float-10-400",
        "formula-number-as-condition",
        "formula-not-as-number",
        "formula-fullwidth-lookalike-name",
        "formula-breakout-dunder-class",
        "formula-breakout-lambda",
        "yaml-duplicate-key",
        "target-nan",
        "target-400-digits",
        "data-inf-cell",
        "data-text-in-number-column",
        "data-missing-file",
    )
] + [
    Case("formula-unknown-name-on-builtin-smm", {"playbook.yaml": playbook("likes / commnts")}, INVALID, AT_FORMULA,
         library=True),
    Case("kpi-named-like-a-library-kpi-on-builtin-smm", {"playbook.yaml": kpi_named("er")}, OPEN,
         (("playbook.yaml", frozenset({5, FORMULA_LINE})),), library=True),
]

CASES = [BASELINE] + FORMULA_CASES + BREAKOUT_CASES + YAML_CASES + TARGET_CASES + DATA_CASES + OUTPUT_CASES + LIBRARY_CASES
assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"


# ---------------------------------------------------------------- running
@dataclass
class Run:
    command: str
    code: int | None  # None: not finished (see note)
    stdout: str
    stderr: str
    seconds: float
    note: str = ""

    def describe(self) -> str:
        if self.code is None:
            outcome = self.note or "no answer"
        else:
            outcome = f"killed by signal {-self.code}" if self.code < 0 else f"exit {self.code}"
        tail = "\n".join((self.stderr.strip() or "(no stderr)").splitlines()[-12:])
        return f"$ kpi-rules {self.command}  ->  {outcome} in {self.seconds:.1f} s\n{_shorten(tail)}"


def _shorten(text: str, limit: int = 3000) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "\n[...]\n" + text[-limit // 2 :]


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


# One interpreter runs the commands one after the other through kpi_rules.cli.main, the function behind
# `python -m kpi_rules` and the console script, with file descriptors 1 and 2 sent to a file per command (as a
# shell would): the same exit codes, output and tracebacks as separate processes, for half the start-up cost
# (importing polars is most of a run of this tiny agency). It reports on the pipe when each command starts and
# ends, so a command that hangs is killed after TIMEOUT seconds and the next one runs in a new interpreter.
DRIVER = """
import json, os, sys, time
commands, folder, first = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
channel = os.fdopen(os.dup(1), "w")
channel.write("{}\\n"); channel.flush()
from kpi_rules.cli import main
for index, command in enumerate(commands, first):
    sys.stdout.flush(); sys.stderr.flush()
    for fd, suffix in ((1, "out"), (2, "err")):
        target = os.open(os.path.join(folder, f"{index}.{suffix}"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    channel.write(json.dumps({"started": index}) + "\\n"); channel.flush()
    sys.argv = ["kpi-rules", *command]
    started = time.monotonic()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    sys.stdout.flush(); sys.stderr.flush()
    channel.write(json.dumps({"finished": index, "code": code, "seconds": time.monotonic() - started}) + "\\n")
    channel.flush()
"""


def run_isolated(folder: Path, outputs: Path, *commands: tuple[str, ...]) -> list[Run]:
    """Run the commands in a fresh interpreter; one that takes more than TIMEOUT seconds is killed."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    env.update(NO_COLOR="1", PYTHONFAULTHANDLER="1", PYTHONIOENCODING="utf-8", KPI_RULES_TEST_SECRET=SECRET)
    outputs.mkdir()
    results: dict[int, tuple[int | None, float, str]] = {}  # index -> code, seconds, note
    first = 0
    while first < len(commands):
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps(commands[first:]), str(outputs), str(first)],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_limit_memory,
        )
        current, since, pending, killed = None, time.monotonic(), b"", False
        while True:
            # Starting the interpreter (importing polars) may take a while on a busy machine: twice the time.
            limit = TIMEOUT if current is not None else 2 * TIMEOUT
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, since + limit - time.monotonic()))
            if not ready:
                process.send_signal(signal.SIGKILL)  # only the process this test started, by its id
                killed = True
                break
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                event = json.loads(line)
                if "started" in event:
                    current, since = event["started"], time.monotonic()
                elif "finished" in event:
                    results[event["finished"]] = (event["code"], event["seconds"], "")
                    current = None
        process.wait()
        driver_errors = process.stderr.read().decode("utf-8", "replace")
        process.stdout.close()
        process.stderr.close()
        if current is None:  # ended (or was stopped) between commands
            if len(results) < len(commands):
                why = f"the interpreter ended before running it (exit {process.returncode}): {driver_errors[-2000:]}"
                for index in range(first, len(commands)):
                    results.setdefault(index, (None, 0.0, why))
            break
        if killed:
            results[current] = (None, time.monotonic() - since, f"no answer within {TIMEOUT} s: killed")
        else:  # the interpreter died in the middle of the command: a signal, or os._exit
            code = process.returncode if process.returncode != 0 else None
            results[current] = (code, time.monotonic() - since, "the interpreter ended in the middle of the command")
        first = current + 1
    runs = []
    for index, command in enumerate(commands):
        text = {}
        for suffix in ("out", "err"):
            path = outputs / f"{index}.{suffix}"
            text[suffix] = path.read_text("utf-8", "replace") if path.exists() else ""
        code, seconds, note = results[index]
        runs.append(Run(" ".join(command), code, text["out"], text["err"], seconds, note))
    return runs


def run_in_process(cli, command: tuple[str, ...]) -> Run:
    started = time.monotonic()
    result = cli(*command)  # an exception escapes: the test fails with its traceback (exit 3 for a user)
    return Run(" ".join(command), result.exit_code, result.stdout, result.stderr, time.monotonic() - started)


def make_agency(folder: Path, case: Case) -> None:
    files: dict[str, str | bytes | None] = {"playbook.yaml": playbook(), "client.yaml": CLIENT, "data.csv": CSV}
    files.update(case.files)
    for name, content in files.items():
        if content is None:
            continue
        if isinstance(content, str):
            if case.library and name == "playbook.yaml":
                content = content.replace(OWN_METRICS, LIBRARY, 1)
            content = content.encode("utf-8")
        (folder / name).write_bytes(content)
    for kind, name, target in case.links:
        if kind == "symlink":
            (folder / name).symlink_to(target)
        elif kind == "hardlink":
            os.link(folder / target, folder / name)
        elif kind == "folder":
            (folder / name).mkdir()
        elif kind == "fifo":
            os.mkfifo(folder / name)
        else:
            raise ValueError(kind)


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under the folder: a file's hash, a link's target, or 'folder'."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        name, mode = str(path.relative_to(folder)), path.lstat().st_mode
        if stat.S_ISLNK(mode):
            entries[name] = "-> " + os.readlink(path)
        elif stat.S_ISDIR(mode):
            entries[name] = "folder"
        elif stat.S_ISREG(mode):
            entries[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            entries[name] = f"special file {stat.S_IFMT(mode):o}"
    return entries


DIAGNOSTIC = re.compile(r"^(?P<path>.*?)(?::(?P<line>\d+):(?P<column>\d+))?: error (?P<code>KR\d{3}) ", re.MULTILINE)


def diagnostics(run: Run) -> list[tuple[str, int | None, str]]:
    return [
        (match["path"], int(match["line"]) if match["line"] else None, match["code"])
        for match in DIAGNOSTIC.finditer(run.stderr)
    ]


def points_where(run: Run, where) -> bool:
    """A diagnostic names one of the places: the file (by name) and, if lines are given, one of them."""
    for path, line, _ in diagnostics(run):
        for name, lines in where:
            if (Path(path).name == name or path == name) and (lines is None or line in lines):
                return True
    return False


def _strict_constant(name: str):
    raise ValueError(f"{name} in the JSON output")


def _non_finite(value, path="$") -> list[str]:
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{path} = {value}"]
    if isinstance(value, dict):
        return [problem for key, item in value.items() for problem in _non_finite(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [problem for index, item in enumerate(value) for problem in _non_finite(item, f"{path}[{index}]")]
    return []


def attack_value(report: dict):
    for card in report.get("scorecards", []):
        if card.get("period", {}).get("start") == "2026-01-01":
            for kpi in card.get("kpis", []):
                if kpi.get("id") == "attack":
                    return kpi.get("value")
    raise LookupError("no January value of attack in the report")


def value_matches(value, accepted: tuple) -> bool:
    for candidate in accepted:
        if candidate is None and value is None:
            return True
        if candidate is not None and isinstance(value, (int, float)) and math.isclose(value, candidate, rel_tol=1e-9, abs_tol=1e-12):
            return True
    return False


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_attack(case: Case, tmp_path, cli, monkeypatch):
    agency = tmp_path / "agency"
    agency.mkdir()
    make_agency(agency, case)
    before = snapshot(agency)
    check_command = (*CHECK, *case.check_args)
    if case.isolate:
        validate, check = run_isolated(agency, tmp_path / "runs", VALIDATE, check_command)
    else:
        monkeypatch.chdir(agency)
        validate = run_in_process(cli, VALIDATE)
        check = run_in_process(cli, check_command)
    report = f"case {case.id} ({case.expect}):\n{validate.describe()}\n{check.describe()}"
    problems = []

    for run in (validate, check):
        name = run.command.split()[0]
        if run.code is None:
            problems.append(f"{name}: {run.note or 'no answer'}")
        elif run.code not in (0, 1, 2):
            problems.append(f"{name}: exit {run.code}")
        elif run.seconds > TIMEOUT:
            problems.append(f"{name}: took {run.seconds:.1f} s")
        if "Traceback" in run.stderr or "Traceback" in run.stdout or "Fatal Python error" in run.stderr:
            problems.append(f"{name}: a traceback")
        if SECRET in run.stdout or SECRET in run.stderr:
            problems.append(f"{name}: printed a secret from the environment")
        if run.code == 2 and case.where and not points_where(run, case.where):
            problems.append(f"{name}: exit 2 without a diagnostic at {_places(case.where)}")
    if validate.code == 0 and check.code not in (0, 1, 2):
        problems.append("validate accepted files that check crashed on")
    if validate.code == 2 and check.code in (0, 1):
        problems.append("validate refused files that check accepted")

    if case.expect == INVALID:
        problems += [f"{run.command.split()[0]}: expected exit 2" for run in (validate, check) if run.code != 2]
    elif case.expect == CHECK_INVALID and check.code != 2:
        problems.append("check: expected exit 2")
    elif case.expect == VALID:
        problems += [f"{run.command.split()[0]}: expected exit 0 or 1" for run in (validate, check) if run.code not in (0, 1)]

    if check.code in (0, 1) and "--output" not in case.check_args:
        try:
            document = json.loads(check.stdout, parse_constant=_strict_constant)
        except ValueError as error:
            problems.append(f"check: the JSON output does not parse strictly: {error}")
        else:
            problems += [f"check: a non-finite number in the JSON output: {p}" for p in _non_finite(document)[:5]]
            if case.values:
                try:
                    value = attack_value(document)
                except LookupError as error:
                    problems.append(f"check: {error}")
                else:
                    if not value_matches(value, case.values):
                        problems.append(f"check: the value of attack is {value!r}, expected one of {case.values!r}")

    after = snapshot(agency)
    if after != before:
        changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
        problems.append(f"files changed, appeared or disappeared: {changed}")

    assert not problems, "; ".join(problems) + "\n" + report


def _places(where) -> str:
    return " or ".join(f"{name}:{'/'.join(map(str, sorted(lines))) if lines else '*'}" for name, lines in where)
