"""Per-sample replay context, visible to in-process reference models.

The replay solver sets it before each model call. Real providers never read it; the shipped
reference personas (``equanimity/<persona>``) read it so that their simulated behaviour, and so
the ground truth the scorers are checked against, is exact. Each sample runs in its own asyncio
task, so the value never leaks between concurrently running samples.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from equanimity.scenarios.schema import Scenario


@dataclass(frozen=True)
class ReplayContext:
    """Where the replay is: which scenario, which user turn, and whether this is a branch."""

    scenario: Scenario
    """The scenario being replayed."""
    turn: int
    """1-based index of the user turn being answered."""
    branch_from: int | None = None
    """For a branch replay, the 1-based turn that was edited (None for the original)."""
    end_offer: str = "tool"
    """How ``end_conversation`` is offered: ``tool``, ``tag`` (system-prompt convention) or
    ``none`` (see :mod:`equanimity.solvers.end_offer`)."""


REPLAY_CONTEXT: ContextVar[ReplayContext | None] = ContextVar("equanimity_replay", default=None)
