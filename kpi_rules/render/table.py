"""The terminal scorecard: one table per goal, readable with or without colour."""

from __future__ import annotations

import datetime as dt
from functools import partial

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_rules.results import KpiResult, Scorecard

DETAILS_UP_TO = 20
STATUS_STYLE = {
    "pass": ("✔ pass", "green"),
    "warn": ("! warn", "yellow"),
    "fail": ("✘ fail", "bold red"),
    "no_data": ("? no data", "magenta"),
    "info": ("· info", "dim"),
}


def render_table(scorecards: list[Scorecard], console: Console, details: bool | None = None) -> None:
    """An overview of all clients (when more than one), then each scorecard.

    ``details`` None: scorecards are printed when there are at most DETAILS_UP_TO of them (thousands of
    tables in a terminal help nobody); True or False decides.
    """
    show_details = details if details is not None else len(scorecards) <= DETAILS_UP_TO
    if len(scorecards) > 1 or not show_details:
        console.print(_overview(scorecards))
        console.print()
    if not show_details:
        if details is None:
            console.print(f"{len(scorecards):,} scorecards: only the overview. --details prints each one; --format json has everything.")
        return
    for card in scorecards:
        _render_scorecard(card, console)


def period_label(grain: str, start: dt.date) -> str:
    match grain:
        case "month":
            return start.strftime("%Y-%m")
        case "week":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        case "quarter":
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        case "year":
            return str(start.year)
    return start.isoformat()


def status_text(status: str) -> Text:
    label, style = STATUS_STYLE[status]
    return Text(label, style=style)


def format_value(value: float | None, unit: str, currency: str | None) -> str:
    """A value with its unit: thousands separators and decimals that suit the unit."""
    if value is None:
        return "—"
    match unit:
        case "%":
            return f"{value:,.2f}%"
        case "currency":
            return f"{value:,.2f} {currency}" if currency else f"{value:,.2f}"
        case "count":
            return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
        case "x":
            return f"{value:,.2f}×"
        case "ratio":
            return f"{value:,.2f}"
    return f"{value:,.2f} {unit}".rstrip()


def _format_gap(kpi: KpiResult, currency: str | None) -> str:
    if kpi.gap is None:
        return ""
    unit = "pp" if kpi.unit == "%" else kpi.unit
    sign = "+" if kpi.gap > 0 else ""
    return sign + format_value(kpi.gap, unit, currency)


def format_target(target: dict[str, float] | None, unit: str, better: str, currency: str | None) -> str:
    """Thresholds as a reader says them: "≥ 3.00% (warn ≥ 1.50%)", "≤ 60.00 RUB", "1.50× – 4.00×"."""
    if not target:
        return ""
    show = partial(format_value, unit=unit, currency=currency)
    if "target" in target:
        sign = "≥" if better == "higher" else "≤"
        text = f"{sign} {show(target['target'])}"
        if "warn" in target:
            text += f" (warn {sign} {show(target['warn'])})"
        return text
    if "min" in target and "max" in target:
        return f"{show(target['min'])} – {show(target['max'])}"
    return f"≥ {show(target['min'])}" if "min" in target else f"≤ {show(target['max'])}"


def _overview(scorecards: list[Scorecard]) -> Table:
    table = Table(title="All clients", title_justify="left")
    for heading in ("Client", "Period", "Status", "Pass", "Warn", "Fail", "No data"):
        table.add_column(heading, justify="right" if heading in ("Pass", "Warn", "Fail", "No data") else "left")
    for card in scorecards:
        summary = card.summary
        table.add_row(
            card.client,
            period_label(card.grain, card.start),
            status_text(card.status),
            *(str(summary[s]) for s in ("pass", "warn", "fail", "no_data")),
        )
    return table


def _render_scorecard(card: Scorecard, console: Console) -> None:
    header = Text()
    header.append(card.client, style="bold")
    header.append(f" · {period_label(card.grain, card.start)} · ")
    header.append_text(status_text(card.status))
    console.print(header)
    details = f"{card.playbook} · {card.start} – {card.end}"
    console.print(Text(details, style="dim"))
    if card.days_with_data < card.days or not card.complete:
        note = f"data on {card.days_with_data} of {card.days} days"
        if not card.complete:
            note += "; the period is not over in the data"
        console.print(Text(f"⚠ {note}", style="yellow"))
    kpis = {kpi.id: kpi for kpi in card.kpis}
    for goal in card.goals:
        table = Table(title=Text.assemble((goal.label, "bold"), "  ", status_text(goal.status)), title_justify="left")
        table.add_column("KPI")
        table.add_column("Value", justify="right")
        table.add_column("Target")
        table.add_column("Status")
        table.add_column("Gap / note")
        for kpi_id in goal.kpis:
            kpi = kpis[kpi_id]
            note = Text(kpi.reason, style="dim") if kpi.status == "no_data" else Text(_format_gap(kpi, card.currency))
            value = format_value(kpi.value, kpi.unit, card.currency)
            if kpi.estimated and kpi.value is not None:
                # A row of the data covered days on both sides of the period's boundary and was split over them.
                value = f"≈ {value}"
                note.append(" (estimated: a row split over days)" if note.plain else "estimated: a row split over days", style="dim")
            table.add_row(kpi.label, value, format_target(kpi.target, kpi.unit, kpi.better, card.currency), status_text(kpi.status), note)
        console.print(table)
    summary = card.summary
    console.print(
        f"Summary: {summary['pass']} pass · {summary['warn']} warn · {summary['fail']} fail · "
        f"{summary['no_data']} no data · {summary['info']} info",
        markup=False,
    )
    console.print()
