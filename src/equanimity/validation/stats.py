"""Precision, recall and F1 with 95% intervals.

Precision and recall: Wilson score intervals (``statsmodels``). F1: a percentile bootstrap
over groups (``scipy.stats.bootstrap``), resampling whole conversations / prompts so that
replies of one conversation are not counted as independent evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import bootstrap
from statsmodels.stats.proportion import proportion_confint

Interval = tuple[float, float] | None
RESAMPLES = 2000
SEED = 12


def wilson(successes: int, n: int) -> Interval:
    """The 95% Wilson interval of ``successes / n``; None when ``n`` is 0."""
    if n == 0:
        return None
    lo, hi = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def f1_of(tp: int, fp: int, fn: int) -> float | None:
    """F1 = 2tp / (2tp + fp + fn); None when there is no positive, gold or predicted."""
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else None


def _f1_stat(
    tp: NDArray[np.float64], fp: NDArray[np.float64], fn: NDArray[np.float64], axis: int = -1
) -> NDArray[np.float64]:
    t = tp.sum(axis=axis)
    denom = 2 * t + fp.sum(axis=axis) + fn.sum(axis=axis)
    return np.where(denom > 0, 2 * t / np.where(denom > 0, denom, 1), np.nan)


def f1_interval(groups: Sequence[str], gold: Sequence[bool], pred: Sequence[bool]) -> Interval:
    """95% percentile-bootstrap interval of F1, resampling ``groups`` (one per item).

    None when F1 is undefined, or when there are fewer than two groups.
    """
    per: dict[str, list[int]] = {}
    for g, y, p in zip(groups, gold, pred, strict=True):
        c = per.setdefault(g, [0, 0, 0])
        c[0] += y and p
        c[1] += p and not y
        c[2] += y and not p
    counts = np.array(list(per.values()), dtype=float)
    if len(counts) < 2 or f1_of(*(int(x) for x in counts.sum(axis=0))) is None:
        return None
    if counts[:, 1].sum() + counts[:, 2].sum() == 0:
        return 1.0, 1.0  # no error anywhere: every resample has F1 1
    res = bootstrap(
        (counts[:, 0], counts[:, 1], counts[:, 2]),
        _f1_stat,
        paired=True,
        vectorized=True,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    lo, hi = res.confidence_interval
    if np.isnan(lo) or np.isnan(hi):
        return None
    return float(lo), float(hi)
