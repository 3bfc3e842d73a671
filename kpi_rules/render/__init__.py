"""Renderers: the only code that writes output. One per format, registered by name.

Colour is decided here alone: rich turns it off when the stream is not a
terminal or NO_COLOR is set; files always get plain text.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import IO, Any, Callable

from rich.console import Console

from kpi_rules.diagnostics import MAX_OF_A_KIND, Diagnostic
from kpi_rules.results import Results


def _table(results: Results, console: Console, details: bool | None) -> None:
    from kpi_rules.render.table import DETAILS_UP_TO, render_table

    scorecards = list(results)
    clients = len({(card.client, card.grain) for card in scorecards})
    # Several periods asked for: per client one KPI x period table, for as many clients as scorecards are shown.
    if results.over_time and clients < len(scorecards) and (details or (details is None and clients <= DETAILS_UP_TO)):
        from kpi_rules.render.periods_table import render_periods

        render_periods(scorecards, console)
        return
    render_table(scorecards, console, details)


def _json(results: Results, console: Console, details: bool | None) -> None:
    # JSON always has every scorecard: `details` is the table's. Imported when used: the JSON renderer
    # needs polars, which validate and list never load.
    from kpi_rules.render.json import render_json

    render_json(results, console)


def _markdown(results: Results, console: Console, details: bool | None) -> None:
    # Every scorecard, like JSON: a document to paste somewhere, not a screen to scroll.
    from kpi_rules.render.markdown import render_markdown_scorecards

    console.file.write(render_markdown_scorecards(list(results)))


def _csv(results: Results, console: Console, details: bool | None) -> None:
    from kpi_rules.render.csv import render_csv

    render_csv(results, console.file)


def _junit(results: Results, console: Console, details: bool | None) -> None:
    from kpi_rules.render.junit import render_junit

    render_junit(results, console.file)


def _github(results: Results, console: Console, details: bool | None) -> None:
    from kpi_rules.render.github import render_github

    render_github(results, console.file)


def _xlsx(results: Results, stream: IO[bytes], details: bool | None) -> None:
    from kpi_rules.render.xlsx import render_xlsx

    render_xlsx(results, stream)


def _parquet(results: Results, stream: IO[bytes], details: bool | None) -> None:
    from kpi_rules.render.parquet import render_parquet

    render_parquet(results, stream)


def _html(results: Results, console: Console, details: bool | None) -> None:
    # Every scorecard on one page, like markdown; past a page's worth, a folder (FOLDERS).
    from kpi_rules.render.html import render_html

    render_html(results, console.file)


def _html_folder(results: Results, folder: Path) -> None:
    # An index and a page per client: a browser opens thousands of clients without a giant page.
    from kpi_rules.render.html import render_html_site

    render_html_site(results, folder)


def _pdf(results: Results, stream: IO[bytes], details: bool | None) -> None:
    from kpi_rules.render.pdf import render_pdf

    render_pdf(results, stream)


# A renderer writes results to a console (a binary stream for the BINARY formats); the last argument is
# --details/--summary (None: its default). The keys are the --format choices and the FORMAT of --output FORMAT=PATH.
Renderer = Callable[[Results, Any, "bool | None"], None]
RENDERERS: dict[str, Renderer] = {
    "table": _table, "json": _json, "markdown": _markdown, "csv": _csv, "junit": _junit, "github": _github, "xlsx": _xlsx,
    "html": _html, "pdf": _pdf, "parquet": _parquet,
}
# Formats written as bytes: given an open binary file, never a console.
BINARY = frozenset({"xlsx", "pdf", "parquet"})
# --output PATH: the format its suffix names (lower case). A suffix not here needs --format or FORMAT=PATH.
SUFFIXES = {
    ".txt": "table", ".json": "json", ".md": "markdown", ".csv": "csv", ".xml": "junit", ".xlsx": "xlsx",
    ".html": "html", ".htm": "html", ".pdf": "pdf", ".parquet": "parquet",
}
# Formats that can write a folder (--output reports/): their writer is given the new, empty folder to fill.
FOLDERS: dict[str, Callable[[Results, Path], None]] = {"html": _html_folder}


def prepare(name: str) -> None:
    """Fail early (InputError) when a format cannot be written here, e.g. its optional library is missing."""
    if name in ("html", "pdf"):
        from kpi_rules.render.html import check_jinja

        check_jinja()
    if name == "pdf":
        from kpi_rules.render.pdf import find_browser

        find_browser()
    if name == "xlsx":
        from kpi_rules.render.xlsx import check_xlsx_writer

        check_xlsx_writer()


PLAIN_WIDTH = 120


def make_console(stream: IO[str] | None = None, *, to_file: bool = False, stderr: bool = False) -> Console:
    if to_file:
        return Console(
            file=stream, color_system=None, force_terminal=False, width=PLAIN_WIDTH, highlight=False, soft_wrap=False, emoji=False
        )
    # No emoji codes: "file.yaml:100:30" must not print as "file.yaml💯30".
    console = Console(file=stream, stderr=stderr, highlight=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped or captured output: wide enough for a scorecard without wrapping every row.
        console.width = PLAIN_WIDTH
    return console


def render_diagnostics(diagnostics: list[Diagnostic], console: Console) -> None:
    of_a_kind: Counter = Counter()
    for diagnostic in diagnostics:
        of_a_kind[diagnostic.path, diagnostic.code] += 1
        if of_a_kind[diagnostic.path, diagnostic.code] <= MAX_OF_A_KIND:
            console.print(str(diagnostic), markup=False, highlight=False, soft_wrap=True)
    for (path, code), count in of_a_kind.items():
        if count > MAX_OF_A_KIND:
            console.print(f"{path}: {count - MAX_OF_A_KIND:,} more {code} not shown", markup=False, highlight=False, soft_wrap=True)
    files = len({d.path for d in diagnostics})
    warnings = sum(not d.is_error for d in diagnostics)
    of_them = f", {warnings} of them warning(s)" if warnings else ""
    console.print(f"{len(diagnostics)} problem(s) in {files} file(s){of_them}", markup=False, soft_wrap=True)
