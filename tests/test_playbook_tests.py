"""kpi-rules test: playbook unit tests pass and fail as the playbook changes; coverage; JUnit; bad test files."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import EXAMPLES

JUNIT_XSD = Path(__file__).parent / "data" / "junit" / "junit.xsd"

STORY_TEST = """
kpi-rules: 1
playbook: playbook.yaml
tests:
  - name: stories
    period: 2026-10
    rows:
      - {date: 2026-10-01, story_views: 600, story_replies: 9}
      - {date: 2026-10-31, story_views: 400, story_replies: 6}
    expect:
      story_er: {value: EXPECTED, status: STATUS}
"""


@pytest.fixture
def agency(tmp_path):
    """A copy of the examples' playbook, to change."""
    shutil.copy(EXAMPLES / "playbook.yaml", tmp_path / "playbook.yaml")
    shutil.copy(EXAMPLES / "northwind-logo.svg", tmp_path / "northwind-logo.svg")  # the playbook's report: logo
    return tmp_path


def test_the_examples_tests_pass_and_report_what_is_untested(cli, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    result = cli("test", "examples/")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.count("  PASS  ") == 5
    # The playbook's own KPIs: those it defines (story_er), scores in its goals or sets targets for: 19, of which
    # only frequency (a target, no test) is untested.
    assert "Coverage of examples/playbook.yaml: 18 of 19 KPIs tested (94.7%); not tested: frequency" in result.stdout
    assert result.stdout.endswith("5 test(s): 5 passed, 0 failed\n")


def test_a_changed_formula_fails_the_test_until_the_expectation_is_updated(cli, agency, write):
    # 15 replies of 1,000 views: 1.5 %, a warn against target 2 (warn 1).
    write("playbook.test.yaml", STORY_TEST.replace("EXPECTED", "1.5").replace("STATUS", "warn"))
    assert cli("test", agency / "playbook.test.yaml").exit_code == 0

    playbook = agency / "playbook.yaml"
    playbook.write_text(playbook.read_text().replace("story_replies / story_views * 100", "story_replies / story_views * 1000"))
    failed = cli("test", agency / "playbook.test.yaml")
    assert failed.exit_code == 1
    assert "  FAIL  stories" in failed.stdout
    assert "story_er value: expected 1.5 ± 0.005, got 15" in failed.stdout
    assert "story_er status: expected warn, got pass" in failed.stdout
    assert "1 test(s): 0 passed, 1 failed" in failed.stdout

    write("playbook.test.yaml", STORY_TEST.replace("EXPECTED", "15").replace("STATUS", "pass"))
    fixed = cli("test", agency / "playbook.test.yaml")
    assert fixed.exit_code == 0, fixed.stdout
    assert "  PASS  stories" in fixed.stdout


def test_a_changed_target_fails_the_status(cli, agency, write):
    write("playbook.test.yaml", STORY_TEST.replace("EXPECTED", "1.5").replace("STATUS", "warn"))
    playbook = agency / "playbook.yaml"
    playbook.write_text(playbook.read_text().replace("story_er: {target: 2, warn: 1}", "story_er: {target: 1.5, warn: 1}"))
    result = cli("test", agency / "playbook.test.yaml")
    assert result.exit_code == 1
    assert "story_er status: expected warn, got pass" in result.stdout
    assert "story_er value" not in result.stdout


def test_coverage_counts_the_playbooks_own_kpis(cli, write, tmp_path):
    write(
        "playbook.yaml",
        """
        kpi-rules: 1
        name: Small
        extends: [builtin:smm]
        kpis:
          likes_per_post: {formula: likes / posts, unit: count, better: higher}
          comments_per_post: {formula: comments / posts, unit: count, better: higher}
        goals:
          content: {kpis: [likes_per_post, comments_per_post, er]}
        targets:
          cpl: {target: 60, warn: 80}
        """,
    )
    write(
        "small.test.yaml",
        """
        kpi-rules: 1
        playbook: playbook.yaml
        tests:
          - name: likes
            rows: [{date: 2026-10-01, likes: 30, posts: 3}]
            grain: day
            expect: {likes_per_post: {value: 10}}
        """,
    )
    # likes_per_post, comments_per_post (defined), er (in a goal), cpl (a target): the library's other KPIs are not the playbook's.
    result = cli("test", tmp_path, "--min-coverage", "25")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"Coverage of {tmp_path / 'playbook.yaml'}: 1 of 4 KPIs tested (25%); not tested: er, cpl, comments_per_post" in result.stdout

    below = cli("test", tmp_path, "--min-coverage", "80")
    assert below.exit_code == 1
    assert "below --min-coverage 80%" in below.stdout
    assert "1 test(s): 1 passed, 0 failed" in below.stdout


def test_coverage_of_tests_in_two_files_adds_up(cli, write, tmp_path):
    write("playbook.yaml", "kpi-rules: 1\nkpis:\n  a: {formula: likes}\n  b: {formula: posts}\nmetrics:\n  likes: {agg: sum}\n  posts: {agg: sum}\n")
    for kpi in ("a", "b"):
        write(
            f"{kpi}.test.yaml",
            f"kpi-rules: 1\nplaybook: playbook.yaml\ntests:\n  - name: {kpi}\n    grain: day\n"
            f"    rows: [{{date: 2026-10-01, likes: 2, posts: 1}}]\n    expect: {{{kpi}: {{status: info}}}}\n",
        )
    result = cli("test", tmp_path, "--min-coverage", "100")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "2 of 2 KPIs tested (100%)" in result.stdout


def test_junit_report_follows_the_schema(cli, agency, write):
    import xmlschema

    write("playbook.test.yaml", STORY_TEST.replace("EXPECTED", "2").replace("STATUS", "pass"))
    result = cli("test", agency / "playbook.test.yaml", "--format", "junit", "--min-coverage", "50")
    assert result.exit_code == 1
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(result.stdout)
    root = ET.fromstring(result.stdout)
    assert (root.get("tests"), root.get("failures")) == ("2", "2")
    failure = root.find("testsuite/testcase[@name='stories']/failure")
    assert failure.get("message") == "story_er value: expected 2 ± 0.005, got 1.5; story_er status: expected pass, got warn"
    coverage = root.find("testsuite[@name='coverage']/testcase/failure")
    assert "1 of 19 KPIs tested" in coverage.get("message")


@pytest.mark.parametrize(
    ("test_yaml", "expected"),
    [
        (
            "  - name: t\n    rows: [{date: 2026-10-01, likes: 1}]\n    expect: {er: {value: 1}}\n    extra: 1\n",
            'playbook.test.yaml:7:5: error KR101 unknown key "extra" in tests[0]',
        ),
        (
            "  - name: t\n    rows: [{date: 2026-10-01, likes: 1}]\n    expect: {ER: {value: 1}}\n",
            'playbook.test.yaml:6:14: error KR103 "ER" in tests[0].expect is not a valid id',
        ),
        (
            "  - name: t\n    rows: [{date: 2026-10-01, likes: 1}]\n    expect: {err_x: {value: 1}}\n",
            'playbook.test.yaml:6:14: error KR205 unknown KPI "err_x" (did you mean "err"?)',
        ),
        (
            "  - name: t\n    rows: [{date: 2026-10-01, lieks: 1}]\n    expect: {er: {value: 1}}\n",
            'playbook.test.yaml:5:31: error KR205 unknown metric "lieks" (did you mean "likes"?)',
        ),
        (
            "  - name: t\n    rows: [{date: 2026-10-01, likes: 1}]\n    expect: {er: {tolerance: 1}}\n",
            'playbook.test.yaml:6:18: error KR102 expect "er": give its value, its status or both',
        ),
        (
            "  - name: t\n    rows:\n      - {date: 2026-10-01, leads: 1}\n      - {date: 2026-13-01, leads: 1}\n    expect: {leads: {value: 1}}\n",
            "playbook.test.yaml:7:9: error KR303",
        ),
        (
            "  - name: t\n    period: 2026-09\n    rows: [{date: 2026-10-01, leads: 1}]\n    expect: {leads: {value: 1}}\n",
            'playbook.test.yaml:5:13: error KR305 test "t": no data for client "t" in period 2026-09',
        ),
        (
            "  - name: t\n    period: 2026-Q4\n    rows: [{date: 2026-10-01, leads: 1}, {date: 2026-11-01, leads: 1}]\n    expect: {leads: {value: 1}}\n",
            'playbook.test.yaml:5:13: error KR610 test "t": period 2026-Q4 holds 2 periods of the grain',
        ),
    ],
    ids=["unknown-key", "bad-id", "unknown-kpi", "unknown-metric", "nothing-expected", "bad-date", "no-rows-in-period", "several-periods"],
)
def test_bad_test_files_get_diagnostics_and_exit_2(cli, agency, write, monkeypatch, test_yaml, expected):
    write("playbook.test.yaml", "kpi-rules: 1\nplaybook: playbook.yaml\ntests:\n" + test_yaml)
    monkeypatch.chdir(agency)
    result = cli("test", "playbook.test.yaml")
    assert result.exit_code == 2, result.stdout
    assert expected in result.stderr, result.stderr
    assert result.stdout == ""


def test_validate_checks_test_files_and_check_skips_them_in_folders(cli, agency, write):
    write("playbook.test.yaml", STORY_TEST.replace("EXPECTED", "1.5").replace("STATUS", "warn").replace("story_er:", "story_erx:"))
    result = cli("validate", agency)
    assert result.exit_code == 2
    assert 'error KR205 unknown KPI "story_erx" (did you mean "story_er"?)' in result.stderr
    checked = cli("check", EXAMPLES, "--format", "json")
    assert checked.exit_code in (0, 1), checked.stderr
    assert "playbook.test.yaml" not in checked.stderr
    named = cli("check", EXAMPLES / "playbook.test.yaml")
    assert named.exit_code == 2
    assert "playbook.test.yaml: error KR004 is a playbook test file, not a client file: run it with kpi-rules test" in named.stderr


def test_rows_of_two_channels_and_targets_of_the_test(cli, agency, write):
    write(
        "playbook.test.yaml",
        """
        kpi-rules: 1
        playbook: playbook.yaml
        tests:
          - name: vk and telegram
            period: 2026-10-05
            grain: day
            targets:
              followers: {target: 3000}
            rows:
              - {date: 2026-10-05, channel: vk, followers: 2000, likes: 10, posts: 0}
              - {date: 2026-10-05, channel: telegram, followers: 1500, likes: null, posts: 0}
            expect:
              followers: {value: 3500, status: pass}   # each channel's last value, added up
              love_rate: {status: no_data}              # no posts: likes / 0
        """,
    )
    result = cli("test", agency / "playbook.test.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "  PASS  vk and telegram · 2026-10-05" in result.stdout


def test_a_metric_no_row_has_is_pointed_at_the_rows(cli, agency, write, monkeypatch):
    write(
        "playbook.test.yaml",
        "kpi-rules: 1\nplaybook: playbook.yaml\ntests:\n  - name: t\n    grain: day\n"
        "    rows: [{date: 2026-10-05, likes: 10}]\n    expect: {love_rate: {status: no_data}}\n",
    )
    monkeypatch.chdir(agency)
    result = cli("test", "playbook.test.yaml")
    assert result.exit_code == 2
    assert 'playbook.test.yaml:6:11: error KR304 test "t": no data file has a "followers" column' in result.stderr
