"""``validate-scorers --model-role grader=MODEL``: judge and cascade rows (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from equanimity.cli import main
from equanimity.validation.items import LabelledItem, Prediction
from equanimity.validation.rows import judge_figures, score_rows


def _rows(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> list[dict[str, Any]]:
    code = main(
        [
            "validate-scorers",
            "--data",
            str(tmp_path),  # only the written sets of the repository
            "--dataset",
            "written-flips",
            "--dataset",
            "written-distress",
            "--split",
            "dev",
            "--limit",
            "6",
            "--json",
            *extra,
        ]
    )
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def test_no_grader_no_judge_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = _rows(capsys, tmp_path)
    assert rows and all(r["judge"] is None for r in rows)
    assert not any(r["layer"].startswith(("judge", "cascade")) for r in rows)


def test_mockllm_answers_are_unparseable_never_pass_or_fail(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = _rows(capsys, tmp_path, "--model-role", "grader=mockllm/model")
    judged = [r for r in rows if r["layer"] == "judge:mockllm/model"]
    assert {r["dataset"] for r in judged} == {"written-flips", "written-distress"}
    for r in judged:
        assert r["n"] == 0 and r["tp"] == r["fp"] == r["fn"] == r["tn"] == 0
        assert r["abstained"] == 6 == r["judge"]["unparseable"] == r["judge"]["sent"]
        assert r["judge"]["calls"] == 6 and r["judge"]["input_tokens"] > 0
        assert r["f1"] is None and r["judge"]["kappa_gold"] is None
    cascade = [r for r in rows if r["layer"] == "cascade:mockllm/model"]
    assert len(cascade) == 2
    flips = next(r for r in cascade if r["dataset"] == "written-flips")
    # the rule decides what it is sure of; what went to the judge abstains
    sent, audited = flips["judge"]["sent"], flips["judge"]["audited"]
    assert flips["abstained"] == sent - audited == flips["judge"]["unparseable"] - audited
    # distress follows the scorer: the judge never changes the marker verdict, so nothing
    # abstains and the row matches the scorer's own layer (lexicon + learned head)
    distress = next(r for r in cascade if r["dataset"] == "written-distress")
    assert distress["judge"]["sent"] > 0 and distress["judge"]["unparseable"] > 0
    assert distress["abstained"] == 0 and distress["n"] == 6
    own = {r["layer"]: r for r in rows if r["dataset"] == "written-distress"}
    learned = own.get("learned", own["rule"])  # no learned head here: the lexicon decides
    assert [distress[k] for k in ("tp", "fp", "fn", "tn")] == [
        learned[k] for k in ("tp", "fp", "fn", "tn")
    ]


def test_a_stub_grader_gets_f1_and_kappa(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = _rows(capsys, tmp_path, "--model-role", "grader=equanimity/judge-stub")
    [flips] = [
        r
        for r in rows
        if r["layer"] == "judge:equanimity/judge-stub" and r["dataset"] == "written-flips"
    ]
    assert flips["n"] == 6 and flips["abstained"] == 0 and flips["judge"]["unparseable"] == 0
    assert flips["tp"] + flips["fp"] + flips["fn"] + flips["tn"] == 6
    assert flips["judge"]["kappa_gold_n"] == 6 and flips["judge"]["kappa_rule_n"] == 6


def test_a_panel_reports_majority_and_agreement(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    twice = "grader=equanimity/judge-stub,equanimity/judge-stub"
    rows = _rows(capsys, tmp_path, "--model-role", twice, "--layer", "judge", "--layer", "panel")
    by = {(r["layer"].split(":")[0], r["dataset"]): r for r in rows}
    panel, single = by[("panel", "written-flips")], by[("judge", "written-flips")]
    # two identical graders: their majority is the single grader's verdict, agreement perfect
    assert (panel["tp"], panel["fp"], panel["fn"], panel["tn"]) == (
        single["tp"],
        single["fp"],
        single["fn"],
        single["tn"],
    )
    assert panel["judge"]["calls"] == 2 * single["judge"]["calls"]
    assert panel["judge"]["panel_kappa_n"] == 6
    rows = _rows(
        capsys,
        tmp_path,
        "--model-role",
        "grader=equanimity/judge-stub,mockllm/model",
        "--layer",
        "panel",
    )
    # mockllm never answers: no item has both verdicts, so the graders' agreement rests on none
    assert all(r["judge"]["panel_kappa_n"] == 0 for r in rows)


def _item(i: int, gold: bool) -> LabelledItem:
    return LabelledItem(dataset="d", id=str(i), split="dev", task="refusal", gold=gold, reply="r")


def test_judge_figures_count_each_kind_of_item() -> None:
    items = [_item(i, i % 2 == 0) for i in range(6)]
    preds = [
        Prediction(
            positive=True,
            layer="cascade:m",
            sent="cascade",
            judge_positive=True,
            rule_positive=False,
            calls=1,
        ),
        Prediction(positive=None, layer="cascade:m", sent="cascade", rule_positive=True, calls=1),
        Prediction(
            positive=False,
            layer="cascade:m",
            sent="audit",
            judge_positive=True,
            rule_positive=False,
            calls=1,
        ),
        Prediction(positive=False, layer="cascade:m", rule_positive=False),
        Prediction(
            positive=True,
            layer="cascade:m",
            sent="audit",
            judge_positive=True,
            rule_positive=True,
            calls=1,
        ),
        Prediction(
            positive=None, layer="cascade:m", sent="cascade", error="RateLimit: slow down", calls=1
        ),
    ]
    f = judge_figures(items, preds)
    assert (f.sent, f.audited, f.unparseable, f.errors, f.calls) == (5, 2, 1, 1, 5)
    assert f.first_error == "RateLimit: slow down"
    assert f.kappa_gold_n == 3 and f.kappa_rule_n == 2  # kappa with the rule: the audit only
    row = score_rows("d", "dev", "cascade", "refusal", items, preds)
    assert row.abstained == 2 and row.judge is not None and row.judge.sent == 5


def test_validation_frames_the_judge_as_the_scorers_do() -> None:
    from equanimity.scorers.judge_context import ANSWER, DECLINE, LABEL_ONLY
    from equanimity.validation.judge_layers import item_expectation

    def item(dataset: str, kind: str = "") -> LabelledItem:
        return LabelledItem(
            dataset=dataset,
            id="x",
            split="dev",
            task="refusal",
            gold=True,
            reply="r",
            user="u",
            context={"type": kind},
        )

    assert item_expectation(item("xstest-gpt4", "contrast_homonyms")) == f"{DECLINE} {LABEL_ONLY}"
    assert item_expectation(item("xstest-gpt4", "homonyms")) == f"{ANSWER} {LABEL_ONLY}"
    assert item_expectation(item("pyrit-refusal")) == f"{DECLINE} {LABEL_ONLY}"
    assert item_expectation(item("written-refusal")) == LABEL_ONLY
