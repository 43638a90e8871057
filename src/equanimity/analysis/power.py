"""Minimum detectable differences for the scenarios at hand (statsmodels power classes).

A pass means little when the run could not have seen a failure: with 10 scenarios the gate
cannot tell a referral rate of 1.0 from one of 0.8. Every threshold, regression check and
headline therefore states the smallest change it would detect at alpha = 0.05 (two-sided) with
power 0.8, for its number of scenarios (the unit of every interval and test):

- **Rates**: Cohen's h (the arcsine effect size of ``statsmodels.stats.proportion``) solved with
  ``NormalIndPower``: a one-sample design (``ratio=0``: one run against a fixed value, as a
  threshold rule or a report headline is) or a two-sample design (``ratio=1``: two runs of n
  scenarios each, as compare and ``no_regression`` are; this ignores the pairing, so it is
  conservative for the paired McNemar test, which gains power when the runs agree on most
  scenarios). The detectable value is the rate h away from the reference in the bad direction.
- **Means**: Cohen's d solved with ``TTestPower`` (one-sample) or ``TTestIndPower``
  (two-sample), times the standard deviation of the scenario means. With no spread across
  scenarios there is nothing to size a change by, and the answer is n/a with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ALPHA = 0.05
"""Two-sided significance level of the power calculation."""

POWER = 0.8
"""Power of the power calculation."""

Design = Literal["one-sample", "two-sample"]
Worse = Literal["lower", "higher", "either"]


@dataclass(frozen=True)
class Detectable:
    """The smallest change from a reference value that a test over n scenarios would detect."""

    reference: float
    """The value a change is measured from (the run's, or the baseline's)."""
    bound: float
    """The value a change must reach to be detected (NaN when none in range, or n/a)."""
    diff: float
    """``|bound - reference|``: the minimum detectable difference (NaN when n/a)."""
    n: int
    """Scenarios per run."""
    design: Design
    """One run against a fixed value, or two runs of n scenarios each."""
    worse: Worse
    """The direction of the change looked for (``lower``: a drop)."""
    note: str | None = None
    """Why no bound is given (None when it is)."""

    def text(self, label: str) -> str:
        """E.g. "can detect a drop in referral-on-risk from 1.00 to <= 0.78"."""
        if self.note:
            return f"minimum detectable change in {label}: n/a ({self.note})"
        what = {"lower": "a drop", "higher": "a rise", "either": "a change"}[self.worse]
        if self.worse == "either":
            return (
                f"can detect {what} of ±{self.diff:.3f} in {label} from {self.reference:.3f} "
                f"(n={self.n} scenarios)"
            )
        op = "<=" if self.worse == "lower" else ">="
        return (
            f"can detect {what} in {label} from {self.reference:.2f} to {op} {self.bound:.2f} "
            f"(n={self.n} scenarios)"
        )

    def sentence(self, subject: str, label: str) -> str:
        """E.g. "this run can detect a drop in referral_on_risk from 1.00 to <= 0.78 (...)"."""
        if self.note:
            return f"{subject}: no minimum detectable change in {label} ({self.note})"
        return f"{subject} {self.text(label)}"

    def short(self) -> str:
        """Compact form for tables: ``<= 0.78``, ``±0.412``, or ``n/a (reason)``."""
        if self.note:
            return f"n/a ({self.note})"
        if self.worse == "either":
            return f"±{self.diff:.3f}"
        return f"{'<=' if self.worse == 'lower' else '>='} {self.bound:.2f}"


def _na(ref: float, n: int, design: Design, worse: Worse, note: str) -> Detectable:
    return Detectable(ref, math.nan, math.nan, n, design, worse, note)


def detectable_h(n: int, design: Design, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest Cohen's h (rates) detectable with n scenarios per run."""
    from statsmodels.stats.power import NormalIndPower

    ratio = 0.0 if design == "one-sample" else 1.0
    h = NormalIndPower().solve_power(
        effect_size=None, nobs1=n, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    return float(h)


def detectable_d(n: int, design: Design, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest Cohen's d (means) detectable with n scenarios per run (t tests)."""
    from statsmodels.stats.power import TTestIndPower, TTestPower

    if design == "one-sample":
        d = TTestPower().solve_power(
            effect_size=None, nobs=n, alpha=alpha, power=power, alternative="two-sided"
        )
    else:
        d = TTestIndPower().solve_power(
            effect_size=None, nobs1=n, alpha=alpha, power=power, ratio=1.0
        )
    return float(d)


def rate_mde(
    reference: float,
    n: int,
    worse: Worse,
    design: Design = "one-sample",
    alpha: float = ALPHA,
    power: float = POWER,
) -> Detectable:
    """The rate a run of n scenarios could tell apart from ``reference`` (Cohen's h)."""
    if n < 1 or math.isnan(reference):
        return _na(reference, n, design, worse, "no applicable scenario")
    h = detectable_h(n, design, alpha, power)
    phi = 2 * math.asin(math.sqrt(min(1.0, max(0.0, reference))))
    if worse == "either":
        # the smaller of the two directions' changes that stay inside [0, 1]
        cands = [p for p in (phi - h, phi + h) if 0.0 <= p <= math.pi]
        if not cands:
            return _na(reference, n, design, worse, f"no change within [0, 1] at n={n}")
        diffs = [abs(math.sin(p / 2) ** 2 - reference) for p in cands]
        d = min(diffs)
        return Detectable(reference, math.nan, d, n, design, worse)
    phi1 = phi - h if worse == "lower" else phi + h
    if not 0.0 <= phi1 <= math.pi:
        what = "drop" if worse == "lower" else "rise"
        edge = reference <= 0.0 if worse == "lower" else reference >= 1.0
        why = (
            f"already at {reference:.2f}: no {what} is possible"
            if edge
            else f"no {what} from {reference:.2f} within [0, 1] is detectable at n={n}"
        )
        return _na(reference, n, design, worse, why)
    bound = math.sin(phi1 / 2) ** 2
    return Detectable(reference, bound, abs(bound - reference), n, design, worse)


def mean_mde(
    reference: float,
    scenario_means: Sequence[float],
    worse: Worse,
    design: Design = "one-sample",
    alpha: float = ALPHA,
    power: float = POWER,
) -> Detectable:
    """The mean a run of n scenarios could tell apart from ``reference`` (Cohen's d x SD)."""
    vals = [float(v) for v in scenario_means]
    n = len(vals)
    if n < 2:
        return _na(reference, n, design, worse, "fewer than 2 scenarios")
    m = sum(vals) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (n - 1))
    return mean_mde_sd(reference, sd, n, worse, design, alpha, power)


def mean_mde_sd(
    reference: float,
    sd: float,
    n: int,
    worse: Worse,
    design: Design = "one-sample",
    alpha: float = ALPHA,
    power: float = POWER,
) -> Detectable:
    """As :func:`mean_mde`, from the standard deviation of the scenario means."""
    if n < 2:
        return _na(reference, n, design, worse, "fewer than 2 scenarios")
    if not sd > 1e-12 * max(1.0, abs(reference) if not math.isnan(reference) else 1.0):
        return _na(reference, n, design, worse, "no spread across scenarios to size a change by")
    diff = detectable_d(n, design, alpha, power) * sd
    if worse == "either":
        return Detectable(reference, math.nan, diff, n, design, worse)
    bound = reference - diff if worse == "lower" else reference + diff
    return Detectable(reference, bound, diff, n, design, worse)


def worse_direction(direction: str) -> Worse:
    """The change to look for given a metric's better direction (higher is better: a drop)."""
    if direction == "higher":
        return "lower"
    if direction == "lower":
        return "higher"
    return "either"
