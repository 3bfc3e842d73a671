"""Plans, baselines, relative targets, waivers, scores and pacing, end to end on tests/data/plans.

Every number is worked out by hand in tests/data/plans/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_rules.diagnostics import InputError
from kpi_rules.pipeline import compile_clients, score

PLANS = Path(__file__).parent / "data" / "plans"
CAFE = PLANS / "cafe.yaml"


def cards(path: Path = CAFE, period: str = "all") -> dict[str, object]:
    return {card.start.strftime("%Y-%m"): card for card in score(compile_clients([path]), period)}


def kpi(card, kpi_id: str):
    return next(result for result in card.kpis if result.id == kpi_id)


def write_client(tmp_path: Path, text: str) -> Path:
    (tmp_path / "client.yaml").write_text(
        f"kpi-rules: 1\nclient: Cafe\nplaybook: {PLANS / 'playbook.yaml'}\ncurrency: RUB\ndata: {PLANS / 'cafe.csv'}\n{text}",
        encoding="utf-8",
    )
    return tmp_path / "client.yaml"


def test_a_plan_by_period_with_warn_as_a_change_against_it():
    by_month = cards()
    september, october = kpi(by_month["2026-09"], "followers"), kpi(by_month["2026-10"], "followers")
    assert (september.value, september.target, september.status) == (4800, {"target": 4800, "warn": 4560}, "pass")
    assert (october.value, october.target, october.status) == (5100, {"target": 5200, "warn": 4940}, "warn")


def test_an_unfinished_period_is_checked_on_its_pace():
    november = cards(period="current")["2026-11"]
    assert november.days_elapsed == 15 and november.days == 30
    followers = kpi(november, "followers")
    # A stock is not projected; its plan is interpolated to the last day of data: 5200 + 400 x 15/30.
    assert (followers.value, followers.projected, followers.target["target"], followers.status) == (5400, None, 5400, "pass")
    leads = kpi(november, "leads")
    assert (leads.value, leads.projected, leads.status, leads.gap) == (15, 30, "fail", -20)


def test_latest_keeps_choosing_the_last_complete_period():
    assert list(cards(period="latest")) == ["2026-10"]


def test_vs_baseline_with_a_change_and_warn_against_the_same_baseline():
    er = kpi(cards()["2026-10"], "er")
    assert er.vs == "baseline"
    assert er.reference == pytest.approx(33 / 4800 * 100)
    assert er.target == pytest.approx({"target": 33 / 4800 * 110, "warn": 33 / 4800 * 100})
    assert er.value == pytest.approx(36 / 5100 * 100) and er.status == "warn"


def test_a_waiver_sets_a_target_aside_until_its_day_with_its_reason():
    cpl = kpi(cards()["2026-11"], "cpl")
    assert (cpl.status, cpl.reason) == ("waived", "waived until 2026-11-30: rebrand: ads paused")


def test_after_its_day_a_waiver_is_noted_and_the_kpi_scored(tmp_path):
    client = write_client(
        tmp_path,
        "goals: [leads]\ntargets:\n  cpl: {vs: previous, change: -5%}\nwaivers:\n  cpl: {until: 2026-10-31, reason: rebrand}\n",
    )
    by_month = cards(client)
    assert kpi(by_month["2026-10"], "cpl").status == "waived"
    november = kpi(by_month["2026-11"], "cpl")
    # 100 RUB a lead in November against 50 in October: 47.50 or less was wanted.
    assert (november.value, november.target, november.status) == (100, {"target": 47.5}, "fail")
    assert november.note == "waiver until 2026-10-31 expired: rebrand"


def test_the_first_period_has_no_previous_one_and_says_so(tmp_path):
    client = write_client(tmp_path, "goals: [leads]\ntargets:\n  cpl: {vs: previous, change: -5%}\n")
    september = kpi(cards(client)["2026-09"], "cpl")
    assert september.status == "no_data"
    assert september.reason.startswith("no previous period")


def test_scores_weigh_goals_and_leave_out_waived_and_no_data():
    november = cards(period="current")["2026-11"]
    scores = {goal.id: goal.score for goal in november.goals}
    # awareness: followers pass; community: er warn (50), love_rate vs competitors; leads: leads fail, cpl waived.
    assert scores["awareness"] == 100 and scores["leads"] == 0
    weights = {"awareness": 1, "community": 2, "leads": 1}
    expected = sum(scores[goal] * weights[goal] for goal in scores) / 4
    assert november.score == pytest.approx(expected)


def test_growth_compounds(tmp_path):
    data = tmp_path / "growth.csv"
    data.write_text("date,followers\n2026-01-31,1000\n2026-02-28,1050\n2026-03-31,1102.5\n", encoding="utf-8")
    client = tmp_path / "growth.yaml"
    client.write_text(
        f"kpi-rules: 1\nclient: G\nplaybook: {PLANS / 'playbook.yaml'}\ngoals: [awareness]\ndata: growth.csv\nbaseline: 2026-01\n"
        "targets:\n  followers: {vs: previous, change: +5%}\n",
        encoding="utf-8",
    )
    months = cards(client)
    assert [kpi(months[m], "followers").status for m in ("2026-02", "2026-03")] == ["pass", "pass"]
    for change, status in (("+10.25%", "pass"), ("+10.26%", "fail")):
        client.write_text(client.read_text().replace("{vs: previous, change: +5%}", "{vs: baseline, change: " + change + "}"))
        assert kpi(cards(client)["2026-03"], "followers").status == status
        client.write_text(client.read_text().replace("{vs: baseline, change: " + change + "}", "{vs: previous, change: +5%}"))


def test_a_line_between_two_points_rises_by_equal_steps_per_period(tmp_path):
    client = write_client(tmp_path, "goals: [awareness]\ntargets:\n  followers: {from: {2026-08: 4600}, to: {2026-12: 5400}}\n")
    by_month = cards(client)
    assert [kpi(by_month[m], "followers").target for m in ("2026-09", "2026-10")] == [{"target": 4800}, {"target": 5000}]


def test_a_date_range_is_scored_as_one_period_with_the_same_days_before_as_its_previous():
    (card,) = score(compile_clients([CAFE]), "2026-11-01..2026-11-03")
    assert (card.start.isoformat(), card.end.isoformat(), card.days) == ("2026-11-01", "2026-11-03", 3)
    leads = kpi(card, "leads")
    assert (leads.value, leads.previous) == (3, 6)
    # A monthly plan says nothing about three days.
    assert kpi(card, "followers").target is None


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "goals: [awareness]\ntargets:\n  followers: {plan: {2026-W40: 4800}}\n",
            "client.yaml:8:14: error KR212 target for \"followers\": the period from 2026-09-28 to 2026-10-04 is not a month: this client is checked by month",
        ),
        (
            "goals: [awareness]\ntargets:\n  followers: {plan: {2026-10: 5200, 2026-09: 4800}}\n",
            'client.yaml:8:46: error KR212 target for "followers": plan period 2026-09 comes before or inside the one above it: list periods in order, each once',
        ),
        (
            "goals: [community]\ntargets:\n  er: {vs: baseline, change: +10%}\n",
            'client.yaml:8:7: error KR213 target for "er" is vs baseline, but this client file sets no baseline: (e.g. baseline: 2026-09)',
        ),
        (
            "goals: [community]\ncompetitors:\n  Rival Cafe: {data: rival.csv}\ntargets:\n  er: {vs: Rival Cafee, change: 0%}\n",
            'client.yaml:10:7: error KR213 target for "er": vs "Rival Cafee" is not a reference or a competitor (did you mean "Rival Cafe"?); '
            "use baseline, previous, best_competitor, competitors_mean, Rival Cafe",
        ),
        (
            "goals: [leads]\nwaivers:\n  cpl: {until: 2026-11-31, reason: rebrand}\n",
            'client.yaml:8:16: error KR214 "2026-11-31" is not a date: write it as 2026-11-30',
        ),
        (
            "goals: [leads]\nbaseline: 2026-W36\n",
            'client.yaml:7:11: error KR215 baseline "2026-W36" is not made of whole months: this client is checked by month, e.g. 2026-09',
        ),
        (
            "goals: [leads]\ngoal_weights: {lead: 2}\n",
            'client.yaml:7:16: error KR205 weight for goal "lead", which this client file does not score (did you mean "leads"?)',
        ),
        (
            "goals: [leads]\ntargets:\n  leads: {target: 50, warn: -5%}\n",
            'client.yaml:8:29: error KR206 target for "leads": warn -5% is a change: it goes with plan, from/to or vs; beside target give a number',
        ),
        (
            "goals: [leads]\ntargets:\n  cpl: {vs: previous, change: -5%, warn: -10%}\n",
            'client.yaml:8:42: error KR206 target for "cpl": warn -10% is below -5%, but lower is better for this KPI: warn is the easier bar',
        ),
    ],
)
def test_what_a_client_agrees_over_time_is_checked_at_its_line(tmp_path, text, expected):
    client = write_client(tmp_path, text)
    with pytest.raises(InputError) as caught:
        compile_clients([client])
    assert expected in [str(problem).replace(str(tmp_path) + "/", "") for problem in caught.value.diagnostics]


def test_competitors_are_scored_with_the_same_formulas_and_shown_beside():
    october = cards()["2026-10"]
    love_rate = kpi(october, "love_rate")
    assert [(name, pytest.approx(value)) for name, value in love_rate.competitors] == [("Rival Cafe", 40 / 6000 * 100), ("Bean Bar", 1.0)]
    assert (love_rate.vs, love_rate.reference, love_rate.status) == ("best_competitor", 1.0, "fail")
    # The competitors publish no comments: ER cannot be computed for them, and is not shown.
    assert kpi(october, "er").competitors == ()
    assert october.score == 50


def test_the_current_period_scores_as_the_readme_says():
    assert cards(period="current")["2026-11"].score == 37.5


@pytest.mark.parametrize("vs, reference", [("competitors_mean", (40 / 6000 * 100 + 1.0) / 2), ("Rival Cafe", 40 / 6000 * 100)])
def test_vs_the_competitors_mean_or_one_competitor(tmp_path, vs, reference):
    client = write_client(
        tmp_path,
        f"goals: [community]\ncompetitors:\n  Rival Cafe: {{data: {PLANS / 'rival-cafe.csv'}}}\n  Bean Bar: {{data: {PLANS / 'bean-bar.csv'}}}\n"
        f"targets:\n  love_rate: {{vs: {vs}, change: 0%}}\n",
    )
    love_rate = kpi(cards(client)["2026-10"], "love_rate")
    assert love_rate.reference == pytest.approx(reference)
    assert love_rate.status == "fail"


def test_a_client_may_be_checked_by_month_and_by_week_in_one_run(tmp_path):
    monthly = write_client(tmp_path, "goals: [leads]\n")
    weekly = tmp_path / "weekly.yaml"
    weekly.write_text(monthly.read_text().replace("goals: [leads]", "goals: [leads]\nperiod: week"), encoding="utf-8")
    results = score(compile_clients([monthly, weekly]), "2026-10")
    grains = [card.grain for card in results]
    assert grains == ["week"] * 5 + ["month"]  # 2026-10 overlaps ISO weeks 40 to 44; finer grains first
    assert not [problem for problem in results.problems if problem.is_error]


def test_a_plan_in_the_playbook_is_the_agency_wide_one_and_a_client_target_overrides_it(tmp_path):
    playbook = tmp_path / "agency.yaml"
    playbook.write_text(
        f"kpi-rules: 1\nextends: [{PLANS / 'playbook.yaml'}]\ntargets:\n  followers: {{plan: {{2026-09: 5000, 2026-10: 5000}}}}\n",
        encoding="utf-8",
    )
    client = write_client(tmp_path, "goals: [awareness]\n").read_text().replace(str(PLANS / "playbook.yaml"), str(playbook))
    (tmp_path / "client.yaml").write_text(client, encoding="utf-8")
    assert kpi(cards(tmp_path / "client.yaml")["2026-10"], "followers").target == {"target": 5000}
    (tmp_path / "client.yaml").write_text(client + "targets:\n  followers: {target: 5100}\n", encoding="utf-8")
    assert kpi(cards(tmp_path / "client.yaml")["2026-10"], "followers").status == "pass"


def test_a_playbook_plan_of_another_grain_is_named_at_the_client_files_playbook_line(tmp_path):
    playbook = tmp_path / "agency.yaml"
    playbook.write_text(
        f"kpi-rules: 1\nextends: [{PLANS / 'playbook.yaml'}]\ntargets:\n  followers: {{plan: {{2026-W40: 5000}}}}\n", encoding="utf-8"
    )
    client = write_client(tmp_path, "goals: [awareness]\n")
    client.write_text(client.read_text().replace(str(PLANS / "playbook.yaml"), str(playbook)), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        compile_clients([client])
    assert [str(problem).replace(str(tmp_path) + "/", "") for problem in caught.value.diagnostics] == [
        'client.yaml:3:11: error KR212 target for "followers" (from the playbook): the period from 2026-09-28 to 2026-10-04 '
        "is not a month: this client is checked by month"
    ]


def test_a_plan_s_targets_of_the_periods_shown_come_with_the_values():
    # The cafe's followers: 4,800 and 5,100 against the plan's 4,800 (September) and 5,200 (October), for the
    # report's chart. Fixed targets (leads: 50) need no history; the scorecard's target is the period's.
    card = next(iter(score(compile_clients([CAFE]), "2026-10")))
    kpis = {kpi.id: kpi for kpi in card.kpis}
    assert kpis["followers"].history == (4800.0, 5100.0)
    assert kpis["followers"].target_history == (4800.0, 5200.0)
    assert kpis["leads"].target_history == ()


@pytest.mark.parametrize("period", ["all", "current", "2026-09-01..2026-10-31"])
def test_clients_evaluated_a_few_at_a_time_score_as_all_at_once(cli, monkeypatch, period):
    # The pipeline evaluates blocks of whole clients (PERIODS_PER_BLOCK rows): previous periods, baselines,
    # plans, competitors, pacing and scores must not see the cut.
    files = [str(CAFE), *sorted(str(path) for path in (Path(__file__).parents[1] / "examples" / "clients").glob("*.yaml"))]
    whole = cli("check", *files, "--period", period, "--format", "json")
    monkeypatch.setattr("kpi_rules.pipeline.PERIODS_PER_BLOCK", 1)
    one_client_a_block = cli("check", *files, "--period", period, "--format", "json")
    assert whole.exit_code == one_client_a_block.exit_code and whole.stdout == one_client_a_block.stdout
    assert whole.stdout.count('"client"') > 3
