"""Deterministic agency data for the benchmarks: N clients x D days x the library's raw metrics.

    python benchmarks/generate.py --clients 2740 --days 365 --output work/agency.csv

Every value comes from an integer hash of (client, day, metric), so the same arguments give the same file on
any machine. The data is realistic enough to exercise every path: about 2 % of days are missing, one client in
fifty joins four months late, one in ten runs no ads (no spend, clicks or leads: their cost KPIs have no data),
some days have no posts or no leads (zero denominators), and reach and the other counts of unique people come
once a month, on its first day. The file is written streaming, so 10M rows fit in little memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

FIRST_DAY = dt.date(2025, 11, 1)
MODULUS = 2_147_483_647  # MINSTD: products stay far below 2**63, so no overflow and no dependence on polars' hash
MULTIPLIER = 48_271

# Raw metrics: name -> daily value as a function of u (a uniform draw in [0, 1)) and the client's audience size.
FLOWS = {
    "posts": lambda u, size: (u * 3).floor(),
    "likes": lambda u, size: (size * (0.004 + u * 0.02)).floor(),
    "comments": lambda u, size: (size * (0.0003 + u * 0.002)).floor(),
    "shares": lambda u, size: (size * u * 0.001).floor(),
    "saves": lambda u, size: (size * u * 0.002).floor(),
    "views": lambda u, size: (size * (0.2 + u * 0.6)).floor(),
    "video_views": lambda u, size: (size * u * 0.3).floor(),
    "completed_views": lambda u, size: (size * u * 0.08).floor(),
    "impressions": lambda u, size: (size * (0.05 + u * 0.15)).floor(),
    "clicks": lambda u, size: (size * u * 0.02).floor(),
    "site_clicks": lambda u, size: (size * u * 0.01).floor(),
    "contact_clicks": lambda u, size: (size * u * 0.002).floor(),
    "new_followers": lambda u, size: (size * u * 0.004).floor(),
    "unfollows": lambda u, size: (size * u * 0.0015).floor(),
    "leads": lambda u, size: (size * u * 0.0008).floor(),
    "actions": lambda u, size: (size * u * 0.0015).floor(),
    "orders": lambda u, size: (size * u * 0.0003).floor(),
    "revenue": lambda u, size: (size * u * 0.0003).floor() * 2500,
    "spend": lambda u, size: (size * (0.02 + u * 0.06)).round(2),
    "fees": lambda u, size: pl.lit(1500.0),
    "content_cost": lambda u, size: (300 + u * 700).round(2),
    "mentions": lambda u, size: (size * u * 0.0005).floor(),
    "mentions_positive": lambda u, size: (size * u * 0.0002).floor(),
    "mentions_negative": lambda u, size: (size * u * 0.00005).floor(),
    "mentions_neutral": lambda u, size: (size * u * 0.0002).floor(),
    "competitor_mentions": lambda u, size: (size * u * 0.001).floor(),
    "hashtag_posts": lambda u, size: (u * 4).floor(),
    "ugc_posts": lambda u, size: (u * 2).floor(),
    "messages_received": lambda u, size: (size * u * 0.0004).floor(),
    "messages_answered": lambda u, size: (size * u * 0.00035).floor(),
    "reply_time_total": lambda u, size: (size * u * 0.01).floor(),
}
# Counts of unique people: one value a month, on its first day (summing days would count people twice).
MONTHLY = {
    "reach": lambda u, size: (size * (1.5 + u * 2)).floor(),
    "reach_organic": lambda u, size: (size * (1 + u)).floor(),
    "reach_paid": lambda u, size: (size * u * 0.8).floor(),
    "reach_viral": lambda u, size: (size * u * 0.3).floor(),
    "unique_users": lambda u, size: (size * (0.3 + u * 0.4)).floor(),
    "frequency": lambda u, size: (1.5 + u * 2).round(2),
    "active_core": lambda u, size: (size * (0.02 + u * 0.05)).floor(),
}
# Each post's reach, summed over the day's posts (what err divides by): drawn with its own salt, after the others,
# so adding it left every other column as it was. Summed over a month it is well above the month's unique reach.
POST_REACH_SALT = 60
DECIMAL = {"spend", "content_cost", "fees", "frequency"}  # the rest are counts, written as whole numbers
ADS = ("spend", "clicks", "leads", "actions", "orders", "revenue", "video_views", "completed_views", "reach_paid")


def uniform(key: pl.Expr, salt: int) -> pl.Expr:
    """A deterministic draw in [0, 1) for an integer key: two rounds of the MINSTD generator."""
    state = (key * 64 + salt + 1) % MODULUS
    state = (state * MULTIPLIER) % MODULUS
    state = (state * MULTIPLIER) % MODULUS
    return state.cast(pl.Float64) / MODULUS


def agency(clients: int, days: int) -> pl.LazyFrame:
    client, day = pl.col("row") // days, pl.col("row") % days
    size = (1_000 + uniform(client, 63) * 49_000).floor()  # the client's audience
    date = pl.lit(FIRST_DAY) + pl.duration(days=day)
    first_of_month = date.dt.day() == 1
    runs_ads = uniform(client, 62) >= 0.1
    columns = {"client": pl.format("client-{}", client.cast(pl.String).str.zfill(5)), "date": date}
    for salt, (name, value) in enumerate(FLOWS.items()):
        columns[name] = value(uniform(pl.col("row"), salt), size)
    columns["post_reach"] = (columns["posts"] * size * (0.3 + uniform(pl.col("row"), POST_REACH_SALT) * 0.4)).floor()
    for salt, (name, value) in enumerate(MONTHLY.items(), start=len(FLOWS)):
        columns[name] = pl.when(first_of_month).then(value(uniform(pl.col("row"), salt), size))
    for name in ADS:
        columns[name] = pl.when(runs_ads).then(columns[name])
    columns["followers"] = size * (1 + day.cast(pl.Float64) * 0.0005)
    columns = {name: value.cast(pl.Int64) if name not in DECIMAL and name not in ("client", "date") else value for name, value in columns.items()}
    present = (uniform(pl.col("row"), 61) >= 0.02) & ~((client % 50 == 7) & (day < 120))
    rows = pl.LazyFrame({"row": pl.int_range(clients * days, eager=True, dtype=pl.Int64)})
    return rows.filter(present).select(**columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--output", type=Path, required=True, help="a .csv or .parquet file")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    frame = agency(args.clients, args.days)
    if args.output.suffix == ".parquet":
        frame.sink_parquet(args.output)
    else:
        frame.sink_csv(args.output)


if __name__ == "__main__":
    main()
