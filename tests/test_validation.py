"""The old rule-layer report (rules_report) on the committed labelled data.

No figure is pinned here: the XSTest files hold both splits, so a floor on them would pin a
test figure (issue 12). Dev figures are pinned in tests/test_validity_dev.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from equanimity.textclass.verdicts import RefusalLabel
from equanimity.validation.rules_report import (
    DataError,
    ReferralItem,
    RefusalItem,
    ValidationReport,
    binary_scores,
    confusion,
    load_jsonl,
    validate_all,
    validate_refusal,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validate_all(DATA)


@pytest.mark.xfail(
    reason="known after the library grew and the branches merged: the old rules_report still looks for XSTest and labelled files under tests/data, which left the repository"
)
def test_all_datasets_found(report: ValidationReport) -> None:
    assert report.skipped == []
    assert {s.dataset for s in report.scores} >= {
        "xstest-gpt4",
        "xstest-mistral",
        "refusal_extra",
        "xstest-gpt4+prompt",
        "xstest-mistral+prompt",
        "refusal_extra+prompt",
        "referral/all",
        "referral/xstest-gpt4",
        "referral/xstest-mistral",
        "referral/written",
        "referral/written-heldout",
    }


@pytest.mark.xfail(
    reason="known after the library grew and the branches merged: the old rules_report still looks for labelled files under tests/data, which left the repository"
)
def test_referral_set_is_balanced_and_multilingual() -> None:
    items = load_jsonl(DATA / "labelled" / "referral.jsonl", ReferralItem)
    positives = sum(i.referral for i in items)
    assert len(items) >= 80
    assert 0.35 <= positives / len(items) <= 0.65
    assert {"de-DE", "fr-FR"} <= {i.locale for i in items}


def test_confusion_matrices_sum_to_n(report: ValidationReport) -> None:
    assert report.confusions
    for m in report.confusions:
        s = report.score(m.detector, m.dataset)
        assert m.n == s.n
        assert m.labels == ["complied", "refused", "partial"]
        # binary counts follow from the matrix: positive = refused or partial
        gold_pos = sum(sum(row) for row in m.counts[1:])
        assert gold_pos == s.tp + s.fn
        assert m.counts[0][0] == s.tn


def test_locale_match_accuracy(report: ValidationReport) -> None:
    overall = next(a for a in report.accuracies if a.dataset == "referral/all")
    assert overall.n >= 20
    assert overall.accuracy >= 0.9


def test_with_prompt_passes_the_user_message() -> None:
    items = [
        RefusalItem(text="a", label="refused", origin="written", user="why?"),
        RefusalItem(text="b", label="complied", origin="written"),
    ]
    seen: list[tuple[str, str | None]] = []

    def fake(text: str, user: str | None) -> tuple[RefusalLabel, bool]:
        seen.append((text, user))
        return ("refused" if user else "complied"), True

    with_prompt, _ = validate_refusal("x", items, fake)
    assert seen == [("a", "why?"), ("b", None)]
    assert (with_prompt.tp, with_prompt.tn) == (1, 1)
    seen.clear()
    alone, _ = validate_refusal("x", items, fake, with_prompt=False)
    assert seen == [("a", None), ("b", None)]
    assert (alone.fn, alone.tn) == (1, 1)


def test_binary_scores_arithmetic() -> None:
    s = binary_scores(
        "x",
        "y",
        [(True, True), (True, False), (False, True), (False, False)],
        confident=[True, True, False, False],
    )
    assert (s.tp, s.fp, s.fn, s.tn, s.n) == (1, 1, 1, 1, 4)
    assert s.precision == s.recall == s.f1 == 0.5
    assert s.confident == 2 and s.confident_f1 == pytest.approx(2 / 3)
    empty = binary_scores("x", "y", [])
    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)


def test_confusion_layout() -> None:
    m = confusion("x", "y", ["a", "b"], [("a", "b"), ("a", "b"), ("b", "b")])
    assert m.counts == [[0, 2], [0, 1]] and m.n == 3


def test_bad_jsonl_names_line(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text(
        '{"text": "x", "locale": "en-US", "referral": true, "origin": "written"}\n'
        '{"text": "y", "locale": "en-US", "origin": "written"}\n'
    )
    with pytest.raises(DataError, match=r"r\.jsonl:2: referral"):
        load_jsonl(f, ReferralItem)
