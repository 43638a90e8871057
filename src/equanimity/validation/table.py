"""The validity table (markdown, for the README) and the figures file the report reads.

``python -m equanimity.validation.table [--data DIR] [--markdown PATH] [--figures PATH]`` runs
every layer on every dataset (dev and test), prints the markdown table (or writes it to PATH)
and writes ``scorers/validation/figures.json``: for each headline metric, the test-split
figures of the datasets that validate its scorer (F1 with its interval and n), so that a report
can show each headline next to its scorer's validity.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from equanimity.paths import scorers_dir
from equanimity.validation.data_root import resolve_data_root
from equanimity.validation.readers import DataError
from equanimity.validation.rows import Row, evaluate
from equanimity.yaml_source import SourceError

HEADLINE_VALIDITY: dict[str, tuple[str, ...]] = {
    "over_refusal_rate": ("xstest-", "pyrit-refusal-on-topic"),
    "persistence_rate": ("xstest-", "pyrit-refusal-on-topic"),
    "turns_held": ("xstest-",),
    "distress_marker_rate": ("written-distress", "vera-mh-distress"),
    "flip_rate": ("written-flips",),
    "caving_rate": ("sycon-", "written-caving"),
    "referral_on_risk": ("vera-mh-referral",),
    "over_referral_rate": ("vera-mh-crisis",),
    "premature_end_rate": ("vera-mh-end-chat-transcripts",),
    "wrongful_end_risk": ("vera-mh-end-chat-transcripts",),
    "over_end_rate": ("vera-mh-end-chat-transcripts",),
    "honoured_request_rate": ("vera-mh-end-chat-transcripts",),
}
"""Headline metric id -> the datasets (exact names, or prefixes ending in ``-``) that validate
the detector behind it. Headlines not listed have no validation set yet."""


def scorer_layer(detector: str, dataset: str = "") -> str:
    """The validation layer whose verdicts the shipped scorer uses for ``detector`` on ``dataset``.

    Distress: lexicon + learned head (``learned``). Caving: the learned head decides
    stance-keeping scenarios (``expect.stance``, as SYCON's conversations are), the rules decide
    belief and feedback scenarios (the written caving set). Everything else: ``rule``.
    """
    if detector == "distress":
        return "learned"
    if detector == "caving":
        return "learned" if dataset.startswith("sycon-") else "rule"
    return "rule"


def figures_path() -> Path:
    """Default path of the figures file."""
    return scorers_dir() / "validation" / "figures.json"


def _matches(dataset: str, keys: Sequence[str]) -> bool:
    return any(dataset.startswith(k) if k.endswith("-") else dataset == k for k in keys)


def _figure(r: Row) -> dict[str, Any]:
    return {
        "dataset": r.dataset,
        "detector": r.detector,
        "layer": r.layer,
        "split": r.split,
        "n": r.n,
        "positives": r.positives,
        "f1": r.f1,
        "f1_ci": r.f1_ci,
        "precision": r.precision,
        "recall": r.recall,
        "false_positives": r.fp,
        "note": r.note,
    }


def figures(rows: Sequence[Row]) -> dict[str, Any]:
    """The figures file's content: test-split rows of the shipped layer per headline metric."""
    test = [r for r in rows if r.split == "test" and r.layer == scorer_layer(r.detector, r.dataset)]
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python -m equanimity.validation.table",
        "split": "test",
        "headlines": {
            hid: [_figure(r) for r in test if _matches(r.dataset, keys)]
            for hid, keys in HEADLINE_VALIDITY.items()
        },
    }


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _ci(x: float | None, ci: tuple[float, float] | None) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}" if ci is None else f"{x:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def markdown(rows: Sequence[Row]) -> str:
    """The validity table: one line per detector x dataset x split x layer."""
    lines = [
        "Scorer validity (`equanimity validate-scorers`; regenerate with "
        "`python -m equanimity.validation.table`). **dev** = the split the rules were tuned on; "
        "**test** = held out, measured once per change of approach "
        "(scorers/validation/MEASUREMENTS.md). 95% intervals: Wilson (P, R), bootstrap over "
        "conversations / prompts (F1).",
        "",
        "| detector | dataset | split | layer | n | positives | precision | recall | F1 | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r.detector, r.dataset, r.split != "test", r.layer)):
        note = r.note or (f"{r.fp} false positive(s)" if r.fp else "")
        lines.append(
            f"| {r.detector} | {r.dataset} | **{r.split}** | {r.layer} | {r.n} | {r.positives} "
            f"| {_ci(r.precision, r.precision_ci)} | {_ci(r.recall, r.recall_ci)} "
            f"| {_ci(r.f1, r.f1_ci)} | {note} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the figures file and print (or write) the markdown table."""
    p = argparse.ArgumentParser(prog="python -m equanimity.validation.table")
    p.add_argument("--data", type=Path, default=None, metavar="DIR")
    p.add_argument("--markdown", type=Path, default=None, metavar="PATH")
    p.add_argument("--figures", type=Path, default=figures_path(), metavar="PATH")
    args = p.parse_args(argv)
    try:
        rows = [e.row for e in evaluate(resolve_data_root(args.data))]
    except (DataError, SourceError, FileNotFoundError) as exc:
        print(f"validation table: {exc}", file=sys.stderr)
        return 2
    args.figures.write_text(json.dumps(figures(rows), indent=2) + "\n", encoding="utf-8")
    table = markdown(rows)
    if args.markdown is None:
        print(table, end="")
    else:
        args.markdown.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
