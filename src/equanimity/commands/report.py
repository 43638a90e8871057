"""``equanimity report``: one self-contained HTML report from one or more inspect logs."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from inspect_ai.log import list_eval_logs

from equanimity.commands.outputs import add_output_arguments, next_to, output_path

LOG_SUFFIXES = (".eval", ".json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write an HTML report from inspect logs (one summary column per log)",
        description="Write a self-contained HTML report: summary, headline behaviours, charts "
        "and every transcript with its evidence highlighted. Several logs (e.g. several "
        "models) get one summary column each. A folder stands for the logs in it.",
    )
    p.add_argument(
        "logs",
        nargs="+",
        type=Path,
        metavar="LOG",
        help="inspect log file(s) (.eval or .json) or folder(s) of logs",
    )
    add_output_arguments(p, "next to the log: X.eval -> X.html; a folder DIR -> DIR/report.html")
    p.set_defaults(func=report_command)


def expand_logs(paths: list[Path]) -> list[str]:
    """Log files named by ``paths`` (a folder gives its logs, oldest first).

    Raises ``ValueError`` naming a path that does not exist, is not a log, or holds no logs.
    """
    out: list[str] = []
    for p in paths:
        if p.is_dir():
            # inspect's own listing skips eval-set.json, logs.json and other non-log files
            infos = list_eval_logs(str(p), recursive=False)
            logs = sorted(Path(i.name.removeprefix("file://")) for i in infos)
            if not logs:
                raise ValueError(f"{p}: folder holds no .eval or .json logs")
            out.extend(str(f) for f in sorted(logs, key=lambda f: f.name))
        elif not p.exists():
            raise ValueError(f"{p}: no such log file")
        elif p.suffix not in LOG_SUFFIXES:
            raise ValueError(f"{p}: not an inspect log (expected .eval or .json)")
        else:
            out.append(str(p))
    return out


def default_report_path(paths: list[Path]) -> Path:
    """Next to the (first) log: ``X.eval`` -> ``X.html``; a folder -> ``DIR/report.html``."""
    first = paths[0]
    if first.is_dir():
        return first / "report.html"
    if len(paths) == 1:
        return next_to(first, ".html")
    return first.parent / "report.html"


def report_command(args: argparse.Namespace) -> int:
    """Render the report; errors (unreadable logs) surface as ValueError → exit 2."""
    from equanimity.report.render import render_report

    logs = expand_logs(args.logs)
    target = output_path(args.output, default_report_path(args.logs), args.overwrite)
    start = time.perf_counter()
    out = render_report(logs, target)
    size = out.stat().st_size
    print(
        f"report: {out}  ({len(logs)} log(s), {size / 1e6:.1f} MB, "
        f"{time.perf_counter() - start:.1f} s)"
    )
    return 0
