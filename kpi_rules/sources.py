"""A client file's data sources -> SourceDef: the preset merged in, the options checked.

What can be known without reading the data is reported here, so that ``validate``
catches it: an unknown preset, a file that is missing or of an unknown kind, two
columns mapped to the date, a source in another currency than the client's, an
unknown time zone.
"""

from __future__ import annotations

import codecs
import functools
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from kpi_rules.data.presets import load_preset
from kpi_rules.diagnostics import Diagnostic, did_you_mean
from kpi_rules.loading import Document, JsonPath
from kpi_rules.model import KEY_COLUMNS, SourceDef
from kpi_rules.resources import preset_names

DATA_FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".yaml": "yaml", ".yml": "yaml",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".ods": "excel",
}
# Options a preset may set and a source may override (columns are merged separately).
READ_OPTIONS = (
    "format", "encoding", "separator", "decimal", "date_format", "header_row", "sheet", "rows", "date_end", "currency", "where",
    "total_row_blank", "long", "absent",
)


def source_entries(data: dict) -> list:
    return [data["data"]] if isinstance(data["data"], str) else data["data"]


def compile_source(
    document: Document, base_dir: Path, index: int, currency: str | None, owner: JsonPath = ()
) -> tuple[SourceDef | None, list[Diagnostic]]:
    """The ``index``-th data source of a client file, and its problems; ``currency`` is the client's.

    ``owner`` is where the ``data:`` key is: the file itself, or a competitor (``("competitors", name)``).
    The client's time zone goes into every source (its timestamps are read in it); an unknown one is
    reported with the client's first source only, as it is one mistake of the file.
    """
    timezone = document.data.get("timezone")
    unknown_zone = timezone is not None and timezone not in _time_zones()
    problems = [_unknown_time_zone(document, timezone)] if unknown_zone and index == 0 and not owner else []
    section = document.data
    for key in owner:
        section = section[key]
    entry = source_entries(section)[index]
    spec: dict[str, Any] = {"path": entry} if isinstance(entry, str) else entry
    where: JsonPath = (*owner, "data") if isinstance(section["data"], str) else (*owner, "data", index)
    if "connection" in spec or "path" not in spec:
        source, found = _database_source(document, base_dir, spec, where, timezone, currency)
        return (None if unknown_zone else source), problems + found
    preset: dict[str, Any] = {}
    if "preset" in spec:
        found = load_preset(spec["preset"])
        if found is None:
            names = preset_names()
            message = f'unknown preset "{spec["preset"]}"{did_you_mean(spec["preset"], names)}; available: {", ".join(names)}'
            return None, [*problems, document.diagnostic((*where, "preset"), "KR210", message)]
        preset = found
    options = {key: spec[key] if key in spec else preset.get(key) for key in READ_OPTIONS}

    file = Path(os.path.normpath(base_dir / spec["path"]))
    data_format = options["format"] or DATA_FORMATS.get(file.suffix.lower())
    if data_format is None:
        kinds = "|".join(sorted(set(DATA_FORMATS.values())))
        problems.append(document.diagnostic(where, "KR103", f'cannot tell the format of "{spec["path"]}": add format: {kinds}'))
    elif not file.is_file():
        what = "is not a regular file" if file.exists() else "not found"
        problems.append(document.diagnostic(where, "KR001", f'data file "{spec["path"]}" {what}'))
    if options["encoding"] and not _is_text_encoding(options["encoding"]):
        at = (*where, "encoding") if "encoding" in spec else (*where, "preset")
        message = f'encoding "{options["encoding"]}" is not a text encoding Python knows: e.g. utf-8, cp1251, latin-1, utf-16'
        problems.append(document.diagnostic(at, "KR103", message))
    columns = spec.get("columns", {})
    problems += _keys_mapped_twice(document, (*where, "columns"), columns, options["date_end"])
    if options["currency"] and currency and options["currency"] != currency:
        problems.append(_other_currency(document, (*where, "currency") if "currency" in spec else (*where, "preset"), options["currency"], currency))
    if problems or unknown_zone:
        return None, problems
    return SourceDef(
        path=file,
        format=data_format,
        columns=tuple(columns.items()),
        separator=options["separator"] or ",",
        decimal=options["decimal"] or ".",
        encoding=options["encoding"] or "utf-8",
        date_format=options["date_format"],
        sheet=options["sheet"],
        header_row=options["header_row"] or 1,
        date_end=options["date_end"],
        rows=options["rows"] or "day",
        where=_row_filters(options["where"]),
        currency=options["currency"],
        preset_columns=tuple(preset.get("columns", {}).items()),
        preset_dates=tuple(tuple(layout.items()) for layout in preset.get("dates", ())),
        total_row_blank=tuple(options["total_row_blank"] or ()),
        long=(tuple(options["long"]["names"]), options["long"]["value"]) if options["long"] else None,
        timezone=timezone,
        absent=tuple(options["absent"] or ()),
    ), []


def _row_filters(where: dict | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A source's ``where:`` as (column, values kept), every value as text."""
    return tuple((column, tuple(str(v) for v in (values if isinstance(values, list) else [values]))) for column, values in (where or {}).items())


def _other_currency(document: Document, at: JsonPath, data_currency: str, currency: str) -> Diagnostic:
    message = f"the data is in {data_currency}, but the client's currency is {currency}: money is never compared across currencies"
    return document.diagnostic(at, "KR307", message)


# Ibis backends a connection URL may name, and the extra that installs each ("kpi-rules[postgres]").
DATABASE_EXTRAS = {
    "duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres", "pyspark": "pyspark",
    "clickhouse": "clickhouse", "bigquery": "bigquery", "snowflake": "snowflake", "trino": "trino",
}
# Options of files: a database's columns come typed, one row per record.
FILE_OPTIONS = ("preset", "format", "encoding", "separator", "decimal", "date_format", "header_row", "sheet", "date_end", "rows", "long", "total_row_blank")


def _database_source(
    document: Document, base_dir: Path, spec: dict, where: JsonPath, timezone: str | None, currency: str | None
) -> tuple[SourceDef | None, list[Diagnostic]]:
    """A ``connection:`` source: its connection checked as far as it can be without connecting."""
    if "connection" not in spec:
        return None, [document.diagnostic(where, "KR102", 'missing required key "path" (a data file) or "connection" (a database)')]
    problems = []
    if "path" in spec:
        problems.append(document.diagnostic((*where, "path"), "KR217", "give either path (a data file) or connection (a database), not both", key=True))
    if ("table" in spec) == ("query" in spec):
        problems.append(document.diagnostic((*where, "connection"), "KR217", "a database source takes a table: or a query: (one of them)", key=True))
    problems += [
        document.diagnostic((*where, key), "KR217", f"{key}: is an option of data files; a database's columns come typed (cast in query: where needed)", key=True)
        for key in FILE_OPTIONS
        if key in spec and not (key == "rows" and spec[key] == "day")
    ]
    connection, problem = _connection(document, base_dir, spec["connection"], (*where, "connection"))
    problems += [problem] if problem else []
    if spec.get("currency") and currency and spec["currency"] != currency:
        problems.append(_other_currency(document, (*where, "currency"), spec["currency"], currency))
    if problems:
        return None, problems
    at_line, at_column = document.position(where)
    return SourceDef(
        path=Path(connection.removeprefix("duckdb://")) if connection.startswith("duckdb://") else Path(spec["connection"]),
        format="database",
        columns=tuple(spec.get("columns", {}).items()),
        where=_row_filters(spec.get("where")),
        currency=spec.get("currency"),
        timezone=timezone,
        absent=tuple(spec.get("absent", ())),
        connection=connection,
        table=spec.get("table"),
        query=spec.get("query"),
        declared_at=(document.path, at_line, at_column),
    ), []


def _connection(document: Document, base_dir: Path, written: str, at: JsonPath) -> tuple[str, Diagnostic | None]:
    """The connection as the warehouse module opens it: env:NAME, a URL, or duckdb://<absolute path> for a
    DuckDB file (which must exist: a missing one would be created empty). A password in the file is refused."""
    if written.startswith("env:"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", written[4:]):
            return written, document.diagnostic(at, "KR217", f'"{written}": write env: and the name of an environment variable, e.g. env:KPI_WAREHOUSE')
        return written, None
    scheme, found, rest = written.partition("://")
    if found and scheme.lower() != "duckdb":
        if scheme.lower() not in DATABASE_EXTRAS:
            known = ", ".join(sorted(DATABASE_EXTRAS))
            return written, document.diagnostic(at, "KR217", f'unknown database "{scheme}"{did_you_mean(scheme, DATABASE_EXTRAS)}; known: {known}')
        if urllib.parse.urlsplit(written).password is not None:
            message = "a password written into a client file is refused (files are kept in git): put the URL in an environment variable and write connection: env:NAME"
            return written, document.diagnostic(at, "KR217", message)
        return written, None
    path = Path(os.path.normpath(base_dir / (rest if found else written)))
    if path.suffix.lower() in DATA_FORMATS:
        return written, document.diagnostic(at, "KR217", f'"{written}" is a data file: write it under path:, connection: is for a database')
    if not path.is_file():
        return written, document.diagnostic(at, "KR001", f'DuckDB file "{written}" {"is not a regular file" if path.exists() else "not found"}')
    return f"duckdb://{path}", None


@functools.cache
def _time_zones() -> frozenset[str]:
    """The IANA zones Python knows (about 600: read once). Not the names that are no place: the machine's own
    zone (a report must not depend on where it runs) or the tz database's placeholder."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})


def _unknown_time_zone(document: Document, name: str) -> Diagnostic:
    message = f'unknown time zone "{name}"{did_you_mean(name, _time_zones())}: use an IANA name such as Europe/Moscow, Asia/Almaty or UTC'
    return document.diagnostic(("timezone",), "KR211", message)


def _is_text_encoding(name: str) -> bool:
    try:
        return codecs.lookup(name)._is_text_encoding
    except LookupError:
        return False


def _keys_mapped_twice(document: Document, where: JsonPath, columns: dict[str, str], date_end: str | None) -> list[Diagnostic]:
    """A row has one date, one client, one channel: two columns mapped to one of them is an error."""
    first: dict[str, str] = {}
    if date_end:
        first["date_end"] = date_end
    problems = []
    for header, target in columns.items():
        if target in (*KEY_COLUMNS, "date_end") and first.get(target, header) != header:
            message = f'columns "{first[target]}" and "{header}" are both mapped to {target}: a row has one {target}'
            if target == "date":
                message += "; for a row covering several days map its last day to date_end"
            problems.append(document.diagnostic((*where, header), "KR306", message, key=True))
        first.setdefault(target, header)
    return problems
