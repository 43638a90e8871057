"""Build large logs from a small real one, and read judge-call counts from a log."""

from __future__ import annotations

import math
import uuid
from typing import Any

from inspect_ai.log import EvalLog, EvalSample, read_eval_log, write_eval_log

from equanimity.records import REPLAY_STORE_KEY, replay_record
from equanimity.scenarios.dataset import BRANCH_SUFFIX


def _new_id(sample_id: str, suffix: str) -> str:
    if sample_id.endswith(BRANCH_SUFFIX):
        return sample_id[: -len(BRANCH_SUFFIX)] + suffix + BRANCH_SUFFIX
    return sample_id + suffix


def clone_sample(sample: EvalSample, copy_index: int) -> EvalSample:
    """A copy of ``sample`` under new ids (sample, scenario, branch-of, uuid).

    Messages, events and scores are shared with the original (a shallow copy): only what
    identifies the sample changes, plus a copy tag on each reply in the replay record (what
    the scorers read), so the copy is cheap and serialises like the original.
    """
    suffix = f".r{copy_index:05d}"
    md: dict[str, Any] = dict(sample.metadata or {})
    if isinstance(md.get("scenario"), dict):
        md["scenario"] = {**md["scenario"], "id": md["scenario"]["id"] + suffix}
    if md.get("scenario_id"):
        md["scenario_id"] = str(md["scenario_id"]) + suffix
    if md.get("branch_of"):
        md["branch_of"] = str(md["branch_of"]) + suffix
    store: dict[str, Any] = dict(sample.store or {})
    rec = store.get(REPLAY_STORE_KEY)
    if isinstance(rec, dict):
        # each copy's replies get their own tag: equanimity's detectors cache verdicts per
        # text, and replies repeated across copies would measure that cache (a real model
        # rarely repeats a reply word for word)
        turns = [
            {**t, "reply": f"{t['reply']} [{suffix[1:]}]" if t.get("reply") else ""}
            for t in rec.get("turns", [])
        ]
        store[REPLAY_STORE_KEY] = {
            **rec,
            "scenario_id": str(rec["scenario_id"]) + suffix,
            "turns": turns,
        }
    return sample.model_copy(
        update={
            "id": _new_id(str(sample.id), suffix),
            "metadata": md,
            "store": store,
            "uuid": uuid.uuid4().hex,
        }
    )


def replicate_log(template_path: str, n: int, out: str) -> int:
    """Write an ``n``-sample log to ``out`` by replicating the template's samples with new ids.

    Every copy keeps the template's real replay record and real scores; the header's dataset
    and results counts and the per-sample reductions follow the new ids. Returns ``n``.
    """
    log = read_eval_log(template_path)
    template = log.samples or []
    if not template:
        raise ValueError(f"{template_path}: the template log has no samples")
    copies = math.ceil(n / len(template))
    pairs = [(s, clone_sample(s, k)) for k in range(copies) for s in template][:n]
    samples = [c for _, c in pairs]
    id_map = [(str(s.id), str(c.id)) for s, c in pairs]
    reductions = None
    if log.reductions:
        reductions = []
        for red in log.reductions:
            by_id = {str(r.sample_id): r for r in red.samples}
            new = [
                by_id[old].model_copy(update={"sample_id": new_id})
                for old, new_id in id_map
                if old in by_id
            ]
            reductions.append(red.model_copy(update={"samples": new}))
    dataset = log.eval.dataset.model_copy(
        update={"samples": n, "sample_ids": [s.id for s in samples]}
    )
    header_eval = log.eval.model_copy(update={"dataset": dataset})
    results = (
        log.results.model_copy(update={"total_samples": n, "completed_samples": n})
        if log.results
        else None
    )
    big: EvalLog = log.model_copy(
        update={
            "eval": header_eval,
            "results": results,
            "samples": samples,
            "reductions": reductions,
        }
    )
    write_eval_log(big, out)
    return n


def judge_counts(log: EvalLog) -> dict[str, Any]:
    """Judge calls (from each score's ``judge_calls`` metadata) and the turns they scored."""
    turns = 0
    samples = 0
    by_scorer: dict[str, int] = {}
    for sample in log.samples or []:
        rec = replay_record(sample.store)
        if rec is None or not sample.scores:
            continue
        samples += 1
        turns += len(rec.turns)
        for name, sc in sample.scores.items():
            calls = int((sc.metadata or {}).get("judge_calls", 0))
            by_scorer[name] = by_scorer.get(name, 0) + calls
    total = sum(by_scorer.values())
    return {
        "samples": samples,
        "turns": turns,
        "judge_calls": total,
        "calls_per_turn": total / turns if turns else math.nan,
        "by_scorer": by_scorer,
    }
