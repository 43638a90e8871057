"""The end-chat rule layer: per reply, and per conversation through the transcript path.

A conversation item (``context["conversation"]``: JSON messages) goes through the same
machinery as ``equanimity score-transcripts``: parsed by
:func:`equanimity.transcripts.parse.to_messages`, turned into a replay record by
:func:`equanimity.transcripts.convert.build_conversation` (an ``end_conversation`` tool call
ends it), and counted as ended when the record ended or a reply announces the end in its text
(:func:`equanimity.textclass.ending.announces_end`). A single-reply item is judged on its text.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence

from equanimity.textclass.ending import announces_end
from equanimity.transcripts.convert import build_conversation
from equanimity.transcripts.parse import LineError, to_messages
from equanimity.validation.items import LabelledItem, Prediction

RULE = "rule"


def conversation_ended(
    messages: Sequence[Mapping[str, object]], sample_id: str
) -> tuple[bool, str]:
    """Whether a recorded conversation ended, and how (``tool at turn N`` / ``text at turn N``).

    Raises :class:`LineError` when the messages cannot be parsed.
    """
    raw = asyncio.run(to_messages({"messages": [dict(m) for m in messages]}, 1))
    conv = build_conversation(raw, sample_id)
    if conv.record.ended:
        return True, f"tool at turn {conv.record.end_turn}"
    for turn in conv.record.turns:
        if announces_end(turn.reply) is not None:
            return True, f"text at turn {turn.index}"
    return False, f"not ended over {len(conv.record.turns)} turn(s)"


def end_chat_rule(item: LabelledItem) -> Prediction:
    """Positive when the conversation (or the single reply) ends or abandons the chat."""
    conversation = item.context.get("conversation")
    if conversation is None:
        span = announces_end(item.reply)
        detail = None if span is None else item.reply[span[0] : span[1]]
        return Prediction(positive=span is not None, layer=RULE, detail=detail)
    try:
        sample_id = "c-" + hashlib.sha256(item.id.encode()).hexdigest()[:16]
        ended, how = conversation_ended(json.loads(conversation), sample_id)
    except (LineError, json.JSONDecodeError) as exc:
        return Prediction(positive=None, layer=RULE, detail=f"unreadable: {exc}")
    return Prediction(positive=ended, layer=RULE, detail=how)
