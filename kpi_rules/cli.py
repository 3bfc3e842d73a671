"""The command line: parse options, run the pipeline, hand results to a renderer.

Thin on purpose: no computing here. Invalid input exits 2 with diagnostics;
anything unexpected exits 3 with a request to report it.
"""

from __future__ import annotations

import errno
import os
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from kpi_rules import __version__
from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean

EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3

app = typer.Typer(
    name="kpi-rules",
    help=(
        "Check SMM clients' data against the KPIs agreed with them.\n\n"
        "Examples:\n\n"
        "  kpi-rules check examples/clients/\n\n"
        "  kpi-rules check examples/clients/coffee-house.yaml --period 2026-Q3 --format json --output q3.json\n\n"
        "  kpi-rules check examples/clients/ --output report.html --output report.pdf\n\n"
        "  kpi-rules validate examples/playbook.yaml examples/clients/\n\n"
        "  kpi-rules list examples/playbook.yaml --lang ru\n\n"
        "  kpi-rules show er cpl\n\n"
        "  kpi-rules explain examples/clients/coffee-house.yaml cpo --period 2025-12\n\n"
        "  kpi-rules test examples/ --min-coverage 80\n\n"
        "  kpi-rules diff examples/clients/ --rev main --format markdown\n\n"
        "  kpi-rules forecast examples/clients/b2b-firm.yaml --budget 60000 --period 2026-09\n\n"
        "  kpi-rules init my-agency --goal sales --goal community --platform vk\n\n"
        "  kpi-rules schema playbook > playbook.schema.json"
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _lower_case(value: str | None) -> str | None:
    """Language codes are read case-insensitively: --lang RU is ru (None: not given)."""
    return value.lower() if value else value


class OutputFormat(str, Enum):
    """The keys of kpi_rules.render.RENDERERS (a test keeps them equal; rich is not imported to list them)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"
    junit = "junit"
    github = "github"
    xlsx = "xlsx"
    html = "html"
    pdf = "pdf"
    parquet = "parquet"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kpi-rules {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Check SMM clients' data against the KPIs agreed with them."""


@contextmanager
def _user_errors() -> Iterator[None]:
    """Invalid input -> diagnostics on stderr and exit code 2."""
    try:
        yield
    except InputError as error:
        from kpi_rules.render import make_console, render_diagnostics

        render_diagnostics(error.diagnostics, make_console(stderr=True))
        raise typer.Exit(EXIT_INPUT_ERROR) from None


@contextmanager
def _verbose(on: bool) -> Iterator[None]:
    """With ``on``, kpi-rules' own log (the queries sent to databases) as plain lines on stderr, for this run."""
    if not on:
        yield
        return
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("kpi_rules")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Client files, or folders of them.", metavar="PATH...", show_default=False)],
    period: Annotated[
        str,
        typer.Option(help="2026-10, 2026-W42, 2026-Q4, 2026, 2026-10-05, a range 2026-11-01..2026-11-03 (scored as one period), latest (the last complete period), current (the unfinished one, on its pace) or all."),
    ] = "latest",
    output_format: Annotated[
        Optional[OutputFormat],
        typer.Option("--format", help="Format of the terminal's output (default table), and of an --output whose suffix names none.", show_default=False),
    ] = None,
    output: Annotated[
        Optional[list[str]],
        typer.Option(
            help=(
                "Write to this file instead of the terminal; repeat for several. The format follows the suffix "
                "(.txt table, .json, .md markdown, .csv, .xml junit, .xlsx, .html, .pdf), or FORMAT=PATH names it; - is the terminal; "
                "a folder (reports/) gets an HTML index and a page per client."
            ),
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 when a KPI has one of these statuses: a comma list of fail, warn (or worse), no_data, info; or never.")
    ] = "fail",
    strict: Annotated[bool, typer.Option("--strict", help="Warnings (data quality, ignored targets) count as errors: exit 2.")] = False,
    lang: Annotated[Optional[str], typer.Option(help="Report language: en, ru or pl (labels in any language the playbook has). Default: each client file's lang:, else en.", callback=_lower_case, show_default=False)] = None,
    details: Annotated[
        Optional[bool],
        typer.Option(
            "--details/--summary",
            help="Table: print every scorecard, or only the overview of all clients. Default: every scorecard up to 20.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print what is sent to a database source (its query) on stderr.")] = False,
) -> None:
    """Score clients' data against their KPIs: a pass/warn/fail scorecard per client and period."""
    from kpi_rules.output import inputs_of, open_output, plan_outputs
    from kpi_rules.pipeline import compile_clients, score
    from kpi_rules.render import BINARY, FOLDERS, RENDERERS, SUFFIXES, make_console, prepare

    from kpi_rules.results import failing_statuses

    with _user_errors(), _verbose(verbose):
        failing = _option("--fail-on", failing_statuses, fail_on)
        groups = compile_clients(paths)
        inputs = inputs_of(groups)
        # Every output checked before scoring, which can take a while.
        explicit = output_format.value if output_format else None
        outputs = plan_outputs(
            output or (), explicit, formats=RENDERERS, suffixes=SUFFIXES, binary=BINARY, folders=FOLDERS, inputs=inputs
        )
        for planned in outputs:
            prepare(planned.format)
        results = score(groups, period, lang)
        for planned in outputs:
            renderer = RENDERERS[planned.format]
            if planned.path is None:
                renderer(results, make_console(), details)
            elif planned.folder:
                from kpi_rules.folders import open_output_folder

                # An index and a page per client, the folder whole or not at all.
                with open_output_folder(planned.path, inputs=inputs) as folder:
                    FOLDERS[planned.format](results, folder)
            else:
                # Each file whole or not at all.
                with open_output(planned.path, binary=planned.format in BINARY, inputs=inputs) as stream:
                    renderer(results, stream if planned.format in BINARY else make_console(stream, to_file=True), details)
    # The clients that could be scored are shown; the problems of the others (and warnings) come after.
    raise typer.Exit(_report_problems(results.problems, strict) or results.exit_code(failing))


def _option(name: str, parse, value: str):
    try:
        return parse(value)
    except ValueError as error:
        raise InputError([Diagnostic(name, None, None, "KR401", str(error))]) from None


def _report_problems(problems, strict: bool) -> int:
    """Print problems to stderr; the exit code they call for (2 for an error, or a warning under --strict)."""
    if not problems:
        return 0
    from kpi_rules.render import make_console, render_diagnostics

    render_diagnostics(problems, make_console(stderr=True))
    return EXIT_INPUT_ERROR if any(p.is_error or strict for p in problems) else 0


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Playbooks and client files, or folders of them.", metavar="PATH...", show_default=False)],
    strict: Annotated[bool, typer.Option("--strict", help="Warnings count as errors: exit 2.")] = False,
) -> None:
    """Check playbooks, client files and playbook tests: YAML, schema, names, formulas, targets. Exit 0 or 2."""
    from kpi_rules.compile import Compiler, is_playbook_file
    from kpi_rules.playbook_tests import compile_test_file, is_test_file
    from kpi_rules.pipeline import discover

    with _user_errors():
        compiler = Compiler()
        files = discover(paths)
        warnings = []
        for path in files:
            if is_test_file(path):
                compile_test_file(compiler, path)
                continue
            document = compiler.load(path)
            if document is not None and is_playbook_file(document):
                compiler.playbook(str(path), Path())
            elif document is not None and (group := compiler.client(path)) is not None:
                warnings += group.warnings
        compiler.diagnostics += warnings
        compiler.raise_if_failed()
        code = _report_problems(warnings, strict)
        # Plain text: rich (imported only to render problems) would add a tenth of the command's time.
        typer.echo(f"{len(files)} file(s) valid")
    raise typer.Exit(code)


def _compile_reference(reference: str):
    """What a command-line argument names: builtin:NAME or a playbook file (the playbook, None), or a client
    file (its playbook, the compiled client file)."""
    from kpi_rules.compile import Compiler, is_playbook_file
    from kpi_rules.loading import load_yaml
    from kpi_rules.resources import BUILTIN_PREFIX

    compiler = Compiler()
    group = None
    if reference.startswith(BUILTIN_PREFIX) or is_playbook_file(load_yaml(Path(reference))):
        compiled = compiler.playbook(reference, Path())
    else:
        group = compiler.client(Path(reference))
        compiled = group.playbook if group else None
    compiler.raise_if_failed()
    return compiled, group


def _compile_playbook(reference: str):
    """The playbook behind a command-line argument: builtin:NAME, a playbook file, or a client file's playbook."""
    return _compile_reference(reference)[0]


PlaybookArgument = Annotated[str, typer.Argument(help="A playbook or client file, or builtin:NAME.", show_default=True)]
LangOption = Annotated[str, typer.Option(help="Label language, e.g. ru or pl (falls back to en).", callback=_lower_case)]
AgreementLangOption = Annotated[
    Optional[str],
    typer.Option("--lang", help="Language, e.g. ru or pl: by default a client file's lang:, else en.", callback=_lower_case, show_default=False),
]


@app.command("list")
def list_kpis(
    playbook: PlaybookArgument = "builtin:smm",
    goal: Annotated[Optional[str], typer.Option(help="Only the KPIs that serve this goal or are scored for it.")] = None,
    lang: LangOption = "en",
    metrics: Annotated[bool, typer.Option("--metrics", help="The raw metrics instead (with --goal: those its KPIs read): aggregation, unit, labels.")] = False,
) -> None:
    """The KPIs a playbook knows: id, label, formula, unit, direction, goals. --metrics: its raw metrics."""
    from kpi_rules.render import make_console
    from kpi_rules.render.reference import render_kpi_list, render_metric_list

    with _user_errors():
        compiled = _compile_playbook(playbook)
        if goal is not None and goal not in compiled.goals:
            raise InputError([Diagnostic("--goal", None, None, "KR401", f'unknown goal "{goal}"{did_you_mean(goal, compiled.goals)}')])
        if metrics:
            render_metric_list(compiled, goal, lang, make_console())
        else:
            render_kpi_list(compiled, goal, lang, make_console())


@app.command()
def show(
    kpis: Annotated[list[str], typer.Argument(help="KPI ids, e.g. er cpl.", metavar="KPI...", show_default=False)],
    playbook: Annotated[str, typer.Option("--playbook", "-p", help="A playbook or client file, or builtin:NAME.")] = "builtin:smm",
    lang: AgreementLangOption = None,
) -> None:
    """Everything about a KPI: formula, inputs, unit, direction, goals, target, description, source.
    With a client file: the goals and target that client agreed, in its language.

    Example: kpi-rules show cpo -p examples/clients/coffee-house.yaml
    """
    from kpi_rules.render import make_console
    from kpi_rules.render.agreement import render_agreed_kpi_details
    from kpi_rules.render.reference import render_kpi_details

    with _user_errors():
        compiled, group = _compile_reference(playbook)
        known = group.kpis if group is not None else compiled.kpis
        unknown = [kpi for kpi in kpis if kpi not in known]
        if unknown:
            raise InputError([_unknown_kpi(playbook, kpi, compiled.kpis, group) for kpi in unknown])
        if group is None:
            render_kpi_details(compiled, kpis, lang or "en", make_console())
        else:
            render_agreed_kpi_details(group, kpis, lang or group.template.lang or "en", make_console())


def _unknown_kpi(reference: str, kpi: str, defined, group) -> Diagnostic:
    """A KPI the playbook lacks, or (given a client file) one the client did not agree."""
    if group is None or kpi not in defined:
        return Diagnostic(reference, None, None, "KR205", f'unknown KPI "{kpi}"{did_you_mean(kpi, defined)}')
    agreed = ", ".join(group.kpis)
    return Diagnostic(reference, None, None, "KR205", f'KPI "{kpi}" is not one of the KPIs this client file agreed: {agreed}')


@app.command()
def docs(
    playbook: PlaybookArgument = "builtin:smm",
    lang: AgreementLangOption = None,
    output: Annotated[Optional[Path], typer.Option(help="Write to this file instead of the terminal.")] = None,
) -> None:
    """A playbook's KPI reference as Markdown: goals, KPIs with formulas and sources, raw metrics, targets.
    With a client file: that client's agreement (its goals, KPIs and targets, in its language) for a contract.

    Example: kpi-rules docs examples/clients/coffee-house.yaml --output coffee-house-kpis.md
    """
    from kpi_rules.output import check_output, open_output
    from kpi_rules.render.agreement import render_agreement_markdown
    from kpi_rules.render.markdown import render_markdown
    from kpi_rules.resources import BUILTIN_PREFIX

    with _user_errors():
        compiled, group = _compile_reference(playbook)
        # The argument may be a client file, which is not one of its playbook's files.
        inputs = [*compiled.files, *([] if playbook.startswith(BUILTIN_PREFIX) else [playbook])]
        if output is not None:
            check_output(output, inputs)
        command = f"kpi-rules docs {playbook}" + (f" --lang {lang}" if lang else "")
        if group is None:
            text = render_markdown(compiled, lang or "en", command)
        else:
            text = render_agreement_markdown(group, lang or group.template.lang or "en", command)
        if output is None:
            sys.stdout.write(text)
        else:
            with open_output(output, inputs=inputs) as stream:
                stream.write(text)


# The analyst's commands register themselves on ``app``; they use the helpers above.
from kpi_rules import cli_analyst  # noqa: F401


def _reader_went_away(error: OSError) -> bool:
    # polars reports a closed pipe as a plain OSError whose text names the error number.
    return isinstance(error, BrokenPipeError) or error.errno == errno.EPIPE or f"os error {errno.EPIPE}" in str(error)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.Exit as done:
        code = done.exit_code
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    except typer.TyperException as error:
        # Usage errors (unknown option, bad choice): typer prints them like click does.
        show = getattr(error, "show", None)
        if show is not None:
            show()
        code = getattr(error, "exit_code", EXIT_INPUT_ERROR)
    except Exception as error:
        if isinstance(error, OSError) and _reader_went_away(error):
            # `kpi-rules check ... | head`: the reader has what it wanted; nothing more to say.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        import traceback

        traceback.print_exc()
        print(
            f"kpi-rules {__version__}: internal error ({type(error).__name__}). This is a bug: "
            "please report it with the command you ran and the trace above.",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL_ERROR
    sys.exit(code or 0)
