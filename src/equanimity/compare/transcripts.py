"""Read individual transcripts back from inspect logs as plain (unescaped) rows for rendering."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inspect_ai.log import EvalSample, read_eval_log_sample, read_eval_log_samples_by_id
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool

MAX_CHARS = 4000
"""Longest message text shown; longer text is cut with a marker."""

BATCH = 20
"""Transcripts read from a log at once by :func:`read_transcripts` (bounds memory)."""

SKIP_FIELDS = {"events", "events_data", "timelines"}
"""Sample fields a transcript never reads (the events are most of a sample)."""


@dataclass(frozen=True)
class Message:
    """One message of a transcript, as plain text (escaping is the renderer's job)."""

    role: str
    """system, user, assistant or tool."""
    text: str
    """The message text (cut at :data:`MAX_CHARS`)."""
    tool_calls: tuple[str, ...] = ()
    """Tool calls the assistant made, as ``name(arguments)``."""


def _cut(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS] + f" … [{len(text) - MAX_CHARS} more characters]"


def to_messages(messages: list[ChatMessage]) -> list[Message]:
    """Convert chat messages to plain rows."""
    rows: list[Message] = []
    for m in messages:
        calls: tuple[str, ...] = ()
        if isinstance(m, ChatMessageAssistant) and m.tool_calls:
            calls = tuple(
                f"{c.function}({json.dumps(c.arguments, ensure_ascii=False)})" for c in m.tool_calls
            )
        role: str = m.role
        if isinstance(m, ChatMessageTool) and m.function:
            role = f"tool: {m.function}"
        rows.append(Message(role, _cut(m.text), calls))
    return rows


def read_transcript(log: str | Path, sample_id: str, epoch: int) -> list[Message] | None:
    """Read the messages of one sample of a log, or None if it cannot be read."""
    try:
        sample: EvalSample = read_eval_log_sample(
            str(log), id=sample_id, epoch=epoch, resolve_attachments=True
        )
    except Exception:  # a missing or unreadable sample is shown as unavailable
        return None
    return to_messages(sample.messages)


def read_transcripts(
    log: str | Path, keys: Sequence[tuple[str, int]]
) -> list[list[Message] | None]:
    """Read the messages of several samples of one log, in order (None where unreadable).

    The log is opened once per :data:`BATCH` samples (inspect parses the zip's directory once
    per read, which for one sample at a time dominated a large comparison). A batch with a
    sample that cannot be read is read again one sample at a time.
    """
    out: list[list[Message] | None] = []
    for start in range(0, len(keys), BATCH):
        batch = list(keys[start : start + BATCH])
        try:
            samples = read_eval_log_samples_by_id(
                str(log), batch, resolve_attachments=True, exclude_fields=SKIP_FIELDS
            )
        except Exception:  # a missing or unreadable sample: find which, one at a time
            out.extend(read_transcript(log, sid, epoch) for sid, epoch in batch)
            continue
        out.extend(to_messages(s.messages) for s in samples)
    return out
