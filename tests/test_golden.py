"""Golden CLI cases: tests/cases/<name>/command holds the arguments (run from the
repository root), expected.txt what the CLI prints on stdout, expected-stderr.txt
what it prints on stderr (problems and warnings; absent when nothing), exit_code its exit code.

Regenerate after an intended change with KPI_RULES_UPDATE_GOLDEN=1 and review the diff.
"""

import os
import shlex
from pathlib import Path

import pytest
from conftest import REPO

CASES = sorted(path for path in (Path(__file__).parent / "cases").iterdir() if (path / "command").is_file())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden_case(case, cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli(*shlex.split((case / "command").read_text()))
    expected_output, expected_errors, expected_code = case / "expected.txt", case / "expected-stderr.txt", case / "exit_code"
    if os.environ.get("KPI_RULES_UPDATE_GOLDEN"):
        expected_output.write_text(result.stdout, encoding="utf-8")
        expected_errors.unlink(missing_ok=True)
        if result.stderr:
            expected_errors.write_text(result.stderr, encoding="utf-8")
        expected_code.write_text(f"{result.exit_code}\n")
    assert result.stdout == expected_output.read_text(encoding="utf-8")
    assert result.stderr == (expected_errors.read_text(encoding="utf-8") if expected_errors.exists() else "")
    assert result.exit_code == int(expected_code.read_text())
