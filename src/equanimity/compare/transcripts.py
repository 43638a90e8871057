"""Read individual transcripts back from inspect logs as plain (unescaped) rows for rendering."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from inspect_ai.log import EvalSample, read_eval_log_sample
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool

MAX_CHARS = 4000
"""Longest message text shown; longer text is cut with a marker."""


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
            calls = tuple(f"{c.function}({json.dumps(c.arguments, ensure_ascii=False)})"
                          for c in m.tool_calls)
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
