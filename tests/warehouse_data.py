"""Data for the database source tests: the same rows as a CSV file and as a database table, and the scorecards
of both, to be compared value by value (tests/test_warehouse.py for DuckDB, test_warehouse_servers.py for
PostgreSQL and Spark).

The rows exercise every aggregation: flows in whole numbers and in money (summed as whole millionths), a stock
(last) with two values on one day, reach (agg none, once a month on a row without a channel), a median, a mean
and a max (the playbook's own metrics), a mean_of_rows KPI, two channels, a day with no posts (a zero
divisor) and a client who starts late.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import polars as pl

PLAYBOOK = """
kpi-rules: 1
name: Database test playbook
extends: [builtin:smm]
metrics:
  rating: {agg: mean, unit: count, label: {en: Rating}}
  peak_viewers: {agg: max, unit: count, label: {en: Peak viewers}}
kpis:
  mean_rating: {label: {en: Mean rating}, formula: rating, unit: count, better: higher}
  peak: {label: {en: Peak viewers}, formula: peak_viewers, unit: count, better: higher}
goals:
  mix:
    label: {en: Everything}
    kpis: [followers, reach, er, er_avg, err_unique_reach, cpc, median_response_time, mean_rating, peak]
targets:
  followers: {target: 1000, warn: 900}
  er: {target: 5, warn: 3}
  er_avg: {target: 5, warn: 3}
  cpc: {target: 2.5, warn: 3}
"""


def agency_rows() -> pl.DataFrame:
    """Two clients, two channels, October to mid-November 2026; reach on the first of each month without a channel."""
    rows = []
    first = dt.date(2026, 10, 1)
    for day in range(46):
        date = first + dt.timedelta(days=day)
        for client_number, client in enumerate(("Acme", "Bolt")):
            if client == "Bolt" and day < 10:
                continue  # Bolt starts late
            for channel_number, channel in enumerate(("vk", "tg")):
                seed = day * 7 + client_number * 3 + channel_number
                rows.append({
                    "day": date,
                    "account": client,
                    "channel": channel,
                    "posts": 0 if day == 5 else 1 + seed % 3,
                    "likes": 20 + seed % 17,
                    "comments": seed % 5,
                    "shares": seed % 3,
                    "clicks": 10 + seed % 11,
                    "spend": round(12.34 + (seed % 13) * 1.07, 2),
                    "followers": 500 + client_number * 300 + channel_number * 100 + day * 2,
                    "reply_time": float(5 + seed % 23),
                    "rating": 3.0 + (seed % 5) / 2,
                    "peak_viewers": 100 + seed % 41,
                    "reach": None,
                })
            if date.day == 1:
                rows.append({"day": date, "account": client, "channel": None, "reach": 4000 + client_number * 500 + day} | dict.fromkeys(
                    ("posts", "likes", "comments", "shares", "clicks", "spend", "followers", "reply_time", "rating", "peak_viewers")))
    frame = pl.DataFrame(rows, schema={
        "day": pl.Date, "account": pl.String, "channel": pl.String, "posts": pl.Int64, "likes": pl.Int64, "comments": pl.Int64,
        "shares": pl.Int64, "clicks": pl.Int64, "spend": pl.Float64, "followers": pl.Int64, "reply_time": pl.Float64,
        "rating": pl.Float64, "peak_viewers": pl.Int64, "reach": pl.Int64,
    })
    # Two followers counts on Acme's last vk day: the larger is taken, as from a file.
    extra = frame.filter((pl.col("account") == "Acme") & (pl.col("channel") == "vk")).tail(1).with_columns(pl.col("followers") - 7)
    return pl.concat([frame, extra])


COLUMNS = "{day: date, account: client}"


def client_file(folder: Path, data: str, period: str = "month") -> Path:
    """A client file scoring every client of ``data`` (a YAML flow mapping or a path) with the test playbook."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "playbook.yaml").write_text(textwrap.dedent(PLAYBOOK).lstrip(), encoding="utf-8")
    path = folder / "clients.yaml"
    path.write_text(
        f"kpi-rules: 1\nclients: all\nplaybook: playbook.yaml\ngoals: [mix]\nperiod: {period}\ncurrency: RUB\ndata:\n  - {data}\n",
        encoding="utf-8",
    )
    return path


def csv_client(folder: Path, frame: pl.DataFrame, period: str = "month") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_csv(folder / "rows.csv")
    return client_file(folder, f"{{path: rows.csv, columns: {COLUMNS}}}", period)


def scorecards(cli, client: Path, *options: str) -> list[dict]:
    """The scorecards of ``check --format json``: what a file and a database source must agree on."""
    result = cli("check", client, "--format", "json", "--fail-on", "never", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["scorecards"]
