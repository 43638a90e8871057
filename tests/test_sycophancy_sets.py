"""Sycophancy validation loaders: SYCON-format folders (synthetic) and the written sets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from equanimity.validation.items import LabelledItem, Prediction, hashed_split
from equanimity.validation.readers import DataError
from equanimity.validation.sycophancy_layers import conversation_turns, rolled_up
from equanimity.validation.sycophancy_sets import (
    SYCON_DIR,
    load_sycon,
    load_sycon_conversations,
    load_written_caving,
    load_written_flips,
    sycon_split,
)

QUESTIONS = ["Why is the sky green?", "Why do fish fly?", "Why is ice hot?"]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def _sycon(root: Path, models: dict[str, list[list[str]]]) -> Path:
    base = root / SYCON_DIR
    data = base / "data"
    data.mkdir(parents=True)
    (data / "questions.txt").write_text("\n".join(QUESTIONS) + "\n")
    (data / "presuppositions.txt").write_text("\n".join(f"pre {i}" for i in range(3)) + "\n")
    (data / "corrections.txt").write_text("\n".join(f"cor {i}" for i in range(3)) + "\n")
    _write_csv(
        data / "push_back.csv",
        [["Question", "Pushback_1", "Pushback_2", "Pushback_3", "Pushback_4"]]
        + [[q, *(f"pb{i}-{k}" for k in range(1, 5))] for i, q in enumerate(QUESTIONS)],
    )
    for model, labels in models.items():
        _write_csv(
            base / model / "responses.csv",
            [["Question", *(f"Response_{t}" for t in range(1, 6))]]
            + [[q, *(f"{model} q{i} r{t}" for t in range(1, 6))] for i, q in enumerate(QUESTIONS)],
        )
        _write_csv(
            base / model / "judge_labels.csv",
            [["Row", *(f"Response_{t}" for t in range(1, 6))]]
            + [[str(i + 1), *row] for i, row in enumerate(labels)],
        )
    return base


LABELS = [["1", "1", "1", "0", "0"], ["0", "1", "1", "1", "1"], ["1", "0", "1", "1", "1"]]


def test_sycon_items_per_turn_and_conversation(tmp_path: Path) -> None:
    _sycon(tmp_path, {"gpt-4o": LABELS, "deepseek-v3": LABELS, "new-model": LABELS})
    items = load_sycon(tmp_path)
    assert len(items) == 3 * 3 * 4  # models x questions x turns 2-5
    by = {(it.dataset, it.id): it for it in items}
    it = by[("sycon-gpt-4o", "q001-t4")]
    assert it.gold is True and it.gold_detail == "caved"  # judge 0 = caves
    assert by[("sycon-gpt-4o", "q001-t3")].gold is False
    assert it.reply == "gpt-4o q0 r4"
    assert it.user == it.context["pushback"] == "pb0-3"  # reply 4 answers pushback 3
    assert it.context["question"] == QUESTIONS[0]
    assert it.context["presupposition"] == "pre 0" and it.context["correction"] == "cor 0"
    convo = json.loads(it.context["conversation"])
    assert [m["role"] for m in convo] == ["user", "assistant"] * 3
    assert convo[-1]["content"] == "gpt-4o q0 r3"
    # question 2's first answer caved (label 0 on reply 1) but turns 2-5 held: not an item
    assert not any(x.gold for x in items if x.dataset == "sycon-gpt-4o" and x.group == "q002")
    # splits: held-out and unknown models are test; training models split by question number
    assert {x.split for x in items if x.dataset != "sycon-gpt-4o"} == {"test"}
    for x in items:
        if x.dataset == "sycon-gpt-4o":
            assert x.split == hashed_split(f"sycon-q:{int((x.group or '')[1:])}")
    assert sycon_split("Qwen2.5-72B-Instruct", 1) == "test"

    convs = load_sycon_conversations(tmp_path)
    assert len(convs) == 9
    c = {(x.dataset, x.id): x for x in convs}
    assert c[("sycon-gpt-4o-conversations", "q001")].gold is True
    assert c[("sycon-gpt-4o-conversations", "q002")].gold is False
    assert c[("sycon-gpt-4o-conversations", "q003")].gold is True
    turns = conversation_turns(c[("sycon-gpt-4o-conversations", "q001")])
    assert turns is not None and [t.reply for t in turns] == [
        f"gpt-4o q0 r{t}" for t in (2, 3, 4, 5)
    ]
    assert [t.context["pushback"] for t in turns] == [f"pb0-{k}" for k in (1, 2, 3, 4)]
    assert conversation_turns(it) is None


def test_rollup_caves_when_any_turn_caves(tmp_path: Path) -> None:
    _sycon(tmp_path, {"gpt-4o": LABELS})

    def layer(item: LabelledItem) -> Prediction:
        return Prediction(positive=item.reply.endswith("r4"), layer="rule", confidence=0.5)

    convs = load_sycon_conversations(tmp_path)
    p = rolled_up(layer)(convs[0])
    assert p.positive is True and p.detail == "turn 4" and p.confidence == 0.5
    # with a conversation threshold the highest per-turn probability decides
    assert rolled_up(layer, 0.6)(convs[0]).positive is False
    assert rolled_up(layer, 0.5)(convs[0]).detail == "turn 2"


def test_sycon_absent_and_bad_files(tmp_path: Path) -> None:
    assert load_sycon(tmp_path) == []
    bad = [["1", "1", "2", "0", "0"], *LABELS[1:]]
    _sycon(tmp_path, {"gpt-4o": bad})
    with pytest.raises(DataError, match=r"judge_labels.csv, line 2: judge label '2'"):
        load_sycon(tmp_path)


def test_sycon_missing_column(tmp_path: Path) -> None:
    base = _sycon(tmp_path, {"gpt-4o": LABELS})
    _write_csv(base / "gpt-4o" / "responses.csv", [["Question", "Response_1"], ["q", "r"]])
    with pytest.raises(DataError, match=r"responses\.csv:1: missing column"):
        load_sycon(tmp_path)


def test_written_sets_load_with_their_splits() -> None:
    flips = load_written_flips()
    caving = load_written_caving()
    assert len(flips) == 231 and len(caving) == 189
    assert {f.gold_detail for f in flips} == {"correct", "wrong", "unclear"}
    assert all(f.gold == (f.gold_detail == "wrong") for f in flips)
    assert all(c.gold == (c.gold_detail == "caved") for c in caving)
    # a context's replies never fall on both sides
    sides: dict[str, set[str]] = {}
    for c in caving:
        sides.setdefault(c.group or "", set()).add(c.split)
    assert all(len(s) == 1 for s in sides.values())


def test_written_bad_rows(tmp_path: Path) -> None:
    p = tmp_path / "flips.jsonl"
    row = {"id": "f1", "split": "dev", "question": "q", "correct": "a", "wrong": "b",
           "pushback": "", "reply": "a", "label": "maybe"}  # fmt: skip
    p.write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match=r"flips.jsonl, line 1: label 'maybe'"):
        load_written_flips(path=p)
    p.write_text("{not json\n")
    with pytest.raises(DataError, match=r"flips\.jsonl:1: invalid JSON"):
        load_written_flips(path=p)
    del row["reply"]
    row["label"] = "wrong"
    p.write_text("\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match="line 2: field reply"):
        load_written_flips(path=p)


DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SYCON_DEV_RULE_F1 = {"sycon-gpt-4o": 0.170, "sycon-gemma2-9b-it": 0.504}
"""Per-turn F1 of the caving rule layer on SYCON dev replies (pinned; dev only)."""


@pytest.mark.skipif(not (DATA / "sycon-bench").is_dir(), reason="SYCON-Bench not in ../shared/data")
def test_real_sycon_loads_and_rule_dev_figures_pinned() -> None:
    from equanimity.validation.sycophancy_layers import caving_rule

    items = load_sycon(DATA)
    assert len(items) == 6 * 200 * 4
    assert {it.split for it in items if it.dataset == "sycon-deepseek-v3"} == {"test"}
    for name, pinned in SYCON_DEV_RULE_F1.items():
        dev = [it for it in items if it.dataset == name and it.split == "dev"]
        assert len(dev) == 376
        preds = [bool(caving_rule(it).positive) for it in dev]
        tp = sum(p and it.gold for p, it in zip(preds, dev, strict=True))
        fp = sum(p and not it.gold for p, it in zip(preds, dev, strict=True))
        fn = sum(it.gold and not p for p, it in zip(preds, dev, strict=True))
        assert 2 * tp / (2 * tp + fp + fn) == pytest.approx(pinned, abs=0.01)
