"""Trend of every headline metric across the runs in a log folder, one line per model."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from inspect_ai.log import list_eval_logs
from jinja2 import Environment
from markupsafe import Markup
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from equanimity.analysis.frame import Estimate, Run, headline_table, load_run
from equanimity.analysis.headline import HEADLINES, Headline
from equanimity.compare.render import CSP, fmt
from equanimity.rescore import rescore_of


@dataclass
class HistoryEntry:
    """One successful run in the folder and its headline estimates."""

    run: Run
    """The run."""
    created: datetime
    """When the eval was created (log header ``eval.created``)."""
    values: dict[str, Estimate]
    """Headline metric id → estimate."""


@dataclass
class History:
    """Runs of a folder ordered by time, and the logs left out."""

    entries: list[HistoryEntry]
    """Successful runs, oldest first."""
    skipped: list[str] = field(default_factory=list)
    """Logs left out, with why."""

    def metrics(self) -> list[Headline]:
        """Headline metrics with a value in at least one run."""
        return [h for h in HEADLINES if any(e.values[h.id].n for e in self.entries)]

    def models(self) -> list[str]:
        """Models in order of first appearance."""
        return list(dict.fromkeys(e.run.model for e in self.entries))


def _display(name: str) -> str:
    return name.removeprefix("file://")


def load_history(log_dir: str | Path) -> History:
    """Read every log under ``log_dir`` (recursively); keep the successful runs, oldest first.

    Raises ``ValueError`` when the folder does not exist or holds no log.
    """
    d = Path(log_dir)
    if not d.is_dir():
        raise ValueError(f"{log_dir}: no such folder")
    infos = list_eval_logs(str(d.resolve()), recursive=True)
    if not infos:
        raise ValueError(f"{log_dir}: no inspect logs found")
    entries: list[HistoryEntry] = []
    skipped: list[str] = []
    for info in infos:
        name = _display(info.name)
        try:
            run = load_run(name)
        except ValueError as exc:
            skipped.append(f"{name}: {exc}")
            continue
        if run.status != "success":
            skipped.append(f"{name}: status {run.status}")
            continue
        source = rescore_of(run.header)
        if source is not None:
            skipped.append(f"{name}: a re-scoring of {source} (the run is counted once)")
            continue
        created = datetime.fromisoformat(run.header.eval.created)
        entries.append(HistoryEntry(run, created, headline_table(run, HEADLINES)))
    entries.sort(key=lambda e: (e.created, e.run.path))
    return History(entries, skipped)


def render_history_markdown(history: History) -> str:
    """Render a Markdown trend table: one row per run, one column per headline metric."""
    metrics = history.metrics()
    head = ["Created", "Model", "Samples", *[h.id for h in metrics]]
    lines = [
        f"## equanimity history ({len(history.entries)} runs)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for e in history.entries:
        cells = [
            e.created.strftime("%Y-%m-%d %H:%M"),
            f"`{e.run.model}`",
            str(len(e.run.samples)),
            *[fmt(e.values[h.id].value) for h in metrics],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if history.skipped:
        lines += ["", f"Skipped {len(history.skipped)} log(s):", ""]
        lines += [f"- {s}" for s in history.skipped]
    return "\n".join(lines) + "\n"


def trend_chart(history: History, columns: int = 3) -> str:
    """Draw a PNG (base64) with one panel per headline metric and one line per model."""
    metrics = history.metrics()
    if not metrics:
        return ""
    rows = math.ceil(len(metrics) / columns)
    fig = Figure(figsize=(4.2 * columns, 2.8 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    models = history.models()
    for i, h in enumerate(metrics):
        ax = axes[i // columns][i % columns]
        for model in models:
            pts = [
                (e.created, e.values[h.id].value)
                for e in history.entries
                if e.run.model == model and not math.isnan(e.values[h.id].value)
            ]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, marker="o", label=model)
        if h.threshold is not None:
            ax.axhline(h.threshold, color="#999", linestyle="--", linewidth=0.8)
        if h.id != "turns_held":
            ax.set_ylim(-0.05, 1.05)
        ax.set_title(h.id, fontsize=9)
        ax.tick_params(labelsize=7)
        locator = AutoDateLocator(maxticks=5)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    for j in range(len(metrics), rows * columns):
        axes[j // columns][j % columns].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


_PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>equanimity history</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2rem .45rem;font-size:.85rem}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%}</style></head><body>
<h1>History: {{ entries|length }} run(s)</h1>
{% if chart %}<img alt="trend of each headline metric per model"
src="data:image/png;base64,{{ chart }}">{% endif %}
<h2>Runs, oldest first</h2>
<table><tr><th>created</th><th>model</th><th>samples</th><th>log</th>
{% for h in metrics %}<th title="{{ h.label }}">{{ h.id }}</th>{% endfor %}</tr>
{% for e in entries %}<tr><td>{{ e.created }}</td><td>{{ e.model }}</td>
<td class="num">{{ e.samples }}</td><td>{{ e.path }}</td>
{% for v in e.cells %}<td class="num">{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if skipped %}<h2>Skipped logs</h2><ul>{% for s in skipped %}<li>{{ s }}</li>{% endfor %}
</ul>{% endif %}
</body></html>
""")


def render_history_html(history: History) -> str:
    """Render the self-contained history page: chart (inline PNG) and trend table."""
    metrics = history.metrics()
    entries = [
        {
            "created": e.created.strftime("%Y-%m-%d %H:%M:%S"),
            "model": e.run.model,
            "samples": len(e.run.samples),
            "path": e.run.path,
            "cells": [fmt(e.values[h.id].value) for h in metrics],
        }
        for e in history.entries
    ]
    return _PAGE.render(
        csp=Markup(CSP),
        chart=trend_chart(history),
        metrics=metrics,
        entries=entries,
        skipped=history.skipped,
    )
