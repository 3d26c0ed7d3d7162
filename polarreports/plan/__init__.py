"""Plan: a report definition bound to its parameters and its data's columns."""

from polarreports.plan.build import build_plan
from polarreports.plan.model import BandPlan, Cell, ReportPlan

__all__ = ["BandPlan", "Cell", "ReportPlan", "build_plan"]
