"""Paired statistics for two runs of the same samples.

- Paired 0/1 outcomes: McNemar's test (statsmodels; exact binomial when the discordant count is
  small) and Newcombe's hybrid score interval for the difference of paired proportions
  (Newcombe 1998, *Statistics in Medicine* 17:2635-2650, method 10).
- Anything else (means, rates that are not 0/1): a paired bootstrap over pairs with a fixed seed
  (percentile interval; p-value from the null-shifted bootstrap distribution).

Every difference is *candidate minus baseline*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from statsmodels.stats.contingency_tables import mcnemar

from equanimity.scorers.metrics import Z95

EXACT_BELOW = 25
"""McNemar uses the exact binomial test when fewer pairs than this are discordant."""

BOOTSTRAP_RESAMPLES = 10_000
"""Bootstrap resamples for non-binary metrics."""

BOOTSTRAP_SEED = 20250801
"""Fixed seed of the paired bootstrap, so a comparison is reproducible."""

TestName = Literal["mcnemar-exact", "mcnemar-chi2", "bootstrap", "none"]


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on a paired 2x2 table."""

    statistic: float
    """Test statistic (the smaller discordant count for the exact test, else chi-square)."""
    pvalue: float
    """Two-sided p-value."""
    exact: bool
    """Whether the exact binomial version was used."""


@dataclass(frozen=True)
class PairedResult:
    """Comparison of one metric over paired samples (candidate minus baseline)."""

    n: int
    """Pairs where both values apply."""
    baseline: float
    """Baseline mean over the pairs (NaN when n is 0)."""
    candidate: float
    """Candidate mean over the pairs (NaN when n is 0)."""
    diff: float
    """Candidate minus baseline."""
    low: float
    """Lower end of the 95% interval of the difference."""
    high: float
    """Upper end of the 95% interval of the difference."""
    pvalue: float
    """Two-sided p-value of the paired test (NaN when there is nothing to test)."""
    test: TestName
    """Which paired test produced the p-value."""
    discordant: tuple[int, int] = (0, 0)
    """For 0/1 values: pairs that went 0→1 and 1→0 (baseline→candidate)."""

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the paired test rejects 'no difference' at level ``alpha``."""
        return not math.isnan(self.pvalue) and self.pvalue < alpha


def mcnemar_test(
    b: int, c: int, exact: bool | None = None, correction: bool = True
) -> McNemarResult:
    """McNemar's test from the two discordant counts ``b`` and ``c``.

    ``exact=None`` picks the exact binomial test when ``b + c`` is below :data:`EXACT_BELOW`,
    else the chi-square statistic (with Edwards' continuity correction unless
    ``correction=False``).
    """
    use_exact = (b + c) < EXACT_BELOW if exact is None else exact
    if b + c == 0:
        return McNemarResult(0.0, 1.0, use_exact)
    res = mcnemar([[0, b], [c, 0]], exact=use_exact, correction=correction)
    return McNemarResult(float(res.statistic), float(min(1.0, res.pvalue)), use_exact)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval for a single proportion."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    z2 = Z95**2
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_paired_interval(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """95% interval for p1 - p2 from paired 0/1 data (Newcombe 1998, method 10).

    ``a``: both 1; ``b``: first 1, second 0; ``c``: first 0, second 1; ``d``: both 0;
    p1 = (a + b) / n and p2 = (a + c) / n.
    """
    n = a + b + c + d
    if n == 0:
        return (math.nan, math.nan)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n)
    l2, u2 = wilson(a + c, n)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0 if denom == 0 else (a * d - b * c) / math.sqrt(denom)
    theta = p1 - p2
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (max(-1.0, theta - delta), min(1.0, theta + eps))


BOOTSTRAP_CHUNK = 256
"""Resamples drawn at a time: memory stays at ``BOOTSTRAP_CHUNK`` x n indices, not 10,000 x n."""


def _resampled_means(d: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``resamples`` resamples of ``d`` with replacement, drawn in chunks of rows.

    Drawing the same generator row-chunk by row-chunk consumes exactly the same random stream
    as one ``rng.integers(0, n, size=(resamples, n))`` call, so the means are bit-identical to
    the unchunked draw while the index matrix never exceeds ``BOOTSTRAP_CHUNK`` rows.
    """
    n = d.size
    means = np.empty(resamples, dtype=float)
    for start in range(0, resamples, BOOTSTRAP_CHUNK):
        k = min(BOOTSTRAP_CHUNK, resamples - start)
        means[start : start + k] = d[rng.integers(0, n, size=(k, n))].mean(axis=1)
    return means


def paired_bootstrap(
    diffs: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float, float]:
    """Percentile 95% interval and two-sided p-value for the mean of paired differences.

    Pairs are resampled with replacement (``numpy.random.default_rng(seed)``). The p-value is
    the share of resampled means at least as far from the observed mean as the observed mean is
    from zero (the bootstrap distribution shifted to the null), with the usual +1 correction.
    """
    d = np.asarray(diffs, dtype=float)
    n = d.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    observed = float(d.mean())
    means = _resampled_means(d, resamples, np.random.default_rng(seed))
    low, high = np.quantile(means, [0.025, 0.975])
    if np.allclose(d, 0.0):
        return (0.0, 0.0, 1.0)
    extreme = np.abs(means - observed) >= abs(observed) - 1e-12
    pvalue = (int(extreme.sum()) + 1) / (resamples + 1)
    return (float(low), float(high), float(min(1.0, pvalue)))


def is_binary(values: Sequence[float]) -> bool:
    """Whether every value is 0 or 1."""
    return all(v in (0.0, 1.0) for v in values)


def compare_paired(baseline: Sequence[float], candidate: Sequence[float]) -> PairedResult:
    """Compare paired values: McNemar + Newcombe for 0/1 values, else the paired bootstrap."""
    if len(baseline) != len(candidate):
        raise ValueError("paired comparison needs equally many baseline and candidate values")
    n = len(baseline)
    if n == 0:
        nan = math.nan
        return PairedResult(0, nan, nan, nan, nan, nan, nan, "none")
    base = [float(v) for v in baseline]
    cand = [float(v) for v in candidate]
    mb, mc = sum(base) / n, sum(cand) / n
    if is_binary(base) and is_binary(cand):
        both = sum(1 for x, y in zip(base, cand, strict=True) if x == 1 and y == 1)
        up = sum(1 for x, y in zip(base, cand, strict=True) if x == 0 and y == 1)
        down = sum(1 for x, y in zip(base, cand, strict=True) if x == 1 and y == 0)
        neither = n - both - up - down
        low, high = newcombe_paired_interval(both, up, down, neither)
        test = mcnemar_test(up, down)
        return PairedResult(
            n,
            mb,
            mc,
            mc - mb,
            low,
            high,
            test.pvalue,
            "mcnemar-exact" if test.exact else "mcnemar-chi2",
            (up, down),
        )
    diffs = [y - x for x, y in zip(base, cand, strict=True)]
    low, high, p = paired_bootstrap(diffs)
    return PairedResult(n, mb, mc, mc - mb, low, high, p, "bootstrap")
