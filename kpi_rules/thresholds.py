"""Targets -> thresholds -> statuses and gaps, for every client and period at once.

Every kind of target becomes the same threshold columns (``target:k``, ``warn:k``, ``min:k``, ``max:k``), per
client and period, and statuses are read from those alone:
- fixed thresholds and bands: per client (client files override the playbook);
- plans and lines: per client and period (kpi_rules.plans); an unfinished period of a stock is compared with
  the plan on the data's last day, between the last period's plan and this one's;
- relative targets: the reference (baseline, previous period, competitors) with the change applied.
What differs by client is laid out once per distinct set of terms (clients of one file share them unless
overridden) and joined in as small tables. A waived KPI is ``waived`` up to its day, whatever its value.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kpi_rules.columns import (
    change_column,
    competitors_column,
    gap_column,
    note_column,
    previous_column,
    projected_column,
    reason_column_of_kpi,
    reference_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.evaluate import RUN, baseline_value, client_keys, needed_kpis, previous_value
from kpi_rules.model import THRESHOLDS, ClientDef, KpiDef, PlaybookDef
from kpi_rules.plans import planned_values
from kpi_rules.results import status_type
from kpi_rules.targets import REFERENCES

STATUS = status_type()

NO_REFERENCE = {
    "baseline": "no baseline value: the baseline period has no data for it",
    "previous": "no previous period: the data has no value for the period before",
    "best_competitor": "no competitor has a value for this period",
    "competitors_mean": "no competitor has a value for this period",
}


@dataclass(frozen=True)
class _Terms:
    """The client-by-client tables: per set of terms, and per set and period (plans)."""

    per_client: pl.DataFrame
    per_period: pl.DataFrame | None


def apply_targets(
    frame: pl.LazyFrame, playbook: PlaybookDef, clients: list[ClientDef], kpis: list[str], *, plans: bool = True
) -> pl.LazyFrame:
    """Thresholds, statuses, gaps, trends (previous, change) and waiver notes of ``kpis`` and the KPIs they use.

    Without ``plans`` (periods that are a date range, not the client's grain) planned targets are left out.
    """
    evaluated = needed_kpis(playbook, kpis)
    columns = frame.collect_schema().names()
    by = client_keys(columns)
    terms = _terms(evaluated, clients, plans)
    frame = frame.join(terms.per_client.lazy(), on="client", how="left", maintain_order="left")
    if terms.per_period is not None:
        frame = frame.join(terms.per_period.lazy(), on=["terms", "period_start"], how="left", maintain_order="left")
    available = set(frame.collect_schema().names())
    relative = [kpi for kpi in evaluated if _internal("vs", kpi.id) in available]
    # Whether the row before is the client's period before (evaluate numbered the runs): one test for every KPI.
    frame = frame.with_columns(_follows=pl.col(RUN).shift(1) == pl.col(RUN)).with_columns(
        *[pl.when(pl.col("_follows")).then(pl.col(value_column(kpi.id)).shift(1)).alias(previous_column(kpi.id)) for kpi in evaluated],
        *[_reference(kpi, available, by, _competitors_named(kpi, clients)).alias(reference_column(kpi.id)) for kpi in relative],
    ).with_columns(
        *[_change(kpi, available).alias(change_column(kpi.id)) for kpi in evaluated],
        *[expression for kpi in evaluated for expression in _thresholds(kpi, playbook, available)],
    )
    available = set(frame.collect_schema().names())
    frame = frame.with_columns(
        *[_status(kpi, available).alias(status_column(kpi.id)) for kpi in evaluated],
        *[_gap(kpi, available).alias(gap_column(kpi.id)) for kpi in evaluated],
        *[
            _reason(kpi, available).alias(reason_column_of_kpi(kpi.id))
            for kpi in evaluated
            if {_internal("until", kpi.id), _internal("vs", kpi.id)} & available
        ],
        *[_note(kpi).alias(note_column(kpi.id)) for kpi in evaluated if _internal("until", kpi.id) in available],
    )
    return frame.drop([name for name in frame.collect_schema().names() if name.startswith("_") or name == "terms"])


def _internal(name: str, kpi: str) -> str:
    """A column of the terms, dropped once the statuses are known."""
    return f"_{name}:{kpi}"


def _terms(kpis: list[KpiDef], clients: list[ClientDef], plans: bool) -> _Terms:
    """One row per client: its fixed thresholds, relative targets and waivers, as columns per KPI."""
    sets: dict[tuple[int, int], int] = {}
    distinct: list[ClientDef] = []
    for client in clients:
        key = (id(client.targets), id(client.waivers))
        if key not in sets:
            sets[key] = len(distinct)
            distinct.append(client)
    columns: dict[str, list] = {"terms": list(range(len(distinct)))}
    schema: dict[str, pl.DataType] = {"terms": pl.Int64}
    planned: dict[str, dict] = {}

    def add(name: str, values: list, dtype: pl.DataType) -> None:
        if any(value is not None for value in values):
            columns[name], schema[name] = values, dtype

    for kpi in kpis:
        targets = [client.targets.get(kpi.id) for client in distinct]
        for threshold in THRESHOLDS:
            add(threshold_column(kpi.id, threshold), [getattr(t, threshold, None) if t and not t.vs else None for t in targets], pl.Float64)
        add(_internal("vs", kpi.id), [t.vs if t else None for t in targets], pl.String)
        for name, attribute in (("change", "change"), ("warn_change", "warn_change")):
            changes = [getattr(t, attribute) if t else None for t in targets]
            add(_internal(name, kpi.id), [c.amount if c else None for c in changes], pl.Float64)
            add(_internal(f"{name}_percent", kpi.id), [c.percent if c else None for c in changes], pl.Boolean)
        waivers = [client.waivers.get(kpi.id) for client in distinct]
        add(_internal("until", kpi.id), [w.until if w else None for w in waivers], pl.Date)
        add(_internal("waiver", kpi.id), [w.reason if w else None for w in waivers], pl.String)
        for index, (client, target) in enumerate(zip(distinct, targets)):
            if plans and target and target.planned:
                for start, (value, before) in planned_values(target, client.grain).items():
                    row = planned.setdefault((index, start), {"terms": index, "period_start": start})
                    row[_internal("plan", kpi.id)], row[_internal("plan_before", kpi.id)] = value, before
    per_set = pl.DataFrame(columns, schema=schema)
    clients_frame = pl.DataFrame(
        {"client": [client.name for client in clients], "terms": [sets[(id(c.targets), id(c.waivers))] for c in clients]},
        schema={"client": pl.String, "terms": pl.Int64},
    )
    per_period = None
    if planned:
        plan_columns = sorted({name for row in planned.values() for name in row} - {"terms", "period_start"})
        plan_schema = {"terms": pl.Int64, "period_start": pl.Date, **dict.fromkeys(plan_columns, pl.Float64)}
        per_period = pl.from_dicts(list(planned.values()), schema=plan_schema)
    return _Terms(clients_frame.join(per_set, on="terms", how="left"), per_period)


def _scored_value(kpi: KpiDef, available: set[str]) -> pl.Expr:
    """The value a status is read from: an unfinished period's at its pace."""
    value = pl.col(value_column(kpi.id))
    projected = projected_column(kpi.id)
    return pl.coalesce(pl.col(projected), value) if projected in available else value


def _reference(kpi: KpiDef, available: set[str], by: list[str], named: list[str]) -> pl.Expr:
    """The value a relative target is measured against, per the client's ``vs``; ``named`` the competitors named."""
    vs = pl.col(_internal("vs", kpi.id))
    value = pl.col(value_column(kpi.id))
    reference = pl.when(vs == "baseline").then(baseline_value(value, by)).when(vs == "previous").then(previous_value(value))
    competitors = competitors_column(kpi.id)
    if competitors in available:
        values = pl.col(competitors).list.eval(pl.element().struct.field("value"))
        best = values.list.max() if kpi.better == "higher" else values.list.min()
        reference = reference.when(vs == "best_competitor").then(best).when(vs == "competitors_mean").then(values.list.mean())
        for name in named:
            value_of = pl.element().struct.field("value").filter(pl.element().struct.field("name") == name)
            reference = reference.when(vs == name).then(pl.col(competitors).list.eval(value_of).list.first())
    return reference


def _competitors_named(kpi: KpiDef, clients: list[ClientDef]) -> list[str]:
    """The competitors some client's target for ``kpi`` is measured against by name."""
    targets = [client.targets.get(kpi.id) for client in clients]
    return sorted({target.vs for target in targets if target and target.vs and target.vs not in REFERENCES})


def _change(kpi: KpiDef, available: set[str]) -> pl.Expr:
    """Against the period before, relatively (an unfinished period at its pace): null without it, or from 0."""
    value, previous = _scored_value(kpi, available), pl.col(previous_column(kpi.id))
    return pl.when(previous != 0).then((value - previous) / previous.abs())


def _applied(amount: pl.Expr, percent: pl.Expr, to: pl.Expr) -> pl.Expr:
    return pl.when(percent).then(to * (1 + amount / 100)).otherwise(to + amount)


def _thresholds(kpi: KpiDef, playbook: PlaybookDef, available: set[str]) -> list[pl.Expr]:
    """target:k and warn:k from a plan or a relative target, where the client has one; else as they are."""
    target = threshold_column(kpi.id, "target")
    base = pl.col(target) if target in available else pl.lit(None, pl.Float64)
    planned = _internal("plan", kpi.id) in available
    relative = _internal("vs", kpi.id) in available
    if not planned and not relative:
        return []
    if planned:
        plan, before = pl.col(_internal("plan", kpi.id)), pl.col(_internal("plan_before", kpi.id))
        if playbook.is_stock(kpi.id) and "days_elapsed" in available:
            # A stock is not projected: mid-period it is compared with the plan for the day it was read on.
            share = pl.col("days_elapsed") / pl.col("days")
            plan = pl.when(pl.col("complete") | before.is_null()).then(plan).otherwise(before + (plan - before) * share)
        base = pl.coalesce(base, plan)
    if relative:
        change = _applied(pl.col(_internal("change", kpi.id)), pl.col(_internal("change_percent", kpi.id)), pl.col(reference_column(kpi.id)))
        base = pl.coalesce(base, change)
    expressions = [base.alias(target)]
    if _internal("warn_change", kpi.id) in available:
        fixed_warn = threshold_column(kpi.id, "warn")
        # Beside vs, warn is another change against the same reference; beside a plan, a change against the plan.
        against = pl.when(pl.col(_internal("vs", kpi.id)).is_not_null()).then(pl.col(reference_column(kpi.id))).otherwise(base) if relative else base
        warn = _applied(pl.col(_internal("warn_change", kpi.id)), pl.col(_internal("warn_change_percent", kpi.id)), against)
        expressions.append((pl.coalesce(pl.col(fixed_warn), warn) if fixed_warn in available else warn).alias(fixed_warn))
    return expressions


def _threshold(kpi: KpiDef, threshold: str, available: set[str]) -> pl.Expr:
    name = threshold_column(kpi.id, threshold)
    return pl.col(name) if name in available else pl.lit(None, pl.Float64)


def _waived(kpi: KpiDef, available: set[str]) -> pl.Expr:
    until = _internal("until", kpi.id)
    return (pl.col("period_start") <= pl.col(until)) if until in available else pl.lit(False)


def _without_reference(kpi: KpiDef, available: set[str]) -> pl.Expr:
    vs = _internal("vs", kpi.id)
    return (pl.col(vs).is_not_null() & pl.col(reference_column(kpi.id)).is_null()) if vs in available else pl.lit(False)


def _status(kpi: KpiDef, available: set[str]) -> pl.Expr:
    """The first rule that holds names the status. Rules about columns the clients do not have (no waiver, no
    relative target, no band) are left out: each costs a pass over every row."""
    value = _scored_value(kpi, available)
    target, warn, low, high = (_threshold(kpi, t, available) for t in THRESHOLDS)
    meets = (lambda bound: value >= bound) if kpi.better == "higher" else (lambda bound: value <= bound)
    # Waived first, whatever the value; then nulls: a missing value must never fall through to "pass".
    rules = [(_waived(kpi, available), "waived")] if _internal("until", kpi.id) in available else []
    rules.append((value.is_null(), "no_data"))
    if _internal("vs", kpi.id) in available:
        rules.append((_without_reference(kpi, available), "no_data"))
    if threshold_column(kpi.id, "target") in available:
        rules += [(target.is_not_null() & meets(target), "pass"), (target.is_not_null() & meets(warn), "warn"), (target.is_not_null(), "fail")]
    if {threshold_column(kpi.id, "min"), threshold_column(kpi.id, "max")} & available:
        in_band = (low.is_null() | (value >= low)) & (high.is_null() | (value <= high))
        rules += [((low.is_not_null() | high.is_not_null()) & in_band, "pass"), (low.is_not_null() | high.is_not_null(), "fail")]
    first, *others = rules
    status = pl.when(first[0]).then(pl.lit(first[1], STATUS))
    for condition, name in others:
        status = status.when(condition).then(pl.lit(name, STATUS))
    return status.otherwise(pl.lit("info", STATUS))


def _reason(kpi: KpiDef, available: set[str]) -> pl.Expr:
    """Why there is no value (as evaluate said), no reference to compare with, or the waiver (for KPIs some
    client has a waiver or a relative target for: the others keep evaluate's reason as it is)."""
    reason = pl.col(reason_column_of_kpi(kpi.id))
    if _internal("until", kpi.id) in available:
        waiver = pl.format("waived until {}: {}", pl.col(_internal("until", kpi.id)), pl.col(_internal("waiver", kpi.id)))
        reason = pl.when(_waived(kpi, available)).then(waiver).otherwise(reason)
    if _internal("vs", kpi.id) in available:
        vs = pl.col(_internal("vs", kpi.id))
        missing = vs.replace_strict(NO_REFERENCE, default=pl.format("no value of {} for this period", vs), return_dtype=pl.String)
        reason = pl.when(pl.col(reason_column_of_kpi(kpi.id)).is_null() & _without_reference(kpi, available) & ~_waived(kpi, available)).then(missing).otherwise(reason)
    return reason


def _note(kpi: KpiDef) -> pl.Expr:
    until = pl.col(_internal("until", kpi.id))
    return pl.when(pl.col("period_start") > until).then(pl.format("waiver until {} expired: {}", until, pl.col(_internal("waiver", kpi.id))))


def _gap(kpi: KpiDef, available: set[str]) -> pl.Expr:
    """Value minus target, or the distance outside the band (0 inside it); null without a value."""
    value = _scored_value(kpi, available)
    target, _, low, high = (_threshold(kpi, t, available) for t in THRESHOLDS)
    return (
        pl.when(target.is_not_null()).then(value - target)
        .when(low.is_not_null() & (value < low)).then(value - low)
        .when(high.is_not_null() & (value > high)).then(value - high)
        .when(value.is_not_null() & (low.is_not_null() | high.is_not_null())).then(pl.lit(0.0))
    )
