"""Client files -> ClientGroupDef: the playbook they use, their data sources (and competitors'), goals,
targets, overrides and what they agree over time, each checked at its line.

The compiler (kpi_rules.compile) shares each playbook between its clients and collects the diagnostics.
"""

from __future__ import annotations

from pathlib import Path

from kpi_rules.agreements import compile_agreements
from kpi_rules.compile import Compiler, is_playbook_file
from kpi_rules.diagnostics import Diagnostic, Suggestions
from kpi_rules.formulas import PERIOD_FUNCTIONS
from kpi_rules.layers import Origin
from kpi_rules.loading import Document, JsonPath
from kpi_rules.model import PERIOD_NAMES, ClientDef, ClientGroupDef, ClientOverrideDef, PlaybookDef, SourceDef, kpis_used
from kpi_rules.sources import compile_source, source_entries
from kpi_rules.targets import check_client_targets

# Posts are ranked by ER per post unless the client file names another KPI.
DEFAULT_POST_KPI = "er"


def per_row_problem(playbook: PlaybookDef, kpi_id: str) -> str | None:
    """The first fact of the period (days, previous() ...) a KPI reads, itself or through the KPIs it uses."""
    for used in sorted(kpis_used(playbook.kpis, playbook.metrics, [kpi_id])):
        formula = playbook.kpis[used].formula
        found = sorted(formula.names & PERIOD_NAMES.keys()) + [f"{name}()" for name in sorted(formula.functions & PERIOD_FUNCTIONS)]
        if found:
            return found[0] + (f' (through "{used}")' if used != kpi_id else "")
    return None


def compile_client_file(compiler: Compiler, path: Path, *, skip_playbook: bool = False) -> ClientGroupDef | None:
    """Compile a client file; a playbook is reported, or skipped when it sits in a folder of clients."""
    document = compiler.load(path)
    if document is not None and is_playbook_file(document):
        if not skip_playbook:
            compiler.diagnostics.append(
                Diagnostic(document.path, None, None, "KR004", "is a playbook, not a client file: check takes client files or folders of them")
            )
        return None
    document = compiler.validated(document, "client")
    if document is None:
        return None
    before = len(compiler.diagnostics)
    data = document.data
    names = _client_names(compiler, document)
    playbook = compiler.playbook(data["playbook"], path.parent, Origin(document, ("playbook",)))
    sources = _sources(compiler, document, path.parent)
    competitors = tuple((name, _sources(compiler, document, path.parent, ("competitors", name))) for name in data.get("competitors", {}))
    if playbook is None:
        return None
    _check_goals(compiler, document, ("goals",), data["goals"], playbook)
    targets = {**playbook.targets, **compiler.targets(_origins(document, ("targets",)), dict(playbook.kpis), playbook.kpis.keys())}
    overrides = {}
    suggest = Suggestions(names or ())
    for name, fields in data.get("overrides", {}).items():
        where = ("overrides", name)
        if names is not None and name not in names:
            compiler.diagnostics.append(
                document.diagnostic(where, "KR205", f'override for "{name}", who is not in clients{suggest(name)}', key=True)
            )
        if "goals" in fields:
            _check_goals(compiler, document, (*where, "goals"), fields["goals"], playbook)
        overrides[name] = ClientOverrideDef(
            goals=tuple(fields["goals"]) if "goals" in fields else None,
            targets=compiler.targets(_origins(document, (*where, "targets")), dict(playbook.kpis), playbook.kpis.keys()),
            currency=fields.get("currency"),
        )
    posts_rank_by = _posts_rank_by(compiler, document, playbook)
    problems, warnings = check_client_targets(document, playbook, targets, overrides)
    agreements, found = compile_agreements(document, playbook, targets, overrides)
    compiler.diagnostics += problems + [problem for problem in found if problem.is_error]
    warnings += [problem for problem in found if not problem.is_error]
    if len(compiler.diagnostics) > before:
        return None
    template = ClientDef(
        name=data.get("client", ""),
        path=document.path,
        playbook=playbook,
        goals=tuple(data["goals"]),
        grain=data.get("period", "month"),
        sources=sources,
        targets=targets,
        currency=data.get("currency"),
        baseline=agreements.baseline,
        waivers=agreements.waivers,
        goal_weights=agreements.goal_weights,
        timezone=data.get("timezone"),
        lang=data["lang"].lower() if "lang" in data else None,
        competitors=competitors,
        posts_rank_by=posts_rank_by,
    )
    return ClientGroupDef(document.path, names, template, overrides, tuple(warnings), document.position(("data",), key=True))

def _sources(compiler: Compiler, document: Document, base_dir: Path, owner: JsonPath = ()) -> tuple[SourceDef, ...]:
    """The data sources under ``owner`` (the client file, or one of its competitors); problems collected."""
    section = document.data
    for key in owner:
        section = section[key]
    sources = []
    for index in range(len(source_entries(section))):
        source, problems = compile_source(document, base_dir, index, document.data.get("currency"), owner)
        sources.append(source)
        compiler.diagnostics += problems
    if len(sources) > 1 and any(source and source.format == "database" for source in sources):
        # Its rows are aggregated in the database: rows of a file could not join them there.
        message = "a database source must be the only data: of its client file (put the other rows into the database, or use a second client file)"
        compiler.diagnostics.append(document.diagnostic((*owner, "data"), "KR217", message, key=True))
    return tuple(sources)

def _client_names(compiler: Compiler, document: Document) -> tuple[str, ...] | None:
    """``client: A`` -> (A,); ``clients: [A, B]`` -> (A, B); ``clients: all`` -> None (the data decides)."""
    data = document.data
    if ("client" in data) == ("clients" in data):
        message = "give either client (one client) or clients (a list, or all)"
        compiler.diagnostics.append(Diagnostic(document.path, 1, 1, "KR102", message))
        return ()
    if "client" in data:
        if "overrides" in data:
            compiler.diagnostics.append(
                document.diagnostic(("overrides",), "KR101", "overrides are for files with clients: (many clients)", key=True)
            )
        return (data["client"],)
    return None if data["clients"] == "all" else tuple(data["clients"])

def _posts_rank_by(compiler: Compiler, document: Document, playbook: PlaybookDef) -> str | None:
    """The KPI that ranks the client's posts: ``posts: {rank_by: KPI}``, else er where the playbook has it.
    It is evaluated on each post row, so (like a mean_of_rows KPI) it may not use a fact of the period."""
    rank_by = document.data.get("posts", {}).get("rank_by")
    if rank_by is None:
        return DEFAULT_POST_KPI if DEFAULT_POST_KPI in playbook.kpis and per_row_problem(playbook, DEFAULT_POST_KPI) is None else None
    where = ("posts", "rank_by")
    if rank_by not in playbook.kpis:
        message = f'posts are ranked by unknown KPI "{rank_by}"{Suggestions(playbook.kpis)(rank_by)}'
        compiler.diagnostics.append(document.diagnostic(where, "KR205", message))
        return None
    problem = per_row_problem(playbook, rank_by)
    if problem is not None:
        message = f'posts cannot be ranked by "{rank_by}": {problem} is a fact of the period, and a post is one data row'
        compiler.diagnostics.append(document.diagnostic(where, "KR203", message))
        return None
    return rank_by


def _check_goals(compiler: Compiler, document: Document, where: JsonPath, goals: list[str], playbook: PlaybookDef) -> None:
    suggest = Suggestions(playbook.goals)
    known = ", ".join(list(playbook.goals)[:20]) + (" ..." if len(playbook.goals) > 20 else "")
    for index, goal in enumerate(goals):
        if goal not in playbook.goals:
            compiler.diagnostics.append(
                document.diagnostic(
                    (*where, index), "KR205",
                    f'unknown goal "{goal}"{suggest(goal)}; the playbook has: {known}',
                )
            )


def _origins(document: Document, where: JsonPath) -> dict[str, tuple[dict, Origin]]:
    """The targets under ``where``, each with where it was written."""
    section = document.data
    for key in where:
        section = section.get(key, {})
    return {kpi: (fields, Origin(document, (*where, kpi))) for kpi, fields in section.items()}
