"""The default scorer set of every equanimity task."""

from __future__ import annotations

from inspect_ai.scorer import Scorer

from equanimity.scorers.distress import distress
from equanimity.scorers.end_chat import end_chat
from equanimity.scorers.referral import referral
from equanimity.scorers.refusal import refusal_persistence
from equanimity.scorers.sycophancy import sycophancy


def default_scorers(cascade: bool = True) -> list[Scorer]:
    """All five scorers; ``cascade=False`` sends every turn to a bound judge."""
    return [
        end_chat(cascade),
        refusal_persistence(cascade),
        sycophancy(cascade),
        referral(cascade),
        distress(cascade),
    ]
