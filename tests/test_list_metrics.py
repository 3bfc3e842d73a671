"""list --metrics: every raw metric with its aggregation, unit and labels; with --goal, those its KPIs read."""

import re

from conftest import REPO


def _rows(output: str) -> dict[str, list[str]]:
    return {cells[0]: cells for line in output.splitlines() if (cells := [c.strip() for c in line.strip("│").split("│")]) and re.fullmatch(r"[a-z_]+", cells[0])}


def test_every_metric_of_the_library(cli):
    from pathlib import Path

    from kpi_rules.compile import Compiler

    playbook = Compiler().playbook("builtin:smm", Path())
    result = cli("list", "--metrics")
    assert result.exit_code == 0
    rows = _rows(result.stdout)
    assert set(rows) == set(playbook.metrics)
    assert rows["reach"][1:4] == ["Reach", "none", "count"]
    assert rows["followers"][2] == "last" and rows["spend"][3] == "currency"
    assert "none: never rolled up: supplied once per period (unique people)" in result.stdout


def test_a_goal_narrows_to_the_metrics_its_kpis_read(cli):
    result = cli("list", REPO / "examples" / "playbook.yaml", "--metrics", "--goal", "stories", "--lang", "ru")
    assert result.exit_code == 0
    rows = _rows(result.stdout)
    assert list(rows) == ["story_views", "story_replies"]
    assert rows["story_views"] == ["story_views", "Просмотры историй", "sum", "", "en: Story views · ru: Просмотры историй"]
