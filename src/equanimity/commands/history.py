"""``equanimity history``: trend of each headline metric across the runs in a log folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from equanimity.commands.outputs import add_output_arguments, output_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``history`` subcommand."""
    p = sub.add_parser("history", help="trend of the headline metrics across runs in a folder")
    p.add_argument("log_dir", type=Path, metavar="LOG_DIR", help="folder of inspect logs")
    add_output_arguments(p, "LOG_DIR/history.html")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="also write a Markdown table")
    p.set_defaults(func=history_command)


def history_command(args: argparse.Namespace) -> int:
    """Write the history page (and Markdown); 2 when the folder holds no successful run."""
    from equanimity.compare.history import (
        load_history,
        render_history_html,
        render_history_markdown,
    )
    from equanimity.compare.render import write_output

    output = output_path(args.output, args.log_dir / "history.html", args.overwrite)
    history = load_history(args.log_dir)
    for s in history.skipped:
        print(f"skipped: {s}")
    if not history.entries:
        raise ValueError(f"{args.log_dir}: no successful run to show")
    write_output(output, render_history_html(history))
    if args.markdown:
        write_output(args.markdown, render_history_markdown(history))
    print(f"runs: {len(history.entries)}  models: {', '.join(history.models())}")
    print(f"history: {output}")
    return 0
