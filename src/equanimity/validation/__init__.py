"""Measuring the scorers on labelled replies (``equanimity validate-scorers``).

``items`` holds the data model every layer shares (labelled replies, splits, predictions);
``registry`` every dataset and layer (``scorers/validation/manifest.yaml`` documents the sets);
``data_root`` where the public data is found; ``refusal_sets``, ``vera_sets``,
``written_sets`` the loaders; ``rule_layers`` and ``end_chat_layer`` the rule layers; ``rows``
and ``stats`` the figures and their intervals; ``format`` and ``table`` the renderings and the
figures file. ``rules_report`` is the older rule-layer report on ``tests/data``.
"""

from equanimity.validation.rules_report import DataError, format_report, validate_all

__all__ = ["DataError", "format_report", "validate_all"]
