"""Playbook unit tests (``kpi-rules test``): made-up data rows scored by the real pipeline, against expectations.

A test file (``*.test.yaml``, schemas/test.schema.json) names a playbook and lists tests: rows written inline,
the period to score, and per KPI the value (within a tolerance) and/or status it must have. Each test becomes
a one-client ClientGroupDef whose rows are written to a temporary CSV file, scored by ``pipeline.score`` like
any client, so a test exercises what ``check`` does. Coverage: the KPIs the playbook itself defines, scores
in a goal or sets a target for (not the bundled library's), against those some test expects something of.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from kpi_rules.compile import Compiler
from kpi_rules.diagnostics import Diagnostic, InputError, Suggestions
from kpi_rules.layers import Origin
from kpi_rules.loading import Document, load_yaml
from kpi_rules.model import KEY_COLUMNS, ClientDef, ClientGroupDef, GoalDef, PlaybookDef, SourceDef
from kpi_rules.resources import bundled_dir

TEST_SUFFIXES = (".test.yaml", ".test.yml")
DEFAULT_TOLERANCE = 0.005  # half a hundredth: a value as the reports show it, to two decimals
TESTED_GOAL = "kpi-rules test"  # the made-up goal that scores exactly the KPIs a test expects something of


@dataclass(frozen=True)
class Expectation:
    kpi: str
    value: float | None
    tolerance: float
    status: str | None


@dataclass(frozen=True)
class PlaybookTestDef:
    name: str
    index: int  # in the file's tests
    grain: str
    period: str
    currency: str | None
    rows: tuple[dict, ...]
    expectations: tuple[Expectation, ...]
    targets: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PlaybookTestFileDef:
    document: Document
    playbook: PlaybookDef
    tests: tuple[PlaybookTestDef, ...]


@dataclass(frozen=True)
class Mismatch:
    kpi: str
    what: str  # value or status
    expected: str
    actual: str


@dataclass(frozen=True)
class PlaybookTestResult:
    path: str
    line: int
    name: str
    period: str  # as scored: 2026-10, 2026-W42, 2026-10-05
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class Coverage:
    playbook: str
    kpis: tuple[str, ...]  # the playbook's own
    tested: tuple[str, ...]

    @property
    def untested(self) -> list[str]:
        return [kpi for kpi in self.kpis if kpi not in self.tested]

    @property
    def percent(self) -> float:
        return 100.0 * len([k for k in self.kpis if k in self.tested]) / len(self.kpis) if self.kpis else 100.0


@dataclass(frozen=True)
class PlaybookTestReport:
    results: tuple[PlaybookTestResult, ...]
    coverage: tuple[Coverage, ...]
    min_coverage: float | None = None

    @property
    def below_minimum(self) -> list[Coverage]:
        return [c for c in self.coverage if self.min_coverage is not None and c.percent < self.min_coverage]

    @property
    def failed(self) -> bool:
        return any(not result.passed for result in self.results) or bool(self.below_minimum)


def is_test_file(path: Path) -> bool:
    return path.name.endswith(TEST_SUFFIXES)


def discover_test_files(paths: list[Path]) -> list[Path]:
    """Files named, and the ``*.test.yaml`` files in folders named."""
    files: list[Path] = []
    problems = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if is_test_file(p) and p.is_file())
            if not found:
                problems.append(Diagnostic(str(path), None, None, "KR001", "folder has no *.test.yaml files"))
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(Diagnostic(str(path), None, None, "KR001", "file not found"))
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(files))


def compile_test_files(paths: list[Path]) -> list[PlaybookTestFileDef]:
    """Every test file loaded, validated and checked against its playbook; all problems raised together."""
    compiler = Compiler()
    compiled = [test_file for path in discover_test_files(paths) if (test_file := compile_test_file(compiler, path)) is not None]
    compiler.raise_if_failed()
    return compiled


def compile_test_file(compiler: Compiler, path: Path) -> PlaybookTestFileDef | None:
    document = compiler.validated(compiler.load(path), "test")
    if document is None:
        return None
    before = len(compiler.diagnostics)
    playbook = compiler.playbook(document.data["playbook"], path.parent, Origin(document, ("playbook",)))
    if playbook is None:
        return None
    tests = tuple(_compile_test(compiler, document, index, playbook) for index in range(len(document.data["tests"])))
    return None if len(compiler.diagnostics) > before else PlaybookTestFileDef(document, playbook, tests)


def _compile_test(compiler: Compiler, document: Document, index: int, playbook: PlaybookDef) -> PlaybookTestDef:
    fields = document.data["tests"][index]
    at = ("tests", index)
    kpis, metrics = Suggestions(playbook.kpis), Suggestions(playbook.metrics)
    expectations = []
    for kpi, expected in fields["expect"].items():
        if kpi not in playbook.kpis:
            compiler.diagnostics.append(document.diagnostic((*at, "expect", kpi), "KR205", f'unknown KPI "{kpi}"{kpis(kpi)}', key=True))
        elif "value" not in expected and "status" not in expected:
            compiler.diagnostics.append(document.diagnostic((*at, "expect", kpi), "KR102", f'expect "{kpi}": give its value, its status or both'))
        expectations.append(Expectation(kpi, expected.get("value"), expected.get("tolerance", DEFAULT_TOLERANCE), expected.get("status")))
    for row_index, row in enumerate(fields["rows"]):
        for name in row:
            if name not in KEY_COLUMNS and name not in playbook.metrics:
                where = (*at, "rows", row_index, name)
                compiler.diagnostics.append(document.diagnostic(where, "KR205", f'unknown metric "{name}"{metrics(name)}', key=True))
            elif name == "client":
                where = (*at, "rows", row_index, name)
                compiler.diagnostics.append(document.diagnostic(where, "KR101", "a test's rows are one client's: leave out client", key=True))
    targets_at = (*at, "targets")
    written = {kpi: (spec, Origin(document, (*targets_at, kpi))) for kpi, spec in fields.get("targets", {}).items()}
    targets = compiler.targets(written, dict(playbook.kpis), playbook.kpis.keys())
    return PlaybookTestDef(
        name=fields["name"],
        index=index,
        grain=fields.get("grain", "month"),
        period=str(fields.get("period", "latest")),
        currency=fields.get("currency"),
        rows=tuple(fields["rows"]),
        expectations=tuple(expectations),
        targets=targets,
    )


def run_test_files(files: list[PlaybookTestFileDef], min_coverage: float | None = None) -> PlaybookTestReport:
    """Every test run; coverage per playbook over all the files that test it."""
    results = []
    problems: list[Diagnostic] = []
    tested: dict[str, tuple[PlaybookDef, set[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="kpi-rules-test-") as folder:
        for test_file in files:
            for test in test_file.tests:
                try:
                    results.append(run_test(test_file, test, Path(folder)))
                except InputError as error:
                    problems += error.diagnostics
            _, kpis = tested.setdefault(test_file.playbook.path, (test_file.playbook, set()))
            kpis.update(e.kpi for test in test_file.tests for e in test.expectations)
    if problems:
        raise InputError(problems)
    coverage = tuple(Coverage(path, tuple(own_kpis(playbook)), tuple(sorted(kpis))) for path, (playbook, kpis) in tested.items())
    return PlaybookTestReport(tuple(results), coverage, min_coverage)


def run_test(test_file: PlaybookTestFileDef, test: PlaybookTestDef, folder: Path) -> PlaybookTestResult:
    """Score the test's rows as a client of the playbook and compare with what it expects."""
    from kpi_rules.pipeline import score
    from kpi_rules.render.junit import period_name

    document = test_file.document
    data = folder / f"test-{id(test)}.csv"
    _write_rows(test.rows, data)
    group = _client_group(test_file, test, data)
    try:
        results = score([group], test.period)
    except InputError as error:
        raise InputError([_in_test_file(d, data, document, test) for d in error.diagnostics]) from None
    errors = [_in_test_file(d, data, document, test) for d in results.problems if d.is_error]
    cards = list(results)
    if not errors and len(cards) != 1:
        periods = ", ".join(f"{card.start}..{card.end}" for card in cards[:4])
        message = f'test "{test.name}": period {test.period} holds {len(cards)} periods of the grain ({periods}): name one'
        errors.append(document.diagnostic(("tests", test.index, "period"), "KR610", message))
    if errors:
        raise InputError(errors)
    card = cards[0]
    found = {kpi.id: kpi for kpi in card.kpis}
    mismatches = []
    for expected in test.expectations:
        actual = found[expected.kpi]
        if expected.value is not None and (actual.value is None or abs(actual.value - expected.value) > expected.tolerance):
            got = "no value" + (f" ({actual.reason})" if actual.reason else "") if actual.value is None else _number(actual.value)
            mismatches.append(Mismatch(expected.kpi, "value", f"{_number(expected.value)} ± {_number(expected.tolerance)}", got))
        if expected.status is not None and actual.status != expected.status:
            mismatches.append(Mismatch(expected.kpi, "status", expected.status, actual.status))
    line, _ = document.position(("tests", test.index))
    period = period_name({"grain": card.grain, "period_start": card.start, "period_end": card.end})
    return PlaybookTestResult(document.path, line, test.name, period, tuple(mismatches))


def own_kpis(playbook: PlaybookDef) -> list[str]:
    """The KPIs a playbook's own files define, score in a goal or set a target for; all of a bundled one's."""
    bundled = bundled_dir("rules").resolve()
    own = [path for path in playbook.files if not Path(path).resolve().is_relative_to(bundled)]
    if not own:
        return list(playbook.kpis)
    named: dict[str, None] = {}
    for path in own:
        data = load_yaml(Path(path)).data
        named.update(dict.fromkeys(data.get("kpis", {})))
        for goal in data.get("goals", {}).values():
            named.update(dict.fromkeys(goal.get("kpis", ())))
        named.update(dict.fromkeys(data.get("targets", {})))
    return [kpi for kpi in playbook.kpis if kpi in named]


def _client_group(test_file: PlaybookTestFileDef, test: PlaybookTestDef, data: Path) -> ClientGroupDef:
    """The test as a client file: one client (named after the test) scored on exactly the KPIs it expects."""
    kpis = tuple(dict.fromkeys(e.kpi for e in test.expectations))
    playbook = replace(test_file.playbook, goals={TESTED_GOAL: GoalDef(TESTED_GOAL, kpis)})
    client = ClientDef(
        name=test.name,
        path=test_file.document.path,
        playbook=playbook,
        goals=(TESTED_GOAL,),
        grain=test.grain,
        sources=(SourceDef(path=data, format="csv"),),
        targets={**playbook.targets, **test.targets},
        currency=test.currency,
    )
    return ClientGroupDef(test_file.document.path, (test.name,), client)


def _write_rows(rows: tuple[dict, ...], path: Path) -> None:
    columns = list(dict.fromkeys(name for row in rows for name in row))
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(name) is None else _cell(row[name]) for name in columns])


def _cell(value) -> str:
    # repr keeps every digit of a float; a whole number is written without ".0" for the data's integer columns.
    return str(value) if not isinstance(value, float) else repr(value)


def _in_test_file(diagnostic: Diagnostic, data: Path, document: Document, test: PlaybookTestDef) -> Diagnostic:
    """A problem the pipeline found in the temporary data file, pointed at the row of the test it came from."""
    if diagnostic.path != str(data):
        if diagnostic.path == document.path and diagnostic.line is None:
            # No rows in the period is the period's problem; any other (a metric no row has) the rows'.
            line, column = document.position(("tests", test.index, "period" if diagnostic.code == "KR305" else "rows"))
            return replace(diagnostic, line=line, column=column, message=f'test "{test.name}": {diagnostic.message}')
        return diagnostic
    where: tuple = ("tests", test.index, "rows")
    if diagnostic.line is not None and diagnostic.line >= 2:
        where += (diagnostic.line - 2,)  # line 1 of the file is its header
    line, column = document.position(where)
    message = diagnostic.message.replace(str(data), "the rows")
    return replace(diagnostic, path=document.path, line=line, column=column, message=f'test "{test.name}": {message}')


def _number(value: float) -> str:
    return f"{value:,.6f}".rstrip("0").rstrip(".")
