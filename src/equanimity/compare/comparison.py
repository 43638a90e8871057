"""Compare two runs: pair them, test every headline metric, list the flipped samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from equanimity.analysis.frame import Run, load_run
from equanimity.compare.flips import Flip, find_flips
from equanimity.compare.metrics import MetricComparison, compare_headlines
from equanimity.compare.pairing import Pairing, pair_runs


@dataclass
class Comparison:
    """Everything a compare report shows."""

    pairing: Pairing
    """The aligned samples of both runs."""
    metrics: list[MetricComparison]
    """Each headline metric overall, then per category."""
    flips: list[Flip]
    """Samples whose outcome changed, worst first."""
    alpha: float
    """Significance level of the verdicts."""

    @property
    def baseline(self) -> Run:
        """The reference run."""
        return self.pairing.baseline

    @property
    def candidate(self) -> Run:
        """The run under test."""
        return self.pairing.candidate

    @property
    def regressions(self) -> list[MetricComparison]:
        """Metrics (overall or per category) that got significantly worse."""
        return [m for m in self.metrics if m.verdict == "regression"]

    def errored(self) -> tuple[int, int]:
        """Errored paired samples in the baseline and in the candidate."""
        return (
            int(self.pairing.base["error"].notna().sum()),
            int(self.pairing.cand["error"].notna().sum()),
        )


def compare_runs(
    baseline: Run, candidate: Run, intersection: bool = False, alpha: float = 0.05
) -> Comparison:
    """Pair two runs (see :func:`pair_runs`) and compare every headline metric."""
    pairing = pair_runs(baseline, candidate, intersection)
    return Comparison(pairing, compare_headlines(pairing, alpha), find_flips(pairing), alpha)


def compare_logs(
    baseline: str | Path, candidate: str | Path, intersection: bool = False, alpha: float = 0.05
) -> Comparison:
    """Read two logs and compare them."""
    return compare_runs(load_run(baseline), load_run(candidate), intersection, alpha)
