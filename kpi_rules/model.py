"""The frozen model compile builds from validated YAML: what a playbook and a client mean.

``*Def`` classes are parsed configuration; nothing here reads files or prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from kpi_rules.diagnostics import Diagnostic
from kpi_rules.formulas import ParsedFormula
from kpi_rules.i18n import N_

GRAINS = ("day", "week", "month", "quarter", "year")
# The columns of a data row that are not metrics.
KEY_COLUMNS = ("date", "client", "channel")
# A post's own columns (sources with rows: post): read as text, shown beside the best and worst posts.
POST_COLUMNS = ("link", "text")
# How a metric rolls up to the reporting period. Feeds docs; the schema's enum is tested against it.
AGGREGATIONS = {
    "sum": N_("summed (a flow)"),
    "last": N_("the last value of the period (a stock)"),
    "first": N_("the first value of the period"),
    "mean": N_("the mean of the period's values"),
    "min": N_("the smallest value of the period"),
    "max": N_("the largest value of the period"),
    "median": N_("the median of the period's rows (every channel's together)"),
    "none": N_("never rolled up: supplied once per period (unique people)"),
}
# How a KPI's formula meets the data: on the period's totals (ratio of sums), or on every
# input row (post or day) and then averaged (mean of ratios).
METHODS = {
    "ratio_of_totals": N_("the formula is evaluated on the period's totals (ratio of sums)"),
    "mean_of_rows": N_("the formula is evaluated on every data row (post or day), then averaged over the period"),
}
THRESHOLDS = ("target", "warn", "min", "max")
# Names every formula may use besides metrics and KPIs: facts about the period itself.
PERIOD_NAMES = {
    "days": N_("days in the reporting period"),
    "days_elapsed": N_("days of the period up to the data's last day (all its days once the period is over)"),
    "days_with_data": N_("days in the period with at least one data row"),
}
# Names a metric or KPI cannot take: a data row's keys and the period's facts would be shadowed.
RESERVED_NAMES = frozenset({*KEY_COLUMNS, *POST_COLUMNS, "date_end", "date_time", *PERIOD_NAMES})


def label_text(labels: Mapping[str, str], lang: str, fallback: str) -> str:
    """The label in ``lang``, else English, else ``fallback`` (never empty)."""
    return labels.get(lang) or labels.get("en") or fallback


class _Labelled:
    """Definitions with an ``id`` and per-language ``labels``."""

    id: str
    labels: Mapping[str, str]

    def label(self, lang: str = "en") -> str:
        return label_text(self.labels, lang, self.id)


def kpis_named(names: Iterable[str], kpis: Collection[str], metrics: Collection[str]) -> list[str]:
    """The KPIs among a formula's names, sorted. A name that is both a metric and a KPI (leads) means the metric."""
    return sorted(name for name in names if name in kpis and name not in metrics)


def varying_kpis(clients: Iterable[ClientDef]) -> set[str]:
    """The KPIs whose target varies by period for some of ``clients`` (a plan or a relative target). Clients of
    one file without overrides share their targets: each set is looked at once, not 2,740 clients x 56 KPIs."""
    target_sets = {id(client.targets): client.targets for client in clients}.values()
    return {kpi for targets in target_sets for kpi, target in targets.items() if target.planned or target.vs}


def kpis_used(kpis: Mapping[str, KpiDef], metrics: Collection[str], roots: Iterable[str]) -> set[str]:
    """``roots`` and every KPI their formulas use, however deep."""
    found: set[str] = set()
    pending = list(roots)
    while pending:
        kpi = pending.pop()
        if kpi not in found:
            found.add(kpi)
            pending += kpis_named(kpis[kpi].formula.names, kpis, metrics)
    return found


@dataclass(frozen=True)
class MetricDef(_Labelled):
    id: str
    agg: str
    labels: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""
    description: str = ""
    source: str = ""


@dataclass(frozen=True)
class KpiDef(_Labelled):
    id: str
    formula: ParsedFormula
    labels: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""
    better: str = "higher"
    description: str = ""
    source: str = ""
    method: str = "ratio_of_totals"
    serves: tuple[str, ...] = ()  # the goals it can serve (a goal's own list decides what is scored)


@dataclass(frozen=True)
class GoalDef(_Labelled):
    id: str
    kpis: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Change:
    """A change against a reference value: ``+10%`` (percent, 10.0) or ``+500`` (an absolute amount)."""

    amount: float
    percent: bool

    def applied_to(self, reference: float) -> float:
        return reference * (1 + self.amount / 100) if self.percent else reference + self.amount

    def __str__(self) -> str:
        return f"{self.amount:+g}{'%' if self.percent else ''}"


@dataclass(frozen=True)
class PlanPoint:
    """A planned value for one period of the client's grain (``2026-10: 5200``)."""

    start: dt.date
    end: dt.date
    value: float


@dataclass(frozen=True)
class TargetDef:
    """Thresholds read in the KPI's ``better`` direction, or a band of min/max.

    Besides fixed thresholds, a target may be planned per period (``plan``: a value per period; ``line``: the
    two ends of a straight line ``from``..``to``) or relative (``vs`` a reference value, ``change`` against it).
    ``warn_change`` is a ``warn:`` written as a change: against the plan, or against the same reference.
    """

    target: float | None = None
    warn: float | None = None
    min: float | None = None
    max: float | None = None
    note: str = ""
    source: str = ""
    currency: str | None = None  # of a money target: never compared with another currency
    plan: tuple[PlanPoint, ...] = ()  # in period order, never overlapping
    line: tuple[PlanPoint, PlanPoint] | None = None  # from, to
    vs: str | None = None  # baseline | previous | best_competitor | competitors_mean | a competitor's name
    change: Change | None = None
    warn_change: Change | None = None

    def as_dict(self) -> dict[str, float]:
        """The fixed thresholds that are set."""
        return {key: getattr(self, key) for key in THRESHOLDS if getattr(self, key) is not None}

    @property
    def planned(self) -> bool:
        return bool(self.plan) or self.line is not None


@dataclass(frozen=True)
class WaiverDef:
    """A KPI's target set aside until a day (inclusive), for a reason the client agreed."""

    until: dt.date
    reason: str


@dataclass(frozen=True)
class ReportDef:
    """A playbook's ``report:`` block, the white label of its HTML and PDF reports."""

    agency: str | None = None  # the agency's name, in the report's header
    logo: str | None = None  # the logo file's content as a data: URI (the report fetches nothing)
    colour: str | None = None  # the accent colour, #rrggbb


@dataclass(frozen=True)
class PlaybookDef:
    """A playbook with its ``extends`` chain merged in; KPIs in dependency order."""

    name: str
    path: str
    metrics: Mapping[str, MetricDef]
    kpis: Mapping[str, KpiDef]
    goals: Mapping[str, GoalDef]
    targets: Mapping[str, TargetDef]
    files: tuple[str, ...] = ()  # every layer of the extends chain, the bundled library's included
    report: ReportDef | None = None  # white label of the HTML report: the last layer's report: block

    def inputs(self, kpi_id: str) -> list[str]:
        """The raw metrics a KPI reads, through the KPIs its formula uses, sorted."""
        used = kpis_used(self.kpis, self.metrics, [kpi_id])
        return sorted({name for kpi in used for name in self.kpis[kpi].formula.names if name in self.metrics})

    def is_stock(self, kpi_id: str) -> bool:
        """Whether a KPI reads only stocks (followers): a level at a moment, never projected over a period."""
        inputs = self.inputs(kpi_id)
        return bool(inputs) and all(self.metrics[metric].agg != "sum" for metric in inputs)

    def goals_of(self, kpi_id: str) -> list[str]:
        """The goals a KPI serves or is listed in, in playbook order."""
        serves = self.kpis[kpi_id].serves
        return [goal.id for goal in self.goals.values() if kpi_id in goal.kpis or goal.id in serves]


@dataclass(frozen=True)
class SourceDef:
    """One data file (or database table) of a client, with how to read it (a preset's settings already merged in)."""

    path: Path  # a database source's connection as written (for messages): a DuckDB file, a URL or env:NAME
    format: str  # csv | parquet | json | yaml | excel | database
    columns: tuple[tuple[str, str], ...] = ()  # header -> metric, date, date_end, client or channel
    separator: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    date_format: str | None = None
    sheet: str | int | None = None  # Excel: a sheet's name, or its number (1 is the first)
    header_row: int = 1  # the line (CSV) or row (Excel) of the header, 1-based
    date_end: str | None = None  # the column with each row's last day
    rows: str = "day"  # what a row is: day, week, month or post
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # keep rows whose column has one of the values
    currency: str | None = None
    preset_columns: tuple[tuple[str, str], ...] = ()  # the preset's mapping: used for the headers the file has
    preset_dates: tuple[tuple[tuple[str, str], ...], ...] = ()  # the preset's date layouts: the first the file has
    total_row_blank: tuple[str, ...] = ()  # columns all blank on a total row
    long: tuple[tuple[str, ...], str] | None = None  # a long table: the columns naming each value, and the value's
    timezone: str | None = None  # the client's: timestamps are converted to it, then cut to dates
    absent: tuple[str, ...] = ()  # metrics the platform has no such action for: 0 on every row of the file
    # A database source (format database): its connection (duckdb:///file, a URL or env:NAME), and a table or a query.
    connection: str | None = None
    table: str | None = None
    query: str | None = None
    # Where the client file declares it: a database source's problems are reported there (file, line, column).
    # Not compared: client files sharing a table query it once.
    declared_at: tuple[str, int | None, int | None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ClientDef:
    name: str
    path: str
    playbook: PlaybookDef
    goals: tuple[str, ...]
    grain: str
    sources: tuple[SourceDef, ...]
    targets: Mapping[str, TargetDef]
    currency: str | None = None
    baseline: tuple[dt.date, dt.date] | None = None  # the first and last day of the baseline periods
    competitors: tuple[tuple[str, tuple[SourceDef, ...]], ...] = ()  # name -> data, in the file's order
    waivers: Mapping[str, WaiverDef] = field(default_factory=dict)
    goal_weights: Mapping[str, float] = field(default_factory=dict)  # goal -> weight in the score (default 1)
    timezone: str | None = None  # IANA name: timestamps are converted to it before periods are cut
    lang: str | None = None  # the language of the client's reports (lower case); --lang overrides it
    posts_rank_by: str | None = None  # the KPI that ranks the client's posts in reports (None: no ranking)

    @cached_property
    def kpis(self) -> tuple[str, ...]:
        """The KPIs this client is scored on: its goals' KPIs, each once, in goal order."""
        return tuple(dict.fromkeys(kpi for goal in self.goals for kpi in self.playbook.goals[goal].kpis))


@dataclass(frozen=True)
class ClientOverrideDef:
    """What one client of a group has agreed differently; unset fields keep the group's."""

    goals: tuple[str, ...] | None = None
    targets: Mapping[str, TargetDef] = field(default_factory=dict)
    currency: str | None = None


@dataclass(frozen=True)
class ClientGroupDef:
    """A client file: one client, or many sharing goals and targets (an agency's standard package).

    ``names`` is None for ``clients: all``: every client the data has, known once its rows are aggregated.
    """

    path: str
    names: tuple[str, ...] | None
    template: ClientDef  # the shared settings; its name is replaced per client
    overrides: Mapping[str, ClientOverrideDef] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()  # found compiling the file
    data_at: tuple[int | None, int | None] = (None, None)  # line and column of its data: key
    competitor: bool = False  # a competitor of a client file's clients: its data has only the figures it publishes

    @property
    def playbook(self) -> PlaybookDef:
        return self.template.playbook

    @cached_property
    def kpis(self) -> tuple[str, ...]:
        """Every KPI a client of the file may be scored on: the shared goals' and the overrides'."""
        goal_sets = [self.template.goals, *(override.goals for override in self.overrides.values() if override.goals)]
        return tuple(dict.fromkeys(kpi for goals in goal_sets for goal in goals for kpi in self.playbook.goals[goal].kpis))

    def client(self, name: str) -> ClientDef:
        override = self.overrides.get(name)
        if override is None:
            return replace(self.template, name=name)
        return replace(
            self.template,
            name=name,
            goals=override.goals or self.template.goals,
            targets={**self.template.targets, **override.targets},
            currency=override.currency or self.template.currency,
        )
