"""Regression comparison of two runs of the same scenarios: paired tests, flips, reports."""
