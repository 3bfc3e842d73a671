"""The terminal scorecard: one table per goal, readable with or without colour, in the scorecard's language."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_rules.i18n import N_, translate, translate_reason
from kpi_rules.render.formatting import (  # noqa: F401 - formatting's names, as the renderers have always had them here
    VS_TEXT,
    describe_target,
    format_change,
    format_count,
    format_date,
    format_gap,
    format_kpi_target,
    format_score,
    format_target,
    format_value,
    format_weight,
    period_label,
)
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
# A status in words (translated) and its mark, the first character of its label: ✔ ! ✘ ? · ~
STATUS_WORDS = {"pass": N_("pass"), "warn": N_("warn"), "fail": N_("fail"), "no_data": N_("no data"), "info": N_("info"), "waived": N_("waived")}
BARS = "▁▂▃▄▅▆▇█"


def render_table(scorecards: list[Scorecard], console: Console, details: bool | None = None) -> None:
    """An overview of all clients (when more than one), then each scorecard, each in its own language.

    ``details`` None: scorecards are printed when there are at most DETAILS_UP_TO of them (thousands of
    tables in a terminal help nobody); True or False decides.
    """
    show_details = details if details is not None else len(scorecards) <= DETAILS_UP_TO
    lang = common_language(scorecards)
    if len(scorecards) > 1 or not show_details:
        console.print(_overview(scorecards, lang))
        console.print()
    if not show_details:
        if details is None:
            console.print(
                translate(
                    "{count} scorecards: only the overview. --details prints each one; --format json has everything.",
                    lang,
                    count=format_count(len(scorecards), lang),
                )
            )
        return
    for card in scorecards:
        _render_scorecard(card, console)


def common_language(scorecards: list[Scorecard]) -> str:
    """The language of what several scorecards share (an overview): theirs when they agree, else English."""
    languages = {card.lang for card in scorecards}
    return languages.pop() if len(languages) == 1 else "en"


def status_word(status: str, lang: str = "en") -> str:
    """The status as a word: "pass", "no data"; "выполнен", "нет данных" in Russian."""
    return translate(STATUS_WORDS[status], lang)


def status_label(status: str, lang: str = "en") -> str:
    """The mark and the word: "✔ pass"."""
    return f"{STATUS_STYLE[status][0][0]} {status_word(status, lang)}"


def status_text(status: str, lang: str = "en") -> Text:
    return Text(status_label(status, lang), style=STATUS_STYLE[status][1])


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


def _overview(scorecards: list[Scorecard], lang: str) -> Table:
    table = Table(title=translate("All clients", lang), title_justify="left")
    counted = ["pass", "warn", "fail", "no_data"] + (["waived"] if any(card.summary["waived"] for card in scorecards) else [])
    for heading in (N_("Client"), N_("Period"), N_("Status"), N_("Score")):
        table.add_column(translate(heading, lang), justify="right" if heading == "Score" else "left")
    for status in counted:
        word = status_word(status, lang)
        table.add_column(word[:1].upper() + word[1:], justify="right")
    for card in scorecards:
        summary = card.summary
        table.add_row(
            card.client,
            period_label(card.grain, card.start, card.end),
            status_text(card.status, lang),
            format_score(card.score),
            *(format_count(summary[s], lang) for s in counted),
        )
    return table


def period_note(card: Scorecard) -> str | None:
    """What the reader should know about the period's days: not over (checked on its pace), or days without data."""
    lang = card.lang
    if card.days_elapsed is not None:
        # An unfinished period: its flows are projected to its end and statuses are of the projection.
        note = translate("the period is not over ({elapsed} of {days} days): checked on its pace", lang, elapsed=card.days_elapsed, days=card.days)
        if card.days_with_data < card.days_elapsed:
            note += "; " + translate("data on {count} of them", lang, count=card.days_with_data)
        return note
    if card.days_with_data < card.days or not card.complete:
        note = translate("data on {count} of {days} days", lang, count=card.days_with_data, days=card.days)
        if not card.complete:
            note += "; " + translate("the period is not over in the data", lang)
        return note
    return None


def _render_scorecard(card: Scorecard, console: Console) -> None:
    lang = card.lang
    header = Text()
    header.append(card.client, style="bold")
    header.append(f" · {period_label(card.grain, card.start, card.end)} · ")
    header.append_text(status_text(card.status, lang))
    if card.score is not None:
        header.append(" · " + translate("Score {score}/100", lang, score=format_score(card.score)), style="bold")
    console.print(header)
    details = f"{card.playbook} · {format_date(card.start, lang)} – {format_date(card.end, lang)}"
    console.print(Text(details, style="dim"))
    note = period_note(card)
    if note:
        console.print(Text(f"⚠ {note}", style="yellow"))
    kpis = {kpi.id: kpi for kpi in card.kpis}
    trend = any(kpi.change is not None or len(kpi.history) > 1 for kpi in card.kpis)
    for goal in card.goals:
        competitors = any(kpis[kpi_id].competitors for kpi_id in goal.kpis)
        title = Text.assemble((goal.label, "bold"), "  ", status_text(goal.status, lang))
        if goal.score is not None:
            title.append("  " + translate("score {score}", lang, score=format_score(goal.score)))
        if goal.weight != 1:
            title.append(" " + translate("(weight {weight})", lang, weight=format_weight(goal.weight, lang)))
        table = Table(title=title, title_justify="left")
        table.add_column(translate("KPI", lang))
        # Numbers and statuses never wrap: labels, targets and notes give way at 100 columns.
        table.add_column(translate("Value", lang), justify="right", no_wrap=True)
        table.add_column(translate("Target", lang))
        table.add_column(translate("Status", lang), no_wrap=True)
        if trend:
            table.add_column(translate("Trend", lang), justify="right", no_wrap=True)
        if competitors:
            table.add_column(translate("Competitors", lang))
        table.add_column(translate("Gap / note", lang))
        for kpi_id in goal.kpis:
            kpi = kpis[kpi_id]
            cells = [kpi.label, value_text(kpi, card.currency, lang), format_kpi_target(kpi, card.currency, lang), status_text(kpi.status, lang)]
            if trend:
                cells.append(f"{sparkline(kpi.history) if len(kpi.history) > 1 else ''} {format_change(kpi.change, lang)}".lstrip())
            if competitors:
                cells.append(" · ".join(f"{name} {format_value(value, kpi.unit, card.currency, lang)}" for name, value in kpi.competitors))
            cells.append(note_text(kpi, card))
            table.add_row(*cells)
        console.print(table)
    console.print(summary_text(card), markup=False)
    console.print()


def summary_text(card: Scorecard) -> str:
    """"Summary: 5 pass · 0 warn · 0 fail · 0 no data · 0 info", waived only when there are some."""
    lang, summary = card.lang, card.summary
    shown = [status for status in ("pass", "warn", "fail", "no_data", "info", "waived") if status != "waived" or summary["waived"]]
    counts = " · ".join(translate("{count} {status}", lang, count=format_count(summary[status], lang), status=status_word(status, lang)) for status in shown)
    return translate("Summary: {counts}", lang, counts=counts)


def value_text(kpi: KpiResult, currency: str | None, lang: str = "en") -> str:
    value = format_value(kpi.value, kpi.unit, currency, lang)
    if kpi.estimated and kpi.value is not None:
        # A row of the data covered days on both sides of the period's boundary and was split over them.
        value = f"≈ {value}"
    projected = format_value(kpi.projected, kpi.unit, currency, lang) if kpi.projected is not None else None
    # A ratio of flows keeps its value at any pace: only a projection that differs is shown beside.
    if projected is not None and projected != value.removeprefix("≈ "):
        value += f" → {projected}"
    return value


def note_text(kpi: KpiResult, card: Scorecard) -> Text:
    """Why there is no value or no status (no data, waived), else the gap; then what else the reader should know."""
    lang = card.lang
    if kpi.status in ("no_data", "waived"):
        parts = [Text(translate_reason(kpi.reason, lang), style="dim")]
    else:
        parts = [Text(format_gap(kpi.gap, kpi.unit, card.currency, lang))]
    if kpi.estimated and kpi.value is not None:
        parts.append(Text(translate("estimated: a row split over days", lang), style="dim"))
    if kpi.projected is not None:
        # The header says how many days the projection stands on.
        parts.append(Text(translate("projected", lang), style="dim"))
    if kpi.note:
        parts.append(Text(translate_reason(kpi.note, lang), style="yellow"))
    return Text("; ").join(part for part in parts if part.plain)
