"""The report of ``kpi-rules test``: plain text for the terminal, or JUnit XML for CI.

JUnit: a testsuite per test file, a testcase per test (a <failure> listing each expectation missed), and a
testsuite "coverage" with a testcase per playbook that fails when its coverage is below --min-coverage.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import IO

from kpi_rules.playbook_tests import Coverage, PlaybookTestReport, PlaybookTestResult
from kpi_rules.render.junit import NOT_XML


def render_test_text(report: PlaybookTestReport, stream: IO[str]) -> None:
    path = None
    for result in report.results:
        if result.path != path:
            path = result.path
            stream.write(f"{path}\n")
        stream.write(f"  {'PASS' if result.passed else 'FAIL'}  {result.name} · {result.period}  (line {result.line})\n")
        for mismatch in result.mismatches:
            stream.write(f"        {mismatch.kpi} {mismatch.what}: expected {mismatch.expected}, got {mismatch.actual}\n")
    for coverage in report.coverage:
        stream.write(coverage_line(coverage, report.min_coverage) + "\n")
    failed = sum(not result.passed for result in report.results)
    stream.write(f"{len(report.results)} test(s): {len(report.results) - failed} passed, {failed} failed\n")


def coverage_line(coverage: Coverage, minimum: float | None) -> str:
    tested = len(coverage.kpis) - len(coverage.untested)
    text = f"Coverage of {coverage.playbook}: {tested} of {len(coverage.kpis)} KPIs tested ({_percent(coverage.percent)})"
    if coverage.untested:
        text += f"; not tested: {', '.join(coverage.untested)}"
    if minimum is not None and coverage.percent < minimum:
        text += f"\n  below --min-coverage {_percent(minimum)}"
    return text


def render_test_junit(report: PlaybookTestReport, stream: IO[str]) -> None:
    root = ET.Element("testsuites", name="kpi-rules test")
    suites: dict[str, ET.Element] = {}
    for result in report.results:
        suite = suites.get(result.path)
        if suite is None:
            suite = suites[result.path] = _suite(root, result.path)
        _case(suite, result.path, result.name, _failure(result))
    if report.coverage:
        suite = _suite(root, "coverage")
        for coverage in report.coverage:
            below = report.min_coverage is not None and coverage.percent < report.min_coverage
            message = coverage_line(coverage, report.min_coverage).replace("\n  ", "; ")
            case = _case(suite, "coverage", coverage.playbook, (message, message) if below else None)
            if not below:
                ET.SubElement(case, "system-out").text = message
    for name in ("tests", "failures", "errors", "skipped"):
        root.set(name, str(sum(int(suite.get(name)) for suite in root)))
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(NOT_XML.sub("\ufffd", ET.tostring(root, encoding="unicode")))
    stream.write("\n")


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name, tests="0", failures="0", errors="0", skipped="0")


def _case(suite: ET.Element, classname: str, name: str, failure: tuple[str, str] | None) -> ET.Element:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    suite.set("tests", str(int(suite.get("tests")) + 1))
    if failure is not None:
        message, text = failure
        ET.SubElement(case, "failure", type="fail", message=message).text = text
        suite.set("failures", str(int(suite.get("failures")) + 1))
    return case


def _failure(result: PlaybookTestResult) -> tuple[str, str] | None:
    if result.passed:
        return None
    lines = [f"{m.kpi} {m.what}: expected {m.expected}, got {m.actual}" for m in result.mismatches]
    return "; ".join(lines), f"{result.name} · {result.period}\n" + "\n".join(lines)


def _percent(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"
