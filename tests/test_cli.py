import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, REPO

from kpi_rules import __version__
from kpi_rules import cli as cli_module
from kpi_rules.schema import validator


def test_version_and_module_entry_point():
    done = subprocess.run([sys.executable, "-m", "kpi_rules", "--version"], capture_output=True, text=True, cwd=REPO)
    assert (done.returncode, done.stdout.strip()) == (0, f"kpi-rules {__version__}")


def test_help_lists_commands_and_examples(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for word in ("check", "validate", "list", "kpi-rules check examples/clients/"):
        assert word in result.output


def test_examples_scorecards_match_the_story(cli):
    """One client passes, one fails on sales, one has gaps and no leads in October."""
    result = cli("check", EXAMPLES / "clients", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    validator("scorecard").validate(report)
    cards = {card["client"]: card for card in report["scorecards"]}
    assert cards["Fitness Studio"]["status"] == "pass"
    coffee = {goal["id"]: goal["status"] for goal in cards["Coffee House"]["goals"]}
    assert coffee == {"community": "pass", "sales": "fail"}
    volga = cards["Volga Industrial"]
    kpis = {kpi["id"]: kpi for kpi in volga["kpis"]}
    assert volga["period"]["days_with_data"] < volga["period"]["days"]
    assert kpis["cpl"]["status"] == "no_data" and kpis["cpl"]["value"] is None
    assert kpis["leads"]["value"] == 0 and kpis["reach"]["status"] == "no_data"


@pytest.mark.parametrize("fail_on, code", [("fail", 0), ("warn", 1), ("never", 0)])
def test_fail_on_levels(cli, mini_agency, fail_on, code):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3500,50,500\n", targets="cpl: {target: 60, warn: 80}")
    assert cli("check", client, "--period", "2026-10", "--fail-on", fail_on).exit_code == code


def test_output_file_is_plain_and_written_whole(cli, mini_agency, tmp_path):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n", targets="cpl: {target: 60}")
    out = tmp_path / "report.txt"
    result = cli("check", client, "--output", out)
    assert result.exit_code == 0 and result.output == ""
    text = out.read_text()
    assert "Acme · 2026-10" in text and "\x1b[" not in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_failed_check_leaves_an_existing_report_alone(cli, mini_agency, tmp_path):
    client = mini_agency("date,spend,leads\n2026-10-01,abc,50\n")
    out = tmp_path / "report.json"
    out.write_text("previous report")
    result = cli("check", client, "--format", "json", "--output", out)
    assert result.exit_code == 2
    assert out.read_text() == "previous report"


def _files(folder):
    """Every file under a folder with its bytes: what a refused run must leave as it was."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def _agency_with_a_base_playbook(mini_agency, write):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n", targets="cpl: {target: 60}")
    write("base.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    write("playbook.yaml", "kpi-rules: 1\nname: Test playbook\nextends: [base.yaml]\n")
    return client


@pytest.mark.parametrize(
    "command, output",
    [
        ("check", "client.yaml"),
        ("check", "data.csv"),
        ("check", "playbook.yaml"),
        ("check", "base.yaml"),  # a playbook of the extends chain
        ("check", "./sub/../data.csv"),
        ("check", "symlink.csv"),
        ("check", "hardlink.csv"),
        ("docs playbook.yaml", "playbook.yaml"),
        ("docs playbook.yaml", "base.yaml"),
        ("docs client.yaml", "client.yaml"),
    ],
)
def test_an_input_is_never_overwritten(cli, mini_agency, write, tmp_path, monkeypatch, command, output):
    client = _agency_with_a_base_playbook(mini_agency, write)
    (tmp_path / "sub").mkdir()
    (tmp_path / "symlink.csv").symlink_to("data.csv")
    (tmp_path / "hardlink.csv").hardlink_to(tmp_path / "data.csv")
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    name, *arguments = command.split()
    result = cli(name, *(arguments or [client.name]), "--output", output)
    assert result.exit_code == 2
    assert "error KR005 is " in result.output and "an input of this run" in result.output
    assert _files(tmp_path) == before


def test_the_output_is_refused_before_the_data_is_scored(cli, mini_agency, monkeypatch):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n")

    def never(*_):
        pytest.fail("scored although the output was refused")

    monkeypatch.setattr("kpi_rules.pipeline.score", never)
    result = cli("check", client, "--output", client.parent / "data.csv")
    assert result.exit_code == 2 and "KR005" in result.output


@pytest.mark.parametrize("planted", ["symlink to the data", "user's file", "folder"])
def test_a_file_at_the_old_temporary_name_is_left_alone(cli, mini_agency, tmp_path, planted):
    """The report used to be written through .NAME.tmp: a link there sent it into another file."""
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n", targets="cpl: {target: 60}")
    old_temporary = tmp_path / ".report.json.tmp"
    if planted == "symlink to the data":
        old_temporary.symlink_to("data.csv")
    elif planted == "user's file":
        old_temporary.write_text("mine")
    else:
        old_temporary.mkdir()
    before = _files(tmp_path)
    result = cli("check", client, "--format", "json", "--output", tmp_path / "report.json")
    assert result.exit_code == 0 and result.output == ""
    assert json.loads((tmp_path / "report.json").read_text())["scorecards"][0]["client"] == "Acme"
    assert _files(tmp_path) == before | {tmp_path / "report.json": (tmp_path / "report.json").read_bytes()}
    assert os.path.lexists(old_temporary)  # the link, file or folder itself: _files follows links


@pytest.mark.parametrize(
    "output, message",
    [
        (".", ".: error KR001 is a folder"),
        ("", ".: error KR001 is a folder"),
        ("/", "/: error KR001 is a folder"),
        ("missing/report.json", 'missing/report.json: error KR001 cannot write: folder "{tmp}/missing" does not exist'),
        ("r" * 256, "error KR001 cannot write: file name too long"),
    ],
)
def test_an_output_that_cannot_be_written_is_a_diagnostic(cli, mini_agency, tmp_path, monkeypatch, output, message):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n")
    monkeypatch.chdir(tmp_path)
    for command in (["check", client], ["docs", "playbook.yaml"]):
        result = cli(*command, "--output", output)
        assert result.exit_code == 2 and message.format(tmp=tmp_path) in result.output, command


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_folder_is_a_diagnostic(cli, mini_agency, tmp_path):
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = cli("check", client, "--output", locked / "report.txt")
    assert result.exit_code == 2 and "error KR001 cannot write: no permission" in result.output


def test_a_252_character_file_name_is_written(cli, mini_agency, tmp_path):
    """Its temporary file used to get a name too long for the file system."""
    client = mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,500\n", targets="cpl: {target: 60}")
    out = tmp_path / ("r" * 247 + ".json")
    result = cli("check", client, "--format", "json", "--output", out)
    assert result.exit_code == 0 and json.loads(out.read_text())["scorecards"]


def test_bad_input_exits_2_without_traceback(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("kpi-rules: 1\nclient: [unclosed\n")
    for args in (["check", str(broken)], ["validate", str(tmp_path / "missing.yaml")], ["check", str(broken), "--format", "xml"]):
        done = subprocess.run([sys.executable, "-m", "kpi_rules", *args], capture_output=True, text=True)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr + done.stdout


def test_an_internal_error_exits_3_and_asks_for_a_report(monkeypatch, capsys):
    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr("kpi_rules.pipeline.compile_clients", broken)
    monkeypatch.setattr(sys, "argv", ["kpi-rules", "check", str(EXAMPLES / "clients")])
    with pytest.raises(SystemExit) as done:
        cli_module.main()
    assert done.value.code == 3
    assert "This is a bug: please report it" in capsys.readouterr().err


def test_validate_reports_every_problem_of_every_file(cli, write):
    write("p.yaml", "kpi-rules: 1\nkpis:\n  a: {formula: b + 1}\n")
    write("c.yaml", "kpi-rules: 1\nclient: C\nplaybook: p.yaml\ngoals: [x]\ndata: d.csv\nextra: 1\n")
    result = cli("validate", write("x", "").parent)
    assert result.exit_code == 2
    assert 'unknown name "b"' in result.output and 'unknown key "extra"' in result.output


def test_list_unknown_goal(cli):
    result = cli("list", "--goal", "comunity")
    assert result.exit_code == 2 and 'did you mean "community"' in result.output


def test_check_skips_playbooks_in_folders_but_not_when_named(cli, monkeypatch):
    monkeypatch.chdir(REPO)
    whole = cli("check", "examples/", "--format", "json")
    assert whole.exit_code == 1 and len(json.loads(whole.stdout)["scorecards"]) == 3
    named = cli("check", "examples/playbook.yaml")
    assert named.exit_code == 2 and "KR004 is a playbook, not a client file" in named.output


def test_a_folder_without_client_files(cli, write):
    write("p.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    result = cli("check", write("x", "").parent)
    assert result.exit_code == 2 and "no client files found" in result.output


def test_long_values_are_shortened_in_messages(cli, write):
    client = write("c.yaml", "kpi-rules: 1\nclient: A\nplaybook: p.yaml\ngoals: {a: [" + ", ".join(["x" * 20] * 10) + "]}\ndata: d.csv\n")
    result = cli("validate", client)
    line = next(line for line in result.output.splitlines() if "goals" in line)
    assert result.exit_code == 2 and line.endswith("…") and len(line) < 200


def test_docs_kpis_md_is_up_to_date(cli):
    """docs/kpis.md is generated: run `kpi-rules docs --output docs/kpis.md` after changing rules/."""
    result = cli("docs")
    assert result.exit_code == 0
    assert result.output == (REPO / "docs" / "kpis.md").read_text(encoding="utf-8")


def test_docs_of_a_playbook_to_a_file_in_another_language(cli, tmp_path):
    output = tmp_path / "reference.md"
    result = cli("docs", EXAMPLES / "playbook.yaml", "--lang", "ru", "--output", output)
    text = output.read_text(encoding="utf-8")
    assert result.exit_code == 0 and result.output == ""
    assert text.startswith("# Northwind SMM playbook: справочник KPI\n")
    assert "| `stories` | Истории, которые вовлекают | `story_er` |" in text
    assert "| `cpl` | ≤ 60,00 (внимание ≤ 80,00) |" in text and "- **Формула**: `spend / leads`" in text


def test_a_playbook_override_wins_in_list_show_and_check(cli, mini_agency):
    client = mini_agency("date,spend,leads,fees,clicks\n2026-10-01,3000,50,1000,500\n", goals="[leads]")
    client.parent.joinpath("playbook.yaml").write_text(
        "kpi-rules: 1\nextends: [builtin:smm]\n"
        "kpis:\n  cpl: {formula: (spend + fees) / leads, label: {en: Lead price, pl: Cena leada}}\n"
    )
    listed = cli("list", client, "--goal", "leads", "--lang", "pl")
    assert "Cena leada" in listed.output and "(spend + fees) / leads" in listed.output
    shown = cli("show", "cpl", "--playbook", client)
    assert "Lead price" in shown.output and "fees (sum), leads (sum), spend (sum)" in shown.output
    report = json.loads(cli("check", client, "--format", "json").output)
    (card,) = report["scorecards"]
    cpl = next(kpi for kpi in card["kpis"] if kpi["id"] == "cpl")
    assert (report["playbooks"][card["playbook"]]["kpis"]["cpl"]["label"], cpl["value"]) == ("Lead price", 80.0)


def test_labels_fall_back_to_english_then_to_the_id(cli, write):
    playbook = write(
        "p.yaml",
        "kpi-rules: 1\nmetrics: {likes: {agg: sum}}\nkpis:\n  bare: {formula: likes}\n  english: {formula: likes, label: Likes}\n",
    )
    result = cli("list", playbook, "--lang", "de")
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines() if line.startswith("│")}
    assert rows == {"bare": "bare", "english": "Likes"}


def test_diagnostics_print_line_numbers_not_emoji(cli, write):
    lines = "".join(f"# line {n}\n" for n in range(98))
    result = cli("validate", write("p.yaml", "kpi-rules: 1\n" + lines + "kpis: {x: {formula: y}}\n"))
    assert "p.yaml:100:21: error KR201" in result.output


def test_a_reader_that_stops_early_is_not_an_error():
    """`kpi-rules check ... | head`: no traceback, no internal error."""
    command = f"{sys.executable} -m kpi_rules check {EXAMPLES / 'clients'} --format json | head -c 20"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert result.stdout.startswith('{"kpi_rules_version"') and "Traceback" not in result.stderr
