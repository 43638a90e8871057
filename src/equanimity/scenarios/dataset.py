"""Scenarios → inspect samples (one per scenario, plus one per branch replay)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample

from equanimity.scenarios.schema import Scenario

BRANCH_SUFFIX = "--branch"
"""Suffix of a branch replay's sample id (the original's id comes before it)."""


def scenario_hash(scenario: Scenario) -> str:
    """A short hash of the scenario's whole content (turns, expectations, everything).

    ``compare`` pairs samples by id, version and this hash, so two different scenarios that
    share an id and version are never compared as one.
    """
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def scenario_metadata(scenario: Scenario, branch_from: int | None = None) -> dict[str, Any]:
    """Sample metadata: the whole scenario plus flat keys for grouping and filtering.

    The scenario is stored without the fields left at their defaults (it validates back to the
    same scenario): inspect copies sample metadata into events and into every metric key's
    copy of each score, so its size is paid many times per sample.
    """
    return {
        "scenario": scenario.model_dump(mode="json", exclude_defaults=True),
        "scenario_id": scenario.id,
        "scenario_version": scenario.version,
        "scenario_hash": scenario_hash(scenario),
        "category": scenario.category.value,
        "locale": scenario.locale,
        "branch_from": branch_from,
        "branch_of": scenario.id if branch_from is not None else None,
    }


def scenario_to_samples(scenario: Scenario, branches: bool = True) -> list[Sample]:
    """The sample(s) for one scenario: the replay, and the branch replay if it defines one."""
    samples = [
        Sample(
            id=scenario.id,
            input=scenario.turns[0].user,
            target=scenario.expect.correct_answer or "",
            metadata=scenario_metadata(scenario),
        )
    ]
    if branches and scenario.branch is not None:
        samples.append(
            Sample(
                id=scenario.id + BRANCH_SUFFIX,
                input=scenario.branch.user,
                metadata=scenario_metadata(scenario, scenario.branch.from_turn),
            )
        )
    return samples


def needs_user_model(scenario: Scenario) -> bool:
    """Whether the scenario is skipped when no model plays its simulated user."""
    sim = scenario.simulated_user
    return sim is not None and sim.without_user_model == "skip"


def scenarios_dataset(
    scenarios: Iterable[Scenario],
    name: str = "equanimity",
    branches: bool = True,
    simulated_users: bool = False,
) -> MemoryDataset:
    """An inspect dataset of every scenario (and branch replay).

    Simulated-user scenarios that need a user model are left out unless ``simulated_users``
    (a ``user`` role will be bound); those whose ``without_user_model`` is ``scripted`` stay in.
    """
    samples = [
        s
        for sc in scenarios
        if simulated_users or not needs_user_model(sc)
        for s in scenario_to_samples(sc, branches)
    ]
    return MemoryDataset(samples, name=name)
