"""Scenario schema, loading and conversion to inspect samples."""

from equanimity.scenarios.loader import load_scenario, load_scenarios
from equanimity.scenarios.schema import Category, Expectations, Scenario, Turn

__all__ = ["Category", "Expectations", "Scenario", "Turn", "load_scenario", "load_scenarios"]
