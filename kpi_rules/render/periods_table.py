"""Plan and fact over time in the terminal: per client, a table of KPIs (rows) by periods (columns)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_rules.i18n import N_, translate
from kpi_rules.render.formatting import format_score, format_value, period_label
from kpi_rules.render.table import STATUS_STYLE, common_language, status_label
from kpi_rules.results import Scorecard

# The grains a title names ("by month"), as the catalogue has them.
GRAINS = {"day": N_("by day"), "week": N_("by week"), "month": N_("by month"), "quarter": N_("by quarter"), "year": N_("by year")}
# A column's borders and padding: "│ " before a cell and " " after it.
COLUMN_FRAME = 3


def render_periods(scorecards: list[Scorecard], console: Console) -> None:
    """Per client (and playbook and grain), each KPI's value and status mark in every period, then the score.

    Periods that do not fit the console's width go on to a next table, so a year of months stays readable.
    """
    by_client: dict[tuple[str, str, str], list[Scorecard]] = {}
    for card in scorecards:
        by_client.setdefault((card.client, card.playbook, card.grain), []).append(card)
    for (client, playbook, grain), cards in by_client.items():
        cards.sort(key=lambda card: card.start)
        lang = common_language(cards)
        # Money is in one currency a client: named once in the title, not in every cell.
        currency = next((card.currency for card in cards if card.currency), None)
        by_grain = translate(GRAINS[grain], lang) if grain in GRAINS else f"by {grain}"
        title = Text.assemble((client, "bold"), f" · {playbook} · {by_grain}", f" · {currency}" if currency else "")
        rows = _rows(cards, lang)
        label_width = max(Text(label).cell_len for label, _ in rows)
        # Above the tables, not their title: a narrow table would wrap it.
        console.print(title)
        for part in _fitting(cards, rows, console.width - label_width - COLUMN_FRAME - 1):
            table = Table()
            table.add_column(translate("KPI", lang))
            for card in part:
                unfinished = "*" if card.days_elapsed is not None else ""
                table.add_column(period_label(grain, card.start, card.end) + unfinished, justify="right", no_wrap=True)
            for number, (label, cells) in enumerate(rows):
                # A line between the KPIs and the score.
                table.add_row(label, *(cells[card.start] for card in part), end_section=number == len(rows) - 2)
            console.print(table)
        for card in cards:
            if card.days_elapsed is not None:
                note = translate(
                    "{period} is not over ({elapsed} of {days} days): values so far, statuses on its pace",
                    lang,
                    period=period_label(grain, card.start, card.end),
                    elapsed=card.days_elapsed,
                    days=card.days,
                )
                console.print(f"* {note}", markup=False, style="dim")
        console.print(Text("  ".join(status_label(status, lang) for status in STATUS_STYLE), style="dim"))
        console.print()


def _rows(cards: list[Scorecard], lang: str) -> list[tuple[str, dict]]:
    """(label, period start -> cell): every KPI any period has, in the order they come, then the score."""
    rows: dict[str, tuple[str, dict]] = {}
    for card in cards:
        for kpi in card.kpis:
            label, style = STATUS_STYLE[kpi.status]
            # The mark is the status label's first character: ✔ ! ✘ ? ~ ·
            cell = Text.assemble(format_value(kpi.value, kpi.unit, None, lang), " ", (label[0], style))
            rows.setdefault(kpi.id, (kpi.label, {}))[1][card.start] = cell
    for _, cells in rows.values():
        for card in cards:
            cells.setdefault(card.start, Text(""))
    return [*rows.values(), (translate("Score", lang), {card.start: Text(format_score(card.score), style="bold") for card in cards})]


def _fitting(cards: list[Scorecard], rows: list[tuple[str, dict]], room: int) -> list[list[Scorecard]]:
    """The periods in runs whose columns fit in ``room`` characters (at least one period a run)."""
    parts: list[list[Scorecard]] = [[]]
    used = 0
    for card in cards:
        width = max(Text(period_label(card.grain, card.start, card.end) + "*").cell_len, *(cells[card.start].cell_len for _, cells in rows))
        width += COLUMN_FRAME
        if parts[-1] and used + width > room:
            parts.append([])
            used = 0
        parts[-1].append(card)
        used += width
    return parts
