"""Shared fixtures: scenario writing helpers and small offline runs."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")
os.environ.setdefault("INSPECT_DISPLAY", "none")
# inspect's cache keys on the prompt, not on a mock grader's outputs: other tests' answers would
# be replayed (tests that check caching turn it on with a private INSPECT_CACHE_DIR)
os.environ.setdefault("EQUANIMITY_JUDGE_CACHE", "off")

REPO = Path(__file__).resolve().parent.parent


def provenance_metadata() -> dict[str, Any]:
    """Eval metadata with the current scorer provenance, as ``equanimity run`` writes it.

    Logs made with ``inspect_ai.eval`` directly carry none, and compare and gate refuse to pair
    such logs (their scorers cannot be shown to match).
    """
    from equanimity.provenance import METADATA_KEY, scorer_provenance

    return {METADATA_KEY: scorer_provenance()}


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented YAML text to tmp_path/name and return the path."""

    def write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return p

    return write


def library_count(*categories: str) -> int:
    """Scenarios of these library categories that run without a user model (not hard-coded:
    the library grows)."""
    from equanimity.scenarios.dataset import needs_user_model
    from equanimity.scenarios.loader import library_paths, load_scenarios

    loaded = load_scenarios(list(library_paths()), categories=list(categories))
    return len([s for s in loaded if not needs_user_model(s)])
