"""schema: prints the published schemas (schemas/ in the repository) byte for byte; the examples validate
against what it prints; the editor comments in the examples point at those files."""

import json
import re

import pytest
import yaml
from conftest import REPO
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from kpi_rules.resources import schema_names

PUBLISHED = REPO / "schemas"
EDITOR_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def test_the_choices_are_the_published_schemas():
    assert schema_names() == sorted(path.name.removesuffix(".schema.json") for path in PUBLISHED.glob("*.schema.json"))
    assert {"playbook", "client", "scorecard"} <= set(schema_names())


@pytest.mark.parametrize("name", schema_names())
def test_prints_the_published_file(cli, name):
    result = cli("schema", name)
    assert result.exit_code == 0
    assert result.stdout == (PUBLISHED / f"{name}.schema.json").read_text(encoding="utf-8")


def test_unknown_schema(cli):
    result = cli("schema", "clinet")
    assert result.exit_code == 2
    assert result.stderr.startswith('schema: error KR401 unknown schema "clinet" (did you mean "client"?); there are: client, playbook')


@pytest.fixture(scope="module")
def printed_validators():
    """Validators built from the command's own output, the schemas referring to each other by their $id."""
    from typer.testing import CliRunner

    from kpi_rules.cli import app

    schemas = {name: json.loads(CliRunner().invoke(app, ["schema", name]).stdout) for name in schema_names()}
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    return {name: Draft202012Validator(schema, registry=registry) for name, schema in schemas.items()}


def _errors(validator, document) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


def test_the_examples_validate_against_the_printed_schemas(printed_validators, cli, monkeypatch):
    playbook = yaml.safe_load((REPO / "examples" / "playbook.yaml").read_text(encoding="utf-8"))
    assert _errors(printed_validators["playbook"], playbook) == []
    for path in sorted((REPO / "examples" / "clients").glob("*.yaml")):
        assert _errors(printed_validators["client"], yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path
    monkeypatch.chdir(REPO)
    report = json.loads(cli("check", "examples/clients", "--format", "json", "--period", "all").stdout)
    assert report["scorecards"] and _errors(printed_validators["scorecard"], report) == []


def test_a_wrong_document_does_not_validate(printed_validators):
    """The check above would pass with empty schemas: these must fail."""
    assert _errors(printed_validators["playbook"], {"kpi-rules": 1, "tagets": {}})
    assert _errors(printed_validators["client"], {"kpi-rules": 1, "client": "X", "playbook": "p.yaml", "goals": ["a"], "data": 5})


def test_editor_comments_point_at_the_published_schemas(printed_validators):
    """Every example file names its schema for yaml-language-server (VS Code and others), and that is the right one."""
    files = [REPO / "examples" / "playbook.yaml", *sorted((REPO / "examples" / "clients").glob("*.yaml"))]
    for path in files:
        (target,) = EDITOR_COMMENT.findall(path.read_text(encoding="utf-8"))
        schema = (path.parent / target).resolve()
        assert schema.parent == PUBLISHED and schema.is_file(), path
        kind = schema.name.removesuffix(".schema.json")
        assert _errors(printed_validators[kind], yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path
