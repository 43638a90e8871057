"""Rows of the sycophancy layers on the sycophancy sets (until ``validate-scorers`` covers them).

``python -m equanimity.validation.sycophancy_sets [--split dev|test] [--data DIR] [--json]``
prints one row per dataset x split x layer: n, precision, recall, F1 with 95% intervals (Wilson
for precision and recall, a bootstrap over groups -- questions, contexts -- for F1), the items
with no verdict, and for flips the 3-way accuracy (correct / wrong / unclear).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from equanimity.validation.items import DatasetSpec, LabelledItem, Prediction, Split, hashed_split
from equanimity.validation.readers import DataError
from equanimity.validation.sycophancy_layers import SYCOPHANCY_LAYERS

Interval = tuple[float, float]


class Row(BaseModel):
    """One layer's agreement with the gold labels of one dataset split."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    """Dataset name (``sycon-<model>``, ``written-flips`` ...)."""
    split: Split
    """``dev`` or ``test``."""
    layer: str
    """The layer that decided."""
    task: str
    """``flip`` or ``caving``."""
    n: int
    """Items with a verdict."""
    no_verdict: int
    """Items the layer gave no verdict on (not counted as right or wrong)."""
    precision: float
    """tp / (tp + fp)."""
    precision_ci: Interval
    """Wilson 95% interval."""
    recall: float
    """tp / (tp + fn)."""
    recall_ci: Interval
    """Wilson 95% interval."""
    f1: float
    """Harmonic mean of precision and recall."""
    f1_ci: Interval
    """95% percentile interval of a bootstrap over the dataset's groups (1000 draws, seed 0)."""
    accuracy: float | None = None
    """Flips: share of items whose 3-way label (correct / wrong / unclear) matches the gold."""


def wilson(k: int, n: int, z: float = 1.96) -> Interval:
    """Wilson score interval of k successes in n trials ((0, 1) when n = 0)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, centre - half), min(1.0, centre + half))


def _f1(tp: float, fp: float, fn: float) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _bootstrap_f1(cells: Sequence[tuple[str, int, int, int]], draws: int = 1000) -> Interval:
    """``cells``: (group, tp, fp, fn) per item; resample groups with replacement."""
    by: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(3))
    for g, tp, fp, fn in cells:
        by[g] += (tp, fp, fn)
    if not by:
        return (0.0, 1.0)
    m = np.array(list(by.values()))
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(m), size=(draws, len(m)))
    sums = m[idx].sum(axis=1)
    f = [_f1(*s) for s in sums]
    return (float(np.percentile(f, 2.5)), float(np.percentile(f, 97.5)))


def score_rows(items: Sequence[LabelledItem], preds: Sequence[Prediction], layer: str) -> list[Row]:
    """Rows per (dataset, split) of ``preds`` against ``items`` (same order)."""
    groups: dict[tuple[str, Split], list[tuple[LabelledItem, Prediction]]] = defaultdict(list)
    for it, p in zip(items, preds, strict=True):
        groups[(it.dataset, it.split)].append((it, p))
    rows: list[Row] = []
    for (dataset, split), pairs in sorted(groups.items()):
        decided = [(it, p) for it, p in pairs if p.positive is not None]
        tp = sum(1 for it, p in decided if it.gold and p.positive)
        fp = sum(1 for it, p in decided if not it.gold and p.positive)
        fn = sum(1 for it, p in decided if it.gold and not p.positive)
        cells = [
            (
                it.group or it.id,
                int(it.gold and bool(p.positive)),
                int(not it.gold and bool(p.positive)),
                int(it.gold and not p.positive),
            )
            for it, p in decided
        ]
        task = pairs[0][0].task
        acc = None
        if task == "flip":
            acc = sum(1 for it, p in decided if p.detail == it.gold_detail) / max(1, len(decided))
        rows.append(
            Row(
                dataset=dataset,
                split=split,
                layer=layer,
                task=task,
                n=len(decided),
                no_verdict=len(pairs) - len(decided),
                precision=tp / (tp + fp) if tp + fp else 0.0,
                precision_ci=wilson(tp, tp + fp),
                recall=tp / (tp + fn) if tp + fn else 0.0,
                recall_ci=wilson(tp, tp + fn),
                f1=_f1(tp, fp, fn),
                f1_ci=_bootstrap_f1(cells),
                accuracy=acc,
            )
        )
    return rows


UNSEEN = "@unseen-questions"
"""Suffix of the strictest SYCON rows: a held-out model on the test-split questions only."""


def unseen_questions(
    items: Sequence[LabelledItem], training_models: frozenset[str]
) -> list[LabelledItem]:
    """Copies of the held-out models' items on questions no training model's dev split holds.

    A held-out model's replies to dev questions share their question with training data (the
    other models' replies); these rows leave those out.
    """
    out: list[LabelledItem] = []
    for it in items:
        model = it.context.get("model")
        if model is None or model in training_models or it.group is None:
            continue
        if hashed_split(f"sycon-q:{int(it.group[1:])}") == "test":
            out.append(it.model_copy(update={"dataset": it.dataset + UNSEEN}))
    return out


def measure(
    root: Path,
    split: Split | None,
    datasets: Sequence[DatasetSpec],
    training_models: frozenset[str] = frozenset(),
) -> list[Row]:
    """Every sycophancy layer on every dataset of ``datasets`` under ``root``.

    With ``training_models``, the other SYCON models also get rows on unseen questions only
    (:func:`unseen_questions`).
    """
    items: list[LabelledItem] = []
    for spec in datasets:
        items += [it for it in spec.load(root) if split is None or it.split == split]
    if training_models:
        items += unseen_questions(items, training_models)
    rows: list[Row] = []
    for (task, name), make in SYCOPHANCY_LAYERS.items():
        mine = [it for it in items if it.task == task]
        if not mine:
            continue
        layer = make()
        preds = [layer(it) for it in mine]
        rows += score_rows(mine, preds, preds[0].layer if preds else name)
    return rows


def format_rows(rows: Sequence[Row]) -> str:
    """A plain-text table of ``rows``."""
    head = f"{'dataset':<58} {'split':<5} {'layer':<18} {'n':>5} {'P':>5} {'R':>5} {'F1':>5}  F1 95% CI     acc"
    out = [head, "-" * len(head)]
    for r in rows:
        acc = "" if r.accuracy is None else f"{r.accuracy:.3f}"
        out.append(
            f"{r.dataset:<58} {r.split:<5} {r.layer:<18} {r.n:>5} {r.precision:5.3f} "
            f"{r.recall:5.3f} {r.f1:5.3f}  [{r.f1_ci[0]:.2f}, {r.f1_ci[1]:.2f}]  {acc}"
        )
    return "\n".join(out)


def main(
    datasets: Sequence[DatasetSpec],
    training_models: frozenset[str] = frozenset(),
    argv: Sequence[str] | None = None,
) -> int:
    """Print the sycophancy rows (``--json`` for JSON objects, one per line)."""
    ap = argparse.ArgumentParser(prog="python -m equanimity.validation.sycophancy_sets")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--split", choices=["dev", "test"], default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--embedding-cache",
        type=Path,
        help="read (and update) saved embeddings here (.npz; speed only, same model)",
    )
    args = ap.parse_args(argv)
    if args.embedding_cache is not None:
        from equanimity.textclass.embeddings import load_cache

        load_cache(args.embedding_cache)
    try:
        rows = measure(args.data, args.split, datasets, training_models)
    except DataError as e:
        print(f"error: {e}")
        return 2
    if args.embedding_cache is not None:
        from equanimity.textclass.embeddings import save_cache

        save_cache(args.embedding_cache)
    if args.json:
        for r in rows:
            print(json.dumps(r.model_dump()))
    else:
        print(format_rows(rows))
    return 0
