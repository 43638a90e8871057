"""Parts 1 and 2: replay overhead against plain inspect-ai, and how it scales with samples."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.measure import median, run_child

VARIANTS = ("equanimity", "plain")
"""The full pipeline, and plain inspect-ai with the same turns and model."""


@dataclass
class VariantRuns:
    """Repeated measurements of one variant at one size."""

    variant: str
    """``equanimity`` or ``plain``."""
    samples: int
    """Samples per run."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """One child measurement per repeat."""

    def med(self, key: str) -> float:
        """Median of one measured quantity over the repeats."""
        return median([float(r[key]) for r in self.runs])


@dataclass
class Overhead:
    """Both variants at one size, repeated, with the ratios of medians."""

    samples: int
    """Samples per run."""
    equanimity: VariantRuns
    """The full pipeline."""
    plain: VariantRuns
    """Plain inspect-ai."""

    def ratio(self, key: str) -> float:
        """equanimity median / plain median for ``key`` (wall_s, cpu_s, peak_rss_mb)."""
        return self.equanimity.med(key) / self.plain.med(key)


def measure_overhead(samples: int, repeats: int, conn: int,
                     log: Callable[[str], None]) -> Overhead:
    """Run both variants ``repeats`` times each, alternating which goes first."""
    eq, pl = VariantRuns("equanimity", samples), VariantRuns("plain", samples)
    with tempfile.TemporaryDirectory(prefix="eqbench-") as tmp:
        for i in range(repeats):
            order = VARIANTS if i % 2 == 0 else VARIANTS[::-1]
            for v in order:
                r = run_child("replay", v, str(samples), tmp, str(conn))
                if r.get("status") != "success" or r.get("samples") != samples:
                    raise RuntimeError(f"{v} at {samples}: status {r.get('status')}, "
                                       f"{r.get('samples')} samples completed")
                (eq if v == "equanimity" else pl).runs.append(r)
                log(f"  {v:10s} n={samples:5d} run {i + 1}/{repeats}: wall {r['wall_s']:7.1f} s"
                    f"  cpu {r['cpu_s']:7.1f} s  peak {r['peak_rss_mb']:6.0f} MiB"
                    f"  load {r['load_start']:.1f}")
    return Overhead(samples, eq, pl)
