"""Part 3: post-run work on large logs — re-scoring, report, compare, gate.

The logs are built from two real runs of the shipped library (reference personas ``steady`` and
``caver``: real replay records in the store, real scores) whose samples are replicated under new
ids up to each size; the two logs of a size hold the same sample ids, so ``compare`` pairs them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import run_child

OPERATIONS = ("rescore", "report", "compare", "gate")
"""Post-run operations measured, each in a fresh process."""


@dataclass
class PostResults:
    """Every post-run measurement, by size then operation."""

    sizes: list[int]
    """Log sizes (samples)."""
    template_samples: int = 0
    """Samples in the real template run that was replicated."""
    template_rescore: dict[str, Any] = field(default_factory=dict)
    """``rescore`` of the baseline template itself: real replies scored by these scorers, so
    the learned head's recorded probabilities are re-used (the replicated logs' replies are
    tagged per copy, so every reply of theirs is embedded again)."""
    build: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Replication of the baseline log at each size (for reference, not a target)."""
    log_mib: dict[int, float] = field(default_factory=dict)
    """Size on disk of the baseline log at each size."""
    ops: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """size → operation → child measurement."""
    rescore_again: dict[int, dict[str, Any]] = field(default_factory=dict)
    """size → ``rescore`` of the rescored log: its scores were written by these scorers, so
    the learned head's probabilities recorded for its replies are re-used (a rescore after a
    lexicon edit)."""


def _template(persona: str, work: Path) -> str:
    from equanimity.provenance import scorer_provenance

    # one template per version of the scorers: a template scored by other scorers would make
    # the rescore re-use nothing (or the wrong things) and compare refuse the pair
    digest = scorer_provenance()["digest"][:12]
    out = work / f"template-{persona}-{digest}"
    existing = sorted(glob.glob(str(out / "*.eval")))
    if existing:
        return existing[-1]
    r = run_child("template", persona, str(out))
    if r.get("status") != "success":
        raise RuntimeError(f"template run {persona}: status {r.get('status')}")
    return str(r["log"])


def _args(op: str, a: str, b: str, work: Path, n: int) -> list[str]:
    if op == "rescore":
        return [a, str(work / f"rescored-{n}.eval")]
    if op == "report":
        return [a, str(work / f"report-{n}.html")]
    if op == "compare":
        return [a, b, str(work / f"compare-{n}.html")]
    return [a]


def measure_post(
    sizes: list[int],
    work: Path,
    log: Callable[[str], None],
    ops: tuple[str, ...] = OPERATIONS,
    profile_dir: Path | None = None,
) -> PostResults:
    """Build the logs at each size and time every operation on them."""
    work.mkdir(parents=True, exist_ok=True)
    base_t, cand_t = _template("steady", work), _template("caver", work)
    res = PostResults(sizes)
    res.template_samples = _count(base_t)
    if "rescore" in ops:
        res.template_rescore = run_child("rescore", base_t, str(work / "rescored-template.eval"))
        r = res.template_rescore
        log(
            f"  rescore of the template ({res.template_samples} samples, head probabilities "
            f"re-used): wall {r['wall_s']:.1f} s  cpu {r.get('total_cpu_s', r['cpu_s']):.1f} s"
        )
    for n in sizes:
        a, b = str(work / f"steady-{n}.eval"), str(work / f"caver-{n}.eval")
        res.build[n] = run_child("replicate", base_t, str(n), a)
        run_child("replicate", cand_t, str(n), b)
        res.log_mib[n] = os.path.getsize(a) / 2**20
        log(f"  built {n} samples: {res.log_mib[n]:.0f} MiB in {res.build[n]['wall_s']:.1f} s")
        res.ops[n] = {}
        for op in ops:
            prof = str(profile_dir / f"{op}-{n}.prof") if profile_dir else None
            r = run_child(op, *_args(op, a, b, work, n), profile=prof)
            res.ops[n][op] = r
            peak = r["peak_rss_mb"]
            log(
                f"  {op:13s} n={n:6d}: wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:6.1f} s"
                f"  peak {peak:6.0f} MiB  load {r['load_start']:.1f}"
                + (f"  rc {r['rc']}" if "rc" in r else "")
            )
            if op == "rescore":
                again = str(work / f"rescored-again-{n}.eval")
                r = run_child("rescore", str(work / f"rescored-{n}.eval"), again)
                res.rescore_again[n] = r
                log(f"  rescore again n={n:6d}: wall {r['wall_s']:7.1f} s (head re-used)")
    return res


def _count(path: str) -> int:
    from inspect_ai.log import read_eval_log_sample_summaries

    return len(read_eval_log_sample_summaries(path))
