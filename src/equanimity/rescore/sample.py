"""Re-score one sample of a log, working on its JSON so its events are never validated.

A sample's events are most of its bytes and most of the cost of turning it into an
``EvalSample``; scorers never see them. So the sample is parsed as plain JSON, everything but
its events is validated into an ``EvalSample`` and handed to inspect's own post-hoc scoring step
(``run_score_task`` in :mod:`equanimity._inspect_internal`: ``task_state_from_sample`` builds the ``TaskState``, each scorer runs in
its span, a ``ScoreEvent`` is recorded), and the new scores and scorer events are spliced back
into the JSON in place of the old ones, as ``inspect score --action overwrite`` does.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import zstandard
from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.model import Model
from inspect_ai.scorer import Scorer, ScoreReducer
from pydantic_core import PydanticSerializationError, from_json, to_json

from equanimity._inspect_internal import (
    READ_CONTEXT,
    jsonable_python,
    run_score_task,
    suspend_store_events,
    to_json_safe,
)
from equanimity.rescore.results import MetricScore, pack_score, reduce_sample
from equanimity.scorers.distress import reuse_head_probabilities

SCORERS_SPAN = "scorers"
"""Name and type of the span inspect wraps a sample's scorers in."""


@dataclass
class ScoredSample:
    """One re-scored sample, ready to be written and counted."""

    member: str
    """Its member name in the log (``samples/<id>_epoch_<n>.json``)."""
    data: bytes
    """The re-scored sample as JSON, zstd-compressed (one frame)."""
    crc: int
    """CRC-32 of the uncompressed JSON (the zip member's checksum)."""
    size: int
    """Length of the uncompressed JSON."""
    summary: bytes
    """Its summary (inspect's ``EvalSample.summary()``) as JSON."""
    scores: dict[str, bytes]
    """The new scores by scorer name, packed for the log's metrics (``pack_score``)."""
    completed: bool
    """Whether the sample finished without error (the results' completed count)."""
    reductions: dict[str, bytes] | None = None
    """Each scorer's reduced score as JSON, when the worker reduced (``scores`` then holds
    the reduced scores)."""


@dataclass
class ScoringContext:
    """What every sample of one log is scored with."""

    header: EvalLog
    """The log's header (its model name goes into each ``TaskState``)."""
    scorers: list[Scorer]
    """The scorers to run, in order."""
    model: Model
    """The active model bound while scoring."""
    model_roles: dict[str, Model | list[Model]]
    """Model roles bound while scoring (``grader`` turns on the judge layer)."""
    compressor: zstandard.ZstdCompressor
    """Compresses each sample for the zip (inspect's level; one per process)."""
    reducer: ScoreReducer | None = None
    """Reduce each sample's scores here with this (single epoch, implicit reducer)."""


def scorer_span_events(events: list[Any]) -> tuple[int, set[int]] | None:
    """Where the last ``scorers`` span of a sample's events starts, and the events in it.

    Mirrors inspect's choice of the span to replace (the last span named and typed
    ``scorers``); its events are the span's begin and end and every event in a span nested in
    it. None when the sample has no such span.
    """
    start = None
    for i, ev in enumerate(events):
        if (
            isinstance(ev, dict)
            and ev.get("event") == "span_begin"
            and ev.get("type") == SCORERS_SPAN
            and ev.get("name") == SCORERS_SPAN
        ):
            start = i
    if start is None:
        return None
    spans = {events[start].get("id")}
    inside: set[int] = set()
    for i in range(start, len(events)):
        ev = events[i]
        if not isinstance(ev, dict):
            continue
        kind = ev.get("event")
        if kind == "span_begin" and (i == start or ev.get("parent_id") in spans):
            spans.add(ev.get("id"))
            inside.add(i)
        elif (kind == "span_end" and ev.get("id") in spans) or ev.get("span_id") in spans:
            inside.add(i)
    return start, inside


def splice_scorer_events(events: list[Any], new: list[Any]) -> list[Any]:
    """``events`` with its last ``scorers`` span replaced by ``new`` (appended if it has none)."""
    found = scorer_span_events(events)
    if found is None:
        return [*events, *new]
    start, inside = found
    kept_after = [ev for i, ev in enumerate(events[start:], start) if i not in inside]
    return [*events[:start], *new, *kept_after]


ATTACHMENT_PREFIXES = ("attachment://", "tc://")
"""How a condensed log refers to an attachment (``tc://``: older logs)."""


def has_attachment_refs(value: dict[str, Any]) -> bool:
    """Whether any string in ``value`` (plain JSON data) refers to an attachment."""
    text = to_json(value, fallback=lambda _x: None)
    return any(b'"' + prefix.encode() in text for prefix in ATTACHMENT_PREFIXES)


def dump_json(data: dict[str, Any]) -> bytes:
    """A sample's JSON as inspect's recorder writes it (``to_json_safe``, compact).

    The sample is plain JSON data here (parsed, plus scores and events already made
    JSON-able), so inspect's first step, turning models into plain data, is skipped; the rare
    text pydantic cannot encode goes through ``to_json_safe`` itself.
    """
    try:
        return to_json(data, exclude_none=True, fallback=lambda _x: None)
    except PydanticSerializationError:
        return to_json_safe(data, indent=None)


def metric_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The scalar entries of a sample's metadata: all a metric can group by.

    Every score kept for the metrics carries its sample's metadata; the scenario (a nested
    dict, most of it) is dropped so what the main process holds per sample stays small.
    """
    return {
        k: v
        for k, v in (metadata or {}).items()
        if v is None or isinstance(v, (str, int, float, bool))
    }


async def rescore_sample(member: str, raw: bytes, ctx: ScoringContext) -> ScoredSample:
    """Re-score one sample given as JSON bytes; its scores and scorer events are replaced."""
    data: dict[str, Any] = from_json(raw, allow_inf_nan=True)
    if not isinstance(data, dict):
        raise ValueError(f"{member}: not a sample (expected a JSON object)")
    events = data.get("events") or []
    light = {k: v for k, v in data.items() if k not in ("events", "events_data")}
    light["events"] = []
    if not has_attachment_refs({k: v for k, v in light.items() if k != "attachments"}):
        # attachments are only ever resolved into what refers to them: with no reference
        # outside the events there is nothing to resolve (inspect walks it all to find out)
        light.pop("attachments", None)
    old = data.get("scores")
    if isinstance(old, dict) and isinstance(old.get("distress"), dict):
        # the learned head's probabilities for unchanged replies: not embedded again
        reuse_head_probabilities(old["distress"].get("metadata"))
    # inspect's deserialising context minus its message cache, which only pays off when the
    # events (holding copies of the messages) are validated too
    sample = EvalSample.model_validate(light, context=READ_CONTEXT)
    # Rescoring never saves the scorers' store writes (inspect keeps the sample's store), so
    # the StoreEvent each span would record costs two copies of the store per span for nothing
    with suspend_store_events():
        results, _ = await run_score_task(
            ctx.header, sample, ctx.scorers, ctx.model, ctx.model_roles, "overwrite"
        )
    new_events = [jsonable_python(ev) for ev in sample.events]
    out = {
        **data,
        "scores": jsonable_python(sample.scores),
        "events": splice_scorer_events(events, new_events),
    }
    grouping = metric_metadata(sample.metadata)  # one dict shared by the sample's scores
    scores = {
        name: MetricScore(
            score=s.score, sample_id=s.sample_id, sample_metadata=grouping, scorer=s.scorer
        )
        for name, s in results.items()
    }
    reductions = None
    if ctx.reducer is not None:
        scores, reductions = reduce_sample(scores, ctx.reducer)
    text = dump_json(out)
    return ScoredSample(
        member=member,
        data=ctx.compressor.compress(text),
        crc=zlib.crc32(text),
        size=len(text),
        summary=to_json_safe(sample.summary(), indent=None),
        scores={name: pack_score(s) for name, s in scores.items()},
        completed=sample.error is None,
        reductions=reductions,
    )
