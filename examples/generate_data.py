"""Regenerate the example data in examples/data/ (deterministic: same files every run).

Twelve months of daily data for three clients of a Russian agency:
- Coffee House (VK + Telegram): a healthy community, but sales that do not pay back;
- Fitness Studio (VK, a Russian Excel export: cp1251, ";", decimal comma): meets every target;
- Volga Industrial (B2B): missing days, daily reach (which cannot be summed to a month)
  and an October with no leads at all.

    python examples/generate_data.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

DATA = Path(__file__).parent / "data"
FIRST_DAY = dt.date(2025, 11, 1)
LAST_DAY = dt.date(2026, 10, 31)
DAILY_COLUMNS = [
    "date", "client", "channel", "posts", "likes", "comments", "shares", "impressions", "reach", "clicks",
    "site_clicks", "spend", "leads", "orders", "revenue", "fees", "content_cost", "followers", "new_followers",
    "unfollows", "mentions", "competitor_mentions",
]


def days():
    day = FIRST_DAY
    while day <= LAST_DAY:
        yield day
        day += dt.timedelta(days=1)


def around(rng: random.Random, mean: float, spread: float = 0.25) -> int:
    return max(0, round(rng.gauss(mean, mean * spread)))


def coffee_house(rng: random.Random) -> list[dict]:
    rows = []
    followers = {"vk": 8_000, "telegram": 4_000}
    for day in days():
        for channel, share in (("vk", 0.65), ("telegram", 0.35)):
            posts = 1 if rng.random() < 0.42 else 0
            new, gone = around(rng, 12 * share), around(rng, 5 * share)
            followers[channel] += new - gone
            likes = around(rng, 360 * share)
            row = {
                "date": day, "client": "Coffee House", "channel": channel, "posts": posts,
                "likes": likes, "comments": around(rng, 40 * share), "shares": around(rng, 20 * share),
                "impressions": around(rng, 9_000 * share), "clicks": around(rng, 120 * share),
                "site_clicks": around(rng, 60 * share), "spend": round(rng.gauss(2_000 * share, 150), 2),
                "orders": around(rng, 3 * share, 0.5), "new_followers": new, "unfollows": gone,
                "followers": followers[channel],
            }
            row["revenue"] = round(row["orders"] * rng.gauss(1_100, 120), 2)
            if day.day == 1 and channel == "vk":
                row["fees"], row["content_cost"] = 40_000, 15_000
            rows.append(row)
    return rows


def volga_industrial(rng: random.Random) -> list[dict]:
    rows = []
    followers = 3_000
    for day in days():
        if rng.random() < 0.06 or dt.date(2026, 10, 10) <= day <= dt.date(2026, 10, 14):
            continue  # the client's export skipped these days
        new, gone = around(rng, 15), around(rng, 4)
        followers += new - gone
        clicks = around(rng, 25)
        no_leads = day.year == 2026 and day.month == 10
        rows.append({
            "date": day, "client": "Volga Industrial", "channel": "vk", "posts": 1,
            "likes": around(rng, 40), "comments": around(rng, 4), "shares": around(rng, 3),
            "impressions": around(rng, 6_000), "reach": around(rng, 2_500), "clicks": clicks,
            "site_clicks": around(rng, 18), "spend": round(rng.gauss(2_000, 200), 2),
            "leads": 0 if no_leads else around(rng, 1.6, 0.6), "new_followers": new, "unfollows": gone,
            "followers": followers, "mentions": around(rng, 3, 0.5), "competitor_mentions": around(rng, 5, 0.4),
        })
    return rows


def fitness_studio(rng: random.Random) -> list[list[str]]:
    """A VK community export as a Russian Excel saves it."""
    header = ["Дата", "Публикации", "Лайки", "Комментарии", "Репосты", "Показы", "Подписчики", "Расход",
              "Просмотры историй", "Ответы на истории"]
    rows = [header]
    followers = 7_500
    for day in days():
        followers += around(rng, 9) - around(rng, 3)
        posts = 1 if rng.random() < 0.7 else 0
        spend = f"{rng.gauss(1_200, 100):,.2f}".replace(",", " ").replace(".", ",")
        rows.append([
            day.strftime("%d.%m.%Y"), str(posts), str(around(rng, 190)), str(around(rng, 22)), str(around(rng, 10)),
            str(around(rng, 4_000)), str(followers), spend, str(around(rng, 900)), str(around(rng, 25)),
        ])
    return rows


def monthly_reach(rng: random.Random) -> list[dict]:
    rows = []
    for month in sorted({day.replace(day=1) for day in days()}):
        rows.append({"date": month, "client": "Coffee House", "reach": around(rng, 150_000, 0.08)})
        rows.append({"date": month, "client": "Fitness Studio", "reach": around(rng, 60_000, 0.08)})
    return rows


def write_dicts(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(20261122)
    DATA.mkdir(exist_ok=True)
    write_dicts(DATA / "agency-daily.csv", DAILY_COLUMNS, coffee_house(rng) + volga_industrial(rng))
    write_dicts(DATA / "monthly-reach.csv", ["date", "client", "reach"], monthly_reach(rng))
    with (DATA / "fitness-studio-vk.csv").open("w", newline="", encoding="cp1251") as stream:
        csv.writer(stream, delimiter=";", lineterminator="\r\n").writerows(fitness_studio(rng))


if __name__ == "__main__":
    main()
