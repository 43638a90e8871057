"""Load every detector's lexicon up front (each is otherwise loaded at its first use)."""

from __future__ import annotations

from equanimity.textclass.agreement import _agreement_lexicon
from equanimity.textclass.answers import _lexicon as _answers_lexicon
from equanimity.textclass.distress import _distress_lexicon
from equanimity.textclass.ending import _ending_lexicon
from equanimity.textclass.referral import _referral_lexicon
from equanimity.textclass.refusal import _refusal_lexicon

_LOADERS = (
    _refusal_lexicon,
    _referral_lexicon,
    _distress_lexicon,
    _agreement_lexicon,
    _answers_lexicon,
    _ending_lexicon,
)


def load_lexicons() -> int:
    """Read and compile each detector's lexicon now; return how many there are.

    Each loader is cached per process, so this only moves the work (about 0.4 s) from the
    first score to the moment of the call: an eval run calls it before it starts, so that the
    compiled patterns can be kept out of the garbage collector's scans
    (:func:`equanimity.collector.eval_collector`).
    """
    for load in _LOADERS:
        load()
    return len(_LOADERS)
