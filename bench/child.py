"""One measured operation, run in a fresh process: ``python -m bench.child OP ...``.

Prints one JSON line (the last line of stdout) with the operation's wall time, CPU time
(user + system of this process), peak RSS of the process (``ru_maxrss``, imports included),
RSS after imports, and the 1-minute load average when it started and ended. Operations:

- ``replay VARIANT N LOG_DIR CONN``: eval the synthetic workload. Variants: ``equanimity``
  (replay solver, tool, five scorers), ``plain`` (generate per turn, no tools, no scorers),
  ``equanimity-live`` (``equanimity`` with inspect's live metrics, ``score_display=True``),
  ``replay-only`` (replay solver and tool, no scorers), ``plain-tool`` (``plain`` with the
  ``end_conversation`` tool offered on every call), ``floor`` (``plain-tool`` with five
  do-nothing scorers: inspect's own cost of this pipeline's shape), ``equanimity-learned``
  (``equanimity`` with the learned layer on; ``python -m bench --learned``), ``plain-collector``
  (``plain`` under equanimity's collector settings: the like-for-like comparison). The
  ``equanimity*`` variants run as ``equanimity run`` runs them: its options
  (:data:`equanimity.tasks.EVAL_DEFAULTS`) and its collector settings
  (:func:`equanimity.collector.eval_collector`).
- ``template PERSONA LOG_DIR``: the real library replayed by a reference persona (no grader).
- ``replicate TEMPLATE N OUT``: write an N-sample log by replicating the template's samples.
- ``rescore LOG OUT``: ``equanimity rescore LOG -o OUT --overwrite`` (streamed, one worker
  process per CPU; the workers' CPU and peak memory are reported too).
- ``report LOG OUT``, ``compare A B OUT``, ``gate LOG``: the equanimity commands.
- ``judge PERSONA CASCADE LOG_DIR``: the library with a stub grader; counts judge calls.
- ``model N LOG_DIR``: the first N library samples on ``equanimity/local`` (``N`` = ``main``:
  the main job's own selection, as ``equanimity run`` picks it); the eval's wall time and the
  seconds llama.cpp spent loading and generating (skipped without the extra).

``--profile FILE`` writes cProfile stats of the operation to FILE.
"""

from __future__ import annotations

import cProfile
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import inspect_ai  # noqa: F401  (imported before measuring: its import is not the operation)

import equanimity.tasks  # noqa: F401


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _replay(variant: str, n: str, log_dir: str, conn: str) -> dict[str, Any]:
    from inspect_ai import eval as inspect_eval

    from bench.synthetic import equanimity_task, instant_model, plain_task, synthetic_scenarios
    from equanimity.collector import eval_collector
    from equanimity.tasks import EVAL_DEFAULTS, quiet_display

    scenarios = synthetic_scenarios(int(n))
    extra: dict[str, Any] = {}
    collector = variant.startswith("equanimity") or variant == "plain-collector"
    if variant in ("plain", "plain-tool", "floor", "plain-collector"):
        task = plain_task(
            scenarios,
            tool=variant not in ("plain", "plain-collector"),
            noop=5 if variant == "floor" else 0,
        )
        extra = dict(EVAL_DEFAULTS) if variant == "floor" else {}
    elif variant == "replay-only":
        task = equanimity_task(scenarios, scorers=False)
    elif variant in ("equanimity", "equanimity-live", "equanimity-learned"):
        task = equanimity_task(scenarios, learned=variant == "equanimity-learned")
        extra = dict(EVAL_DEFAULTS)
        if variant == "equanimity-live":
            extra["score_display"] = True
    else:
        raise ValueError(f"unknown variant {variant}")
    model = instant_model()
    # every variant as `equanimity run --display none` runs it (quiet_display: inspect's log
    # display, which skips laying out the final results panel nobody sees)
    display = quiet_display("none")
    with eval_collector() if collector else nullcontext():
        logs = inspect_eval(
            task,
            model=model,
            display=display,
            log_dir=log_dir,
            max_connections=int(conn),
            max_samples=int(conn),
            **extra,
        )
    log = logs[0]
    return {
        "status": log.status,
        "samples": log.results.completed_samples if log.results else 0,
        "log": log.location,
    }


def _template(persona: str, log_dir: str) -> dict[str, Any]:
    from inspect_ai import eval as inspect_eval

    from equanimity.tasks import build_task

    log = inspect_eval(
        build_task(), model=f"equanimity/{persona}", display="none", log_dir=log_dir
    )[0]
    return {"status": log.status, "samples": len(log.samples or []), "log": log.location}


def _replicate(template: str, n: str, out: str) -> dict[str, Any]:
    from bench.logs import replicate_log

    written = replicate_log(template, int(n), out)
    return {"samples": written, "log": out, "bytes": Path(out).stat().st_size}


def _rescore(log_path: str, out: str) -> dict[str, Any]:
    """``equanimity rescore LOG -o OUT --overwrite`` (streaming, worker processes).

    ``cpu_s`` and ``peak_rss_mb`` of the measurement cover this process only: the workers'
    CPU (``workers_cpu_s``) and largest RSS (``workers_peak_rss_mb``) are added here, with
    ``total_cpu_s`` and ``peak_rss_bound_mb`` (this process's peak plus each worker's at the
    largest worker's peak: an upper bound on the memory in use at once).
    """
    from equanimity.rescore import rescore_log

    children0 = _cpu(resource.RUSAGE_CHILDREN)
    self0 = _cpu()
    result = rescore_log(Path(log_path), Path(out), overwrite=True)
    workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - children0
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_peak = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if result.workers > 1 else 0.0
    )
    return {
        "samples": result.samples,
        "workers": result.workers,
        "workers_cpu_s": workers_cpu,
        "total_cpu_s": _cpu() - self0 + workers_cpu,
        "workers_peak_rss_mb": workers_peak,
        "peak_rss_bound_mb": self_peak + (result.workers * workers_peak),
        **{f"{k}_s": v for k, v in result.phases.items()},
    }


def _report(log_path: str, out: str) -> dict[str, Any]:
    from equanimity.report.render import render_report

    path = render_report([log_path], Path(out))
    return {"bytes": path.stat().st_size}


def _cli(argv: list[str]) -> dict[str, Any]:
    from contextlib import redirect_stdout
    from io import StringIO

    from equanimity.cli import main

    buf = StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return {"rc": rc, "stdout_tail": buf.getvalue()[-400:]}


def _compare(a: str, b: str, out: str) -> dict[str, Any]:
    return _cli(["compare", a, b, "-o", out, "--overwrite"])  # a rerun in the same work dir


def _gate(log_path: str) -> dict[str, Any]:
    return _cli(["gate", log_path, "--policy", "default"])


def _model(limit: str, log_dir: str) -> dict[str, Any]:
    """The main job on the offline default model: what ``equanimity run --model
    equanimity/local --limit N`` evaluates (library order, branches, one sample at a time),
    and the seconds llama.cpp itself spent (model load; generating, per call, in the lock).
    ``limit`` ``main``: the main job itself (``equanimity run``'s default seeded selection).
    """
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return {"status": "skipped", "reason": "llama-cpp-python not installed (local extra)"}
    from inspect_ai import eval as inspect_eval
    from inspect_ai.event import ModelEvent
    from inspect_ai.log import read_eval_log

    from equanimity.collector import eval_collector
    from equanimity.scenarios.selection import DEFAULT_PER_CATEGORY
    from equanimity.tasks import EVAL_DEFAULTS, build_task, quiet_display

    main_job = limit == "main"
    t0, c0 = time.perf_counter(), _cpu()
    with eval_collector():
        log = inspect_eval(
            build_task(sample=DEFAULT_PER_CATEGORY) if main_job else build_task(),
            model="equanimity/local",
            # as `equanimity run --display none` (inspect's log display: no final results panel)
            display=quiet_display("none"),
            log_dir=log_dir,
            limit=None if main_job else int(limit),
            max_connections=1,
            **EVAL_DEFAULTS,
        )[0]
    eval_wall, eval_cpu = time.perf_counter() - t0, _cpu() - c0
    full = read_eval_log(str(log.location))
    generate = generate_cpu = load = 0.0
    calls = 0
    for sample in full.samples or []:
        for ev in sample.events:
            if isinstance(ev, ModelEvent) and ev.output.metadata:
                generate += float(ev.output.metadata.get("generate_seconds", 0.0))
                generate_cpu += float(ev.output.metadata.get("generate_cpu_seconds", "nan"))
                load = max(load, float(ev.output.metadata.get("load_seconds", 0.0)))
                calls += 1
    return {
        "status": log.status,
        "main_job": main_job,
        "samples": len(full.samples or []),
        "calls": calls,
        "eval_wall_s": eval_wall,
        "eval_cpu_s": eval_cpu,
        "generate_s": generate,
        "generate_cpu_s": generate_cpu,
        "load_s": load,
    }


def _judge(persona: str, cascade: str, log_dir: str) -> dict[str, Any]:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval

    from bench.logs import judge_counts
    from bench.synthetic import stub_grader
    from equanimity.scorers.suite import default_scorers
    from equanimity.tasks import build_task

    base = build_task()
    task = Task(
        dataset=base.dataset,
        solver=base.solver,
        scorer=default_scorers(cascade == "on"),
        name="bench_judge",
        version=1,
    )
    log = inspect_eval(
        task,
        model=f"equanimity/{persona}",
        display="none",
        log_dir=log_dir,
        model_roles={"grader": stub_grader()},
    )[0]
    return {"status": log.status, **judge_counts(log)}


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "replay": _replay,
    "template": _template,
    "replicate": _replicate,
    "rescore": _rescore,
    "report": _report,
    "compare": _compare,
    "gate": _gate,
    "judge": _judge,
    "model": _model,
}


def main(argv: list[str]) -> int:
    """Run one operation and print its measurement as a JSON line."""
    profile_to: str | None = None
    if "--profile" in argv:
        i = argv.index("--profile")
        profile_to = argv[i + 1]
        argv = argv[:i] + argv[i + 2 :]
    op, args = argv[0], argv[1:]
    base_rss = _rss_mb()
    load0 = os.getloadavg()[0]
    cpu0 = _cpu()
    # CPU time, not wall time: a profile taken on a loaded machine still ranks the costs
    prof = cProfile.Profile(time.process_time) if profile_to else None
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    detail = OPS[op](*args)
    if prof is not None:
        prof.disable()
        prof.dump_stats(str(profile_to))
    wall = time.perf_counter() - t0
    result = {
        "op": op,
        "args": args,
        "wall_s": wall,
        "cpu_s": _cpu() - cpu0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_rss_mb": base_rss,
        "load_start": load0,
        "load_end": os.getloadavg()[0],
        **detail,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
