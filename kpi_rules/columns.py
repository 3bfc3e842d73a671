"""Names of the columns the data stages add, shared by the stages that write and read them."""

from __future__ import annotations


def reason_column(name: str) -> str:
    """Why a metric (aggregate) or a KPI (``kpi:<id>``, evaluate) has no value."""
    return f"reason:{name}"


def mean_column(name: str) -> str:
    return f"mean:{name}"


def value_column(kpi: str) -> str:
    return f"value:{kpi}"


def status_column(kpi: str) -> str:
    return f"status:{kpi}"


def gap_column(kpi: str) -> str:
    return f"gap:{kpi}"


def reason_column_of_kpi(kpi: str) -> str:
    return reason_column(f"kpi:{kpi}")


def threshold_column(kpi: str, threshold: str) -> str:
    return f"{threshold}:{kpi}"


def split_column(metric: str) -> str:
    """Whether a metric's period value has a share of a row split over days (the value is estimated)."""
    return f"split:{metric}"


def estimated_column(kpi: str) -> str:
    return f"estimated:{kpi}"


def projected_column(kpi: str) -> str:
    """An unfinished period's value at its pace: flows projected to the period's end. Null once it is over."""
    return f"projected:{kpi}"


def previous_column(kpi: str) -> str:
    """The value in the client's period before (null when the data has no such period)."""
    return f"previous:{kpi}"


def change_column(kpi: str) -> str:
    """The relative change against the period before: 0.1 is +10 % (null without a previous value, or from 0)."""
    return f"change:{kpi}"


def reference_column(kpi: str) -> str:
    """The value a relative target is measured against (baseline, previous, a competitor)."""
    return f"reference:{kpi}"


def competitors_column(kpi: str) -> str:
    """Each competitor's value in the period: a list of {name, value}, in the client file's order."""
    return f"competitors:{kpi}"


def note_column(kpi: str) -> str:
    """Something the reader should know beside the status (an expired waiver)."""
    return f"note:{kpi}"


def score_column(goal: str | None = None) -> str:
    """A goal's 0-100 score, or (no goal) the client's, weighted by goal_weights."""
    return f"score:{goal}" if goal else "score"
