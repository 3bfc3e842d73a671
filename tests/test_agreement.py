"""`docs CLIENT_FILE` and `show KPI -p CLIENT_FILE`: what a client agreed, in its language, for a contract."""

from pathlib import Path

from conftest import REPO

from kpi_rules.compile import Compiler
from kpi_rules.render.agreement import agreed_target, agreement_parties

AGREEMENTS = REPO / "tests" / "data" / "agreements"
NBSP = "\xa0"
CAFE = REPO / "tests" / "data" / "plans" / "cafe.yaml"


def compiled(path: Path):
    compiler = Compiler()
    group = compiler.client(path)
    compiler.raise_if_failed()
    return group


def test_a_clients_all_file_has_its_shared_terms_then_each_client_with_terms_of_its_own():
    parties = agreement_parties(compiled(AGREEMENTS / "agency-package.yaml"))
    assert [name for name, _ in parties] == [None, "Volga Industrial", "Coffee House"]
    shared, volga, coffee = (client for _, client in parties)
    assert [agreed_target(client, "cpl", "en") for client in (shared, volga, coffee)] == [
        "≤ 1,200.00 RUB (warn ≤ 1,600.00 RUB)",
        "≤ 1,500.00 RUB (warn ≤ 2,000.00 RUB)",
        "≤ 15.00 EUR (warn ≤ 20.00 EUR)",
    ]
    assert volga.kpis[:2] == ("followers", "net_follower_growth") and "followers" not in coffee.kpis


def test_a_list_of_clients_names_each_with_its_own_targets():
    parties = agreement_parties(compiled(AGREEMENTS / "two-shops.yaml"))
    assert [(name, agreed_target(client, "cpl", "en")) for name, client in parties] == [
        ("North Shop", "≤ 1,200.00 RUB (warn ≤ 1,600.00 RUB)"),
        ("South Shop", "≤ 900.00 RUB (warn ≤ 1,100.00 RUB)"),
    ]


def test_plans_relative_targets_and_waivers_are_stated_as_agreed():
    ((_, cafe),) = agreement_parties(compiled(CAFE))
    assert agreed_target(cafe, "followers", "en") == "plan 4,800 (2026-09-01) … 5,600 (2026-11-01); warn -5%"
    assert agreed_target(cafe, "er", "en") == "baseline +10% (warn +0%)"
    assert agreed_target(cafe, "cpl", "en") == "previous period -5%; waived until 2026-11-30: rebrand: ads paused"


def test_docs_of_a_client_file_lists_only_its_kpis_in_the_language_of_the_file(cli, tmp_path):
    output = tmp_path / "agreement.md"
    result = cli("docs", AGREEMENTS / "agency-package.yaml", "--output", output)
    text = output.read_text(encoding="utf-8")
    assert result.exit_code == 0
    assert text.startswith("# Każdy klient z danych: uzgodnione KPI i cele\n")
    row = "| [Koszt leada (CPL)](#cpl) (`cpl`) | ≤ 1 200,00 RUB (uwaga ≤ 1 600,00 RUB) | standard package | price list 2026 |"
    assert row in text.replace(NBSP, " ")
    # The playbook's other goals and KPIs are not part of the agreement.
    assert "### cpl" in text and "### er\n" not in text and "Raw metrics" not in text


def test_lang_on_the_command_line_wins_over_the_client_files(cli):
    result = cli("docs", AGREEMENTS / "agency-package.yaml", "--lang", "EN")
    assert result.output.startswith("# Every client in the data: agreed KPIs and targets\n")
    assert "`kpi-rules docs " in result.output and " --lang en`" in result.output


def test_show_with_a_client_file_gives_the_clients_target_not_the_playbooks(cli):
    result = cli("show", "cpl", "-p", AGREEMENTS / "agency-package.yaml", "--lang", "en")
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "Target: Every client in the data ≤ 1,200.00 RUB (warn ≤ 1,600.00 RUB)" in lines
    assert "Target: Coffee House ≤ 15.00 EUR (warn ≤ 20.00 EUR)" in lines
    assert "Target source: Every client in the data price list 2026" in lines


def test_show_refuses_a_kpi_the_client_did_not_agree(cli):
    result = cli("show", "er", "-p", AGREEMENTS / "two-shops.yaml")
    assert result.exit_code == 2
    assert 'error KR205 KPI "er" is not one of the KPIs this client file agreed: leads, cpl, lead_cr' in result.output
