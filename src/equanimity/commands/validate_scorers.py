"""``equanimity validate-scorers``: precision / recall / F1 of the rule-based detectors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from equanimity.data_root import DATA_ENV, data_root
from equanimity.validation import DataError, format_report, validate_all
from equanimity.yaml_source import SourceError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``validate-scorers`` (``--data DIR``, ``--json``)."""
    p = subparsers.add_parser(
        "validate-scorers",
        help="measure the rule-based detectors on labelled replies",
        description="Run the refusal and referral detectors over the labelled sets (XSTest "
        "completions, hand-labelled replies) and print precision, recall, F1 and n "
        "per detector and dataset, with a 3-class confusion matrix for refusal.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"folder holding the public sets (xstest/); default ${DATA_ENV}, else ../shared/data",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the validation; exit status 0 on success, 2 when the data cannot be read."""
    data = data_root(args.data)
    if data is not None and not data.is_dir():
        print(f"validate-scorers: no data folder at {data} (use --data DIR)", file=sys.stderr)
        return 2
    if data is None:
        print(
            f"validate-scorers: no public data folder (--data DIR or ${DATA_ENV}); "
            "measuring the labelled sets shipped in scorers/labelled only",
            file=sys.stderr,
        )
    try:
        report = validate_all(data)
    except (DataError, SourceError) as exc:
        print(f"validate-scorers: {exc}", file=sys.stderr)
        return 2
    if not report.scores:
        print(f"validate-scorers: no labelled data found under {data}", file=sys.stderr)
        return 2
    print(report.model_dump_json(indent=2) if args.json else format_report(report))
    return 0
