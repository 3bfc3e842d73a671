"""The terminal scorecard: one table per goal, readable with or without colour."""

from __future__ import annotations

import datetime as dt
import math
from functools import partial

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_rules.model import TargetDef
from kpi_rules.results import KpiResult, Scorecard

DETAILS_UP_TO = 20
STATUS_STYLE = {
    "pass": ("✔ pass", "green"),
    "warn": ("! warn", "yellow"),
    "fail": ("✘ fail", "bold red"),
    "no_data": ("? no data", "magenta"),
    "info": ("· info", "dim"),
    "waived": ("~ waived", "dim cyan"),
}
BARS = "▁▂▃▄▅▆▇█"
# What a relative target is measured against, as a reader says it; any other ``vs`` is a competitor's name.
VS_TEXT = {"baseline": "baseline", "previous": "previous period", "best_competitor": "best competitor", "competitors_mean": "competitors' mean"}


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


def period_label(grain: str, start: dt.date, end: dt.date | None = None) -> str:
    match grain:
        case "range":
            return f"{start}..{end}"
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


def format_score(score: float | None) -> str:
    """A 0-100 score in whole points, halves up (62.5 is 63, as a client would round it)."""
    return "—" if score is None else str(math.floor(score + 0.5))


def format_change(change: float | None) -> str:
    """A relative change as a reader says it: 0.1 is "+10.0%"."""
    return "—" if change is None else f"{change * 100:+,.1f}%"


def sparkline(values: tuple[float | None, ...]) -> str:
    """One bar per value, scaled between the smallest and largest shown; a gap where a value is missing."""
    known = [value for value in values if value is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    # A flat series has no scale: mid bars say "steady" rather than "at the bottom".
    flat = high == low
    return "".join(
        " " if value is None else BARS[len(BARS) // 2 - 1 if flat else round((value - low) / (high - low) * (len(BARS) - 1))]
        for value in values
    )


def format_gap(kpi: KpiResult, currency: str | None) -> str:
    if kpi.gap is None:
        return ""
    unit = "pp" if kpi.unit == "%" else kpi.unit
    sign = "+" if kpi.gap > 0 else ""
    return sign + format_value(kpi.gap, unit, currency)


def format_target(target: dict[str, float] | None, unit: str, better: str, currency: str | None, basis: str = "") -> str:
    """Thresholds as a reader says them: "≥ 3.00% (warn ≥ 1.50%)", "≤ 60.00 RUB", "1.50× – 4.00×";
    ``basis`` (what a relative target came from) goes first in the brackets: "≥ 3.30% (baseline 3.00% +10%)"."""
    show = partial(format_value, unit=unit, currency=currency)
    asides = [basis] if basis else []
    if not target:
        text = ""
    elif "target" in target:
        sign = "≥" if better == "higher" else "≤"
        text = f"{sign} {show(target['target'])}"
        if "warn" in target:
            asides.append(f"warn {sign} {show(target['warn'])}")
    elif "min" in target and "max" in target:
        text = f"{show(target['min'])} – {show(target['max'])}"
    else:
        text = f"≥ {show(target['min'])}" if "min" in target else f"≤ {show(target['max'])}"
    if not text:
        return basis
    return f"{text} ({'; '.join(asides)})" if asides else text


def describe_target(target: TargetDef, unit: str, better: str, currency: str | None) -> str:
    """A target as it is defined, for references (no period at hand): fixed thresholds, a plan, a line or a change
    against a reference: "plan 4,800 (2026-09-01) … 5,600 (2026-11-01); warn -5%", "baseline +10% (warn +0%)"."""
    show = partial(format_value, unit=unit, currency=currency)
    if target.vs is not None:
        warn = f" (warn {target.warn_change})" if target.warn_change else ""
        return f"{VS_TEXT.get(target.vs, target.vs)} {target.change}{warn}"
    if not target.planned:
        return format_target(target.as_dict(), unit, better, currency)
    first, last = target.line or (target.plan[0], target.plan[-1])
    warn = f"; warn {target.warn_change}" if target.warn_change else (f"; warn {show(target.warn)}" if target.warn is not None else "")
    return f"{'line' if target.line else 'plan'} {show(first.value)} ({first.start}) … {show(last.value)} ({last.start}){warn}"


def format_kpi_target(kpi: KpiResult, currency: str | None) -> str:
    """The KPI's thresholds in the period and, for a relative target, what they came from."""
    return format_target(kpi.target, kpi.unit, kpi.better, currency, _basis(kpi, currency))


def _basis(kpi: KpiResult, currency: str | None) -> str:
    """What a relative target is measured against: "baseline 3.00% +10%", or "vs baseline 3.00%" for a band."""
    if kpi.vs is None:
        return ""
    against = VS_TEXT.get(kpi.vs, kpi.vs)
    if kpi.reference is None:
        return f"no {against} value"
    reference = format_value(kpi.reference, kpi.unit, currency)
    return f"{against} {reference} {kpi.change_agreed}" if kpi.change_agreed else f"vs {against} {reference}"


def _overview(scorecards: list[Scorecard]) -> Table:
    table = Table(title="All clients", title_justify="left")
    counted = ["pass", "warn", "fail", "no_data"] + (["waived"] if any(card.summary["waived"] for card in scorecards) else [])
    for heading in ("Client", "Period", "Status", "Score"):
        table.add_column(heading, justify="right" if heading == "Score" else "left")
    for status in counted:
        table.add_column("No data" if status == "no_data" else status.title(), justify="right")
    for card in scorecards:
        summary = card.summary
        table.add_row(
            card.client,
            period_label(card.grain, card.start, card.end),
            status_text(card.status),
            format_score(card.score),
            *(str(summary[s]) for s in counted),
        )
    return table


def _render_scorecard(card: Scorecard, console: Console) -> None:
    header = Text()
    header.append(card.client, style="bold")
    header.append(f" · {period_label(card.grain, card.start, card.end)} · ")
    header.append_text(status_text(card.status))
    if card.score is not None:
        header.append(f" · Score {format_score(card.score)}/100", style="bold")
    console.print(header)
    details = f"{card.playbook} · {card.start} – {card.end}"
    console.print(Text(details, style="dim"))
    if card.days_elapsed is not None:
        # An unfinished period: its flows are projected to its end and statuses are of the projection.
        note = f"the period is not over ({card.days_elapsed} of {card.days} days): checked on its pace"
        if card.days_with_data < card.days_elapsed:
            note += f"; data on {card.days_with_data} of them"
        console.print(Text(f"⚠ {note}", style="yellow"))
    elif card.days_with_data < card.days or not card.complete:
        note = f"data on {card.days_with_data} of {card.days} days"
        if not card.complete:
            note += "; the period is not over in the data"
        console.print(Text(f"⚠ {note}", style="yellow"))
    kpis = {kpi.id: kpi for kpi in card.kpis}
    trend = any(kpi.change is not None or len(kpi.history) > 1 for kpi in card.kpis)
    for goal in card.goals:
        competitors = any(kpis[kpi_id].competitors for kpi_id in goal.kpis)
        title = Text.assemble((goal.label, "bold"), "  ", status_text(goal.status))
        if goal.score is not None:
            title.append(f"  score {format_score(goal.score)}")
        if goal.weight != 1:
            title.append(f" (weight {goal.weight:g})")
        table = Table(title=title, title_justify="left")
        table.add_column("KPI")
        # Numbers and statuses never wrap: labels, targets and notes give way at 100 columns.
        table.add_column("Value", justify="right", no_wrap=True)
        table.add_column("Target")
        table.add_column("Status", no_wrap=True)
        if trend:
            table.add_column("Trend", justify="right", no_wrap=True)
        if competitors:
            table.add_column("Competitors")
        table.add_column("Gap / note")
        for kpi_id in goal.kpis:
            kpi = kpis[kpi_id]
            cells = [kpi.label, value_text(kpi, card.currency), format_kpi_target(kpi, card.currency), status_text(kpi.status)]
            if trend:
                cells.append(f"{sparkline(kpi.history) if len(kpi.history) > 1 else ''} {format_change(kpi.change)}".lstrip())
            if competitors:
                cells.append(" · ".join(f"{name} {format_value(value, kpi.unit, card.currency)}" for name, value in kpi.competitors))
            cells.append(note_text(kpi, card))
            table.add_row(*cells)
        console.print(table)
    summary = card.summary
    waived = f" · {summary['waived']} waived" if summary["waived"] else ""
    console.print(
        f"Summary: {summary['pass']} pass · {summary['warn']} warn · {summary['fail']} fail · "
        f"{summary['no_data']} no data · {summary['info']} info{waived}",
        markup=False,
    )
    console.print()


def value_text(kpi: KpiResult, currency: str | None) -> str:
    value = format_value(kpi.value, kpi.unit, currency)
    if kpi.estimated and kpi.value is not None:
        # A row of the data covered days on both sides of the period's boundary and was split over them.
        value = f"≈ {value}"
    projected = format_value(kpi.projected, kpi.unit, currency) if kpi.projected is not None else None
    # A ratio of flows keeps its value at any pace: only a projection that differs is shown beside.
    if projected is not None and projected != value.removeprefix("≈ "):
        value += f" → {projected}"
    return value


def note_text(kpi: KpiResult, card: Scorecard) -> Text:
    """Why there is no value or no status (no data, waived), else the gap; then what else the reader should know."""
    parts = [Text(kpi.reason or "", style="dim") if kpi.status in ("no_data", "waived") else Text(format_gap(kpi, card.currency))]
    if kpi.estimated and kpi.value is not None:
        parts.append(Text("estimated: a row split over days", style="dim"))
    if kpi.projected is not None:
        # The header says how many days the projection stands on.
        parts.append(Text("projected", style="dim"))
    if kpi.note:
        parts.append(Text(kpi.note, style="yellow"))
    return Text("; ").join(part for part in parts if part.plain)
