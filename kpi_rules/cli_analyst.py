"""The analyst's commands around check: explain, test, diff, forecast, init and schema.

Registered on the same typer app as check (kpi_rules.cli imports this module); thin like the rest of the
command line: each parses its options and hands over to its own module.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from kpi_rules.cli import _report_problems, _user_errors, app
from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean


class TableOrJson(str, Enum):
    table = "table"
    json = "json"


@app.command()
def explain(
    client_file: Annotated[Path, typer.Argument(help="A client file.", show_default=False)],
    kpi: Annotated[str, typer.Argument(help="The KPI's id, e.g. cpo.", show_default=False)],
    period: Annotated[str, typer.Option(help="As check takes it: 2026-10, 2026-Q4, latest, current, all...")] = "latest",
    client: Annotated[Optional[str], typer.Option(help="Which client of a file with several.", show_default=False)] = None,
    output_format: Annotated[TableOrJson, typer.Option("--format", help="table (text) or json.")] = TableOrJson.table,
) -> None:
    """Why a KPI has its value and status: formula, inputs and their rows, arithmetic, target and where it came from.

    Example: kpi-rules explain examples/clients/coffee-house.yaml cpo --period 2025-12
    """
    from kpi_rules.explain import explain_kpi
    from kpi_rules.render.explain import render_explanations_json, render_explanations_text

    with _user_errors():
        explanations = explain_kpi(client_file, kpi, period, client)
        render = render_explanations_json if output_format is TableOrJson.json else render_explanations_text
        render(explanations, sys.stdout)


class PlaybookTestFormat(str, Enum):
    text = "text"
    junit = "junit"


@app.command("test")
def test_playbooks(
    paths: Annotated[list[Path], typer.Argument(help="Test files (*.test.yaml), or folders of them.", metavar="PATH...", show_default=False)],
    min_coverage: Annotated[
        Optional[float], typer.Option(help="Fail (exit 1) when a playbook has less than this share of its KPIs tested, in percent.", show_default=False)
    ] = None,
    output_format: Annotated[PlaybookTestFormat, typer.Option("--format", help="text, or junit (XML for CI).")] = PlaybookTestFormat.text,
) -> None:
    """Run playbook unit tests: made-up rows, expected KPI values and statuses; coverage of the playbook's KPIs.

    Example: kpi-rules test examples/playbook.test.yaml --min-coverage 80
    """
    from kpi_rules.playbook_tests import compile_test_files, run_test_files
    from kpi_rules.render.test_report import render_test_junit, render_test_text

    with _user_errors():
        if min_coverage is not None and not 0 <= min_coverage <= 100:
            raise InputError([Diagnostic("--min-coverage", None, None, "KR401", f"{min_coverage:g} is not a percentage from 0 to 100")])
        report = run_test_files(compile_test_files(paths), min_coverage)
        (render_test_junit if output_format is PlaybookTestFormat.junit else render_test_text)(report, sys.stdout)
    raise typer.Exit(1 if report.failed else 0)


class DiffFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    paths: Annotated[list[Path], typer.Argument(help="Client files, or folders of them, in a git repository.", metavar="PATH...", show_default=False)],
    rev: Annotated[str, typer.Option(help="The git revision to compare with: a branch, tag or commit.")] = "HEAD",
    period: Annotated[str, typer.Option(help="The periods compared, as check takes them (default: every period).")] = "all",
    output_format: Annotated[DiffFormat, typer.Option("--format", help="table (text), markdown (a pull request comment) or json.")] = DiffFormat.table,
) -> None:
    """What a change to playbooks or client files does: the rules that changed, and every KPI value or status that moves.

    Example: kpi-rules diff examples/clients/ --rev main --format markdown
    """
    from kpi_rules.diff import diff_revision
    from kpi_rules.render.diff import render_diff_json, render_diff_markdown, render_diff_text

    with _user_errors():
        report = diff_revision(paths, rev, period)
        render = {DiffFormat.json: render_diff_json, DiffFormat.markdown: render_diff_markdown}.get(output_format, render_diff_text)
        render(report, sys.stdout)


def _wanted(what: str):
    return Annotated[Optional[float], typer.Option(help=f"{what} wanted: the budget they need.", show_default=False)]


@app.command(
    epilog=(
        "Examples:\n\n"
        "  kpi-rules forecast client.yaml --budget 30000 --period 2026-11-01..2026-11-03\n\n"
        "  kpi-rules forecast client.yaml --leads 500 --confidence 95 --format json"
    )
)
def forecast(
    client_file: Annotated[Path, typer.Argument(help="A client file.", metavar="CLIENT_FILE", show_default=False)],
    budget: Annotated[Optional[float], typer.Option(help="A budget in the client's currency: the results it buys.", show_default=False)] = None,
    period: Annotated[str, typer.Option(help="The test period: latest, current, a period (2026-10) or a range 2026-11-01..2026-11-03.")] = "latest",
    client: Annotated[Optional[str], typer.Option(help="Only this client of the file.", show_default=False)] = None,
    leads: _wanted("Leads") = None,
    clicks: _wanted("Clicks") = None,
    orders: _wanted("Orders") = None,
    followers: _wanted("New followers") = None,
    impressions: _wanted("Impressions") = None,
    confidence: Annotated[float, typer.Option(help="Confidence of the ranges, in percent.")] = 90.0,
    output_format: Annotated[TableOrJson, typer.Option("--format", help="table or json.")] = TableOrJson.table,
) -> None:
    """Forecast from a test period's cost per result: what a budget buys, and what results cost, with a range."""
    from kpi_rules.forecast import check_forecast_options, forecast_clients
    from kpi_rules.pipeline import compile_clients
    from kpi_rules.render import make_console
    from kpi_rules.render.forecast import render_forecasts, render_forecasts_json

    wanted = {name: value for name, value in (("leads", leads), ("clicks", clicks), ("orders", orders), ("followers", followers), ("impressions", impressions)) if value is not None}
    with _user_errors():
        check_forecast_options(budget, wanted, confidence)
        forecasts, problems = forecast_clients(compile_clients([client_file]), period, client=client, budget=budget, wanted=wanted, confidence=confidence)
        if output_format is TableOrJson.json:
            render_forecasts_json(forecasts, sys.stdout)
        else:
            render_forecasts(forecasts, make_console())
    raise typer.Exit(_report_problems(problems, strict=False))


@app.command(
    epilog=(
        "Examples:\n\n"
        "  kpi-rules init my-agency --goal sales --goal community --platform vk\n\n"
        "  kpi-rules check my-agency/clients/"
    )
)
def init(
    folder: Annotated[Path, typer.Argument(help="The folder to create the files in (made if missing).", metavar="[DIR]")] = Path("."),
    goal: Annotated[Optional[list[str]], typer.Option(help="A goal of the bundled library, e.g. sales; repeat for several.", show_default=False)] = None,
    platform: Annotated[Optional[str], typer.Option(help="Targets from this platform's benchmarks: vk, instagram, facebook, telegram, tiktok.", show_default=False)] = None,
) -> None:
    """Start a new playbook folder: a playbook, a client file and sample data that check scores at once."""
    from kpi_rules.render import make_console
    from kpi_rules.scaffold import build_scaffold, write_scaffold

    with _user_errors():
        written = write_scaffold(folder, build_scaffold(goal or [], platform))
    console = make_console()
    console.print(f"Wrote {len(written)} files in {folder}:", markup=False)
    for path in written:
        console.print(f"  {path}", markup=False)
    console.print(f"Next: kpi-rules check {written[1].parent}/", markup=False)


def _schema_names(incomplete: str) -> list[str]:
    from kpi_rules.resources import schema_names

    return [name for name in schema_names() if name.startswith(incomplete)]


@app.command(
    epilog=(
        "Examples:\n\n"
        "  kpi-rules schema playbook > playbook.schema.json\n\n"
        "  kpi-rules schema scorecard"
    )
)
def schema(
    name: Annotated[
        str,
        typer.Argument(help="Which: playbook, client, scorecard (any schemas/NAME.schema.json shipped).", metavar="NAME", show_default=False, autocompletion=_schema_names),
    ],
) -> None:
    """Print a JSON Schema: for editors' autocompletion (yaml-language-server) and other tools."""
    from kpi_rules.resources import schema_names, schema_path

    with _user_errors():
        names = schema_names()
        if name not in names:
            raise InputError([Diagnostic("schema", None, None, "KR401", f'unknown schema "{name}"{did_you_mean(name, names)}; there are: {", ".join(names)}')])
        sys.stdout.write(schema_path(name).read_text(encoding="utf-8"))
