"""Small inline SVG charts for the HTML report: a KPI's values over its last periods, with its target drawn.

Written by hand rather than with a charting library: a line, its points and one or two dashed threshold lines
are a few elements, and the report must not load scripts or fonts. The SVG scales to its box (viewBox), so
the same chart suits a phone and a printed page. Every text put in the SVG is escaped here.
"""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 240, 72
PAD_X, PAD_Y = 6, 8
# Threshold lines: the pass line solid-dashed, a warn line or a band's edges lighter.
THRESHOLD_STYLE = {"target": "kr-target", "warn": "kr-warn", "min": "kr-target", "max": "kr-target"}


def line_chart(
    values: tuple[float | None, ...], thresholds: dict[str, float] | None, title: str, targets: tuple[float | None, ...] = ()
) -> str:
    """An SVG line of ``values`` (oldest first; None is a gap) with each threshold as a horizontal line.

    ``targets``, the target in each of those periods (a plan, a relative target), is drawn as a dashed line of
    its own in place of the period's target and warn when it changes: plan against fact. ``title`` is the chart's accessible
    name (and tooltip). Only the last value and lone values between gaps get a dot: a report of thousands of
    clients has tens of thousands of charts, so each is kept small. An empty series still gives a chart (the
    thresholds alone), so every KPI has one.
    """
    planned = [(index, target) for index, target in enumerate(targets) if target is not None]
    if len({target for _, target in planned}) < 2:
        planned = []  # a target the same in every period is the period's line
    thresholds = thresholds or {}
    if planned:
        thresholds = {name: value for name, value in thresholds.items() if name not in ("target", "warn")}
    known = [value for value in values if value is not None]
    scale = known + list(thresholds.values()) + [target for _, target in planned]
    low, high = (min(scale), max(scale)) if scale else (0.0, 1.0)
    if high == low:
        # A flat series (or one value) sits in the middle rather than on an edge.
        low, high = low - 1, high + 1
    step = (WIDTH - 2 * PAD_X) / (max(len(values), 2) - 1)
    ratio = (HEIGHT - 2 * PAD_Y) / (high - low)

    def y_of(value: float) -> float:
        return round(HEIGHT - PAD_Y - (value - low) * ratio, 1)

    parts = [f'<svg class="kr-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for name, threshold in thresholds.items():
        y = y_of(threshold)
        parts.append(f'<line class="{THRESHOLD_STYLE.get(name, "kr-target")}" x1="0" x2="{WIDTH}" y1="{y}" y2="{y}"/>')
    if planned:
        points = " ".join(f"{round(PAD_X + index * step, 1)},{y_of(target)}" for index, target in planned)
        parts.append(f'<polyline class="kr-plan" points="{points}"/>')
    segments: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            segments.append([])
        else:
            segments[-1].append((round(PAD_X + index * step, 1), y_of(value)))
    for segment in segments:
        if len(segment) > 1:
            parts.append('<polyline class="kr-line" points="' + " ".join(f"{x},{y}" for x, y in segment) + '"/>')
        elif segment:
            parts.append(f'<circle class="kr-point" cx="{segment[0][0]}" cy="{segment[0][1]}" r="2"/>')
    if values and values[-1] is not None and len(segments[-1]) > 1:
        x, y = segments[-1][-1]
        parts.append(f'<circle class="kr-point kr-last" cx="{x}" cy="{y}" r="3"/>')
    parts.append("</svg>")
    return "".join(parts)
