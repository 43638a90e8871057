"""Where ``report``, ``compare`` and ``history`` write, and when they may replace a file.

Like ``rescore``, they never replace an existing file unless ``--overwrite`` is given, and by
default they write next to the log they read (``X.eval`` -> ``X.html``), so re-rendering one
log can never clobber another run's report (``results/report.html`` of the main job).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_output_arguments(p: argparse.ArgumentParser, default: str) -> None:
    """Add ``-o/--output`` (default described by ``default``) and ``--overwrite``."""
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help=f"HTML file to write (default: {default}); never replaced without --overwrite",
    )
    p.add_argument("--overwrite", action="store_true", help="replace the output if it exists")


def output_path(explicit: Path | None, default: Path, overwrite: bool) -> Path:
    """The file to write: ``explicit`` or ``default``; refuse an existing one unless told.

    Raises ``ValueError`` (exit 2) naming the file and both ways out.
    """
    target = explicit if explicit is not None else default
    if target.exists() and not overwrite:
        raise ValueError(
            f"{target} already exists; pass --overwrite to replace it, or -o to write elsewhere"
        )
    if target.is_dir():
        raise ValueError(f"{target} is a folder; -o needs a file name (e.g. {target}/out.html)")
    return target


def next_to(log: Path, suffix: str) -> Path:
    """``log`` with its extension replaced: ``X.eval`` + ``.html`` -> ``X.html``."""
    return log.with_name(log.stem + suffix)
