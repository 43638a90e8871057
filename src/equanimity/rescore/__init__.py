"""Re-score an existing ``.eval`` log with the current equanimity scorers, streaming.

What ``inspect score --action overwrite`` does, at a cost that stays flat as the log grows:
samples are read one by one from the zip, scored in a pool of processes (inspect's own
``TaskState`` reconstruction and scorer spans, see :mod:`equanimity.rescore.sample`), and written
to a new log as they come; only the scores themselves are kept for the final metrics, which
are inspect's (:mod:`equanimity.rescore.results`). The source log is only read.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from inspect_ai.log import EvalLog

from equanimity.evalread import member_sample_epoch, sample_members, zip_header
from equanimity.provenance import METADATA_KEY, scorer_provenance
from equanimity.rescore.errors import RescoreError
from equanimity.rescore.evalzip import EvalZipWriter, ReductionSpill
from equanimity.rescore.results import MetricInputs, apply_results, workers_can_reduce
from equanimity.rescore.sample import ScoredSample
from equanimity.rescore.worker import (
    ChunkScorer,
    WorkerSpec,
    build_model_roles,
    build_scorers,
    init_worker,
    score_chunk,
    scorer_names,
)

CHUNK = 32
"""Samples per task sent to a worker process."""

__all__ = ["RescoreError", "RescoreResult", "rescore_log", "scorer_names"]


@dataclass
class RescoreResult:
    """What a re-scoring wrote."""

    output: Path
    """The new log."""
    samples: int
    """Samples re-scored."""
    scorers: list[str]
    """Scorers run."""
    workers: int
    """Processes that scored samples (1: in this process)."""
    seconds: float
    """Wall time."""
    phases: dict[str, float]
    """Wall time by phase: ``samples`` (read, score, write), ``metrics``, ``finish``."""
    log: EvalLog
    """The new log's header (results included)."""


def default_workers() -> int:
    """One scoring process per CPU available to this one (at most 8)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


@dataclass
class _Source:
    """The log being re-scored: its header and its sample members in inspect's order."""

    header: EvalLog
    members: list[str]
    single_epoch: bool
    """Every sample id appears once (one epoch each)."""


def _member_key(name: str, typed_ids: dict[str, int | str]) -> tuple[tuple[int, str], str]:
    """(inspect's sort key, sample id as text) of ``samples/<id>_epoch_<n>.json``."""
    sid, epoch = member_sample_epoch(name)
    typed = typed_ids.get(sid, sid)
    key = typed if isinstance(typed, str) else str(typed).zfill(20)
    return (epoch, key), sid


def _read_source(log_path: Path) -> _Source:
    if not log_path.exists():
        raise RescoreError(f"{log_path}: no such log file")
    if log_path.suffix != ".eval":
        raise RescoreError(
            f"{log_path}: not an .eval log (convert a .json log first: "
            "inspect log convert --to eval)"
        )
    try:
        with zipfile.ZipFile(log_path) as zf:
            # inspect's own header read, without the reductions read_eval_log also parses
            header = zip_header(zf, str(log_path))
            members = sample_members(zf)
    except Exception as exc:  # inspect and zipfile raise many kinds on a damaged file
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise RescoreError(f"{log_path}: not a readable .eval log ({detail})") from exc
    if not members:
        raise RescoreError(f"{log_path}: the log holds no samples to score")
    # the order inspect's reader sorts samples in (by epoch, then id; numeric ids zero-filled):
    # metrics are summed, and reductions listed, in this order, as by ``inspect score``
    typed_ids = {str(i): i for i in header.eval.dataset.sample_ids or []}
    keyed = sorted((_member_key(m, typed_ids), m) for m in members)
    ids = {sid for (_, sid), _ in keyed}
    return _Source(header, [m for _, m in keyed], single_epoch=len(ids) == len(members))


def _check_output(log_path: Path, output: Path, overwrite: bool) -> None:
    if output.resolve() == log_path.resolve():
        raise RescoreError(f"{output}: is the log being re-scored; write the result elsewhere")
    if output.exists() and not overwrite:
        raise RescoreError(f"{output}: already exists (pass --overwrite to replace it)")
    if output.is_dir():
        raise RescoreError(f"{output}: is a folder; name the .eval file to write")
    if not output.parent.is_dir():
        raise RescoreError(f"{output.parent}: no such folder for the output")


def _chunks(members: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(members), size):
        yield members[i : i + size]


def _pool_results(
    spec: WorkerSpec,
    members: list[str],
    workers: int,
    chunk: int,
) -> Iterator[list[ScoredSample]]:
    """Chunks of scored samples in log order, from a pool; at most 2 chunks per worker wait."""
    methods = multiprocessing.get_all_start_methods()
    # fork shares the imported inspect with the workers (spawn would import it again in each)
    ctx = multiprocessing.get_context(
        "fork" if "fork" in methods and sys.platform == "linux" else None
    )
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=init_worker, initargs=(spec,)
    ) as pool:
        pending: deque[Future[list[ScoredSample]]] = deque()
        try:
            for part in _chunks(members, chunk):
                pending.append(pool.submit(score_chunk, part))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def _results(
    spec: WorkerSpec,
    members: list[str],
    workers: int,
    chunk: int,
) -> Iterator[list[ScoredSample]]:
    """Chunks of scored samples in log order: the first here, the rest in a pool if any.

    Scoring the first chunk in this process loads what the scorers build lazily (lexicons,
    compiled patterns) once, before the workers are forked from it.
    """
    local = ChunkScorer(spec)
    try:
        yield local.score(members[:chunk])
        if workers <= 1:
            for part in _chunks(members[chunk:], chunk):
                yield local.score(part)
    finally:
        local.close()
    if workers > 1 and len(members) > chunk:
        yield from _pool_results(spec, members[chunk:], workers, chunk)


RESCORE_METADATA_KEY = "equanimity_rescore"
"""Key of the eval metadata a re-scored log carries: ``{source, scorers, rescored_at}``.

``history`` reads it to count a run once, not once per re-scoring."""


def mark_rescore(header: EvalLog, source: Path, scorers: tuple[str, ...]) -> None:
    """Record in the log's eval metadata that it is a re-scoring of ``source``."""
    from datetime import UTC, datetime

    metadata = dict(header.eval.metadata or {})
    metadata[RESCORE_METADATA_KEY] = {
        "source": source.name,
        "scorers": list(scorers),
        "rescored_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    header.eval.metadata = metadata


def rescore_of(header: EvalLog) -> str | None:
    """The source log's name when ``header`` is a re-scored log, else None."""
    mark = (header.eval.metadata or {}).get(RESCORE_METADATA_KEY)
    return str(mark.get("source", "?")) if isinstance(mark, dict) else None


def rescore_log(
    log_path: Path,
    output: Path,
    scorers: list[str] | None = None,
    *,
    overwrite: bool = False,
    workers: int | None = None,
    model_roles: tuple[str, ...] = (),
    concurrency: int | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreResult:
    """Re-score every sample of ``log_path`` with the current scorers; write ``output``.

    ``scorers`` names equanimity scorers (default: all five); the output holds only their
    scores (inspect's ``overwrite``). ``model_roles`` binds models by role (``grader=...``
    turns on the judge layer; without it only the rule layer runs). ``workers`` processes
    score samples (default: one per CPU; 1 scores in this process), ``chunk`` samples at a
    time (the first chunk is scored in this process). ``progress(done, total)`` is called
    after each chunk. Raises :class:`RescoreError` for a bad log, output or option.
    """
    start = time.perf_counter()
    source = _read_source(log_path)
    header, members = source.header, source.members
    _check_output(log_path, output, overwrite)
    names = tuple(dict.fromkeys(scorers or scorer_names()))
    try:
        scorer_objs = build_scorers(names)
        roles = build_model_roles(model_roles)  # fail here, before any work, on a bad binding
    except Exception as exc:
        raise RescoreError(f"{log_path}: {exc}") from exc
    # the first chunk is scored here; no more processes than chunks left for them
    pool_chunks = math.ceil(max(0, len(members) - chunk) / chunk)
    wanted = workers if workers is not None else default_workers()
    n_workers = max(1, min(wanted, pool_chunks))
    reduce = workers_can_reduce(header, scorer_objs, source.single_epoch)
    spec = WorkerSpec(
        log_path=str(log_path),
        header=header,
        scorer_names=names,
        model_roles=model_roles,
        concurrency=concurrency or (10 if model_roles else 1),
        reduce=reduce,
    )
    chunks = _results(spec, members, n_workers, chunk)
    inputs = MetricInputs(list(names))
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    with EvalZipWriter(output) as writer:
        reductions = ReductionSpill(list(names)) if reduce else None
        try:
            # the new scores' provenance replaces the source's (see equanimity.provenance)
            header.eval.metadata = {
                **(header.eval.metadata or {}),
                METADATA_KEY: scorer_provenance(roles),
            }
            mark_rescore(header, log_path, names)
            writer.write_start(header)
            for scored in chunks:
                for s in scored:
                    writer.write_compressed(s.member, s.data, s.crc, s.size)
                    writer.summaries.append(s.summary)
                    inputs.add(s.scores, s.completed)
                    for name, red in (s.reductions or {}).items():
                        if reductions is not None:
                            reductions.append(name, red)
                if progress is not None:
                    progress(inputs.samples, len(members))
            t1 = time.perf_counter()
            apply_results(header, scorer_objs, inputs, reduced=reduce, processes=n_workers)
            t2 = time.perf_counter()
            writer.finish(header, reductions if reductions is not None else header.reductions)
        finally:
            if reductions is not None:
                reductions.close()
    phases.update(samples=t1 - t0, metrics=t2 - t1, finish=time.perf_counter() - t2)
    return RescoreResult(
        output=output,
        samples=inputs.samples,
        scorers=list(names),
        workers=n_workers,
        seconds=time.perf_counter() - start,
        phases=phases,
        log=header,
    )
