"""Measuring the scorers on labelled replies (``equanimity validate-scorers``).

``items`` holds the data model every layer shares (labelled replies, splits, predictions);
``rules_report`` the rule-layer report on the refusal and referral sets.
"""

from equanimity.validation.rules_report import DataError, format_report, validate_all

__all__ = ["DataError", "format_report", "validate_all"]
