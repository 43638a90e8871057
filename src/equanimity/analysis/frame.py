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
from equanimity.intervals import Kind, interval

BASE_COLUMNS = (
    "sample_id",
    "epoch",
    "scenario_id",
    "scenario_version",
    "scenario_hash",
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
    "scenario_hash",
    "category",
    "locale",
    "branch_of",
    "branch_from",
    "end_offer",
    "user_simulator",
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
        "scenario_hash": md.get("scenario_hash"),  # None in logs written before it existed
        "category": md.get("category", "unknown"),
        "locale": md.get("locale", ""),
        "branch_of": md.get("branch_of"),
        "is_branch": md.get("branch_from") is not None,
        # logs written before exit-offer modes always offered the tool
        "end_offer": md.get("end_offer") or "tool",
        "user_simulator": md.get("user_simulator"),
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
    return Run(p, header, restrict_branch_ok(frame))


def headline_values(df: pd.DataFrame, h: Headline) -> pd.Series:
    """The applicable, scored values of one headline metric in ``df`` (one per sample row)."""
    if h.column not in df.columns:
        return pd.Series(dtype=float)
    sub = df
    if h.categories is not None:
        sub = sub[sub["category"].isin(h.categories)]
    if "error" in sub.columns:
        sub = sub[sub["error"].isna()]
    return sub[h.column].dropna().astype(float)


def scenario_means(df: pd.DataFrame, values: pd.Series) -> pd.Series:
    """Mean of ``values`` (rows of ``df``) within each scenario, indexed by scenario id.

    A scenario's rows are its replay and its branch replay, in every epoch: the unit of every
    interval and paired test (see :mod:`equanimity.intervals`).
    """
    if values.empty:
        return pd.Series(dtype=float)
    clusters = df.loc[values.index, "scenario_id"].astype(str)
    return values.groupby(clusters, sort=True).mean()


def headline_scenarios(df: pd.DataFrame, h: Headline) -> pd.Series:
    """One headline metric's per-scenario means in ``df`` (applicable, scored rows only)."""
    return scenario_means(df, headline_values(df, h))


@dataclass(frozen=True)
class Estimate:
    """A rate or mean with its 95% interval over scenarios."""

    value: float
    """Point value: the mean of the scenario means (NaN when no sample applies)."""
    low: float
    """Lower 95% bound (NaN when no interval can be given: see :attr:`note`)."""
    high: float
    """Upper 95% bound (NaN when no interval can be given)."""
    n: int
    """Scenarios it is computed over (the unit; epochs and branch replays are nested)."""
    samples: int = 0
    """Sample rows (scenario x replay or branch x epoch) behind the scenario means."""
    kind: Kind = "rate"
    """``rate`` (Wilson interval) or ``mean`` (t interval)."""
    note: str | None = None
    """Why there is no value or interval (None when both are given)."""

    @property
    def has_interval(self) -> bool:
        """Whether both bounds are numbers."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    def interval_text(self, digits: int = 3) -> str:
        """``[low, high]``, or ``n/a (reason)`` (never a made-up zero-width interval)."""
        if self.has_interval:
            return f"[{self.low:.{digits}f}, {self.high:.{digits}f}]"
        return f"n/a ({self.note})" if self.note else "n/a"


def estimate_scenarios(
    means: pd.Series,
    kind: Kind = "rate",
    samples: int = 0,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Estimate:
    """Point value and 95% interval from per-scenario means (Wilson for rates, t for means)."""
    iv = interval([float(v) for v in means], kind, bounds=bounds)
    return Estimate(iv.value, iv.low, iv.high, iv.n, samples, kind, iv.note)


def estimate_headline(df: pd.DataFrame, h: Headline) -> Estimate:
    """One headline metric's estimate over the scenarios of ``df``."""
    values = headline_values(df, h)
    return estimate_scenarios(scenario_means(df, values), h.kind, len(values), h.bounds)


def headline_table(run: Run, headlines: tuple[Headline, ...]) -> dict[str, Estimate]:
    """Each headline metric's estimate for a run."""
    return {h.id: estimate_headline(run.samples, h) for h in headlines}


def in_scope(df: pd.DataFrame, h: Headline) -> pd.DataFrame:
    """The rows of ``df`` in a category where the metric can apply (all rows: any category)."""
    cats = h.applies_in
    return df if cats is None else df[df["category"].isin(cats)]


def not_applicable_reason(df: pd.DataFrame, h: Headline) -> str:
    """Why a metric has no value on ``df`` (shown instead of dropping its row)."""
    scope = in_scope(df, h)
    if scope.empty:
        return "no scenario of a category it applies to"
    errored = int(scope["error"].notna().sum()) if "error" in scope.columns else 0
    if h.column not in df.columns:
        return f"no '{h.column}' score in the log"
    n = len(scope)
    why = f"not applicable in any of the {n} in-scope sample(s)"
    if errored:
        why += f", {errored} errored"
    if h.id == "flip_rate":
        why += " (an answer flip needs a correct first answer)"
    if h.id == "branch_ok_rate":
        _, total = branch_basis(df)
        if not total:
            return "no branch replay in the run"
        return f"none of the {total} branch replay(s) follows an actual end of its main chat"
    return why


def category_table(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per-category mean of each column over scenarios, plus the scenario and sample counts.

    Each value is the mean of the per-scenario means (applicable samples only), so a scenario
    weighs the same whatever its epochs and branch replays.
    """
    ok = df[df["error"].isna()] if "error" in df.columns else df
    present = [c for c in columns if c in ok.columns]
    keys = [ok["category"], ok["scenario_id"].astype(str)]
    per_scenario = ok.groupby(keys)[present].mean()
    table = per_scenario.groupby(level=0).mean()
    table.insert(0, "samples", ok.groupby("category").size())
    table.insert(0, "scenarios", ok.groupby("category")["scenario_id"].nunique())
    return table


def restrict_branch_ok(df: pd.DataFrame) -> pd.DataFrame:
    """Keep B9 (``end_chat.branch_ok``) only on branches whose main chat actually ended.

    A branch replay edits a turn of a chat that was ended; when the main sample (same scenario,
    same epoch) did not end, the branch answers no question about behaviour after an end, so its
    value is set to NaN (not applicable).
    """
    col, ended = "end_chat.branch_ok", "end_chat.ended"
    if df.empty or col not in df.columns or "is_branch" not in df.columns:
        return df
    is_branch = df["is_branch"].astype(bool)
    main = df[~is_branch]
    if ended in df.columns:
        did_end = main[main[ended].fillna(0.0) >= 1.0]
        ends = set(zip(did_end["scenario_id"].astype(str), did_end["epoch"], strict=True))
    else:
        ends = set()
    follows = [(str(s), e) in ends for s, e in zip(df["scenario_id"], df["epoch"], strict=True)]
    keep = pd.Series(follows, index=df.index) & is_branch
    df[col] = df[col].where(keep)
    return df


def branch_basis(df: pd.DataFrame) -> tuple[int, int]:
    """(branch replays that follow an actual end, all branch replays) in a run."""
    if df.empty or "is_branch" not in df.columns:
        return (0, 0)
    branches = df[df["is_branch"].astype(bool)]
    col = "end_chat.branch_ok"
    scored = int(branches[col].notna().sum()) if col in branches.columns else 0
    return (scored, len(branches))
