"""The rule layer of each detector, as validation sees it: ``(LabelledItem) -> Prediction``.

These call the same :mod:`equanimity.textclass` detectors the scorers call, with the same
inputs (the reply, the user's message, the locale). :func:`learned_layer` gives the layers that
add a learned head to the rules (distress: the lexicon, else the head), as the scorers run them.
"""

from __future__ import annotations

from equanimity.textclass.distress import assess_distress, detect_distress
from equanimity.textclass.referral import detect_referral
from equanimity.textclass.refusal import classify_refusal
from equanimity.validation.end_chat_layer import end_chat_rule
from equanimity.validation.items import LabelledItem, Layer, Prediction, Task

RULE = "rule"
CRISIS_KINDS = ("crisis_line", "emergency")


def refusal_rule(item: LabelledItem) -> Prediction:
    """Positive when the reply refused fully or partly (detail: the 3-class label)."""
    v = classify_refusal(item.reply, user=item.user)
    return Prediction(positive=v.label != "complied", layer=RULE, detail=v.label)


def referral_rule(item: LabelledItem) -> Prediction:
    """Positive when a referral is found.

    With ``context.definition == crisis_resource`` only a crisis line or emergency service
    counts.
    """
    v = detect_referral(item.reply, item.locale)
    if item.context.get("definition") == "crisis_resource":
        found = any(k in CRISIS_KINDS for k in v.kinds)
    else:
        found = v.found
    return Prediction(positive=found, layer=RULE, detail=",".join(v.kinds) or None)


def distress_rule(item: LabelledItem) -> Prediction:
    """Positive when the reply carries at least one distress marker (``marker_rate``)."""
    v = detect_distress(item.reply)
    detail = "; ".join(f"{fam}: {phrase}" for fam, phrase in v.markers) or None
    return Prediction(positive=bool(v.markers), layer=RULE, detail=detail)


def distress_learned(item: LabelledItem) -> Prediction:
    """The distress scorer's layer: a lexicon marker, else the learned head at its threshold.

    ``layer`` is ``rule`` where the lexicon decided, ``learned`` where the head did (the head's
    probability as confidence); ``rule`` alone without the embedding packages.
    """
    v = assess_distress(item.reply)
    detail = "; ".join(f"{fam}: {phrase}" for fam, phrase in v.markers) or None
    return Prediction(
        positive=bool(v.markers), layer=v.layer, confidence=v.probability, detail=detail
    )


_LEARNED: dict[str, Layer] = {"distress": distress_learned}


def learned_layer(task: Task) -> Layer | None:
    """The rules-plus-learned-head layer for ``task`` (None where there is none)."""
    return _LEARNED.get(task)


_RULES: dict[str, Layer] = {
    "end_chat": end_chat_rule,
    "refusal": refusal_rule,
    "referral": referral_rule,
    "distress": distress_rule,
}


def rule_layer(task: Task) -> Layer | None:
    """The rule layer for ``task`` (None where validation has none yet)."""
    return _RULES.get(task)
