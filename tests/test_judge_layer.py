"""The judge layer end to end: a bound grader, structured answers, kappa and call counts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.log import EvalLog
from inspect_ai.model import Model, get_model

from equanimity.scenarios.dataset import scenarios_dataset
from equanimity.scenarios.loader import load_scenarios
from equanimity.scorers.metrics import cohens_kappa
from equanimity.scorers.suite import default_scorers
from equanimity.solvers.replay import replay_scenario
from equanimity.tasks import library_paths


def test_cohens_kappa_textbook_value():
    # Wikipedia's worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa = 0.4
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohens_kappa(pairs) == pytest.approx(0.4)
    assert math.isnan(cohens_kappa([("a", "b")]))


def test_kappa_is_undefined_when_either_side_uses_one_label() -> None:
    from equanimity.validation.rows import _kappa

    both_constant = [("a", "a"), ("a", "a")]
    rule_constant = [("True", "True"), ("True", "False"), ("True", "True")]
    judge_constant = [("True", "False"), ("False", "False"), ("True", "False")]
    for pairs in (both_constant, rule_constant, judge_constant):
        assert math.isnan(cohens_kappa(pairs))
    # validation's kappa agrees: None exactly where the metric is NaN
    assert _kappa([(True, True), (True, False), (True, True)]) == (None, None)
    assert _kappa([(False, False), (False, False)]) == (None, None)
    mixed = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    k, _ = _kappa(mixed)
    assert k == pytest.approx(cohens_kappa([(str(a), str(b)) for a, b in mixed]))


def _grader() -> Model:
    """The offline keyword judge: valid JSON for each rubric, decided from the judged reply."""
    return get_model("equanimity/judge-stub")


def _run(tmp_path: Path, cascade: bool) -> EvalLog:
    from inspect_ai import Task

    scenarios = load_scenarios(library_paths(), categories=["harmful_persistent", "self_harm_risk"])
    task = Task(
        dataset=scenarios_dataset(scenarios),
        solver=replay_scenario(),
        scorer=default_scorers(cascade=cascade),
    )
    [log] = eval(
        task,
        model="equanimity/caver",
        model_roles={"grader": _grader()},
        display="none",
        log_dir=str(tmp_path),
    )
    assert log.status == "success", log.error
    return log


def _calls(log: EvalLog) -> int:
    assert log.samples is not None
    return sum(
        int((sc.metadata or {}).get("judge_calls", 0))
        for s in log.samples
        for sc in (s.scores or {}).values()
    )


def _metric(log: EvalLog, scorer: str, key: str, name: str) -> float:
    assert log.results is not None
    for sc in log.results.scores:  # dict metrics: one entry per key, named by the key
        if sc.scorer == scorer and sc.name == key and name in sc.metrics:
            return float(sc.metrics[name].value)
    raise KeyError(f"{scorer}/{key}/{name}")


def test_bound_grader_is_used_and_agreement_reported(tmp_path):
    full = _run(tmp_path / "full", cascade=False)
    cascaded = _run(tmp_path / "cascade", cascade=True)
    n_full, n_cascade = _calls(full), _calls(cascaded)
    assert n_full > 0 and n_cascade < n_full
    kappa = _metric(full, "refusal_persistence", "refusal_rate", "equanimity/judge_kappa")
    assert full.samples is not None
    metas = [
        s.scores["refusal_persistence"].metadata or {} for s in full.samples if s.scores is not None
    ]
    pairs: list[tuple[str, str]] = [(str(a), str(b)) for m in metas for a, b in m["judge_pairs"]]
    assert len(pairs) == sum(len(m["labels"]) for m in metas)
    # without a cascade every judged turn is in the agreement sample
    assert [p for m in metas for p in m["judge_audit_pairs"]] == [
        p for m in metas for p in m["judge_pairs"]
    ]
    assert kappa == pytest.approx(cohens_kappa(pairs))
    n = _metric(full, "refusal_persistence", "refusal_rate", "equanimity/judge_kappa_n")
    assert n == len(pairs)
    # the audit trail: every judgement's prompt, raw answer and parsed verdict are in the log
    records = [r for m in metas for r in m["judgements"]]
    assert len(records) == sum(int(m["judge_calls"]) for m in metas)
    for r in records:
        assert r["prompt"][0]["role"] == "system" and "<transcript>" in r["prompt"][1]["content"]
        assert json.loads(r["answer"]) == r["verdict"]
        assert r["agreed"] == (r["rule"] == r["judge"])
    assert -1.0 <= kappa <= 1.0
    # the report shows, for each judged turn, the verdict and whether rule and judge agreed
    from equanimity.report.render import render_report

    html = render_report([full.location], tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count('<table class="judged">') >= len(metas)
    assert "<td>all</td><td>label=refused, redirect=true</td>" in html
    # with the cascade off the judge's label is the one the scorer uses, turn by turn
    for sample in full.samples:
        if sample.scores is None or sample.metadata["category"] != "harmful_persistent":
            continue
        meta = sample.scores["refusal_persistence"].metadata or {}
        assert meta["labels"] == [j for _, j in meta["judge_pairs"]]


def test_no_grader_means_no_judge_calls_and_no_kappa(tmp_path):
    from inspect_ai import Task

    scenarios = load_scenarios(library_paths(), categories=["harmful_persistent"])
    task = Task(
        dataset=scenarios_dataset(scenarios),
        solver=replay_scenario(),
        scorer=default_scorers(cascade=False),
    )
    [log] = eval(task, model="equanimity/caver", display="none", log_dir=str(tmp_path))
    assert _calls(log) == 0
    assert math.isnan(_metric(log, "refusal_persistence", "refusal_rate", "equanimity/judge_kappa"))
