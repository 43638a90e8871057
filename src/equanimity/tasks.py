"""inspect tasks: which scenarios × which scorers form a suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from inspect_ai import Task, task
from inspect_ai.util import DisplayType

from equanimity.provenance import METADATA_KEY as PROVENANCE_KEY
from equanimity.provenance import scorer_provenance
from equanimity.scenarios.dataset import needs_user_model, scenarios_dataset
from equanimity.scenarios.loader import library_paths as library_paths  # (re-exported)
from equanimity.scenarios.loader import load_scenarios
from equanimity.scenarios.selection import DEFAULT_SEED, METADATA_KEY, stratified_sample
from equanimity.scorers.judge import AUDIT_RATE
from equanimity.scorers.simulated_user import simulated_user
from equanimity.scorers.suite import default_scorers
from equanimity.solvers.end_offer import check_end_offer
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


def build_task(
    categories: str | list[str] | None = None,
    scenarios: str | list[str] | None = None,
    branches: bool = True,
    name: str = "suite",
    sample: int | None = None,
    seed: int = DEFAULT_SEED,
    end_offer: str = "tool",
    simulated_users: bool = False,
    user_cache: bool = False,
    judge_audit_rate: float = AUDIT_RATE,
) -> Task:
    """Build a replay task over the scenario library (or other scenario paths).

    With ``sample``, at most that many scenarios per category are taken, chosen reproducibly
    from ``seed`` (:func:`~equanimity.scenarios.selection.stratified_sample`); the selection
    is recorded in the task metadata under ``equanimity_selection``. ``end_offer`` is the
    exit-offer mode (``tool``, ``tag``, ``none``), recorded in every sample's metadata.
    Simulated-user scenarios that need a user model run only with ``simulated_users`` (a
    ``user`` role is bound); ``user_cache`` caches their user turns. ``judge_audit_rate``: the
    seeded share of all turns a bound judge also rates (judge-rule agreement).
    """
    mode = check_end_offer(end_offer)
    paths: list[str | Path] = list(_as_list(scenarios) or library_paths())
    loaded = load_scenarios(paths, categories=_as_list(categories))
    if not loaded:
        raise ValueError(f"no scenarios matched (paths: {paths}, categories: {categories})")
    kept = [s for s in loaded if simulated_users or not needs_user_model(s)]
    if not kept:
        raise ValueError(
            f"all {len(loaded)} matched scenario(s) need a simulated user: bind one with "
            "--model-role user=PROVIDER/MODEL (offline: user=equanimity/reference-user)"
        )
    chosen, selection = stratified_sample(kept, sample, seed)
    dataset = scenarios_dataset(chosen, name=name, branches=branches, simulated_users=True)
    for item in dataset:
        if item.metadata is not None:
            item.metadata["end_offer"] = mode
    scorers = default_scorers(audit_rate=judge_audit_rate)
    if any(s.simulated_user is not None for s in chosen):
        scorers.append(simulated_user())
    return Task(
        dataset=dataset,
        solver=replay_scenario(mode, user_cache=user_cache),
        scorer=scorers,
        name=name,
        version=1,
        metadata={
            # what decides every score, so compare and gate can refuse two runs scored
            # differently; `equanimity run` replaces it with one that names the bound grader
            PROVENANCE_KEY: scorer_provenance(),
            METADATA_KEY: selection.as_metadata(),
            "end_offer": mode,
            "simulated_users_skipped": len(loaded) - len(kept),
            # so `rescore` rebuilds the scorers with this run's audit share
            "judge_audit_rate": judge_audit_rate,
        },
    )


@task
def suite(
    categories: str | list[str] | None = None,
    scenarios: str | list[str] | None = None,
    branches: bool = True,
    sample: int | None = None,
    seed: int = DEFAULT_SEED,
    end_offer: str = "tool",
    simulated_users: bool = False,
    user_cache: bool = False,
    judge_audit_rate: float = AUDIT_RATE,
) -> Task:
    """The full equanimity suite: every shipped scenario (filter with ``-T categories=a,b``).

    Args:
        categories: Comma-separated categories to keep (default: all).
        scenarios: Comma-separated scenario files or folders (default: the shipped library).
        branches: Also replay each scenario's edited branch after an end (B9).
        sample: At most this many scenarios per category, a seeded sample (default: all).
        seed: Seed of that sample.
        end_offer: How ``end_conversation`` is offered: tool, tag or none (the control).
        simulated_users: Run the simulated-user scenarios (bind ``--model-role user=...``).
        user_cache: Cache the simulated user's turns (same replies give the same turns).
        judge_audit_rate: Share of all turns a bound judge also rates, seeded
            (agreement is measured on them; the rule still decides those it is sure of).

    """
    return build_task(
        categories,
        scenarios,
        branches,
        name="suite",
        sample=sample,
        seed=seed,
        end_offer=end_offer,
        simulated_users=simulated_users,
        user_cache=user_cache,
        judge_audit_rate=judge_audit_rate,
    )


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
