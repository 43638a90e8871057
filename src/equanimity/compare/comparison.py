"""Compare two runs: pair them, test every headline metric, list the flipped samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from equanimity.analysis.frame import Run, load_run
from equanimity.compare.flips import Flip, find_flips
from equanimity.compare.metrics import MetricComparison, compare_headlines
from equanimity.compare.pairing import Pairing, pair_runs
from equanimity.provenance import scorer_change


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
    scorer_warning: str | None = None
    """How the two runs' scorers differ, when compared anyway (``--allow-scorer-change``)."""

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


class ScorerChangeError(ValueError):
    """The two runs were scored differently (and the change was not allowed)."""


def check_scorers(baseline: Run, candidate: Run, allow: bool = False) -> str | None:
    """How the runs' scorers differ (None when they match).

    Raises :class:`ScorerChangeError` when they differ and ``allow`` is not set.
    """
    change = scorer_change(
        baseline.header.eval.metadata, candidate.header.eval.metadata, baseline.path, candidate.path
    )
    if change and not allow:
        raise ScorerChangeError(f"{change}; or pass --allow-scorer-change to compare anyway")
    return change


def compare_runs(
    baseline: Run,
    candidate: Run,
    intersection: bool = False,
    alpha: float = 0.05,
    allow_scorer_change: bool = False,
) -> Comparison:
    """Pair two runs (see :func:`pair_runs`) and compare every headline metric.

    Runs scored differently (see :mod:`equanimity.provenance`) raise
    :class:`ScorerChangeError` unless ``allow_scorer_change``.
    """
    warning = check_scorers(baseline, candidate, allow_scorer_change)
    pairing = pair_runs(baseline, candidate, intersection)
    return Comparison(
        pairing, compare_headlines(pairing, alpha), find_flips(pairing), alpha, warning
    )


def compare_logs(
    baseline: str | Path,
    candidate: str | Path,
    intersection: bool = False,
    alpha: float = 0.05,
    allow_scorer_change: bool = False,
) -> Comparison:
    """Read two logs and compare them."""
    return compare_runs(
        load_run(baseline), load_run(candidate), intersection, alpha, allow_scorer_change
    )
