"""Read what a scorer needs from a task state: the scenario and the per-turn replay record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from inspect_ai.solver import TaskState

from equanimity.records import REPLAY_STORE_KEY, ReplayRecord, TurnRecord, replay_record
from equanimity.scenarios.schema import Scenario


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


_READ: WeakKeyDictionary[TaskState, tuple[Any, Any, Transcript]] = WeakKeyDictionary()
"""Transcripts already read, per task state: the five scorers of a sample read the same one."""


def read_transcript(state: TaskState) -> Transcript | None:
    """The transcript of a sample, or None if the replay left no record (errored sample).

    Parsed once per task state and shared by the scorers (they do not modify it); parsed again
    if the state's scenario or record object was replaced.
    """
    raw = state.metadata.get("scenario")
    stored = state.store.get(REPLAY_STORE_KEY) if state.store is not None else None
    cached = _READ.get(state)
    if cached is not None and cached[0] is raw and cached[1] is stored:
        return cached[2]
    record = replay_record(state.store)
    if raw is None or record is None:
        return None
    tr = Transcript(Scenario.model_validate(raw), record, state.metadata.get("branch_from"))
    _READ[state] = (raw, stored, tr)
    return tr


def quote(text: str, limit: int = 90) -> str:
    """A short quotation of reply text for an explanation."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
