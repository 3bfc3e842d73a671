"""The HTML report: its charts by hand, escaping, language, the page limit and the folder of pages.

The examples' report (``check examples/clients/``, latest period 2026-10) has three scorecards: Volga Industrial
8 KPIs, Coffee House 9, Fitness Studio 5: 22 KPI rows and 22 charts. The browser tests open it in the system's
Chromium (Debian's, installed by .ci/run) through playwright, never a browser playwright downloads; they are
skipped, saying why, only where no Chromium is installed. KPI_RULES_UPDATE_GOLDEN=1 writes their screenshots to
docs/images/ for the README.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO
from pages import DESKTOP, PHONE, Page, needs_browser, open_report

from kpi_rules.render import html as html_renderer
from kpi_rules.render.charts import line_chart

CLIENTS = {"Volga Industrial": 8, "Coffee House": 9, "Fitness Studio": 5}


@pytest.fixture
def examples_report(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    output = tmp_path / "report.html"
    result = cli("check", "examples/clients/", "--output", output)
    assert result.exit_code == 1, result.stderr  # the examples have failing KPIs
    return output.read_text(encoding="utf-8")


def test_a_chart_puts_values_and_the_target_where_hand_computed():
    # 3 values over 240 x 72 with 6 and 8 of padding: x 6, 120, 234; values 1..3 on y 64..8; the target 2 at 36.
    svg = line_chart((1.0, 2.0, 3.0), {"target": 2.0, "warn": 1.0}, "ER · Trend 2026-08 – 2026-10")
    assert '<polyline class="kr-line" points="6.0,64.0 120.0,36.0 234.0,8.0"/>' in svg
    assert '<line class="kr-target" x1="0" x2="240" y1="36.0" y2="36.0"/>' in svg
    assert '<line class="kr-warn" x1="0" x2="240" y1="64.0" y2="64.0"/>' in svg
    assert '<circle class="kr-point kr-last" cx="234.0" cy="8.0" r="3"/>' in svg  # this period's value
    assert "<title>ER · Trend 2026-08 – 2026-10</title>" in svg


def test_a_plan_is_drawn_as_a_line_through_its_periods_targets():
    # Followers 4,700 then 5,100 against a plan of 4,800 then 5,200 (tests/data/plans): the scale runs 4,700 to
    # 5,200 (500) over 72 - 2 x 8 = 56 px, 0.112 px a follower; 4,800 is 64 - 100 x 0.112 = 52.8, 5,200 is 8.0.
    svg = line_chart((4700.0, 5100.0), {"target": 5200.0, "warn": 4940.0}, "followers", (4800.0, 5200.0))
    assert '<polyline class="kr-plan" points="6.0,52.8 234.0,8.0"/>' in svg
    assert "kr-target" not in svg and "kr-warn" not in svg  # the period's flat lines give way to the plan's
    # A target the same in every period (vs baseline) stays the period's target and warn lines.
    flat = line_chart((0.69, 0.71), {"target": 0.76, "warn": 0.69}, "er", (0.76, 0.76))
    assert "kr-plan" not in flat and "kr-target" in flat and "kr-warn" in flat


def test_a_chart_leaves_a_gap_for_a_missing_value_and_escapes_its_title():
    svg = line_chart((1.0, None, 3.0), None, "<b>&")
    assert "<polyline" not in svg  # two lone values, no line drawn through the gap
    assert svg.count('<circle class="kr-point"') == 2
    assert "<title>&lt;b&gt;&amp;</title>" in svg


def test_a_chart_of_no_values_or_a_flat_series_still_draws():
    assert line_chart((), None, "x").startswith("<svg")
    flat = line_chart((5.0, 5.0), {"target": 5.0}, "x")
    assert 'y1="36.0"' in flat and 'points="6.0,36.0 234.0,36.0"' in flat  # a flat line sits in the middle


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


def test_competitors_plans_and_waivers_reach_the_page(cli, tmp_path):
    # tests/data/plans/cafe.yaml, 2026-10: followers against two competitors, cpl waived (see its README).
    output = tmp_path / "report.html"
    cli("check", REPO / "tests" / "data" / "plans" / "cafe.yaml", "--output", output)
    page = Page(output.read_text(encoding="utf-8"))
    text = "".join(page.text)
    assert "Rival Cafe 6,000 · Bean Bar 2,000" in text
    assert "≥ 1.00% (best competitor 1.00% +0%)" in text
    assert "waived until 2026-11-30: rebrand: ads paused" in text
    assert "score 25 (weight 2)" in text

def test_a_plan_reaches_the_chart_of_its_kpi(cli, tmp_path):
    # tests/data/plans/cafe.yaml: followers planned 4,800 in September and 5,200 in October (see its README).
    output = tmp_path / "report.html"
    cli("check", REPO / "tests" / "data" / "plans" / "cafe.yaml", "--period", "2026-10", "--output", output)
    page = output.read_text(encoding="utf-8")
    assert page.count('class="kr-plan"') == 1  # followers only: er's target (vs baseline) is the same each period


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



# --- white label: the playbook's report: block ---


def test_the_examples_report_wears_the_agencys_name_logo_and_colour(examples_report):
    page = Page(examples_report)
    assert "Northwind Digital" in "".join(page.text)
    [logo] = page.all("img")
    logo_file = (REPO / "examples" / "northwind-logo.svg").read_bytes()
    assert logo["src"] == "data:image/svg+xml;base64," + __import__("base64").b64encode(logo_file).decode()
    assert "--kr-accent: #0b6e4f;" in examples_report


def branded(write, report: str) -> Path:
    write("playbook.yaml", f"kpi-rules: 1\nname: Test\nextends: [builtin:smm]\nreport:\n{report}")
    write("data.csv", "date,leads\n2026-10-01,20\n")
    return write("client.yaml", "kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [leads]\nperiod: month\ndata: data.csv\n")


def test_a_missing_logo_is_a_diagnostic_at_its_line(cli, write, tmp_path):
    client = branded(write, "  agency: Acme Agency\n  logo: missing.png\n")
    result = cli("check", client, "--output", tmp_path / "report.html")
    assert result.exit_code == 2
    assert f'playbook.yaml:6:9: error KR216 report logo "missing.png" not found (looked for {tmp_path / "missing.png"})' in result.stderr
    assert not (tmp_path / "report.html").exists()


def test_a_logo_that_is_no_image_or_too_large_is_refused(cli, write, tmp_path):
    write("logo.exe", "MZ")
    result = cli("validate", branded(write, "  logo: logo.exe\n"))
    assert "playbook.yaml:5:9: error KR216 report logo \"logo.exe\" is not an image kpi-rules embeds" in result.stderr
    (tmp_path / "big.png").write_bytes(b"\0" * (2**20 + 1))
    result = cli("validate", branded(write, "  logo: big.png\n"))
    assert "error KR216 report logo \"big.png\" is larger than 1 MB" in result.stderr


def test_a_colour_that_is_not_rrggbb_is_refused_by_the_schema(cli, write):
    result = cli("validate", branded(write, "  colour: 'red; background: url(x)'\n"))
    assert result.exit_code == 2
    assert "playbook.yaml:5:11: error KR103" in result.stderr


# --- many clients: a folder with an index and a page per client ---


def test_a_folder_gets_an_index_and_a_page_per_client(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = tmp_path / "reports"
    result = cli("check", "examples/clients/", "--output", f"{folder}/")
    assert result.exit_code == 1, result.stderr
    pages = ["00001-volga-industrial.html", "00002-coffee-house.html", "00003-fitness-studio.html"]
    assert sorted(path.name for path in (folder / "clients").iterdir()) == pages
    index = Page((folder / "index.html").read_text(encoding="utf-8"))
    assert [link["href"] for link in index.all("a")] == [f"clients/{page}#card-1" for page in pages]
    assert not index.all("svg")  # the index is a table of clients, light whatever their number
    for page_name, (client, kpis) in zip(pages, CLIENTS.items()):
        page = Page((folder / "clients" / page_name).read_text(encoding="utf-8"))
        assert client in "".join(page.text)
        assert len(page.all("svg", **{"class": "kr-chart"})) == kpis
        assert page.all("a") == [{"href": "../index.html"}]
        assert f"<title>{client} · KPI report" in (folder / "clients" / page_name).read_text(encoding="utf-8")


def test_a_folder_index_has_a_row_per_client_linking_to_its_last_period(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = tmp_path / "reports"
    cli("check", "examples/clients/", "--period", "2026-Q3", "--output", f"{folder}/")
    index = Page((folder / "index.html").read_text(encoding="utf-8"))
    assert [link["href"] for link in index.all("a")] == [
        "clients/00001-volga-industrial.html#card-3", "clients/00002-coffee-house.html#card-3", "clients/00003-fitness-studio.html#card-3",
    ]
    assert "2026-09" in "".join(index.text) and "2026-07" not in "".join(index.text)
    coffee = (folder / "clients" / "00002-coffee-house.html").read_text(encoding="utf-8")
    assert coffee.count('class="kr-card"') == 3  # July, August, September


def test_a_folder_is_replaced_whole_and_never_over_the_users_files(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = tmp_path / "reports"
    cli("check", "examples/clients/", "--output", f"{folder}/")
    (folder / "clients" / "00009-gone.html").write_text("from an earlier run")
    cli("check", "examples/clients/fitness-studio.yaml", "--output", f"html={folder}")
    assert sorted(path.name for path in (folder / "clients").iterdir()) == ["00001-fitness-studio.html"]

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = cli("check", "examples/clients/", "--output", f"{mine}/")
    assert result.exit_code == 2
    assert "error KR001 is a folder with other files in it: the report replaces the whole folder" in result.stderr
    assert [path.name for path in mine.iterdir()] == ["notes.txt"]

    result = cli("check", "examples/clients/", "--output", "examples/")
    assert result.exit_code == 2 and "examples: error KR001 is a folder with other files in it" in result.stderr
    # Even a folder kpi-rules wrote is not replaced when the run reads from it.
    shutil.copytree(REPO / "examples", tmp_path / "old")
    (tmp_path / "old" / ".kpi-rules-report").write_text("")
    result = cli("check", tmp_path / "old" / "clients", "--output", f"{tmp_path / 'old'}/")
    assert result.exit_code == 2 and "error KR005 holds" in result.stderr

    result = cli("check", "examples/clients/", "--output", f"csv={tmp_path}/out/")
    assert result.exit_code == 2 and "csv is written to a file, not a folder" in result.stderr


def test_a_failed_run_leaves_the_old_folder_and_no_temporary_one(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = tmp_path / "reports"
    cli("check", "examples/clients/", "--output", f"{folder}/")
    before = (folder / "index.html").read_text(encoding="utf-8")

    def half_written(results, target):
        (target / "index.html").write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(html_renderer, "render_html_site", half_written)
    result = cli("check", "examples/clients/", "--output", f"{folder}/")
    assert result.exit_code == 2 and "error KR001 cannot write: no space left on device" in result.stderr
    assert (folder / "index.html").read_text(encoding="utf-8") == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["reports"]


def test_the_hidden_folder_of_a_killed_writer_is_removed_by_the_next(cli, tmp_path, monkeypatch):
    import subprocess
    import sys

    from kpi_rules.output import _HOST

    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # a process id that is no more
    dead.wait()
    left = tmp_path / f".kpi-rules-{_HOST}-{dead.pid}-x1y2.tmpdir"
    (left / "clients").mkdir(parents=True)
    alive = tmp_path / f".kpi-rules-{_HOST}-{os.getpid()}-x1y2.tmpdir"
    alive.mkdir()
    monkeypatch.chdir(REPO)
    assert cli("check", "examples/clients/", "--output", f"{tmp_path}/reports/").exit_code == 1
    assert not left.exists() and alive.exists()

# --- in a real browser ---

def screenshot_path(name: str, tmp_path: Path) -> Path:
    """docs/images/NAME when the golden files are being updated (the README shows them), else a temporary file."""
    if os.environ.get("KPI_RULES_UPDATE_GOLDEN") == "1":
        return REPO / "docs" / "images" / name
    return tmp_path / name


@needs_browser
def test_the_examples_report_in_a_browser_then_on_a_phone_then_as_pdf(cli, browser, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    report = tmp_path / "report.html"
    assert cli("check", "examples/clients/", "--output", report).exit_code == 1
    url = report.as_uri()

    page, requests, errors = open_report(browser, url, DESKTOP)
    assert errors == []
    assert [request for request in requests if request != url and not request.startswith("data:")] == []
    for number, (client, kpis) in enumerate(CLIENTS.items(), 1):
        card = page.locator(f"#card-{number}")
        assert client in card.locator("h1").inner_text()
        assert card.locator("tr.kr-kpi").count() == kpis
        # One chart per KPI, drawn (not an empty box).
        assert card.locator("tr.kr-kpi svg.kr-chart").count() == kpis
        assert all(box["width"] > 50 and box["height"] > 10 for box in (card.locator("svg.kr-chart").nth(i).bounding_box() for i in range(kpis)))
    assert page.locator("tr.kr-kpi[data-kpi=cpo] td").nth(1).inner_text() == "737.07 RUB"
    page.screenshot(path=screenshot_path("report-desktop.png", tmp_path))

    phone, _, phone_errors = open_report(browser, url, PHONE)
    assert phone_errors == []
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    widest = phone.evaluate("Math.max(...[...document.querySelectorAll('main *')].map(e => e.getBoundingClientRect().right))")
    assert widest <= PHONE["width"]
    phone.screenshot(path=screenshot_path("report-phone.png", tmp_path))

    # The same page printed, as --output report.pdf prints it: a PDF of a page per client.
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-") and pages_of(pdf) >= len(CLIENTS)


def pages_of(pdf: bytes) -> int:
    """The page count in a PDF's page tree (Chromium writes it uncompressed)."""
    return max(int(count) for count in re.findall(rb"/Count (\d+)", pdf))


@needs_browser
def test_the_pdf_output_is_printed_by_the_browser(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    output = tmp_path / "report.pdf"
    result = cli("check", "examples/clients/", "--output", output, "--output", tmp_path / "report.html")
    assert result.exit_code == 1, result.stderr
    pdf = output.read_bytes()
    assert pdf.startswith(b"%PDF-") and pages_of(pdf) >= len(CLIENTS)


def test_without_a_browser_pdf_is_refused_before_scoring_with_how_to_install(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser there
    output = tmp_path / "report.pdf"
    result = cli("check", "examples/clients/", "--output", output)
    assert result.exit_code == 2
    assert "error KR403 pdf is printed by a headless Chromium, and none is on PATH" in result.stderr
    assert "apt-get install chromium" in result.stderr and "Traceback" not in result.stderr
    assert not output.exists()


@needs_browser
def test_a_hostile_name_runs_no_script_in_the_browser(cli, write, browser, tmp_path):
    write("playbook.yaml", "kpi-rules: 1\nname: Test\nextends: [builtin:smm]\n")
    write("data.csv", "date,spend,leads,clicks\n2026-09-01,3000,50,400\n2026-10-01,3000,20,400\n")
    write(
        "client.yaml",
        "kpi-rules: 1\nclient: '<script>document.title=\"pwned\"</script><img src=x onerror=alert(1)>'\n"
        "playbook: playbook.yaml\ngoals: [leads]\nperiod: month\ndata: data.csv\n",
    )
    output = tmp_path / "report.html"
    cli("check", tmp_path / "client.yaml", "--output", output)
    page, requests, errors = open_report(browser, output.as_uri(), DESKTOP)
    assert page.title() != "pwned" and errors == []
    assert page.locator("img").count() == 0 and requests == [output.as_uri()]
    assert '<script>document.title="pwned"</script>' in page.locator("h1").first.inner_text()


@needs_browser
def test_a_folder_report_opens_cleanly_from_its_index(cli, browser, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = tmp_path / "reports"
    cli("check", "examples/clients/", "--output", f"{folder}/")
    index, requests, errors = open_report(browser, (folder / "index.html").as_uri(), PHONE)
    index.get_by_role("link", name="Coffee House").click()
    index.wait_for_load_state()
    assert index.url.endswith("/clients/00002-coffee-house.html#card-1")
    assert index.locator("svg.kr-chart").count() == CLIENTS["Coffee House"]
    assert index.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == [] and all(url.startswith(folder.as_uri()) for url in requests)
