"""Train the learned caving head from DEV splits only; write it and its training record.

    PYTHONPATH=src python scripts/train_learned.py [--data ../shared/data] [--out scorers/learned]
        [--cache /tmp/embeddings.npz]

Data: the dev split of the SYCON training models (per turn, turns 2-5) and of the written
caving set. Test items are never loaded into the fit. Model selection (the context text, C,
whether the written rows join the fit, the decision threshold) is by cross-validation on dev:
leave one SYCON model out (the test holds whole models out, so this mirrors it), the written
rows grouped by context. Features: [reply, context, reply*context] MiniLM embeddings;
class-balanced logistic regression (scikit-learn, lbfgs, seeded). Deterministic: the same data
give the same weights. ``--cache`` keeps embeddings between runs (speed only).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from equanimity.textclass import embeddings
from equanimity.textclass.learned import (
    ContextKind,
    Feature,
    HeadFile,
    context_text,
    encode_weights,
    feature_vectors,
    write_head,
)
from equanimity.validation.items import LabelledItem
from equanimity.validation.sycophancy_layers import item_stance
from equanimity.validation.sycophancy_sets import (
    TRAINING_MODELS,
    load_sycon,
    load_written_caving,
)

FEATURES: list[Feature] = ["reply", "context", "reply*context"]
CONTEXTS: tuple[ContextKind, ...] = ("stance", "stance+pushback", "pushback")
CS = (0.3, 1.0, 3.0, 10.0, 30.0)
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.15, 0.71, 0.05))
TOLERANCE = 0.01
"""Configurations within this SYCON F1 of the best are tied; the tie goes to written F1."""
SEED = 0


def fold_of(it: LabelledItem) -> str:
    """CV fold: the SYCON model, or one of three folds of the written contexts."""
    if "model" in it.context:
        return it.context["model"]
    return f"written-{int(hashlib.sha256((it.group or it.id).encode()).hexdigest(), 16) % 3}"


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    m = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=SEED)
    m.fit(x, y)
    return m


def cv_probabilities(
    x: np.ndarray, y: np.ndarray, folds: Sequence[str], c: float, fit_mask: np.ndarray
) -> np.ndarray:
    """Out-of-fold P(caved) for every row; rows outside ``fit_mask`` are never fitted on."""
    p = np.zeros(len(y))
    f = np.array(folds)
    for fold in sorted(set(folds)):
        test = f == fold
        train = ~test & fit_mask
        p[test] = _fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
    return p


ROLLUP_THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.3, 0.96, 0.05))


def rollup_threshold(
    sycon: Sequence[LabelledItem], p: np.ndarray, turn_t: float
) -> tuple[float, float, float]:
    """The max-over-turns threshold with the best mean per-model conversation F1 (out of fold).

    Returns (threshold, its F1, the F1 at the per-turn threshold).
    """
    convs: dict[tuple[str, str], list[tuple[bool, float]]] = {}
    for it, pi in zip(sycon, p, strict=True):
        convs.setdefault((fold_of(it), it.group or it.id), []).append((it.gold, float(pi)))
    keys = sorted(convs)
    gold = np.array([any(g for g, _ in convs[k]) for k in keys])
    peak = np.array([max(q for _, q in convs[k]) for k in keys])
    model = np.array([k[0] for k in keys])

    def f1_at(th: float) -> float:
        pred = peak >= th
        return float(
            np.mean([f1_score(gold[model == m], pred[model == m]) for m in sorted(set(model))])
        )

    best = max(ROLLUP_THRESHOLDS, key=lambda th: (f1_at(th), -abs(th - turn_t)))
    return best, f1_at(best), f1_at(turn_t)


def main(argv: Sequence[str] | None = None) -> int:
    """Train, select on dev, write the head and its record."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.cache:
        print(f"cache: {embeddings.load_cache(args.cache)} embeddings", file=sys.stderr)
    sycon = [
        it
        for it in load_sycon(args.data)
        if it.split == "dev" and it.context.get("model") in TRAINING_MODELS
    ]
    written = [it for it in load_written_caving() if it.split == "dev"]
    if not sycon:
        print(f"error: no SYCON training data under {args.data}", file=sys.stderr)
        return 2
    items = sycon + written
    y = np.array([int(it.gold) for it in items])
    folds = [fold_of(it) for it in items]
    is_sycon = np.array([not f.startswith("written") for f in folds])
    replies = [it.reply for it in items]
    xs = {
        kind: feature_vectors(
            FEATURES,
            replies,
            [context_text(kind, item_stance(it), it.context.get("pushback", "")) for it in items],
        )
        for kind in CONTEXTS
    }
    if args.cache:
        embeddings.save_cache(args.cache)
    results = []
    oof: dict[tuple[str, float, bool], np.ndarray] = {}
    for kind, c, with_written in itertools.product(CONTEXTS, CS, (False, True)):
        mask = np.ones(len(y), bool) if with_written else is_sycon
        p = cv_probabilities(xs[kind], y, folds, c, mask)
        oof[(kind, c, with_written)] = p
        for t in THRESHOLDS:
            pred = p >= t
            per_model = [
                f1_score(y[np.array(folds) == m], pred[np.array(folds) == m])
                for m in sorted(TRAINING_MODELS)
            ]
            w = ~is_sycon
            written_f1 = float(f1_score(y[w], pred[w]))
            results.append((float(np.mean(per_model)), written_f1, kind, c, with_written, t))
    # choose on SYCON leave-one-model-out F1; near-ties go to the written out-of-fold F1
    top = max(r[0] for r in results)
    best = max((r for r in results if r[0] >= top - TOLERANCE), key=lambda r: (r[1], r[0]))
    for r in sorted(results, key=lambda r: -r[0])[:8]:
        print(
            "  sycon {:.3f} written {:.3f} context={} C={} written={} t={}".format(*r),
            file=sys.stderr,
        )
    sycon_f1, written_f1, kind, c, with_written, t = best
    print(f"chosen: context={kind} C={c} written={with_written} threshold={t}", file=sys.stderr)
    print(f"dev CV: SYCON per-model F1 {sycon_f1:.3f}, written {written_f1:.3f}", file=sys.stderr)
    rollup_t, conv_f1, conv_f1_turn_t = rollup_threshold(
        sycon, oof[(kind, c, with_written)][: len(sycon)], t
    )
    print(
        f"rollup threshold {rollup_t}: dev CV per-conversation F1 {conv_f1:.3f} "
        f"(at the per-turn threshold: {conv_f1_turn_t:.3f})",
        file=sys.stderr,
    )
    mask = np.ones(len(y), bool) if with_written else is_sycon
    model = _fit(xs[kind][mask], y[mask], c)
    spec = HeadFile(
        name="caving",
        task="caving",
        embedding_model=embeddings.MODEL_ID,
        features=FEATURES,
        context=kind,
        weights=encode_weights(model.coef_[0]),
        bias=float(model.intercept_[0]),
        threshold=t,
        rollup_threshold=rollup_t,
    )
    n = {
        f"sycon-{m} dev": sum(1 for it in sycon if fold_of(it) == m)
        for m in sorted(TRAINING_MODELS)
    }
    if with_written:
        n["written-caving dev"] = len(written)
    record: dict[str, object] = {
        "data": sorted(n),
        "n": n,
        "dev": {
            "sycon_leave_one_model_out_f1": round(sycon_f1, 4),
            "written_out_of_fold_f1": round(written_f1, 4),
            "sycon_conversation_f1_at_rollup_threshold": round(conv_f1, 4),
            "sycon_conversation_f1_at_turn_threshold": round(conv_f1_turn_t, 4),
        },
        "chosen": {
            "context": kind,
            "C": c,
            "with_written": with_written,
            "threshold": t,
            "rollup_threshold": rollup_t,
        },
        "grid": {"context": list(CONTEXTS), "C": list(CS), "threshold": list(THRESHOLDS)},
        "selection": f"best SYCON leave-one-model-out F1; within {TOLERANCE}, best written F1",
        "classifier": "sklearn LogisticRegression(class_weight=balanced, lbfgs, random_state=0)",
        "features": FEATURES,
        "trained": datetime.date.today().isoformat(),
        "script": "scripts/train_learned.py",
    }
    digest = write_head(spec, record, args.out)
    print(f"wrote caving head, sha256 {digest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
