"""The ``equanimity`` command line: one subcommand per module in :mod:`equanimity.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "run",
    "scenarios",
    "validate_scorers",
    "report",
    "import_",
    "score_transcripts",
    "compare",
    "history",
    "gate",
    "rescore",
)
"""Modules of :mod:`equanimity.commands`, each exposing ``register(subparsers)``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="equanimity",
        description="Behavioural evaluation of language models on model welfare and sycophancy.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"equanimity.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for usage and input errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        print(f"equanimity: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
