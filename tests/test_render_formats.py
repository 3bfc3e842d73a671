"""The csv, junit, github and xlsx renderers, read back and checked against hand-computed expectations.

The examples' scorecards (``check examples/clients/``, latest period 2026-10), as the table shows them:
Volga Industrial 8 KPIs (1 pass, 1 warn, 2 fail, 2 no data, 2 info), Coffee House 9 (4 pass, 4 fail, 1 info),
Fitness Studio 5 (5 pass).
"""

from __future__ import annotations

import builtins
import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from kpi_rules.cli import OutputFormat
from kpi_rules.render import RENDERERS
from kpi_rules.render.github import escape_data, escape_property
from kpi_rules.render.xlsx import SHEET_NAME_LIMIT, sheet_name

CSV_HEADER = [
    "client", "period_start", "period_end", "grain", "goals", "kpi", "label", "value", "unit", "better", "status",
    "target", "warn", "min", "max", "gap", "previous", "change", "projected", "reason", "score",
]
JUNIT_XSD = Path(__file__).parent / "data" / "junit" / "junit.xsd"


@pytest.fixture
def client_named(write):
    """A client file (and its data) on the bundled library under tmp_path, for a client with the given name."""

    def make(name: str, file: str = "client.yaml", waive: bool = False) -> Path:
        write("playbook.yaml", "kpi-rules: 1\nname: Test playbook\nextends: [builtin:smm]\n")
        write(
            "data.csv",
            "date,spend,leads,clicks\n2026-09-01,3000,50,400\n2026-09-30,3000,50,400\n"
            "2026-10-01,3000,20,400\n2026-10-31,3000,20,400\n",
        )
        waivers = "waivers:\n  leads: {until: 2026-12-31, reason: \"site migration, agreed with Anna\"}\n" if waive else ""
        quoted = name.replace("'", "''")
        return write(
            file,
            f"kpi-rules: 1\nclient: '{quoted}'\nplaybook: playbook.yaml\ngoals: [leads]\nperiod: month\ncurrency: RUB\n"
            f"data: data.csv\ntargets:\n  leads: {{target: 45, warn: 35}}\n  cpl: {{target: 100}}\n{waivers}",
        )

    return make


def test_the_cli_formats_are_the_renderers():
    assert [member.value for member in OutputFormat] == list(RENDERERS)


# --- csv ---


def _csv_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == CSV_HEADER
    return list(reader)


def test_csv_has_a_row_per_client_period_and_kpi(cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli("check", "examples/clients/", "--format", "csv")
    assert result.exit_code == 1  # KPIs fail
    rows = _csv_rows(result.stdout)
    assert len(rows) == 8 + 9 + 5  # 3 clients x 1 period x their KPIs
    by_client = {}
    for row in rows:
        by_client.setdefault(row["client"], []).append(row["status"])
    assert sorted(by_client["Volga Industrial"]) == sorted(["pass", "warn", "fail", "fail", "no_data", "no_data", "info", "info"])
    assert sorted(by_client["Coffee House"]) == sorted(["pass"] * 4 + ["fail"] * 4 + ["info"])
    assert by_client["Fitness Studio"] == ["pass"] * 5
    leads = next(row for row in rows if row["client"] == "Volga Industrial" and row["kpi"] == "leads")
    # The table: Leads 0, target >= 45 (warn >= 35), fail, gap -45, 2026-10.
    assert (leads["period_start"], leads["period_end"], leads["grain"], leads["goals"]) == ("2026-10-01", "2026-10-31", "month", "leads")
    assert (float(leads["value"]), leads["status"], float(leads["target"]), float(leads["warn"]), float(leads["gap"])) == (0, "fail", 45, 35, -45)
    cpl = next(row for row in rows if row["client"] == "Volga Industrial" and row["kpi"] == "cpl")
    assert cpl["value"] == "" and cpl["status"] == "no_data" and cpl["reason"] == "leads is 0: the ratio is undefined"


def test_csv_over_every_period(cli, monkeypatch):
    monkeypatch.chdir(REPO)
    rows = _csv_rows(cli("check", "examples/clients/", "--period", "all", "--format", "csv").stdout)
    # examples/data/agency-daily.csv runs 2025-11-01..2026-10-31: 12 months, x (8 + 9 + 5) KPIs.
    assert len(rows) == 12 * (8 + 9 + 5)
    assert {row["period_start"] for row in rows} == {f"{year}-{month:02d}-01" for year, month in [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]}
    assert [row["client"] for row in rows[:8]] == ["Volga Industrial"] * 8  # client, then period, then the KPIs


def test_csv_reads_back_with_polars(cli, tmp_path, monkeypatch):
    import polars as pl

    monkeypatch.chdir(REPO)
    output = tmp_path / "scores.csv"
    assert cli("check", "examples/clients/b2b-firm.yaml", "--output", output).exit_code == 1
    frame = pl.read_csv(output)
    assert frame.columns == CSV_HEADER and frame.height == 8
    assert frame.schema["value"] == pl.Float64
    assert frame.filter(pl.col("kpi") == "net_follower_growth").select("value", "status").row(0) == (282.0, "warn")


def test_parquet_has_the_csv_rows_typed_with_the_period_s_facts(cli, tmp_path, monkeypatch):
    import datetime

    import polars as pl

    monkeypatch.chdir(REPO)
    parquet, text = tmp_path / "scores.parquet", tmp_path / "scores.csv"
    assert cli("check", "examples/clients/", "--period", "all", "--output", parquet, "--output", text).exit_code == 1
    frame = pl.read_parquet(parquet)
    assert frame.columns == [*CSV_HEADER, "currency", "days", "days_with_data", "complete"]
    assert frame.schema["period_start"] == pl.Date and frame.schema["value"] == pl.Float64
    assert frame.schema["status"] == pl.Enum(["pass", "warn", "fail", "no_data", "info", "waived"])
    assert frame.height == 12 * (8 + 9 + 5)  # as the CSV over every period: months x the clients' KPIs
    # The same rows and numbers as the CSV, which test_csv_* check by hand.
    from polars.testing import assert_frame_equal

    as_text = pl.read_csv(text, try_parse_dates=True, infer_schema_length=None)
    assert_frame_equal(frame.select(CSV_HEADER).with_columns(pl.col("status").cast(pl.String)), as_text, check_dtypes=False)
    october = frame.filter((pl.col("client") == "Volga Industrial") & (pl.col("period_start") == datetime.date(2026, 10, 1)))
    growth = october.filter(pl.col("kpi") == "net_follower_growth").row(0, named=True)
    assert (growth["value"], growth["status"], growth["currency"], growth["days"], growth["complete"]) == (282.0, "warn", "RUB", 31, True)


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x","y")', "+1 555", "-2+3", "@SUM(A1)", "\tTab"],
    ids=["equals", "plus", "minus", "at", "tab"],
)
def test_csv_cells_a_spreadsheet_would_run_are_text(cli, client_named, name):
    result = cli("check", client_named(name), "--format", "csv")
    rows = _csv_rows(result.stdout)
    assert rows and {row["client"] for row in rows} == {"'" + name}


def test_csv_neutralises_every_formula_start():
    # A carriage return cannot start a client's name in YAML (it folds to a space): checked on the expression.
    import polars as pl

    from kpi_rules.render.csv import neutralise

    cells = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "plain", " =not first", "", None]
    out = pl.DataFrame({"cell": cells}).select(neutralise(pl.col("cell")).alias("cell"))["cell"].to_list()
    assert out == ["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "plain", " =not first", "", None]


def test_csv_numbers_are_never_prefixed(cli, client_named):
    rows = _csv_rows(cli("check", client_named("Acme"), "--format", "csv").stdout)
    leads = next(row for row in rows if row["kpi"] == "leads")
    # October: 20 + 20 leads against 45; gap -5, change from 100 in September -60%.
    assert (leads["client"], leads["value"], leads["gap"], leads["change"]) == ("Acme", "40.0", "-5.0", "-0.6")


# --- junit ---


def _junit(text: str) -> ET.Element:
    import xmlschema

    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(text)
    return ET.fromstring(text)


def test_junit_counts_the_examples(cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli("check", "examples/clients/", "--format", "junit")
    assert result.exit_code == 1
    root = _junit(result.stdout)
    assert root.tag == "testsuites"
    assert {name: root.get(name) for name in ("tests", "failures", "errors", "skipped")} == {
        "tests": "22", "failures": "6", "errors": "0", "skipped": "2"
    }
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert list(suites) == ["Volga Industrial · 2026-10", "Coffee House · 2026-10", "Fitness Studio · 2026-10"]
    counts = {
        name: (len(suite.findall("testcase")), len(suite.findall("testcase/failure")), len(suite.findall("testcase/skipped")))
        for name, suite in suites.items()
    }
    assert counts == {"Volga Industrial · 2026-10": (8, 2, 2), "Coffee House · 2026-10": (9, 4, 0), "Fitness Studio · 2026-10": (5, 0, 0)}
    for suite in suites.values():
        assert suite.get("tests") == str(len(suite.findall("testcase")))
        assert suite.get("failures") == str(len(suite.findall("testcase/failure")))
        assert suite.get("skipped") == str(len(suite.findall("testcase/skipped")))
    volga = suites["Volga Industrial · 2026-10"]
    leads = volga.find("testcase[@name='leads']")
    assert leads.get("classname") == "Volga Industrial"
    assert leads.find("failure").get("message") == "leads 0 vs target >= 45 (warn >= 35)"
    lead_cr = volga.find("testcase[@name='lead_cr']/failure")
    assert lead_cr.get("message") == "lead_cr 0% vs target >= 5% (warn >= 3%)"
    assert volga.find("testcase[@name='cpl']/skipped").get("message") == "no_data: leads is 0: the ratio is undefined"
    roas = suites["Coffee House · 2026-10"].find("testcase[@name='roas']/failure")
    assert roas.get("message") == "roas 1.54 vs target >= 3 (warn >= 2)"  # a ratio is a bare number, as in the table
    warn = volga.find("testcase[@name='net_follower_growth']")
    assert warn.find("failure") is None and warn.find("system-out").text.startswith("warn: net_follower_growth 282 vs target >= 300")


def test_junit_escapes_names_and_keeps_a_waiver_s_reason(cli, client_named):
    name = '<b>&"x"'
    result = cli("check", client_named(name, waive=True), "--format", "junit")
    assert result.exit_code == 1  # cpl fails; the waived leads does not
    root = _junit(result.stdout)  # well-formed and valid
    suite = root.find("testsuite")
    assert suite.get("name") == f"{name} · 2026-10"
    assert {case.get("classname") for case in suite.iter("testcase")} == {name}
    skipped = suite.find("testcase[@name='leads']/skipped")
    assert skipped.get("type") == "waived"
    assert skipped.get("message") == "waived until 2026-12-31: site migration, agreed with Anna"
    assert suite.find("testcase[@name='cpl']/failure").get("message") == "cpl 150 RUB vs target <= 100"


def test_junit_stays_well_formed_with_control_characters_in_a_name(cli, write, client_named):
    client = client_named("placeholder")
    client.write_text(client.read_text().replace("client: 'placeholder'", 'client: "Ctl\\x01name\\x0b"'))
    result = cli("check", client, "--format", "junit")
    root = _junit(result.stdout)  # xml.etree alone would write \x01 as it is: not XML
    assert root.find("testsuite").get("name") == "Ctl\ufffdname\ufffd · 2026-10"


def test_junit_timestamps_are_ant_s_date_and_time(cli, client_named):
    root = _junit(cli("check", client_named("Acme"), "--format", "junit").stdout)
    assert [suite.get("timestamp") for suite in root.iter("testsuite")] == ["2026-10-01T00:00:00"]


def test_the_junit_schema_refuses_what_it_should(tmp_path):
    import xmlschema

    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    good = '<testsuites><testsuite name="a" tests="1" failures="0" errors="0" skipped="0"><testcase classname="c" name="k"/></testsuite></testsuites>'
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace(' tests="1"', ""))  # a suite without its counts
    assert not schema.is_valid(good.replace('<testcase classname="c" name="k"/>', '<testcase classname="c" name="k"><failure/></testcase>'))


# --- github ---


def test_github_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("Acme: 50%, 2026-10\nx") == "Acme%3A 50%25%2C 2026-10%0Ax"
    assert escape_property("%3A") == "%253A"  # % first, so an escape is never taken for another


def test_github_escapes_a_client_name_in_the_title(cli, client_named):
    client = client_named("Acme: North, 100%")
    result = cli("check", client, "--format", "github")
    assert result.exit_code == 1
    # October: leads 20 + 20 = 40 against 45 (warn 35): warn, gap -5; cpl 6000 / 40 = 150 RUB against 100: fail.
    title = "Acme%3A North%2C 100%25 · 2026-10"
    assert result.stdout.splitlines() == [
        f"::warning file={client},title={title} · leads::warn: Leads 40 vs target >= 45 (warn >= 35); gap -5",
        f"::error file={client},title={title} · cpl::fail: Cost per lead 150 RUB vs target <= 100; gap 50",
    ]


# --- xlsx ---


def test_xlsx_reads_back(cli, tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.chdir(REPO)
    output = tmp_path / "report.xlsx"
    result = cli("check", "examples/clients/", "--output", output)
    assert result.exit_code == 1 and result.stdout == ""
    book = openpyxl.load_workbook(output)
    assert book.sheetnames == ["Summary", "Volga Industrial", "Coffee House", "Fitness Studio"]
    summary = [[cell.value for cell in row] for row in book["Summary"].iter_rows()]
    assert summary[0] == ["client", "period", "start", "end", "status", "score", "pass", "warn", "fail", "no_data", "info", "waived"]
    assert [row[0] for row in summary[1:]] == ["Volga Industrial", "Coffee House", "Fitness Studio"]
    assert summary[1][4] == "fail" and summary[1][6:] == [1, 1, 2, 2, 2, 0]
    assert summary[3][4:6] == ["pass", 100]
    volga = [[cell.value for cell in row] for row in book["Volga Industrial"].iter_rows()]
    header = volga[0]
    leads = dict(zip(header, next(row for row in volga if row[header.index("kpi")] == "leads")))
    assert leads["period"] == "2026-10" and leads["status"] == "fail"
    assert isinstance(leads["value"], (int, float)) and leads["value"] == 0 and leads["target"] == 45 and leads["gap"] == -45


def test_xlsx_sheet_names_are_cleaned_short_and_unique(cli, client_named, tmp_path):
    import openpyxl

    long = "[Big]: Client * with? a/very\\long name that goes on"
    client_named(long, file="one.yaml")
    client_named(long + " and on", file="two.yaml")  # the same first 31 characters
    client_named("Summary", file="three.yaml")
    output = tmp_path / "report.xlsx"
    result = cli("check", tmp_path / "one.yaml", tmp_path / "two.yaml", tmp_path / "three.yaml", "--output", output)
    assert result.exit_code == 1, result.stderr
    names = openpyxl.load_workbook(output).sheetnames
    assert names == ["Summary", "_Big__ Client _ with_ a_very_lo", "_Big__ Client _ with_ a_ver (2)", "Summary (2)"]
    assert all(len(name) <= SHEET_NAME_LIMIT for name in names)


def test_xlsx_a_formula_like_name_stays_text(cli, client_named, tmp_path):
    import openpyxl

    name = '=HYPERLINK("http://x","y")'
    output = tmp_path / "report.xlsx"
    cli("check", client_named(name), "--output", output)
    book = openpyxl.load_workbook(output)
    assert book.sheetnames == ["Summary", '=HYPERLINK("http___x","y")']  # : and / are not allowed in a sheet name
    cell = book["Summary"]["A2"]
    assert (cell.value, cell.data_type) == (name, "s")  # a string, not a formula ("f")
    sheet = book.worksheets[1]
    header = [cell.value for cell in sheet[1]]
    leads = sheet[2]
    assert leads[header.index("kpi")].value == "leads"
    assert leads[header.index("value")].data_type == "n" and leads[header.index("value")].value == 40
    assert leads[header.index("status")].data_type == "s" and leads[header.index("status")].value == "warn"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("' quoted '", "quoted"),
        ("a" * 30 + "'b", "a" * 30),  # the cut must not end with '
        ("''", "client"),
        ("History", "history_"),
    ],
)
def test_sheet_names_never_start_or_end_with_a_quote(name, expected):
    assert sheet_name(name, {"summary"}) == expected


def test_xlsx_without_xlsxwriter_is_a_clear_problem(cli, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_xlsxwriter(name, *args, **kwargs):
        if name == "xlsxwriter":
            raise ImportError("No module named 'xlsxwriter'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_xlsxwriter)
    monkeypatch.chdir(REPO)
    output = tmp_path / "report.xlsx"
    result = cli("check", "examples/clients/", "--output", output)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == '--output: error KR401 xlsx needs xlsxwriter: pip install "kpi-rules[reports]"'
    assert not output.exists()


def test_examples_exist():
    assert (EXAMPLES / "clients" / "b2b-firm.yaml").is_file()


def test_rows_made_in_blocks_of_any_size_are_the_same(cli, tmp_path, monkeypatch):
    # kpi_row_blocks cuts the scorecards into blocks (Parquet is written a block at a time): a block of 3
    # scorecards gives the same files as one block.
    import polars as pl

    monkeypatch.chdir(REPO)
    whole = {suffix: tmp_path / f"whole.{suffix}" for suffix in ("csv", "parquet")}
    assert cli("check", "examples/clients/", "--period", "all", *[a for p in whole.values() for a in ("--output", p)]).exit_code == 1
    monkeypatch.setattr("kpi_rules.render.csv.SCORECARDS_PER_BLOCK", 3)
    blocks = {suffix: tmp_path / f"blocks.{suffix}" for suffix in ("csv", "parquet")}
    assert cli("check", "examples/clients/", "--period", "all", *[a for p in blocks.values() for a in ("--output", p)]).exit_code == 1
    assert blocks["csv"].read_text() == whole["csv"].read_text()
    assert pl.read_parquet(blocks["parquet"]).equals(pl.read_parquet(whole["parquet"]))
