"""``equanimity validate-scorers``: every scorer layer measured on labelled real replies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from equanimity.validation.data_root import ENV_VAR, resolve_data_root
from equanimity.validation.format import format_misses, format_rows, rows_json
from equanimity.validation.readers import DataError
from equanimity.validation.registry import LAYERS
from equanimity.validation.rows import evaluate
from equanimity.validation.table import markdown
from equanimity.yaml_source import SourceError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``validate-scorers`` (``--data``, ``--split``, ``--limit``, ``--json`` ...)."""
    p = subparsers.add_parser(
        "validate-scorers",
        help="measure every scorer layer on labelled real replies",
        description="Run each detector layer (rule, learned, judge ...) over every labelled "
        "set found under the data folder (XSTest completions, PyRIT refusals, VERA-MH "
        "conversations, SYCON-Bench, the hand-written sets; see scorers/validation/"
        "manifest.yaml) and print one row per detector x dataset x split x layer: n, "
        "precision, recall and F1 with 95%% intervals.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"data folder (default: ${ENV_VAR}, else ../shared/data beside the checkout)",
    )
    p.add_argument("--split", choices=("dev", "test", "all"), default="all")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="first N items per set")
    p.add_argument(
        "--layer",
        action="append",
        choices=sorted(LAYERS),
        help="layer(s) to run (repeatable; default: every layer that applies)",
    )
    p.add_argument(
        "--dataset",
        action="append",
        metavar="PREFIX",
        help="only datasets whose name starts with PREFIX (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the rows as JSON objects")
    p.add_argument(
        "--markdown", action="store_true", help="print the rows as a markdown validity table"
    )
    p.add_argument("--misses", action="store_true", help="also list every miss (ids, replies)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the validation; exit status 0 on success, 2 when the data cannot be read."""
    if args.limit is not None and args.limit < 1:
        print("validate-scorers: --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        root = resolve_data_root(args.data)
        evals = evaluate(
            root, split=args.split, limit=args.limit, layers=args.layer, only=args.dataset
        )
    except (DataError, SourceError, FileNotFoundError) as exc:
        print(f"validate-scorers: {exc}", file=sys.stderr)
        return 2
    if not evals:
        print(f"validate-scorers: no labelled data found under {root}", file=sys.stderr)
        return 2
    rows = [e.row for e in evals]
    if args.json:
        print(rows_json(rows))
    elif args.markdown:
        print(markdown(rows), end="")
    else:
        print(format_rows(rows))
    if args.misses:
        print(format_misses(evals), file=sys.stderr if args.json else sys.stdout)
    return 0
