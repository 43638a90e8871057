"""Train the learned distress head from DEV splits only; write it and its training record.

    PYTHONPATH=src python scripts/train_distress.py [--data ../shared/data] [--out scorers/learned]
        [--cache /tmp/embeddings.npz]

Data: the dev split of ``written-distress`` (own distress versus calm boundary-setting,
empathy and neutral replies, ten locales) and of ``vera-mh-distress`` (real Claude replies to
simulated at-risk users: boundary-setting and empathy negatives). Test items are never loaded
into the fit. Two files: the head (``distress.json``: the MiniLM embedding of the reply) and
its screen (``distress_screen.json``: the reply's token-mean vector, ``textclass/
token_vectors.py``, ~100x cheaper), a reply the screen rates below its threshold is not shown
to the head. The screen's threshold is set so that no dev row that is distress, or that the
head calls distress out of fold, is screened out (one grid step of margin). Class-balanced
logistic regression
(scikit-learn, lbfgs, seeded). Model selection (C and the decision threshold) by 5-fold
cross-validation grouped by user message (written) and conversation (VERA-MH): the
configuration with the best out-of-fold F1 of the head alone, ties to the higher threshold.
The head is meant to run beside the lexicon (a reply is distress when the lexicon or the head
says so), so the record also gives the out-of-fold figures of that combination.
Deterministic: the same data give the same weights. ``--cache`` keeps embeddings between runs.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import GroupKFold

from equanimity.textclass import embeddings
from equanimity.textclass.distress import detect_distress
from equanimity.textclass.learned import Feature, HeadFile, encode_weights, write_head
from equanimity.textclass.token_vectors import TOKEN_MEAN_ID, token_mean_many
from equanimity.validation.vera_sets import load_distress
from equanimity.validation.written_sets import load_written_distress

FEATURES: list[Feature] = ["reply"]
CS = (1.0, 3.0, 10.0, 30.0, 100.0)
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.5, 0.96, 0.05))
FOLDS = 5
SEED = 0
SCREEN = "distress_screen"
SCREEN_GRID = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    m = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=SEED)
    m.fit(x, y)
    return m


def cv_probabilities(x: np.ndarray, y: np.ndarray, groups: Sequence[str], c: float) -> np.ndarray:
    """Out-of-fold P(distress) for every row (folds grouped by context / conversation)."""
    p = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, list(groups)):
        p[test] = _fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
    return p


def select(
    x: np.ndarray, y: np.ndarray, groups: Sequence[str], lexicon: np.ndarray, w: np.ndarray
) -> tuple[float, float, dict[str, float], np.ndarray]:
    """The grid point with the best out-of-fold F1 of the head alone.

    Returns its C, threshold, dev figures and out-of-fold probabilities.
    """
    oof = {c: cv_probabilities(x, y, groups, c) for c in CS}
    results = [
        (float(f1_score(y, oof[c] >= t)), t, c) for c, t in itertools.product(CS, THRESHOLDS)
    ]
    f1, t, c = max(results)
    for r in sorted(results, reverse=True)[:5]:
        print("  head F1 {:.3f} t={} C={}".format(*r), file=sys.stderr)
    pred = oof[c] >= t
    both = pred | lexicon
    dev = {
        "head_out_of_fold_f1": round(f1, 4),
        "head_out_of_fold_precision": round(float(precision_score(y, pred)), 4),
        "head_out_of_fold_recall": round(float(recall_score(y, pred)), 4),
        "lexicon_or_head_out_of_fold_f1": round(float(f1_score(y, both)), 4),
        "lexicon_or_head_false_positives_written": int((both & (y == 0) & w).sum()),
        "lexicon_or_head_false_positives_vera": int((both & (y == 0) & ~w).sum()),
    }
    return c, t, dev, oof[c]


def screen_threshold(p: np.ndarray, needed: np.ndarray) -> tuple[float, float]:
    """The screen's threshold and the highest grid value that passes every needed dev row.

    ``p``: the screen's out-of-fold probabilities; ``needed``: the rows it must pass (gold
    distress, or called distress by the head out of fold). The threshold is one grid step
    below the highest safe value (a margin for unseen phrasing).
    """
    safe = [g for g in SCREEN_GRID if not (needed & (p < g)).any()]
    if not safe:
        return 0.0, 0.0
    top = max(safe)
    below = [g for g in SCREEN_GRID if g < top]
    return (max(below) if below else 0.0), top


def main(argv: Sequence[str] | None = None) -> int:
    """Train, select on dev, write the head and its record."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.cache:
        print(f"cache: {embeddings.load_cache(args.cache)} embeddings", file=sys.stderr)
    written = [it for it in load_written_distress(args.data) if it.split == "dev"]
    vera = [it for it in load_distress(args.data) if it.split == "dev"]
    if not vera:
        print(f"error: no VERA-MH labels/transcripts under {args.data}", file=sys.stderr)
        return 2
    items = written + vera
    y = np.array([int(it.gold) for it in items])
    groups = [f"{it.dataset}:{it.group or it.id}" for it in items]
    replies = [it.reply for it in items]
    lexicon = np.array([bool(detect_distress(r).markers) for r in replies])
    w = np.array([it.dataset == "written-distress" for it in items])
    x = embeddings.embed_many(replies)
    xs = token_mean_many(replies)
    if args.cache:
        embeddings.save_cache(args.cache)
    c, t, dev, head_oof = select(x, y, groups, lexicon, w)
    print(f"head (MiniLM): C={c} threshold={t}; dev CV {dev}", file=sys.stderr)
    sc, st, sdev, screen_oof = select(xs, y, groups, lexicon, w)
    print(f"token-mean alone: C={sc} threshold={st}; dev CV {sdev}", file=sys.stderr)
    needed = (y == 1) | (head_oof >= t)
    gate, top = screen_threshold(screen_oof, needed)
    unflagged = ~lexicon
    passed = float((screen_oof >= gate)[unflagged].mean())
    print(f"screen: threshold {gate} (highest safe {top}); passes {passed:.3f}", file=sys.stderr)
    model = _fit(x, y, c)
    spec = HeadFile(
        name="distress",
        task="distress",
        embedding_model=embeddings.MODEL_ID,
        features=FEATURES,
        weights=encode_weights(model.coef_[0]),
        bias=float(model.intercept_[0]),
        threshold=t,
    )
    n = {"written-distress dev": len(written), "vera-mh-distress dev": len(vera)}
    common: dict[str, object] = {
        "data": sorted(n),
        "n": n,
        "positives": int(y.sum()),
        "classifier": "sklearn LogisticRegression(class_weight=balanced, lbfgs, random_state=0)",
        "features": FEATURES,
        "trained": datetime.date.today().isoformat(),
        "script": "scripts/train_distress.py",
    }
    record: dict[str, object] = {
        **common,
        "dev": dev,
        "chosen": {"C": c, "threshold": t},
        "grid": {"C": list(CS), "threshold": list(THRESHOLDS)},
        "selection": f"best out-of-fold F1 of the head alone, {FOLDS}-fold CV grouped by "
        "user message (written) / conversation (VERA-MH); ties to the higher threshold; the "
        "out-of-fold figures are those of the chosen configuration, the best of "
        f"{len(CS) * len(THRESHOLDS)} scored on the same folds, so they are optimistic "
        "(no nested CV)",
    }
    screen_model = _fit(xs, y, sc)
    screen_spec = HeadFile(
        name=SCREEN,
        task="distress",
        embedding_model=TOKEN_MEAN_ID,
        features=FEATURES,
        weights=encode_weights(screen_model.coef_[0]),
        bias=float(screen_model.intercept_[0]),
        threshold=gate,
    )
    screen_record: dict[str, object] = {
        **common,
        "dev": {
            "passes_unflagged": round(passed, 4),
            "misses_needed": int((needed & (screen_oof < gate)).sum()),
            "needed": int(needed.sum()),
            "highest_safe_threshold": top,
            **{f"alone_{k}": v for k, v in sdev.items()},
        },
        "chosen": {"C": sc, "threshold": gate},
        "grid": {"C": list(CS), "threshold": list(SCREEN_GRID)},
        "selection": "C: best out-of-fold F1 of the token-mean head alone (as the head's); "
        "threshold: one step below the highest grid value at which no dev row that is gold "
        "distress or called distress by the head (out of fold) is screened out",
        "role": "screen: a reply below the threshold is not shown to the head (not distress)",
    }
    write_head(screen_spec, screen_record, args.out)
    digest = write_head(spec, record, args.out)
    print(f"wrote distress head, sha256 {digest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
