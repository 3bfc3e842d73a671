import pytest

from kpi_rules.diagnostics import InputError
from kpi_rules.loading import load_yaml, parse_yaml


def test_positions_are_one_based_for_keys_and_values():
    document = parse_yaml("a: 1\nb:\n  c: [x, y]\n", "t.yaml")
    assert document.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert document.position(("a",)) == (1, 4)
    assert document.position(("b", "c"), key=True) == (3, 3)
    assert document.position(("b", "c", 1)) == (3, 10)


def test_position_of_a_missing_path_falls_back_to_its_parent():
    document = parse_yaml("b:\n  c: 1\n", "t.yaml")
    assert document.position(("b", "c", "nope")) == (2, 6)


def test_duplicate_keys_are_errors_that_name_the_first_line():
    with pytest.raises(InputError) as caught:
        parse_yaml("a: 1\nb: 2\na: 3\n", "t.yaml")
    assert str(caught.value) == 't.yaml:3:1: error KR003 duplicate key "a" (first defined on line 1)'


def test_syntax_error_has_line_and_column():
    with pytest.raises(InputError) as caught:
        parse_yaml("a: [1, 2\nb: 3\n", "t.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("KR002", 2)


def test_missing_file_and_non_utf8_file(tmp_path):
    with pytest.raises(InputError, match="KR001 file not found"):
        load_yaml(tmp_path / "nope.yaml")
    (tmp_path / "cp.yaml").write_bytes("a: Привет".encode("cp1251"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml(tmp_path / "cp.yaml")


def test_empty_file_is_none():
    assert parse_yaml("", "t.yaml").data is None


def test_every_diagnostic_code_in_the_source_is_registered():
    import re
    from pathlib import Path

    from kpi_rules import diagnostics

    source = "".join(path.read_text() for path in Path(diagnostics.__file__).parent.rglob("*.py"))
    used = set(re.findall(r'"(KR\d{3})"', source))
    assert used and used <= set(diagnostics.CODES)


def test_a_complex_key_is_an_error():
    with pytest.raises(InputError, match="KR002 a key must be a plain value"):
        parse_yaml("? [a, b]\n: 1\n", "t.yaml")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("x: !!int abc\n", '"abc" is not a valid int'),
        ("x: !!bool maybe\n", '"maybe" is not a valid bool'),
        ("x: !!map abc\n", '"abc" is not a valid map'),
    ],
)
def test_a_value_its_tag_cannot_build_is_an_error_not_a_crash(text, problem):
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "t.yaml")
    assert str(caught.value) == f"t.yaml:1:4: error KR002 YAML value error: {problem}"


def test_dates_stay_as_written_for_kpi_rules_to_read():
    assert parse_yaml("until: 2026-11-30\nplan: {2026-10-01: 1}\n", "t.yaml").data == {"until": "2026-11-30", "plan": {"2026-10-01": 1}}
