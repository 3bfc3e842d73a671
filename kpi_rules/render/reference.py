"""What a playbook defines, for people choosing KPIs: `list` and `show` in the terminal.

``kpi_facts`` is the one description of a KPI; the Markdown reference (`docs`) uses it too.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_rules.model import AGGREGATIONS, METHODS, PlaybookDef, kpis_named
from kpi_rules.render.table import format_target

BETTER = {
    "higher": "higher is better",
    "lower": "lower is better",
    "band": "best within a band (give min and/or max)",
}


def kpi_facts(playbook: PlaybookDef, kpi_id: str, lang: str) -> list[tuple[str, str]]:
    """(heading, text) pairs describing one KPI; empty facts are left out. Headings are the English messages
    (a renderer translates them, and picks facts by them)."""
    kpi = playbook.kpis[kpi_id]
    inputs = ", ".join(f"{metric} ({playbook.metrics[metric].agg})" for metric in playbook.inputs(kpi_id))
    uses = ", ".join(kpis_named(kpi.formula.names, playbook.kpis, playbook.metrics))
    target = playbook.targets.get(kpi_id)
    target_text = target_source = ""
    if target is not None:
        target_text = format_target(target.as_dict(), kpi.unit, kpi.better, None) + (f"; {target.note}" if target.note else "")
        target_source = target.source
    facts = [
        ("Label", kpi.label(lang)),
        ("Labels", " · ".join(f"{code}: {text}" for code, text in sorted(kpi.labels.items()))),
        ("Formula", kpi.formula.text),
        ("Method", f"{kpi.method}: {METHODS[kpi.method]}"),
        ("Inputs", inputs),
        ("Uses KPIs", uses),
        ("Unit", kpi.unit),
        ("Better", BETTER[kpi.better]),
        ("Goals", ", ".join(playbook.goals_of(kpi_id))),
        ("Target", target_text),
        ("Target source", target_source),
        ("Description", kpi.description),
        ("Source", kpi.source),
    ]
    return [(heading, text) for heading, text in facts if text]


def render_kpi_list(playbook: PlaybookDef, goal: str | None, lang: str, console: Console) -> None:
    table = Table(title=f"{playbook.name}: KPIs", title_justify="left")
    for heading in ("id", "label", "formula", "unit", "better", "goals"):
        table.add_column(heading, overflow="fold", ratio=2 if heading == "formula" else None)
    for kpi in playbook.kpis.values():
        goals = playbook.goals_of(kpi.id)
        if goal is None or goal in goals:
            table.add_row(kpi.id, kpi.label(lang), kpi.formula.text, kpi.unit, kpi.better, ", ".join(goals))
    console.print(table)


def render_metric_list(playbook: PlaybookDef, goal: str | None, lang: str, console: Console) -> None:
    """The raw metrics (with a goal: those its KPIs read): how each rolls up to a period, its unit and its labels;
    the aggregations explained below."""
    read = {metric for kpi in playbook.kpis if goal in playbook.goals_of(kpi) for metric in playbook.inputs(kpi)}
    metrics = [metric for metric in playbook.metrics if goal is None or metric in read]
    table = Table(title=f"{playbook.name}: raw metrics", title_justify="left")
    for heading in ("id", "label", "aggregation", "unit", "labels"):
        table.add_column(heading, overflow="fold", ratio=2 if heading == "labels" else None)
    for metric in (playbook.metrics[metric_id] for metric_id in metrics):
        labels = " · ".join(f"{code}: {text}" for code, text in sorted(metric.labels.items()))
        table.add_row(metric.id, metric.label(lang), metric.agg, metric.unit, labels)
    console.print(table)
    for agg in dict.fromkeys(playbook.metrics[metric_id].agg for metric_id in metrics):
        console.print(f"{agg}: {AGGREGATIONS[agg]}", markup=False)


def render_kpi_details(playbook: PlaybookDef, kpi_ids: list[str], lang: str, console: Console) -> None:
    for kpi_id in kpi_ids:
        console.print(Text.assemble((kpi_id, "bold"), f" · {playbook.name}"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        for heading, text in kpi_facts(playbook, kpi_id, lang):
            grid.add_row(heading, text)
        console.print(grid)
        console.print()
