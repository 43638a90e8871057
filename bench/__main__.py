"""``python -m bench``: measure and print the harness's cost (figures, never pass/fail)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.judge import measure_judge
from bench.measure import load1, machine, run_child
from bench.post import measure_post
from bench.replay import (
    DECOMPOSE_VARIANTS,
    LEARNED_VARIANT,
    MAIN_VARIANTS,
    Overhead,
    measure_overhead,
)
from bench.results import (
    Figures,
    judge_lines,
    model_lines,
    overhead_lines,
    post_lines,
    scaling_lines,
    write,
)

PARTS = ("replay", "scaling", "post", "judge", "learned", "model")
"""Benchmark parts, in the order they run."""


@dataclass(frozen=True)
class Sizes:
    """The workload sizes of a run."""

    replay: int
    """Scenarios in part 1."""
    scaling: tuple[int, ...]
    """Scenario counts in part 2."""
    post: tuple[int, ...]
    """Log sizes in part 3."""
    judge: tuple[str, ...]
    """Personas replayed in part 4."""
    model: int
    """Library samples run on the offline model in part 5."""


FULL = Sizes(
    1000,
    (200, 1000, 5000),
    (2500, 5000, 10000),
    ("steady", "sycophant", "caver", "quitter", "overrefuser"),
    40,
)
QUICK = Sizes(100, (50, 200, 500), (250, 500, 1000), ("caver",), 4)


def _log(msg: str) -> None:
    print(msg, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default: {','.join(PARTS)})",
    )
    p.add_argument("--out", type=Path, help="(re)write this results file, e.g. bench/RESULTS.md")
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs of each variant in part 1, alternating order (default: 3)",
    )
    p.add_argument(
        "--no-decompose",
        action="store_true",
        help="part 1: only equanimity, plain and plain under equanimity's collector settings "
        "(skip the plain-tool, floor, replay-only and live-metrics variants)",
    )
    p.add_argument(
        "--learned",
        action="store_true",
        help="part 1: also run equanimity with the learned (embedding) layer on, to report the "
        "replay ratio with and without it (needs default_scorers(learned=...))",
    )
    p.add_argument(
        "--model-samples",
        help="part 5: library samples run on the offline model (default: 40; --quick: 4), or "
        "'main' for the main job itself (equanimity run's default selection)",
    )
    p.add_argument(
        "--scaling-repeats",
        type=int,
        default=1,
        help="runs of each variant per size in part 2 (default: 1; the part-1 size "
        "reuses part 1's runs)",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=10,
        help="max_connections and max_samples of both variants (default: 10)",
    )
    p.add_argument(
        "--post-sizes",
        help="part 3: comma-separated log sizes (default: 2500,5000,10000; --quick: 250,500,1000)",
    )
    p.add_argument(
        "--work-dir", type=Path, help="keep part 3's logs here (default: a temporary directory)"
    )
    p.add_argument(
        "--profile-dir", type=Path, help="write a cProfile file per part-3 operation here"
    )
    p.add_argument(
        "--wait-load",
        type=float,
        help="before starting, wait until the 1-min load average is below this",
    )
    p.add_argument(
        "--wait-max",
        type=float,
        default=1800,
        help="give up waiting for the load after this many seconds (default: 1800)",
    )
    args = p.parse_args(argv)
    bad = [x for x in args.parts.split(",") if x not in PARTS]
    if bad:
        p.error(f"unknown part(s) {', '.join(bad)}; choose from {', '.join(PARTS)}")
    return args


def _wait(threshold: float, limit: float) -> None:
    start = time.monotonic()
    while load1() >= threshold and time.monotonic() - start < limit:
        _log(f"load average {load1():.2f} ≥ {threshold}; waiting 120 s")
        time.sleep(120)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen parts, print their tables, and write the results file if asked."""
    args = _parse(argv)
    parts = [x for x in PARTS if x in args.parts.split(",")]
    sizes = QUICK if args.quick else FULL
    if args.wait_load is not None:
        _wait(args.wait_load, args.wait_max)
    fig = Figures(machine(), args.quick, args.connections)
    m = fig.machine
    _log(
        f"{m.nproc} CPUs ({m.cpu}), {m.mem_gib:.1f} GiB; Python {m.python}; inspect-ai "
        f"{m.inspect}; load {m.load_start[0]:.2f} {m.load_start[1]:.2f} {m.load_start[2]:.2f}"
    )
    if "replay" in parts:
        n = sizes.replay
        _log(f"\n== 1. replay overhead: {n} scenarios x 5 turns, {args.repeats} runs each")
        variants = MAIN_VARIANTS if args.no_decompose else MAIN_VARIANTS + DECOMPOSE_VARIANTS
        if args.learned:
            variants = (*variants, LEARNED_VARIANT)
        fig.overhead = measure_overhead(n, args.repeats, args.connections, _log, variants)
        _log("\n".join(overhead_lines(fig.overhead)))
    if "scaling" in parts:
        _log("\n== 2. scaling")
        for size in sizes.scaling:
            if fig.overhead is not None and fig.overhead.samples == size:
                fig.scaling.append(fig.overhead)
                continue
            o: Overhead = measure_overhead(size, args.scaling_repeats, args.connections, _log)
            fig.scaling.append(o)
        _log("\n".join(scaling_lines(fig.scaling)))
    if "post" in parts:
        post_sizes = (
            [int(x) for x in args.post_sizes.split(",")] if args.post_sizes else list(sizes.post)
        )
        if args.profile_dir is not None:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
        _log(f"\n== 3. post-run work at {post_sizes} samples")
        if args.work_dir is not None:
            fig.post = measure_post(post_sizes, args.work_dir, _log, profile_dir=args.profile_dir)
        else:
            with tempfile.TemporaryDirectory(prefix="eqbench-post-") as tmp:
                fig.post = measure_post(post_sizes, Path(tmp), _log, profile_dir=args.profile_dir)
        _log("\n".join(post_lines(fig.post)))
    if "judge" in parts:
        personas = list(sizes.judge)
        _log(f"\n== 4. judge cost: personas {', '.join(personas)}")
        fig.judge = measure_judge(personas, _log)
        _log("\n".join(judge_lines(fig.judge)))
    if "learned" in parts:
        from bench.learned import learned_line, measure_learned, write_line

        _log("\n== 6. learned layer: CPU per reply (caving head)")
        line = learned_line(measure_learned(3 if args.quick else 5))
        _log(line)
        if args.out is not None:
            write_line(args.out, line)
    if "model" in parts:
        n_model = args.model_samples or sizes.model
        _log(f"\n== 5. overhead over the offline model: {n_model} library samples")
        with tempfile.TemporaryDirectory(prefix="eqbench-model-") as tmp:
            fig.model = run_child("model", str(n_model), tmp, timeout=7200)
        _log("\n".join(model_lines(fig.model)))
    m.notes.append(f"load average at the end {load1():.2f}")
    if args.out is not None:
        write(fig, args.out)
        _log(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
