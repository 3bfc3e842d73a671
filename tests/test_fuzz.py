"""Random mutations of the example agency never give a traceback or exit 3.

The example playbook, one of its client files and that client's data are copied to a fresh folder and changed
a little (a line deleted, duplicated or swapped, a character changed, a number turned into text or a huge value,
a formula's operator changed, a file cut short, ...), then `validate` and `check` run in-process with
exceptions not caught: an exception escaping is a failing example, as exit 3 would be for a user. Whatever the
mutation, the exit code is 0, 1 or 2; `validate` refuses (2) whatever `check` refuses for the files' sake; and
the JSON `check` prints is strict JSON with finite numbers only.

Deterministic (derandomized, no example database): the same examples on every run.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

from conftest import EXAMPLES
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kpi_rules.cli import app

CLIENT_DATA = {  # the data files each example client reads (see its data: list)
    "b2b-firm": ["data/agency-daily.csv"],
    "coffee-house": ["data/agency-daily.csv", "data/monthly-reach.csv"],
    "fitness-studio": ["data/fitness-studio-vk.csv", "data/monthly-reach.csv"],
}
ORIGINALS = {
    name: (EXAMPLES / name).read_bytes()
    # northwind-logo.svg: the playbook's report logo, read when the playbook compiles
    for name in ["playbook.yaml", "northwind-logo.svg", *(f"clients/{client}.yaml" for client in CLIENT_DATA), *{f for fs in CLIENT_DATA.values() for f in fs}]
}

# What the mutations put in: YAML and CSV syntax, encodings, numbers out of range, formula syntax.
CHARACTERS = [
    b":", b"-", b" ", b"\t", b"{", b"}", b"[", b"]", b"&", b"*", b"!", b"#", b"'", b'"', b"|", b">", b"%", b"@",
    b",", b";", b".", b"0", b"9", b"\x00", b"\r", b"\n", b"\xc3\xa9", b"\xe9", b"\xef\xbb\xbf", b"\xd0",
]
SNIPPETS = [
    b": ", b"- ", b"&a ", b"*a", b"<<: *a", b"!!python/name:os.system ", b"!!binary ", b"? ", b"---\n", b"...\n",
    b"{", b"[", b"nan", b".inf", b"-.nan", b"1e999", b"9" * 40, b"\xef\xbb\xbf", b"\r\n", b"__class__", b"~",
    b"x: &a [*a]\n", b"  extra: {agg: sum}\n", b"kpi-rules: 1\n", b"\"", b"'", b"\\", b"${HOME}", b"%s%n",
]
NUMBERS = [
    b"abc", b"", b"1e999", b"-1e999", b"9" * 400, b"-0", b"NaN", b"inf", b"-inf", b"-1", b"0", b"0.0",
    b"1e-320", b"99999999999999999999", b".inf", b".nan", b"0x10", b"1_000", b"1 234,5", b"1,5", b"true", b"null",
    b"2026-13-45", b"\xd0\xb4\xd0\xb0",
]
OPERATORS = [
    b" + ", b" - ", b" * ", b" / ", b" ** ", b" ** 1000 * ", b" // ", b" % ", b" and ", b" or ", b" < ", b" == ",
    b" if 1 else ", b".", b"(", b")", b" / 0 * ", b" ", b",",
]
FORMULAS = [
    b"story_replies / story_views ** 1000", b"previous(previous(story_views))", b"story_er", b"er + story_er",
    b"max(story_views, 1) / min(story_replies, 0)", b"1 if story_views > 0 else 0", b"coalesce(story_views, 0) / days",
    b"round(story_views, 2) / days_with_data", b"story_views / 0", b"(0 - story_views) ** 0.5", b"story_views ** -1",
    b"story_views if story_replies > 0 and story_views > 0 else 0", b"10 ** 400", b"1e308 * story_views",
    b"(story_views > 0) + 1", b"story_views and story_replies", b"not story_views", b"followers - previous(followers)",
    b"story_views.__class__", b"[story_views][0]", b"'x' * 10", b"lambda: 1", b"", b"story_views / (story_replies - story_replies)",
    b"-story_views / -story_replies", b"abs(min(story_views, -story_replies))", b"spend / leads", b"reach", b"date",
]
WORDS = [
    b"formula", b"target", b"warn", b"min", b"max", b"agg", b"sum", b"last", b"mean", b"none", b"extends", b"goals",
    b"kpis", b"metrics", b"client", b"data", b"columns", b"better", b"lower", b"band", b"unit", b"period", b"week",
    b"day", b"year", b"quarter", b"currency", b"USD", b"overrides", b"method", b"mean_of_rows", b"label", b"path",
    b"encoding", b"separator", b"decimal", b"date_format", b"date", b"channel", b"followers", b"reach", b"leads",
    b"spend", b"er", b"cpl", b"story_er", b"builtin", b"smm", b"playbook", b"likes", b"days",
]


def _lines(content: bytes) -> list[bytes]:
    return content.split(b"\n")


def _index(data, size: int, label: str) -> int:
    return data.draw(st.integers(0, max(size - 1, 0)), label=label)


def delete_line(content: bytes, data) -> bytes:
    lines = _lines(content)
    del lines[_index(data, len(lines), "line")]
    return b"\n".join(lines)


def duplicate_line(content: bytes, data) -> bytes:
    lines = _lines(content)
    i = _index(data, len(lines), "line")
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def swap_lines(content: bytes, data) -> bytes:
    lines = _lines(content)
    i, j = _index(data, len(lines), "line"), _index(data, len(lines), "other line")
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def set_character(content: bytes, data) -> bytes:
    i = _index(data, len(content), "byte")
    return content[:i] + data.draw(st.sampled_from(CHARACTERS), label="character") + content[i + 1 :]


def insert_text(content: bytes, data) -> bytes:
    i = data.draw(st.integers(0, len(content)), label="at")
    return content[:i] + data.draw(st.sampled_from(SNIPPETS), label="text") + content[i:]


def _replace_match(content: bytes, data, pattern: bytes, choices: list[bytes], label: str) -> bytes:
    matches = list(re.finditer(pattern, content))
    if not matches:
        return content
    match = matches[_index(data, len(matches), f"which {label}")]
    return content[: match.start()] + data.draw(st.sampled_from(choices), label=label) + content[match.end() :]


def change_number(content: bytes, data) -> bytes:
    return _replace_match(content, data, rb"-?\d+(?:[.,]\d+)?", NUMBERS, "number")


def change_operator(content: bytes, data) -> bytes:
    return _replace_match(content, data, rb" [-+*/<>] |\*\*", OPERATORS, "operator")


def change_formula(content: bytes, data) -> bytes:
    return _replace_match(content, data, rb"(?<=formula: )[^\n#]*", FORMULAS, "formula")


def change_word(content: bytes, data) -> bytes:
    return _replace_match(content, data, rb"[A-Za-z_]+", WORDS, "word")


def change_cell(content: bytes, data) -> bytes:
    lines = _lines(content)
    i = _index(data, len(lines), "line")
    separator = b";" if lines[0].count(b";") > lines[0].count(b",") else b","
    cells = lines[i].split(separator)
    cells[_index(data, len(cells), "cell")] = data.draw(st.sampled_from(NUMBERS), label="cell")
    lines[i] = separator.join(cells)
    return b"\n".join(lines)


def truncate(content: bytes, data) -> bytes:
    return content[: data.draw(st.integers(0, len(content)), label="length")]


MUTATIONS = {
    function.__name__: function
    for function in (
        delete_line, duplicate_line, swap_lines, set_character, insert_text, change_number, change_operator,
        change_formula, change_word, change_cell, truncate,
    )
}

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)  # an exception escapes: a failure


def _strict(name: str):
    raise ValueError(f"{name} in the JSON output")


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    # Shrinking re-runs the CLI hundreds of times; the failing example is printed as it is, with its mutations.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_examples_never_crash(data):
    client = data.draw(st.sampled_from(sorted(CLIENT_DATA)), label="client")
    client_file = f"clients/{client}.yaml"
    files = dict(ORIGINALS)
    mutated = set()
    for _ in range(data.draw(st.integers(1, 3), label="number of mutations")):
        name = data.draw(st.sampled_from(["playbook.yaml", client_file, *CLIENT_DATA[client]]), label="file")
        mutation = data.draw(st.sampled_from(sorted(MUTATIONS)), label="mutation")
        files[name] = MUTATIONS[mutation](files[name], data)
        mutated.add(name)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, content in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)

        # The data is no business of validate's: unchanged YAML files are valid, as the examples are.
        if mutated - set(CLIENT_DATA[client]):
            validated = run("validate", root / "playbook.yaml", root / client_file)
            assert validated.exit_code in (0, 2), validated.output
            assert "Traceback" not in validated.output
        else:
            validated = None
        checked = run("check", root / client_file, "--format", "json")
        assert checked.exit_code in (0, 1, 2), checked.output
        assert "Traceback" not in checked.output
        if validated is not None and validated.exit_code == 2:
            assert checked.exit_code == 2, f"validate refused the files but check accepted them:\n{validated.output}"
        if checked.exit_code in (0, 1):
            report = json.loads(checked.stdout, parse_constant=_strict)
            assert _finite(report), "a non-finite number in the JSON output"
        for name, content in files.items():
            assert (root / name).read_bytes() == content, f"{name} changed"


def test_the_examples_are_valid():
    """The starting point of the mutations: every example client validates and scores."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, content in ORIGINALS.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        for client in CLIENT_DATA:
            assert run("validate", root / "playbook.yaml", root / f"clients/{client}.yaml").exit_code == 0
            assert run("check", root / f"clients/{client}.yaml", "--format", "json").exit_code in (0, 1)
