"""Text, JSON and markdown renderings of validation rows."""

from __future__ import annotations

import json
from collections.abc import Sequence

from equanimity.validation.rows import Evaluation, Row


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f"[{ci[0]:.2f},{ci[1]:.2f}]"


def format_rows(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per row, notes below."""
    w = max([8, *(len(r.layer) for r in rows)])
    head = (
        f"{'detector':<9} {'dataset':<30} {'split':<5} {'layer':<{w}} {'n':>5} {'pos':>4} {'pred':>4}"
        f" {'P':>6} {'95% CI':<12} {'R':>6} {'95% CI':<12} {'F1':>6} {'95% CI':<12}"
    )
    lines = [head]
    notes = []
    for r in rows:
        lines.append(
            f"{r.detector:<9} {r.dataset:<30} {r.split:<5} {r.layer:<{w}} {r.n:>5} {r.positives:>4}"
            f" {r.predicted:>4}"
            f" {_f(r.precision):>6} {_ci(r.precision_ci):<12} {_f(r.recall):>6}"
            f" {_ci(r.recall_ci):<12} {_f(r.f1):>6} {_ci(r.f1_ci):<12}"
        )
        extra = [r.note] if r.note else []
        if r.abstained:
            extra.append(f"{r.abstained} abstained")
        if r.by_detail:
            parts = [f"{k} {b}/{a}" for k, (a, b) in r.by_detail.items()]
            extra.append("called positive by gold detail: " + ", ".join(parts))
        if r.judge is not None:
            extra.append(judge_note(r))
        if extra:
            notes.append(f"  {r.detector} {r.dataset} {r.split} {r.layer}: " + "; ".join(extra))
    return "\n".join(lines + (["", *notes] if notes else []))


def _k(k: float | None, n: int, ci: tuple[float, float] | None = None) -> str:
    return f"- (n={n})" if k is None else f"{k:.2f}{' ' + _ci(ci) if ci else ''} (n={n})"


def judge_note(r: Row) -> str:
    """The judge figures of a judge or cascade row, in one line."""
    j = r.judge
    assert j is not None
    total = r.n + r.abstained
    parts = [f"sent to judge {j.sent}/{total}"]
    if j.audited:
        parts.append(f"audit sample {j.audited}")
    parts.append(f"unparseable {j.unparseable}")
    if j.errors:
        parts.append(f"failed calls {j.errors} ({j.first_error})")
    parts.append(f"judge-gold kappa {_k(j.kappa_gold, j.kappa_gold_n, j.kappa_gold_ci)}")
    parts.append(f"judge-rule kappa on the random sample {_k(j.kappa_rule, j.kappa_rule_n)}")
    if r.layer.startswith("panel:"):
        parts.append(f"graders' Fleiss kappa {_k(j.panel_kappa, j.panel_kappa_n)}")
    parts.append(f"cost {j.calls} calls, {j.input_tokens:,} in / {j.output_tokens:,} out tokens")
    return "; ".join(parts)


def rows_json(rows: Sequence[Row]) -> str:
    """The rows as a JSON array of objects (the field names of :class:`Row`)."""
    return json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False)


def format_misses(evals: Sequence[Evaluation], width: int = 160) -> str:
    """Every miss: dataset, split, id, gold (detail), the layer's detail, and the reply's start."""
    lines = []
    for ev in evals:
        for item, pred in ev.misses():
            kind = "FN" if item.gold else "FP"
            text = " ".join(item.reply.split())[:width]
            lines.append(
                f"{kind} {ev.row.dataset} {ev.row.split} {item.id} gold={item.gold_detail or item.gold}"
                f" pred={pred.detail} | {text}"
            )
    return "\n".join(lines)
