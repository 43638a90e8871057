"""Each headline metric's scorer validity, read from ``scorers/validation/figures.json``.

The figures file is written by ``python -m equanimity.validation.table`` (test-split rows of
``equanimity validate-scorers``). A missing or unreadable file gives empty texts: the report
still renders, without the column's figures.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from equanimity.paths import scorers_dir


def figures_file() -> Path:
    """Where the figures file lives."""
    return scorers_dir() / "validation" / "figures.json"


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        heads = data.get("headlines", {})
        return heads if isinstance(heads, dict) else {}
    except (OSError, ValueError):
        return {}


def _one(fig: dict[str, Any]) -> str:
    name, n = fig.get("dataset", "?"), fig.get("n", 0)
    positives = fig.get("positives", 0)
    if not positives:
        return f"{name}: no positives, {fig.get('false_positives', 0)} false positive(s), n={n}"
    f1 = fig.get("f1")
    text = "–" if f1 is None else f"{f1:.2f}"
    if positives < 5:
        return f"{name}: {positives} positive(s) only, n={n}"
    return f"{name}: F1 {text}, n={n}"


def validity_text(headline_id: str, path: Path | None = None) -> str:
    """One line: the test-split F1 and n of each dataset validating the headline's scorer."""
    figs = _load(path or figures_file()).get(headline_id, [])
    return "; ".join(_one(f) for f in figs if isinstance(f, dict))
