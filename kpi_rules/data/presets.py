"""Platform export presets: data, not code (rules/presets/NAME.yaml).

A preset holds the options of a data source that read one platform's export as
it comes; compile merges them under the source's own options. No polars here:
validate reads presets too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kpi_rules.diagnostics import InputError
from kpi_rules.loading import load_yaml
from kpi_rules.resources import preset_path

# The preset's keys that describe the export rather than how to read it.
ABOUT_KEYS = ("kpi-rules-preset", "name", "label", "description", "sources")


@cache
def load_preset(name: str) -> dict[str, Any] | None:
    """The preset's reading options (``columns`` included), or None when there is no such preset.

    A bundled preset that does not validate is a bug of the project, not of the user's files.
    """
    from kpi_rules.schema import validate_document

    path = preset_path(name)
    if path is None:
        return None
    document = load_yaml(path)
    problems = validate_document(document, "preset")
    if problems:
        raise InputError(problems)
    return {key: value for key, value in document.data.items() if key not in ABOUT_KEYS}

