"""kpi-rules: SMM KPI playbooks as code."""

__version__ = "0.1.0"
