"""``equanimity import FORMAT SOURCE -o DIR``: public test suites → scenario YAML files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from equanimity.importers.write import ImportResult, write_scenarios
from equanimity.paths import scenarios_dir

FORMATS = ("xstest", "are_you_sure", "sycon-bench", "vera-mh")
"""Source formats understood by ``equanimity import``."""


def _importer(fmt: str) -> Callable[[Path], ImportResult]:
    if fmt == "vera-mh":
        from equanimity.importers.vera_mh import import_vera_mh

        return import_vera_mh
    if fmt == "xstest":
        from equanimity.importers.xstest import import_xstest

        return import_xstest
    if fmt == "sycon-bench":
        from equanimity.importers.sycon_bench import import_sycon_bench

        return import_sycon_bench
    from equanimity.importers.are_you_sure import import_are_you_sure

    return import_are_you_sure


def default_out(fmt: str) -> Path:
    """``scenarios/imported/<format>/``: git-ignored, never part of the shipped library."""
    return scenarios_dir() / "imported" / fmt.replace("_", "-")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import`` subcommand."""
    p = sub.add_parser(
        "import",
        help="convert a public test suite (XSTest, are_you_sure, SYCON-Bench) into scenario files",
        description="Write one scenario YAML file per convertible record. Records that cannot "
        "be converted are reported with their line number and skipped.",
    )
    p.add_argument(
        "format", choices=FORMATS, metavar="FORMAT", help=f"source format: {', '.join(FORMATS)}"
    )
    p.add_argument(
        "source",
        type=Path,
        help="the source file (xstest: the prompts CSV or its folder; "
        "are_you_sure: are_you_sure.jsonl; sycon-bench: the folder holding "
        "false-presuppositions/data/; vera-mh: the folder holding personas.tsv)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: scenarios/imported/<format>/, git-ignored)",
    )
    p.add_argument("--limit", type=int, metavar="N", help="write at most N scenarios")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=import_command)


def import_command(args: argparse.Namespace) -> int:
    """Convert, report skipped records on stderr, write the files; 2 if nothing converted."""
    result = _importer(args.format)(args.source)
    for skip in result.skipped:
        print(skip.message(result.source), file=sys.stderr)
    imported = result.imported
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError("--limit must be at least 1")
        imported = imported[: args.limit]
    print(f"{result.source}: {result.summary()}")
    if not imported:
        print(f"equanimity: error: {result.source}: no convertible records", file=sys.stderr)
        return 2
    out = args.out or default_out(args.format)
    written = write_scenarios(imported, out, force=args.force)
    print(f"wrote {len(written)} scenario file(s) to {out}")
    return 0
