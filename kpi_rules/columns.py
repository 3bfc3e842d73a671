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
