import pytest
from jsonschema import Draft202012Validator

from kpi_rules.loading import parse_yaml
from kpi_rules.schema import SCHEMA_KINDS, load_schema, validate_document


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_every_shipped_schema_is_valid_against_its_metaschema(kind):
    Draft202012Validator.check_schema(load_schema(kind))


def messages(text, kind="playbook"):
    return [str(d) for d in validate_document(parse_yaml(text, "p.yaml"), kind)]


def test_misspelled_key_points_at_the_key_and_suggests():
    assert messages("kpi-rules: 1\ntagets: {}\n") == ['p.yaml:2:1: error KR101 unknown key "tagets" (did you mean "targets"?)']


def test_nested_unknown_key_and_wrong_type():
    found = messages("kpi-rules: 1\ntargets:\n  er: {target: '3', wrn: 1}\n")
    assert 'p.yaml:3:16: error KR103 targets.er.target: expected a number, got "3"' in found
    assert 'p.yaml:3:21: error KR101 unknown key "wrn" in targets.er (did you mean "warn"?)' in found


def test_enum_suggestion_and_required_key():
    found = messages("kpi-rules: 1\nmetrics:\n  x: {agg: summ}\ngoals:\n  g: {label: G}\n")
    assert any('"summ" is not one of sum, last' in m and 'did you mean "sum"' in m for m in found)
    assert 'p.yaml:5:6: error KR102 missing required key "kpis" in goals.g' in found


def test_ids_and_language_codes():
    found = messages("kpi-rules: 1\nkpis:\n  Bad-Id: {formula: x, label: {english: X}}\n")
    assert any('"Bad-Id" in kpis is not a valid id' in m for m in found)
    assert any('"english" in kpis.Bad-Id.label is not a language code' in m for m in found)


def test_client_file_data_alternatives_report_each_bad_item():
    text = "kpi-rules: 1\nclient: X\nplaybook: p.yaml\ngoals: [a]\ndata: [{path: x, separator: ';;'}, 5]\n"
    found = messages(text, "client")
    assert len(found) == 2
    assert "data[0].separator" in found[0] and "data[1]: expected a mapping or text, got 5" in found[1]


def test_schema_enums_come_from_the_model_registries():
    from kpi_rules.model import AGGREGATIONS, METHODS

    definitions = load_schema("playbook")["$defs"]
    assert definitions["metric"]["properties"]["agg"]["enum"] == list(AGGREGATIONS)
    assert definitions["kpi"]["properties"]["method"]["enum"] == list(METHODS)


def test_a_file_that_is_not_a_mapping_is_named_without_its_content(cli, write):
    """Once: extends: [/etc/passwd] quoted the start of that file in the error (CI logs are public)."""
    secret = write("secret.txt", "root:x:0:0:secret-token\n")
    playbook = write("playbook.yaml", f"kpi-rules: 1\nextends: [{secret}]\n")
    result = cli("validate", playbook)
    assert result.exit_code == 2
    assert f"{secret}:1:1: error KR103 is not a kpi-rules file: expected a mapping of keys at the top, got text" in result.stderr
    assert "secret-token" not in result.stderr
