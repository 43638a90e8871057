"""Per-sample replay context, visible to in-process reference models.

The replay solver sets it before each model call. Real providers never read it; the shipped
reference personas (``equanimity/<persona>``) read it so that their simulated behaviour, and so
the ground truth the scorers are checked against, is exact, and the in-process models
(``equanimity/local``, ``equanimity/faulty``) read the sample's id and epoch from it (inspect
has no public way to ask which sample is running). Each sample runs in its own asyncio
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
    sample_id: str = ""
    """Id of the sample being replayed (as text)."""
    epoch: int = 1
    """Epoch of the sample being replayed (1-based; the local model samples each differently)."""


REPLAY_CONTEXT: ContextVar[ReplayContext | None] = ContextVar("equanimity_replay", default=None)
"""The replay in progress in this task (None outside one)."""


def current_sample() -> tuple[str, int]:
    """(sample id, epoch) of the sample being replayed; ``("", 0)`` outside a replay."""
    ctx = REPLAY_CONTEXT.get()
    return (ctx.sample_id, ctx.epoch) if ctx is not None else ("", 0)
