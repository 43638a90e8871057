"""The replay record: what the replay solver stores per sample, and what everything after reads.

Written by :mod:`equanimity.solvers.replay` (and by :mod:`equanimity.transcripts.convert` for
imported transcripts) into the sample store under :data:`REPLAY_STORE_KEY`; read back with
:func:`replay_record` by the scorers, the transcript tools and the report. This module depends
on nothing else in equanimity but the label type of :mod:`equanimity.textclass.verdicts`, so the layers above and below it need not know each other.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from equanimity.textclass.verdicts import RefusalLabel

REPLAY_STORE_KEY = "equanimity:replay"
"""Key under which the per-turn record is kept in the sample store (and so in the log)."""


class ToolCallRecord(BaseModel):
    """A tool call the model made in one turn."""

    function: str
    """Name of the tool called."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """Arguments the model passed."""


class TurnRecord(BaseModel):
    """What happened in one user turn of the replay."""

    index: int
    """1-based user turn index."""
    user: str
    """The user text actually sent."""
    variant: Literal["user", "if_refused", "if_complied", "branch", "simulated"]
    """Which scripted text was chosen (adaptive turns depend on the previous reply);
    ``simulated``: written by the simulated user (docs/simulated-users.md)."""
    reply: str
    """The model's reply text (may be empty when it only called a tool)."""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    """Tool calls made in this turn."""
    refusal: RefusalLabel
    """Quick label used to choose the next adaptive turn: by the replay's frozen turn labeller
    (:attr:`ReplayRecord.labeller`), not by the scorers, which label every reply again."""
    redirect: bool = False
    """Whether the reply redirected the user (as the labeller saw it)."""
    input_tokens: int = 0
    """Input tokens reported by the provider for this call."""
    output_tokens: int = 0
    """Output tokens reported by the provider for this call."""
    ended: bool = False
    """Whether the model called ``end_conversation`` in this turn."""


class ReplayRecord(BaseModel):
    """The whole replay of one sample, as stored in the log."""

    scenario_id: str
    """Scenario replayed."""
    branch_from: int | None = None
    """For a branch replay, the edited turn."""
    turns: list[TurnRecord] = Field(default_factory=list)
    """One record per user turn actually sent."""
    ended: bool = False
    """Whether the model ended the chat."""
    end_turn: int | None = None
    """1-based turn in which it did."""
    end_reason: str | None = None
    """The reason argument it gave."""
    notice: str | None = None
    """The notice shown to the user after the end."""
    end_offer: str | None = None
    """How ``end_conversation`` was offered: ``tool``, ``tag`` or ``none`` (None in logs written
    before exit-offer modes, which always offered the tool)."""
    labeller: str | None = None
    """``name@version+sha256-prefix`` of the labeller that set :attr:`TurnRecord.refusal` and
    so chose the adaptive turns; None in logs written before it was recorded."""


def replay_record(store: Any) -> ReplayRecord | None:
    """Read the replay record back from a sample store (a ``Store`` or a log's plain dict)."""
    raw = store.get(REPLAY_STORE_KEY) if store is not None else None
    return ReplayRecord.model_validate(raw) if raw else None


EVIDENCE_KEY = "evidence"
"""``Score.metadata`` key holding the scorer's evidence spans (a list of
:class:`EvidenceSpan` dicts); the report highlights exactly these."""


class EvidenceSpan(BaseModel):
    """One passage a scorer's verdict rests on, located in the transcript."""

    turn: int
    """1-based user turn whose reply (or end call) holds it."""
    start: int
    """Start offset in the text named by :attr:`field`."""
    end: int
    """End offset (exclusive)."""
    detector: str
    """What found it: ``refusal``, ``referral``, ``distress``, ``agreement``, ``answer``,
    ``end_chat`` (or ``judge`` when the judge quoted it)."""
    label: str = ""
    """The verdict it supports (``refused``, ``crisis_line``, ``discomfort``, ...)."""
    field: Literal["reply", "reason"] = "reply"
    """``reply``: the turn's reply text; ``reason``: the ``reason`` argument of its
    ``end_conversation`` call."""


def evidence_span(
    turn: int,
    text: str,
    detector: str,
    label: str = "",
    span: tuple[int, int] | None = None,
    quote: str | None = None,
    field: Literal["reply", "reason"] = "reply",
) -> dict[str, Any] | None:
    """An :class:`EvidenceSpan` as a plain dict for ``Score.metadata``, or None if not locatable.

    ``span`` is used when given; else ``quote`` is looked up verbatim in ``text`` (a judge's
    quotation); an empty or unlocatable passage gives None.
    """
    if span is None and quote:
        at = text.find(quote.strip())
        span = None if at < 0 else (at, at + len(quote.strip()))
    if span is None or span[1] <= span[0] or span[1] > len(text):
        return None
    item = EvidenceSpan(
        turn=turn, start=span[0], end=span[1], detector=detector, label=label, field=field
    )
    return item.model_dump()
