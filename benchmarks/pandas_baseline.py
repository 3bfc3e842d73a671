"""The baseline: the pandas script an analyst would write instead of kpi-rules.

    python benchmarks/pandas_baseline.py DATA.csv benchmarks/playbook.yaml OUT.json

Monthly KPIs and statuses for every client of a daily export, the formulas typed out by hand (as in
rules/smm/), the targets read from the benchmark playbook. It follows the same rules as kpi-rules so the
benchmark can check that both agree on every value and status: ratios of monthly totals, a zero denominator
is no value, reach counts only when given once a month on its first day, growth needs the month before,
the _avg KPIs are means over the days that have a value, a month the data has not reached the end of is judged
on its pace (its flows projected to the month's end; the values reported are the actual ones).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

RULES = Path(__file__).resolve().parent.parent / "rules" / "smm"
NON_ADDITIVE = ["reach", "reach_organic", "reach_paid", "reach_viral", "unique_users", "frequency", "active_core"]


def div(numerator, denominator):
    return numerator / denominator.where(denominator != 0)


def monthly(rows: pd.DataFrame) -> pd.DataFrame:
    rows["month"] = rows["date"].dt.to_period("M").dt.to_timestamp()
    flows = [c for c in rows.columns if c not in ("client", "date", "month", "followers", *NON_ADDITIVE)]
    keys = ["client", "month"]
    grouped = rows.groupby(keys, sort=True)
    totals = grouped[flows].sum(min_count=1)
    totals["followers"] = rows.dropna(subset=["followers"]).sort_values("date").groupby(keys)["followers"].last()
    at_start = rows["date"] == rows["month"]
    for column in NON_ADDITIVE:
        given = rows[column].notna()
        counts = given.groupby([rows["client"], rows["month"]]).sum()
        off_start = (given & ~at_start).groupby([rows["client"], rows["month"]]).any()
        value = rows[column].groupby([rows["client"], rows["month"]]).max()
        totals[column] = value.where((counts == 1) & ~off_start)
    engagements = rows["likes"] + rows["comments"] + rows["shares"]
    per_row = pd.DataFrame(
        {
            "er_avg": div(div(engagements, rows["posts"]), rows["followers"]) * 100,
            "err_avg": div(engagements, rows["post_reach"]) * 100,
            "client": rows["client"],
            "month": rows["month"],
        }
    )
    means = per_row.groupby(keys)[["er_avg", "err_avg"]].mean()
    totals = totals.join(means).reset_index()
    totals["days"] = totals["month"].dt.days_in_month
    last_day = totals["client"].map(rows.groupby("client")["date"].max())
    totals["days_elapsed"] = ((last_day - totals["month"]).dt.days + 1).clip(upper=totals["days"])
    return totals


def projected(m: pd.DataFrame) -> pd.DataFrame:
    """The months the data has not finished, their flows scaled to the whole month: value / days_elapsed x days."""
    flows = [c for c in m.columns if c not in ("client", "month", "followers", "days", "days_elapsed", "er_avg", "err_avg", *NON_ADDITIVE)]
    scaled = m.copy()
    scaled[flows] = m[flows].mul(m["days"] / m["days_elapsed"], axis=0)
    return scaled


def kpis(m: pd.DataFrame) -> pd.DataFrame:
    k = pd.DataFrame({"client": m["client"], "month": m["month"]})
    previous_month = m.groupby("client")["month"].shift(1)
    adjacent = previous_month == (m["month"] - pd.offsets.MonthBegin(1))
    previous_followers = m.groupby("client")["followers"].shift(1).where(adjacent)
    engagements = m["likes"] + m["comments"] + m["shares"]
    smm_cost = m["spend"] + m["fees"] + m["content_cost"]
    k["followers"] = m["followers"]
    k["new_followers"] = m["new_followers"]
    k["unfollows"] = m["unfollows"]
    k["net_follower_growth"] = m["new_followers"] - m["unfollows"]
    k["follower_growth_rate"] = (div(m["followers"], previous_followers) - 1) * 100  # as rules/smm: growth compounds
    k["churn_rate"] = div(m["unfollows"], previous_followers) * 100
    k["reach"] = m["reach"]
    k["viral_share"] = div(m["reach_viral"], m["reach"]) * 100
    k["impressions"] = m["impressions"]
    k["frequency"] = div(m["impressions"], m["reach"])
    k["views_per_post"] = div(m["views"], m["posts"])
    k["view_rate"] = div(div(m["views"], m["posts"]), m["followers"]) * 100
    k["vtr"] = div(m["completed_views"], m["impressions"]) * 100
    k["engagements"] = engagements
    k["er"] = div(div(engagements, m["posts"]), m["followers"]) * 100
    k["er_avg"] = m["er_avg"]
    k["er_day"] = div(engagements / m["days"], m["followers"]) * 100
    k["err"] = div(engagements, m["post_reach"]) * 100  # summed post reach (err_unique_reach is not benchmarked)
    k["err_avg"] = m["err_avg"]
    k["er_impressions"] = div(engagements, m["impressions"]) * 100
    k["er_views"] = div(engagements, m["views"]) * 100
    k["love_rate"] = div(div(m["likes"], m["posts"]), m["followers"]) * 100
    k["talk_rate"] = div(div(m["comments"], m["posts"]), m["followers"]) * 100
    k["applause_rate"] = div(m["likes"], m["posts"])
    k["conversation_rate"] = div(m["comments"], m["posts"])
    k["amplification_rate"] = div(m["shares"], m["posts"])
    k["virality_rate"] = div(m["shares"], m["impressions"]) * 100
    k["ugc_posts"] = m["ugc_posts"]
    k["hashtag_posts"] = m["hashtag_posts"]
    k["site_clicks"] = m["site_clicks"]
    k["contact_clicks"] = m["contact_clicks"]
    k["ctr"] = div(m["clicks"], m["impressions"]) * 100
    k["cpc"] = div(m["spend"], m["clicks"])
    k["cpm"] = div(m["spend"], m["impressions"]) * 1000
    k["cpv"] = div(m["spend"], m["video_views"])
    k["cpf"] = div(m["spend"], m["new_followers"])
    k["cpa"] = div(m["spend"], m["actions"])
    k["leads"] = m["leads"]
    k["cpl"] = div(m["spend"], m["leads"])
    k["lead_cr"] = div(m["leads"], m["clicks"]) * 100
    k["orders"] = m["orders"]
    k["lead_to_sale"] = div(m["orders"], m["leads"]) * 100
    k["cpo"] = div(m["spend"], m["orders"])
    k["revenue"] = m["revenue"]
    k["aov"] = div(m["revenue"], m["orders"])
    k["roas"] = div(m["revenue"], m["spend"])
    k["drr"] = div(m["spend"], m["revenue"]) * 100
    k["smm_cost"] = smm_cost
    k["roi"] = div(m["revenue"] - smm_cost, smm_cost) * 100
    k["revenue_per_follower"] = div(m["revenue"], m["followers"])
    k["mentions"] = m["mentions"]
    k["share_of_voice"] = div(m["mentions"], m["mentions"] + m["competitor_mentions"]) * 100
    sentiment = m["mentions_positive"] + m["mentions_negative"] + m["mentions_neutral"]
    k["net_sentiment"] = div(m["mentions_positive"] - m["mentions_negative"], sentiment) * 100
    k["response_rate"] = div(m["messages_answered"], m["messages_received"]) * 100
    k["response_time"] = div(m["reply_time_total"], m["messages_answered"])
    k["cost_per_post"] = div(m["content_cost"], m["posts"])
    return k


def statuses(k: pd.DataFrame, paced: pd.DataFrame, playbook: dict) -> pd.DataFrame:
    """Statuses of the values at their pace (``paced``), beside the actual values ``k``."""
    better = {}
    for path in ("audience", "reach", "engagement", "traffic", "ads-costs", "leads-and-sales", "reputation", "production"):
        with open(RULES / f"{path}.yaml", encoding="utf-8") as file:
            better |= {kpi: fields["better"] for kpi, fields in yaml.safe_load(file)["kpis"].items()}
    out = {}
    for kpi, target in playbook["targets"].items():
        value = paced[kpi]
        if "min" in target or "max" in target:
            inside = (value >= target.get("min", -np.inf)) & (value <= target.get("max", np.inf))
            status = np.where(inside, "pass", "fail")
        else:
            sign = 1 if better[kpi] == "higher" else -1  # lower is better: compare the negated values
            meets_target = sign * value >= sign * target["target"]
            meets_warn = sign * value >= sign * target.get("warn", np.nan)
            status = np.where(meets_target, "pass", np.where(meets_warn, "warn", "fail"))
        out[f"status:{kpi}"] = np.where(value.isna(), "no_data", status)
    return pd.concat([k, pd.DataFrame(out, index=k.index)], axis=1)


def main() -> None:
    data, playbook_path, output = sys.argv[1:4]
    rows = pd.read_csv(data, parse_dates=["date"])
    with open(playbook_path, encoding="utf-8") as file:
        playbook = yaml.safe_load(file)
    months = monthly(rows)
    result = statuses(kpis(months), kpis(projected(months)), playbook)
    result["month"] = result["month"].dt.strftime("%Y-%m-%d")
    result.round(6).to_json(output, orient="records")


if __name__ == "__main__":
    main()
