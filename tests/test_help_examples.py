"""The analyst's commands appear in --help, and each one's own help ends with examples."""

import pytest


def test_root_help_lists_them_with_examples(cli):
    result = cli("--help")
    for text in ("forecast", "init", "schema", "kpi-rules forecast examples/", "kpi-rules init my-agency", "kpi-rules schema playbook"):
        assert text in result.stdout


@pytest.mark.parametrize("command", ["forecast", "init", "schema"])
def test_each_command_has_examples(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    examples = result.stdout.split("Examples:", 1)[1]
    assert f"kpi-rules {command} " in examples


def test_list_help_offers_metrics(cli):
    assert "--metrics" in cli("list", "--help").stdout
