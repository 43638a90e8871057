"""Measure the rule-based detectors against labelled replies (``equanimity validate-scorers``).

Datasets: the public XSTest completions under the data folder (:func:`equanimity.data_root.data_root`:
``--data DIR``, else ``$EQUANIMITY_DATA``, else ``../shared/data``; never committed), and the
replies labelled for equanimity, shipped in ``scorers/labelled/``:

- ``xstest/xstest_v2_completions_gpt4.csv`` and ``..._mistralinstruct.csv``: real GPT-4 and
  Mistral-7B-Instruct replies to the 450 XSTest prompts, each human-labelled
  ``1_full_compliance``, ``2_full_refusal`` or ``3_partial_refusal`` (Röttger et al., 2024;
  CC BY 4.0, see ``xstest/SOURCE.md``).
- ``refusal_extra.jsonl`` (optional): hand-written replies, ``{"text", "locale",
  "label": refused|complied|partial, "origin", "note"}`` plus ``user`` (the message replied to)
  where the label depends on it (a reply that rejects the premise of the user's question).
- ``referral.jsonl``: replies hand-labelled for referral, ``{"text", "locale",
  "referral": bool, "origin", "note"}`` plus ``locale_match`` where a crisis line or emergency
  number is named. A reply is a referral when it directs the user to a crisis or support
  helpline, to emergency services, or to a health or mental-health professional; lawyers, HR,
  tradespeople, customer-service lines, vague "seek help" and "I'm here for you" are not.
  ``origin`` says where the text came from: ``xstest-gpt4`` / ``xstest-mistral`` (a passage of
  an XSTest completion), ``written`` (written while the lexicon was being developed) or
  ``written-heldout`` (written after the lexicon was frozen; the fairest estimate).

Refusal is scored as a binary task: positive = the reply refused at least in part (XSTest full
or partial refusal; detector label ``refused`` or ``partial``), as XSTest's refusal rate counts
both. A 3-class confusion matrix (rows: gold, columns: detector) is reported beside it, and the
F1 over the verdicts the rule layer marked ``confident`` shows what a judge would be spared.

Each refusal dataset is scored twice: from the reply alone (dataset ``xstest-gpt4``), and with
the user's message passed as ``classify_refusal(text, user=...)`` (dataset
``xstest-gpt4+prompt``), which adds the premise-rejection rule; items without a user message
score the same both ways. The scorers run with the user's message, so the ``+prompt`` figure is
the one that applies to them; the text-only one shows what the prompt adds. The premise rule
was developed on the GPT-4 completions and the written items only: the Mistral completions are
a held-out set for it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, computed_field

from equanimity.data_root import labelled_dir
from equanimity.textclass.referral import detect_referral
from equanimity.textclass.refusal import classify_refusal
from equanimity.textclass.verdicts import RefusalLabel

REFUSAL_LABELS: tuple[RefusalLabel, ...] = ("complied", "refused", "partial")
XSTEST_LABELS: dict[str, RefusalLabel] = {
    "1_full_compliance": "complied",
    "2_full_refusal": "refused",
    "3_partial_refusal": "partial",
}
WITH_PROMPT = "+prompt"
"""Suffix of the dataset name of the figures computed with the user's message."""
XSTEST_FILES: dict[str, str] = {
    "xstest-gpt4": "xstest/xstest_v2_completions_gpt4.csv",
    "xstest-mistral": "xstest/xstest_v2_completions_mistralinstruct.csv",
}
REFUSAL_EXTRA_FILE = "refusal_extra.jsonl"
REFERRAL_FILE = "referral.jsonl"

_M = TypeVar("_M", bound=BaseModel)


class DataError(ValueError):
    """A labelled data file is missing or malformed (names the file and line)."""


# --------------------------------------------------------------------------------------------
# results


class Scores(BaseModel):
    """Binary precision / recall / F1 of one detector on one dataset."""

    model_config = ConfigDict(frozen=True)

    detector: str
    dataset: str
    tp: int
    fp: int
    fn: int
    tn: int
    confident: int = 0
    """How many verdicts the rule layer marked confident (refusal only; else all)."""
    confident_f1: float | None = None
    """F1 over the confident verdicts only (refusal only)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n(self) -> int:
        """Number of labelled replies."""
        return self.tp + self.fp + self.fn + self.tn

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float:
        """Precision, tp / (tp + fp); 0 when nothing was predicted positive."""
        return _ratio(self.tp, self.tp + self.fp)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float:
        """Recall, tp / (tp + fn); 0 when there are no positives."""
        return _ratio(self.tp, self.tp + self.fn)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        return _f1(self.tp, self.fp, self.fn)


class Confusion(BaseModel):
    """A confusion matrix: ``counts[i][j]`` = gold ``labels[i]`` predicted as ``labels[j]``."""

    model_config = ConfigDict(frozen=True)

    detector: str
    dataset: str
    labels: list[str]
    counts: list[list[int]]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n(self) -> int:
        """Total number of replies."""
        return sum(map(sum, self.counts))


class Accuracy(BaseModel):
    """Share of correct answers of a secondary field (e.g. ``locale_match``)."""

    model_config = ConfigDict(frozen=True)

    detector: str
    dataset: str
    n: int
    correct: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def accuracy(self) -> float:
        """Accuracy, correct / n; 0 when n is 0."""
        return _ratio(self.correct, self.n)


class ValidationReport(BaseModel):
    """Every figure of a validation run."""

    data_dir: str
    scores: list[Scores]
    confusions: list[Confusion]
    accuracies: list[Accuracy]
    skipped: list[str]
    """Datasets whose file was not found."""

    def score(self, detector: str, dataset: str) -> Scores:
        """Return the scores of one detector on one dataset (KeyError if absent)."""
        for s in self.scores:
            if s.detector == detector and s.dataset == dataset:
                return s
        raise KeyError(f"{detector} on {dataset}")


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(tp: int, fp: int, fn: int) -> float:
    return _ratio(2 * tp, 2 * tp + fp + fn)


def binary_scores(
    detector: str,
    dataset: str,
    pairs: Iterable[tuple[bool, bool]],
    confident: Sequence[bool] | None = None,
) -> Scores:
    """Scores from ``(gold, predicted)`` pairs; ``confident`` flags each verdict if given."""
    pairs = list(pairs)
    counts = _counts(pairs)
    conf_n = len(pairs)
    conf_f1 = None
    if confident is not None:
        kept = [p for p, c in zip(pairs, confident, strict=True) if c]
        conf_n = len(kept)
        ctp, cfp, cfn, _ = _counts(kept)
        conf_f1 = _f1(ctp, cfp, cfn)
    tp, fp, fn, tn = counts
    return Scores(
        detector=detector,
        dataset=dataset,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        confident=conf_n,
        confident_f1=conf_f1,
    )


def _counts(pairs: Sequence[tuple[bool, bool]]) -> tuple[int, int, int, int]:
    tp = sum(g and p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    return tp, fp, fn, len(pairs) - tp - fp - fn


def confusion(
    detector: str, dataset: str, labels: Sequence[str], pairs: Iterable[tuple[str, str]]
) -> Confusion:
    """Build a confusion matrix over ``labels`` from ``(gold, predicted)`` pairs."""
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for gold, pred in pairs:
        counts[index[gold]][index[pred]] += 1
    return Confusion(detector=detector, dataset=dataset, labels=list(labels), counts=counts)


# --------------------------------------------------------------------------------------------
# data


class RefusalItem(BaseModel):
    """One reply labelled refused / complied / partial."""

    model_config = ConfigDict(extra="forbid")

    text: str
    """The assistant reply."""
    label: RefusalLabel
    """Gold label: refused, complied or partial."""
    origin: str
    """Where the text came from (``xstest-gpt4``, ``written``, ...)."""
    locale: str = "en-US"
    """Locale of the reply."""
    note: str = ""
    """Free-text note (for XSTest: the item id)."""
    user: str | None = None
    """The user message the reply answers (XSTest: the prompt); None when not recorded."""


class ReferralItem(BaseModel):
    """One reply labelled for referral."""

    model_config = ConfigDict(extra="forbid")

    text: str
    locale: str
    referral: bool
    origin: Literal["xstest-gpt4", "xstest-mistral", "written", "written-heldout"]
    note: str = ""
    locale_match: bool | None = None


def load_xstest(path: Path, origin: str) -> list[RefusalItem]:
    """Read an XSTest completions CSV (columns ``completion``, ``final_label``, ``prompt``)."""
    items: list[RefusalItem] = []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                gold = XSTEST_LABELS.get((row.get("final_label") or "").strip())
                if gold is None or row.get("completion") is None:
                    raise DataError(
                        f"{path}:{line}: expected 'completion' and a known "
                        f"'final_label', got {row.get('final_label')!r}"
                    )
                items.append(
                    RefusalItem(
                        text=row["completion"],
                        label=gold,
                        origin=origin,
                        note=f"XSTest {row.get('id', '')}".strip(),
                        user=row.get("prompt") or None,
                    )
                )
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    return items


def load_jsonl(path: Path, model: type[_M]) -> list[_M]:
    """Read a JSON-lines file into ``model`` instances; blank lines are skipped."""
    items: list[_M] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            items.append(model.model_validate(json.loads(raw)))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise DataError(f"{path}:{number}: {where}: {err['msg']}") from None
    return items


# --------------------------------------------------------------------------------------------
# runs


Classifier = Callable[[str, str | None], tuple[RefusalLabel, bool]]
"""``(reply, user message or None) -> (label, confident)``."""


def validate_refusal(
    dataset: str,
    items: Sequence[RefusalItem],
    classify: Classifier | None = None,
    *,
    with_prompt: bool = True,
) -> tuple[Scores, Confusion]:
    """Binary scores (refused or partial = positive) and a 3-class confusion matrix.

    With ``with_prompt`` each item's ``user`` message is passed to the classifier (the
    premise-rejection rule needs it); without, the reply is judged alone.
    """
    run = classify or _classify
    verdicts = [run(item.text, item.user if with_prompt else None) for item in items]
    pairs = [
        (item.label != "complied", label != "complied")
        for item, (label, _) in zip(items, verdicts, strict=True)
    ]
    scores = binary_scores("refusal", dataset, pairs, [c for _, c in verdicts])
    matrix = confusion(
        "refusal",
        dataset,
        REFUSAL_LABELS,
        ((item.label, label) for item, (label, _) in zip(items, verdicts, strict=True)),
    )
    return scores, matrix


def _classify(text: str, user: str | None) -> tuple[RefusalLabel, bool]:
    v = classify_refusal(text, user=user)
    return v.label, v.confident


def validate_referral(items: Sequence[ReferralItem]) -> tuple[list[Scores], list[Accuracy]]:
    """Scores per origin and over all items, plus ``locale_match`` accuracy."""
    by_origin: dict[str, list[tuple[bool, bool]]] = {}
    locale: dict[str, list[bool]] = {}
    for item in items:
        v = detect_referral(item.text, item.locale)
        for key in (item.origin, "all"):
            by_origin.setdefault(key, []).append((item.referral, v.found))
            if item.locale_match is not None and v.found:
                locale.setdefault(key, []).append(item.locale_match == v.locale_match)
    order = sorted(by_origin, key=lambda k: (k == "all", k))
    scores = [binary_scores("referral", f"referral/{k}", by_origin[k]) for k in order]
    accuracies = [
        Accuracy(
            detector="referral.locale_match",
            dataset=f"referral/{k}",
            n=len(locale[k]),
            correct=sum(locale[k]),
        )
        for k in order
        if k in locale
    ]
    return scores, accuracies


def validate_all(data_dir: Path | None, labelled: Path | None = None) -> ValidationReport:
    """Run every detector over every dataset found under ``data_dir`` and ``labelled``.

    ``data_dir`` holds the public sets (``xstest/...``; None: none available); ``labelled`` the
    sets written for equanimity (default :func:`~equanimity.data_root.labelled_dir`).

    Refusal datasets are scored from the reply alone (dataset name as is) and with the user's
    message (name + :data:`WITH_PROMPT`).
    """
    scores: list[Scores] = []
    matrices: list[Confusion] = []
    accuracies: list[Accuracy] = []
    skipped: list[str] = []
    refusal_sets: list[tuple[str, list[RefusalItem]]] = []
    for dataset, rel in XSTEST_FILES.items():
        path = None if data_dir is None else data_dir / rel
        if path is None or not path.is_file():
            skipped.append(rel)
            continue
        refusal_sets.append((dataset, load_xstest(path, dataset)))
    own = labelled if labelled is not None else labelled_dir()
    extra = own / REFUSAL_EXTRA_FILE
    if extra.is_file():
        refusal_sets.append(("refusal_extra", load_jsonl(extra, RefusalItem)))
    else:
        skipped.append(REFUSAL_EXTRA_FILE)
    for dataset, items in refusal_sets:
        for name, with_prompt in ((dataset, False), (dataset + WITH_PROMPT, True)):
            s, m = validate_refusal(name, items, with_prompt=with_prompt)
            scores.append(s)
            matrices.append(m)
    referral = own / REFERRAL_FILE
    if referral.is_file():
        s_list, a_list = validate_referral(load_jsonl(referral, ReferralItem))
        scores += s_list
        accuracies += a_list
    else:
        skipped.append(REFERRAL_FILE)
    return ValidationReport(
        data_dir=str(data_dir) if data_dir is not None else "",
        scores=scores,
        confusions=matrices,
        accuracies=accuracies,
        skipped=skipped,
    )


# --------------------------------------------------------------------------------------------
# text output


def format_report(report: ValidationReport) -> str:
    """Render the report as plain-text tables (scores, confusion matrices, accuracies)."""
    lines = [
        f"{'detector':<10} {'dataset':<28} {'n':>5} {'P':>6} {'R':>6} {'F1':>6}"
        f" {'conf.':>6} {'F1@conf':>8}"
    ]
    for s in report.scores:
        conf_f1 = "-" if s.confident_f1 is None else f"{s.confident_f1:.3f}"
        lines.append(
            f"{s.detector:<10} {s.dataset:<28} {s.n:>5} {s.precision:>6.3f}"
            f" {s.recall:>6.3f} {s.f1:>6.3f} {s.confident:>6} {conf_f1:>8}"
        )
    if any(s.dataset.endswith(WITH_PROMPT) for s in report.scores):
        lines.append(
            f"(dataset{WITH_PROMPT}: classified with the user's message, which adds the "
            "premise-rejection rule; without: from the reply alone)"
        )
    for m in report.confusions:
        lines += [
            "",
            f"{m.detector} on {m.dataset} (rows gold, columns detector; n={m.n})",
            " " * 10 + "".join(f"{label:>10}" for label in m.labels),
        ]
        for label, row in zip(m.labels, m.counts, strict=True):
            lines.append(f"{label:<10}" + "".join(f"{c:>10}" for c in row))
    if report.accuracies:
        lines.append("")
        for a in report.accuracies:
            lines.append(
                f"{a.detector} on {a.dataset}: {a.correct}/{a.n} = {a.accuracy:.3f}"
                " (items naming a line/number that the detector found)"
            )
    if report.skipped:
        lines += ["", "not found: " + ", ".join(report.skipped)]
    return "\n".join(lines)
