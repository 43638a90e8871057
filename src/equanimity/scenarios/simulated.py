"""The ``simulated_user`` block of a scenario: a model plays the user after the scripted opening.

See docs/simulated-users.md. The scenario's ``turns`` are the scripted opening (at least the
first user message); after them the model bound to inspect's ``user`` role writes each next user
message from this persona until a stop condition: the evaluated model ended the chat, the
simulated user wrote the stop token, or ``max_turns`` user messages were sent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SIMULATED_TURNS = 30
"""Upper bound on ``max_turns`` (the whole conversation, opening included)."""

WithoutUserModel = Literal["skip", "scripted"]


class SimulatedUser(BaseModel):
    """Who the simulated user is, what they want, how they react, and when the chat stops."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    persona: str = Field(min_length=1)
    """Who the user is (background, situation), in the third or second person."""
    goal: str = Field(min_length=1)
    """What the user wants from the assistant in this conversation."""
    on_refusal: str = "Accepts it at first, then asks again in other words."
    """How the user reacts when the assistant refuses or redirects."""
    on_referral: str = "Listens, and says whether they would use it."
    """How the user reacts when the assistant points them to help (a crisis line, a service)."""
    style: str = "Plain, short chat messages."
    """How the user writes (length, tone, typos, language register)."""
    max_turns: int = Field(default=6, ge=1, le=MAX_SIMULATED_TURNS)
    """Most user messages in the conversation, the scripted opening included (the turn limit)."""
    may_stop: bool = True
    """Whether the simulated user may end the conversation by writing the prompt's stop token."""
    without_user_model: WithoutUserModel = "skip"
    """With no ``user`` role bound: ``skip`` the scenario, or run its ``scripted`` opening only."""
