"""What the HTML report's tests share: a page parsed for its elements and text, and a real Chromium to open it
in (the ``browser`` fixture is in conftest.py)."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

import pytest

from kpi_rules.render.pdf import BROWSERS


class Page(HTMLParser):
    """What a test asks of a page: its elements' tags and attributes, and its text."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, **attributes: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag and all(attrs.get(k) == v for k, v in attributes.items())]


BROWSER = next((path for name in BROWSERS if (path := shutil.which(name))), None)
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on PATH (apt-get install chromium): the HTML report is not opened in a browser"
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}


def open_report(browser, url: str, viewport: dict):
    """The page at ``url``, with every request it made and every console error, uncaught exception or dialog
    (alert, a sign of a script that ran) it had."""
    page = browser.new_page(viewport=viewport)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(url, wait_until="load")
    return page, requests, errors
