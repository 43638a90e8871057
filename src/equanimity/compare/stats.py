"""Paired statistics for two runs of the same scenarios (one pair per scenario).

Both runs are first reduced to one value per scenario (the mean over its epochs and its branch
replay, :func:`equanimity.analysis.frame.scenario_means`), so a scenario is one pair whatever
the epochs.

- Every scenario's value 0 or 1 in both runs (deterministic 0/1 outcomes): McNemar's test
  (statsmodels; exact binomial when the discordant count is small) and Newcombe's hybrid score
  interval for the difference of paired proportions (Newcombe 1998, *Statistics in Medicine*
  17:2635-2650, method 10), on statsmodels' Wilson intervals.
- Anything else (means, or rates whose epochs disagree within a scenario): a paired sign-flip
  permutation test on the per-scenario differences (``scipy.stats.permutation_test``, exact
  when 2^n is at most the resamples) and a seeded percentile bootstrap interval of the mean
  difference (``scipy.stats.bootstrap``). When every scenario differs by the same amount the
  interval is given as n/a with the reason, not as a zero-width interval.

Every difference is *candidate minus baseline*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from statsmodels.stats.contingency_tables import mcnemar

from equanimity.intervals import wilson

EXACT_BELOW = 25
"""McNemar uses the exact binomial test when fewer pairs than this are discordant."""

BOOTSTRAP_RESAMPLES = 9_999
"""Resamples of the sign-flip test (exact below 2^14 scenarios) and of the bootstrap."""

BOOTSTRAP_SEED = 20250801
"""Fixed seed of the resampling, so a comparison is reproducible."""

TestName = Literal["mcnemar-exact", "mcnemar-chi2", "sign-flip", "none"]


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
    note: str | None = None
    """Why the interval is n/a (None when it is given)."""

    @property
    def has_interval(self) -> bool:
        """Whether both ends of the interval of the difference are numbers."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    def interval_text(self) -> str:
        """``[low, high]`` of the difference (signed), or ``n/a (reason)``."""
        if self.has_interval:
            return f"[{self.low:+.3f}, {self.high:+.3f}]"
        return f"n/a ({self.note})" if self.note else "n/a"

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


def paired_mean_test(
    diffs: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float, float, str | None]:
    """(low, high, p-value, note) for the mean of per-scenario paired differences.

    p-value: two-sided sign-flip permutation test (``scipy.stats.permutation_test``,
    ``permutation_type="samples"``; exact enumeration when 2^n <= ``resamples``). Interval:
    percentile bootstrap (``scipy.stats.bootstrap``, seeded). The interval is NaN, with the
    reason in ``note``, for fewer than 2 scenarios or when every difference is the same.
    """
    from scipy.stats import bootstrap, permutation_test

    d = np.asarray(diffs, dtype=float)
    n = d.size
    nan = math.nan
    if n == 0:
        return (nan, nan, nan, "no paired scenario")
    if np.allclose(d, 0.0):
        return (nan, nan, 1.0, f"no change in any of the {n} scenarios")

    def mean_stat(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.mean(x, axis=axis))

    test = permutation_test(
        (d,),
        mean_stat,
        permutation_type="samples",
        alternative="two-sided",
        n_resamples=resamples,
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    pvalue = float(min(1.0, test.pvalue))
    if n < 2:
        return (nan, nan, pvalue, "one scenario: no spread to estimate an interval from")
    if np.allclose(d, d[0]):
        return (nan, nan, pvalue, f"every scenario changed by the same {d[0]:+.3f}")
    ci = bootstrap(
        (d,),
        mean_stat,
        method="percentile",
        n_resamples=resamples,
        vectorized=True,
        rng=np.random.default_rng(seed),
    ).confidence_interval
    return (float(ci.low), float(ci.high), pvalue, None)


def is_binary(values: Sequence[float]) -> bool:
    """Whether every value is 0 or 1."""
    return all(v in (0.0, 1.0) for v in values)


def compare_paired(baseline: Sequence[float], candidate: Sequence[float]) -> PairedResult:
    """Compare paired per-scenario values.

    McNemar + Newcombe when all are 0/1, else the sign-flip test with a bootstrap interval
    (see the module docstring).
    """
    if len(baseline) != len(candidate):
        raise ValueError("paired comparison needs equally many baseline and candidate values")
    n = len(baseline)
    if n == 0:
        nan = math.nan
        return PairedResult(0, nan, nan, nan, nan, nan, nan, "none", note="no paired scenario")
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
    low, high, p, note = paired_mean_test(diffs)
    return PairedResult(n, mb, mc, mc - mb, low, high, p, "sign-flip", note=note)
