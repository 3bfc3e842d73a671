"""`init`: a new agency folder that `check` scores at once: a playbook on the bundled library, a client file
with the goals asked for, and three months of sample daily data with every input those goals' KPIs read.

The data is made up (seeded, so the same day gives the same files) and dated the three whole months before
today, so that `check`'s latest period is last month. Nothing is ever overwritten: every file is created
exclusively, and when one exists nothing is written at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from pathlib import Path

from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean

LIBRARY = "builtin:smm"
BENCHMARKS = "smm-benchmarks"  # builtin:smm-benchmarks, and builtin:smm-benchmarks-PLATFORM per platform
CLIENT = "Sample Client"
MONTHS = 3
# Platforms whose exports are in roubles; the others' in US dollars.
ROUBLE_PLATFORMS = frozenset({"vk", "telegram"})
# A made-up community of about 10,000 followers: a day's mean of each flow, a month's of the values given
# once a month (reach counts unique people: never summed), and the stock's first value.
DAILY = {
    "posts": 1, "likes": 130, "comments": 14, "shares": 8, "saves": 6, "impressions": 9000, "views": 6000,
    "video_views": 1500, "completed_views": 500, "ugc_posts": 1, "hashtag_posts": 2, "clicks": 150,
    "site_clicks": 80, "contact_clicks": 10, "spend": 1500, "actions": 20, "leads": 12, "orders": 4,
    "revenue": 9000, "mentions": 6, "mentions_positive": 3, "mentions_negative": 1, "mentions_neutral": 2,
    "competitor_mentions": 9, "messages_received": 20, "messages_answered": 19, "reply_time_total": 570,
    "new_followers": 25, "unfollows": 8,
}
MONTHLY = {
    "reach": 60000, "reach_organic": 40000, "reach_paid": 20000, "reach_viral": 5000, "unique_users": 50000,
    "frequency": 2.5, "active_core": 800, "fees": 40000, "content_cost": 15000,
}
FIRST_FOLLOWERS = 10000
OTHER_DAILY = 10  # a metric the tables above do not know


@dataclass(frozen=True)
class Scaffold:
    """The files of a new folder, by path relative to it."""

    files: dict[str, str]


def library_goals() -> dict[str, str]:
    """The bundled library's goal templates: id -> label."""
    return {goal.id: goal.label() for goal in _library(LIBRARY).goals.values()}


def platforms() -> list[str]:
    from kpi_rules.resources import builtin_names

    return [name.removeprefix(f"{BENCHMARKS}-") for name in builtin_names() if name.startswith(f"{BENCHMARKS}-")]


def _library(reference: str):
    from kpi_rules.compile import Compiler

    compiler = Compiler()
    playbook = compiler.playbook(reference, Path())
    compiler.raise_if_failed()
    return playbook


def check_choices(goals: list[str], platform: str | None) -> None:
    known = library_goals()
    problems = [
        Diagnostic("--goal", None, None, "KR401", f'unknown goal "{goal}"{did_you_mean(goal, known)}; the library has: {", ".join(known)}')
        for goal in goals
        if goal not in known
    ]
    if not goals:
        problems.append(Diagnostic("--goal", None, None, "KR401", f"give one or more goals (--goal sales --goal community): {', '.join(known)}"))
    if platform is not None and platform not in platforms():
        choices = platforms()
        problems.append(
            Diagnostic("--platform", None, None, "KR401", f'unknown platform "{platform}"{did_you_mean(platform, choices)}; known: {", ".join(choices)}')
        )
    if problems:
        raise InputError(problems)


def build_scaffold(goals: list[str], platform: str | None = None, today: dt.date | None = None) -> Scaffold:
    """The three files for ``goals`` (library goal ids, checked) on ``platform``'s benchmarks, dated before ``today``."""
    check_choices(goals, platform)
    goals = list(dict.fromkeys(goals))
    benchmarks = f"builtin:{BENCHMARKS}-{platform}" if platform else f"builtin:{BENCHMARKS}"
    playbook = _library(benchmarks)
    metrics = sorted({metric for goal in goals for kpi in playbook.goals[goal].kpis for metric in playbook.inputs(kpi)})
    currency = "RUB" if platform in ROUBLE_PLATFORMS else "USD"
    slug = CLIENT.lower().replace(" ", "-")
    return Scaffold(
        {
            "playbook.yaml": _playbook_text(benchmarks, platform),
            f"clients/{slug}.yaml": _client_text(goals, currency, f"../data/{slug}.csv"),
            f"data/{slug}.csv": _sample_data(metrics, playbook.metrics, today or dt.date.today()),
        }
    )


def _playbook_text(benchmarks: str, platform: str | None) -> str:
    where = f"{platform} benchmarks" if platform else "published benchmarks"
    return f"""\
# The agency's KPI playbook: what is measured and the targets agreed by default. Client files pick goals from it.
# kpi-rules list playbook.yaml shows every KPI; kpi-rules show cpl --playbook playbook.yaml one of them.
kpi-rules: 1
name: My agency playbook
extends: [{benchmarks}]   # the bundled library with {where} as targets
# Add or override metrics, KPIs, goals and targets here, e.g.:
# kpis:
#   story_er: {{formula: story_replies / story_views * 100, unit: "%", better: higher}}
# targets:
#   cpl: {{target: 60, warn: 80}}   # better: lower -> <= 60 pass, <= 80 warn, else fail
"""


def _client_text(goals: list[str], currency: str, data: str) -> str:
    return f"""\
# One client: its goals (from the playbook), reporting period, currency and data.
kpi-rules: 1
client: {CLIENT}
playbook: ../playbook.yaml
goals: [{", ".join(goals)}]
period: month    # reach is given once a month in the sample data: keep month, or supply it per period
currency: {currency}
data: {data}    # sample data: replace it with the client's export
# targets:    # what this client agreed differently from the playbook
#   cpl: {{target: 90, warn: 120}}
"""


def _sample_data(metrics: list[str], definitions, today: dt.date) -> str:
    """A day per row over the MONTHS whole months before ``today``'s; values given once a month on its first day."""
    rng = random.Random(f"kpi-rules init {today.isoformat()}")
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _ in range(MONTHS - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", *metrics])
    followers = FIRST_FOLLOWERS
    day = start
    while day <= end:
        row = {}
        for metric in metrics:
            if metric in MONTHLY or definitions[metric].agg == "none":
                row[metric] = _around(rng, MONTHLY.get(metric, OTHER_DAILY * 30), definitions[metric].unit) if day.day == 1 else ""
            elif metric != "followers":
                row[metric] = _around(rng, DAILY.get(metric, OTHER_DAILY), definitions[metric].unit)
        if "messages_answered" in row and "messages_received" in row:
            row["messages_answered"] = min(row["messages_answered"], row["messages_received"])
        # The stock follows its flows, so that no quality check doubts it.
        followers += int(row.get("new_followers") or DAILY["new_followers"]) - int(row.get("unfollows") or DAILY["unfollows"])
        if "followers" in metrics:
            row["followers"] = followers
        writer.writerow([day.isoformat(), *(row[metric] for metric in metrics)])
        day += dt.timedelta(days=1)
    return out.getvalue()


def _around(rng: random.Random, mean: float, unit: str) -> float | int:
    value = max(0.0, rng.gauss(mean, mean * 0.2))
    if unit in ("count", ""):
        # At least one: a post a day, a message answered, so that every ratio has a denominator.
        return max(1, round(value))
    return round(value, 2)


def write_scaffold(folder: Path, scaffold: Scaffold) -> list[Path]:
    """Create every file, or none: an existing one is named (KR410) before anything is written.

    Each file is created exclusively (never over a file that appears meanwhile); if one cannot be, those
    already created are removed again.
    """
    paths = [folder / name for name in scaffold.files]
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if existing:
        raise InputError([_exists(path) for path in existing])
    created: list[Path] = []
    try:
        for path, text in zip(paths, scaffold.files.values(), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8", newline="") as file:
                created.append(path)
                file.write(text)
    except FileExistsError as error:
        _remove(created)
        raise InputError([_exists(Path(error.filename))]) from None
    except OSError as error:
        _remove(created)
        raise InputError([Diagnostic(str(error.filename or folder), None, None, "KR001", f"cannot write: {error.strerror}")]) from None
    return paths


def _exists(path: Path) -> Diagnostic:
    return Diagnostic(str(path), None, None, "KR410", "already exists: init never overwrites a file (nothing was written)")


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
