"""PDF: the HTML report printed by a headless Chromium (or Chrome), the browser the report is tested in.

No PDF library draws the page a second time: what the browser prints is what the client sees on screen, with
the report's print style. The browser is found on PATH; none there is a diagnostic (KR403) that says how to
install one, before any scoring.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.results import Results

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = (
    "pdf is printed by a headless Chromium, and none is on PATH (looked for " + ", ".join(BROWSERS) + "): install one, "
    "e.g. apt-get install chromium (Debian, Ubuntu), brew install --cask chromium (macOS), or write html and print it"
)
# A report of a hundred clients prints in seconds; a browser that hangs must not hang the run.
PRINT_TIMEOUT = 300


def find_browser() -> str:
    """The path of a Chromium-like browser on PATH; InputError (KR403) when there is none."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise InputError([Diagnostic("--output", None, None, "KR403", INSTALL)])


def render_pdf(results: Results, stream: IO[bytes]) -> None:
    from kpi_rules.render.html import render_html

    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="kpi-rules-pdf-") as folder:
        page, pdf = Path(folder) / "report.html", Path(folder) / "report.pdf"
        with page.open("w", encoding="utf-8") as html:
            render_html(results, html)
        print_to_pdf(browser, page, pdf, Path(folder) / "profile")
        stream.write(pdf.read_bytes())


def print_to_pdf(browser: str, page: Path, pdf: Path, profile: Path) -> None:
    """Print ``page`` to ``pdf``; InputError (KR403) with the browser's own words when it fails."""
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
        # A profile of its own: a browser the user has open must neither be reused nor disturbed.
        f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InputError([Diagnostic("--output", None, None, "KR403", f"{browser} could not print the PDF: {error}")]) from None
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        message = f"{browser} could not print the PDF (exit {done.returncode})" + (": " + " / ".join(said) if said else "")
        raise InputError([Diagnostic("--output", None, None, "KR403", message)])
