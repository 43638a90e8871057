"""One row per sample from an inspect log, read from sample summaries (fast, no transcripts).

Memory stays flat as a log grows: the summaries come one at a time from
:func:`equanimity.evalread.read_summaries` (streamed from a finished local ``.eval`` log,
else inspect's own reader), each trimmed to the frame's fields before validation, and only
the frame's columns are kept. Both paths give the same frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from inspect_ai.log import EvalLog, EvalSampleSummary

from equanimity.analysis.headline import Headline
from equanimity.evalread import read_summaries
from equanimity.scorers.metrics import interval95

BASE_COLUMNS = (
    "sample_id",
    "epoch",
    "scenario_id",
    "scenario_version",
    "category",
    "locale",
    "branch_of",
    "is_branch",
    "error",
    "outcome",
    "input_tokens",
    "output_tokens",
)


@dataclass
class Run:
    """A run: its log header and a per-sample frame."""

    path: str
    """Where the log was read from."""
    header: EvalLog
    """The log without samples."""
    samples: pd.DataFrame
    """One row per sample (see :data:`BASE_COLUMNS`, plus ``scorer.key`` value columns)."""

    @property
    def model(self) -> str:
        """The evaluated model's name."""
        return self.header.eval.model

    @property
    def status(self) -> str:
        """The log status (success, error, cancelled, started)."""
        return str(self.header.status)

    @property
    def label(self) -> str:
        """A short label: model and run time."""
        return f"{self.model} ({self.header.eval.created[:16].replace('T', ' ')})"


def _float(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return math.nan


METADATA_KEYS = (
    "scenario_id",
    "scenario_version",
    "category",
    "locale",
    "branch_of",
    "branch_from",
)
"""The sample metadata keys the frame reads."""


def _slim(item: Any) -> Any:
    """Drop the parts of a raw summary the frame never reads, before it is validated.

    Validating a summary thins its text (``textwrap.shorten`` on every score explanation,
    a size check on every metadata value), which was most of the cost of reading summaries.
    Thinning is per key, so dropping score explanations and metadata and the unused sample
    metadata keys leaves every value the frame reads exactly as a full validation gives it.
    """
    if not isinstance(item, dict):
        return item
    md = item.get("metadata")
    if isinstance(md, dict):
        item["metadata"] = {k: md[k] for k in METADATA_KEYS if k in md}
    scores = item.get("scores")
    if isinstance(scores, dict):
        for score in scores.values():
            if isinstance(score, dict):
                score.pop("explanation", None)
                score.pop("metadata", None)
    return item


def _row(s: EvalSampleSummary) -> dict[str, Any]:
    md = s.metadata or {}
    row: dict[str, Any] = {
        "sample_id": str(s.id),
        "epoch": s.epoch,
        "scenario_id": md.get("scenario_id", str(s.id)),
        "scenario_version": md.get("scenario_version", 1),
        "category": md.get("category", "unknown"),
        "locale": md.get("locale", ""),
        "branch_of": md.get("branch_of"),
        "is_branch": md.get("branch_from") is not None,
        "error": s.error,
        "outcome": None,
        "input_tokens": sum(u.input_tokens for u in s.model_usage.values()),
        "output_tokens": sum(u.output_tokens for u in s.model_usage.values()),
    }
    for scorer_name, score in (s.scores or {}).items():
        if scorer_name == "end_chat" and isinstance(score.answer, str):
            row["outcome"] = score.answer
        if isinstance(score.value, dict):
            for k, v in score.value.items():
                row[f"{scorer_name}.{k}"] = _float(v)
    return row


def load_run(path: str | Path) -> Run:
    """Read a log's header and sample summaries into a :class:`Run`.

    Summaries are read one at a time and only the frame's columns kept (see the module
    docstring). Raises ``ValueError`` naming the file if it is not a readable inspect log.
    """
    p = str(path)
    # keyed like inspect's own summary reader: the last row of a (sample id, epoch) wins, in
    # the position of its first row (a requeued sample's re-run supersedes its prior attempt)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        header, summaries = read_summaries(p, trim=_slim)
        for s in summaries:
            rows[(str(s.id), s.epoch)] = _row(s)
    except FileNotFoundError:
        raise ValueError(f"{p}: no such log file") from None
    except Exception as exc:  # inspect raises many types for unreadable files
        raise ValueError(f"{p}: not a readable inspect log ({type(exc).__name__}: {exc})") from None
    frame = pd.DataFrame(list(rows.values()), columns=None if rows else list(BASE_COLUMNS))
    return Run(p, header, frame)


def headline_values(df: pd.DataFrame, h: Headline) -> pd.Series:
    """The applicable, scored values of one headline metric in ``df``."""
    if h.column not in df.columns:
        return pd.Series(dtype=float)
    sub = df
    if h.categories is not None:
        sub = sub[sub["category"].isin(h.categories)]
    if "error" in sub.columns:
        sub = sub[sub["error"].isna()]
    return sub[h.column].dropna().astype(float)


@dataclass(frozen=True)
class Estimate:
    """A rate or mean with its 95% interval."""

    value: float
    """Point value (NaN when no sample applies)."""
    low: float
    """Lower 95% bound."""
    high: float
    """Upper 95% bound."""
    n: int
    """Samples it is computed over."""


def estimate(values: pd.Series) -> Estimate:
    """Mean and 95% interval (Wilson for 0/1 values)."""
    vals = [float(v) for v in values]
    if not vals:
        return Estimate(math.nan, math.nan, math.nan, 0)
    lo, hi = interval95(vals)
    return Estimate(sum(vals) / len(vals), lo, hi, len(vals))


def headline_table(run: Run, headlines: tuple[Headline, ...]) -> dict[str, Estimate]:
    """Each headline metric's estimate for a run."""
    return {h.id: estimate(headline_values(run.samples, h)) for h in headlines}


def category_table(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per-category mean of each column (applicable samples only), plus the sample count."""
    ok = df[df["error"].isna()] if "error" in df.columns else df
    present = [c for c in columns if c in ok.columns]
    table = ok.groupby("category")[present].mean()
    table.insert(0, "samples", ok.groupby("category").size())
    return table
