"""The road from YAML to scorecards, one stage after another.

compile (client files -> ClientGroupDef) -> load data (scanned where it can be)
-> aggregate (streaming) -> the clients found in the rows -> evaluate -> select
periods -> results. The CLI calls ``compile_clients`` and ``score`` and renders
what comes back; nothing here prints. polars and the data stages are
imported inside the functions that use them, so validate and list never load them.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kpi_rules.compile import Compiler
from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.model import ClientDef, ClientGroupDef, PlaybookDef, varying_kpis
from kpi_rules.periods import ALL, CURRENT, LATEST, PeriodSpan, parse_period
from kpi_rules.results import Results, ScoredGroup

if TYPE_CHECKING:
    import polars as pl

YAML_SUFFIXES = (".yaml", ".yml")
KEYS = ["group", "client", "period_start"]  # a row of the aggregated frame: a client of a client file, in a period


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


def compile_clients(paths: list[Path]) -> list[ClientGroupDef]:
    """Client files named or found in folders; playbooks and playbook tests found beside them in a folder are skipped."""
    from kpi_rules.playbook_tests import is_test_file

    compiler = Compiler()
    files = discover(paths)
    compiler.diagnostics += [
        Diagnostic(str(path), None, None, "KR004", "is a playbook test file, not a client file: run it with kpi-rules test")
        for path, in_folder in files.items()
        if is_test_file(path) and not in_folder
    ]
    groups = [
        group
        for path, in_folder in files.items()
        if not is_test_file(path) and (group := compiler.client(path, skip_playbook=in_folder)) is not None
    ]
    if not groups and not compiler.diagnostics:
        compiler.diagnostics.append(Diagnostic(" ".join(map(str, paths)), None, None, "KR004", "no client files found"))
    compiler.raise_if_failed()
    return groups


@dataclass(frozen=True)
class _Batch:
    """Client files that share a playbook and grain, aggregated together: a row per client and period."""

    playbook: PlaybookDef
    indices: list[int]  # of the client files in the batch
    kpis: list[str]
    periods: pl.DataFrame
    found: dict[int, list[str]]  # client names in each file's rows
    posts: pl.DataFrame | None = None  # the best and worst posts per client and period (kpi_rules.post_ranking)


def score(groups: list[ClientGroupDef], period: str = LATEST, lang: str = "en") -> Results:
    """Every selected period's scorecard for every client, in the order the clients came; labels in ``lang``.

    A client file whose data has a problem is left out and the others are scored; the problems come
    with the results. Only when nothing could be scored are they raised.
    """
    from kpi_rules.competitors import competitor_groups
    from kpi_rules.data.load import find_clients, load_data

    span = None if period in (ALL, LATEST, CURRENT) else _parse_span(period)
    everyone, owners = competitor_groups(groups)
    with closing(load_data(everyone)) as loaded:
        problems = [*loaded.problems, *(warning for group in groups for warning in group.warnings)]
        alike: dict[tuple[int, str], list[int]] = {}
        for index, group in enumerate(everyone):
            if index not in loaded.failed and owners.get(index, (index,))[0] not in loaded.failed:
                alike.setdefault((id(group.playbook), group.template.grain), []).append(index)
        batches = []
        for (_, grain), indices in alike.items():
            batch, found = _aggregate(loaded, everyone, indices, grain, filtered=len(alike) > 1, span=span if span and span.is_range else None)
            problems += found
            if batch is not None:
                batches.append(batch)
    found_clients = {index: names for batch in batches for index, names in batch.found.items() if index not in owners}
    clients, found = find_clients(groups, found_clients, loaded.excluded)
    problems += found

    order = {client.name: index for index, client in enumerate(clients)}
    client_in = {(client.path, client.name): client for client in clients}
    scored: list[ScoredGroup] = []
    for batch in batches:
        # A client named in two files is scored for the first (the other is reported by find_clients).
        members = {
            (index, name): client
            for index in batch.indices
            if index not in owners
            for name in batch.found[index]
            if (client := client_in.get((groups[index].path, name))) is not None
        }
        groups_scored, missing = _evaluate(batch, members, order, period, span, owners)
        scored += groups_scored
        problems += missing
    over_time = period == ALL or (span is not None and not span.is_range)
    results = Results(tuple(scored), lang, InputError(problems).diagnostics, over_time)
    if not len(results) and any(problem.is_error for problem in problems):
        raise InputError(problems)
    return results


def _aggregate(
    loaded, groups: list[ClientGroupDef], indices: list[int], grain: str, *, filtered: bool, span: PeriodSpan | None
) -> tuple[_Batch | None, list[Diagnostic]]:
    """The batch's rows aggregated per client and period. A scanned file that will not parse is read
    again the slow way, which names every bad cell and leaves out the clients they belong to."""
    import polars as pl

    from kpi_rules.data.load import load_data
    from kpi_rules.quality import quality_warnings

    playbook = groups[indices[0]].playbook
    kpis = list(dict.fromkeys(kpi for index in indices for kpi in groups[index].kpis))
    # The batch's client files read from files (the others are queried in their database); None if it has none.
    files = [index for index in indices if index not in loaded.queried]
    rows = None
    if files:
        rows = loaded.rows.filter(pl.col("group").is_in(files)) if filtered else loaded.rows
    try:
        periods, posts, problems = _periods(rows, loaded.queried, playbook, kpis, grain, groups, indices, span)
    except (pl.exceptions.PolarsError, _ReadAgain):
        with closing(load_data(groups, indices, scan=False)) as reread:
            indices = [index for index in indices if index not in reread.failed]
            if not indices:
                return None, list(reread.problems)
            try:
                periods, posts, problems = _periods(reread.rows, reread.queried, playbook, kpis, grain, groups, indices, span)
            except (pl.exceptions.PolarsError, _ReadAgain) as error:
                files = sorted({str(source.path) for index in indices for source in groups[index].template.sources})
                raise InputError([Diagnostic(", ".join(files), None, None, "KR301", f"cannot read the data: {_first_line(error)}")]) from None
            problems += reread.problems
    problems += quality_warnings(periods, playbook.metrics, grain, {index: groups[index].path for index in indices}, span)
    found = {index: [] for index in indices} | dict(periods.group_by("group").agg(pl.col("client").unique()).iter_rows())
    return _Batch(playbook, indices, kpis, periods, found, posts), problems


class _ReadAgain(Exception):
    """A scanned file has a date that is empty or not a date, or a number that is not finite ("inf", "1e400"):
    the scan lets those through, and the file read again the slow way names their cells."""


def _periods(
    rows, queried: dict, playbook: PlaybookDef, kpis: list[str], grain: str, all_groups: list[ClientGroupDef], indices: list[int], span: PeriodSpan | None
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[Diagnostic]]:
    """The rows aggregated per client and period, and the posts ranked (client files ``indices`` of ``all_groups``).

    ``rows`` are the files' rows (None: the batch has none); the client files in ``queried`` are aggregated by
    their database (data.warehouse)."""
    import polars as pl

    from kpi_rules.data.warehouse import aggregate_in_database  # imports no database library itself
    from kpi_rules.evaluate import row_kpis

    # Only the metrics the scored KPIs read: a scanned file's other columns are then never parsed.
    metrics = {metric: playbook.metrics[metric] for kpi in kpis for metric in playbook.inputs(kpi)}
    periods, posts, problems = _file_periods(rows, playbook, kpis, metrics, grain, [all_groups[index] for index in indices], indices, span) if rows is not None else (None, None, [])
    frames = [] if periods is None else [periods]
    for index in (index for index in indices if index in queried):
        frames.append(aggregate_in_database(queried[index], metrics, grain, playbook, row_kpis(playbook, kpis), span, all_groups[index].names, index))
    periods = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed").sort("group", "client", "period_start")
    return periods, posts, problems


def _file_periods(
    rows, playbook: PlaybookDef, kpis: list[str], metrics: dict, grain: str, groups: list[ClientGroupDef], indices: list[int], span: PeriodSpan | None
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[Diagnostic]]:
    """The files' rows aggregated per client and period, streaming, and their posts ranked."""
    import polars as pl

    from kpi_rules.aggregate import aggregate
    from kpi_rules.data.posts import stocks_as_of_each_row
    from kpi_rules.data.ranges import spread_rows
    from kpi_rules.evaluate import row_values
    from kpi_rules.post_ranking import rank_posts

    problems: list[Diagnostic] = []
    posts = None
    if any(source.rows == "post" for group in groups for source in group.template.sources):
        rank_by = {
            index: group.template.posts_rank_by
            for index, group in zip(indices, groups)
            if group.template.posts_rank_by and not group.competitor and any(source.rows == "post" for source in group.template.sources)
        }
        rows = stocks_as_of_each_row(rows, playbook, kpis, set(rank_by.values()))
        posts = rank_posts(rows, playbook, rank_by, grain, span)
    if "date_end" in rows.collect_schema().names():
        files = sorted({str(s.path) for group in groups for s in group.template.sources if s.date_end or s.rows in ("week", "month")})
        rows, problems = spread_rows(rows, grain, metrics, files, span)
    per_row = row_values(playbook, kpis, rows.collect_schema().names())
    # Streaming: rows are read, parsed and aggregated a batch at a time, never all in memory.
    periods = aggregate(rows, metrics, grain, per_row, span).collect(engine="streaming")
    numbers = [metric for metric in metrics if metric in periods.columns and periods.schema[metric].is_float()]
    if periods["period_start"].null_count() or periods.select(pl.any_horizontal(~pl.col(numbers).is_finite()).any()).item():
        raise _ReadAgain()
    return periods, posts, problems


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _evaluate(
    batch: _Batch,
    scored: dict[tuple[int, str], ClientDef],
    order: dict[str, int],
    period: str,
    span: PeriodSpan | None,
    owners: dict[int, tuple[int, int]],
) -> tuple[list[ScoredGroup], list[Diagnostic]]:
    """The batch's KPIs and statuses in the selected periods, as one ScoredGroup per set of goals.

    ``scored`` are the clients to score, by client file (index) and name; ``owners`` the competitors' groups.
    """
    import polars as pl

    from kpi_rules.columns import threshold_column, value_column
    from kpi_rules.data.ranges import estimated_columns
    from kpi_rules.evaluate import evaluate
    from kpi_rules.pacing import has_unfinished
    from kpi_rules.scores import add_scores
    from kpi_rules.thresholds import apply_targets

    members = list(scored.values())
    periods = _with_baselines(batch.periods, members)
    rivals = periods.filter(pl.col("group").is_in(list(owners)))
    periods = periods.filter(~pl.col("group").is_in(list(owners))) if rivals.height else periods
    if len(scored) < sum(len(batch.found[index]) for index in batch.indices if index not in owners):
        # A client in two files is scored for the first only: leave out the other file's rows.
        keys = pl.DataFrame(list(scored), schema={"group": pl.Int32, "client": pl.String}, orient="row")
        periods = periods.join(keys, on=["group", "client"], how="semi")
    # In report order (clients as they came, each client's periods in turn) while the frame is narrow: sorting
    # the evaluated one moves hundreds of columns. Every later step keeps the order.
    periods = periods.with_columns(order=pl.col("client").replace_strict(order, return_dtype=pl.Int64)).sort("order", "period_start")
    selected = None if period == ALL else _select_periods(periods.select(*KEYS, "period_end", "complete"), period, span)
    range_period = bool(span and span.is_range)
    paced = has_unfinished(periods if selected is None else periods.join(selected, on=KEYS, how="semi"))
    # The competitors' values, once for every block of clients.
    rival_values = evaluate(rivals.lazy(), batch.playbook, batch.kpis).collect(engine=EVALUATION_ENGINE) if rivals.height else None
    # A block of clients at a time: every step looks back within a client only, and evaluating hundreds of
    # columns at once holds several copies of them (at 10M rows of data, 3 GB more than the result).
    evaluated = pl.concat(
        [
            apply_targets(_values(batch, block, rival_values, owners, paced), batch.playbook, members, batch.kpis, plans=not range_period)
            .with_columns(estimated_columns(batch.playbook, batch.kpis, periods.columns))
            .collect(engine=EVALUATION_ENGINE)
            # One chunk per column per block: a frame whose columns are chunked differently is copied whole by
            # the next select (1.6 GB at 10M rows).
            .rechunk()
            for block in _client_blocks(periods, PERIODS_PER_BLOCK)
        ],
        how="vertical",
        rechunk=False,
    )
    # A plan or a relative target differs by period: its past targets are charted beside the values.
    varying = varying_kpis(members)
    targets = [column for kpi in batch.kpis if kpi in varying and (column := threshold_column(kpi, "target")) in evaluated.columns]
    history = evaluated.select("client", "period_start", *[value_column(kpi) for kpi in batch.kpis], *targets)
    chosen = evaluated if selected is None else evaluated.join(selected, on=KEYS, how="semi", maintain_order="left")
    present = set(chosen["client"].unique().to_list())
    absent: dict[str, list[str]] = {}
    for client in members:
        if client.name not in present:
            absent.setdefault(client.path, []).append(client.name)
    missing = [_no_period(path, names, evaluated, period) for path, names in absent.items()]
    by_goals: dict[tuple[str, ...], dict[str, ClientDef]] = {}
    for client in members:
        by_goals.setdefault(client.goals, {})[client.name] = client
    groups = []
    for goals, named in by_goals.items():
        frame = chosen if len(by_goals) == 1 else chosen.filter(pl.col("client").is_in(list(named)))
        frame = add_scores(frame, batch.playbook, goals, {name: client.goal_weights for name, client in named.items()})
        groups.append(ScoredGroup(frame, batch.playbook, goals, next(iter(named.values())).kpis, named, history, range_period, batch.posts))
    return groups, missing


# Hundreds of columns of a few thousand rows at a time: polars' in-memory engine evaluates them in half the
# time of its streaming engine (its default since polars 2): 0.21 s against 0.45 s at 1M rows of data.
EVALUATION_ENGINE = "in-memory"

# 100,000 client x period rows: a block's evaluation holds about 2.5 GB at 56 KPIs. Each block costs a plan of
# hundreds of columns to build and optimise (0.1-0.2 s): the 10M-row benchmark's 330,000 make four blocks.
PERIODS_PER_BLOCK = 100_000


def _client_blocks(periods, size: int):
    """``periods`` (in report order) cut into slices of whole clients, of about ``size`` rows each."""
    start = 0
    for length in periods.group_by("order", maintain_order=True).len()["len"].cum_sum().to_list():
        if length - start >= size:
            yield periods.slice(start, length - start)
            start = length
    if start < periods.height or not periods.height:
        yield periods.slice(start)


def _values(batch: _Batch, periods, rival_values, owners: dict[int, tuple[int, int]], paced: bool):
    """The KPIs' values, with the competitors' (``rival_values``, None without competitors) beside them and,
    with ``paced`` (a selected period is unfinished), the values at its pace."""
    from kpi_rules.competitors import attach_competitors
    from kpi_rules.evaluate import evaluate

    values = evaluate(periods.lazy(), batch.playbook, batch.kpis, paced=paced)
    if rival_values is not None:
        values = attach_competitors(values, rival_values.lazy(), owners, batch.kpis)
    return values


def _with_baselines(periods, clients: list[ClientDef]):
    """``baseline_start`` and ``baseline_end``: the client's baseline span, null without one (and for competitors)."""
    import polars as pl

    if not any(client.baseline for client in clients):
        return periods.with_columns(baseline_start=pl.lit(None, pl.Date), baseline_end=pl.lit(None, pl.Date))

    table = pl.DataFrame(
        {
            "client": [client.name for client in clients],
            "baseline_start": [client.baseline[0] if client.baseline else None for client in clients],
            "baseline_end": [client.baseline[1] if client.baseline else None for client in clients],
        },
        schema={"client": pl.String, "baseline_start": pl.Date, "baseline_end": pl.Date},
    )
    return periods.join(table, on="client", how="left", maintain_order="left")


def _parse_span(period: str) -> PeriodSpan:
    try:
        return parse_period(period)
    except ValueError as error:
        raise InputError([Diagnostic("--period", None, None, "KR401", str(error))]) from None


def _select_periods(periods, period: str, span: PeriodSpan | None):
    """The keys of the periods to show: a client's latest complete one, its current one, or those in a span (all
    of them are shown without selecting)."""
    import polars as pl

    if span is not None and span.is_range:
        # The range is one period: the block of its days (the blocks before it are its history).
        return periods.filter(pl.col("period_start") == span.start)
    if span is not None:
        return periods.filter((pl.col("period_start") <= span.end) & (pl.col("period_end") >= span.start))
    last = pl.col("period_start").max()
    if period == CURRENT:
        chosen = periods.group_by("group", "client").agg(last.alias("period_start"))
    else:
        # Latest: the last period the data covers completely, else the last there is.
        chosen = periods.group_by("group", "client").agg(pl.coalesce(pl.col("period_start").filter(pl.col("complete")).max(), last).alias("period_start"))
    return periods.join(chosen, on=KEYS, how="semi")


def _no_period(path: str, names: list[str], evaluated, period: str) -> Diagnostic:
    """One problem per client file, however many of its clients have no data in the period."""
    import polars as pl

    covered = evaluated.filter(pl.col("client").is_in(names))
    extent = f"; the data covers {covered['period_start'].min()} to {covered['period_end'].max()}" if covered.height else ""
    shown = ", ".join(f'"{name}"' for name in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    who = f"client {shown}" if len(names) == 1 else f"clients {shown}"
    return Diagnostic(path, None, None, "KR305", f"no data for {who} in period {period}{extent}")
