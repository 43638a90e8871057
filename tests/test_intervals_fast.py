"""The light Wilson and t bounds equal statsmodels' and scipy.stats' bit for bit."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from scipy.stats import t
from statsmodels.stats.proportion import proportion_confint

from equanimity.intervals import LEVEL, t_bounds, wilson_bounds


@pytest.mark.parametrize("level", [LEVEL, 0.9, 0.99])
def test_wilson_bounds_equal_statsmodels(level: float) -> None:
    checked = 0
    for n in [1, 2, 3, 5, 7, 10, 13, 50, 91, 100, 333, 1000, 10_000]:
        for k in range(0, n + 1, max(1, n // 37)):
            for successes in (float(k), k + 0.5 if k < n else float(k), k / 3):
                want = proportion_confint(successes, n, alpha=1 - level, method="wilson")
                assert wilson_bounds(successes, n, level) == want, (successes, n, level)
                checked += 1
    assert checked > 500


@pytest.mark.parametrize("level", [LEVEL, 0.9])
def test_t_bounds_equal_scipy(level: float) -> None:
    for df in [1, 2, 3, 4, 9, 30, 90, 331, 5000]:
        for loc in (0.0, 0.37, 2.5, -1.25):
            for scale in (1e-6, 0.013, 0.5, 3.0):
                low, high = t.interval(level, df, loc=loc, scale=scale)
                assert t_bounds(level, df, loc, scale) == (float(low), float(high))


def test_computing_an_interval_imports_neither_statsmodels_nor_scipy_stats() -> None:
    code = (
        "import sys; from equanimity.intervals import interval; "
        "interval([0.0, 1.0, 1.0], 'rate'); interval([1.0, 2.0, 4.0], 'mean'); "
        "print(sorted(m for m in sys.modules if m.startswith(('statsmodels', 'scipy.stats'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert not math.isnan(t_bounds(LEVEL, 2, 0.0, 1.0)[0])


def test_a_share_outside_0_1_gives_nan_like_statsmodels() -> None:
    # statsmodels takes numpy's sqrt (NaN, a warning); a math.sqrt ValueError once errored
    # every simulated-user run
    import warnings

    for successes, n in [(3, 2), (-1, 2)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = proportion_confint(successes, n, 0.05, "wilson")
        assert all(math.isnan(x) for x in expected)
        assert all(math.isnan(x) for x in wilson_bounds(successes, n))
