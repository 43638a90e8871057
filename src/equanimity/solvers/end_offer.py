"""Exit-offer modes: how (and whether) the evaluated model is offered ``end_conversation``.

- ``tool``: the native ``end_conversation`` tool (``state.tools``); providers without native
  tool calls translate it themselves (``equanimity/local`` writes it into its system prompt).
- ``tag``: no tool; the system prompt describes the written convention of
  :mod:`equanimity.models.tool_convention` (``<end_conversation reason="..."/>``) and the replay
  reads a call back from the reply text.
- ``none``: the control condition: no tool and no convention; the model cannot end the chat.

The mode is recorded per sample (``metadata["end_offer"]`` and the replay record), so a
``compare`` of one model under two modes, paired by scenario, measures the offer's effect.
"""

from __future__ import annotations

from typing import Literal, get_args

from inspect_ai.model import ChatMessageSystem
from inspect_ai.solver import TaskState

from equanimity.models.tool_convention import convention_prompt, parse_end_call
from equanimity.tools import end_conversation

EndOffer = Literal["tool", "tag", "none"]
END_OFFERS: tuple[str, ...] = get_args(EndOffer)
"""The accepted modes, in the order ``--end-offer`` lists them."""


def check_end_offer(value: str) -> EndOffer:
    """Return ``value`` as an :data:`EndOffer`, or raise a one-line ``ValueError``."""
    if value not in END_OFFERS:
        raise ValueError(f"unknown end offer '{value}' (choose one of: {', '.join(END_OFFERS)})")
    return value  # type: ignore[return-value]


def offer_end(state: TaskState, system: str | None, mode: EndOffer) -> None:
    """Start the conversation: the system message (with the convention in ``tag`` mode), tools."""
    if mode == "tag":
        system = f"{system}\n\n{convention_prompt()}" if system else convention_prompt()
    if system:
        state.messages.append(ChatMessageSystem(content=system))
    if mode == "tool":
        state.tools = [end_conversation()]
        state.tool_choice = "auto"
    else:
        state.tools = []
        state.tool_choice = None


def written_end(reply: str) -> tuple[str, str | None] | None:
    """In ``tag`` mode: (visible reply, reason) when the reply writes an end call, else None."""
    parsed = parse_end_call(reply)
    if parsed.call is None:
        return None
    return parsed.visible, parsed.call.reason
