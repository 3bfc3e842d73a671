"""Validated YAML -> frozen model: resolve ``extends``, check every name and formula.

Problems are collected as diagnostics pointing at the line of the offending
key, formula or reference, and raised together as one ``InputError``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kpi_rules.branding import compile_report
from kpi_rules.diagnostics import Diagnostic, InputError, Suggestions, did_you_mean
from kpi_rules.formulas import (
    PERIOD_FUNCTIONS,
    FormulaError,
    ParsedFormula,
    parse_formula,
)
from kpi_rules.layers import MergedLayers, Origin, merge_layers
from kpi_rules.loading import Document, load_yaml
from kpi_rules.model import (
    PERIOD_NAMES,
    RESERVED_NAMES,
    ClientGroupDef,
    GoalDef,
    KpiDef,
    MetricDef,
    PlaybookDef,
    TargetDef,
    kpis_named,
    kpis_used,
)
from kpi_rules.resources import BUILTIN_PREFIX, builtin_names, builtin_path, bundled_dir
from kpi_rules.schema import validate_document
from kpi_rules.targets import build_target

def is_playbook_file(document: Document) -> bool:
    """A playbook has KPI vocabulary and none of a client file's own keys (a misspelt client file keeps them)."""
    data = document.data
    if not isinstance(data, dict) or any(key in data for key in ("client", "playbook", "data")):
        return False
    return any(key in data for key in ("kpis", "metrics", "extends", "goals"))


class Compiler:
    """Compiles playbooks and client files, sharing each playbook between its clients."""

    def __init__(self) -> None:
        self._playbooks: dict[Path, PlaybookDef] = {}
        self._failed: set[Path] = set()
        self.diagnostics: list[Diagnostic] = []

    def raise_if_failed(self) -> None:
        if any(diagnostic.is_error for diagnostic in self.diagnostics):
            raise InputError(self.diagnostics)

    # -- playbooks -----------------------------------------------------------------

    def playbook(self, reference: str, base_dir: Path, origin: Origin | None = None) -> PlaybookDef | None:
        path = self._resolve_playbook(reference, base_dir, origin)
        if path is None:
            return None
        key = path.resolve()
        if key not in self._playbooks and key not in self._failed:
            layers = self._load_layers(path, chain=())
            compiled = self._compile_layers(path, layers) if layers is not None else None
            if compiled is None:
                self._failed.add(key)
            else:
                self._playbooks[key] = compiled
        return self._playbooks.get(key)

    def _resolve_playbook(self, reference: str, base_dir: Path, origin: Origin | None) -> Path | None:
        if reference.startswith(BUILTIN_PREFIX):
            path = builtin_path(reference)
            if path is None:
                name = reference.removeprefix(BUILTIN_PREFIX)
                message = f'unknown bundled playbook "{reference}"{did_you_mean(name, builtin_names())}; available: ' + ", ".join(
                    BUILTIN_PREFIX + n for n in builtin_names()
                )
                self._report(origin, None, "KR207", message)
            return path
        path = _tidy(base_dir / reference)
        if not path.is_file():
            what = "is not a regular file" if path.exists() and not path.is_dir() else "not found"
            self._report(origin, str(base_dir / reference), "KR001", f'playbook "{reference}" {what}')
            return None
        return path

    def _report(self, origin: Origin | None, path: str | None, code: str, message: str) -> None:
        if origin is not None:
            self.diagnostics.append(origin.diagnostic(code, message))
        else:
            self.diagnostics.append(Diagnostic(path or "<command line>", None, None, code, message))

    def load(self, path: Path) -> Document | None:
        """The file's YAML, or None with its problems collected."""
        try:
            return load_yaml(path)
        except InputError as error:
            self.diagnostics.extend(error.diagnostics)
            return None

    def validated(self, document: Document | None, kind: str) -> Document | None:
        if document is None:
            return None
        if Path(document.path).resolve().is_relative_to(bundled_dir("rules")):
            return document  # the bundled library, validated by its tests (test_library): a fifth of every run's start
        problems = validate_document(document, kind)
        self.diagnostics.extend(problems)
        return None if problems else document

    def _load_layers(self, path: Path, chain: tuple[Path, ...]) -> list[Document] | None:
        """The documents to merge for ``path``: its extends chain first, itself last."""
        document = self.validated(self.load(path), "playbook")
        if document is None:
            return None
        layers: list[Document] = []
        for index, reference in enumerate(document.data.get("extends", [])):
            origin = Origin(document, ("extends", index))
            parent = self._resolve_playbook(reference, path.parent, origin)
            if parent is None:
                return None
            if parent.resolve() in {p.resolve() for p in chain + (path,)}:
                cycle = " -> ".join(p.name for p in chain + (path, parent))
                self.diagnostics.append(origin.diagnostic("KR207", f"extends goes round in a circle: {cycle}"))
                return None
            parent_layers = self._load_layers(parent, chain + (path,))
            if parent_layers is None:
                return None
            layers.extend(layer for layer in parent_layers if layer not in layers)
        return layers + [document]

    def _compile_layers(self, path: Path, layers: list[Document]) -> PlaybookDef | None:
        before = len(self.diagnostics)
        merged = merge_layers(layers)
        metrics = self._compile_metrics(merged, layers[-1])
        kpis = self._compile_kpis(merged, metrics)
        goals = self._compile_goals(merged)
        self._check_goals_served(kpis, goals, merged.kpi_origins)
        targets = self.targets(merged.targets, kpis, merged.kpis.keys())
        report, problems = compile_report(layers)
        self.diagnostics += problems
        if len(self.diagnostics) > before:
            return None
        name = layers[-1].data.get("name") or path.name
        return PlaybookDef(name, layers[-1].path, metrics, kpis, goals, targets, tuple(layer.path for layer in layers), report)

    def _compile_metrics(self, merged: MergedLayers, last_layer: Document) -> dict[str, MetricDef]:
        metrics = {}
        for metric_id, fields in merged.metrics.items():
            if "agg" not in fields:
                self.diagnostics.append(
                    last_layer.diagnostic(("metrics", metric_id), "KR102", f'metric "{metric_id}" has no agg', key=True)
                )
                continue
            if metric_id in RESERVED_NAMES:
                self.diagnostics.append(_reserved(merged.metric_origins[metric_id], "metric", metric_id))
                continue
            metrics[metric_id] = MetricDef(
                metric_id,
                fields["agg"],
                _labels(fields.get("label")),
                fields.get("unit", ""),
                fields.get("description", ""),
                fields.get("source", ""),
            )
        return metrics

    def _compile_kpis(self, merged: MergedLayers, metrics: dict[str, MetricDef]) -> dict[str, KpiDef]:
        """Parse every formula, check its names, and order the KPIs by what they use."""
        parsed: dict[str, ParsedFormula] = {}
        for kpi_id, fields in merged.kpis.items():
            origin = merged.kpi_origins[kpi_id]
            if "formula" not in fields:
                self.diagnostics.append(origin.diagnostic("KR102", f'KPI "{kpi_id}" has no formula', key=True))
                continue
            if kpi_id in RESERVED_NAMES:
                self.diagnostics.append(_reserved(Origin(origin.document, ("kpis", kpi_id)), "KPI", kpi_id))
                continue
            try:
                parsed[kpi_id] = parse_formula(fields["formula"])
            except FormulaError as error:
                self.diagnostics.append(origin.diagnostic(error.code, f'formula of "{kpi_id}": {error.message}'))

        known = set(metrics) | set(merged.kpis) | set(PERIOD_NAMES)
        suggest = Suggestions(known)
        for kpi_id, formula in parsed.items():
            for name in sorted(formula.names - known):
                self.diagnostics.append(
                    merged.kpi_origins[kpi_id].diagnostic(
                        "KR201", f'formula of "{kpi_id}": unknown name "{name}"{suggest(name)}'
                    )
                )
        kpis = {
            kpi_id: KpiDef(
                kpi_id,
                parsed[kpi_id],
                _labels(merged.kpis[kpi_id].get("label")),
                merged.kpis[kpi_id].get("unit", ""),
                merged.kpis[kpi_id].get("better", "higher"),
                merged.kpis[kpi_id].get("description", ""),
                merged.kpis[kpi_id].get("source", ""),
                merged.kpis[kpi_id].get("method", "ratio_of_totals"),
                tuple(merged.kpis[kpi_id].get("goals", ())),
            )
            for kpi_id in self._dependency_order(parsed, metrics, merged.kpi_origins)
        }
        self._check_per_row(kpis, metrics, merged.kpi_origins)
        return kpis

    def _check_per_row(self, kpis: dict[str, KpiDef], metrics: dict[str, MetricDef], origins: dict[str, Origin]) -> None:
        """A mean_of_rows formula (and the KPIs it uses) must make sense on one data row: no period facts."""
        for kpi in kpis.values():
            if kpi.method != "mean_of_rows":
                continue
            for used in sorted(kpis_used(kpis, metrics, [kpi.id])):
                formula = kpis[used].formula
                via = f' (through "{used}")' if used != kpi.id else ""
                problems = sorted(formula.names & PERIOD_NAMES.keys()) + [f"{f}()" for f in sorted(formula.functions & PERIOD_FUNCTIONS)]
                for problem in problems:
                    self.diagnostics.append(
                        origins[kpi.id].diagnostic(
                            "KR203",
                            f'formula of "{kpi.id}": {problem}{via} is a fact of the period, but method mean_of_rows '
                            "evaluates the formula on each data row",
                        )
                    )

    def _check_goals_served(self, kpis: dict[str, KpiDef], goals: dict[str, GoalDef], origins: dict[str, Origin]) -> None:
        suggest = Suggestions(goals)
        for kpi in kpis.values():
            for goal in kpi.serves:
                if goal not in goals:
                    self.diagnostics.append(
                        origins[kpi.id].diagnostic("KR205", f'KPI "{kpi.id}" serves unknown goal "{goal}"{suggest(goal)}')
                    )

    def _compile_goals(self, merged: MergedLayers) -> dict[str, GoalDef]:
        goals = {}
        suggest = Suggestions(merged.kpis)
        for goal_id, (fields, origin) in merged.goals.items():
            for index, kpi_id in enumerate(fields["kpis"]):
                if kpi_id not in merged.kpis:
                    self.diagnostics.append(
                        Origin(origin.document, origin.path + (index,)).diagnostic(
                            "KR205", f'goal "{goal_id}" lists unknown KPI "{kpi_id}"{suggest(kpi_id)}'
                        )
                    )
            goals[goal_id] = GoalDef(goal_id, tuple(fields["kpis"]), _labels(fields.get("label")), fields.get("description", ""))
        return goals

    def _dependency_order(
        self, parsed: dict[str, ParsedFormula], metrics: dict[str, MetricDef], origins: dict[str, Origin]
    ) -> list[str]:
        """KPIs ordered so each comes after the KPIs its formula uses; cycles reported by name."""
        depends = {kpi: kpis_named(formula.names, parsed, metrics) for kpi, formula in parsed.items()}
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(kpi: str, trail: list[str]) -> None:
            if state.get(kpi) == "done":
                return
            if state.get(kpi) == "visiting":
                cycle = trail[trail.index(kpi):] + [kpi]
                self.diagnostics.append(origins[cycle[0]].diagnostic("KR204", "KPI formulas use each other in a circle: " + " -> ".join(cycle)))
                return
            state[kpi] = "visiting"
            for dependency in depends[kpi]:
                visit(dependency, trail + [kpi])
            state[kpi] = "done"
            order.append(kpi)

        for kpi in parsed:
            visit(kpi, [])
        return order

    def targets(
        self, targets: dict[str, tuple[dict[str, Any], Origin]], kpis: dict[str, KpiDef], all_kpi_ids
    ) -> dict[str, TargetDef]:
        result = {}
        suggest = Suggestions(all_kpi_ids)
        for kpi_id, (fields, origin) in targets.items():
            if kpi_id not in all_kpi_ids:
                self.diagnostics.append(
                    origin.diagnostic("KR205", f'target for unknown KPI "{kpi_id}"{suggest(kpi_id)}', key=True)
                )
                continue
            kpi = kpis.get(kpi_id)
            target, problems = build_target(fields, kpi.better if kpi else None)
            for where, code, message in problems:
                self.diagnostics.append(Origin(origin.document, (*origin.path, *where)).diagnostic(code, f'target for "{kpi_id}": {message}'))
            if target is None:
                continue
            result[kpi_id] = target
        return result

    # -- client files --------------------------------------------------------------

    def client(self, path: Path, *, skip_playbook: bool = False) -> ClientGroupDef | None:
        """Compile a client file; a playbook is reported, or skipped when it sits in a folder of clients."""
        from kpi_rules.client_files import compile_client_file

        return compile_client_file(self, path, skip_playbook=skip_playbook)


def _reserved(origin: Origin, kind: str, name: str) -> Diagnostic:
    message = f'a {kind} cannot be named "{name}": the name is taken by the data\'s own columns and the period\'s facts ({", ".join(sorted(RESERVED_NAMES))})'
    return origin.diagnostic("KR205", message, key=True)


def _tidy(path: Path) -> Path:
    """The path as the user would write it: relative stays relative, "a/../b" becomes "b"."""
    return Path(os.path.normpath(path))


def _labels(label: str | dict | None) -> dict[str, str]:
    if label is None:
        return {}
    return {"en": label} if isinstance(label, str) else dict(label)
