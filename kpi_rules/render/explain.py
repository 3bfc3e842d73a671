"""``kpi-rules explain`` as plain text (one block per period) or JSON (a list of explanations)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import IO

from kpi_rules.explain import Explanation, InputExplained, plain
from kpi_rules.render.junit import with_unit


def render_explanations_text(explanations: list[Explanation], stream: IO[str]) -> None:
    for index, item in enumerate(explanations):
        if index:
            stream.write("\n")
        period = f"{item.start} – {item.end}" + ("" if item.complete else ", unfinished")
        stream.write(f"{item.label} ({item.kpi}) · {item.client} · {period}\n")
        if not item.scored:
            stream.write("Note        not among the KPIs this client's goals score: explained as if it were\n")
        stream.write(f"Formula     {item.formula}    written in {item.formula_written}\n")
        stream.write("Inputs\n")
        for line in _input_lines(item.inputs, 1, item):
            stream.write(line + "\n")
        stream.write(f"Arithmetic  {item.arithmetic} = {plain(item.value)}\n")
        stream.write(f"Result      {_value(item.value, item)}\n")
        if item.projected is not None:
            stream.write(f"At its pace {_value(item.projected, item)} (the period is unfinished: its status is of this value)\n")
        stream.write(f"Target      {_thresholds(item)}    {item.target_from}\n")
        if item.reference is not None:
            stream.write(f"Reference   {_value(item.reference, item)} (what the relative target is measured against)\n")
        stream.write(f"Status      {item.why}\n")
        for reason in item.reasons:
            stream.write(f"  because   {reason}\n")


def _input_lines(inputs: tuple[InputExplained, ...], depth: int, item: Explanation) -> list[str]:
    lines = []
    indent = "  " * depth
    for entry in inputs:
        value = plain(entry.value) if entry.value is not None else f"no value ({entry.reason})"
        if entry.kind == "metric":
            lines.append(f"{indent}{entry.name} = {value}    {entry.how}")
            for use in entry.sources:
                span = f", {use.first} to {use.last}" if use.rows else ""
                lines.append(f"{indent}    {use.rows} row(s){span} in {use.path}")
            if not entry.sources:
                lines.append(f"{indent}    no data file has this column")
        elif entry.kind == "kpi":
            lines.append(f"{indent}{entry.name} = {value}    KPI {entry.how} = {entry.arithmetic}")
            lines += _input_lines(entry.inputs, depth + 1, item)
        else:
            lines.append(f"{indent}{entry.name} = {value}    {entry.how}")
    return lines


def _value(value: float | None, item: Explanation) -> str:
    if value is None:
        return "no value"
    return with_unit(value, {"unit": item.unit, "currency": item.currency})


def _thresholds(item: Explanation) -> str:
    if not item.thresholds:
        return "none"
    better = ">=" if item.better == "higher" else "<="
    parts = []
    if "target" in item.thresholds:
        parts.append(f"{better} {plain(item.thresholds['target'])}")
    if "warn" in item.thresholds:
        parts.append(f"(warn {better} {plain(item.thresholds['warn'])})")
    if "min" in item.thresholds:
        parts.append(f"min {plain(item.thresholds['min'])}")
    if "max" in item.thresholds:
        parts.append(f"max {plain(item.thresholds['max'])}")
    return " ".join(parts)


def render_explanations_json(explanations: list[Explanation], stream: IO[str]) -> None:
    def default(value):
        if isinstance(value, dt.date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    stream.write(json.dumps([dataclasses.asdict(item) for item in explanations], indent=2, ensure_ascii=False, default=default))
    stream.write("\n")
