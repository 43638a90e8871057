"""The log-level results of a re-scoring, with inspect's own reducers and metric computation.

This is the tail of ``inspect_ai.score_async`` for ``action="overwrite"``: metrics from the
log header or the scorers, epoch reducers from the header, ``eval_results`` for the results
and reductions, then the header's scorer list and headline. Two things are arranged so it
stays cheap at 10,000 samples, without changing a value:

- **Reduction in the workers.** When every sample has one epoch and the header names no
  reducer (inspect then reduces with ``mean`` under no name), each worker reduces its own
  samples with inspect's reducer and serialises the reductions; the main process then runs
  ``eval_results`` on the reduced scores with reduction turned off (``reducers=[]``), which
  is the very call inspect makes on them after reducing. Reducing 50,000 scores and building
  their ``EvalSampleScore`` objects in one process was about half the metric time. Any other
  case (several epochs, named reducers, ``unreduced`` metrics) goes through ``eval_results``
  whole, as inspect does.
- **Shallow per-key copies.** The scores handed to ``eval_results`` are :class:`MetricScore`
  objects, whose deep copy (made once per key of a dict-valued score) is shallow. (When
  inspect reduces epochs itself, its reduced scores are plain ``SampleScore`` objects and are
  deep-copied as usual: slower, same values.)
- **Packed, per scorer, in parallel.** Scores wait pickled (:class:`MetricInputs`, ~0.7 KiB a
  score); ``eval_results`` runs for one scorer at a time (it treats each on its own, so the
  results put together in scorer order are the same), the scorers shared out between forked
  processes.
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from inspect_ai.log import (
    EvalLog,
    EvalResults,
    EvalSampleReductions,
    EvalSampleScore,
    EvalScore,
)
from inspect_ai.scorer import SampleScore, Score, Scorer, ScoreReducer

from equanimity._inspect_internal import (
    as_scorer_spec,
    eval_results,
    filter_metrics_by_scores,
    headline_metric_ref,
    metrics_from_log_header,
    reduced_views,
    reducers_from_log_header,
    resolve_eval_scorers,
    resolve_headline_metric,
    resolve_scorer_metrics,
    scorer_metrics,
    to_json_safe,
)


class MetricScore(SampleScore):
    """A ``SampleScore`` whose deep copy shares everything but a new ``Score`` shell.

    For every key of a dict-valued score, inspect's ``eval_results`` deep-copies the
    ``SampleScore`` only to set the copy's ``score.value`` to that key's value (~30 deep copies
    per sample here). This copy is a new ``MetricScore`` around a new ``Score`` sharing the
    rest (metadata, answer, sample metadata), which is all that assignment needs. Metrics must
    not mutate what they are given (neither inspect's nor equanimity's do).
    """

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> MetricScore:
        """A shallow copy with its own ``Score`` (see the class docstring)."""
        return self.model_copy(update={"score": self.score.model_copy()})


def resolved_metrics(log: EvalLog, scorers: list[Scorer]) -> list[Scorer]:
    """The scorers with the metrics inspect would compute for them on this log."""
    return resolve_scorer_metrics(scorers, metrics_from_log_header(log)) or []


def workers_can_reduce(log: EvalLog, scorers: list[Scorer], single_epoch: bool) -> bool:
    """Whether each worker can reduce its own samples (see the module notes).

    Only for single-epoch samples under inspect's implicit reducer (``mean``, logged under
    no name) and metrics that all read reduced scores.
    """
    if not single_epoch or reducers_from_log_header(log) is not None:
        return False
    for s in resolved_metrics(log, scorers):
        if filter_metrics_by_scores(scorer_metrics(s), {"unreduced"}) is not None:
            return False
    ((_, name),) = reduced_views(None, False)
    return name is None


def implicit_reducer() -> ScoreReducer:
    """The reducer inspect applies when a log names none (``mean``)."""
    ((reducer, _),) = reduced_views(None, False)
    return reducer


def pack_score(score: SampleScore) -> bytes:
    """One score as kept until the metrics are computed: pickled, ~0.7 KiB (objects: ~2 KiB)."""
    return pickle.dumps(score, protocol=pickle.HIGHEST_PROTOCOL)


def reduce_sample(
    scores: dict[str, MetricScore],
    reducer: ScoreReducer,
) -> tuple[dict[str, MetricScore], dict[str, bytes]]:
    """One sample's scores reduced as inspect's ``reduce_scores`` does, and their reductions.

    Returns the reduced scores trimmed to what metrics read (value and metadata; answer and
    explanation are only logged) and each scorer's ``EvalSampleScore`` as JSON.
    """
    reduced: dict[str, MetricScore] = {}
    logged: dict[str, bytes] = {}
    for name, s in scores.items():
        r = reducer([s.score])
        logged[name] = to_json_safe(
            EvalSampleScore(**r.__dict__, sample_id=s.sample_id), indent=None
        )
        reduced[name] = MetricScore(
            score=Score(value=r.value, metadata=r.metadata),
            sample_id=s.sample_id,
            sample_metadata=s.sample_metadata,
            scorer=s.scorer,
        )
    return reduced, logged


@dataclass
class MetricInputs:
    """The new scores of a log, kept packed by scorer until its metrics are computed.

    Holding them pickled, one scorer's at a time unpacked, keeps the main process at ~0.7 KiB
    per sample and score instead of the ~2 KiB the objects take.
    """

    names: list[str]
    """Scorer names, in order."""
    packed: dict[str, list[bytes]] = field(default_factory=dict)
    """Each scorer's scores (:func:`pack_score`), in inspect's sample order."""
    samples: int = 0
    """Samples scored."""
    completed: int = 0
    """Samples that finished without error."""

    def add(self, scores: dict[str, bytes], completed: bool) -> None:
        """Record one sample's packed scores."""
        for name, blob in scores.items():
            self.packed.setdefault(name, []).append(blob)
        self.samples += 1
        self.completed += completed


@dataclass
class _Job:
    """What computing the metrics needs, shared with forked processes by inheritance."""

    log: EvalLog
    scorers: list[Scorer]
    inputs: MetricInputs
    reducers: ScoreReducer | list[ScoreReducer] | None
    log_metrics: Any


_JOB: _Job | None = None


def _eval(job: _Job, which: list[int]) -> tuple[EvalResults, list[EvalSampleReductions]]:
    """Inspect's ``eval_results`` for the scorers at positions ``which``, one at a time.

    ``eval_results`` treats each scorer on its own (its scores, metrics and reductions), so
    its results for the scorers one by one, put together in order, are its result for all.
    """
    log, m = job.log, job.inputs
    kwargs: dict[str, Any] = {
        "early_stopping": log.results.early_stopping if log.results else None,
        "metadata": log.results.metadata if log.results else None,
        "logged_samples": log.results.logged_samples if log.results else None,
        "completed_samples": m.completed,
        "headline_metric": None,
    }
    results, _ = eval_results(m.samples, [], job.reducers, [], job.log_metrics, [], **kwargs)
    reductions: list[EvalSampleReductions] = []
    for i in which:
        name = m.names[i]
        scores = [{name: pickle.loads(b)} for b in m.packed.get(name, [])]
        part, part_reductions = eval_results(
            m.samples, scores, job.reducers, [job.scorers[i]], job.log_metrics, [name], **kwargs
        )
        results.scores.extend(part.scores)
        reductions.extend(part_reductions or [])
    return results, reductions


def _eval_part(which: list[int]) -> tuple[list[EvalScore], list[EvalSampleReductions]]:
    """Pool task: one share of the scorers' results (scores and reductions)."""
    if _JOB is None:
        raise RuntimeError("metric inputs not set before the fork")
    results, reductions = _eval(_JOB, which)
    return results.scores, reductions


def _shares(scorers: list[Scorer], n: int) -> list[list[int]]:
    """Scorer positions split into ``n`` shares of about equal work (score keys)."""
    weights = []
    for s in scorers:
        metrics = scorer_metrics(s)
        weights.append(len(metrics) if isinstance(metrics, dict) else 1)
    shares: list[list[int]] = [[] for _ in range(n)]
    load = [0] * n
    for i in sorted(range(len(scorers)), key=lambda i: -weights[i]):
        k = load.index(min(load))
        shares[k].append(i)
        load[k] += weights[i]
    return [sorted(share) for share in shares if share]


def apply_results(
    log: EvalLog, scorers: list[Scorer], inputs: MetricInputs, reduced: bool, processes: int = 1
) -> None:
    """Set ``log``'s results, reductions, scorer list and headline from the new scores.

    ``reduced``: the scores were already reduced by :func:`reduce_sample` (then
    ``log.reductions`` is left for the caller, who holds them serialised). ``processes`` > 1
    computes the scorers' results in forked processes (Linux), a share of the scorers each.
    """
    global _JOB
    log_metrics = metrics_from_log_header(log)
    resolved = resolve_scorer_metrics(scorers, log_metrics) or []
    job = _Job(log, resolved, inputs, [] if reduced else reducers_from_log_header(log), log_metrics)
    shares = _shares(resolved, processes)
    if len(shares) > 1 and "fork" in multiprocessing.get_all_start_methods():
        results, _ = _eval(job, [])  # the results' own fields, no scorer yet
        _JOB = job
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(len(shares), mp_context=ctx) as pool:
                parts = list(pool.map(_eval_part, shares))
        finally:
            _JOB = None
        got_scores = [s for part_scores, _ in parts for s in part_scores]
        got_reductions = [r for _, part_reductions in parts for r in part_reductions]
        reductions: list[EvalSampleReductions] = []
        for name in inputs.names:  # back in scorer order, whichever share computed it
            results.scores.extend(s for s in got_scores if s.scorer == name)
            reductions.extend(r for r in got_reductions if r.scorer == name)
    else:
        results, reductions = _eval(job, list(range(len(resolved))))
    log.reductions = None if reduced else reductions
    log.results = results
    log.eval.scorers = resolve_eval_scorers([as_scorer_spec(s) for s in resolved]) or []
    headline = resolve_headline_metric(log.results, log.eval.headline_metric)
    log.results.headline = headline_metric_ref(headline) if headline else None
