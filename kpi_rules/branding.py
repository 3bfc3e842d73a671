"""A playbook's ``report:`` block -> ReportDef: the white label of its HTML and PDF reports.

The logo is read here, once, and kept as a data: URI: the report embeds it and fetches nothing. A layer of an
``extends`` chain may set some keys and a later layer others (an agency's base playbook names the agency, a
client team's playbook changes the colour); each logo is found relative to the file that names it.
"""

from __future__ import annotations

import base64
from pathlib import Path

from kpi_rules.diagnostics import Diagnostic
from kpi_rules.layers import Origin
from kpi_rules.loading import Document
from kpi_rules.model import ReportDef

LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml"}
# A logo is embedded in every page of a report: a large file would weigh on each of thousands of pages.
MAX_LOGO_BYTES = 2**20


def compile_report(layers: list[Document]) -> tuple[ReportDef | None, list[Diagnostic]]:
    """The report: keys of every layer, later layers winning; problems with the logo as KR216 at its line."""
    fields: dict[str, str] = {}
    logo: Origin | None = None
    for document in layers:
        block = document.data.get("report") or {}
        fields.update(block)
        if "logo" in block:
            logo = Origin(document, ("report", "logo"))
    if not fields:
        return None, []
    data_uri = None
    if logo is not None:
        data_uri, problem = _embed_logo(logo)
        if problem is not None:
            return None, [problem]
    return ReportDef(agency=fields.get("agency"), logo=data_uri, colour=fields.get("colour")), []


def _embed_logo(origin: Origin) -> tuple[str | None, Diagnostic | None]:
    written = origin.document.data["report"]["logo"]
    path = Path(origin.document.path).parent / written
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        return None, origin.diagnostic("KR216", f'report logo "{written}" is not an image kpi-rules embeds: use ' + ", ".join(LOGO_TYPES))
    try:
        with path.open("rb") as file:
            content = file.read(MAX_LOGO_BYTES + 1)
    except FileNotFoundError:
        return None, origin.diagnostic("KR216", f'report logo "{written}" not found (looked for {path})')
    except OSError as error:
        return None, origin.diagnostic("KR216", f'report logo "{written}" cannot be read: {error.strerror or error}')
    if len(content) > MAX_LOGO_BYTES:
        return None, origin.diagnostic("KR216", f'report logo "{written}" is larger than 1 MB: it is embedded in every page of a report')
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}", None
