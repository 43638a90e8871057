"""Which scenarios a run uses: all of them, or a seeded sample stratified by category.

The default local run (``equanimity run`` on the offline model, no ``--scenarios`` or
``--suite``) takes :data:`DEFAULT_PER_CATEGORY` scenarios per category, so the main job stays
quick as the library grows; ``--all`` runs everything. The choice is recorded in the eval's
metadata under :data:`METADATA_KEY` and shown in the run's output and the report.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from equanimity.scenarios.schema import Category, Scenario

DEFAULT_PER_CATEGORY = 12
"""Scenarios per category in the default local run."""

DEFAULT_SEED = 0
"""Seed of the default sample."""

METADATA_KEY = "equanimity_selection"
"""Eval metadata key holding :meth:`Selection.as_metadata`."""


@dataclass(frozen=True)
class Selection:
    """What a run selected from the scenarios it was given."""

    per_category: int | None
    """Scenarios per category, or None for all of them."""
    seed: int
    """Seed of the sample (unused when ``per_category`` is None)."""
    selected: int
    """Scenarios selected."""
    available: int
    """Scenarios available before selection."""

    def describe(self) -> str:
        """One line for the run's output and the report."""
        if self.per_category is None:
            return f"all {self.available} scenarios"
        return (
            f"seeded sample, up to {self.per_category} per category (seed {self.seed}): "
            f"{self.selected} of {self.available} scenarios; --all runs every one"
        )

    def as_metadata(self) -> dict[str, Any]:
        """JSON-ready form stored in the eval metadata."""
        return {**asdict(self), "description": self.describe()}


def stratified_sample(
    scenarios: Sequence[Scenario], per_category: int | None, seed: int = DEFAULT_SEED
) -> tuple[list[Scenario], Selection]:
    """Up to ``per_category`` scenarios of each category, chosen reproducibly from ``seed``.

    The same scenarios, seed and size always give the same selection, whatever the input
    order; each category draws independently, so adding scenarios to one category leaves the
    others' selection unchanged. The result keeps the input order.
    """
    if per_category is None:
        return list(scenarios), Selection(None, seed, len(scenarios), len(scenarios))
    if per_category < 1:
        raise ValueError("--sample must be at least 1")
    keep: set[str] = set()
    for cat in Category:
        ids = sorted(s.id for s in scenarios if s.category == cat)
        rng = random.Random(f"{seed}:{cat.value}")
        keep.update(ids if len(ids) <= per_category else rng.sample(ids, per_category))
    chosen = [s for s in scenarios if s.id in keep]
    return chosen, Selection(per_category, seed, len(chosen), len(scenarios))
