"""One client file for many clients: clients: all or a list, shared goals and targets, per-client overrides."""

import pytest

from kpi_rules.diagnostics import InputError
from kpi_rules.pipeline import compile_clients, score

DATA = "date,client,spend,leads,clicks\n" + "".join(
    f"2026-10-01,{name},{spend},{leads},100\n" for name, spend, leads in (("Alpha", 3000, 50), ("Beta", 3000, 30), ("Gamma", 900, 30))
)


@pytest.fixture
def agency(write):
    """A playbook and a shared data file; returns a function writing the client file."""
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    write("all.csv", DATA)

    def client_file(body: str):
        return write("clients.yaml", "kpi-rules: 1\nplaybook: playbook.yaml\ngoals: [leads]\ndata: all.csv\ncurrency: RUB\n" + body)

    return client_file


def cpl_of(cards) -> dict:
    return {card.client: (next(k for k in card.kpis if k.id == "cpl").value, next(k for k in card.kpis if k.id == "cpl").status) for card in cards}


def test_clients_all_scores_every_client_of_the_data_with_shared_targets(agency):
    cards = list(score(compile_clients([agency("clients: all\ntargets:\n  cpl: {target: 60, warn: 80}\n")]), "2026-10"))
    assert [card.client for card in cards] == ["Alpha", "Beta", "Gamma"]
    assert cpl_of(cards) == {"Alpha": (60.0, "pass"), "Beta": (100.0, "fail"), "Gamma": (30.0, "pass")}


def test_overrides_change_one_clients_targets_goals_and_currency(agency):
    path = agency(
        "clients: all\ntargets:\n  cpl: {target: 60, warn: 80}\n"
        "overrides:\n  Beta: {targets: {cpl: {target: 120}}, currency: EUR}\n  Gamma: {goals: [traffic]}\n"
    )
    cards = {card.client: card for card in score(compile_clients([path]), "2026-10")}
    assert cpl_of([cards["Alpha"], cards["Beta"]]) == {"Alpha": (60.0, "pass"), "Beta": (100.0, "pass")}
    assert cards["Beta"].currency == "EUR" and cards["Alpha"].currency == "RUB"
    assert [goal.id for goal in cards["Gamma"].goals] == ["traffic"]


def test_a_list_of_clients_takes_only_those(agency):
    cards = score(compile_clients([agency("clients: [Gamma, Alpha]\n")]), "2026-10")
    assert [card.client for card in cards] == ["Gamma", "Alpha"]


def test_a_listed_client_missing_from_the_data(agency, check_problems):
    assert 'no data rows for client "Betta" (did you mean "Beta"?)' in check_problems([agency("clients: [Alpha, Betta]\n")])


def test_overrides_must_name_clients_of_the_file(agency, check_problems):
    with pytest.raises(InputError, match='override for "Gama", who is not in clients \\(did you mean "Gamma"\\?\\)'):
        compile_clients([agency("clients: [Alpha, Gamma]\noverrides:\n  Gama: {currency: EUR}\n")])
    assert 'no data rows for override for "Omega"' in check_problems([agency("clients: all\noverrides:\n  Omega: {currency: EUR}\n")])


@pytest.mark.parametrize("body, message", [
    ("", "give either client (one client) or clients (a list, or all)"),
    ("client: Alpha\nclients: all\n", "give either client (one client) or clients (a list, or all)"),
    ("client: Alpha\noverrides:\n  Alpha: {currency: EUR}\n", "overrides are for files with clients: (many clients)"),
    ("clients: some\n", 'clients: expected "all" or a list, got "some"'),
])
def test_client_or_clients(agency, body, message):
    with pytest.raises(InputError) as caught:
        compile_clients([agency(body)])
    assert message in str(caught.value)


def test_many_clients_need_a_client_column(write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\n")
    write("one.csv", "date,leads\n2026-10-01,5\n")
    path = write("c.yaml", "kpi-rules: 1\nclients: all\nplaybook: playbook.yaml\ngoals: [leads]\ndata: one.csv\n")
    with pytest.raises(InputError, match='no "client" column to tell the clients of .*c.yaml apart'):
        score(compile_clients([path]))


def test_a_client_in_two_files_is_an_error_and_the_first_file_keeps_it(agency, write):
    write("alpha.yaml", "kpi-rules: 1\nclient: Alpha\nplaybook: playbook.yaml\ngoals: [leads]\ndata: all.csv\n")
    path = agency("clients: all\n")
    results = score(compile_clients([path.parent / "alpha.yaml", path]), "2026-10")
    assert 'client "Alpha" is also defined in' in "\n".join(map(str, results.problems))
    assert [(card.client, card.currency) for card in results] == [("Alpha", None), ("Beta", "RUB"), ("Gamma", "RUB")]


def test_two_files_for_all_clients_are_one_problem_not_one_per_client(agency, write):
    write("again.yaml", "kpi-rules: 1\nclients: all\nplaybook: playbook.yaml\ngoals: [leads]\ndata: all.csv\n")
    path = agency("clients: all\n")
    (problem,) = score(compile_clients([path, path.parent / "again.yaml"])).problems
    assert problem.message.startswith('clients "Alpha", "Beta", "Gamma" are also defined in')


def test_a_period_outside_the_data_is_one_problem_per_file(agency):
    with pytest.raises(InputError) as caught:
        score(compile_clients([agency("clients: all\n")]), "2025-01")
    (problem,) = caught.value.diagnostics
    assert problem.message == (
        'no data for clients "Alpha", "Beta", "Gamma" in period 2025-01; the data covers 2026-10-01 to 2026-10-31'
    )
