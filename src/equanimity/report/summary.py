"""The report's summary: one column per run, headline behaviours with intervals and marks."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from equanimity.analysis.frame import (
    Estimate,
    Run,
    branch_basis,
    category_table,
    headline_scenarios,
    headline_table,
    in_scope,
    not_applicable_reason,
)
from equanimity.analysis.headline import HEADLINES, Headline
from equanimity.analysis.power import Detectable, mean_mde, rate_mde, worse_direction
from equanimity.report.pricing import cost_estimate
from equanimity.report.validity import validity_text

CATEGORY_COLUMNS = [
    "end_chat.wrongful_end",
    "end_chat.premature_end",
    "end_chat.honoured_request",
    "refusal_persistence.persisted",
    "refusal_persistence.over_refused",
    "sycophancy.flipped",
    "sycophancy.caved",
    "sycophancy.validation_only",
    "referral.referred_in_time",
    "referral.over_referral",
    "distress.marker_rate",
]
"""Per-category table columns (mean over the scenarios each applies to)."""


@dataclass
class TokenLine:
    """Token use of one model in a run."""

    model: str
    """Model name (the evaluated model or a bound grader)."""
    input_tokens: int
    """Input tokens."""
    output_tokens: int
    """Output tokens."""
    cost: float | None
    """List-price estimate in USD, None when unknown."""


@dataclass
class ErroredSample:
    """A sample that errored."""

    sample_id: str
    """Sample id."""
    epoch: int
    """Epoch."""
    anchor: str
    """Its anchor in the drill-down."""
    error: str
    """The error message."""


@dataclass
class RunView:
    """Summary facts about one run (one report column)."""

    index: int
    """Position in the report."""
    label: str
    """Model and date."""
    model: str
    """Evaluated model."""
    task: str
    """Task name."""
    created: str
    """Run start time."""
    status: str
    """Log status."""
    log: str
    """Log file name."""
    samples: int
    """Samples present in the log."""
    expected: int | None
    """Samples the run should have (dataset × epochs), if known."""
    scenarios: int
    """Distinct scenarios."""
    branches: int
    """Branch replays among the samples."""
    epochs: int
    """Epochs."""
    errored: list[ErroredSample]
    """Errored samples."""
    tokens: list[TokenLine]
    """Token use per model."""
    banner: str | None
    """Warning shown when the run is incomplete or failed."""
    selection: str | None = None
    """Which scenarios the run selected (a seeded sample or all), when the log records it."""
    end_offer: str = "tool"
    """How ``end_conversation`` was offered (``tool``, ``tag``, ``none``; several if mixed)."""
    user_simulator: str | None = None
    """The simulated user(s) of the run's simulated-user samples, None when it had none."""

    @property
    def missing(self) -> int | None:
        """Samples expected but absent (None when unknown)."""
        return None if self.expected is None else max(0, self.expected - self.samples)

    @property
    def cost(self) -> float | None:
        """Total list-price estimate, None if any model's price is unknown."""
        costs = [t.cost for t in self.tokens]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)


@dataclass
class Cell:
    """One run's value of one headline metric."""

    estimate: Estimate
    """Rate, 95% interval over scenarios and n (scenarios)."""
    mark: str
    """``pass``, ``attention``, ``info`` or ``n/a``."""
    detectable: Detectable | None = None
    """The change this run's scenarios could detect (None when the metric has no value)."""
    note: str | None = None
    """Why the value is n/a, or what it rests on (B9: branches that follow an end)."""


@dataclass
class HeadlineRow:
    """One headline metric across runs."""

    headline: Headline
    """The metric."""
    cells: list[Cell]
    """One per run."""
    validity: str = ""
    """The scorer's validity figures (test-split F1 and n per validation set), or empty."""

    @property
    def threshold_text(self) -> str:
        """The default threshold as text (``≤ 0.10``)."""
        h = self.headline
        if h.threshold is None:
            return "—"
        return f"{'≤' if h.direction == 'lower' else '≥'} {h.threshold:.2f}"


def mark(h: Headline, e: Estimate) -> str:
    """Pass/attention against the default threshold on the point value."""
    if e.n == 0 or math.isnan(e.value):
        return "n/a"
    if h.threshold is None or h.direction == "info":
        return "info"
    ok = e.value <= h.threshold if h.direction == "lower" else e.value >= h.threshold
    return "pass" if ok else "attention"


def detectable(run: Run, h: Headline, e: Estimate) -> Detectable:
    """The change from the run's value that its scenarios could detect (one-sample design)."""
    worse = worse_direction(h.direction)
    if h.kind == "rate":
        return rate_mde(e.value, e.n, worse)
    return mean_mde(e.value, headline_scenarios(run.samples, h).tolist(), worse)


def _cell(run: Run, h: Headline, e: Estimate) -> Cell:
    if e.n == 0:
        note = None if in_scope(run.samples, h).empty else not_applicable_reason(run.samples, h)
        return Cell(e, mark(h, e), None, note)
    note = None
    if h.id == "branch_ok_rate":
        scored, total = branch_basis(run.samples)
        note = f"{scored} of {total} branch replay(s) follow an actual end"
    return Cell(e, mark(h, e), detectable(run, h, e), note)


def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    """Every headline metric, one cell per run."""
    tables = [headline_table(r, HEADLINES) for r in runs]
    return [
        HeadlineRow(
            h,
            [_cell(r, h, t[h.id]) for r, t in zip(runs, tables, strict=True)],
            validity_text(h.id),
        )
        for h in HEADLINES
    ]


def _tokens(run: Run) -> list[TokenLine]:
    usage = run.header.stats.model_usage if run.header.stats else {}
    if usage:
        return [
            TokenLine(
                m,
                u.input_tokens,
                u.output_tokens,
                cost_estimate(m, u.input_tokens, u.output_tokens),
            )
            for m, u in usage.items()
        ]
    df = run.samples
    if df.empty:
        return []
    i, o = int(df["input_tokens"].sum()), int(df["output_tokens"].sum())
    return [TokenLine(run.model, i, o, cost_estimate(run.model, i, o))]


def _banner(run: Run, present: int, expected: int | None) -> str | None:
    status = run.status
    parts: list[str] = []
    if status != "success":
        what = {
            "started": "the run did not finish (interrupted or still running)",
            "cancelled": "the run was cancelled",
            "error": "the run failed",
        }.get(status, f"status {status}")
        parts.append(f"Log status is '{status}': {what}.")
    if expected is not None and present < expected:
        parts.append(f"{expected - present} of {expected} samples are missing.")
    if run.header.error is not None:
        parts.append(f"Error: {run.header.error.message}")
    return " ".join(parts) or None


def run_view(run: Run, index: int, anchor: Callable[[int, str, int], str]) -> RunView:
    """Summary facts of one run; ``anchor(run, id, epoch)`` names samples' anchors."""
    df = run.samples
    ev = run.header.eval
    epochs = int(ev.config.epochs or 1)
    ids = ev.dataset.sample_ids
    n_data = len(ids) if ids else ev.dataset.samples
    expected = n_data * epochs if n_data is not None else None
    errored: list[ErroredSample] = []
    if not df.empty:
        for _, row in df[df["error"].notna()].iterrows():
            sid, ep = str(row["sample_id"]), int(row["epoch"])
            errored.append(ErroredSample(sid, ep, anchor(index, sid, ep), str(row["error"])))
    return RunView(
        index=index,
        label=run.label,
        model=run.model,
        task=ev.task,
        created=ev.created[:19].replace("T", " "),
        status=run.status,
        log=run.path.rsplit("/", 1)[-1],
        samples=len(df),
        expected=expected,
        scenarios=int(df["scenario_id"].nunique()) if not df.empty else 0,
        branches=int(df["is_branch"].sum()) if not df.empty else 0,
        epochs=epochs,
        errored=errored,
        tokens=_tokens(run),
        banner=_banner(run, len(df), expected),
        selection=_selection(run),
        end_offer=_distinct(df, "end_offer") or "tool",
        user_simulator=_distinct(df, "user_simulator"),
    )


def _selection(run: Run) -> str | None:
    """The selection line ``equanimity run`` recorded in the eval metadata, if any."""
    value = (run.header.eval.metadata or {}).get("equanimity_selection")
    text = value.get("description") if isinstance(value, dict) else None
    return str(text) if text else None


def _distinct(df: pd.DataFrame, column: str) -> str | None:
    """The distinct values of a frame column, joined (None when absent or empty)."""
    if df.empty or column not in df.columns:
        return None
    values = sorted({str(v) for v in df[column].dropna()})
    return ", ".join(values) or None


def category_rows(run: Run) -> tuple[list[str], list[tuple[str, int, list[float]]]]:
    """(columns, rows of (category, scenarios, values)) of a run's per-category table."""
    df = run.samples
    if df.empty:
        return [], []
    table: pd.DataFrame = category_table(df, CATEGORY_COLUMNS)
    cols = [c for c in table.columns if c not in ("samples", "scenarios")]
    rows = [
        (str(cat), int(r["scenarios"]), [float(r[c]) for c in cols]) for cat, r in table.iterrows()
    ]
    return cols, rows
