"""Which of a file's columns feed which metric: the source's mapping, its preset's, then the names themselves.

- The source's own ``columns`` must each be in the file (a typo is an error, with the closest header).
- A preset maps the headers a platform writes; only those the file has are used, and a
  ``{currency}`` in a preset's header ("Amount spent ({currency})") reads the currency from it.
  Its date layouts (a Day column, or Reporting starts and ends) are tried in order.
  A metric the source maps itself takes only the source's columns.
- Any other header that spells a metric id (ignoring case, surrounding spaces, and the difference
  between space, ``-`` and ``_``) feeds that metric; the remaining columns are ignored.
Several columns mapped to one metric are added up; a row has one date, client and channel (and a post one
link and one text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kpi_rules.data.files import file_problem
from kpi_rules.diagnostics import InputError, did_you_mean
from kpi_rules.model import KEY_COLUMNS, POST_COLUMNS, SourceDef

CURRENCY_PLACEHOLDER = "{currency}"
SINGLE_COLUMNS = (*KEY_COLUMNS, "date_end")


@dataclass(frozen=True)
class ColumnPlan:
    """What to take from a file: per metric (or date, date_end, client, channel) the headers that feed it."""

    feeds: dict[str, tuple[str, ...]]
    currency: str | None  # read from a header, when the preset says where
    ignored: tuple[str, ...]  # headers that feed nothing (for hints)


def normalise(header: str) -> str:
    return re.sub(r"[\s\-_]+", "_", header.strip().lower()).strip("_")


def plan_columns(source: SourceDef, headers: list[str], metric_ids: set[str]) -> ColumnPlan:
    """The plan for a file whose header is ``headers``; every problem raised together as InputError."""
    problems: list[tuple[str, str]] = []
    by_name = {normalise(header): header for header in reversed(headers)}
    feeds: dict[str, list[str]] = {}
    # A post's link and text are read from sources of posts only (a day's row has neither).
    single = (*SINGLE_COLUMNS, *POST_COLUMNS) if source.rows == "post" else SINGLE_COLUMNS
    known = metric_ids | set(single)

    own = dict(source.columns)
    if source.date_end:
        own.setdefault(source.date_end, "date_end")
    for wanted, target in own.items():
        header = wanted if wanted in headers else by_name.get(normalise(wanted))
        if header is None:
            problems.append(("KR304", f'mapped column "{wanted}" is not in the file{did_you_mean(wanted, headers)}'))
        elif target in POST_COLUMNS and target not in known:
            problems.append(("KR205", f'column "{wanted}" is mapped to {target}, which only a source of posts has: add rows: post to it'))
        elif target not in known:
            problems.append(("KR205", f'column "{wanted}" is mapped to unknown metric "{target}"{did_you_mean(target, metric_ids)}'))
        else:
            feeds.setdefault(target, []).append(header)

    if "date" not in feeds:
        # A preset's date layouts (a Day column, or Reporting starts .. Reporting ends): the first the file has.
        for layout in source.preset_dates:
            found = [(by_name.get(normalise(header)), target) for header, target in layout]
            if all(header for header, _ in found):
                for header, target in found:
                    feeds[target] = [header]
                break
    currency = None
    mapped_by_source = set(feeds)
    for pattern, target in source.preset_columns:
        for header in headers:
            found = _match(pattern, header)
            if target in mapped_by_source or found is None or header in _used(feeds):
                continue
            if found and currency not in (None, found):
                problems.append(("KR307", f'money in two currencies: "{header}" is in {found}, another column in {currency}'))
            currency = found or currency
            feeds.setdefault(target, []).append(header)

    mapped = set(feeds)  # a metric mapped by the source or its preset takes no column by its name alone
    used = _used(feeds)
    for header in headers:
        name = normalise(header)
        if header not in used and name in known and name not in mapped:
            feeds.setdefault(name, []).append(header)
    for name in set(feeds) - mapped:
        if len(feeds[name]) > 1:
            first, second = feeds[name][:2]
            problems.append(("KR306", f'columns "{first}" and "{second}" both read as {name}: map the one you mean under columns:'))

    for target in single:
        if target in mapped and len(feeds.get(target, ())) > 1:
            first, second = feeds[target][:2]
            problems.append(("KR306", f'columns "{first}" and "{second}" are both mapped to {target}: a row has one {target}'))
    for header in sorted({h for h in _used(feeds) if headers.count(h) > 1}):
        problems.append(("KR304", f'two columns are named "{header}": rename one, so that it is clear which is meant'))
    for column, _ in source.where:
        if normalise(column) not in by_name:
            problems.append(("KR304", f'where: column "{column}" is not in the file{did_you_mean(column, headers)}'))
    if "date" not in feeds:
        problems.append(("KR304", 'no "date" column' + _date_hint(source, headers)))
    if problems:
        raise InputError([file_problem(source, code, message) for code, message in problems])
    used = _used(feeds)
    return ColumnPlan({target: tuple(columns) for target, columns in feeds.items()}, currency, tuple(h for h in headers if h not in used))


def where_header(column: str, headers: list[str]) -> str:
    """The file's header a ``where`` column names (matched like metric names)."""
    return column if column in headers else next(h for h in headers if normalise(h) == normalise(column))


def _used(feeds: dict[str, list[str]]) -> set[str]:
    return {header for columns in feeds.values() for header in columns}


def _match(pattern: str, header: str) -> str | None:
    """None if ``header`` is not ``pattern``; else the currency it names ('' when the pattern has none)."""
    if CURRENCY_PLACEHOLDER not in pattern:
        return "" if normalise(pattern) == normalise(header) else None
    before, after = (normalise(part) if part.strip() else "" for part in pattern.split(CURRENCY_PLACEHOLDER, 1))
    found = re.fullmatch(re.escape(before) + r"_?([a-z]{3})_?" + re.escape(after), normalise(header))
    return found[1].upper() if found else None


def _date_hint(source: SourceDef, headers: list[str]) -> str:
    if source.format == "csv" and len(headers) == 1:
        other = next((s for s in (";", "\t", "|", ",") if s in headers[0] and s != source.separator), None)
        if other:
            return f'; the header looks separated by "{other}": add separator: "{other}" to the source'
    return did_you_mean("date", headers)
