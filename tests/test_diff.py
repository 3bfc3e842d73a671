"""kpi-rules diff on a git repository built here: commit the examples, change a formula and a target, diff."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import EXAMPLES

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="diff reads revisions with git")


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.email=test@example.com", "-c", "user.name=Test", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """The examples committed to a new repository (branch main); the working directory is its root."""
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("*.py"))
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_nothing_changed(cli, repo):
    result = cli("diff", "examples/clients/", "--rev", "main")
    assert result.exit_code == 0, result.stderr
    assert "Rules (main -> working tree)\n  no change\nScores\n  no change\n" in result.stdout
    assert result.stdout.endswith("0 rule change(s); 0 KPI value(s) or status(es) changed in 0 scorecard(s), main -> working tree\n")


def test_a_changed_formula_and_target_list_the_rules_and_every_moved_kpi(cli, repo):
    playbook = repo / "examples" / "playbook.yaml"
    _edit(playbook, "formula: story_replies / story_views * 100", "formula: story_replies / story_views * 1000")
    _edit(playbook, "story_er: {target: 2, warn: 1}", "story_er: {target: 20, warn: 10}")
    result = cli("diff", "examples/clients/", "--rev", "main", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rev"] == "main"
    assert report["rules"] == [
        {"file": "examples/playbook.yaml", "kind": "formula", "item": "story_er",
         "before": "story_replies / story_views * 100", "after": "story_replies / story_views * 1000"},
        {"file": "examples/playbook.yaml", "kind": "target", "item": "story_er", "before": "target 2, warn 1", "after": "target 20, warn 10"},
    ]
    # Only the fitness studio scores stories: every one of its months moves tenfold, and nothing else moves.
    changes = report["scores"]
    assert {change["client"] for change in changes} == {"Fitness Studio"}
    assert {change["kpi"] for change in changes} == {"story_er"}
    assert len(changes) == 12  # 2025-11 to 2026-10
    for change in changes:
        assert change["after_value"] == pytest.approx(change["before_value"] * 10)
        assert change["before_status"] == change["after_status"] == "pass"  # 2.5 % >= 2 and 25 % >= 20


def test_a_status_change_and_a_kpi_taken_out_of_a_goal(cli, repo):
    playbook = repo / "examples" / "playbook.yaml"
    _edit(playbook, "cpo: {target: 500, warn: 700}", "cpo: {target: 800, warn: 900}")  # the coffee house overrides cpo: no change
    _edit(playbook, "kpis: [orders, cpo, revenue, roas, roi]", "kpis: [orders, cpo, revenue, roi]")
    _edit(repo / "examples" / "clients" / "coffee-house.yaml", "cpo: {target: 450, warn: 600}", "cpo: {target: 750, warn: 800}")
    result = cli("diff", "examples/clients/coffee-house.yaml", "--rev", "main", "--period", "2025-12")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "    target cpo: target 500, warn 700 -> target 800, warn 900\n" in text
    assert "    goal sales: orders, cpo, revenue, roas, roi -> orders, cpo, revenue, roi\n" in text
    assert "  examples/clients/coffee-house.yaml\n    target cpo: target 450, warn 600 -> target 750, warn 800\n" in text
    assert "  Coffee House · 2025-12\n    cpo: 730.46 RUB (fail) -> 730.46 RUB (pass)\n    roas: 1.51 (fail) -> not scored\n" in text


def test_markdown_for_a_pull_request(cli, repo):
    _edit(repo / "examples" / "playbook.yaml", "er:  {target: 3, warn: 1.5}", "er:  {target: 5, warn: 4.6}")
    result = cli("diff", "examples/clients/coffee-house.yaml", "--rev", "main", "--period", "2025-12", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert "| examples/playbook.yaml | target | er | target 3, warn 1.5 | target 5, warn 4.6 |" in result.stdout
    assert "| Coffee House | 2025-12 | er | 4.53% (pass) | 4.53% (fail) |" in result.stdout


def test_data_kept_out_of_git_is_read_from_the_working_tree_in_both_runs(cli, repo):
    _git(repo, "rm", "-q", "--cached", "examples/data/monthly-reach.csv")
    _git(repo, "commit", "-q", "-m", "reach is not in git")
    result = cli("diff", "examples/clients/fitness-studio.yaml", "--rev", "HEAD")
    assert result.exit_code == 0, result.stderr
    assert "Not in git, read from the working tree in both runs: examples/data/monthly-reach.csv" in result.stdout
    assert "0 KPI value(s) or status(es) changed" in result.stdout


def test_a_client_file_new_since_the_revision(cli, repo):
    shutil.copy(repo / "examples" / "clients" / "fitness-studio.yaml", repo / "examples" / "clients" / "gym.yaml")
    _edit(repo / "examples" / "clients" / "gym.yaml", "client: Fitness Studio", "client: Fitness Studio\n# a copy")
    result = cli("diff", "examples/clients/gym.yaml", "--rev", "main", "--period", "2026-10", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rules"][0]["kind"] == "client file added"
    assert all(change["before_status"] is None for change in report["scores"])


def test_problems_of_the_revisions_files_are_named_as_git_names_them(cli, repo):
    _edit(repo / "examples" / "playbook.yaml", "formula: story_replies / story_views * 100", "formula: story_replies / story_views *")
    _git(repo, "commit", "-q", "-am", "broken")
    _edit(repo / "examples" / "playbook.yaml", "formula: story_replies / story_views *", "formula: story_replies / story_views * 100")
    result = cli("diff", "examples/clients/fitness-studio.yaml", "--rev", "HEAD")
    assert result.exit_code == 2
    assert result.stderr.startswith("HEAD:examples/playbook.yaml:16:14: error KR202")


def test_not_a_repository_and_unknown_revision(cli, repo, tmp_path_factory, monkeypatch):
    unknown = cli("diff", "examples/clients/", "--rev", "mian")
    assert unknown.exit_code == 2
    assert '--rev: error KR620 unknown revision "mian": name a branch, tag or commit' in unknown.stderr
    option_like = cli("diff", "examples/clients/", "--rev", "--output=x")
    assert option_like.exit_code == 2 and "KR620" in option_like.stderr
    elsewhere = tmp_path_factory.mktemp("plain")
    shutil.copytree(EXAMPLES / "clients", elsewhere / "clients")
    monkeypatch.chdir(elsewhere)
    outside = cli("diff", "clients/", "--rev", "main")
    assert outside.exit_code == 2
    assert "clients: error KR620 not in a git repository: diff compares the files with a git revision" in outside.stderr


def test_a_target_agreed_for_one_client_of_a_file(cli, repo):
    clients = repo / "examples" / "clients" / "package.yaml"
    clients.write_text(
        "kpi-rules: 1\nclients: [Coffee House, Volga Industrial]\nplaybook: ../playbook.yaml\ngoals: [leads]\n"
        "data: ../data/agency-daily.csv\noverrides:\n  Volga Industrial:\n    targets:\n      leads: {target: 100, warn: 80}\n",
        encoding="utf-8",
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "a package")
    _edit(clients, "leads: {target: 100, warn: 80}", "leads: {target: 10, warn: 5}")
    result = cli("diff", "examples/clients/package.yaml", "--period", "2025-12")
    assert result.exit_code == 0, result.stderr
    assert "    target leads for Volga Industrial: target 100, warn 80 -> target 10, warn 5\n" in result.stdout
    assert "  Volga Industrial · 2025-12\n    leads: " in result.stdout and "(fail) -> " in result.stdout
    assert "Coffee House · 2025-12" not in result.stdout
