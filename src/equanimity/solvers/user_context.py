"""Context visible to an in-process user simulator (``equanimity/reference-user``).

The simulated-user loop sets it before each call to the user model, as the replay sets
:data:`equanimity.solvers.context.REPLAY_CONTEXT` for the evaluated model. Real providers never
read it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from equanimity.scenarios.schema import Scenario


@dataclass(frozen=True)
class UserContext:
    """Which scenario the simulated user plays and which of its turns it is writing."""

    scenario: Scenario
    """The scenario (its ``simulated_user`` block is the persona)."""
    turn: int
    """1-based index of the user turn being written."""
    attempt: int
    """1 for the first try, 2 when regenerating after a failed in-role check."""
    stop_token: str
    """What the user writes when it is done."""


USER_CONTEXT: ContextVar[UserContext | None] = ContextVar("equanimity_user", default=None)
