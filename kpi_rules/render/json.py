"""The JSON scorecard format, documented by schemas/scorecard.schema.json.

One document: first what the scorecards refer to (per playbook, the goals and
KPIs with their labels, units and directions: once, not in every scorecard),
then one scorecard per line. A check of thousands of clients gives tens of
thousands of scorecards of dozens of KPIs each, so the text of each scorecard
is composed by polars from the scored frame, a chunk of rows at a time, never
as Python objects per KPI: the constant parts (ids, client names) are encoded
once and the per-period values (thresholds too: a plan differs by period)
column-wise. Optional keys are written only when the frame has their column.
"""

from __future__ import annotations

import codecs
import json
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl
from rich.console import Console

from kpi_rules import __version__
from kpi_rules.columns import (
    change_column,
    competitors_column,
    estimated_column,
    gap_column,
    note_column,
    previous_column,
    projected_column,
    reason_column_of_kpi,
    reference_column,
    score_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.model import varying_kpis
from kpi_rules.results import SEVERITY, STATUSES, Results, ScoredGroup, status_type

DECIMALS = 6
ROWS_PER_CHUNK = 4_000  # about 6 KB of text a scorecard of 50 KPIs: 24 MB a chunk
IN_FLIGHT = 3


def render_json(results: Results, console: Console) -> None:
    stream = console.file
    names = _playbook_names(results)
    definitions = _text(_definitions(results, names))
    stream.write(f'{{"kpi_rules_version":{_text(__version__)},\n"playbooks":{definitions},\n"scorecards":[\n')
    stream.flush()
    line_of = {id(group): _scorecard_line(group, names[id(group.playbook)]) for group in results.groups}
    fragments = {id(group): _client_fragments(group) for group in results.groups}
    chunks = list(results.blocks(ROWS_PER_CHUNK))

    def compose(number: int) -> pl.DataFrame:
        group, start, length = chunks[number]
        rows = group.frame.slice(start, length).join(fragments[id(group)], on="client", how="left", maintain_order="left")
        # A comma after every scorecard but the last of all.
        last = number == len(chunks) - 1
        comma = pl.when(pl.int_range(pl.len()) < pl.len() - 1).then(pl.lit(",")).otherwise(pl.lit("" if last else ","))
        return rows.with_columns(_ranks(group)).select(pl.concat_str(line_of[id(group)], comma))

    # Chunks are composed two at a time (polars works without the GIL) and written in order;
    # at most IN_FLIGHT chunks wait in memory.
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque[Future[pl.DataFrame]] = deque()
        for number in range(len(chunks)):
            pending.append(pool.submit(compose, number))
            if len(pending) >= IN_FLIGHT:
                _write_lines(pending.popleft().result(), stream)
        while pending:
            _write_lines(pending.popleft().result(), stream)
    stream.write("]}\n")


def _write_lines(lines: pl.DataFrame, stream) -> None:
    # Written by polars as they are (no quoting), one line each: no Python string per scorecard. A UTF-8 text
    # file gets the bytes straight into its buffer (a text stream would have them decoded and encoded again).
    binary = getattr(stream, "buffer", None)
    if binary is not None and codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "utf-8":
        stream.flush()
        lines.write_csv(binary, include_header=False, quote_style="never")
    else:
        lines.write_csv(stream, include_header=False, quote_style="never")


def _playbook_names(results: Results) -> dict[int, str]:
    """Each playbook's key in the document: its name, with its path when two playbooks share a name."""
    playbooks = {id(group.playbook): group.playbook for group in results.groups}
    counts = Counter(playbook.name for playbook in playbooks.values())
    return {key: p.name if counts[p.name] == 1 else f"{p.name} ({p.path})" for key, p in playbooks.items()}


def _definitions(results: Results, names: dict[int, str]) -> dict:
    """Per playbook, the goals and KPIs its scorecards use, labelled in the results' language."""
    definitions: dict[str, dict] = {}
    for group in results.groups:
        playbook = group.playbook
        entry = definitions.setdefault(names[id(playbook)], {"goals": {}, "kpis": {}})
        for goal_id in group.goals:
            goal = playbook.goals[goal_id]
            entry["goals"][goal_id] = {"label": goal.label(results.lang), "kpis": list(goal.kpis)}
        for kpi_id in group.kpis:
            kpi = playbook.kpis[kpi_id]
            entry["kpis"][kpi_id] = {"label": kpi.label(results.lang), "unit": kpi.unit, "better": kpi.better}
    return definitions


def _scorecard_line(group: ScoredGroup, playbook_name: str) -> pl.Expr:
    """One scorecard's JSON text, from its row and its client's fragments (see _client_fragments)."""
    playbook = group.playbook
    ranks = {kpi: pl.col(_rank_column(kpi)) for kpi in group.kpis}

    def worst(kpis) -> pl.Expr:
        # A goal or scorecard takes its worst KPI status (results.worst, column-wise).
        return pl.min_horizontal([ranks[k] for k in kpis]).replace_strict(dict(enumerate(SEVERITY)), return_dtype=pl.String)

    parts: list[pl.Expr | str] = [
        '{"client":', pl.col("client_json"),
        f',"playbook":{_text(playbook_name)},"currency":', pl.col("currency_json"),
        ',"period":{"start":"', pl.col("period_start").cast(pl.String),
        '","end":"', pl.col("period_end").cast(pl.String),
        f'","grain":{_text(group.grain)},"days":', pl.col("days").cast(pl.String),
        ',"days_with_data":', pl.col("days_with_data").cast(pl.String),
        ',"complete":', pl.when(pl.col("complete")).then(pl.lit("true")).otherwise(pl.lit("false")),
        '},"status":"', worst(group.kpis), '","score":', _number(score_column()), ',"summary":{',
    ]
    for index, status in enumerate(STATUSES):
        count = pl.sum_horizontal([(ranks[k] == SEVERITY.index(status)).cast(pl.Int32) for k in group.kpis])
        parts += [("," if index else "") + f'"{status}":', count.cast(pl.String)]
    parts.append('},"goals":[')
    for index, goal_id in enumerate(group.goals):
        parts += [
            ("," if index else "") + f'{{"id":{_text(goal_id)},"status":"', worst(playbook.goals[goal_id].kpis),
            '","score":', _number(score_column(goal_id)), "}",
        ]
    parts.append('],"kpis":[')
    columns = set(group.frame.columns)
    fixed = _fixed_targets(group)
    reasons = _encoded_texts(group.frame, {kpi: reason_column_of_kpi(kpi) for kpi in group.kpis})
    for index, kpi_id in enumerate(group.kpis):
        parts += [
            ("," if index else "") + f'{{"id":{_text(kpi_id)},"value":',
            _number(value_column(kpi_id)),
            ',"status":"',
            pl.col(status_column(kpi_id)),
            '","target":', pl.col(_target_column(kpi_id)) if kpi_id in fixed else _target(kpi_id, columns),
            ',"gap":', _number(gap_column(kpi_id)),
            ',"reason":', reasons[kpi_id],
            ',"previous":', _number(previous_column(kpi_id)),
            ',"change":', _number(change_column(kpi_id)),
            *_optional_keys(kpi_id, columns),
            "}",
        ]
    parts.append("]}")
    return pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in _merge_literals(parts)])


def _ranks(group: ScoredGroup) -> list[pl.Expr]:
    """Each KPI's status as its place in SEVERITY (its code as results.status_type), once per row: the worst
    status of every goal and of the scorecard, and the count of each status, all read these small integers."""
    status = status_type()
    return [pl.col(status_column(kpi)).cast(status).to_physical().cast(pl.Int8).alias(_rank_column(kpi)) for kpi in group.kpis]


def _rank_column(kpi: str) -> str:
    return f"rank:{kpi}"


# The thresholds a target can have set together (a warn only with a target), the fullest first.
THRESHOLD_SETS = (("target", "warn"), ("target",), ("min", "max"), ("min",), ("max",))


def _target(kpi_id: str, columns: set[str]) -> pl.Expr:
    """The row's thresholds as an object ({"target":3.3,"warn":2.85}), or null when none is set."""
    # Each set's text is null unless all its thresholds are set: the first that is not null is the row's.
    # (Twice as fast as joining each threshold's text skipping nulls, which doubled the whole document's time.)
    texts = []
    for names in THRESHOLD_SETS:
        if all(threshold_column(kpi_id, name) in columns for name in names):
            parts: list[pl.Expr] = []
            for index, name in enumerate(names):
                number = pl.col(threshold_column(kpi_id, name)).round(DECIMALS).cast(pl.String)
                parts += [pl.lit(("," if index else "{") + f'"{name}":'), number]
            texts.append(pl.concat_str(*parts, pl.lit("}")))
    return pl.coalesce(*texts, pl.lit("null"))


def _optional_keys(kpi_id: str, columns: set[str]) -> list[pl.Expr | str]:
    """The keys only some checks have: estimated (rows split over days), projected (an unfinished period),
    vs and reference (a relative target), competitors, note (waivers)."""
    parts: list[pl.Expr | str] = []
    if estimated_column(kpi_id) in columns:
        parts += [',"estimated":', pl.when(pl.col(estimated_column(kpi_id))).then(pl.lit("true")).otherwise(pl.lit("false"))]
    if projected_column(kpi_id) in columns:
        # Only an unfinished period has one: the key is left out of the others (a null makes the whole text null).
        projected = pl.col(projected_column(kpi_id)).round(DECIMALS).cast(pl.String)
        parts.append(pl.concat_str(pl.lit(',"projected":'), projected).fill_null(""))
    if reference_column(kpi_id) in columns:
        parts += [',"vs":', pl.col(_vs_column(kpi_id)), ',"reference":', _number(reference_column(kpi_id))]
    if competitors_column(kpi_id) in columns:
        parts.append(_competitors(competitors_column(kpi_id)))
    if note_column(kpi_id) in columns:
        parts += [',"note":', _json_text(pl.col(note_column(kpi_id)))]
    return parts


def _competitors(column: str) -> pl.Expr:
    """A list of {name, value} as the key "competitors":{"Rival Cafe":2.72,"Bean Bar":1.0}; no key where no
    competitor's data gives the KPI (they publish only some figures)."""
    member = pl.concat_str(
        _json_text(pl.element().struct.field("name")),
        pl.lit(":"),
        pl.element().struct.field("value").round(DECIMALS).cast(pl.String).fill_null("null"),
    )
    members = pl.col(column).list.eval(member).list.join(",")
    given = pl.col(column).list.len() > 0
    return pl.when(given).then(pl.concat_str(pl.lit(',"competitors":{'), members, pl.lit("}"))).otherwise(pl.lit(""))


def _client_fragments(group: ScoredGroup) -> pl.DataFrame:
    """Per client, the JSON text of its name, its currency and what each relative target is measured against.

    Clients of one file share one targets object unless overridden: the ``vs`` texts are encoded once per
    distinct set and joined to the clients, not looped over per client and KPI (2,740 x 56 at 1M rows).
    """
    names = list(group.clients)
    set_of: dict[int, int] = {}
    distinct = []
    for name in names:
        targets = group.clients[name].targets
        if id(targets) not in set_of:
            set_of[id(targets)] = len(distinct)
            distinct.append(targets)
    clients = pl.DataFrame(
        {
            "client": names,
            "client_json": [_text(name) for name in names],
            "currency_json": [_text(group.clients[name].currency) for name in names],
            "target_set": [set_of[id(group.clients[name].targets)] for name in names],
        }
    )
    relative = [kpi for kpi in group.kpis if reference_column(kpi) in group.frame.columns]
    encoded = {
        _vs_column(kpi): [_text(targets[kpi].vs if kpi in targets else None) for targets in distinct] for kpi in relative
    }
    encoded |= {
        _target_column(kpi): [_text(targets[kpi].as_dict() or None) if kpi in targets else "null" for targets in distinct]
        for kpi in _fixed_targets(group)
    }
    sets = pl.DataFrame({"target_set": range(len(distinct)), **encoded}, schema_overrides=dict.fromkeys(encoded, pl.String))
    return clients.join(sets, on="target_set", how="left").drop("target_set")


def _fixed_targets(group: ScoredGroup) -> set[str]:
    """The KPIs whose thresholds are the same in every period of a client (no plan, no relative target): their
    text is encoded once per set of targets, not composed for every row (a quarter of the document's time)."""
    return set(group.kpis) - varying_kpis(group.clients.values())


def _target_column(kpi: str) -> str:
    return f"target_json:{kpi}"


def _vs_column(kpi: str) -> str:
    return f"vs_json:{kpi}"


def _merge_literals(parts: list[pl.Expr | str]) -> list[pl.Expr | str]:
    """Neighbouring literal strings as one: fewer inputs for concat_str."""
    merged: list[pl.Expr | str] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _number(column: str) -> pl.Expr:
    # polars prints floats in their shortest exact form (60.0, 3.333333, 1.5e20): all valid JSON numbers.
    return pl.col(column).round(DECIMALS).cast(pl.String).fill_null("null")


def _encoded_texts(frame: pl.DataFrame, columns: dict[str, str]) -> dict[str, pl.Expr]:
    """Per key, its column of texts as JSON string literals (or null). The texts are few (reasons come from a
    handful of templates), so each distinct one is encoded once and looked up, not encoded again in every row."""
    distinct = pl.concat([frame.get_column(column).cast(pl.String).unique() for column in columns.values()]).unique().drop_nulls()
    encoded = {text: _text(text) for text in distinct.to_list()}
    return {
        key: pl.col(column).cast(pl.String).replace_strict(encoded, default=None, return_dtype=pl.String).fill_null("null")
        for key, column in columns.items()
    }


def _json_text(expression: pl.Expr) -> pl.Expr:
    """A string column as JSON string literals (or null), escaped by polars' own JSON encoder."""
    encoded = pl.struct(expression.alias("v")).struct.json_encode()  # {"v":"..."} or {"v":null}
    return encoded.str.slice(5).str.strip_suffix("}")
