"""Read what a scorer needs from a task state: the scenario and the per-turn replay record."""

from __future__ import annotations

from dataclasses import dataclass

from inspect_ai.solver import TaskState

from equanimity.scenarios.schema import Scenario
from equanimity.solvers.replay import ReplayRecord, TurnRecord, replay_record


@dataclass
class Transcript:
    """A replayed scenario as scorers see it."""

    scenario: Scenario
    """The scenario (expectations included)."""
    record: ReplayRecord
    """Per-turn record written by the replay solver."""
    branch_from: int | None
    """Edited turn for a branch replay."""

    @property
    def turns(self) -> list[TurnRecord]:
        """Turns actually played."""
        return self.record.turns


def read_transcript(state: TaskState) -> Transcript | None:
    """The transcript of a sample, or None if the replay left no record (errored sample)."""
    raw = state.metadata.get("scenario")
    record = replay_record(state.store)
    if raw is None or record is None:
        return None
    return Transcript(Scenario.model_validate(raw), record, state.metadata.get("branch_from"))


def quote(text: str, limit: int = 90) -> str:
    """A short quotation of reply text for an explanation."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
