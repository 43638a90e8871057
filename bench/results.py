"""Markdown tables of the figures, and the RESULTS.md file.

Text after the :data:`NOTES_MARK` line of an existing results file (the hand-written analysis)
is kept when the file is rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.judge import JudgeResults
from bench.measure import Machine
from bench.post import OPERATIONS, PostResults
from bench.replay import DRIFT_LIMIT, LABELS, Overhead

NOTES_MARK = "<!-- notes: kept when the file is regenerated -->"
"""Marker line: everything after it in RESULTS.md survives a rewrite."""

TARGET_RATIO = 1.25
"""Target for the wall-time ratio equanimity / plain inspect-ai."""
TARGET_POST_S = 30.0
"""Target wall time of each post-run operation at 10,000 samples."""
TARGET_POST_MIB = 1024.0
"""Target peak memory of each post-run operation."""
TARGET_MODEL_RATIO = 1.05
"""Target for the main job's wall time over llama.cpp's own time on the offline model."""


@dataclass
class Figures:
    """Everything one benchmark run measured."""

    machine: Machine
    """Where and when."""
    quick: bool
    """Whether this was a ``--quick`` smoke run (small sizes)."""
    conn: int
    """``max_connections`` = ``max_samples`` used for both variants."""
    overhead: Overhead | None = None
    """Part 1."""
    scaling: list[Overhead] = field(default_factory=list)
    """Part 2 (one entry per size)."""
    post: PostResults | None = None
    """Part 3."""
    judge: JudgeResults | None = None
    """Part 4."""
    model: dict[str, Any] | None = None
    """Part 5 (the child's ``model`` measurement)."""


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---", *("---:" for _ in head[1:])]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _loads(o: Overhead) -> str:
    loads = [r["load_start"] for r in o.all_runs()]
    return f"{min(loads):.1f}–{max(loads):.1f}"


def overhead_lines(o: Overhead) -> list[str]:
    """Part 1 as a table: medians of each variant and their ratios to plain inspect-ai."""
    rows = []
    for name, v in o.variants.items():
        ratios = (
            ["1", "1", "1"]
            if name == "plain"
            else [f"{o.ratio(k, name):.2f}" for k in ("wall_s", "cpu_s", "peak_rss_mb")]
        )
        if name == "equanimity":
            ratios = [f"**{x}**" for x in ratios]
        rows.append(
            [
                LABELS[name],
                str(len(v.runs)),
                f"{v.med('wall_s'):.1f}",
                ", ".join(f"{r['wall_s']:.1f}" for r in v.runs),
                f"{v.med('cpu_s'):.1f}",
                f"{v.med('peak_rss_mb'):.0f}",
                *ratios,
                ", ".join(
                    f"{r['load_start']:.1f}–{r.get('load_end', r['load_start']):.1f}"
                    for r in v.runs
                ),
            ]
        )
    wall, cpu = o.ratio("wall_s"), o.ratio("cpu_s")
    drift = o.drift()
    drift_text = "one run" if drift is None else f"{100 * drift:.0f}%"
    if o.steady():
        verdict = (
            f"this {'meets' if wall <= TARGET_RATIO else 'misses'} the ≤ {TARGET_RATIO} target "
            f"(the {o.anchor} runs stayed within {drift_text} of each other)"
        )
    else:
        verdict = (
            f"**no wall-time verdict**: the {o.anchor} runs drifted {drift_text} apart between "
            f"repeats (limit {100 * DRIFT_LIMIT:.0f}%; the machine's load changed under the "
            f"runs): re-run on a quiet machine"
        )
        cpu_drift = o.drift("cpu_s")
        if o.steady("cpu_s") and cpu_drift is not None:
            verdict += (
                f"; by CPU time (the {o.anchor} runs' CPU stayed within "
                f"{100 * cpu_drift:.0f}%) it {'meets' if cpu <= TARGET_RATIO else 'misses'} "
                f"the target"
            )
    context = ""
    if "plain-collector" in o.variants:
        lw = o.ratio("wall_s") / o.ratio("wall_s", "plain-collector")
        lc = o.ratio("cpu_s") / o.ratio("cpu_s", "plain-collector")
        context += (
            f" Like for like (plain inspect-ai under the same collector settings as "
            f"`equanimity run`, `equanimity.collector`): **{lw:.2f}×** wall, {lc:.2f}× CPU."
        )
    if "floor" in o.variants:
        fw, fc = o.ratio("wall_s", "floor"), o.ratio("cpu_s", "floor")
        own_w = o.ratio("wall_s") / fw
        own_c = o.ratio("cpu_s") / fc
        context += (
            f" inspect's own floor for this shape (the same turns with the tool offered and "
            f"five do-nothing scorers) is {fw:.2f}× wall, {fc:.2f}× CPU of plain; "
            f"equanimity / floor = **{own_w:.2f}×** wall, {own_c:.2f}× CPU: the cost of "
            f"equanimity's own code (replay bookkeeping, rule layer, score content)."
        )
    return [
        *_table(
            [
                "variant",
                "runs",
                "wall s (median)",
                "wall s (each)",
                "CPU s (median)",
                "peak RSS MiB (median)",
                "wall ratio",
                "CPU ratio",
                "memory ratio",
                "load at start–end of each run",
            ],
            rows,
        ),
        "",
        f"{o.samples:,} scenarios × 5 turns. Headline: equanimity / plain inspect-ai = "
        f"**{wall:.2f}×** wall time (median of {len(o.equanimity.runs)} runs each), "
        f"{cpu:.2f}× CPU time; {verdict}.{context} CPU time "
        f"is the steadier figure on a shared machine (wall time stretches with the load). "
        f"Load average (1 min) at the start of the runs: {_loads(o)}.",
    ]


def scaling_lines(rows_in: list[Overhead]) -> list[str]:
    """Part 2 as a table: time per sample of each variant at each size."""
    rows = []
    for o in rows_in:
        e, p = o.equanimity, o.plain
        rows.append(
            [
                f"{o.samples:,}",
                str(len(e.runs)),
                f"{e.med('wall_s'):.1f}",
                f"{1000 * e.med('wall_s') / o.samples:.1f}",
                f"{p.med('wall_s'):.1f}",
                f"{1000 * p.med('wall_s') / o.samples:.1f}",
                f"{o.ratio('wall_s'):.2f}",
                f"{e.med('peak_rss_mb'):.0f}",
                f"{p.med('peak_rss_mb'):.0f}",
                _loads(o),
            ]
        )
    return _table(
        [
            "samples",
            "runs",
            "equanimity s",
            "equanimity ms/sample",
            "plain s",
            "plain ms/sample",
            "ratio",
            "equanimity peak MiB",
            "plain peak MiB",
            "load",
        ],
        rows,
    )


def _post_row(samples: str, op: str, r: dict[str, Any]) -> list[str]:
    # rescore runs worker processes: count their CPU, and bound the memory in use
    return [
        samples,
        op,
        f"{r['wall_s']:.1f}",
        f"{r.get('total_cpu_s', r['cpu_s']):.1f}",
        f"{r.get('peak_rss_bound_mb', r['peak_rss_mb']):.0f}",
        str(r["rc"]) if "rc" in r else "",
        f"{r['load_start']:.1f}",
    ]


def post_lines(p: PostResults) -> list[str]:
    """Part 3 as a table: wall, CPU and peak memory of each operation at each size."""
    rows = []
    if p.template_rescore:
        label = f"{p.template_samples:,} (template)"
        rows.append(_post_row(label, "rescore, head probabilities re-used", p.template_rescore))
    for n in p.sizes:
        for op in OPERATIONS:
            r = p.ops.get(n, {}).get(op)
            if r is None:
                continue
            rows.append(_post_row(f"{n:,}", op, r))
            again = p.rescore_again.get(n) if op == "rescore" else None
            if again:
                rows.append(_post_row(f"{n:,}", "rescore again, head probabilities re-used", again))
    lines = _table(
        ["samples", "operation", "wall s", "CPU s", "peak RSS MiB", "exit", "load"], rows
    )
    sizes = ", ".join(f"{n:,}: {p.log_mib[n]:.0f} MiB" for n in p.sizes if n in p.log_mib)
    return [
        *lines,
        "",
        f"Logs replicated from real library runs of {p.template_samples} samples "
        f"(`equanimity/steady` baseline, `equanimity/caver` candidate); on disk {sizes}. "
        f"Peak RSS includes the process's imports (inspect-ai, pandas: ~90–200 MiB). "
        f"`rescore` = `equanimity rescore` (streamed, one worker process per CPU): its CPU "
        f"includes the workers', its peak is the main process's plus each worker's at the "
        f"largest worker's peak (an upper bound on the memory in use at once). "
        f"Each copy's replies are tagged, so the replicated logs' rescore embeds every reply "
        f"the distress lexicon does not flag (as after a change of the learned head); "
        f'"rescore again" rescores that rescore\'s output, and the template row the real run '
        f"itself: their scores were written by these scorers, so the head probabilities they "
        f"recorded are re-used (as after a lexicon edit). "
        f"Targets: < {TARGET_POST_S:.0f} s and "
        f"< {TARGET_POST_MIB:.0f} MiB at 10,000 samples, memory flat as the log grows.",
    ]


def judge_lines(j: JudgeResults) -> list[str]:
    """Part 4 as a table: grader calls per persona with the cascade on and off."""
    rows = []
    for r in j.rows:
        rows.append(
            [
                r.persona,
                str(r.on["samples"]),
                str(r.on["turns"]),
                str(r.on["judge_calls"]),
                f"{r.on['calls_per_turn']:.2f}",
                str(r.off["judge_calls"]),
                f"{r.off['calls_per_turn']:.2f}",
                f"{r.saving:.0%}",
            ]
        )
    on, off = j.total("on", "judge_calls"), j.total("off", "judge_calls")
    t_on, t_off = j.total("on", "turns"), j.total("off", "turns")
    rows.append(
        [
            "**all**",
            "",
            str(t_on),
            f"**{on}**",
            f"**{on / t_on:.2f}**",
            f"**{off}**",
            f"**{off / t_off:.2f}**",
            f"**{1 - on / off:.0%}**",
        ]
    )
    lines = _table(
        [
            "persona",
            "samples",
            "turns",
            "calls (cascade)",
            "per turn (cascade)",
            "calls (no cascade)",
            "per turn (no cascade)",
            "saving",
        ],
        rows,
    )
    by: dict[str, list[int]] = {}
    for r in j.rows:
        for name, n in r.on["by_scorer"].items():
            by.setdefault(name, [0, 0])[0] += int(n)
        for name, n in r.off["by_scorer"].items():
            by.setdefault(name, [0, 0])[1] += int(n)
    lines += ["", "Calls by scorer, all personas:", ""]
    lines += _table(
        ["scorer", "cascade", "no cascade"], [[k, str(v[0]), str(v[1])] for k, v in by.items()]
    )
    return lines


def model_lines(r: dict[str, Any]) -> list[str]:
    """Part 5: the main job's wall time on the offline default model over llama.cpp's time."""
    if r.get("status") == "skipped":
        return [f"Skipped: {r.get('reason', 'no local model')}."]
    wall, gen, load = float(r["eval_wall_s"]), float(r["generate_s"]), float(r["load_s"])
    ratio, ratio_gen = wall / (gen + load), wall / gen if gen else float("nan")
    verdict = "meets" if ratio <= TARGET_MODEL_RATIO else "misses"
    # process CPU of the whole eval over the process CPU spent in llama.cpp's lock: the same
    # question in CPU time, which the machine's load stretches less than wall time
    cpu, gen_cpu = float(r.get("eval_cpu_s", "nan")), float(r.get("generate_cpu_s", "nan"))
    cpu_ratio = cpu / gen_cpu if gen_cpu else float("nan")
    return [
        *_table(
            [
                "samples",
                "model calls",
                "eval wall s",
                "llama.cpp generating s",
                "model load s",
                "wall / (generating + load)",
                "wall / generating",
                "eval CPU s",
                "llama.cpp CPU s",
                "CPU / llama.cpp CPU",
                "load at start–end",
            ],
            [
                [
                    str(r["samples"]),
                    str(r["calls"]),
                    f"{wall:.1f}",
                    f"{gen:.1f}",
                    f"{load:.1f}",
                    f"**{ratio:.3f}**",
                    f"{ratio_gen:.3f}",
                    f"{cpu:.1f}",
                    f"{gen_cpu:.1f}",
                    f"{cpu_ratio:.3f}",
                    f"{r['load_start']:.1f}–{r['load_end']:.1f}",
                ]
            ],
        ),
        "",
        (
            f"The main job (`equanimity run`'s default selection: {r['samples']} samples) on "
            "`equanimity/local` (SmolLM2-135M, "
            if r.get("main_job")
            else f"The first {r['samples']} library samples on `equanimity/local` (SmolLM2-135M, "
        )
        + f"llama.cpp on the CPU, one sample at a time as `equanimity run` does), scorers on. "
        f"llama.cpp's time is what the model API measured inside its lock (restoring a "
        f"conversation state, evaluating the prompt, sampling), summed over the calls. "
        f"The harness's overhead over the model: **{ratio:.3f}×** (target ≤ "
        f"{TARGET_MODEL_RATIO}: {verdict}). In CPU time (the process's CPU over the eval "
        f"against its CPU inside llama.cpp's lock, the model load on the harness side; less "
        f"stretched by other load on the machine): {cpu_ratio:.3f}×.",
    ]


SECTIONS = (
    "## 1. Replay overhead",
    "## 2. Scaling",
    "## 3. Post-run work",
    "## 4. Judge cost",
    "## 5. Overhead over the offline model",
)
"""Headings of the parts' sections, in order."""


def _sections(text: str) -> dict[str, list[str]]:
    """The part sections of an existing results file, by heading (notes excluded)."""
    body = text.split(NOTES_MARK, 1)[0].splitlines()
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in body:
        if line.startswith("## "):
            current = line if line in SECTIONS else None
            if current:
                out[current] = []
            continue
        if current:
            out[current].append(line)
    return {k: v for k, v in out.items()}


def render(fig: Figures, notes: str = "", keep: dict[str, list[str]] | None = None) -> str:
    """The whole RESULTS.md text; parts not measured in ``fig`` are taken from ``keep``."""
    m = fig.machine
    stamp = f"_Measured {m.date}, load average at start {m.load_start[0]:.2f} (1 min)._"
    out = [
        "# equanimity benchmark results",
        "",
        "Generated by `python -m bench" + (" --quick" if fig.quick else "") + "`: the "
        "harness's own cost against plain inspect-ai, with an instant in-process model "
        "(`mockllm/model`, one fixed short reply tagged per turn, usage set), so every "
        "second here is harness time, not model time. `--parts` reruns some parts; the "
        "others keep their figures (each part says when it was measured).",
        "",
        "## Machine",
        "",
        f"- CPUs: {m.nproc} ({m.cpu}); memory {m.mem_gib:.1f} GiB",
        f"- Python {m.python}, inspect-ai {m.inspect}",
        f"- latest run {m.date}; load average at start {m.load_start[0]:.2f}, "
        f"{m.load_start[1]:.2f}, {m.load_start[2]:.2f} (1, 5, 15 min)",
        '- all variants: `display="none"` run as inspect\'s `log` display '
        "(`equanimity.tasks.quiet_display`, as `equanimity run --display none`), "
        f"`max_connections = max_samples = {fig.conn}`, "
        "`.eval` logs to a temp dir, each run in a fresh process (peak RSS = `ru_maxrss` of "
        "that process, imports included)",
        *[f"- {n}" for n in m.notes],
        "",
    ]
    fresh: dict[str, list[str]] = {}
    if fig.overhead:
        fresh[SECTIONS[0]] = overhead_lines(fig.overhead)
    if fig.scaling:
        fresh[SECTIONS[1]] = scaling_lines(fig.scaling)
    if fig.post:
        fresh[SECTIONS[2]] = post_lines(fig.post)
    if fig.judge:
        fresh[SECTIONS[3]] = judge_lines(fig.judge)
    if fig.model:
        fresh[SECTIONS[4]] = model_lines(fig.model)
    for heading in SECTIONS:
        if heading in fresh:
            out += [heading, "", stamp, "", *fresh[heading], ""]
        elif keep and heading in keep:
            out += [heading, *keep[heading]]
    out += [NOTES_MARK, notes.strip("\n"), ""]
    return "\n".join(out)


def write(fig: Figures, path: Path) -> None:
    """(Re)write ``path``: fresh parts replace theirs; other parts and the notes are kept."""
    notes = ""
    keep: dict[str, list[str]] = {}
    if path.exists():
        text = path.read_text("utf-8")
        if NOTES_MARK in text:
            notes = text.split(NOTES_MARK, 1)[1]
        keep = _sections(text)
    path.write_text(render(fig, notes, keep), "utf-8")
