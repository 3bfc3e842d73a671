"""JUnit XML, the test report every CI reads (Jenkins, GitLab, GitHub actions that publish test results).

A testsuite per client x period ("Coffee House · 2026-10"), a testcase per KPI (classname the client, name the
KPI id). fail is a <failure> whose message gives the value against the target; no_data and waived are
<skipped> with their reason. warn passes with a <system-out> note: the report shows the statuses, whatever
--fail-on says (the exit code carries that policy), so a warn that the run fails on is seen in the job's result,
and one it does not fail on never turns a test red. pass and info pass.

Built with xml.etree, which escapes text and attributes; checked against a schema of the Ant/Jenkins JUnit format
in the tests (tests/data/junit/junit.xsd, our own schema of the format).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import IO

from kpi_rules.render.csv import kpi_rows
from kpi_rules.results import Results

# Characters XML 1.0 does not allow even escaped (control characters but tab, LF, CR; lone surrogates; U+FFFE/F):
# xml.etree writes them as they are, which no parser reads. A client named "Acme\x01" becomes "Acme\ufffd".
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(results: Results, stream: IO[str]) -> None:
    rows = kpi_rows(results)
    root = ET.Element("testsuites", name="kpi-rules")
    suites: dict[tuple, ET.Element] = {}
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for row in rows.iter_rows(named=True):
        key = (row["order"], row["grain_index"], row["period_start"], row["client"])
        suite = suites.get(key)
        if suite is None:
            suite = suites[key] = ET.SubElement(
                root, "testsuite", name=f"{row['client']} · {period_name(row)}", tests="0", failures="0", errors="0", skipped="0"
            )
            # Ant's schema (which Jenkins checks) wants a date and time, without a zone.
            suite.set("timestamp", f"{row['period_start'].isoformat()}T00:00:00")
        case = ET.SubElement(suite, "testcase", classname=row["client"], name=row["kpi"])
        status = row["status"]
        counted = None
        if status == "fail":
            failure = ET.SubElement(case, "failure", type="fail", message=describe(row))
            failure.text = describe(row, long=True)
            counted = "failures"
        elif status in ("no_data", "waived"):
            # A waived KPI's reason already says "waived until <date>: <why>"; no_data's says why there is no value.
            reason = row["reason"] or "no reason given"
            message = reason if status == "waived" and reason.startswith("waived") else f"{status}: {reason}"
            ET.SubElement(case, "skipped", type=status, message=message)
            counted = "skipped"
        elif status == "warn":
            ET.SubElement(case, "system-out").text = f"warn: {describe(row)}"
        for name in ("tests", counted):
            if name:
                suite.set(name, str(int(suite.get(name)) + 1))
                totals[name] += 1
    for name, count in totals.items():
        root.set(name, str(count))
    root.set("errors", "0")
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(NOT_XML.sub("\ufffd", ET.tostring(root, encoding="unicode")))
    stream.write("\n")


def period_name(row: dict) -> str:
    """2026-10 for a month, else the first day (a week, quarter or year starts there) or the range."""
    start, end = row["period_start"], row["period_end"]
    if row["grain"] == "month":
        return start.strftime("%Y-%m")
    if row["grain"] == "year":
        return str(start.year)
    if row["grain"] == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if row["grain"] == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"


def describe(row: dict, long: bool = False) -> str:
    """"cpl 737.07 RUB vs target <= 450 (warn <= 600)"; long: the label instead of the id, the gap and the reason."""
    value = "no value" if row["value"] is None else with_unit(row["value"], row)
    text = f"{row['label'] if long else row['kpi']} {value} vs {thresholds(row) or 'no target'}"
    if long and row["gap"] is not None:
        text += f"; gap {_plain(row['gap'])}"
    if long and row["reason"]:
        text += f"; {row['reason']}"
    return text


def with_unit(value: float, row: dict) -> str:
    unit = row["unit"]
    if unit == "%":
        return f"{_plain(value)}%"
    if unit == "x":
        return f"{_plain(value)}×"  # as the table writes it
    if unit == "currency":
        unit = row.get("currency")
    # count and ratio are bare numbers, as in the table ("1.54", not "1.54 ratio").
    return f"{_plain(value)} {unit}" if unit and unit not in ("count", "ratio") else _plain(value)


def thresholds(row: dict) -> str:
    better = ">=" if row["better"] == "higher" else "<="
    percent = "%" if row["unit"] == "%" else ""  # "target >= 5%": a bare 5 beside "0%" reads as a count

    def _threshold(value: float) -> str:
        return f"{_plain(value)}{percent}"

    parts = []
    if row["target"] is not None:
        parts.append(f"target {better} {_threshold(row['target'])}")
    if row["warn"] is not None:
        parts.append(f"(warn {better} {_threshold(row['warn'])})")
    if row["min"] is not None:
        parts.append(f"min {_threshold(row['min'])}")
    if row["max"] is not None:
        parts.append(f"max {_threshold(row['max'])}")
    return " ".join(parts)


def _plain(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
