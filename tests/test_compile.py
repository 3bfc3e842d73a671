import pytest

from kpi_rules.compile import Compiler
from kpi_rules.diagnostics import InputError


def compile_playbook(write, text):
    path = write("playbook.yaml", text)
    compiler = Compiler()
    playbook = compiler.playbook(path.name, path.parent)
    if compiler.diagnostics:
        raise InputError(compiler.diagnostics)
    return playbook


def problems(write, text):
    with pytest.raises(InputError) as caught:
        compile_playbook(write, text)
    return [f"{d.line}:{d.column} {d.code} {d.message}" for d in caught.value.diagnostics]


def test_library_is_merged_and_overrides_win(write):
    playbook = compile_playbook(
        write,
        """
        kpi-rules: 1
        extends: [builtin:smm]
        kpis:
          cpl: {label: {en: Lead price}, formula: (spend + fees) / leads}
        """,
    )
    cpl = playbook.kpis["cpl"]
    assert cpl.label() == "Lead price" and cpl.formula.text == "(spend + fees) / leads"
    assert cpl.better == "lower" and cpl.unit == "currency"  # kept from the library
    assert playbook.metrics["reach"].agg == "none"


def test_kpis_come_in_dependency_order(write):
    playbook = compile_playbook(
        write,
        """
        kpi-rules: 1
        metrics: {a: {agg: sum}, b: {agg: sum}}
        kpis:
          top: {formula: middle * 2}
          middle: {formula: base + b}
          base: {formula: a}
        """,
    )
    assert list(playbook.kpis) == ["base", "middle", "top"]


def test_unknown_names_cycles_and_bad_formulas_point_at_their_lines(write):
    found = problems(
        write,
        """
        kpi-rules: 1
        metrics: {leads: {agg: sum}, spend: {agg: sum}}
        kpis:
          cpl: {formula: spend / leeds}
          one: {formula: two + 1}
          two: {formula: one + 1}
          bad: {formula: spend.real}
        goals:
          g: {kpis: [cpl, cpx]}
        targets:
          cpll: {target: 1}
        """,
    )
    assert found == [
        '4:18 KR201 formula of "cpl": unknown name "leeds" (did you mean "leads"?)',
        "5:18 KR204 KPI formulas use each other in a circle: one -> two -> one",
        '7:18 KR203 formula of "bad": attribute access (.) is not allowed in a formula',
        '9:19 KR205 goal "g" lists unknown KPI "cpx" (did you mean "cpl"?)',
        '11:3 KR205 target for unknown KPI "cpll" (did you mean "cpl"?)',
    ]


@pytest.mark.parametrize(
    "kpi, target, message",
    [
        ("ctr", "{target: 1, warn: 2}", "warn 2 is above target 1, but higher is better"),
        ("cpl", "{target: 60, warn: 50}", "warn 50 is below target 60, but lower is better"),
        ("frequency", "{target: 2}", "give min and/or max"),
        ("ctr", "{min: 3, max: 1}", "min 3 is above max 1"),
        ("ctr", "{target: 1, min: 1}", "either target/warn or min/max"),
        ("ctr", "{warn: 1}", "warn needs a target"),
    ],
)
def test_targets_must_fit_the_kpi_direction(write, kpi, target, message):
    found = problems(write, f"kpi-rules: 1\nextends: [builtin:smm]\ntargets:\n  {kpi}: {target}\n")
    assert len(found) == 1 and "KR206" in found[0] and message in found[0]


def test_extends_unknown_builtin_and_circles(write):
    assert "unknown bundled playbook" in problems(write, "kpi-rules: 1\nextends: [builtin:smn]\n")[0]
    write("a.yaml", "kpi-rules: 1\nextends: [playbook.yaml]\n")
    found = problems(write, "kpi-rules: 1\nextends: [a.yaml]\n")
    assert "extends goes round in a circle: playbook.yaml -> a.yaml -> playbook.yaml" in found[0]


def test_client_file_checks_goals_targets_and_data(write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    client = write(
        "client.yaml",
        """
        kpi-rules: 1
        client: Acme
        playbook: playbook.yaml
        goals: [leads, salse]
        data: missing.csv
        targets:
          cpl: {target: 50, warn: 70}
        """,
    )
    compiler = Compiler()
    assert compiler.client(client) is None
    found = sorted(f"{d.line}:{d.column} {d.code} {d.message}" for d in compiler.diagnostics)
    assert found[0].startswith('4:16 KR205 unknown goal "salse" (did you mean "sales"?)')
    assert found[1] == '5:7 KR001 data file "missing.csv" not found'


def test_client_targets_override_the_playbook(write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\ntargets:\n  cpl: {target: 60, warn: 80}\n  ctr: {target: 1}\n")
    write("d.csv", "date\n")
    client = write(
        "client.yaml",
        "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [leads]\ndata: d.csv\ntargets:\n  cpl: {target: 50}\n",
    )
    compiled = Compiler().client(client).client("A")
    assert compiled.targets["cpl"].as_dict() == {"target": 50}
    assert compiled.targets["ctr"].as_dict() == {"target": 1}
    assert compiled.kpis == ("leads", "cpl", "lead_cr")


def test_a_per_row_formula_cannot_use_facts_of_the_period(write):
    found = problems(
        write,
        """
        kpi-rules: 1
        metrics: {likes: {agg: sum}, followers: {agg: last}}
        kpis:
          daily: {formula: likes / days}
          growth: {formula: followers - previous(followers)}
          per_row_days: {formula: daily * 2, method: mean_of_rows}
          per_row_growth: {formula: growth / followers, method: mean_of_rows}
          fine: {formula: likes / followers, method: mean_of_rows}
        """,
    )
    assert found == [
        '6:27 KR203 formula of "per_row_days": days (through "daily") is a fact of the period, '
        "but method mean_of_rows evaluates the formula on each data row",
        '7:29 KR203 formula of "per_row_growth": previous() (through "growth") is a fact of the period, '
        "but method mean_of_rows evaluates the formula on each data row",
    ]


def test_every_period_function_is_refused_per_row_and_previous_n_is_checked(write):
    found = problems(
        write,
        """
        kpi-rules: 1
        metrics: {likes: {agg: sum}, followers: {agg: last}}
        kpis:
          per_row_rates: {formula: per_day(likes) + per_week(likes) + per_month(likes), method: mean_of_rows}
          per_row_baseline: {formula: likes / baseline(likes), method: mean_of_rows}
          year_on_year: {formula: "followers / previous(followers, 0)"}
        """,
    )
    per_row = "is a fact of the period, but method mean_of_rows evaluates the formula on each data row"
    assert found == [
        f'4:28 KR203 formula of "per_row_rates": per_day() {per_row}',
        f'4:28 KR203 formula of "per_row_rates": per_month() {per_row}',
        f'4:28 KR203 formula of "per_row_rates": per_week() {per_row}',
        f'5:31 KR203 formula of "per_row_baseline": baseline() {per_row}',
        '6:27 KR209 formula of "year_on_year": previous()\'s n (how many periods back) must be a whole number from 1 to 36',
    ]


def test_goals_a_kpi_serves_must_exist(write):
    found = problems(
        write,
        """
        kpi-rules: 1
        extends: [builtin:smm]
        kpis:
          story_er: {formula: likes / views * 100, goals: [comunity]}
        """,
    )
    assert found == ['4:23 KR205 KPI "story_er" serves unknown goal "comunity" (did you mean "community"?)']


def test_sources_methods_and_target_notes_are_kept(write):
    playbook = compile_playbook(
        write,
        """
        kpi-rules: 1
        metrics: {likes: {agg: sum, source: Instagram export}}
        kpis:
          avg_likes: {formula: likes, method: mean_of_rows, source: house rule}
        targets:
          avg_likes: {target: 10, note: ten a row, source: last year's median}
        """,
    )
    assert playbook.metrics["likes"].source == "Instagram export"
    assert (playbook.kpis["avg_likes"].method, playbook.kpis["avg_likes"].source) == ("mean_of_rows", "house rule")
    target = playbook.targets["avg_likes"]
    assert (target.note, target.source, target.as_dict()) == ("ten a row", "last year's median", {"target": 10})


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1" + "0" * 400, "true"])
def test_a_target_must_be_a_finite_number(write, value):
    """Once: a .nan target made every value pass; .inf wrote Infinity into the JSON; 400 digits gave exit 3."""
    (problem,) = problems(write, f"kpi-rules: 1\nextends: [builtin:smm]\ntargets:\n  cpl: {{target: {value}}}\n")
    expected = "4:17 KR103" if value == "true" else "4:8 KR206 target for \"cpl\": target "
    assert problem.startswith(expected)
