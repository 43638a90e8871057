"""95% intervals over scenarios: Wilson for rates, Student t for means (statsmodels' and scipy's).

The unit of every interval is the *scenario* (a scenario and its branch replay together), with
epochs nested inside it: values are first averaged within each scenario, then the interval is
computed over the scenario means with n = number of scenarios. Repeating a deterministic model
(``--epochs``) therefore leaves every interval as it is, and repeating a stochastic one narrows
it by less than the square root of the epochs (only the within-scenario noise averages out).

- **Rates** (0/1 per sample): Wilson score interval (``statsmodels`` ``proportion_confint``) on
  the mean of the scenario means with n = scenarios. When epochs disagree a scenario's mean is a
  fraction; the Wilson width then uses p(1-p)/n, which bounds the variance of a mean of values in
  [0, 1], so the interval stays conservative.
- **Means** (counts such as turns held, per-reply rates, judge intensity): Student t interval
  (``scipy.stats.t``) over the scenario means, cut to the range the value can take. Counts
  never get a Wilson interval.
- No interval is invented: with fewer than two scenarios, or when every scenario gives the same
  mean (no spread to estimate the error from), the interval is NaN and :attr:`Interval.note`
  says why, instead of a zero-width interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

LEVEL = 0.95
"""Confidence level of every interval."""

Kind = Literal["rate", "mean"]
"""``rate``: 0/1 per sample (Wilson); ``mean``: any other value (t interval)."""

Method = Literal["wilson", "t", "none"]


@dataclass(frozen=True)
class Interval:
    """A point value with its 95% interval over scenarios (NaN bounds when none applies)."""

    value: float
    """Mean of the scenario means (NaN when no scenario applies)."""
    low: float
    """Lower 95% bound (NaN when no interval can be given; see :attr:`note`)."""
    high: float
    """Upper 95% bound (NaN when no interval can be given)."""
    n: int
    """Scenarios the interval is over."""
    method: Method
    """``wilson``, ``t``, or ``none`` (no interval)."""
    note: str | None = None
    """Why there is no interval (None when there is one)."""

    @property
    def has_interval(self) -> bool:
        """Whether both bounds are numbers."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    def text(self, digits: int = 3) -> str:
        """``[low, high]``, or ``n/a (reason)``."""
        if self.has_interval:
            return f"[{self.low:.{digits}f}, {self.high:.{digits}f}]"
        return f"n/a ({self.note})" if self.note else "n/a"


def _none(value: float, n: int, note: str) -> Interval:
    return Interval(value, math.nan, math.nan, n, "none", note)


def wilson_bounds(successes: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson bounds of statsmodels' ``proportion_confint(successes, n, 1 - level, "wilson")``.

    The same operations in the same order on the same float64 values, with the normal quantile
    from ``scipy.special.ndtri`` (what ``scipy.stats.norm.isf`` computes): importing
    statsmodels and scipy.stats costs ~2 s of CPU, a fifth of a 100-sample run
    (``tests/test_intervals_fast.py`` compares the two on a grid).
    """
    from scipy.special import ndtri

    q_ = successes / n
    crit = -float(ndtri((1 - level) / 2.0))
    crit2 = crit**2
    denom = 1 + crit2 / n
    center = (q_ + crit2 / (2 * n)) / denom
    radicand = q_ * (1.0 - q_) / n + crit2 / (4.0 * n**2)
    # statsmodels takes numpy's sqrt, which gives NaN (not an error) for a share outside [0, 1]
    dist = crit * (math.sqrt(radicand) if radicand >= 0 else math.nan)
    dist /= denom
    return min(max(center - dist, 0.0), 1.0), min(max(center + dist, 0.0), 1.0)


def t_bounds(level: float, df: int, loc: float, scale: float) -> tuple[float, float]:
    """``scipy.stats.t.interval(level, df, loc=loc, scale=scale)``, bit for bit.

    ``t.ppf`` is ``scipy.special.stdtrit(df, q) * scale + loc``; called directly it spares
    importing scipy.stats (see :func:`wilson_bounds`).
    """
    from scipy.special import stdtrit

    q1, q2 = (1.0 - level) / 2, (1.0 + level) / 2
    return (
        float(stdtrit(df, q1)) * scale + loc,
        float(stdtrit(df, q2)) * scale + loc,
    )


def wilson(successes: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for ``successes`` of ``n`` (statsmodels' result; NaN when ``n`` is 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    low, high = wilson_bounds(successes, n, level)
    p = successes / n
    # the Wilson interval contains p; clamp so rounding cannot push a bound past it (at p = 0
    # the lower bound can come out as ~1e-17, a negative error bar in charts)
    return (min(p, max(0.0, float(low))), max(p, min(1.0, float(high))))


def rate_interval(scenario_means: Sequence[float], level: float = LEVEL) -> Interval:
    """Wilson interval over scenarios for a 0/1 outcome (see the module docstring)."""
    vals = [float(v) for v in scenario_means]
    n = len(vals)
    if n == 0:
        return _none(math.nan, 0, "no applicable scenario")
    p = sum(vals) / n
    low, high = wilson(p * n, n, level)
    return Interval(p, low, high, n, "wilson")


def mean_interval(
    scenario_means: Sequence[float],
    level: float = LEVEL,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Interval:
    """Student t interval over scenarios for a mean (see the module docstring).

    ``bounds`` is the range the value can take (e.g. 0 to 1 for a share of replies, 0 up for a
    count): the interval is cut to it, so it never claims an impossible value.
    """
    vals = [float(v) for v in scenario_means]
    n = len(vals)
    if n == 0:
        return _none(math.nan, 0, "no applicable scenario")
    m = sum(vals) / n
    if n < 2:
        return _none(m, n, "one scenario: no spread to estimate an interval from")
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (n - 1))
    if sd <= 1e-12 * max(1.0, abs(m)):
        return _none(
            m, n, f"all {n} scenarios give {m:.3f}: no spread to estimate an interval from"
        )
    low, high = t_bounds(level, n - 1, m, sd / math.sqrt(n))
    low, high = max(bounds[0], float(low)), min(bounds[1], float(high))
    return Interval(m, low, high, n, "t")


def interval(
    scenario_means: Sequence[float],
    kind: Kind,
    level: float = LEVEL,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Interval:
    """The interval appropriate to ``kind`` (Wilson for rates, t for means cut to ``bounds``)."""
    if kind == "rate":
        return rate_interval(scenario_means, level)
    return mean_interval(scenario_means, level, bounds)
