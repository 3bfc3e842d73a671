"""Small inline SVG charts for the HTML report: a KPI's values over its last periods, with its target drawn.

Written by hand rather than with a charting library: a line, its points and one or two dashed threshold lines
are a few elements, and the report must not load scripts or fonts. The SVG scales to its box (viewBox), so
the same chart suits a phone and a printed page. Every text put in the SVG is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 240, 72
PAD_X, PAD_Y = 6, 8
# Threshold lines: the pass line solid-dashed, a warn line or a band's edges lighter.
THRESHOLD_STYLE = {"target": "kr-target", "warn": "kr-warn", "min": "kr-target", "max": "kr-target"}


@dataclass(frozen=True)
class ChartPoint:
    index: int  # the value's place in the series
    x: float
    y: float
    value: float


def line_chart(
    values: tuple[float | None, ...],
    thresholds: dict[str, float] | None,
    title: str,
    point_labels: tuple[str, ...] = (),
) -> str:
    """An SVG line of ``values`` (oldest first; None is a gap) with each threshold as a horizontal line.

    ``title`` is the chart's accessible name; ``point_labels`` (one per value) become each point's tooltip.
    An empty series still gives a chart (the thresholds alone), so every KPI has one.
    """
    thresholds = thresholds or {}
    known = [value for value in values if value is not None]
    scale = known + list(thresholds.values())
    low, high = (min(scale), max(scale)) if scale else (0.0, 1.0)
    if high == low:
        # A flat series (or one value) sits in the middle rather than on an edge.
        low, high = low - 1, high + 1
    count = max(len(values), 2)
    step = (WIDTH - 2 * PAD_X) / (count - 1)

    def y_of(value: float) -> float:
        return round(HEIGHT - PAD_Y - (value - low) / (high - low) * (HEIGHT - 2 * PAD_Y), 2)

    parts = [
        f'<svg class="kr-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for name, threshold in thresholds.items():
        y = y_of(threshold)
        parts.append(f'<line class="{THRESHOLD_STYLE.get(name, "kr-target")}" x1="0" x2="{WIDTH}" y1="{y}" y2="{y}"/>')
    segments: list[list[ChartPoint]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        segments[-1].append(ChartPoint(index, round(PAD_X + index * step, 2), y_of(value), value))
    for segment in segments:
        if len(segment) > 1:
            points = " ".join(f"{point.x},{point.y}" for point in segment)
            parts.append(f'<polyline class="kr-line" points="{points}"/>')
    labels = point_labels if len(point_labels) == len(values) else ("",) * len(values)
    points = [point for segment in segments for point in segment]
    for number, point in enumerate(points):
        last = number == len(points) - 1 and values[-1] is not None
        parts.append(
            f'<circle class="{"kr-point kr-last" if last else "kr-point"}" cx="{point.x}" cy="{point.y}" r="{3 if last else 2}">'
            f"<title>{escape(labels[point.index])}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
