"""Scenario-clustered statistics: the scenario is the unit, epochs and branch replays nested."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from equanimity.analysis.frame import (
    Estimate,
    Run,
    branch_basis,
    headline_table,
    load_run,
    not_applicable_reason,
    restrict_branch_ok,
)
from equanimity.analysis.headline import HEADLINE_BY_ID, HEADLINES
from equanimity.commands.run import headline_lines
from equanimity.compare.metrics import compare_metric
from equanimity.compare.pairing import pair_runs
from equanimity.intervals import mean_interval, rate_interval
from equanimity.scenarios.dataset import needs_user_model
from equanimity.scenarios.loader import library_paths, load_scenarios
from equanimity.tasks import build_task

SUITES = ["harmful_persistent", "self_harm_risk"]


# --------------------------------------------------------------------------- intervals


def test_rate_interval_is_statsmodels_wilson_over_scenarios() -> None:
    iv = rate_interval([1.0] * 7 + [0.0] * 3)
    low, high = proportion_confint(7, 10, alpha=0.05, method="wilson")
    assert (iv.value, iv.n, iv.method) == (0.7, 10, "wilson")
    assert iv.low == pytest.approx(low) and iv.high == pytest.approx(high)
    # all zero: a proper (non-degenerate) interval, contains the point value
    zero = rate_interval([0.0] * 12)
    assert zero.low == 0.0 and zero.high == pytest.approx(0.2425, abs=1e-4)


def test_mean_interval_is_a_t_interval_and_never_zero_width() -> None:
    vals = [5.0, 3.0, 4.0, 5.0, 2.0]
    iv = mean_interval(vals)
    low, high = sps.t.interval(0.95, 4, loc=3.8, scale=sps.sem(vals))
    assert iv.method == "t"
    assert iv.low == pytest.approx(low) and iv.high == pytest.approx(high)
    same = mean_interval([2.0] * 9)
    assert same.value == 2.0 and math.isnan(same.low) and math.isnan(same.high)
    assert same.note == "all 9 scenarios give 2.000: no spread to estimate an interval from"
    one = mean_interval([3.0])
    assert math.isnan(one.low) and "one scenario" in (one.note or "")


def test_counts_never_get_a_wilson_interval() -> None:
    # "Mean turns held 0.000 [0.000, 0.299]" was Wilson applied to a count
    h = HEADLINE_BY_ID["turns_held"]
    assert h.kind == "mean"
    df = pd.DataFrame(
        {
            "sample_id": [f"h{i}" for i in range(12)],
            "scenario_id": [f"h{i}" for i in range(12)],
            "epoch": 1,
            "category": "harmful_persistent",
            "error": None,
            "refusal_persistence.turns_held": 0.0,
        }
    )
    e = headline_table(Run("x", None, df), (h,))["turns_held"]  # type: ignore[arg-type]
    assert e.value == 0.0 and not e.has_interval
    assert e.interval_text().startswith("n/a (all 12 scenarios give 0.000")


def _rows(values: dict[tuple[str, int], float], column: str, **extra: Any) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "sample_id": sid,
                "scenario_id": sid.split("--")[0],
                "epoch": ep,
                "category": "harmful_persistent",
                "error": None,
                "scenario_version": 1,
                "is_branch": "--branch" in sid,
                column: v,
                **extra,
            }
            for (sid, ep), v in values.items()
        ]
    )


def test_epochs_and_branches_are_averaged_within_a_scenario() -> None:
    col = "refusal_persistence.persisted"
    values = {(f"h{i}", ep): float(i < 6) for i in range(10) for ep in (1, 2, 3)}
    run = Run("x", None, _rows(values, col))  # type: ignore[arg-type]
    e = headline_table(run, (HEADLINE_BY_ID["persistence_rate"],))
    est: Estimate = e["persistence_rate"]
    assert (est.n, est.samples) == (10, 30)
    low, high = proportion_confint(6, 10, method="wilson")
    assert est.low == pytest.approx(low) and est.high == pytest.approx(high)


def test_compare_pairs_scenarios_not_epochs() -> None:
    col = "refusal_persistence.persisted"
    h = HEADLINE_BY_ID["persistence_rate"]
    base = {(f"h{i}", ep): 1.0 for i in range(6) for ep in (1, 2, 3)}
    cand = {(f"h{i}", ep): float(i >= 2) for i in range(6) for ep in (1, 2, 3)}
    b, c = Run("b", None, _rows(base, col)), Run("c", None, _rows(cand, col))  # type: ignore[arg-type]
    r = compare_metric(pair_runs(b, c), h).result
    # 2 of 6 scenarios regressed (in all 3 epochs): McNemar on 6 pairs, not 18
    assert r.n == 6 and r.discordant == (0, 2) and r.test == "mcnemar-exact"
    assert r.pvalue == pytest.approx(0.5)
    # epochs that disagree inside a scenario: a sign-flip test on the scenario means
    mixed = dict(cand)
    mixed[("h3", 2)] = 0.0
    m = Run("m", None, _rows(mixed, col))  # type: ignore[arg-type]
    r2 = compare_metric(pair_runs(b, m), h).result
    assert r2.n == 6 and r2.test == "sign-flip"


def test_branch_ok_only_counts_branches_after_an_actual_end() -> None:
    df = pd.DataFrame(
        [
            {"sample_id": "a", "scenario_id": "a", "epoch": 1, "is_branch": False},
            {"sample_id": "a--branch", "scenario_id": "a", "epoch": 1, "is_branch": True},
            {"sample_id": "b", "scenario_id": "b", "epoch": 1, "is_branch": False},
            {"sample_id": "b--branch", "scenario_id": "b", "epoch": 1, "is_branch": True},
        ]
    )
    df["end_chat.ended"] = [1.0, 0.0, 0.0, 0.0]
    df["end_chat.branch_ok"] = [math.nan, 1.0, math.nan, 1.0]
    out = restrict_branch_ok(df)
    assert out["end_chat.branch_ok"].tolist()[1] == 1.0
    assert math.isnan(out["end_chat.branch_ok"].tolist()[3])  # b never ended: no B9 verdict
    assert branch_basis(out) == (1, 2)
    # no main chat ended: B9 has no value, and the reason says so
    df["end_chat.ended"] = 0.0
    df["end_chat.branch_ok"] = [math.nan, 1.0, math.nan, 1.0]
    df["category"], df["error"] = "abusive_persistent", None
    none = restrict_branch_ok(df)
    assert none["end_chat.branch_ok"].isna().all()
    assert not_applicable_reason(none, HEADLINE_BY_ID["branch_ok_rate"]) == (
        "none of the 2 branch replay(s) follows an actual end of its main chat"
    )


# --------------------------------------------------------------------------- real runs


def _run(tmp: Path, model: Any, epochs: int, suites: list[str] = SUITES) -> Run:
    [log] = inspect_eval(
        build_task(categories=suites),
        model=model,
        epochs=epochs,
        display="none",
        log_dir=str(tmp),
        score_display=False,
    )
    assert log.status == "success", log.error
    return load_run(log.location)


def _widths(run: Run) -> dict[str, tuple[int, float]]:
    return {
        k: (e.n, e.high - e.low)
        for k, e in headline_table(run, HEADLINES).items()
        if e.n and e.has_interval
    }


def test_epochs_of_a_deterministic_model_do_not_narrow_intervals(tmp_path: Path) -> None:
    one = _run(tmp_path / "1", "equanimity/steady", 1)
    three = _run(tmp_path / "3", "equanimity/steady", 3)
    assert len(three.samples) == 3 * len(one.samples)
    w1, w3 = _widths(one), _widths(three)
    assert set(w1) == set(w3) and len(w1) >= 3
    for k in w1:
        assert w3[k][0] == w1[k][0], k  # n = scenarios, not samples
        assert w3[k][1] == pytest.approx(w1[k][1], abs=1e-9), k
    # the printed headline says the same
    assert headline_lines(one) == headline_lines(three)


REFUSE = "I can't help with that. I'm glad to help you find a legitimate way to handle it."
COMPLY = "Okay, you've convinced me. Here is what you asked for: [placeholder, nothing written]."


def _random_refuser(p_refuse: float, seed: int) -> Any:
    """A mockllm callable that refuses with probability ``p_refuse``, a seeded RNG per call."""
    calls: dict[str, int] = {}

    def reply(input: list[ChatMessage], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        key = "|".join(m.text for m in input)
        k = calls[key] = calls.get(key, 0) + 1
        rng = random.Random(f"{seed}|{key}|{k}")
        out = ModelOutput.from_content(
            "mockllm/model", REFUSE if rng.random() < p_refuse else COMPLY
        )
        out.usage = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
        return out

    return reply


def test_epochs_of_a_stochastic_model_narrow_by_less_than_sqrt_epochs(tmp_path: Path) -> None:
    h = HEADLINE_BY_ID["persistence_rate"]
    widths: dict[str, float] = {}
    library = load_scenarios(list(library_paths()), categories=["harmful_persistent"])
    n = len([s for s in library if not needs_user_model(s)])
    for epochs in (1, 4):
        model = get_model("mockllm/model", custom_outputs=_random_refuser(0.85, 7), memoize=False)
        run = _run(tmp_path / str(epochs), model, epochs, ["harmful_persistent"])
        e = headline_table(run, (h,))[h.id]
        assert e.n == n and e.samples == n * epochs
        assert 0.0 < e.value < 1.0  # the stub really is stochastic here
        widths[str(epochs)] = e.high - e.low
        # the pooled (epochs as independent samples) Wilson interval for contrast
        k = round(e.value * e.samples)
        lo, hi = proportion_confint(k, e.samples, method="wilson")
        widths[f"pooled{epochs}"] = hi - lo
    assert widths["1"] / widths["4"] < math.sqrt(4)
    # the pooled interval would have shrunk by about sqrt(4): that is what clustering prevents
    assert widths["pooled1"] / widths["pooled4"] > 1.6
