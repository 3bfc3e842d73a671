"""Targets -> thresholds -> statuses and gaps, for every client and period at once.

Fixed targets differ by client (client files override the playbook), so they are joined in as a small
table with one row per client.
"""

from __future__ import annotations

import polars as pl

from kpi_rules.columns import gap_column, status_column, threshold_column, value_column
from kpi_rules.evaluate import needed_kpis
from kpi_rules.model import THRESHOLDS, ClientDef, KpiDef, PlaybookDef, TargetDef

NO_TARGET = TargetDef()


def apply_targets(frame: pl.LazyFrame, playbook: PlaybookDef, clients: list[ClientDef], kpis: list[str]) -> pl.LazyFrame:
    """Statuses and gaps of ``kpis`` (and the KPIs they use), from the values ``evaluate`` added."""
    evaluated = needed_kpis(playbook, kpis)
    target_table = _target_table(evaluated, clients)
    frame = frame.join(target_table.lazy(), on="client", how="left", maintain_order="left")
    return frame.with_columns(
        *[_status(kpi, target_table.columns).alias(status_column(kpi.id)) for kpi in evaluated],
        *[_gap(kpi, target_table.columns).alias(gap_column(kpi.id)) for kpi in evaluated],
    )


def _target_table(kpis: list[KpiDef], clients: list[ClientDef]) -> pl.DataFrame:
    """One row per client, a column per KPI threshold any client sets.

    Clients of one file share their targets object unless overridden, so thresholds
    are laid out once per distinct set and joined to the clients.
    """
    sets: dict[int, int] = {}
    distinct: list = []
    for client in clients:
        if id(client.targets) not in sets:
            sets[id(client.targets)] = len(distinct)
            distinct.append(client.targets)
    columns: dict[str, list] = {"target_set": list(range(len(distinct)))}
    for kpi in kpis:
        for threshold in THRESHOLDS:
            values = [getattr(targets.get(kpi.id, NO_TARGET), threshold) for targets in distinct]
            if any(value is not None for value in values):
                columns[threshold_column(kpi.id, threshold)] = values
    schema = {name: (pl.Int64 if name == "target_set" else pl.Float64) for name in columns}
    clients_frame = pl.DataFrame(
        {"client": [client.name for client in clients], "target_set": [sets[id(client.targets)] for client in clients]},
        schema={"client": pl.String, "target_set": pl.Int64},
    )
    return clients_frame.join(pl.DataFrame(columns, schema=schema), on="target_set", how="left").drop("target_set")


def _threshold(kpi: KpiDef, threshold: str, available: list[str]) -> pl.Expr:
    name = threshold_column(kpi.id, threshold)
    return pl.col(name) if name in available else pl.lit(None, pl.Float64)


def _status(kpi: KpiDef, available: list[str]) -> pl.Expr:
    value = pl.col(value_column(kpi.id))
    target, warn, low, high = (_threshold(kpi, t, available) for t in THRESHOLDS)
    meets = (lambda bound: value >= bound) if kpi.better == "higher" else (lambda bound: value <= bound)
    in_band = (low.is_null() | (value >= low)) & (high.is_null() | (value <= high))
    # Nulls first: a missing value must never fall through to "pass".
    return (
        pl.when(value.is_null()).then(pl.lit("no_data"))
        .when(target.is_not_null() & meets(target)).then(pl.lit("pass"))
        .when(target.is_not_null() & warn.is_not_null() & meets(warn)).then(pl.lit("warn"))
        .when(target.is_not_null()).then(pl.lit("fail"))
        .when((low.is_not_null() | high.is_not_null()) & in_band).then(pl.lit("pass"))
        .when(low.is_not_null() | high.is_not_null()).then(pl.lit("fail"))
        .otherwise(pl.lit("info"))
    )


def _gap(kpi: KpiDef, available: list[str]) -> pl.Expr:
    """Value minus target, or the distance outside the band (0 inside it); null without a value."""
    value = pl.col(value_column(kpi.id))
    target, _, low, high = (_threshold(kpi, t, available) for t in THRESHOLDS)
    return (
        pl.when(target.is_not_null()).then(value - target)
        .when(low.is_not_null() & (value < low)).then(value - low)
        .when(high.is_not_null() & (value > high)).then(value - high)
        .when(value.is_not_null() & (low.is_not_null() | high.is_not_null())).then(pl.lit(0.0))
    )
