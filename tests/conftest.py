from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

# The session fixtures postgres and spark: real engines for the tests of database sources (tests/servers.py).
from servers import postgres, spark  # noqa: F401
from typer.testing import CliRunner

from kpi_rules.cli import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch):
    """Rendered output is compared as plain text at a fixed width."""
    for name in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def write(tmp_path):
    """Write a dedented text file under tmp_path and return its path."""

    def write_file(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding=encoding)
        return path

    return write_file


@pytest.fixture
def cli():
    """Run the CLI in-process; exceptions are not swallowed."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def mini_agency(write):
    """A playbook and a client on the bundled library, with data chosen per test."""

    def make(data_csv: str, targets: str = "", goals: str = "[leads]", period: str = "month") -> Path:
        write(
            "playbook.yaml",
            """
            kpi-rules: 1
            name: Test playbook
            extends: [builtin:smm]
            """,
        )
        write("data.csv", data_csv)
        return write(
            "client.yaml",
            f"""
            kpi-rules: 1
            client: Acme
            playbook: playbook.yaml
            goals: {goals}
            period: {period}
            currency: RUB
            data: data.csv
            targets: {{{targets}}}
            """,
        )

    return make


@pytest.fixture
def check_problems():
    """The problems of scoring client files: returned with the clients still scored, or raised when none was."""
    from kpi_rules.diagnostics import InputError
    from kpi_rules.pipeline import compile_clients, score

    def run(paths: list[Path], period: str = "latest") -> str:
        try:
            problems = score(compile_clients(paths), period).problems
        except InputError as error:
            problems = error.diagnostics
        return "\n".join(str(problem) for problem in problems if problem.code != "KR304" or "no data file has" not in problem.message)

    return run


EMITTED: set[str] = set()


@pytest.fixture(autouse=True, scope="session")
def record_emitted_codes():
    """Every diagnostic code made while the tests run, for the check that docs/errors.md matches the package."""
    from kpi_rules.diagnostics import Diagnostic

    made = Diagnostic.__init__

    def recording(self, *args, **kwargs):
        made(self, *args, **kwargs)
        EMITTED.add(self.code)

    Diagnostic.__init__ = recording
    yield
    Diagnostic.__init__ = made


def pytest_sessionfinish(session, exitstatus):
    """Run whole, the suite must make every code (in-process: subprocess runs are not seen)."""
    from kpi_rules.diagnostics import CODES

    option = session.config.option
    whole = not option.keyword and not option.markexpr and not option.ignore and session.config.args == ["tests"]
    if whole and session.testscollected and exitstatus == 0:
        never = sorted(set(CODES) - EMITTED)
        if never:
            print(f"\nno test makes these diagnostic codes: {', '.join(never)}")
            session.exitstatus = 1


@pytest.fixture
def browser():
    """A headless Chromium (tests/pages.BROWSER), for the tests marked needs_browser."""
    from pages import BROWSER
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox will not start.
        launched = playwright.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        yield launched
        launched.close()
