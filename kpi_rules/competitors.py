"""Competitors' public figures, scored with the client's formulas and set beside the client's values.

Each competitor of a client file is read as a client file of its own (its data, the same playbook and
grain, no targets): its rows go through the same data, aggregate and evaluate stages, in the same batch.
Their values are then gathered per client file and period into one column per KPI,
``competitors:k`` = [{name, value}, ...] in the file's order, which relative targets (``vs: best_competitor``)
and the renderers read. A KPI whose inputs a competitor's data lacks is simply null for it: competitors
publish only some figures.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from kpi_rules.columns import competitors_column, value_column
from kpi_rules.model import ClientGroupDef


def competitor_groups(groups: list[ClientGroupDef]) -> tuple[list[ClientGroupDef], dict[int, tuple[int, int]]]:
    """``groups`` followed by one group per competitor, and for each of those: (its client file's index, its place)."""
    extra: list[ClientGroupDef] = []
    owners: dict[int, tuple[int, int]] = {}
    for index, group in enumerate(groups):
        for place, (name, sources) in enumerate(group.template.competitors):
            owners[len(groups) + len(extra)] = (index, place)
            template = replace(group.template, name=name, sources=sources, targets={}, waivers={}, baseline=None, competitors=())
            extra.append(ClientGroupDef(group.path, (name,), template, competitor=True))
    return [*groups, *extra], owners


def attach_competitors(
    values: pl.LazyFrame, competitors: pl.LazyFrame, owners: dict[int, tuple[int, int]], kpis: list[str]
) -> pl.LazyFrame:
    """The clients' rows with ``competitors:k``: each competitor of their client file, in the period."""
    owner_table = pl.DataFrame(
        {"group": list(owners), "owner": [owner for owner, _ in owners.values()], "place": [place for _, place in owners.values()]},
        schema={"group": pl.Int32, "owner": pl.Int32, "place": pl.Int64},
    )
    gathered = (
        competitors.join(owner_table.lazy(), on="group")
        .sort("owner", "period_start", "place")
        .group_by("owner", "period_start", maintain_order=True)
        .agg(
            pl.struct(name=pl.col("client"), value=pl.col(value_column(kpi)))
            .filter(pl.col(value_column(kpi)).is_not_null())
            .alias(competitors_column(kpi))
            for kpi in kpis
        )
    )
    return values.join(gathered.rename({"owner": "group"}), on=["group", "period_start"], how="left", maintain_order="left")
