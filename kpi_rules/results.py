"""What a check found: scored frames, and plain Scorecard objects made from them on demand.

A check of thousands of clients yields tens of thousands of scorecards, so the
results stay columnar (one polars row per client and period, ``ScoredGroup``)
until a renderer asks: the table renderer iterates ``Scorecard`` objects, the
JSON renderer works on the frames. The results decide the exit code; they never print.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from kpi_rules.columns import (
    change_column,
    competitors_column,
    estimated_column,
    gap_column,
    note_column,
    previous_column,
    projected_column,
    reason_column_of_kpi,
    reference_column,
    score_column,
    status_column,
    threshold_column,
    value_column,
)
from kpi_rules.diagnostics import Diagnostic
from kpi_rules.model import GRAINS, THRESHOLDS, ClientDef, PlaybookDef

if TYPE_CHECKING:
    import polars as pl

STATUSES = ("pass", "warn", "fail", "no_data", "info", "waived")
# Worst first: a scorecard or goal takes the worst status among its KPIs. A waived KPI never fails.
SEVERITY = ("fail", "warn", "no_data", "pass", "waived", "info")
# A KPI's points in a 0-100 score; statuses not named here (no data, info, waived) are left out of it.
POINTS = {"pass": 100, "warn": 50, "fail": 0}
HISTORY = 12  # periods in a KPI's trend (the terminal's sparkline)
# --fail-on: a comma list of these; "warn" means warn or worse, as it always has.
FAIL_ON = {"fail": ("fail",), "warn": ("fail", "warn"), "no_data": ("no_data",), "info": ("info",), "never": ()}


def failing_statuses(text: str) -> tuple[str, ...]:
    """The statuses a --fail-on value names (``fail,no_data``); ValueError for an unknown one."""
    from kpi_rules.diagnostics import did_you_mean

    statuses: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if name not in FAIL_ON:
            raise ValueError(f'--fail-on: unknown status "{name}"{did_you_mean(name, FAIL_ON)}; use a comma list of {", ".join(FAIL_ON)}')
        statuses += FAIL_ON[name]
    return tuple(dict.fromkeys(statuses))


def status_type() -> pl.Enum:
    """A status column's type, worst first: a status's code is its place in SEVERITY, so that a goal's worst
    status and the summary's counts read small integers, and a row holds a code rather than a text."""
    import polars as pl

    return pl.Enum(SEVERITY)


def worst(statuses) -> str:
    present = set(statuses)
    return next((status for status in SEVERITY if status in present), "info")


@dataclass(frozen=True)
class KpiResult:
    id: str
    label: str
    value: float | None
    unit: str
    better: str
    status: str
    target: dict[str, float] | None
    gap: float | None
    reason: str | None
    estimated: bool = False  # a share of a data row was split over its days into the period
    projected: float | None = None  # an unfinished period's value at its pace; the status is of this one
    previous: float | None = None  # the value in the period before
    change: float | None = None  # against the period before: 0.1 is +10 %
    vs: str | None = None  # what a relative target is measured against: baseline, previous, a competitor...
    reference: float | None = None  # that value
    change_agreed: str | None = None  # the change the target asks for against it, as written: "+10%", "+500"
    competitors: tuple[tuple[str, float | None], ...] = ()  # each competitor's value, in the client file's order
    note: str | None = None  # e.g. an expired waiver
    history: tuple[float | None, ...] = ()  # the values of up to HISTORY periods, this one last
    target_history: tuple[float | None, ...] = ()  # a plan's or relative target's targets in those periods


@dataclass(frozen=True)
class GoalResult:
    id: str
    label: str
    kpis: tuple[str, ...]
    status: str
    score: float | None = None  # 0-100: pass 100, warn 50, fail 0; no data, info and waived left out
    weight: float = 1.0  # in the client's score (goal_weights)


@dataclass(frozen=True)
class PostResult:
    """One post of the period, with its value of the KPI that ranks the client's posts."""

    date: dt.date
    link: str | None
    text: str | None
    value: float


@dataclass(frozen=True)
class PostRanking:
    """A client's best and worst posts of a period (best first; worst first), by one KPI."""

    kpi: str
    label: str
    unit: str
    best: tuple[PostResult, ...]
    worst: tuple[PostResult, ...]


@dataclass(frozen=True)
class Scorecard:
    client: str
    playbook: str
    currency: str | None
    grain: str
    start: dt.date
    end: dt.date
    days: int
    days_with_data: int
    complete: bool
    goals: tuple[GoalResult, ...]
    kpis: tuple[KpiResult, ...]
    score: float | None = None  # the goals' scores, weighted by goal_weights
    days_elapsed: int | None = None  # of an unfinished period: the days up to the data's last day
    lang: str = "en"  # the report's language: the run's --lang, else the client file's lang:, else en
    posts: PostRanking | None = None  # where the client's data has posts with a link or text

    @property
    def status(self) -> str:
        return worst(kpi.status for kpi in self.kpis)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for kpi in self.kpis:
            counts[kpi.status] += 1
        return counts


@dataclass(frozen=True)
class ScoredGroup:
    """Clients scored alike (one playbook, grain and goals): a row per client and period, in report order.

    ``frame`` has the period columns, ``order`` (the client's place in the report) and per KPI
    the columns named in kpi_rules.columns.
    """

    frame: pl.DataFrame
    playbook: PlaybookDef
    goals: tuple[str, ...]
    kpis: tuple[str, ...]
    clients: Mapping[str, ClientDef]
    history: pl.DataFrame | None = None  # client, period_start and value:k of every period, for trends
    range_period: bool = False  # the periods are a date range's blocks of days, not the clients' grain
    posts: pl.DataFrame | None = None  # ranked posts (kpi_rules.post_ranking), of these clients and others

    @property
    def grain(self) -> str:
        """The clients' grain, or "range" for a date range scored as one period (2026-11-01..2026-11-03)."""
        return "range" if self.range_period else next(iter(self.clients.values())).grain

    def scorecards(self, lang: str | None) -> Iterator[tuple[tuple[int, int, dt.date], Scorecard]]:
        """Each row as a Scorecard, with the key that puts it in report order."""
        # A client checked by month and by week too comes once per grain, each in period order.
        grain = GRAINS.index(next(iter(self.clients.values())).grain) if self.clients else 0
        for row in self.frame.iter_rows(named=True):
            yield (row["order"], grain, row["period_start"]), self._scorecard(row, lang)

    def _scorecard(self, row: dict, lang: str | None) -> Scorecard:
        client = self.clients[row["client"]]
        # --lang given for the run overrides the client file's lang:.
        lang = lang or client.lang or "en"
        history = self._history(row)
        kpis = []
        for kpi_id in self.kpis:
            kpi = self.playbook.kpis[kpi_id]
            target = client.targets.get(kpi_id)
            kpis.append(
                KpiResult(
                    id=kpi_id,
                    label=kpi.label(lang),
                    value=row[value_column(kpi_id)],
                    unit=kpi.unit,
                    better=kpi.better,
                    status=row[status_column(kpi_id)],
                    target=_thresholds(row, kpi_id),
                    gap=row[gap_column(kpi_id)],
                    reason=row[reason_column_of_kpi(kpi_id)],
                    estimated=bool(row.get(estimated_column(kpi_id))),
                    projected=row.get(projected_column(kpi_id)),
                    previous=row.get(previous_column(kpi_id)),
                    change=row.get(change_column(kpi_id)),
                    vs=target.vs if target else None,
                    reference=row.get(reference_column(kpi_id)),
                    change_agreed=str(target.change) if target and target.change else None,
                    competitors=tuple((item["name"], item["value"]) for item in row.get(competitors_column(kpi_id)) or ()),
                    note=row.get(note_column(kpi_id)),
                    history=history.get(kpi_id, ()),
                    target_history=history.get(threshold_column(kpi_id, "target"), ()),
                )
            )
        statuses = {kpi.id: kpi.status for kpi in kpis}
        goals = tuple(
            GoalResult(
                goal.id, goal.label(lang), goal.kpis, worst(statuses[k] for k in goal.kpis),
                row.get(score_column(goal.id)), client.goal_weights.get(goal.id, 1.0),
            )
            for goal in (self.playbook.goals[goal_id] for goal_id in self.goals)
        )
        return Scorecard(
            client=client.name,
            playbook=self.playbook.name,
            currency=client.currency,
            grain=self.grain,
            start=row["period_start"],
            end=row["period_end"],
            days=row["days"],
            days_with_data=row["days_with_data"],
            complete=row["complete"],
            goals=goals,
            kpis=tuple(kpis),
            score=row.get(score_column()),
            days_elapsed=row.get("days_elapsed") if _unfinished(row) else None,
            lang=lang,
            posts=self._posts(row, client, lang),
        )

    def _posts(self, row: dict, client: ClientDef, lang: str) -> PostRanking | None:
        if self.posts is None or client.posts_rank_by is None:
            return None
        ranked = self._ranked_posts.get((row["group"], row["client"], row["period_start"]))
        if not ranked:
            return None
        kpi = self.playbook.kpis[client.posts_rank_by]
        best = tuple(post for is_best, post in ranked if is_best)
        worst = tuple(post for is_best, post in ranked if not is_best)
        return PostRanking(kpi.id, kpi.label(lang), kpi.unit, best, worst)

    @cached_property
    def _ranked_posts(self) -> dict[tuple[int, str, dt.date], list[tuple[bool, PostResult]]]:
        """The ranked posts by client file, client and period: at most 2 x RANKED rows per scorecard."""
        posts: dict[tuple[int, str, dt.date], list[tuple[bool, PostResult]]] = {}
        if self.posts is None:
            return posts
        shown = self.posts.join(self.frame.select("group", "client", "period_start"), on=["group", "client", "period_start"], how="semi")
        for row in shown.iter_rows(named=True):
            post = PostResult(row["date"], row["link"], row["text"], row["value"])
            posts.setdefault((row["group"], row["client"], row["period_start"]), []).append((row["best"], post))
        return posts

    def _history(self, row: dict) -> dict[str, tuple[float | None, ...]]:
        """Each KPI's values (by id) and varying targets (by target column) in up to HISTORY of the client's
        periods, this one last."""
        return self._trends.get((row["client"], row["period_start"]), {})

    @cached_property
    def _trends(self) -> dict[tuple[str, dt.date], dict[str, tuple[float | None, ...]]]:
        """The history of every shown scorecard at once, column-wise: asked for only when a table is rendered."""
        if self.history is None:
            return {}
        import polars as pl

        # Keyed by KPI id for the values, by target column for the targets pipeline kept (plans, relative).
        series = {kpi: value_column(kpi) for kpi in self.kpis if value_column(kpi) in self.history.columns}
        series |= {column: column for kpi in self.kpis if (column := threshold_column(kpi, "target")) in self.history.columns}
        back = [
            pl.concat_list([pl.col(column).shift(HISTORY - 1 - i).over("client") for i in range(HISTORY)]).alias(key)
            for key, column in series.items()
        ]
        trends = (
            self.history.sort("client", "period_start", maintain_order=True)
            .with_columns(*back, periods=pl.int_range(1, pl.len() + 1).over("client").clip(upper_bound=HISTORY))
            .join(self.frame.select("client", "period_start"), on=["client", "period_start"], how="semi")
        )
        # Before the client's first period there is nothing to show, not a gap.
        return {
            (row["client"], row["period_start"]): {key: tuple(row[key][HISTORY - row["periods"] :]) for key in series}
            for row in trends.iter_rows(named=True)
        }


def _unfinished(row: dict) -> bool:
    """A period the data has not reached the end of: checked on its pace (kpi_rules.pacing)."""
    return not row["complete"] and row.get("days_elapsed") is not None and row["days_elapsed"] < row["days"]


def _thresholds(row: dict, kpi_id: str) -> dict[str, float] | None:
    """The thresholds in force for the row's period (a plan's differ by period)."""
    thresholds = {name: row[column] for name in THRESHOLDS if (column := threshold_column(kpi_id, name)) in row and row[column] is not None}
    return thresholds or None


@dataclass(frozen=True)
class Results:
    """Every scorecard of a check; iterating gives Scorecard objects in report order (client, then period)."""

    groups: tuple[ScoredGroup, ...]
    lang: str | None = "en"  # --lang; None: each client file's lang: (else en)
    problems: tuple[Diagnostic, ...] = ()  # errors of the client files left out, and warnings
    over_time: bool = False  # several periods were asked for (--period all, 2026-Q3 by month): a KPI x period view suits

    def __len__(self) -> int:
        return sum(group.frame.height for group in self.groups)

    def __iter__(self) -> Iterator[Scorecard]:
        keyed = [item for group in self.groups for item in group.scorecards(self.lang)]
        return iter(card for _, card in sorted(keyed, key=lambda item: item[0]))

    def blocks(self, size: int) -> Iterator[tuple[ScoredGroup, int, int]]:
        """(group, first row, row count) of at most ``size`` scorecards, in report order: clients in the order they
        came, a client's periods together. Renderers of many scorecards work a block at a time."""
        import polars as pl

        per_client = [
            # Only the column needed: a row index beside hundreds of columns cut in blocks copies them all.
            group.frame.select("order").with_row_index("row")
            .group_by("order", maintain_order=True)
            .agg(start=pl.col("row").first(), length=pl.len())
            .with_columns(group=pl.lit(index))
            for index, group in enumerate(self.groups)
        ]
        if not per_client:
            return
        runs: list[list[int]] = []  # [group, start, length], neighbouring clients of a group merged
        for group, start, length in pl.concat(per_client).sort("order").select("group", "start", "length").iter_rows():
            last = runs[-1] if runs else None
            if last and last[0] == group and last[1] + last[2] == start and last[2] + length <= size:
                last[2] += length
            else:
                runs.append([group, start, length])
        for group, start, length in runs:
            for offset in range(0, length, size):
                yield self.groups[group], start + offset, min(size, length - offset)

    def exit_code(self, failing: tuple[str, ...]) -> int:
        """1 when any KPI has one of the ``failing`` statuses (see failing_statuses), else 0."""
        import polars as pl

        return int(
            any(
                group.frame.select(pl.any_horizontal(pl.col(status_column(k)).is_in(list(failing)) for k in group.kpis).any()).item()
                for group in self.groups
                if group.kpis and failing
            )
        )
