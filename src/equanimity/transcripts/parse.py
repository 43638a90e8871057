"""Read recorded conversations (JSONL, one per line) in OpenAI or Anthropic chat format.

Both formats become inspect chat messages through inspect's own converters
(:func:`inspect_ai.model.messages_from_anthropic`, and
:func:`inspect_ai.model.messages_from_openai` when the ``openai`` package is installed; without
it a small converter for the Chat Completions message shape is used). Every problem with a line
is a :class:`LineError` naming the line; it never carries message text, so it is safe to print
and to store in a redacted log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    messages_from_anthropic,
)
from inspect_ai.tool import ToolCall

Format = Literal["openai", "anthropic"]

OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
"""Roles accepted in the OpenAI Chat Completions format."""

ANTHROPIC_ROLES = frozenset({"user", "assistant"})
"""Roles accepted in the Anthropic Messages format (the system prompt is a top-level field)."""

ANTHROPIC_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "document",
        "server_tool_use",
        "web_search_tool_result",
    }
)
"""Content block types that only the Anthropic format has."""

MAX_LINE_CHARS = 5_000_000
"""Longest line accepted (characters)."""


class LineError(ValueError):
    """A line that cannot be read as a conversation; the message never quotes its text."""

    def __init__(self, line: int, message: str):
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class RawConversation:
    """One parsed line: its JSON object, detected format and inspect messages."""

    line: int
    """1-based line number in the file."""
    data: dict[str, Any]
    """The line's JSON object (``id``, ``category``, ``locale``, ``expect`` are read from it)."""
    format: Format
    """Which chat format the messages are in."""
    messages: list[ChatMessage]
    """The conversation as inspect messages (system prompt first, if any)."""


def read_lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """Each non-blank line of a JSONL file as (line number, object or error)."""
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"{p}: cannot read file: {exc.strerror}") from None
    with fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            if len(text) > MAX_LINE_CHARS:
                yield n, LineError(n, f"line longer than {MAX_LINE_CHARS} characters")
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield n, LineError(n, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                yield n, LineError(n, f"expected a JSON object, got {type(obj).__name__}")
                continue
            yield n, obj


def detect_format(obj: dict[str, Any], line: int) -> Format:
    """Which format a conversation object is in (an explicit ``format`` field wins)."""
    given = obj.get("format")
    if given is not None:
        if given not in ("openai", "anthropic"):
            raise LineError(line, "format must be 'openai' or 'anthropic'")
        return cast(Format, given)
    messages = _message_list(obj, line)
    openai = anthropic = False
    for m in messages:
        if (
            m.get("role") in ("system", "developer", "tool")
            or "tool_calls" in m
            or "tool_call_id" in m
        ):
            openai = True
        content = m.get("content")
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") in ANTHROPIC_BLOCKS for b in content
        ):
            anthropic = True
    if "system" in obj:
        anthropic = True
    if openai and anthropic:
        raise LineError(
            line,
            "mixes OpenAI fields (system/tool roles, tool_calls) with "
            "Anthropic fields (top-level system, tool_use/tool_result blocks)",
        )
    # plain user/assistant text is the same in both formats; inspect's Anthropic converter
    # needs no optional package, so it reads those
    return "openai" if openai else "anthropic"


def _message_list(obj: dict[str, Any], line: int) -> list[dict[str, Any]]:
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise LineError(line, "'messages' must be a non-empty list")
    for i, m in enumerate(messages, start=1):
        if not isinstance(m, dict):
            raise LineError(line, f"message {i} is not an object")
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise LineError(line, f"message {i}: content must be a string or a list of blocks")
        if isinstance(content, list) and not all(isinstance(b, dict) for b in content):
            raise LineError(line, f"message {i}: every content block must be an object")
    return messages


def _check_roles(
    messages: list[dict[str, Any]], roles: frozenset[str], fmt: str, line: int
) -> None:
    for i, m in enumerate(messages, start=1):
        role = m.get("role")
        if role not in roles:
            shown = role if isinstance(role, str) and len(role) <= 20 else type(role).__name__
            where = "" if fmt == "any" else f" in the {fmt} format"
            raise LineError(
                line, f"message {i}: role '{shown}' is not one of {', '.join(sorted(roles))}{where}"
            )


async def to_messages(obj: dict[str, Any], line: int) -> RawConversation:
    """Convert one conversation object to inspect messages (raises :class:`LineError`)."""
    messages = _message_list(obj, line)
    _check_roles(messages, OPENAI_ROLES, "any", line)
    fmt = detect_format(obj, line)
    if fmt == "anthropic":
        _check_roles(messages, ANTHROPIC_ROLES, fmt, line)
        system = obj.get("system")
        system_text = _anthropic_system(system, line)
        try:
            converted = list(
                await messages_from_anthropic(cast(Any, messages), system_message=system_text)
            )
        except Exception as exc:  # the converter raises many types on bad shapes
            raise LineError(line, f"not valid Anthropic messages ({_kind(exc)})") from None
    else:
        _check_roles(messages, OPENAI_ROLES, fmt, line)
        converted = await _from_openai(messages, line)
    return RawConversation(line, obj, fmt, converted)


def _anthropic_system(system: Any, line: int) -> str | None:
    if system is None or isinstance(system, str):
        return system or None
    if isinstance(system, list) and all(isinstance(b, dict) for b in system):
        return "\n\n".join(str(b.get("text", "")) for b in system if b.get("type") == "text")
    raise LineError(line, "'system' must be a string or a list of text blocks")


def _kind(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}" if exc.args else "missing key"
    return type(exc).__name__


async def _from_openai(messages: list[dict[str, Any]], line: int) -> list[ChatMessage]:
    try:
        import openai  # noqa: F401  (inspect's converter needs it)
        from inspect_ai.model import messages_from_openai
    except ImportError:
        return _openai_fallback(messages, line)
    try:
        return list(await messages_from_openai(cast(Any, messages)))
    except Exception as exc:  # the converter raises many types on bad shapes
        raise LineError(line, f"not valid OpenAI messages ({_kind(exc)})") from None


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(
        str(b.get("text", ""))
        for b in content
        if isinstance(b, dict) and b.get("type") in ("text", "input_text")
    )


def _openai_fallback(messages: list[dict[str, Any]], line: int) -> list[ChatMessage]:
    """Chat Completions messages → inspect messages, for when ``openai`` is not installed."""
    out: list[ChatMessage] = []
    names: dict[str, str] = {}
    for i, m in enumerate(messages, start=1):
        role = m["role"]
        text = _text(m.get("content"))
        if role in ("system", "developer"):
            out.append(ChatMessageSystem(content=text))
        elif role == "user":
            out.append(ChatMessageUser(content=text))
        elif role == "assistant":
            calls = [_tool_call(c, i, line) for c in m.get("tool_calls") or []]
            names.update({c.id: c.function for c in calls})
            out.append(ChatMessageAssistant(content=text, tool_calls=calls or None))
        else:
            call_id = m.get("tool_call_id")
            out.append(
                ChatMessageTool(
                    content=text, tool_call_id=call_id, function=names.get(str(call_id))
                )
            )
    return out


def _tool_call(call: Any, index: int, line: int) -> ToolCall:
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        raise LineError(line, f"message {index}: a tool call needs function.name")
    raw = fn.get("arguments") or "{}"
    args: dict[str, Any] = {}
    error: str | None = None
    if isinstance(raw, dict):
        args = raw
    else:
        try:
            parsed = json.loads(str(raw))
            args = parsed if isinstance(parsed, dict) else {}
        except json.JSONDecodeError:
            error = "arguments are not valid JSON"
    return ToolCall(
        id=str(call.get("id") or f"call_{index}"),
        function=fn["name"],
        arguments=args,
        parse_error=error,
    )
