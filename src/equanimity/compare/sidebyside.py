"""Side-by-side transcripts of a flipped sample, turn by turn, with the first divergence marked.

Each user turn of the baseline and of the candidate is put on one row, with the turn's
verdict (the replay's rule-layer label: refused, complied or partial; ended the chat). The
first turn where the verdicts differ, or where the user was sent a different scripted text
(an adaptive ``if_refused`` / ``if_complied`` turn follows the previous reply), is the first
divergence. Texts stay plain here: the page's template escapes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from inspect_ai.log import EvalSample, read_eval_log_sample, read_eval_log_samples_by_id
from pydantic import ValidationError

from equanimity.compare.transcripts import BATCH, MAX_CHARS, SKIP_FIELDS
from equanimity.records import TurnRecord, replay_record


@dataclass(frozen=True)
class TurnSide:
    """One run's side of a turn."""

    user: str
    """What the user was sent."""
    variant: str
    """Which scripted text that was (user, if_refused, if_complied, branch)."""
    reply: str
    """The model's reply (cut at the transcript limit)."""
    verdict: str
    """The turn's verdict: refused, complied or partial, plus "ended the chat"."""
    tool_calls: tuple[str, ...] = ()
    """Tool calls, as ``name(arguments)``."""


@dataclass(frozen=True)
class TurnRow:
    """One turn of both runs."""

    index: int
    """1-based user turn."""
    baseline: TurnSide | None
    """The baseline's turn (None when its chat was over)."""
    candidate: TurnSide | None
    """The candidate's turn (None when its chat was over)."""
    first_divergence: bool = False
    """Whether this is the first turn where the two runs differ."""


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + " …"


def turn_side(t: TurnRecord) -> TurnSide:
    """A replayed turn as one side of a row."""
    verdict = t.refusal + (" · ended the chat" if t.ended else "")
    calls = tuple(f"{c.function}({c.arguments})" for c in t.tool_calls)
    return TurnSide(t.user, t.variant, _cut(t.reply), verdict, calls)


def turns_of(sample: EvalSample | None) -> list[TurnSide] | None:
    """The sample's turns, or None without a replay record (or without the sample)."""
    if sample is None:
        return None
    try:
        record = replay_record(sample.store)
    except (ValidationError, KeyError, TypeError):
        return None
    if record is None or not record.turns:
        return None
    return [turn_side(t) for t in record.turns]


def _differs(a: TurnSide | None, b: TurnSide | None) -> bool:
    if a is None or b is None:
        return a is not b
    return a.verdict != b.verdict or a.variant != b.variant


def align(baseline: list[TurnSide], candidate: list[TurnSide]) -> list[TurnRow]:
    """Rows of both runs' turns, the first divergence marked."""
    rows: list[TurnRow] = []
    marked = False
    for i, (b, c) in enumerate(zip_longest(baseline, candidate), start=1):
        first = not marked and _differs(b, c)
        marked = marked or first
        rows.append(TurnRow(i, b, c, first))
    return rows


def read_samples(log: str | Path, keys: Sequence[tuple[str, int]]) -> list[EvalSample | None]:
    """The samples named by ``keys`` (None where unreadable), a batch at a time."""
    out: list[EvalSample | None] = []
    for start in range(0, len(keys), BATCH):
        batch = list(keys[start : start + BATCH])
        try:
            out.extend(
                read_eval_log_samples_by_id(
                    str(log), batch, resolve_attachments=True, exclude_fields=SKIP_FIELDS
                )
            )
        except Exception:  # one unreadable sample: read the batch one at a time
            out.extend(_one(log, sid, epoch) for sid, epoch in batch)
    return out


def _one(log: str | Path, sample_id: str, epoch: int) -> EvalSample | None:
    try:
        return read_eval_log_sample(str(log), id=sample_id, epoch=epoch)
    except Exception:  # shown as unavailable
        return None
