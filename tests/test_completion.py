"""Shell completion (typer's --install-completion and --show-completion): the scripts for bash, zsh and fish,
and completion itself: commands, options, and a schema's name from the schemas/ folder."""

import pytest
from typer.testing import CliRunner

from kpi_rules.cli import app


def _run(monkeypatch, args, **env):
    # Without detection --show-completion takes the shell as its value (with it, the shell running us is used).
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, args, prog_name="kpi-rules", catch_exceptions=False)


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o default -F _kpi_rules_completion kpi-rules"), ("zsh", "#compdef kpi-rules"), ("fish", "complete --command kpi-rules")])
def test_show_completion_prints_the_script(monkeypatch, shell, marker):
    result = _run(monkeypatch, ["--show-completion", shell])
    assert result.exit_code == 0
    assert marker in result.stdout and "_KPI_RULES_COMPLETE" in result.stdout


def test_help_offers_completion(cli):
    assert "--install-completion" in cli("--help").stdout


def test_bash_completes_commands_options_and_schema_names(monkeypatch):
    def complete(words: str) -> list[str]:
        parts = words.split(" ")
        result = _run(monkeypatch, [], _KPI_RULES_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
        assert result.exit_code == 0
        return result.stdout.split()

    assert complete("kpi-rules sch") == ["schema"]
    assert complete("kpi-rules fo") == ["forecast"]
    assert complete("kpi-rules forecast client.yaml --bu") == ["--budget"]
    assert complete("kpi-rules schema pl") == ["playbook"]
    assert complete("kpi-rules schema s") == ["scorecard"]
