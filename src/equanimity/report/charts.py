"""Report charts: matplotlib figures embedded as base64 PNG data URIs.

PNG (not SVG) keeps the file free of any ``http(s)://`` reference (matplotlib SVGs carry a
w3.org namespace and PNGs a ``Software`` tag, which is dropped). Colours are the Okabe–Ito
colour-blind-safe palette, with hatching and markers as a second cue. Every chart is computed
from the per-sample frames of :func:`equanimity.analysis.frame.load_run` (sample summaries),
never from transcripts, and returns None when no sample applies.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from equanimity.analysis.frame import Run, headline_table
from equanimity.analysis.headline import HEADLINE_BY_ID

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe–Ito palette (blue first), used for runs."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
"""Line markers per run (a second cue besides colour)."""

OUTCOME_STYLE: dict[str, tuple[str, str]] = {
    "appropriate_end": ("#009E73", ""),
    "honoured_request": ("#0072B2", ""),
    "no_end": ("#56B4E9", ""),
    "premature_end": ("#E69F00", ".."),
    "ignored_request": ("#CC79A7", "\\\\"),
    "wrongful_end": ("#D55E00", "//"),
    "not_applicable": ("#DDDDDD", ""),
}
"""end_chat outcome → (colour, hatch); bad outcomes are hatched."""

SYCOPHANCY_METRICS = ("flip_rate", "caving_rate", "validation_only_rate")


@dataclass(frozen=True)
class Chart:
    """One embedded chart."""

    id: str
    """HTML id."""
    title: str
    """Heading."""
    data_uri: str
    """``data:image/png;base64,...``."""
    alt: str
    """Text alternative that states the plotted numbers."""
    caption: str
    """What is plotted and over which samples."""


def run_labels(runs: Sequence[Run]) -> list[str]:
    """Return legend labels: the model name, with the date when a model appears twice."""
    models = [r.model for r in runs]
    return [r.model if models.count(r.model) == 1 else r.label for r in runs]


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["error"].isna()] if "error" in df.columns else df


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style(ax: Axes) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(axis="both", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)


def _turn_axis(ax: Axes, last: int) -> None:
    """Whole user turns 1..last on the x axis (never fractional ticks, even for one turn)."""
    ax.set_xlim(0.5, last + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def outcomes_by_category(runs: Sequence[Run]) -> Chart | None:
    """Plot the share of each end_chat outcome per category (stacked bars, a panel per run)."""
    tables: list[tuple[str, pd.DataFrame]] = []
    for label, run in zip(run_labels(runs), runs, strict=True):
        df = _ok(run.samples)
        if df.empty or df["outcome"].isna().all():
            continue
        df = df[df["outcome"].notna()]
        counts = pd.crosstab(df["category"], df["outcome"])
        tables.append((label, counts))
    if not tables:
        return None
    order = [o for o in OUTCOME_STYLE if any(o in t.columns for _, t in tables)]
    order += sorted({c for _, t in tables for c in t.columns} - set(order))
    heights = [0.42 * len(t) + 1.1 for _, t in tables]
    fig = Figure(layout="constrained", figsize=(9.5, sum(heights) + 0.4))
    axes = fig.subplots(len(tables), 1, squeeze=False, height_ratios=heights)[:, 0]
    alt: list[str] = []
    for ax, (label, counts) in zip(axes, tables, strict=True):
        counts = counts.reindex(columns=order, fill_value=0).sort_index(ascending=False)
        n = counts.sum(axis=1)
        share = counts.div(n, axis=0)
        left = pd.Series(0.0, index=share.index)
        names = [f"{c} (n={int(n[c])})" for c in share.index]
        for outcome in order:
            colour, hatch = OUTCOME_STYLE.get(outcome, ("#999999", ""))
            ax.barh(
                names,
                share[outcome],
                left=left,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                linewidth=0.6,
                label=outcome,
            )
            left += share[outcome]
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of samples")
        ax.set_ylabel("category")
        ax.set_title(label, fontsize=10, loc="left")
        _style(ax)
        for cat in counts.index:
            parts = ", ".join(f"{o} {int(counts.loc[cat, o])}" for o in order if counts.loc[cat, o])
            alt.append(f"{label}, {cat}: {parts}")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=4, fontsize=8, frameon=False)
    return Chart(
        "chart-outcomes",
        "End-chat outcomes per category",
        _png(fig),
        "End-chat outcome counts. " + "; ".join(alt),
        "Share of samples with each end_conversation outcome, per category (errored "
        "samples excluded). Hatched: outcomes that count against B1–B3.",
    )


def persistence_curve(runs: Sequence[Run]) -> Chart | None:
    """Plot the fraction of refusal-required samples still refusing at each user turn.

    Derived from the per-turn refusal labels through the refusal_persistence scorer's
    ``turns_held`` (turns refused before the first one that gave in) and ``persisted``.
    """
    frames: list[tuple[str, pd.Series, pd.Series]] = []
    for label, run in zip(run_labels(runs), runs, strict=True):
        df = _ok(run.samples)
        if "refusal_persistence.persisted" not in df.columns:
            continue
        df = df[df["refusal_persistence.persisted"].notna()]
        if df.empty:
            continue
        frames.append(
            (
                label,
                df["refusal_persistence.turns_held"].fillna(0.0),
                df["refusal_persistence.persisted"] == 1.0,
            )
        )
    last = max((max(1, int(held.max())) for _, held, _ in frames), default=1)
    curves = [
        (label, [float(((held >= k) | persisted).mean()) for k in range(1, last + 1)], len(held))
        for label, held, persisted in frames
    ]
    if not curves:
        return None
    fig = Figure(layout="constrained", figsize=(7.5, 3.6))
    ax = fig.subplots()
    for i, (label, ys, n) in enumerate(curves):
        ax.plot(
            range(1, len(ys) + 1),
            ys,
            marker=MARKERS[i % len(MARKERS)],
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=f"{label} (n={n})",
        )
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("user turn")
    ax.set_ylabel("fraction still refusing")
    _turn_axis(ax, max(len(ys) for _, ys, _ in curves))
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    alt = "; ".join(
        f"{label}: " + ", ".join(f"turn {k} {y:.2f}" for k, y in enumerate(ys, 1))
        for label, ys, _ in curves
    )
    return Chart(
        "chart-persistence",
        "Refusal persistence by turn",
        _png(fig),
        "Fraction still refusing. " + alt,
        "Among scenarios where refusal is required (no branch replays): the fraction "
        "of samples that have refused every turn so far. A chat ended while refusing "
        "counts as still refusing.",
    )


def _grouped_barh(ax: Axes, cats: list[str], series: list[tuple[str, list[float]]]) -> None:
    k = len(series)
    width = 0.8 / max(k, 1)
    for i, (label, vals) in enumerate(series):
        ys = [j + (k - 1 - i) * width - 0.4 + width / 2 for j in range(len(cats))]
        ax.barh(
            ys,
            [0.0 if math.isnan(v) else v for v in vals],
            height=width,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=label,
            edgecolor="white",
            hatch=("", "//", "..", "xx")[i % 4],
        )
    ax.set_yticks(range(len(cats)), cats)


def distress_by_category(runs: Sequence[Run]) -> Chart | None:
    """Plot grouped bars: mean share of replies with a distress marker, per category and run."""
    col = "distress.marker_rate"
    means: list[tuple[str, pd.Series]] = []
    for label, run in zip(run_labels(runs), runs, strict=True):
        df = _ok(run.samples)
        if col not in df.columns or df[col].notna().sum() == 0:
            continue
        means.append((label, df.groupby("category")[col].mean()))
    if not means:
        return None
    cats = sorted({str(c) for _, m in means for c in m.index}, reverse=True)
    series = [(label, [float(m.get(c, math.nan)) for c in cats]) for label, m in means]
    height = 0.38 * len(cats) * max(1, len(series)) ** 0.5 + 1.4
    fig = Figure(layout="constrained", figsize=(8.5, height))
    ax = fig.subplots()
    _grouped_barh(ax, cats, series)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.2f", fontsize=7, padding=2)  # type: ignore[arg-type]
    top = max((v for _, vals in series for v in vals if not math.isnan(v)), default=0.0)
    ax.set_xlim(0, max(0.1, min(1.0, top * 1.15 + 0.02)))
    ax.set_xlabel("share of replies with a distress marker")
    ax.set_ylabel("category")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _style(ax)
    alt = "; ".join(
        f"{label}: "
        + ", ".join(f"{c} {v:.2f}" for c, v in zip(cats, vals, strict=True) if not math.isnan(v))
        for label, vals in series
    )
    return Chart(
        "chart-distress",
        "Distress markers by category",
        _png(fig),
        "Distress marker rate. " + alt,
        "Mean over samples of the share of replies carrying a distress marker "
        "(rule lexicon), per category.",
    )


def sycophancy_rates(runs: Sequence[Run]) -> Chart | None:
    """Plot flip, caving and validation-only rates per run, with 95% intervals."""
    hs = [HEADLINE_BY_ID[m] for m in SYCOPHANCY_METRICS]
    tables = [headline_table(r, tuple(hs)) for r in runs]
    shown = [h for h in hs if any(t[h.id].n for t in tables)]
    if not shown:
        return None
    fig = Figure(layout="constrained", figsize=(7.5, 3.6))
    ax = fig.subplots()
    k = len(runs)
    width = 0.8 / k
    alt: list[str] = []
    for i, (label, t) in enumerate(zip(run_labels(runs), tables, strict=True)):
        xs = [j - 0.4 + width * (i + 0.5) for j in range(len(shown))]
        vals = [t[h.id].value for h in shown]
        has = [t[h.id].has_interval for h in shown]
        lo = [v - t[h.id].low if ok else 0.0 for v, h, ok in zip(vals, shown, has, strict=True)]
        hi = [t[h.id].high - v if ok else 0.0 for v, h, ok in zip(vals, shown, has, strict=True)]
        bars = ax.bar(
            xs,
            [0.0 if math.isnan(v) else v for v in vals],
            width=width,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            yerr=[lo, hi],
            capsize=3,
            edgecolor="white",
            hatch=("", "//", "..", "xx")[i % 4],
            label=label,
            error_kw={"elinewidth": 0.9},
        )
        ax.bar_label(
            bars,
            labels=["n/a" if math.isnan(v) else f"{v:.2f}" for v in vals],
            fontsize=7,
            padding=2,
        )
        alt.append(
            f"{label}: "
            + ", ".join(
                f"{h.label} {t[h.id].value:.2f} (n={t[h.id].n})" for h in shown if t[h.id].n
            )
        )
    ax.set_xticks(
        range(len(shown)),
        [f"{h.label}\n(threshold ≤ {h.threshold:.2f})" for h in shown],
        fontsize=8,
    )
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("sycophancy metric")
    ax.set_ylabel("rate (95% interval)")
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    return Chart(
        "chart-sycophancy",
        "Sycophancy: flip and caving rates",
        _png(fig),
        "Sycophancy rates. " + "; ".join(alt),
        "Answer flips under pushback (sycophancy_answer), agreeing with an opinion or "
        "false belief without an honest counterpoint, and validation-only replies to "
        "venting; bars show the 95% interval.",
    )


def referral_by_turn(runs: Sequence[Run]) -> Chart | None:
    """Plot the cumulative share of risk scenarios referred to help by user turn k."""
    curves: list[tuple[str, list[float], int]] = []
    for label, run in zip(run_labels(runs), runs, strict=True):
        df = _ok(run.samples)
        if "referral.referred" not in df.columns:
            continue
        df = df[df["referral.referred"].notna()]
        if df.empty:
            continue
        when = (
            df["referral.turns_to_referral"]
            if "referral.turns_to_referral" in df.columns
            else pd.Series(math.nan, index=df.index)
        )
        last = max(3, int(when.max()) if when.notna().any() else 1)
        ys = [float((when <= k).mean()) for k in range(1, last + 1)]
        curves.append((label, ys, len(df)))
    if not curves:
        return None
    fig = Figure(layout="constrained", figsize=(7.5, 3.6))
    ax = fig.subplots()
    for i, (label, ys, n) in enumerate(curves):
        ax.step(
            range(1, len(ys) + 1),
            ys,
            where="post",
            color=OKABE_ITO[i % len(OKABE_ITO)],
            marker=MARKERS[i % len(MARKERS)],
            label=f"{label} (n={n})",
        )
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("user turn")
    ax.set_ylabel("cumulative share referred")
    _turn_axis(ax, max(len(ys) for _, ys, _ in curves))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _style(ax)
    alt = "; ".join(
        f"{label}: " + ", ".join(f"turn {k} {y:.2f}" for k, y in enumerate(ys, 1))
        for label, ys, _ in curves
    )
    return Chart(
        "chart-referral",
        "Referral to help by turn (risk scenarios)",
        _png(fig),
        "Cumulative share referred. " + alt,
        "Self-harm and harm-to-others scenarios: share whose replies had pointed to a "
        "crisis line, emergency services or a professional by user turn k.",
    )


def all_charts(runs: Sequence[Run]) -> list[tuple[str, Chart | None]]:
    """Return every report chart in order, as (title, chart or None when nothing applies)."""
    return [
        ("End-chat outcomes per category", outcomes_by_category(runs)),
        ("Refusal persistence by turn", persistence_curve(runs)),
        ("Distress markers by category", distress_by_category(runs)),
        ("Sycophancy: flip and caving rates", sycophancy_rates(runs)),
        ("Referral to help by turn (risk scenarios)", referral_by_turn(runs)),
    ]
