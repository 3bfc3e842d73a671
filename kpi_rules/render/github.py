"""GitHub Actions workflow commands: an annotation per KPI that needs a look.

One line per fail (``::error``), warn (``::warning``) and no_data (``::notice``), titled "client · period · kpi"
and attached to the client file. pass, info and waived say nothing. Values are escaped as the runner unescapes
them (docs.github.com, "Workflow commands for GitHub Actions", and the runner's ``CommandStringExtensions``):
% \\r \\n in the message, and : , as well in a property's value.
"""

from __future__ import annotations

from typing import IO

import polars as pl

from kpi_rules.render.csv import kpi_rows
from kpi_rules.render.junit import describe, period_name
from kpi_rules.results import Results

COMMANDS = {"fail": "error", "warn": "warning", "no_data": "notice"}


def render_github(results: Results, stream: IO[str]) -> None:
    files = {name: client.path for group in results.groups for name, client in group.clients.items()}
    rows = kpi_rows(results).filter(pl.col("status").is_in(list(COMMANDS)))
    for row in rows.iter_rows(named=True):
        title = f"{row['client']} · {period_name(row)} · {row['kpi']}"
        if row["status"] == "no_data":
            message = f"{row['label']}: no data: {row['reason'] or 'no value'}"
        else:
            message = f"{row['status']}: {describe(row, long=True)}"
        properties = f"file={escape_property(files[row['client']])},title={escape_property(title)}"
        stream.write(f"::{COMMANDS[row['status']]} {properties}::{escape_data(message)}\n")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
