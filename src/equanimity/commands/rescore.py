"""``equanimity rescore``: re-score an existing ``.eval`` log with the current scorers."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rescore`` subcommand."""
    p = sub.add_parser(
        "rescore",
        help="re-score an existing .eval log with the current scorers (new log)",
        description="Re-run equanimity's scorers on every sample of an existing .eval log and "
        "write a new log with the new scores, scorer events, metrics and reductions (what "
        "'inspect score --action overwrite' does, which cannot load equanimity's scorers by "
        "name). Streams: samples are read, scored in parallel and written one by one. Only the "
        "rule layer runs unless --model-role grader=MODEL binds a judge; the original run's "
        "grader is not re-used. The source log is never modified. Exit 0 on success, 2 on "
        "error (missing or unreadable log, existing output without --overwrite).",
    )
    p.add_argument("log", type=Path, metavar="LOG", help="the .eval log to re-score")
    p.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help="the new .eval log to write"
    )
    p.add_argument(
        "--scorer",
        action="append",
        metavar="NAME",
        dest="scorers",
        help="run only this scorer (repeatable; default: all five). The output "
        "holds only the scorers run, as with inspect's overwrite",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument(
        "--model-role",
        action="append",
        default=[],
        metavar="ROLE=MODEL",
        dest="model_roles",
        help="bind a model role, inspect syntax: grader=PROVIDER/MODEL turns on "
        "the judge layer (default: rule layer only)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="scoring processes (default: one per CPU; 1 = in this process)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="samples scored at once per process with a grader (default: 10)",
    )
    p.set_defaults(func=rescore_command)


def rescore_command(args: argparse.Namespace) -> int:
    """Re-score the log; bad input raises ``ValueError`` (exit 2)."""
    from equanimity.rescore import rescore_log, scorer_names

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    if args.max_connections is not None and args.max_connections < 1:
        raise ValueError(f"--max-connections must be at least 1, got {args.max_connections}")
    known = scorer_names()
    for name in args.scorers or []:
        if name not in known:
            raise ValueError(f"--scorer {name}: unknown scorer; choose from {', '.join(known)}")
    result = rescore_log(
        args.log,
        args.output,
        args.scorers,
        overwrite=args.overwrite,
        workers=args.workers,
        model_roles=tuple(args.model_roles),
        concurrency=args.max_connections,
    )
    print(
        f"rescored: {result.output}  ({result.samples} samples, "
        f"{', '.join(result.scorers)}; {result.seconds:.1f} s, "
        f"{result.workers} process(es))"
    )
    return 0
