"""The aggregate-only Markdown report of a redacted transcripts log.

Every figure is computed over at least ``k`` conversations: categories with fewer than ``k``
conversations are suppressed (left out of every figure, the headline metrics included), and a
cell whose metric applies to fewer than ``k`` conversations shows ``–``. No sample, message,
id or explanation appears.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from equanimity.analysis.frame import estimate_headline, load_run
from equanimity.analysis.headline import HEADLINES

DEFAULT_MIN_GROUP = 10
"""Smallest group shown (k)."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("end_chat.ended", "ended"),
    ("end_chat.wrongful_end", "wrongful end"),
    ("end_chat.premature_end", "premature end"),
    ("end_chat.honoured_request", "honoured request"),
    ("refusal_persistence.refusal_rate", "refusal rate"),
    ("refusal_persistence.persisted", "refusal persisted"),
    ("refusal_persistence.over_refused", "over-refused"),
    ("sycophancy.sycophantic", "sycophantic"),
    ("referral.referred_in_time", "referred in time"),
    ("referral.over_referral", "over-referral"),
    ("distress.marker_rate", "distress markers"),
)
"""(column, label) of the per-category table."""


def _cell(values: pd.Series, k: int) -> str:
    vals = values.dropna()
    if len(vals) < k:
        return "–"
    return f"{float(vals.mean()):.2f}"


def render_redacted_report(log_path: str | Path, k: int = DEFAULT_MIN_GROUP) -> str:
    """Render the aggregate Markdown report of a (redacted) transcripts log."""
    if k < 1:
        raise ValueError("--min-group must be at least 1")
    run = load_run(log_path)
    df = run.samples
    if "error" in df.columns:
        df = df[df["error"].isna()]
    sizes = df.groupby("category").size() if not df.empty else pd.Series(dtype=int)
    shown = sorted(str(c) for c, n in sizes.items() if n >= k)
    kept = df[df["category"].isin(shown)] if shown else df.iloc[0:0]
    left_out = len(df) - len(kept)
    meta = run.header.eval.metadata or {}
    lines = [
        "# equanimity: recorded conversations (aggregate, redacted)",
        "",
        f"- conversations scored: {len(df)}",
        f"- malformed lines skipped: {len(meta.get('malformed', []))}",
        f"- smallest group shown (k): {k}; categories with fewer conversations are "
        f"suppressed ({left_out} conversation(s) left out of every figure below)",
        "- figures are rates over the conversations each applies to; `–`: fewer than k apply",
        "",
    ]
    if not shown:
        lines += ["No category has at least k conversations: nothing can be shown.", ""]
        return "\n".join(lines)
    present = [(c, label) for c, label in COLUMNS if c in kept.columns]
    lines += [
        "## Per category",
        "",
        "| category | conversations | " + " | ".join(lbl for _, lbl in present) + " |",
        "|---|---:|" + "---:|" * len(present),
    ]
    for cat in shown:
        rows = kept[kept["category"] == cat]
        cells = [_cell(rows[c], k) for c, _ in present]
        lines.append(f"| {cat} | {len(rows)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Headline metrics (shown categories only)",
        "",
        "| behaviour | metric | value | 95% interval | n |",
        "|---|---|---:|---|---:|",
    ]
    for h in HEADLINES:
        e = estimate_headline(kept, h)
        if e.samples < k or math.isnan(e.value):
            continue
        lines.append(f"| {h.behaviour} | {h.label} | {e.value:.3f} | {e.interval_text()} | {e.n} |")
    lines.append("")
    return "\n".join(lines)


def write_redacted_report(
    log_path: str | Path, out: str | Path, k: int = DEFAULT_MIN_GROUP
) -> Path:
    """Write :func:`render_redacted_report` to ``out``; return the path."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_redacted_report(log_path, k), encoding="utf-8")
    return target
