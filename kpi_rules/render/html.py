"""The HTML report a client receives: one self-contained page, or a folder of pages for many clients.

Per scorecard a header with its status and score, per goal a KPI table (value, target, status, previous value,
change, competitors, notes) and per KPI an inline SVG chart of its last periods with the target drawn
(kpi_rules.render.charts). White label from the playbook's ``report:`` block (agency, logo, colour).

Nothing is fetched: the style is inline, the logo a data: URI, and a Content-Security-Policy forbids the rest.
Jinja2 (the ``reports`` extra) lays the page out with autoescape on, so a client named ``<script>`` is text;
every value is formatted and translated here, in the scorecard's language, before the template sees it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import IO

from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.i18n import translate
from kpi_rules.model import ReportDef
from kpi_rules.periods import period_of
from kpi_rules.render.charts import line_chart
from kpi_rules.render.posts import post_sections
from kpi_rules.render.formatting import (
    EMPTY,
    format_change,
    format_count,
    format_date,
    format_kpi_target,
    format_score,
    format_value,
    format_weight,
    period_label,
)
from kpi_rules.render.table import (
    common_language,
    note_text,
    period_note,
    status_label,
    status_word,
    summary_text,
    value_text,
)
from kpi_rules.results import KpiResult, Results, Scorecard

INSTALL = 'html and pdf need Jinja2: pip install "kpi-rules[reports]"'
# Scorecards on one page at most: beyond, a browser slows to a crawl; a folder gets a page per client.
PAGE_UP_TO = 100
DEFAULT_COLOUR = "#24527a"
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
INDEX_STATUSES = ("pass", "warn", "fail", "no_data")


def check_jinja() -> None:
    """InputError (KR401) when Jinja2 is not installed: called before scoring."""
    try:
        import jinja2  # noqa: F401
    except ImportError:
        raise InputError([Diagnostic("--output", None, None, "KR401", INSTALL)]) from None


def render_html(results: Results, stream: IO[str]) -> None:
    """Every scorecard on one page, after an index of them; InputError (KR402) past PAGE_UP_TO scorecards."""
    cards = list(results)
    if len(cards) > PAGE_UP_TO:
        message = (
            f"{len(cards):,} scorecards are too many for one HTML page (up to {PAGE_UP_TO}): write a folder with "
            "an index and a page per client: --output html=reports/"
        )
        raise InputError([Diagnostic("--output", None, None, "KR402", message)])
    lang = common_language(cards)
    anchors = [f"card-{number}" for number in range(1, len(cards) + 1)]
    index = [_index_row(card, f"#{anchor}", lang) for card, anchor in zip(cards, anchors)] if len(cards) > 1 else []
    stream.write(_page(results, cards, anchors, lang, index=index))


def render_html_site(results: Results, folder: Path) -> None:
    """``folder``/index.html (a row per client: its last scorecard) and a page per client with all its scorecards.

    A row per client, not per scorecard: 2,740 clients by 12 months stay an index of 2,740 rows."""
    cards = list(results)
    lang = common_language(cards)
    pages: dict[str, list[Scorecard]] = {}
    for card in cards:
        pages.setdefault(card.client, []).append(card)
    names = {client: f"{number:05d}-{_slug(client)}.html" for number, client in enumerate(pages, 1)}
    (folder / "clients").mkdir()
    index = [
        _index_row(client_cards[-1], f"clients/{names[client]}#card-{len(client_cards)}", lang) for client, client_cards in pages.items()
    ]
    (folder / "index.html").write_text(_page(results, [], [], lang, index=index), encoding="utf-8")
    back = {"href": "../index.html", "text": translate("All clients", lang)}
    for client, client_cards in pages.items():
        anchors = [f"card-{number}" for number in range(1, len(client_cards) + 1)]
        html = _page(results, client_cards, anchors, common_language(client_cards), back=back)
        (folder / "clients" / names[client]).write_text(html, encoding="utf-8")


def _slug(name: str) -> str:
    """A file name's part from a client's name: ASCII letters, digits and dashes (the number keeps it unique)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"


def _page(results: Results, cards: Sequence[Scorecard], anchors: Sequence[str], lang: str, *, index=(), back=None) -> str:
    from markupsafe import Markup

    brand = report_brand(results)
    playbooks = sorted({group.playbook.name for group in results.groups})
    title = translate("KPI report", lang) + (f" · {', '.join(playbooks)}" if playbooks else "")
    clients = {card.client for card in cards}
    if len(clients) == 1:
        title = f"{clients.pop()} · {title}"  # a client's own page: its name in the browser's tab
    page = {
        "lang": lang,
        "title": title,
        "agency": brand.agency,
        "logo": Markup(brand.logo) if brand.logo else None,  # a data: URI built by compile from the file's bytes
        "colour": brand.colour if brand.colour and COLOUR.fullmatch(brand.colour) else DEFAULT_COLOUR,
        "index": list(index),
        "index_counts": [_capitalised(status_word(status, lang)) for status in INDEX_STATUSES],
        "back": back,
        "cards": [_card(card, anchor) for card, anchor in zip(cards, anchors)],
        "footer": translate("Made with kpi-rules on {date}", lang, date=format_date(dt.date.today(), lang)),
    }
    return _template().render(page=page, words=_words(lang))


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader

    # autoescape=True for every template, whatever its name: the report is HTML.
    environment = Environment(loader=PackageLoader("kpi_rules", "render/templates"), autoescape=True, trim_blocks=False)
    return environment.get_template("report.html.j2")


def report_brand(results: Results) -> ReportDef:
    """The white label: the first playbook's ``report:`` block among the run's (a run rarely mixes agencies)."""
    return next((group.playbook.report for group in results.groups if group.playbook.report), ReportDef())


def _words(lang: str) -> dict[str, str]:
    return {
        "all_clients": translate("All clients", lang),
        "client": translate("Client", lang),
        "period": translate("Period", lang),
        "status": translate("Status", lang),
        "score": translate("Score", lang),
        "kpi": translate("KPI", lang),
        "value": translate("Value", lang),
        "target": translate("Target", lang),
        "previous": translate("Previous", lang),
        "change": translate("Change", lang),
        "competitors": translate("Competitors", lang),
        "note": translate("Gap / note", lang),
        "trend": translate("Trend", lang),
        "date": translate("Date", lang),
        "post": translate("Post", lang),
    }


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


# Rows, goals and cards reach the template as SimpleNamespace objects: Jinja reads an attribute at once, where a
# dict's key costs it an AttributeError first, a real share of the time of a report of thousands of pages.


def _index_row(card: Scorecard, href: str, lang: str) -> SimpleNamespace:
    return SimpleNamespace(
        client=card.client,
        href=href,
        period=period_label(card.grain, card.start, card.end),
        status=card.status,
        status_label=status_label(card.status, lang),
        score=format_score(card.score),
        counts=[format_count(card.summary[status], lang) for status in INDEX_STATUSES],
    )


def _card(card: Scorecard, anchor: str) -> SimpleNamespace:
    lang = card.lang
    kpis = {kpi.id: kpi for kpi in card.kpis}
    labels = _period_labels(card)
    trend = translate("Trend", lang)
    goals = []
    for goal in card.goals:
        score = ""
        if goal.score is not None:
            score = translate("score {score}", lang, score=format_score(goal.score))
            if goal.weight != 1:
                score += " " + translate("(weight {weight})", lang, weight=format_weight(goal.weight, lang))
        rows = [_kpi_row(kpis[kpi_id], card, labels, trend) for kpi_id in goal.kpis]
        goals.append(
            SimpleNamespace(
                label=goal.label,
                status=goal.status,
                status_label=status_label(goal.status, lang),
                score=score,
                competitors=any(kpis[kpi_id].competitors for kpi_id in goal.kpis),
                kpis=rows,
            )
        )
    return SimpleNamespace(
        anchor=anchor,
        lang=lang,
        client=card.client,
        period=period_label(card.grain, card.start, card.end),
        status=card.status,
        status_label=status_label(card.status, lang),
        score=translate("Score {score}/100", lang, score=format_score(card.score)) if card.score is not None else "",
        facts=f"{card.playbook} · {format_date(card.start, lang)} – {format_date(card.end, lang)}",
        period_note=period_note(card),
        goals=goals,
        posts=post_sections(card),
        summary=summary_text(card),
    )


def _kpi_row(kpi: KpiResult, card: Scorecard, labels: tuple[str, ...], trend: str) -> SimpleNamespace:
    from markupsafe import Markup

    lang, currency = card.lang, card.currency
    history = kpi.history or (kpi.value,)
    shown = labels[len(labels) - len(history) :] if len(labels) >= len(history) else ()
    span = f" {shown[0]} – {shown[-1]}" if len(shown) > 1 else ""
    chart = line_chart(history, kpi.target, f"{kpi.label} · {trend}{span}", kpi.target_history[-len(history) :])
    return SimpleNamespace(
        id=kpi.id,
        label=kpi.label,
        value=value_text(kpi, currency, lang),
        projected=kpi.projected is not None,
        target=format_kpi_target(kpi, currency, lang),
        status=kpi.status,
        status_label=status_label(kpi.status, lang),
        previous=format_value(kpi.previous, kpi.unit, currency, lang) if kpi.previous is not None else EMPTY,
        change=format_change(kpi.change, lang),
        competitors=" · ".join(f"{name} {format_value(value, kpi.unit, currency, lang)}" for name, value in kpi.competitors),
        note=note_text(kpi, card).plain,
        # Built and escaped by charts.py: the only markup that reaches the page from a renderer.
        chart=Markup(chart),
    )


def _period_labels(card: Scorecard) -> tuple[str, ...]:
    """The names of the scorecard's period and the periods before it, oldest first, as many as a history has."""
    if card.grain == "range":
        return ()
    starts: list[dt.date] = [card.start]
    for _ in range(max((len(kpi.history) for kpi in card.kpis), default=1) - 1):
        starts.append(period_of(starts[-1] - dt.timedelta(days=1), card.grain).start)
    return tuple(period_label(card.grain, start) for start in reversed(starts))
