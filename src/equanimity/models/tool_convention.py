"""Offering ``end_conversation`` to a model without native tool calls, and reading the call back.

Small local models rarely emit structured tool calls. The tool is therefore described in the
system prompt together with a plain-text convention: the model ends the chat by writing

    <end_conversation reason="..."/>

on a line of its own (``END_CONVERSATION: reason`` on its own line is also accepted, as are
``end_conversation(reason="...")`` and a ``<tool_call>`` JSON block naming the tool).

:func:`parse_end_call` finds such a call in generated text and returns the reply with the call
removed. It is tolerant of case, spacing, ``-``/space for ``_``, quotes, a missing reason and
surrounding text, but ignores the marker when it is only *mentioned*: inside double quotes,
backticks, a fenced code block or a ``>`` quoted line, or right after words such as "write" or
"use" that introduce an example. A sentence that merely talks about ending the chat is never a
call: only the marker counts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from equanimity.tools.end_conversation import END_TOOL_DESCRIPTION, END_TOOL_NAME

TOOL_OFFER = "system-prompt convention"
"""How the local model is offered the tool (recorded as ``tool_offer`` in output metadata)."""

CallForm = Literal["tag", "line", "function", "tool_call"]

_NAME = r"end[ _\-]?conversation"

_TAG = re.compile(
    rf"<\s*{_NAME}\b(?P<attrs>[^<>]*?)(?P<close>/)?\s*>"
    rf"(?:(?P<inner>[^<>\n]*)<\s*/\s*{_NAME}\s*>)?",
    re.IGNORECASE,
)
_STRAY_CLOSE = re.compile(rf"<\s*/\s*{_NAME}\s*>", re.IGNORECASE)
_LINE = re.compile(
    rf"^(?P<lead>[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)?)"
    rf"{_NAME}(?:\*\*|__)?[ \t]*(?:[:\-\u2013\u2014]|(?=[ \t]*$))(?P<rest>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_FUNCTION = re.compile(
    rf"^[ \t]*{_NAME}[ \t]*\((?P<args>[^()\n]*)\)[ \t]*;?",
    re.IGNORECASE | re.MULTILINE,
)
_TOOL_CALL = re.compile(r"<tool_call>(?P<body>.*?)</tool_call>", re.IGNORECASE | re.DOTALL)
_REASON_ATTR = re.compile(
    r"reason\s*[=:]\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|\u201c(?P<cq>[^\u201d]*)\u201d"
    r"|(?P<bare>[^\s\"'/>,)]+))",
    re.IGNORECASE,
)
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_BACKTICK = re.compile(r"`[^`\n]*`")
_DQUOTE = re.compile(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d")
_QUOTE_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_MENTION_CUE = re.compile(
    r"\b(?:write|writes|writing|wrote|type|typing|say|says|said|syntax|format|like|e\.g\.|"
    r"example|such as)\s*[:,]?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EndCall:
    """An ``end_conversation`` call found in generated text."""

    reason: str | None
    """The reason given, or None when the model gave none."""
    form: CallForm
    """Which written form the model used."""
    marker: str
    """The exact text of the call as generated."""


@dataclass(frozen=True)
class ParsedReply:
    """Generated text split into what the user sees and the tool call (if any)."""

    visible: str
    """The reply with every call marker removed."""
    call: EndCall | None
    """The first genuine call, or None."""


def convention_prompt(description: str = END_TOOL_DESCRIPTION) -> str:
    """System-prompt text that offers ``end_conversation`` through the written convention."""
    return (
        f"You have one tool, {END_TOOL_NAME}. {description}\n"
        "To use it, finish your reply with this line on its own:\n"
        f'<{END_TOOL_NAME} reason="a short reason"/>\n'
        "Write that line only when you decide to end the conversation; otherwise reply "
        "normally and do not mention the tool."
    )


def render_call(reason: str | None) -> str:
    """Write a call in the convention (to show an earlier call back to the model)."""
    if reason:
        safe = reason.replace('"', "'")
        return f'<{END_TOOL_NAME} reason="{safe}"/>'
    return f"<{END_TOOL_NAME}/>"


def _ignored_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for pattern in (_FENCE, _BACKTICK, _DQUOTE, _QUOTE_LINE):
        spans.extend(m.span() for m in pattern.finditer(text))
    return spans


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _clean_reason(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip().strip("*_").strip()
    text = re.sub(r"^reason\s*[=:]\s*", "", text, flags=re.IGNORECASE)
    text = text.removesuffix("/>").strip()
    if len(text) >= 2 and (text[0], text[-1]) in (('"', '"'), ("'", "'"), ("\u201c", "\u201d")):
        text = text[1:-1].strip()
    return text or None


def _reason_from_args(args: str) -> str | None:
    m = _REASON_ATTR.search(args)
    if m is not None:
        return _clean_reason(next(g for g in m.group("dq", "sq", "cq", "bare") if g is not None))
    return _clean_reason(args) if args.strip() else None


def _candidates(text: str) -> list[tuple[int, int, EndCall]]:
    found: list[tuple[int, int, EndCall]] = []
    for m in _TOOL_CALL.finditer(text):
        try:
            data = json.loads(m.group("body").strip())
        except json.JSONDecodeError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and str(item.get("name", "")).lower() == END_TOOL_NAME:
                args = item.get("arguments") or {}
                reason = args.get("reason") if isinstance(args, dict) else None
                found.append(
                    (
                        m.start(),
                        m.end(),
                        EndCall(
                            _clean_reason(str(reason)) if reason is not None else None,
                            "tool_call",
                            m.group(0),
                        ),
                    )
                )
                break
    for m in _TAG.finditer(text):
        reason = _reason_from_args(m.group("attrs")) if m.group("attrs").strip() else None
        if reason is None and m.group("inner"):
            reason = _clean_reason(m.group("inner"))
        found.append((m.start(), m.end(), EndCall(reason, "tag", m.group(0))))
    for m in _FUNCTION.finditer(text):
        found.append(
            (
                m.start(),
                m.end(),
                EndCall(_reason_from_args(m.group("args")), "function", m.group(0)),
            )
        )
    for m in _LINE.finditer(text):
        found.append(
            (m.start(), m.end(), EndCall(_clean_reason(m.group("rest")), "line", m.group(0)))
        )
    found.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    kept: list[tuple[int, int, EndCall]] = []
    for c in found:  # drop matches nested in an earlier, longer one
        if not any(a <= c[0] < b for a, b, _ in kept):
            kept.append(c)
    return kept


def _is_mention(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    if _inside(start, spans):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if before.rstrip().endswith(("`", '"', "\u201c", "'")):
        return True
    return bool(before.strip()) and _MENTION_CUE.search(before) is not None


def parse_end_call(text: str) -> ParsedReply:
    """Split generated text into the visible reply and the first genuine end call (if any)."""
    candidates = _candidates(text)
    if not candidates:
        return ParsedReply(text.strip(), None)
    masked = list(text)
    for a, b, _ in candidates:  # keep quotes inside a marker from pairing with outside ones
        masked[a:b] = "X" * (b - a)
    spans = _ignored_spans("".join(masked))
    calls = [(a, b, c) for a, b, c in candidates if not _is_mention(text, a, b, spans)]
    if not calls:
        return ParsedReply(text.strip(), None)
    visible = text
    for a, b, _ in reversed(calls):
        visible = visible[:a] + visible[b:]
    visible = _STRAY_CLOSE.sub("", visible)
    visible = re.sub(r"[ \t]+\n", "\n", visible)
    visible = re.sub(r"\n{3,}", "\n\n", visible).strip()
    return ParsedReply(visible, calls[0][2])
