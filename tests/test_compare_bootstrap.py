"""The chunked paired bootstrap draws exactly what the one-matrix draw did (bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from equanimity.compare import stats
from equanimity.compare.stats import BOOTSTRAP_SEED, paired_bootstrap


def _one_matrix_means(d: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The original draw: one (resamples x n) index matrix."""
    rng = np.random.default_rng(seed)
    means: np.ndarray = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    return means


@pytest.mark.parametrize("n", [1, 2, 7, 33, 101, 1000])
@pytest.mark.parametrize("resamples", [1, 255, 256, 257, 1000, 10_000])
def test_chunked_bootstrap_is_bit_identical(n: int, resamples: int) -> None:
    d = np.random.default_rng(n).normal(0.1, 1.0, size=n)
    got = stats._resampled_means(d, resamples, np.random.default_rng(BOOTSTRAP_SEED))
    assert np.array_equal(got, _one_matrix_means(d, resamples, BOOTSTRAP_SEED))


def test_chunking_does_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    diffs = [0.5, -1.0, 0.25, 2.0, 0.0, 1.5, -0.75]
    expected = paired_bootstrap(diffs, resamples=5_000, seed=11)
    assert not any(math.isnan(x) for x in expected)
    for chunk in (1, 3, 64, 4_999, 20_000):
        monkeypatch.setattr(stats, "BOOTSTRAP_CHUNK", chunk)
        assert paired_bootstrap(diffs, resamples=5_000, seed=11) == expected
    means = _one_matrix_means(np.asarray(diffs), 5_000, 11)
    assert expected[:2] == tuple(float(q) for q in np.quantile(means, [0.025, 0.975]))


def test_bootstrap_index_matrix_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """No draw asks for more than BOOTSTRAP_CHUNK rows at once."""
    rows: list[int] = []
    real = np.random.default_rng

    class Spy:
        def __init__(self, seed: int) -> None:
            self._rng = real(seed)

        def integers(self, low: int, high: int, size: tuple[int, int]) -> np.ndarray:
            rows.append(size[0])
            return self._rng.integers(low, high, size=size)

    monkeypatch.setattr(np.random, "default_rng", Spy)
    paired_bootstrap([1.0, 2.0, 3.0], resamples=1_000)
    assert rows and max(rows) <= stats.BOOTSTRAP_CHUNK
    assert sum(rows) == 1_000
