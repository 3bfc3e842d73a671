"""The yardstick: the benchmark's JSON document from one hand-written polars query, what polars itself can do.

    python benchmarks/polars_yardstick.py DATA.csv|DATA.parquet benchmarks/playbook.yaml OUT.json

It writes the document `kpi-rules check CLIENTS --period all --format json --output OUT.json` writes for the
benchmark's client file (`clients: all`, every goal of the benchmark playbook, currency RUB), byte for byte,
without importing kpi_rules: what a polars expert would write for this one fixed playbook. The 56 KPI formulas
of rules/smm are typed out below as polars expressions (with the denominators and inputs that name the reason of
a missing value); the data is scanned lazily, reading only the columns the KPIs use, and aggregated to months in
one streaming pass; the KPIs, statuses, gaps, trends, pace and scores are columns of the 33,000-row monthly
frame; each scorecard's JSON text is one concat_str, composed a chunk per core in parallel and written by polars.
The output is byte-identical to kpi-rules' (checked at the quick size, CSV and Parquet, and at 1M rows, CSV);
benchmarks/run.py compares the two documents at every size, line by line, numbers within its ROUNDED.

Read from files: the targets, goals and the playbook's name from the playbook given (benchmarks/playbook.yaml);
the KPIs' labels, units and directions from rules/smm; the version from the installed kpi-rules package's
metadata. Hard-coded, as the benchmark fixes them: the formulas, the month grain, `--period all`, the currency,
that every KPI has a fixed target (so there is no info or waived status and no plan, relative target or
waiver), that a CSV file's counts are whole numbers and that its clients come in the order of their names
(generate.py writes them so). Its semantics are kpi-rules': sums in whole millionths for money with cents (so the totals do not depend
on the order rows are added in), a stock is its value on its last day, reach only when given once at the
month's start, a zero denominator is no value, previous() needs the month before, an unfinished month is judged
on its pace (flows projected to the month's end), and the same six decimals.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import polars as pl
import yaml

RULES = Path(__file__).resolve().parent.parent / "rules" / "smm"
DECIMALS = 6
CURRENCY = "RUB"  # the benchmark's client file
GRAIN = "month"
FIXED, FIXED_ROW_VALUE = 10**6, 10**12  # whole millionths (a row's ratio: 1e-12ths), as kpi-rules adds them
NOT_FINITE = "the value is not finite (an overflow, an infinite input or the root of a negative number)"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: the rules' files parse in a tenth of the time
CHUNK_ROWS = 4_096  # scorecards composed at once: about 40 MB of text
NO_ROW_VALUE = "no data row in this period gives a value (inputs missing or a denominator 0)"

# The raw metrics the 56 KPIs read, by how a month is made of days.
COUNTS = (
    "new_followers", "unfollows", "impressions", "views", "posts", "completed_views", "likes", "comments", "shares",
    "post_reach", "ugc_posts", "hashtag_posts", "site_clicks", "contact_clicks", "clicks", "video_views", "actions",
    "leads", "orders", "revenue", "mentions", "competitor_mentions", "mentions_positive", "mentions_negative",
    "mentions_neutral", "messages_answered", "messages_received", "reply_time_total",
)  # whole numbers: summed as they are, exactly in any order
CENTS = ("spend", "fees", "content_cost")  # money with cents: summed in whole millionths
FLOWS = COUNTS + CENTS
UNIQUE_PEOPLE = ("reach", "reach_viral")  # one value a month, on its first day; never summed
STOCK = "followers"  # its value on the month's last day with one

UNFINISHED = ~pl.col("complete") & (pl.col("days_elapsed") < pl.col("days"))
PACE = pl.col("days") / pl.col("days_elapsed")

Name = Callable[[str], pl.Expr]


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Null where the denominator is 0 or null: no value, never inf or NaN."""
    return pl.when(denominator != 0).then(numerator / denominator)


@dataclass(frozen=True)
class Kpi:
    """A KPI of rules/smm typed out: its formula over a function giving each name's column, its denominators as
    written there (the reason a value is missing names the first that is 0), and whether it is a level
    (a stock, never projected over a month)."""

    formula: Callable[[Name], pl.Expr]
    over: tuple[str, ...] = ()
    stock: bool = False


def per_post(metric: str) -> Kpi:
    return Kpi(lambda v: ratio(v(metric), v("posts")), ("posts",))


def per_post_and_follower(metric: str) -> Kpi:
    return Kpi(lambda v: ratio(ratio(v(metric), v("posts")), v("followers")) * 100, ("posts", "followers"))


def share(part: str, whole: str, scale: float = 100.0, stock: bool = False) -> Kpi:
    return Kpi(lambda v: ratio(v(part), v(whole)) * scale, (whole,), stock)


def cost(per: str) -> Kpi:
    return Kpi(lambda v: ratio(v("spend"), v(per)), (per,))


def total(metric: str, stock: bool = False) -> Kpi:
    return Kpi(lambda v: v(metric), stock=stock)


# Denominators that are not a plain name.
DENOMINATORS: dict[str, Callable[[Name], pl.Expr]] = {
    "previous(followers)": lambda v: v("previous(followers)"),
    "mentions + competitor_mentions": lambda v: v("mentions") + v("competitor_mentions"),
    "mentions_positive + mentions_negative + mentions_neutral": lambda v: v("mentions_positive") + v("mentions_negative") + v("mentions_neutral"),
}
# Computed from other KPIs: these two first.
BASE_KPIS = {
    "engagements": Kpi(lambda v: v("likes") + v("comments") + v("shares")),
    "smm_cost": Kpi(lambda v: v("spend") + v("fees") + v("content_cost")),
}
KPIS = BASE_KPIS | {
    "followers": total("followers", stock=True),
    "new_followers": total("new_followers"),
    "unfollows": total("unfollows"),
    "net_follower_growth": Kpi(lambda v: v("new_followers") - v("unfollows")),
    "follower_growth_rate": Kpi(lambda v: (ratio(v("followers"), v("previous(followers)")) - 1) * 100, ("previous(followers)",), stock=True),
    "churn_rate": share("unfollows", "previous(followers)"),
    "reach": total("reach", stock=True),
    "viral_share": share("reach_viral", "reach", stock=True),
    "impressions": total("impressions"),
    "frequency": share("impressions", "reach", 1.0),
    "views_per_post": per_post("views"),
    "view_rate": per_post_and_follower("views"),
    "vtr": share("completed_views", "impressions"),
    "er": per_post_and_follower("engagements"),
    "er_day": Kpi(lambda v: ratio(ratio(v("engagements"), v("days")), v("followers")) * 100, ("days", "followers")),
    "err": share("engagements", "post_reach"),
    "er_impressions": share("engagements", "impressions"),
    "er_views": share("engagements", "views"),
    "love_rate": per_post_and_follower("likes"),
    "talk_rate": per_post_and_follower("comments"),
    "applause_rate": per_post("likes"),
    "conversation_rate": per_post("comments"),
    "amplification_rate": per_post("shares"),
    "virality_rate": share("shares", "impressions"),
    "ugc_posts": total("ugc_posts"),
    "hashtag_posts": total("hashtag_posts"),
    "site_clicks": total("site_clicks"),
    "contact_clicks": total("contact_clicks"),
    "ctr": share("clicks", "impressions"),
    "cpc": cost("clicks"),
    "cpm": share("spend", "impressions", 1000.0),
    "cpv": cost("video_views"),
    "cpf": cost("new_followers"),
    "cpa": cost("actions"),
    "leads": total("leads"),
    "cpl": cost("leads"),
    "lead_cr": share("leads", "clicks"),
    "orders": total("orders"),
    "lead_to_sale": share("orders", "leads"),
    "cpo": cost("orders"),
    "revenue": total("revenue"),
    "aov": share("revenue", "orders", 1.0),
    "roas": share("revenue", "spend", 1.0),
    "drr": share("spend", "revenue"),
    "roi": Kpi(lambda v: ratio(v("revenue") - v("smm_cost"), v("smm_cost")) * 100, ("smm_cost",)),
    "revenue_per_follower": share("revenue", "followers", 1.0),
    "mentions": total("mentions"),
    "share_of_voice": Kpi(lambda v: ratio(v("mentions"), v("mentions") + v("competitor_mentions")) * 100, ("mentions + competitor_mentions",)),
    "net_sentiment": Kpi(
        lambda v: ratio(v("mentions_positive") - v("mentions_negative"), v("mentions_positive") + v("mentions_negative") + v("mentions_neutral")) * 100,
        ("mentions_positive + mentions_negative + mentions_neutral",),
    ),
    "response_rate": share("messages_answered", "messages_received"),
    "response_time": share("reply_time_total", "messages_answered", 1.0),
    "cost_per_post": per_post("content_cost"),
}
# Means over the month's days of a ratio of each day (method mean_of_rows).
ROW_KPIS = {
    "er_avg": lambda: ratio(ratio(pl.col("likes") + pl.col("comments") + pl.col("shares"), pl.col("posts")), pl.col("followers")) * 100,
    "err_avg": lambda: ratio(pl.col("likes") + pl.col("comments") + pl.col("shares"), pl.col("post_reach")) * 100,
}


def value(kpi: str) -> str:
    return f"value:{kpi}"


def projected(kpi: str) -> str:
    return f"projected:{kpi}"


def actual(name: str) -> pl.Expr:
    """A name as a formula reads it: a metric's monthly total, a KPI's value, the month's days, previous(followers)."""
    if name in BASE_KPIS:  # the other KPIs a formula reads share their metric's name: the metric is read
        return pl.col(value(name))
    return pl.col({"previous(followers)": "previous_followers"}.get(name, name))


def at_pace(name: str) -> pl.Expr:
    """A name in an unfinished month at its pace: flows (and KPIs made of flows) scaled to the whole month."""
    if name in FLOWS:
        return pl.col(name) * PACE
    if name in BASE_KPIS:
        return pl.col(projected(name))
    return actual(name)


def read(data: Path) -> pl.LazyFrame:
    columns = ["client", "date", STOCK, *UNIQUE_PEOPLE, *FLOWS]
    if data.suffix == ".parquet":
        return pl.scan_parquet(data).select(columns)
    # Counts as whole numbers (generate.py writes them so; they parse faster than decimals), money as decimals.
    schema = {"client": pl.String, "date": pl.Date} | {name: pl.Float64 if name in CENTS else pl.Int64 for name in columns[2:]}
    return pl.scan_csv(data, schema_overrides=schema).select(columns)


def monthly(rows: pl.LazyFrame) -> pl.DataFrame:
    """One row per client and month: the metrics, the row KPIs' means, the period's facts."""
    rows = rows.with_columns(month=pl.col("date").dt.truncate("1mo"), **{f"row:{kpi}": row() for kpi, row in ROW_KPIS.items()})
    off_start = pl.col("date") != pl.col("month")
    on_last_day = pl.col("date") == pl.col("date").filter(pl.col(STOCK).is_not_null()).max()
    months = rows.group_by("client", "month").agg(
        *[pl.when(pl.col(m).count() > 0).then(pl.col(m).sum()) for m in COUNTS],
        *[pl.when(pl.col(m).count() > 0).then((pl.col(m) * FIXED).round().cast(pl.Int128).sum()).alias(m) for m in CENTS],
        pl.col(STOCK).filter(on_last_day).max(),
        *[pl.col(m).max() for m in UNIQUE_PEOPLE],
        *[pl.col(m).count().alias(f"n:{m}") for m in UNIQUE_PEOPLE],
        *[(~(pl.col(m).is_not_null() & off_start).any()).alias(f"at_start:{m}") for m in UNIQUE_PEOPLE],
        *[(pl.col(f"row:{k}") * FIXED_ROW_VALUE).round().cast(pl.Int128).sum().alias(f"sum:{k}") for k in ROW_KPIS],
        *[pl.col(f"row:{k}").count().alias(f"count:{k}") for k in ROW_KPIS],
        last_date=pl.col("date").max(),
        days_with_data=pl.col("date").n_unique(),
    )
    period_end = pl.col("month").dt.offset_by("1mo") - pl.duration(days=1)
    reached = pl.col("last_date").max().over("client")
    return (
        months.with_columns(
            *[(pl.col(m) / FIXED).alias(m) for m in CENTS],
            *[pl.col(m).cast(pl.Float64) for m in (*COUNTS, STOCK)],
            *[pl.when((pl.col(f"n:{m}") == 1) & pl.col(f"at_start:{m}")).then(pl.col(m)).cast(pl.Float64).alias(m) for m in UNIQUE_PEOPLE],
            *[_unique_people_reason(m) for m in UNIQUE_PEOPLE],
            *[pl.when(pl.col(f"count:{k}") > 0).then(pl.col(f"sum:{k}") / FIXED_ROW_VALUE / pl.col(f"count:{k}")).alias(value(k)) for k in ROW_KPIS],
            period_end=period_end,
            previous_start=pl.col("month").dt.offset_by("-1mo"),
            reached=reached,
        )
        .with_columns(
            days=(pl.col("period_end") - pl.col("month")).dt.total_days() + 1,
            days_elapsed=(pl.min_horizontal("period_end", "reached") - pl.col("month")).dt.total_days() + 1,
            complete=pl.col("period_end") <= pl.col("reached"),
        )
        .sort("client", "month")
        .collect(engine="streaming")
    )


def quoted(text: str) -> pl.Expr:
    """A reason as its JSON text: the reasons are composed as JSON from the start, ready to be written."""
    return pl.lit(json.dumps(text, ensure_ascii=False))


def _unique_people_reason(metric: str) -> pl.Expr:
    count = pl.col(f"n:{metric}")
    summed = pl.format(
        f"\"{metric} counts unique people and cannot be summed from {{}} rows (days, posts or channels): supply it once per {GRAIN}, "
        "for several channels on one row with an empty channel cell\"",
        count,
    )
    late = quoted(f"{metric} is not dated at the start of the {GRAIN}: supply it once per {GRAIN}")
    return pl.when(count > 1).then(summed).when((count == 1) & ~pl.col(f"at_start:{metric}")).then(late).alias(f"reason:{metric}")


def reason_of_name(name: str) -> pl.Expr | None:
    """Why a name's value is missing, or None when it never is."""
    if name in BASE_KPIS:
        return pl.col(f"reason:{name}")
    if name == "previous(followers)":
        return quoted("previous(followers) is unknown: no data for the period before")
    if name == "days":
        return None
    missing = quoted(f"no {name} data in this period")
    return pl.coalesce(pl.col(f"reason:{name}"), missing) if name in UNIQUE_PEOPLE else missing


def _noting(names: set[str]) -> Name:
    """``actual``, adding each name a formula reads to ``names``."""

    def read(name: str) -> pl.Expr:
        names.add(name)
        return actual(name)

    return read


def kpi_columns(kpis: dict[str, Kpi]) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The values (and projected values) of ``kpis``; then why each value is missing, read from the value."""
    values, reasons = [], []
    for kpi_id, kpi in kpis.items():
        names: set[str] = set()
        values.append(kpi.formula(_noting(names)).alias(value(kpi_id)))
        if not kpi.stock:
            values.append(pl.when(UNFINISHED).then(kpi.formula(at_pace)).alias(projected(kpi_id)))
        # As kpi-rules explains: a missing input (names in order, previous() after them), else a zero denominator.
        # (previous(followers) reads followers: a name of the formula too).
        periods = sorted(name for name in names if "(" in name)
        plain = sorted({name for name in names if "(" not in name} | {name.removeprefix("previous(")[:-1] for name in periods})
        causes = [pl.when(actual(name).is_null()).then(reason) for name in plain + periods if (reason := reason_of_name(name)) is not None]
        for text in kpi.over:
            denominator = DENOMINATORS[text](actual) if text in DENOMINATORS else actual(text)
            causes.append(pl.when(denominator == 0).then(quoted(f"{text} is 0: the ratio is undefined")))
        reasons.append(pl.when(pl.col(value(kpi_id)).is_null()).then(pl.coalesce(*causes, quoted(NOT_FINITE))).alias(f"reason:{kpi_id}"))
    return values, reasons


@dataclass(frozen=True)
class Playbook:
    name: str
    goals: dict[str, list[str]]
    targets: dict[str, dict]
    definitions: dict[str, dict]  # label, unit, better per KPI, from rules/smm

    @property
    def kpis(self) -> list[str]:
        return [kpi for kpis in self.goals.values() for kpi in kpis]


def load_playbook(path: Path) -> Playbook:
    with path.open(encoding="utf-8") as file:
        playbook = yaml.load(file, Loader=LOADER)
    definitions = {}
    for rules in sorted(RULES.glob("*.yaml")):
        with rules.open(encoding="utf-8") as file:
            for kpi_id, fields in (yaml.load(file, Loader=LOADER).get("kpis") or {}).items():
                label = fields.get("label", kpi_id)
                label = label.get("en", kpi_id) if isinstance(label, dict) else label
                definitions[kpi_id] = {"label": label, "unit": fields["unit"], "better": fields["better"]}
    goals = {goal: fields["kpis"] for goal, fields in playbook["goals"].items()}
    return Playbook(playbook["name"], goals, playbook["targets"], definitions)


STATUS_RANKS = ("fail", "warn", "no_data", "pass")  # worst first: a goal and a scorecard take their worst KPI's
POINTS = {"pass": 100.0, "warn": 50.0, "fail": 0.0}


def score(months: pl.DataFrame, playbook: Playbook) -> pl.DataFrame:
    """Values, reasons, previous values, changes, statuses (as worst-first ranks), gaps and scores."""
    follows = (pl.col("client").shift(1) == pl.col("client")) & (pl.col("month").shift(1) == pl.col("previous_start"))
    frame = months.with_columns(follows=follows.fill_null(False)).with_columns(
        previous_followers=pl.when("follows").then(pl.col(STOCK).shift(1))
    )
    for level in (BASE_KPIS, {k: v for k, v in KPIS.items() if k not in BASE_KPIS}):
        values, reasons = kpi_columns(level)
        frame = frame.with_columns(values).with_columns(reasons)
    frame = frame.with_columns(
        *[pl.when(UNFINISHED).then(value(k)).alias(projected(k)) for k in ROW_KPIS],  # a mean of rows is not scaled
        *[pl.when(pl.col(value(k)).is_null()).then(quoted(NO_ROW_VALUE)).alias(f"reason:{k}") for k in ROW_KPIS],
    )
    scored = {k: pl.coalesce(projected(k), value(k)) if k in ROW_KPIS or not KPIS[k].stock else pl.col(value(k)) for k in playbook.kpis}
    columns = []
    for kpi_id in playbook.kpis:
        target, v = playbook.targets[kpi_id], scored[kpi_id]
        previous = pl.when("follows").then(pl.col(value(kpi_id)).shift(1))
        if "min" in target:
            rank = pl.when(v.is_null()).then(2).when((v >= target["min"]) & (v <= target["max"])).then(3).otherwise(0)
            gap = pl.when(v < target["min"]).then(v - target["min"]).when(v > target["max"]).then(v - target["max"]).when(v.is_not_null()).then(0.0)
        else:
            higher = playbook.definitions[kpi_id]["better"] == "higher"
            meets_target, meets_warn = ((v >= target[bound]) if higher else (v <= target[bound]) for bound in ("target", "warn"))
            rank = pl.when(v.is_null()).then(2).when(meets_target).then(3).when(meets_warn).then(1).otherwise(0)
            gap = v - target["target"]
        columns += [
            previous.alias(f"previous:{kpi_id}"),
            pl.when(previous != 0).then((v - previous) / previous.abs()).alias(f"change:{kpi_id}"),
            rank.cast(pl.Int8).alias(f"rank:{kpi_id}"),
            gap.alias(f"gap:{kpi_id}"),
        ]
    frame = frame.with_columns(columns)
    points = {rank: POINTS[status] for rank, status in enumerate(STATUS_RANKS) if status in POINTS}
    goal_scores = [
        pl.mean_horizontal([pl.col(f"rank:{k}").replace_strict(points, default=None, return_dtype=pl.Float64) for k in kpis], ignore_nulls=True).alias(f"score:{goal}")
        for goal, kpis in playbook.goals.items()
    ]
    frame = frame.with_columns(goal_scores)
    given = [pl.col(f"score:{goal}") for goal in playbook.goals]
    counted = pl.sum_horizontal([g.is_not_null().cast(pl.Float64) for g in given])
    return frame.with_columns(score=pl.when(counted > 0).then(pl.sum_horizontal(given) / counted))


def text(column: str) -> str:
    return f"text:{column}"


def with_value_texts(scored: pl.DataFrame, playbook: Playbook) -> pl.DataFrame:
    """The values as text, and the previous values as the text of the row before (the same number):
    a quarter fewer numbers to format. On the whole frame, as a chunk's first row needs the row before."""
    scored = scored.with_columns(number(value(kpi)).alias(text(value(kpi))) for kpi in playbook.kpis)
    return scored.with_columns(
        pl.when("follows").then(pl.col(text(value(kpi))).shift(1)).otherwise(pl.lit("null")).alias(text(f"previous:{kpi}")) for kpi in playbook.kpis
    )


def number(column: str) -> pl.Expr:
    return pl.col(column).round(DECIMALS).cast(pl.String).fill_null("null")


def scorecard_line(playbook: Playbook) -> pl.Expr:
    """One scorecard's JSON text: literal parts written once, values cast to text column-wise."""
    status_text = dict(enumerate(STATUS_RANKS))

    def worst(kpis: list[str]) -> pl.Expr:
        return pl.min_horizontal([pl.col(f"rank:{k}") for k in kpis]).replace_strict(status_text, return_dtype=pl.String)

    ranks = [pl.col(f"rank:{k}") for k in playbook.kpis]
    client = pl.struct(pl.col("client").alias("c")).struct.json_encode().str.slice(5).str.strip_suffix("}")
    parts: list[pl.Expr | str] = [
        '{"client":', client, f',"playbook":{_text(playbook.name)},"currency":{_text(CURRENCY)},"period":{{"start":"',
        pl.col("month").cast(pl.String), '","end":"', pl.col("period_end").cast(pl.String),
        f'","grain":"{GRAIN}","days":', pl.col("days").cast(pl.String), ',"days_with_data":', pl.col("days_with_data").cast(pl.String),
        ',"complete":', pl.when("complete").then(pl.lit("true")).otherwise(pl.lit("false")),
        '},"status":"', worst(playbook.kpis), '","score":', number("score"), ',"summary":{',
    ]
    for index, status in enumerate(("pass", "warn", "fail", "no_data")):
        count = pl.sum_horizontal([(rank == STATUS_RANKS.index(status)).cast(pl.Int32) for rank in ranks])
        parts += [("," if index else "") + f'"{status}":', count.cast(pl.String)]
    parts.append(',"info":0,"waived":0},"goals":[')  # every KPI has a target and none is waived
    for index, (goal, kpis) in enumerate(playbook.goals.items()):
        parts += [("," if index else "") + f'{{"id":{_text(goal)},"status":"', worst(kpis), '","score":', number(f"score:{goal}"), "}"]
    parts.append('],"kpis":[')
    for index, kpi_id in enumerate(playbook.kpis):
        reason = pl.col(f"reason:{kpi_id}")
        parts += [
            ("," if index else "") + f'{{"id":{_text(kpi_id)},"value":', pl.col(text(value(kpi_id))),
            # The status and the fixed target as one text per status.
            pl.col(f"rank:{kpi_id}").replace_strict(
                {rank: f',"status":"{status}","target":{_text(playbook.targets[kpi_id])},"gap":' for rank, status in status_text.items()},
                return_dtype=pl.String,
            ),
            number(f"gap:{kpi_id}"),
            ',"reason":', reason.fill_null("null"),
            ',"previous":', pl.col(text(f"previous:{kpi_id}")), ',"change":', number(f"change:{kpi_id}"),
        ]
        if kpi_id in ROW_KPIS or not KPIS[kpi_id].stock:
            # Only an unfinished month has one (null elsewhere, which makes the whole text null): else no key.
            pace = pl.col(projected(kpi_id)).round(DECIMALS).cast(pl.String)
            parts.append(pl.concat_str(pl.lit(',"projected":'), pace).fill_null(""))
        parts.append("}")
    parts.append("]}")
    merged: list[pl.Expr | str] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in merged])


def header(playbook: Playbook) -> str:
    goals = {goal: {"label": goal, "kpis": kpis} for goal, kpis in playbook.goals.items()}
    kpis = {kpi: playbook.definitions[kpi] for kpi in playbook.kpis}
    return (
        f'{{"kpi_rules_version":{_text(version("kpi-rules"))},\n"playbooks":{_text({playbook.name: {"goals": goals, "kpis": kpis}})},\n'
        '"scorecards":[\n'
    )


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_document(scored: pl.DataFrame, playbook: Playbook, output: Path) -> None:
    """The header, a scorecard a line (a comma after each but the last) and the end. The lines are composed a
    chunk per core at once (polars runs the chunks' queries in parallel) and written in order: the text of
    the 10M rows' 330,000 scorecards (3 GB) is never held whole."""
    scored = with_value_texts(scored, playbook)
    line = pl.concat_str(scorecard_line(playbook), pl.lit(","))
    cores = len(os.sched_getaffinity(0))
    starts = range(0, len(scored), CHUNK_ROWS)
    with output.open("wb") as file:
        file.write(header(playbook).encode())
        for first in range(0, len(starts), cores):
            chunks = [scored.lazy().slice(start, CHUNK_ROWS).select(line) for start in starts[first : first + cores]]
            for lines in pl.collect_all(chunks):
                lines.write_csv(file, include_header=False, quote_style="never")
        if len(scored):
            file.seek(-2, os.SEEK_CUR)  # the last scorecard's comma and line end
            file.write(b"\n")
        file.write(b"]}\n")


def main() -> None:
    data, playbook_path, output = (Path(argument) for argument in sys.argv[1:4])
    playbook = load_playbook(playbook_path)
    write_document(score(monthly(read(data)), playbook), playbook, output)


if __name__ == "__main__":
    main()
