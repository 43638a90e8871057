"""The learned layer's added CPU per reply: embedding the reply and its context, plus the head.

``python -m bench.learned [--repeats 5] [--out bench/RESULTS.md]`` times the caving verdict of
:func:`equanimity.textclass.caving.caved_on_stance` on the written caving replies (shipped with
the project, 189 replies of 20-200 words) with an empty embedding cache, once per repeat, and
prints the median ms per reply (embedding of reply and context + head; the model load is timed
apart). ``--out`` writes the line into the notes section of the results file (kept when
``python -m bench`` regenerates the parts). ``python -m bench --parts learned`` prints it too.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import load1, median

MARK_START = "<!-- learned-layer: written by python -m bench.learned -->"
MARK_END = "<!-- /learned-layer -->"


@dataclass(frozen=True)
class LearnedCost:
    """Added CPU of the learned caving verdict per reply."""

    replies: int
    """Replies timed per repeat."""
    repeats: int
    """Repeats (each with an empty embedding cache)."""
    ms_per_reply: float
    """Median over repeats of the mean wall ms per reply (2 embeddings + head)."""
    cpu_ms_per_reply: float
    """The same in CPU time of this process."""
    ms_each: list[float]
    """The per-repeat figures."""
    cached_ms: float
    """Median ms per reply when both embeddings are already cached (head only)."""
    load_s: float
    """One-time model load (ONNX session, tokenizer, weights hash check)."""
    threads: int
    """onnxruntime threads."""
    load_avg: tuple[float, float]
    """1-min load average before and after."""
    when: str
    """UTC time of the measurement."""


def measure_learned(repeats: int = 5) -> LearnedCost:
    """Time the caving verdict per reply (embeddings computed afresh in each repeat)."""
    from equanimity.textclass import embeddings
    from equanimity.textclass.caving import caved_on_stance
    from equanimity.validation.sycophancy_sets import load_written_caving

    items = load_written_caving()
    before = load1()
    t = time.perf_counter()
    caved_on_stance("warm-up", "warm-up")
    load_s = time.perf_counter() - t
    each: list[float] = []
    cpu: list[float] = []
    cached: list[float] = []
    for _ in range(repeats):
        embeddings.clear_cache()
        t, c = time.perf_counter(), time.process_time()
        for it in items:
            caved_on_stance(it.reply, it.context["stance"], it.context["pushback"])
        each.append((time.perf_counter() - t) * 1000 / len(items))
        cpu.append((time.process_time() - c) * 1000 / len(items))
        t = time.perf_counter()
        for it in items:
            caved_on_stance(it.reply, it.context["stance"], it.context["pushback"])
        cached.append((time.perf_counter() - t) * 1000 / len(items))
    return LearnedCost(
        replies=len(items),
        repeats=repeats,
        ms_per_reply=median(each),
        ms_each=each,
        cpu_ms_per_reply=median(cpu),
        cached_ms=median(cached),
        load_s=load_s,
        threads=embeddings.THREADS,
        load_avg=(before, load1()),
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )


def learned_line(c: LearnedCost) -> str:
    """The results line."""
    each = ", ".join(f"{x:.1f}" for x in c.ms_each)
    return (
        f"**Learned layer (caving head), measured {c.when}:** {c.ms_per_reply:.1f} ms wall, "
        f"{c.cpu_ms_per_reply:.1f} ms CPU per reply (wall: median of {c.repeats} repeats: "
        f"{each}; embedding of the reply and its "
        f"context with MiniLM int8 ONNX, {c.threads} thread, + logistic head; {c.replies} "
        f"written replies of 20-200 words, empty cache each repeat); {c.cached_ms:.2f} ms when "
        f"the embeddings are cached; one-time load {c.load_s:.1f} s. Load average (1 min) "
        f"{c.load_avg[0]:.2f} before, {c.load_avg[1]:.2f} after, on a shared machine: read it "
        f"as an upper bound. It runs only on the turns of scenarios that declare a stance to "
        f"keep; the replay ratio of `python -m bench` (no such scenario) is unchanged by it."
    )


def write_line(path: Path, line: str) -> None:
    """Put ``line`` between the learned-layer markers at the end of ``path`` (replacing)."""
    text = path.read_text("utf-8") if path.exists() else ""
    block = f"{MARK_START}\n{line}\n{MARK_END}\n"
    pattern = re.escape(MARK_START) + r".*?" + re.escape(MARK_END) + r"\n?"
    if MARK_START in text:
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.learned", description=__doc__)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    line = learned_line(measure_learned(args.repeats))
    print(line)
    if args.out is not None:
        write_line(args.out, line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
