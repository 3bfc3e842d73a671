"""YAML input in bounded time and memory: every hostile file is a diagnostic (KR006), never a crash.

The reproductions of the reliability issue run in a subprocess with a time and memory limit: before the
limits the alias bomb took over 300 s and 10 GB, and 50,000 brackets crashed the interpreter, which
in-process would take the whole test run down with it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
import yaml

from kpi_rules import loading
from kpi_rules.diagnostics import InputError
from kpi_rules.loading import MAX_ALIAS_NODES, MAX_DEPTH, MAX_FILE_BYTES, load_yaml, parse_yaml

TIMEOUT = 20  # seconds; each run takes well under one
MEMORY_LIMIT = 2 << 30  # a memory bomb fails instead of swapping the machine


def billion_laughs() -> str:
    """Ten lists, each of nine aliases to the one before: 9**9 strings from 558 bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def brackets(depth: int) -> str:
    return "x: " + "[" * depth + "]" * depth + "\n"


# The aliases of lines 2-5 expand to 74,718 nodes; the first *a4 of line 6 (66,430 more) passes the budget.
# "x: " is the first level of nesting, so the 100th bracket (column 103) is the 101st.
TOO_DEEP = "1:103: error KR006 lists and mappings nested more than 100 deep"
REPRODUCTIONS = {
    "alias-bomb": (billion_laughs(), "6:10: error KR006 aliases expand to more than 100,000 nodes"),
    "recursive-alias": ("x: &a [*a]\n", "1:8: error KR006 alias *a is used inside its own anchor: it would expand forever"),
    "brackets-1000-deep": (brackets(1000), TOO_DEEP),
    "brackets-50000-deep": (brackets(50_000), TOO_DEEP),
}

LOAD = """
import sys
from pathlib import Path
from kpi_rules.diagnostics import InputError
from kpi_rules.loading import load_yaml
try:
    load_yaml(Path(sys.argv[1]))
except InputError as error:
    print(error)
    sys.exit(2)
"""


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_isolated(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    try:
        return subprocess.run(
            [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"took over {TIMEOUT} s")


@pytest.mark.parametrize("name", REPRODUCTIONS)
def test_reproduction_through_load_yaml(tmp_path, name):
    text, expected = REPRODUCTIONS[name]
    (tmp_path / "bad.yaml").write_text(text)
    run = run_isolated("-c", LOAD, "bad.yaml", cwd=tmp_path)
    assert (run.returncode, run.stdout.strip(), run.stderr) == (2, f"bad.yaml:{expected}", "")


@pytest.mark.parametrize("name", REPRODUCTIONS)
def test_reproduction_through_the_cli(tmp_path, name):
    text, expected = REPRODUCTIONS[name]
    (tmp_path / "bad.yaml").write_text(text)
    run = run_isolated("-m", "kpi_rules", "validate", "bad.yaml", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [f"bad.yaml:{expected}", "1 problem(s) in 1 file(s)"]


def refused(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "t.yaml")
    return str(caught.value)


@pytest.mark.parametrize("name", ["alias-bomb", "recursive-alias", "brackets-1000-deep"])
def test_the_pure_python_parser_keeps_the_limits(monkeypatch, name):
    # Where libyaml is missing, PyYAML's own parser feeds the same events.
    monkeypatch.setattr(loading, "Loader", yaml.SafeLoader)
    text, expected = REPRODUCTIONS[name]
    assert refused(text) == f"t.yaml:{expected}"


def test_depth_up_to_the_limit_is_read_and_copied_one_more_is_refused():
    # The alias is copied with copy.deepcopy: its recursion must stay safe at the limit.
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    data = parse_yaml(f"a: &a {nested}\nb: *a\n", "t.yaml").data
    for _ in range(MAX_DEPTH - 2):
        (data["b"],) = data["b"]
    assert data["b"] == []
    expected = f"t.yaml:1:{MAX_DEPTH + 1}: error KR006 lists and mappings nested more than {MAX_DEPTH} deep"
    assert refused("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == expected


def test_depth_counts_block_mappings_and_what_aliases_bring():
    block = "".join("  " * level + f"k{level}:\n" for level in range(MAX_DEPTH + 1))
    assert refused(block + "  " * (MAX_DEPTH + 1) + "v\n").startswith(f"t.yaml:{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}: error KR006")
    # Each half is within the limit; the alias puts one inside the other.
    half = MAX_DEPTH // 2 + 1
    text = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    assert refused(text) == f"t.yaml:2:{half + 4}: error KR006 lists and mappings nested more than {MAX_DEPTH} deep"


def aliased(times: int) -> str:
    """An anchored list of 1,000 nodes (the list and 999 items) and ``times`` aliases to it."""
    return "a: &a [" + ", ".join(["1"] * 999) + "]\nb: [" + ", ".join(["*a"] * times) + "]\n"


def test_aliases_may_expand_to_the_budget_and_not_one_alias_more():
    assert MAX_ALIAS_NODES == 100 * 1000  # what aliased() counts on
    assert len(parse_yaml(aliased(100), "t.yaml").data["b"]) == 100
    assert refused(aliased(101)) == f"t.yaml:2:{5 + 4 * 100}: error KR006 aliases expand to more than 100,000 nodes"


def test_nodes_up_to_the_limit_are_read_one_more_is_refused(monkeypatch):
    monkeypatch.setattr(loading, "MAX_NODES", 10)
    assert parse_yaml("[1, 2, 3, 4, 5, 6, 7, 8, 9]", "t.yaml").data == list(range(1, 10))
    # Keys count: a, 1-4, the list, b, 5, 6, 7 make ten; 8 is the eleventh.
    assert refused("a: [1, 2, 3, 4]\nb: [5, 6, 7, 8]\n") == "t.yaml:2:14: error KR006 more than 10 nodes (keys, values, lists and mappings)"


@pytest.mark.parametrize("text", ["x: &a {y: *a}\n", "x: &a {<<: *a}\n", "x: &a [1, [2, *a]]\n"])
def test_a_recursive_alias_is_refused_at_the_alias(text):
    expected = f"t.yaml:1:{text.index('*') + 1}: error KR006 alias *a is used inside its own anchor: it would expand forever"
    assert expected in refused(text).splitlines()


def test_an_alias_is_a_copy_and_what_is_inside_points_at_the_alias():
    document = parse_yaml("a: &x {k: [1, 2]}\nb: *x\n", "t.yaml")
    assert document.data == {"a": {"k": [1, 2]}, "b": {"k": [1, 2]}}
    assert document.data["b"] is not document.data["a"] and document.data["b"]["k"] is not document.data["a"]["k"]
    assert document.position(("a", "k", 1)) == (1, 15)
    assert document.position(("b", "k", 1)) == (2, 4)
    assert document.position(("b", "k"), key=True) == (2, 1)


def test_undefined_and_duplicate_anchors_are_syntax_errors():
    assert refused("a: *nope\n") == "t.yaml:1:4: error KR002 YAML syntax error: alias *nope has no anchor &nope before it"
    assert refused("a: &x 1\nb: &x 2\n") == "t.yaml:2:4: error KR002 YAML syntax error: anchor &x defined twice"


def test_file_size_up_to_the_limit_is_read_one_byte_more_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("#" * MAX_FILE_BYTES)
    assert load_yaml(path).data is None
    path.write_text("#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert str(caught.value) == f"{path}: error KR006 larger than 10 MB: kpi-rules reads YAML files up to that size"


# Plain YAML with thousands of mistakes of one kind: one did-you-mean search per unknown name, against every
# KPI, was quadratic (a playbook of 20,000 unknown names ran for hours), and 20,000 printed lines took seconds.
def test_20000_unknown_targets_in_a_client_file_are_reported_in_seconds_and_in_brief(tmp_path):
    (tmp_path / "playbook.yaml").write_text("kpi-rules: 1\nname: P\nextends: [builtin:smm]\n")
    (tmp_path / "data.csv").write_text("date,client,likes\n2026-01-01,Acme,1\n")
    targets = ", ".join(f"k{i}: {{target: 1}}" for i in range(20_000))
    client = f"kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [leads]\ndata: data.csv\ntargets: {{{targets}}}\n"
    (tmp_path / "client.yaml").write_text(client)
    run = run_isolated("-m", "kpi_rules", "validate", "client.yaml", cwd=tmp_path)
    lines = run.stderr.splitlines()
    assert run.returncode == 2
    assert lines[0].startswith('client.yaml:6:11: error KR205 target for unknown KPI "k0"')
    assert lines[-1] == "20000 problem(s) in 1 file(s)" and len(lines) < 200


def test_a_playbook_of_20000_unknown_names_is_reported_in_seconds_and_in_brief(tmp_path):
    kpis = "".join(f"  q{i}: {{formula: m{i} / x{i}}}\n" for i in range(20_000))
    (tmp_path / "playbook.yaml").write_text(f"kpi-rules: 1\nname: P\nmetrics:\n  m: {{agg: sum}}\nkpis:\n{kpis}")
    run = run_isolated("-m", "kpi_rules", "validate", "playbook.yaml", cwd=tmp_path)
    lines = run.stderr.splitlines()
    assert run.returncode == 2
    assert lines[0].startswith('playbook.yaml:6:17: error KR201 formula of "q0": unknown name "m0"')
    assert lines[-1] == "40000 problem(s) in 1 file(s)" and len(lines) < 200
