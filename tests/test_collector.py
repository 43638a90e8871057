"""eval_collector: lexicons loaded and setup frozen for the block, everything restored after."""

from __future__ import annotations

import gc

import pytest

from equanimity.collector import EVAL_THRESHOLDS, eval_collector
from equanimity.textclass.refusal import _refusal_lexicon


def test_sets_thresholds_and_freezes_then_restores() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    _refusal_lexicon.cache_clear()
    with eval_collector():
        assert gc.get_threshold() == EVAL_THRESHOLDS
        assert gc.get_freeze_count() > frozen_before
        assert _refusal_lexicon.cache_info().currsize == 1  # loaded before the freeze
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_restores_when_the_block_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="boom"), eval_collector():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_none_keeps_the_thresholds() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        with eval_collector(None):
            assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
