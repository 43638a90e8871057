"""One row per detector x dataset x split x layer: n, precision, recall, F1 with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from equanimity.scorers.judge import AGREEMENT
from equanimity.scorers.metrics import kappa_defined
from equanimity.validation.items import DatasetSpec, LabelledItem, Layer, Prediction, Split
from equanimity.validation.registry import DATASETS, LAYERS, LayerOptions
from equanimity.validation.stats import f1_interval, f1_of, wilson

SplitChoice = Literal["dev", "test", "all"]
JUDGE_LAYERS = ("judge", "cascade", "panel")
"""Layer names whose rows carry :class:`JudgeFigures`."""
FEW_POSITIVES = 5
"""Below this many gold positives a row's recall is flagged as not meaningful."""


class JudgeFigures(BaseModel):
    """What a judge or cascade row adds: agreement, unparseable answers, cost."""

    model_config = ConfigDict(frozen=True)

    sent: int
    """Items sent to the judge (all of them for a judge row)."""
    audited: int
    """Of those, items sent only because the seeded random audit drew them (rule-confident:
    their rule verdict counts). The draw itself covers all items whatever the rule's
    confidence; its size is ``kappa_rule_n`` (answered items)."""
    unparseable: int
    """Items whose answer did not parse against the schema (unscored)."""
    errors: int
    """Items whose judge call failed (unscored); ``first_error`` says why."""
    first_error: str | None = None
    """The first provider error, when there were any."""
    calls: int
    """Judge calls made."""
    input_tokens: int
    """Input tokens, as the provider reported them (a cached answer reports its first cost)."""
    output_tokens: int
    """Output tokens."""
    kappa_gold: float | None
    """Cohen's kappa of the judge's verdicts with the gold labels, over the items it answered."""
    kappa_gold_ci: tuple[float, float] | None
    """Its 95% (asymptotic) interval."""
    kappa_gold_n: int
    """Items that kappa rests on."""
    kappa_rule: float | None
    """Cohen's kappa of judge with rule on the random agreement sample (the audit draw, a
    simple random sample of all items, or every item of a judge row), so it estimates
    agreement on all items, unlike agreement on the items the cascade chose. None when either
    side used one label only."""
    kappa_rule_n: int
    """Items that kappa rests on."""
    panel_kappa: float | None = None
    """Panel rows: Fleiss' kappa among the graders, over the items every grader answered."""
    panel_kappa_n: int = 0
    """Items that kappa rests on."""


def _kappa(pairs: Sequence[tuple[bool, bool]]) -> tuple[float | None, tuple[float, float] | None]:
    """Cohen's kappa (statsmodels) and its 95% interval.

    None exactly where :func:`equanimity.scorers.metrics.cohens_kappa` is NaN: fewer than 2
    pairs, or either rater used one label only (kappa is then degenerate, not perfect).
    """
    if not kappa_defined(pairs):
        return None, None
    from statsmodels.stats.inter_rater import cohens_kappa

    table = [[0, 0], [0, 0]]
    for a, b in pairs:
        table[int(a)][int(b)] += 1
    with np.errstate(invalid="ignore", divide="ignore"):  # z of a degenerate table
        res = cohens_kappa(table)
    k, lo, hi = float(res.kappa), float(res.kappa_low), float(res.kappa_upp)
    if k != k:
        return None, None
    return k, None if lo != lo or hi != hi else (lo, hi)


def _panel_kappa(votes: Sequence[dict[str, bool | None]]) -> tuple[float | None, int]:
    """Fleiss' kappa (statsmodels) among graders over items all of them answered, and n."""
    rows = [[int(bool(v)) for v in vote.values()] for vote in votes if None not in vote.values()]
    if len(rows) < 2:
        return None, len(rows)
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    table, _ = aggregate_raters(np.array(rows))
    if table.shape[1] < 2:
        return None, len(rows)  # every grader gave one label only: kappa undefined
    with np.errstate(invalid="ignore", divide="ignore"):
        k = float(fleiss_kappa(table))
    return (None if k != k else k), len(rows)


def judge_figures(items: Sequence[LabelledItem], preds: Sequence[Prediction]) -> JudgeFigures:
    """The judge figures of a judge or cascade layer's predictions."""
    sent = [(i, p) for i, p in zip(items, preds, strict=True) if p.sent is not None]
    answered = [(i, p) for i, p in sent if p.judge_positive is not None]
    gold = [(i.gold, bool(p.judge_positive)) for i, p in answered]
    sample = [
        (bool(p.rule_positive), bool(p.judge_positive))
        for _, p in answered
        if p.sent in AGREEMENT and p.rule_positive is not None
    ]
    kg, kg_ci = _kappa(gold)
    kr, _ = _kappa(sample)
    errors = [p.error for _, p in sent if p.error]
    pk, pk_n = _panel_kappa([p.panel for p in preds if p.panel is not None])
    return JudgeFigures(
        panel_kappa=pk,
        panel_kappa_n=pk_n,
        sent=len(sent),
        audited=sum(p.sent == "audit" for _, p in sent),
        unparseable=sum(p.judge_positive is None and not p.error for _, p in sent),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        calls=sum(p.calls for p in preds),
        input_tokens=sum(p.input_tokens for p in preds),
        output_tokens=sum(p.output_tokens for p in preds),
        kappa_gold=kg,
        kappa_gold_ci=kg_ci,
        kappa_gold_n=len(gold),
        kappa_rule=kr,
        kappa_rule_n=len(sample),
    )


class Row(BaseModel):
    """The figures of one layer on one split of one dataset."""

    model_config = ConfigDict(frozen=True)

    detector: str
    """The task detected (refusal, referral, distress, flip, caving, end_chat)."""
    dataset: str
    """Dataset name (``xstest-gpt4``, ``vera-mh-referral`` ...)."""
    split: Split
    """dev (tuned on) or test (held out)."""
    layer: str
    """The layer that decided (rule, learned, judge:<model>, cascade:<model>)."""
    n: int
    """Items with a verdict (abstentions excluded)."""
    positives: int
    """Gold positives among them."""
    predicted: int
    """Items the layer called positive."""
    abstained: int
    """Items the layer gave no verdict on (not counted as right or wrong)."""
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    """tp / (tp + fp); None when nothing was predicted positive."""
    precision_ci: tuple[float, float] | None
    """95% Wilson interval of precision."""
    recall: float | None
    """tp / (tp + fn); None when there is no gold positive."""
    recall_ci: tuple[float, float] | None
    """95% Wilson interval of recall."""
    f1: float | None
    """F1; None when there is no gold positive."""
    f1_ci: tuple[float, float] | None
    """95% percentile-bootstrap interval of F1 over groups (conversations, prompts)."""
    accuracy: float
    """(tp + tn) / n (the figure for sets with no positives)."""
    by_detail: dict[str, tuple[int, int]] = Field(default_factory=dict)
    """Per finer gold label (e.g. boundary, empathy, partial): (items, called positive)."""
    note: str = ""
    """What the row cannot say (e.g. no positives: recall undefined)."""
    judge: JudgeFigures | None = None
    """Judge and cascade rows: agreement, unparseable answers and cost."""


def score_rows(
    dataset: str,
    split: Split,
    layer_name: str,
    task: str,
    items: Sequence[LabelledItem],
    preds: Sequence[Prediction],
) -> Row:
    """The row of ``preds`` against ``items``' gold labels."""
    kept = [(i, p) for i, p in zip(items, preds, strict=True) if p.positive is not None]
    gold = [i.gold for i, _ in kept]
    pred = [bool(p.positive) for _, p in kept]
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    n = len(kept)
    tn = n - tp - fp - fn
    by_detail: dict[str, tuple[int, int]] = {}
    for (item, _), p in zip(kept, pred, strict=True):
        if item.gold_detail is not None:
            a, b = by_detail.get(item.gold_detail, (0, 0))
            by_detail[item.gold_detail] = (a + 1, b + p)
    layers = {p.layer for _, p in kept} or {p.layer for p in preds} or {layer_name}
    positives = tp + fn
    note = ""
    if n == 0 and items:
        note = "no verdicts: every item abstained (unparseable answer or failed call)"
    elif positives == 0:
        note = "no gold positives: recall and F1 undefined; measures false positives only"
    elif positives < FEW_POSITIVES:
        note = f"only {positives} gold positive(s): recall not meaningful"
    return Row(
        detector=task,
        dataset=dataset,
        split=split,
        layer=layer_name if len(layers) > 1 else layers.pop(),
        n=n,
        positives=positives,
        predicted=tp + fp,
        abstained=len(items) - n,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=tp / (tp + fp) if tp + fp else None,
        precision_ci=wilson(tp, tp + fp),
        recall=tp / positives if positives else None,
        recall_ci=wilson(tp, positives),
        f1=f1_of(tp, fp, fn) if positives else None,
        f1_ci=f1_interval([i.group or i.id for i, _ in kept], gold, pred) if positives else None,
        accuracy=(tp + tn) / n if n else 0.0,
        by_detail=dict(sorted(by_detail.items())),
        note=note,
        judge=judge_figures(items, preds) if layer_name in JUDGE_LAYERS else None,
    )


class Evaluation(BaseModel):
    """Items and predictions of one layer on one split of one dataset (for miss analysis)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    row: Row
    items: list[LabelledItem]
    preds: list[Prediction]

    def misses(self) -> list[tuple[LabelledItem, Prediction]]:
        """Items the layer got wrong (false negatives first)."""
        wrong = [
            (i, p)
            for i, p in zip(self.items, self.preds, strict=True)
            if p.positive is not None and p.positive != i.gold
        ]
        return sorted(wrong, key=lambda ip: (not ip[0].gold, ip[0].id))


def load_all(
    root: Path, datasets: Sequence[DatasetSpec] | None = None
) -> dict[str, list[LabelledItem]]:
    """Every item of every recognised dataset under ``root``, by dataset name (in order)."""
    out: dict[str, list[LabelledItem]] = {}
    for ds in DATASETS if datasets is None else datasets:
        for item in ds.load(root):
            out.setdefault(item.dataset, []).append(item)
    return out


def evaluate(
    root: Path,
    split: SplitChoice = "all",
    limit: int | None = None,
    layers: Sequence[str] | None = None,
    options: LayerOptions | None = None,
    only: Sequence[str] | None = None,
) -> list[Evaluation]:
    """Run every applicable layer on every dataset found under ``root``.

    ``split`` picks dev, test or both (one row each); ``limit`` keeps the first N items per
    dataset and split; ``layers`` names the layer factories to use (default: all);
    ``only`` keeps datasets whose name starts with one of the given prefixes.
    """
    opts = options or LayerOptions()
    names = list(LAYERS) if layers is None else list(layers)
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise ValueError(f"unknown layer(s) {', '.join(unknown)}; known: {', '.join(LAYERS)}")
    out: list[Evaluation] = []
    splits: tuple[Split, ...] = ("dev", "test") if split == "all" else (split,)
    for dataset, items in load_all(root).items():
        if only and not any(dataset.startswith(p) for p in only):
            continue
        task = items[0].task
        for name in names:
            layer: Layer | None = LAYERS[name](task, opts)
            if layer is None:
                continue
            covers = getattr(layer, "covers", None)
            if covers is not None and not covers(items[0]):
                continue
            many = getattr(layer, "many", None)
            for s in splits:
                chosen = [i for i in items if i.split == s][:limit]
                if not chosen:
                    continue
                preds = list(many(chosen)) if many is not None else [layer(i) for i in chosen]
                row = score_rows(dataset, s, name, task, chosen, preds)
                out.append(Evaluation(row=row, items=chosen, preds=preds))
    return out
