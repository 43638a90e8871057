"""Per-metric paired comparison: every headline metric, overall and per category."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from equanimity.analysis.headline import HEADLINES, Headline
from equanimity.analysis.power import Detectable, mean_mde_sd, rate_mde, worse_direction
from equanimity.compare.pairing import Pairing
from equanimity.compare.stats import PairedResult, compare_paired

Verdict = Literal["regression", "improvement", "changed", "no significant change", "no data"]


@dataclass(frozen=True)
class MetricComparison:
    """One headline metric compared between the runs, over all its categories or one."""

    headline: Headline
    """The metric."""
    category: str | None
    """The category compared (None: every category the metric covers)."""
    result: PairedResult
    """Paired values, difference, interval and test."""
    unpaired: int
    """Scenarios where the metric applies in only one run, or one run errored (left out)."""
    alpha: float
    """Significance level of :attr:`verdict`."""
    detectable: Detectable | None = None
    """The change from the baseline value the comparison could detect (alpha 0.05, power 0.8;
    two runs of n scenarios: see :mod:`equanimity.analysis.power`)."""

    @property
    def verdict(self) -> Verdict:
        """Regression or improvement when the paired test is significant, given direction."""
        r = self.result
        if r.n == 0:
            return "no data"
        if not r.significant(self.alpha):
            return "no significant change"
        if self.headline.direction == "info":
            return "changed"
        worse = r.diff < 0 if self.headline.direction == "higher" else r.diff > 0
        return "regression" if worse else "improvement"


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name].astype(float)
    return pd.Series(math.nan, index=df.index, dtype=float)


def paired_values(
    pairing: Pairing, headline: Headline, category: str | None = None
) -> tuple[list[float], list[float], int]:
    """Baseline and candidate per-scenario means of a metric where it applies in both runs.

    One pair per scenario: epochs and branch replays are averaged within it first.

    Returns the two aligned lists (sorted by scenario id) and the number of scenarios left out
    because the metric applied in one run only (or only errored samples there).
    """
    base, cand = pairing.base, pairing.cand
    mask = pd.Series(True, index=base.index)
    if headline.categories is not None:
        mask &= base["category"].isin(headline.categories)
    if category is not None:
        mask &= base["category"] == category
    bv = _column(base, headline.column).where(base["error"].isna())[mask]
    cv = _column(cand, headline.column).where(cand["error"].isna())[mask]
    scenario = base.loc[mask, "scenario_id"].astype(str)
    bm = bv.groupby(scenario).mean()
    cm = cv.groupby(scenario).mean()
    both = bm.notna() & cm.notna()
    one = bm.notna() ^ cm.notna()
    return bm[both].tolist(), cm[both].tolist(), int(one.sum())


def compare_metric(
    pairing: Pairing, headline: Headline, category: str | None = None, alpha: float = 0.05
) -> MetricComparison:
    """Compare one metric (optionally one category of it) over the paired samples."""
    b, c, unpaired = paired_values(pairing, headline, category)
    result = compare_paired(b, c)
    return MetricComparison(
        headline, category, result, unpaired, alpha, paired_detectable(headline, b, c)
    )


def paired_detectable(headline: Headline, base: list[float], cand: list[float]) -> Detectable:
    """The change from the baseline a comparison over these scenarios could detect.

    Rates: Cohen's h, two runs of n scenarios (conservative for the paired McNemar test).
    Means: Cohen's d times the pooled standard deviation of the two runs' scenario means.
    """
    n = len(base)
    worse = worse_direction(headline.direction)
    ref = sum(base) / n if n else math.nan
    if headline.kind == "rate":
        return rate_mde(ref, n, worse, "two-sample")
    if n < 2:
        return mean_mde_sd(ref, math.nan, n, worse, "two-sample")
    sd = math.sqrt((float(np.var(base, ddof=1)) + float(np.var(cand, ddof=1))) / 2)
    return mean_mde_sd(ref, sd, n, worse, "two-sample")


def metric_categories(pairing: Pairing, headline: Headline) -> list[str]:
    """Categories of the paired samples the metric covers, sorted."""
    cats = set(pairing.base["category"].astype(str))
    if headline.categories is not None:
        cats &= set(headline.categories)
    return sorted(cats)


def compare_headlines(
    pairing: Pairing, alpha: float = 0.05, headlines: tuple[Headline, ...] = HEADLINES
) -> list[MetricComparison]:
    """Every headline metric overall, followed by its per-category comparisons with data."""
    out: list[MetricComparison] = []
    for h in headlines:
        overall = compare_metric(pairing, h, None, alpha)
        out.append(overall)
        if overall.result.n == 0:
            continue
        for cat in metric_categories(pairing, h):
            mc = compare_metric(pairing, h, cat, alpha)
            if mc.result.n:
                out.append(mc)
    return out
