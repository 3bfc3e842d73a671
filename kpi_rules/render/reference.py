"""What a playbook defines, for people choosing KPIs: `list` and `show` in the terminal.

``kpi_facts`` is the one description of a KPI; the Markdown reference (`docs`) uses it too.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_rules.i18n import N_, translate
from kpi_rules.model import AGGREGATIONS, METHODS, PlaybookDef, kpis_named
from kpi_rules.render.formatting import describe_target

BETTER = {
    "higher": N_("higher is better"),
    "lower": N_("lower is better"),
    "band": N_("best within a band (give min and/or max)"),
}
# The list's short form of ``better``.
DIRECTIONS = {"higher": N_("higher"), "lower": N_("lower"), "band": N_("band")}
# Units the library uses that are words; others ("%", "x", a playbook's own) are shown as written.
UNIT_WORDS = {"count": N_("count"), "currency": N_("currency"), "ratio": N_("ratio"), "minutes": N_("minutes"), "points": N_("points")}


def unit_text(unit: str, lang: str) -> str:
    return translate(UNIT_WORDS[unit], lang) if unit in UNIT_WORDS else unit


def kpi_facts(playbook: PlaybookDef, kpi_id: str, lang: str) -> list[tuple[str, str]]:
    """(heading, text) pairs describing one KPI; empty facts are left out. Headings are the English messages
    (a renderer translates them, and picks facts by them)."""
    kpi = playbook.kpis[kpi_id]
    inputs = ", ".join(f"{metric} ({playbook.metrics[metric].agg})" for metric in playbook.inputs(kpi_id))
    uses = ", ".join(kpis_named(kpi.formula.names, playbook.kpis, playbook.metrics))
    target = playbook.targets.get(kpi_id)
    target_text = target_source = ""
    if target is not None:
        target_text = describe_target(target, kpi.unit, kpi.better, None, lang) + (f"; {target.note}" if target.note else "")
        target_source = target.source
    facts = [
        (N_("Label"), kpi.label(lang)),
        (N_("Labels"), " · ".join(f"{code}: {text}" for code, text in sorted(kpi.labels.items()))),
        (N_("Formula"), kpi.formula.text),
        (N_("Method"), f"{kpi.method}: {translate(METHODS[kpi.method], lang)}"),
        (N_("Inputs"), inputs),
        (N_("Uses KPIs"), uses),
        (N_("Unit"), unit_text(kpi.unit, lang)),
        (N_("Better"), translate(BETTER[kpi.better], lang)),
        (N_("Goals"), ", ".join(playbook.goals_of(kpi_id))),
        (N_("Target"), target_text),
        (N_("Target source"), target_source),
        (N_("Description"), kpi.description),
        (N_("Source"), kpi.source),
    ]
    return [(heading, text) for heading, text in facts if text]


def render_kpi_list(playbook: PlaybookDef, goal: str | None, lang: str, console: Console) -> None:
    table = Table(title=translate("{playbook}: KPIs", lang, playbook=playbook.name), title_justify="left")
    for heading in (N_("id"), N_("label"), N_("formula"), N_("unit"), N_("better"), N_("goals")):
        table.add_column(translate(heading, lang), overflow="fold", ratio=2 if heading == "formula" else None)
    for kpi in playbook.kpis.values():
        goals = playbook.goals_of(kpi.id)
        if goal is None or goal in goals:
            direction = translate(DIRECTIONS[kpi.better], lang)
            table.add_row(kpi.id, kpi.label(lang), kpi.formula.text, unit_text(kpi.unit, lang), direction, ", ".join(goals))
    console.print(table)


def render_metric_list(playbook: PlaybookDef, goal: str | None, lang: str, console: Console) -> None:
    """The raw metrics (with a goal: those its KPIs read): how each rolls up to a period, its unit and its labels;
    the aggregations explained below."""
    read = {metric for kpi in playbook.kpis if goal in playbook.goals_of(kpi) for metric in playbook.inputs(kpi)}
    metrics = [metric for metric in playbook.metrics if goal is None or metric in read]
    table = Table(title=translate("{playbook}: raw metrics", lang, playbook=playbook.name), title_justify="left")
    for heading in (N_("id"), N_("label"), N_("aggregation"), N_("unit"), N_("labels")):
        table.add_column(translate(heading, lang), overflow="fold", ratio=2 if heading == "labels" else None)
    for metric in (playbook.metrics[metric_id] for metric_id in metrics):
        labels = " · ".join(f"{code}: {text}" for code, text in sorted(metric.labels.items()))
        table.add_row(metric.id, metric.label(lang), metric.agg, unit_text(metric.unit, lang), labels)
    console.print(table)
    for agg in dict.fromkeys(playbook.metrics[metric_id].agg for metric_id in metrics):
        console.print(f"{agg}: {translate(AGGREGATIONS[agg], lang)}", markup=False)


def render_kpi_details(playbook: PlaybookDef, kpi_ids: list[str], lang: str, console: Console) -> None:
    for kpi_id in kpi_ids:
        console.print(Text.assemble((kpi_id, "bold"), f" · {playbook.name}"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        for heading, text in kpi_facts(playbook, kpi_id, lang):
            grid.add_row(translate(heading, lang), text)
        console.print(grid)
        console.print()
