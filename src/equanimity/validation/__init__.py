"""Measuring the scorers on labelled replies (``equanimity validate-scorers``).

``items`` holds the data model every layer shares (labelled replies, splits, predictions);
``registry`` every dataset and layer (``scorers/validation/manifest.yaml`` documents the sets);
``data_root`` where the public data is found; ``refusal_sets``, ``vera_sets``,
``written_sets`` and ``sycophancy_sets`` the loaders; ``rule_layers``, ``end_chat_layer`` and
``sycophancy_layers`` the layers; ``rows`` and ``stats`` the figures and their intervals;
``format`` and ``table`` the renderings and the figures file.
"""

from equanimity.validation.readers import DataError

__all__ = ["DataError"]
