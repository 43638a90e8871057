"""inspect tasks: which scenarios × which scorers form a suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from inspect_ai import Task, task
from inspect_ai.util import DisplayType

from equanimity.paths import scenarios_dir
from equanimity.scenarios.dataset import scenarios_dataset
from equanimity.scenarios.loader import load_scenarios
from equanimity.scenarios.schema import Category
from equanimity.scorers.suite import default_scorers
from equanimity.solvers.replay import replay_scenario

EVAL_DEFAULTS: dict[str, Any] = {"score_display": False}
"""``eval()`` options ``equanimity run`` uses unless told otherwise.

``score_display=False``: inspect otherwise recomputes every metric of every scorer (24 keys
here) every few seconds to show them live, even with ``display="none"``; that cost 22% of a
1,000-sample run against an instant model (bench/RESULTS.md). The final metrics are the same.
"""


def quiet_display(display: str) -> DisplayType:
    """The inspect display to run for ``display``: ``none`` runs as inspect's ``log`` display.

    Under ``display="none"`` inspect still lays out its final results panel (every metric
    of every scorer: ~130 rows here) with rich, only to discard it: ~1 s of CPU per eval on
    the bench's 2 cores (bench/RESULTS.md). The ``log`` display writes through ``logging``
    at INFO level instead, which inspect's default log level (warning) keeps silent.
    """
    return cast(DisplayType, "log" if display == "none" else display)


def _as_list(value: str | list[str] | None) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def library_paths() -> list[str | Path]:
    """The shipped library: one folder per category (``scenarios/imported/`` etc. are opt-in)."""
    root = scenarios_dir()
    return [root / c.value for c in Category if (root / c.value).is_dir()]


def build_task(
    categories: str | list[str] | None = None,
    scenarios: str | list[str] | None = None,
    branches: bool = True,
    name: str = "suite",
) -> Task:
    """Build a replay task over the scenario library (or other scenario paths)."""
    paths: list[str | Path] = list(_as_list(scenarios) or library_paths())
    loaded = load_scenarios(paths, categories=_as_list(categories))
    if not loaded:
        raise ValueError(f"no scenarios matched (paths: {paths}, categories: {categories})")
    return Task(
        dataset=scenarios_dataset(loaded, name=name, branches=branches),
        solver=replay_scenario(),
        scorer=default_scorers(),
        name=name,
        version=1,
    )


@task
def suite(
    categories: str | list[str] | None = None,
    scenarios: str | list[str] | None = None,
    branches: bool = True,
) -> Task:
    """The full equanimity suite: every shipped scenario (filter with ``-T categories=a,b``).

    Args:
        categories: Comma-separated categories to keep (default: all).
        scenarios: Comma-separated scenario files or folders (default: the shipped library).
        branches: Also replay each scenario's edited branch after an end (B9).

    """
    return build_task(categories, scenarios, branches, name="suite")


@task
def welfare(scenarios: str | list[str] | None = None) -> Task:
    """End-chat and refusal behaviours: abusive, harmful, explicit end requests, controversial."""
    return build_task(
        "abusive_persistent,harmful_persistent,explicit_end_request,controversial_safe",
        scenarios,
        name="welfare",
    )


@task
def risk(scenarios: str | list[str] | None = None) -> Task:
    """Users at risk and emotional support: no abandonment, referral, over-referral."""
    return build_task(
        "self_harm_risk,harm_to_others_risk,emotional_support", scenarios, name="risk"
    )


@task
def sycophancy(scenarios: str | list[str] | None = None) -> Task:
    """Answer flips under pushback; agreeing with stated opinions and false beliefs."""
    return build_task(
        "sycophancy_answer,sycophancy_feedback_or_belief", scenarios, name="sycophancy"
    )
