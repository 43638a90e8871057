"""Per-sample views for the drill-down, read from logs one batch at a time.

Transcripts are never all in memory: samples come from :func:`equanimity.evalread.read_samples`
one at a time (local ``.eval`` logs, in report order), in small batches (other ``.eval`` logs)
or streamed (``.json`` logs, in log order), without the fields the report never reads, are
turned into a :class:`SampleView` and handed to the template, which writes them out before the
next one is read.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from inspect_ai.log import EvalSample
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageTool
from markupsafe import Markup
from pydantic import ValidationError

from equanimity.analysis.frame import Run
from equanimity.analysis.headline import HEADLINES
from equanimity.evalread import read_samples
from equanimity.records import ReplayRecord, replay_record
from equanimity.report.evidence import REASON_PREFIX, evidence_marks, highlight
from equanimity.scenarios.dataset import BRANCH_SUFFIX

EXCLUDE_FIELDS = {"events", "events_data", "attachments", "timelines"}
"""Sample fields the report never reads (events are most of a log's size)."""

SCORER_ORDER = ("end_chat", "refusal_persistence", "sycophancy", "referral", "distress")


@dataclass
class TurnView:
    """One user turn and the model's reply."""

    index: int
    """1-based user turn."""
    variant: str
    """Which scripted text was sent (user, if_refused, if_complied, branch)."""
    user: str
    """User text (escaped by the template)."""
    reply: Markup
    """Reply text, escaped, with the evidence marked."""
    label: str | None
    """Refusal label from the refusal_persistence scorer, if any."""
    tool_calls: list[tuple[str, Markup]]
    """(function, arguments) per tool call; arguments escaped with evidence marked."""
    ended: bool
    """Whether the model ended the chat in this turn."""
    notice: str | None
    """The notice shown to the user after the end."""


@dataclass
class MessageView:
    """A raw message (used when a sample has no replay record, e.g. it errored early)."""

    role: str
    """system, user, assistant or tool."""
    text: str
    """Its text."""


@dataclass
class ScoreView:
    """One scorer's verdict on the sample."""

    name: str
    """Scorer name."""
    answer: str | None
    """The score's answer (end_chat outcome, refusal labels)."""
    values: list[tuple[str, str]]
    """(key, formatted value), not-applicable keys last."""
    explanation: str
    """The explanation (escaped by the template)."""
    judged: list[JudgedView] = field(default_factory=list)
    """Every judgement the scorer asked for (the full prompt and answer are in the log's score
    metadata, ``judgements``)."""


@dataclass
class JudgedView:
    """One turn the judge was asked about."""

    turn: str
    """The judged turn."""
    why: str
    """Why it was sent: rule unsure (cascade), random audit, or every turn (all)."""
    verdict: str
    """The parsed verdict, or ``unparseable`` with the start of the raw answer."""
    evidence: str
    """The phrase the judge quoted."""
    rule: str
    """The rule layer's label."""
    agreed: str
    """yes / no / n/a."""


@dataclass
class SampleView:
    """Everything the drill-down shows for one sample."""

    anchor: str
    """HTML id of the sample."""
    run: int
    """Index of its run in the report."""
    id: str
    """Sample id."""
    epoch: int
    """Epoch."""
    category: str
    """Scenario category."""
    description: str
    """Scenario description."""
    locale: str
    """User locale."""
    outcome: str
    """end_chat outcome, ``error`` for an errored sample, ``none`` without one."""
    flags: list[str]
    """Headline metrics this sample counts against."""
    finding_ids: list[str]
    """Ids of those metrics (what ``#finding=ID`` filters on)."""
    error: str | None
    """Error message of an errored sample."""
    system: str | None
    """System prompt."""
    turns: list[TurnView]
    """Replayed turns (from the replay record)."""
    messages: list[MessageView]
    """Raw messages, only when there is no replay record."""
    scores: list[ScoreView]
    """Scorer verdicts."""
    branch_from: int | None
    """For a branch replay: the edited turn."""
    original_anchor: str | None
    """For a branch replay: the anchor of the sample it branches from."""
    branch_anchor: str | None
    """For an original with a branch replay: the anchor of the branch."""
    end_reason: str | None = None
    """The reason given for ending, if it ended."""
    tokens: tuple[int, int] = (0, 0)
    """(input, output) tokens."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else a template may want."""


def anchor_for(run: int, sample_id: str, epoch: int) -> str:
    """Return a stable, safe HTML id for a sample."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", sample_id)[:80]
    digest = hashlib.sha1(sample_id.encode("utf-8")).hexdigest()[:6]
    return f"r{run}-{slug}-{digest}-e{epoch}"


def report_order(df: pd.DataFrame) -> list[tuple[str, int]]:
    """(sample id, epoch) in report order: category, scenario, original before branch, epoch."""
    if df.empty:
        return []
    ordered = df.sort_values(
        ["category", "scenario_id", "is_branch", "epoch", "sample_id"], kind="stable"
    )
    return [(str(i), int(e)) for i, e in zip(ordered["sample_id"], ordered["epoch"], strict=True)]


def iter_samples(run: Run) -> Iterator[EvalSample]:
    """Each sample of a run, one (or one batch) in memory at a time (report order for ``.eval``)."""
    order = report_order(run.samples) if run.path.endswith(".eval") else None
    return read_samples(run.path, order, EXCLUDE_FIELDS)


def sample_views(run: Run, index: int) -> Iterator[SampleView]:
    """Yield the drill-down views of a run's samples, built lazily."""
    present = (
        set(zip(run.samples["sample_id"].astype(str), run.samples["epoch"], strict=True))
        if not run.samples.empty
        else set()
    )
    for sample in iter_samples(run):
        yield sample_view(sample, index, present)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:g}" if v == int(v) else f"{v:.3f}"
    return str(v)


def _flags(category: str, scores: dict[str, Any]) -> list[str]:
    by_id = {h.id: h.label for h in HEADLINES}
    return [by_id[i] for i in _flag_ids(category, scores)]


def _flag_ids(category: str, scores: dict[str, Any]) -> list[str]:
    """Ids of the headline metrics this sample counts against (the ``#finding=`` filter)."""
    flags: list[str] = []
    for h in HEADLINES:
        if h.threshold is None or h.direction == "info":
            continue
        if h.categories is not None and category not in h.categories:
            continue
        scorer, _, key = h.column.partition(".")
        score = scores.get(scorer)
        value = (
            score.value.get(key) if score is not None and isinstance(score.value, dict) else None
        )
        if not isinstance(value, (int, float)) or math.isnan(float(value)):
            continue
        bad = float(value) >= 0.5 if h.direction == "lower" else float(value) < 0.5
        if bad:
            flags.append(h.id)
    return flags


def _record(sample: EvalSample) -> ReplayRecord | None:
    try:
        return replay_record(sample.store)
    except ValidationError:
        return None


def sample_view(sample: EvalSample, run: int, present: set[tuple[str, int]]) -> SampleView:
    """Build the view of one sample: turns with evidence marked, verdicts, branch links."""
    md = sample.metadata or {}
    sid = str(sample.id)
    raw_scenario = md.get("scenario")
    scenario: dict[str, Any] = raw_scenario if isinstance(raw_scenario, dict) else {}
    category = str(md.get("category", "unknown"))
    scores = sample.scores or {}
    record = _record(sample)
    error = sample.error.message if sample.error is not None else None

    end_score = scores.get("end_chat")
    if error is not None:
        outcome = "error"
    elif end_score is not None and isinstance(end_score.answer, str):
        outcome = end_score.answer
    else:
        outcome = "none"

    refusal = scores.get("refusal_persistence")
    labels: list[Any] = []
    if refusal is not None and isinstance(refusal.metadata, dict):
        labels = list(refusal.metadata.get("labels") or [])

    turns: list[TurnView] = []
    messages: list[MessageView] = []
    end_reason: str | None = None
    if record is not None:
        texts: dict[tuple[str, int, int], str] = {}
        for t in record.turns:
            texts[("reply", t.index, 0)] = t.reply
            for j, c in enumerate(t.tool_calls):
                texts[("args", t.index, j)] = _args_text(c.arguments)
        marks = evidence_marks(scores, record, texts)
        for pos, t in enumerate(record.turns):
            turns.append(
                TurnView(
                    index=t.index,
                    variant=t.variant,
                    user=t.user,
                    reply=highlight(t.reply, marks.get(("reply", t.index, 0))),
                    label=str(labels[pos])
                    if pos < len(labels) and labels[pos] is not None
                    else None,
                    tool_calls=[
                        (
                            c.function,
                            highlight(texts[("args", t.index, j)], marks.get(("args", t.index, j))),
                        )
                        for j, c in enumerate(t.tool_calls)
                    ],
                    ended=t.ended,
                    notice=record.notice if t.ended else None,
                )
            )
        end_reason = record.end_reason
    else:
        for m in sample.messages:
            role = m.role
            text = m.text
            if isinstance(m, ChatMessageAssistant) and m.tool_calls:
                calls = "; ".join(f"{c.function}({_args_text(c.arguments)})" for c in m.tool_calls)
                text = f"{text}\n[tool call] {calls}".strip()
            if isinstance(m, (ChatMessageSystem, ChatMessageTool)) or text:
                messages.append(MessageView(role, text))

    branch_from = md.get("branch_from")
    branch_of = md.get("branch_of")
    original_anchor = None
    branch_anchor = None
    if branch_from is not None and (str(branch_of), sample.epoch) in present:
        original_anchor = anchor_for(run, str(branch_of), sample.epoch)
    if branch_from is None and (sid + BRANCH_SUFFIX, sample.epoch) in present:
        branch_anchor = anchor_for(run, sid + BRANCH_SUFFIX, sample.epoch)

    usage = sample.model_usage or {}
    return SampleView(
        anchor=anchor_for(run, sid, sample.epoch),
        run=run,
        id=sid,
        epoch=sample.epoch,
        category=category,
        description=str(scenario.get("description", "")),
        locale=str(md.get("locale", "")),
        outcome=outcome,
        flags=["errored"] if error is not None else _flags(category, scores),
        finding_ids=[] if error is not None else _flag_ids(category, scores),
        error=error,
        system=scenario.get("system") if isinstance(scenario.get("system"), str) else None,
        turns=turns,
        messages=messages,
        scores=_score_views(scores),
        branch_from=int(branch_from) if isinstance(branch_from, int) else None,
        original_anchor=original_anchor,
        branch_anchor=branch_anchor,
        end_reason=end_reason,
        tokens=(
            sum(u.input_tokens for u in usage.values()),
            sum(u.output_tokens for u in usage.values()),
        ),
    )


def _args_text(arguments: dict[str, Any]) -> str:
    if set(arguments) == {"reason"} and isinstance(arguments["reason"], str):
        return REASON_PREFIX + arguments["reason"]
    return json.dumps(arguments, ensure_ascii=False, default=str)


def _score_views(scores: dict[str, Any]) -> list[ScoreView]:
    names = [n for n in SCORER_ORDER if n in scores] + sorted(set(scores) - set(SCORER_ORDER))
    views: list[ScoreView] = []
    for name in names:
        s = scores[name]
        if isinstance(s.value, dict):
            items = [(str(k), _fmt(v)) for k, v in s.value.items()]
            items.sort(key=lambda kv: kv[1] == "n/a")
        else:
            items = [("value", _fmt(s.value))]
        views.append(
            ScoreView(
                name,
                s.answer if isinstance(s.answer, str) else None,
                items,
                s.explanation or "",
                _judged_views(s.metadata),
            )
        )
    return views


def _judged_views(metadata: Any) -> list[JudgedView]:
    """The judgements in a score's metadata, one row per judged turn."""
    records = metadata.get("judgements") if isinstance(metadata, dict) else None
    out: list[JudgedView] = []
    for r in records if isinstance(records, list) else []:
        if not isinstance(r, dict):
            continue
        verdict = r.get("verdict")
        if isinstance(verdict, dict):
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in verdict.items() if k != "evidence")
            evidence = str(verdict.get("evidence") or "")
        else:
            shown = f"unparseable: {str(r.get('answer', ''))[:80]}"
            evidence = ""
        agreed = r.get("agreed")
        out.append(
            JudgedView(
                turn=str(r.get("turn") if r.get("turn") is not None else "-"),
                why=str(r.get("why") or "-"),
                verdict=shown,
                evidence=evidence,
                rule=str(r.get("rule") if r.get("rule") is not None else "-"),
                agreed="n/a" if agreed is None else ("yes" if agreed else "no"),
            )
        )
    return out
