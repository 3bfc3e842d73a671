"""``kpi-rules diff`` as plain text, Markdown (a pull request's comment) or JSON."""

from __future__ import annotations

import dataclasses
import json
from typing import IO

from kpi_rules.diff import DiffReport, ScoreChange
from kpi_rules.render.junit import with_unit


def _value(value: float | None, change: ScoreChange) -> str:
    return "no value" if value is None else with_unit(value, {"unit": change.unit, "currency": change.currency})


def _side(value: float | None, status: str | None, change: ScoreChange) -> str:
    return "not scored" if status is None else f"{_value(value, change)} ({status})"


def _summary(report: DiffReport) -> str:
    cards = len({(change.client, change.period) for change in report.scores})
    return (
        f"{len(report.rules)} rule change(s); {len(report.scores)} KPI value(s) or status(es) changed "
        f"in {cards} scorecard(s), {report.rev} -> working tree"
    )


def render_diff_text(report: DiffReport, stream: IO[str]) -> None:
    stream.write(f"Rules ({report.rev} -> working tree)\n")
    if not report.rules:
        stream.write("  no change\n")
    file = None
    for rule in report.rules:
        if rule.file != file:
            file = rule.file
            stream.write(f"  {file}\n")
        stream.write(f"    {rule.kind} {rule.item}: {rule.before or '-'} -> {rule.after or '-'}\n")
    stream.write("Scores\n")
    if not report.scores:
        stream.write("  no change\n")
    card = None
    for change in report.scores:
        if (change.client, change.period) != card:
            card = (change.client, change.period)
            stream.write(f"  {change.client} · {change.period}\n")
        before = _side(change.before_value, change.before_status, change)
        after = _side(change.after_value, change.after_status, change)
        stream.write(f"    {change.kpi}: {before} -> {after}\n")
    for path in report.untracked:
        stream.write(f"Not in git, read from the working tree in both runs: {path}\n")
    stream.write(_summary(report) + "\n")


def render_diff_markdown(report: DiffReport, stream: IO[str]) -> None:
    stream.write(f"## KPI changes: `{_cell(report.rev)}` -> working tree\n\n{_summary(report)}\n\n### Rules\n\n")
    if report.rules:
        stream.write("| File | Change | Item | Before | After |\n|---|---|---|---|---|\n")
        for rule in report.rules:
            cells = (rule.file, rule.kind, rule.item, rule.before or "", rule.after or "")
            stream.write("| " + " | ".join(_cell(cell) for cell in cells) + " |\n")
    else:
        stream.write("No change.\n")
    stream.write("\n### Scores\n\n")
    if report.scores:
        stream.write("| Client | Period | KPI | Before | After |\n|---|---|---|---|---|\n")
        for change in report.scores:
            before = _side(change.before_value, change.before_status, change)
            after = _side(change.after_value, change.after_status, change)
            stream.write("| " + " | ".join(_cell(cell) for cell in (change.client, change.period, change.kpi, before, after)) + " |\n")
    else:
        stream.write("No change.\n")


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: pipes escaped, no line breaks, no HTML."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace("`", "'")


def render_diff_json(report: DiffReport, stream: IO[str]) -> None:
    stream.write(json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False))
    stream.write("\n")
