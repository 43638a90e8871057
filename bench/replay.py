"""Parts 1 and 2: replay overhead against plain inspect-ai, and how it scales with samples."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.measure import median, run_child

MAIN_VARIANTS = ("equanimity", "plain", "plain-collector")
"""The full pipeline, plain inspect-ai with the same turns and model, and plain inspect-ai
under the collector settings ``equanimity run`` uses (:mod:`equanimity.collector`): the
headline ratio is against plain as users run it, the like-for-like one against the latter."""

DECOMPOSE_VARIANTS = ("plain-tool", "floor", "replay-only", "equanimity-live")

LEARNED_VARIANT = "equanimity-learned"
"""The full pipeline with the learned (embedding) layer on: added by ``--learned``."""

DRIFT_LIMIT = 0.10
"""Largest spread of the floor's (or, without it, plain's) wall times between repeats, as a
fraction of the fastest, for which the benchmark still gives a verdict."""
"""Extra variants that split the overhead: plain inspect-ai offering the same tool; that plus
five do-nothing scorers (inspect's floor for a tool-offering, five-scorer task); the replay
solver and tool without scorers; the full pipeline with inspect's live metrics
(``score_display=True``, what ``equanimity run`` did before it turned them off)."""

LABELS = {
    "equanimity": "equanimity (replay + tool + 5 scorers, as `equanimity run`)",
    "plain": "plain inspect-ai (generate, no tools, no scorers)",
    "plain-tool": "plain inspect-ai + `end_conversation` offered",
    "floor": "plain inspect-ai + tool + five no-op scorers (inspect's floor)",
    "replay-only": "equanimity replay + tool, no scorers",
    "equanimity-live": "equanimity with live metrics (`score_display=True`)",
    "equanimity-learned": "equanimity with the learned layer on (`--learned`)",
    "plain-collector": "plain inspect-ai under equanimity's collector settings",
}
"""Table labels of the variants."""


@dataclass
class VariantRuns:
    """Repeated measurements of one variant at one size."""

    variant: str
    """A variant name (see :data:`LABELS`)."""
    samples: int
    """Samples per run."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """One child measurement per repeat."""

    def med(self, key: str) -> float:
        """Median of one measured quantity over the repeats."""
        return median([float(r[key]) for r in self.runs])


@dataclass
class Overhead:
    """Every variant at one size, repeated, with ratios of medians against plain inspect-ai."""

    samples: int
    """Samples per run."""
    variants: dict[str, VariantRuns]
    """Runs by variant name."""

    @property
    def equanimity(self) -> VariantRuns:
        """The full pipeline."""
        return self.variants["equanimity"]

    @property
    def plain(self) -> VariantRuns:
        """Plain inspect-ai."""
        return self.variants["plain"]

    def ratio(self, key: str, variant: str = "equanimity") -> float:
        """``variant`` median / plain median for ``key`` (wall_s, cpu_s, peak_rss_mb)."""
        return self.variants[variant].med(key) / self.plain.med(key)

    def all_runs(self) -> list[dict[str, Any]]:
        """Every run of every variant."""
        return [r for v in self.variants.values() for r in v.runs]

    @property
    def anchor(self) -> str:
        """The variant whose repeats tell whether the machine stayed steady (floor, else plain)."""
        return "floor" if "floor" in self.variants else "plain"

    def drift(self, key: str = "wall_s") -> float | None:
        """Spread of the anchor's ``key`` (wall_s, cpu_s), (largest - smallest) / smallest.

        None with one run.
        """
        values = [float(r[key]) for r in self.variants[self.anchor].runs]
        if len(values) < 2:
            return None
        return (max(values) - min(values)) / min(values)

    def steady(self, key: str = "wall_s") -> bool:
        """Whether a verdict on ``key`` may be given: repeats, anchor drift within the limit."""
        d = self.drift(key)
        return d is not None and d <= DRIFT_LIMIT


def measure_overhead(
    samples: int,
    repeats: int,
    conn: int,
    log: Callable[[str], None],
    variants: Sequence[str] = MAIN_VARIANTS,
) -> Overhead:
    """Run each variant ``repeats`` times, rotating which goes first from one repeat to the next."""
    out = Overhead(samples, {v: VariantRuns(v, samples) for v in variants})
    names = list(variants)
    with tempfile.TemporaryDirectory(prefix="eqbench-") as tmp:
        for i in range(repeats):
            k = i % len(names)
            order = names[k:] + names[:k] if i % 2 == 0 else (names[k:] + names[:k])[::-1]
            for v in order:
                r = run_child("replay", v, str(samples), tmp, str(conn))
                if r.get("status") != "success" or r.get("samples") != samples:
                    raise RuntimeError(
                        f"{v} at {samples}: status {r.get('status')}, "
                        f"{r.get('samples')} samples completed"
                    )
                out.variants[v].runs.append(r)
                log(
                    f"  {v:16s} n={samples:5d} run {i + 1}/{repeats}: wall {r['wall_s']:7.1f} s"
                    f"  cpu {r['cpu_s']:7.1f} s  peak {r['peak_rss_mb']:6.0f} MiB"
                    f"  load {r['load_start']:.1f}→{r['load_end']:.1f}"
                )
    return out
