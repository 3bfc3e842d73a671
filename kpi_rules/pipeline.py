"""The road from YAML to scorecards, one stage after another.

compile (client files -> ClientDef) -> load data -> aggregate -> evaluate ->
select periods -> results. The CLI calls ``compile_clients`` and ``score`` and
renders what comes back; nothing here prints. polars and the data stages are
imported inside the functions that use them, so validate and list never load them.
"""

from __future__ import annotations

from pathlib import Path

from kpi_rules.compile import Compiler
from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.model import ClientDef
from kpi_rules.periods import ALL, LATEST, PeriodSpan, parse_period
from kpi_rules.results import GoalResult, KpiResult, Scorecard, worst

YAML_SUFFIXES = (".yaml", ".yml")


def discover(paths: list[Path]) -> dict[Path, bool]:
    """Files named on the command line, and the YAML files inside folders named there.

    Each file maps to whether it was found in a folder rather than named.
    """
    files: dict[Path, bool] = {}
    problems = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
            if not found:
                problems.append(Diagnostic(str(path), None, None, "KR001", "folder has no .yaml files"))
            for file in found:
                files.setdefault(file, True)
        elif path.exists():
            files[path] = False
        else:
            problems.append(Diagnostic(str(path), None, None, "KR001", "file not found"))
    if problems:
        raise InputError(problems)
    return files


def compile_clients(paths: list[Path]) -> list[ClientDef]:
    """Client files named or found in folders; playbooks found beside them in a folder are skipped."""
    compiler = Compiler()
    clients = [
        client
        for path, in_folder in discover(paths).items()
        if (client := compiler.client(path, skip_playbook=in_folder)) is not None
    ]
    if not clients and not compiler.diagnostics:
        compiler.diagnostics.append(Diagnostic(" ".join(map(str, paths)), None, None, "KR004", "no client files found"))
    seen: dict[str, ClientDef] = {}
    for client in clients:
        if client.name in seen:
            compiler.diagnostics.append(
                Diagnostic(client.path, None, None, "KR205", f'client "{client.name}" is also defined in {seen[client.name].path}')
            )
        seen.setdefault(client.name, client)
    compiler.raise_if_failed()
    return clients


def score(clients: list[ClientDef], period: str = LATEST, lang: str = "en") -> list[Scorecard]:
    """Every selected period's scorecard for every client, in the order the clients came; labels in ``lang``."""
    import polars as pl

    from kpi_rules.aggregate import aggregate
    from kpi_rules.data import load_data
    from kpi_rules.evaluate import evaluate, row_values

    span = None if period in (ALL, LATEST) else _parse_span(period)
    rows = load_data(clients)
    groups: dict[tuple[int, str], list[ClientDef]] = {}
    for client in clients:
        groups.setdefault((id(client.playbook), client.grain), []).append(client)

    cards: list[Scorecard] = []
    problems: list[Diagnostic] = []
    for (_, grain), members in groups.items():
        playbook = members[0].playbook
        names = [client.name for client in members]
        per_row = row_values(playbook, rows.collect_schema().names())
        periods = aggregate(rows.filter(pl.col("client").is_in(names)), dict(playbook.metrics), grain, per_row)
        evaluated = evaluate(periods, playbook, members).collect()
        selected = _select_periods(evaluated, period, span)
        by_client = selected.partition_by("client", as_dict=True)
        for client in members:
            frame = by_client.get((client.name,))
            if frame is None:
                problems.append(_no_period(client, evaluated, period))
                continue
            cards.extend(_scorecard(client, row, lang) for row in frame.iter_rows(named=True))
    if problems:
        raise InputError(problems)
    order = {client.name: index for index, client in enumerate(clients)}
    return sorted(cards, key=lambda card: (order[card.client], card.start))


def _parse_span(period: str) -> PeriodSpan:
    try:
        return parse_period(period)
    except ValueError as error:
        raise InputError([Diagnostic("--period", None, None, "KR401", str(error))]) from None


def _select_periods(evaluated, period: str, span: PeriodSpan | None):
    import polars as pl

    if period == ALL:
        return evaluated
    if span is not None:
        return evaluated.filter((pl.col("period_start") <= span.end) & (pl.col("period_end") >= span.start))
    # Latest: the last period the data covers completely, else the last there is.
    latest = evaluated.group_by("client").agg(
        pl.coalesce(
            pl.col("period_start").filter(pl.col("complete")).max(), pl.col("period_start").max()
        ).alias("period_start")
    )
    return evaluated.join(latest, on=["client", "period_start"])


def _no_period(client: ClientDef, evaluated, period: str) -> Diagnostic:
    import polars as pl

    covered = evaluated.filter(pl.col("client") == client.name)
    extent = f"; its data covers {covered['period_start'].min()} to {covered['period_end'].max()}" if covered.height else ""
    return Diagnostic(client.path, None, None, "KR305", f'no data for client "{client.name}" in period {period}{extent}')


def _scorecard(client: ClientDef, row: dict, lang: str) -> Scorecard:
    from kpi_rules.evaluate import (
        gap_column,
        reason_column_of_kpi,
        status_column,
        value_column,
    )

    playbook = client.playbook
    kpis = []
    for kpi_id in client.kpis:
        kpi = playbook.kpis[kpi_id]
        target = client.targets.get(kpi_id)
        kpis.append(
            KpiResult(
                id=kpi_id,
                label=kpi.label(lang),
                value=row[value_column(kpi_id)],
                unit=kpi.unit,
                better=kpi.better,
                status=row[status_column(kpi_id)],
                target=target.as_dict() if target else None,
                gap=row[gap_column(kpi_id)],
                reason=row[reason_column_of_kpi(kpi_id)],
            )
        )
    statuses = {kpi.id: kpi.status for kpi in kpis}
    goals = tuple(
        GoalResult(goal, playbook.goals[goal].label(lang), playbook.goals[goal].kpis, worst(statuses[k] for k in playbook.goals[goal].kpis))
        for goal in client.goals
    )
    return Scorecard(
        client=client.name,
        playbook=playbook.name,
        currency=client.currency,
        grain=client.grain,
        start=row["period_start"],
        end=row["period_end"],
        days=row["days"],
        days_with_data=row["days_with_data"],
        complete=row["complete"],
        goals=goals,
        kpis=tuple(kpis),
    )
