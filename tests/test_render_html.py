"""The HTML report: its charts by hand, escaping, language, the page limit and the folder of pages.

The examples' report (``check examples/clients/``, latest period 2026-10) has three scorecards: Volga Industrial
8 KPIs, Coffee House 9, Fitness Studio 5: 22 KPI rows and 22 charts. tests/test_render_browser.py opens it in
a real browser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import REPO

from kpi_rules.render import html as html_renderer
from kpi_rules.render.charts import line_chart

CLIENTS = {"Volga Industrial": 8, "Coffee House": 9, "Fitness Studio": 5}


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


@pytest.fixture
def examples_report(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    output = tmp_path / "report.html"
    result = cli("check", "examples/clients/", "--output", output)
    assert result.exit_code == 1, result.stderr  # the examples have failing KPIs
    return output.read_text(encoding="utf-8")


def test_a_chart_puts_values_and_the_target_where_hand_computed():
    # 3 values over 240 x 72 with 6 and 8 of padding: x 6, 120, 234; values 1..3 on y 64..8; the target 2 at 36.
    svg = line_chart((1.0, 2.0, 3.0), {"target": 2.0}, "ER · Trend", ("2026-08: 1", "2026-09: 2", "2026-10: 3"))
    assert '<polyline class="kr-line" points="6.0,64.0 120.0,36.0 234.0,8.0"/>' in svg
    assert '<line class="kr-target" x1="0" x2="240" y1="36.0" y2="36.0"/>' in svg
    assert svg.count("<circle") == 3 and 'class="kr-point kr-last"' in svg
    assert "<title>2026-10: 3</title>" in svg


def test_a_chart_leaves_a_gap_for_a_missing_value_and_escapes_its_text():
    svg = line_chart((1.0, None, 3.0), None, "<b>&", ("a", "b", "<c>"))
    assert "<polyline" not in svg  # two lone points, no line drawn through the gap
    assert svg.count("<circle") == 2
    assert "<title>&lt;b&gt;&amp;</title>" in svg and "&lt;c&gt;" in svg


def test_a_chart_of_no_values_or_a_flat_series_still_draws():
    assert line_chart((), None, "x").startswith("<svg")
    flat = line_chart((5.0, 5.0), {"target": 5.0}, "x")
    assert 'y1="36.0"' in flat and "points=\"6.0,36.0 234.0,36.0\"" in flat  # a flat line sits in the middle


def test_the_examples_report_has_every_client_every_kpi_and_a_chart_per_kpi(examples_report):
    page = Page(examples_report)
    assert len(page.all("section", **{"class": "kr-card"})) == 3
    assert len(page.all("tr", **{"class": "kr-kpi"})) == sum(CLIENTS.values())
    assert len(page.all("svg", **{"class": "kr-chart"})) == sum(CLIENTS.values())
    text = "".join(page.text)
    for client in CLIENTS:
        assert client in text
    # The index links to each scorecard on the page.
    assert [link["href"] for link in page.all("a")] == ["#card-1", "#card-2", "#card-3"]
    assert "Score 50/100" in text and "Cost per order" in text and "737.07 RUB" in text


def test_the_page_fetches_nothing(examples_report):
    page = Page(examples_report)
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    for _, attrs in page.elements:
        for name in ("src", "href"):
            assert not re.match(r"\s*(https?:|//)", attrs.get(name) or ""), attrs
    assert "@import" not in examples_report and "url(" not in examples_report
    assert "default-src 'none'" in examples_report  # and the browser is told to refuse anything else


def test_user_text_is_escaped(cli, write, tmp_path):
    write("playbook.yaml", "kpi-rules: 1\nname: <i>Playbook</i>\nextends: [builtin:smm]\n")
    write("data.csv", "date,spend,leads,clicks\n2026-09-01,3000,50,400\n2026-10-01,3000,20,400\n")
    write(
        "client.yaml",
        "kpi-rules: 1\nclient: '<script>alert(1)</script>'\nplaybook: playbook.yaml\ngoals: [leads]\nperiod: month\n"
        "currency: RUB\ndata: data.csv\ntargets:\n  leads: {target: 45, warn: 35}\n"
        "waivers:\n  leads: {until: 2026-12-31, reason: \"<img src=x onerror=alert(2)> & co\"}\n",
    )
    output = tmp_path / "report.html"
    result = cli("check", tmp_path / "client.yaml", "--output", output)
    assert result.exit_code == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; co" in text
    assert "&lt;i&gt;Playbook&lt;/i&gt;" in text


def test_the_report_speaks_the_clients_language(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    output = tmp_path / "report.html"
    cli("check", "examples/clients/coffee-house.yaml", "--lang", "ru", "--output", output)
    text = output.read_text(encoding="utf-8")
    assert '<html lang="ru">' in text
    assert "Отчёт по KPI" in text and "Прошлый период" in text and "Изменение" in text
    assert "737,07\xa0₽" in text  # Babel's Russian money


def test_past_a_page_of_scorecards_a_single_file_is_refused_with_the_way_out(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(html_renderer, "PAGE_UP_TO", 2)
    output = tmp_path / "report.html"
    result = cli("check", "examples/clients/", "--output", output)
    assert result.exit_code == 2
    assert "error KR402 3 scorecards are too many for one HTML page (up to 2)" in result.stderr
    assert "--output html=reports/" in result.stderr
    assert not output.exists()


def test_the_html_format_reaches_the_terminal_too(cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli("check", "examples/clients/fitness-studio.yaml", "--format", "html")
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.count('class="kr-chart"') == 5


def test_without_jinja_html_is_refused_before_scoring_with_how_to_install(cli, monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_jinja(name, *args, **kwargs):
        if name == "jinja2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(builtins, "__import__", no_jinja)
    result = cli("check", "examples/clients/", "--output", tmp_path / "report.html")
    assert result.exit_code == 2
    assert 'pip install "kpi-rules[reports]"' in result.stderr
