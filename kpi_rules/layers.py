"""A playbook's extends chain merged into one: later layers override earlier ones, metrics and KPIs
field by field, and every merged value remembers where it was written (for diagnostics at its line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kpi_rules.diagnostics import Diagnostic
from kpi_rules.loading import Document, JsonPath


@dataclass(frozen=True)
class Origin:
    """Where a merged value was written, for diagnostics."""

    document: Document
    path: JsonPath

    def diagnostic(self, code: str, message: str, *, key: bool = False) -> Diagnostic:
        return self.document.diagnostic(self.path, code, message, key=key)


@dataclass
class MergedLayers:
    """A playbook's layers merged: later layers override earlier ones, metrics and KPIs field by field."""

    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    metric_origins: dict[str, Origin] = field(default_factory=dict)
    kpis: dict[str, dict[str, Any]] = field(default_factory=dict)
    kpi_origins: dict[str, Origin] = field(default_factory=dict)
    goals: dict[str, tuple[dict[str, Any], Origin]] = field(default_factory=dict)
    targets: dict[str, tuple[dict[str, Any], Origin]] = field(default_factory=dict)


def merge_layers(layers: list[Document]) -> MergedLayers:
    """The layers of an extends chain, the playbook itself last, merged in order."""
    merged = MergedLayers()
    for document in layers:
        data = document.data
        for metric_id, fields in data.get("metrics", {}).items():
            merged.metrics[metric_id] = {**merged.metrics.get(metric_id, {}), **fields}
            merged.metric_origins[metric_id] = Origin(document, ("metrics", metric_id))
        for kpi_id, fields in data.get("kpis", {}).items():
            merged.kpis[kpi_id] = {**merged.kpis.get(kpi_id, {}), **fields}
            # Point diagnostics at the formula that is in force, wherever it was written.
            if "formula" in fields:
                merged.kpi_origins[kpi_id] = Origin(document, ("kpis", kpi_id, "formula"))
            else:
                merged.kpi_origins.setdefault(kpi_id, Origin(document, ("kpis", kpi_id)))
        for goal_id, fields in data.get("goals", {}).items():
            merged.goals[goal_id] = (fields, Origin(document, ("goals", goal_id, "kpis")))
        for kpi_id, fields in data.get("targets", {}).items():
            merged.targets[kpi_id] = (fields, Origin(document, ("targets", kpi_id)))
    return merged
