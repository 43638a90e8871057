"""A text-free copy of a transcripts log: scores and structure kept, no message text.

Every message becomes a placeholder naming its role and length; tool calls keep the function
name (``end_conversation``) with argument values replaced; the scenario in the metadata and the
replay record in the store keep their shape (so ``report``, ``compare`` and ``gate`` read the
log as usual) with placeholders for every text; score explanations, which quote replies, are
dropped; the event transcript and attachments are removed. Sample ids are hashed before scoring
(see :func:`equanimity.transcripts.convert.conversation_id`).

The log still holds one row of scores per conversation, with its category: it is text-free,
not an aggregate. The aggregate, small-group-suppressed view is the redacted report.
"""

from __future__ import annotations

import re
from typing import Any

from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ModelOutput,
)
from inspect_ai.scorer import Score
from inspect_ai.tool import ToolCall

from equanimity.records import REPLAY_STORE_KEY
from equanimity.transcripts.convert import TRANSCRIPT_MODEL

REDACTED = "[redacted]"
"""Placeholder for a text whose length is not worth keeping."""

SAFE_SCORE_METADATA = (
    "outcome",
    "labels",
    "judge_calls",
    "judge_unparsed",
    "judge_input_tokens",
    "judge_output_tokens",
    "judge_pairs",
    "judge_audit_pairs",
)
"""Score metadata keys kept (labels and counts, never text: ``judgements``, which hold the
judge's prompts and answers, are dropped)."""

_ENUM_LIKE = re.compile(r"^[a-z_]+(,[a-z_]+)*$")


def placeholder(text: str, what: str) -> str:
    """``[redacted <what>: N characters]``."""
    return f"[redacted {what}: {len(text)} characters]"


def redact_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Each message with its text replaced by a placeholder; tool calls keep their function."""
    out: list[ChatMessage] = []
    for i, m in enumerate(messages):
        update: dict[str, Any] = {
            "content": placeholder(m.text, f"{m.role} message"),
            "metadata": None,
            "id": f"m{i + 1}",
        }
        if isinstance(m, ChatMessageAssistant):
            update["tool_calls"] = [
                ToolCall(
                    id=f"call-{i + 1}-{j + 1}",
                    function=c.function,
                    arguments={k: placeholder(str(v), "argument") for k, v in c.arguments.items()},
                )
                for j, c in enumerate(m.tool_calls or [])
            ] or None
        if m.role == "tool":
            update.update(tool_call_id=None, error=None)
        out.append(m.model_copy(update=update))
    return out


def redact_scenario(scenario: dict[str, Any]) -> dict[str, Any]:
    """Replace every text of a scenario dict (the result is still a valid scenario)."""
    s = dict(scenario)
    s["description"] = "Recorded conversation (text redacted)."
    if s.get("system"):
        s["system"] = placeholder(str(s["system"]), "system prompt")
    s["turns"] = [
        {"user": placeholder(str(t.get("user", "")), "user message")} for t in s.get("turns", [])
    ]
    expect = dict(s.get("expect") or {})
    for key in ("correct_answer", "wrong_answer"):
        if expect.get(key):
            expect[key] = REDACTED
    s["expect"] = expect
    s["branch"] = None
    s["source"] = "recorded conversation (text redacted)"
    return s


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    """Replace user text, replies, tool arguments and end reason in a replay record dict."""
    r = dict(record)
    turns = []
    for t in r.get("turns", []):
        t = dict(t)
        t["user"] = placeholder(str(t.get("user", "")), "user message")
        t["reply"] = placeholder(str(t.get("reply", "")), "reply")
        t["tool_calls"] = [
            {
                "function": c.get("function"),
                "arguments": {
                    k: placeholder(str(v), "argument")
                    for k, v in (c.get("arguments") or {}).items()
                },
            }
            for c in t.get("tool_calls", [])
        ]
        turns.append(t)
    r["turns"] = turns
    if r.get("end_reason"):
        r["end_reason"] = placeholder(str(r["end_reason"]), "end reason")
    return r


def redact_score(score: Score) -> Score:
    """Drop a score's explanation, free-text answer and free-form metadata."""
    answer = (
        score.answer if isinstance(score.answer, str) and _ENUM_LIKE.match(score.answer) else None
    )
    metadata = {k: v for k, v in (score.metadata or {}).items() if k in SAFE_SCORE_METADATA}
    return score.model_copy(
        update={
            "answer": answer,
            "explanation": None,
            "reason": None,
            "metadata": metadata or None,
            "history": [],
        }
    )


def redact_sample(sample: EvalSample) -> EvalSample:
    """Return a text-free copy of one sample."""
    metadata = dict(sample.metadata or {})
    if isinstance(metadata.get("scenario"), dict):
        metadata["scenario"] = redact_scenario(metadata["scenario"])
    store = {}
    if isinstance(sample.store.get(REPLAY_STORE_KEY), dict):
        store[REPLAY_STORE_KEY] = redact_record(sample.store[REPLAY_STORE_KEY])
    messages = redact_messages(list(sample.messages))
    last = next((m for m in reversed(messages) if isinstance(m, ChatMessageAssistant)), None)
    output = ModelOutput(
        model=TRANSCRIPT_MODEL,
        choices=[ChatCompletionChoice(message=last, stop_reason="stop")]
        if last is not None
        else [],
    )
    error = (
        sample.error.model_copy(update={"message": REDACTED, "traceback": "", "traceback_ansi": ""})
        if sample.error
        else None
    )
    return sample.model_copy(
        update={
            "input": f"[redacted conversation: {len(messages)} messages]",
            "target": "",
            "choices": None,
            "messages": messages,
            "output": output,
            "metadata": metadata,
            "store": store,
            "scores": {k: redact_score(v) for k, v in (sample.scores or {}).items()},
            "events": [],
            "timelines": None,
            "events_data": None,
            "attachments": {},
            "error": error,
            "error_retries": None,
        }
    )


def redact_log(log: EvalLog) -> EvalLog:
    """Return a text-free copy of a transcripts log (see the module docstring)."""
    samples = [redact_sample(s) for s in log.samples or []]
    reductions = None
    if log.reductions:
        reductions = [
            r.model_copy(
                update={
                    "samples": [
                        s.model_copy(
                            update={
                                "explanation": None,
                                "reason": None,
                                "history": [],
                                "answer": redact_score(s).answer,
                                "metadata": redact_score(s).metadata,
                            }
                        )
                        for s in r.samples
                    ]
                }
            )
            for r in log.reductions
        ]
    error = (
        log.error.model_copy(update={"message": REDACTED, "traceback": "", "traceback_ansi": ""})
        if log.error
        else None
    )
    return log.model_copy(update={"samples": samples, "reductions": reductions, "error": error})
