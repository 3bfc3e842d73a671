"""docs/errors.md describes every diagnostic code the package has, and only those."""

import re

from conftest import REPO
from kpi_rules.diagnostics import CODES


def test_every_code_is_documented_with_an_example():
    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = re.findall(r"^### (KR\d{3}): ", text, re.MULTILINE)
    assert sorted(documented) == sorted(CODES)
    for code in CODES:
        section = text.split(f"### {code}: ", 1)[1].split("\n### ", 1)[0]
        assert re.search(rf"`[^`]*(error|warning) {code} [^`]+`", section), f"{code} has no example line"
