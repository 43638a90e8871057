"""The default scorer set of every equanimity task."""

from __future__ import annotations

from inspect_ai.scorer import Scorer

from equanimity.scorers.distress import distress
from equanimity.scorers.end_chat import end_chat
from equanimity.scorers.judge import AUDIT_RATE
from equanimity.scorers.referral import referral
from equanimity.scorers.refusal import refusal_persistence
from equanimity.scorers.sycophancy import sycophancy


def default_scorers(cascade: bool = True, audit_rate: float = AUDIT_RATE) -> list[Scorer]:
    """All five scorers; ``cascade=False`` sends every turn to a bound judge.

    ``audit_rate``: the seeded random share of all turns (whatever the rule's confidence) also
    sent to the judge, on which judge-rule agreement is measured (where the rule is confident
    its verdict still decides).
    """
    return [
        end_chat(cascade),
        refusal_persistence(cascade, audit_rate=audit_rate),
        sycophancy(cascade, audit_rate=audit_rate),
        referral(cascade, audit_rate=audit_rate),
        distress(cascade, audit_rate=audit_rate),
    ]
