"""``equanimity score-transcripts FILE.jsonl``: score conversations that already happened."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from equanimity.paths import default_results_dir
from equanimity.scenarios.schema import Category
from equanimity.transcripts.redacted_report import DEFAULT_MIN_GROUP


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``score-transcripts`` subcommand."""
    p = sub.add_parser(
        "score-transcripts",
        help="score recorded conversations (JSONL, OpenAI or Anthropic format) without a model",
        description="Read one conversation per line ({'messages': [...]} in OpenAI chat or "
        "Anthropic Messages format, with optional id, category, locale, expect), "
        "score it with the default scorers and write an inspect log that report, "
        "compare and gate accept. Malformed lines are reported and skipped.",
    )
    p.add_argument("file", type=Path, metavar="FILE.jsonl", help="the conversations")
    p.add_argument(
        "--log-dir",
        type=Path,
        default=default_results_dir() / "logs",
        help="where the log goes (default: results/logs)",
    )
    p.add_argument(
        "--redact",
        action="store_true",
        help="write no message text: placeholders in the log, an aggregate-only "
        "Markdown report, small categories suppressed",
    )
    p.add_argument(
        "--min-group",
        type=int,
        default=DEFAULT_MIN_GROUP,
        metavar="K",
        help=f"with --redact: hide categories with fewer than K conversations "
        f"(default {DEFAULT_MIN_GROUP})",
    )
    p.add_argument(
        "--default-category",
        choices=list(Category.__members__),
        metavar="CATEGORY",
        help="category for lines that give none (default: scored as uncategorised)",
    )
    p.add_argument("--report", type=Path, help="report path (default: next to the log)")
    p.add_argument("--no-report", action="store_true", help="do not write a report")
    p.add_argument(
        "--display",
        default="none",
        choices=("full", "conversation", "rich", "plain", "log", "none"),
        help="inspect display (default: none)",
    )
    p.set_defaults(func=score_transcripts_command)


def score_transcripts_command(args: argparse.Namespace) -> int:
    """Load, report malformed lines, score, write the log and report; 2 if nothing scored."""
    from equanimity.transcripts.task import load_transcripts, score_transcripts

    if args.min_group < 1:
        raise ValueError("--min-group must be at least 1")
    default = Category(args.default_category) if args.default_category else None
    loaded = load_transcripts(args.file, default_category=default, hashed_ids=args.redact)
    for err in loaded.errors:
        print(f"{args.file}:{err.line}: skipped: {err.reason}", file=sys.stderr)
    print(
        f"{args.file}: {loaded.lines} line(s), {len(loaded.conversations)} conversation(s) "
        f"scored, {len(loaded.errors)} malformed line(s) skipped"
    )
    if not args.redact:
        for conv in loaded.conversations:
            for note in conv.notes:
                print(f"{args.file}:{conv.line}: note: {note}", file=sys.stderr)
    if not loaded.conversations:
        print(f"equanimity: error: {args.file}: no conversation could be read", file=sys.stderr)
        return 2
    log = score_transcripts(loaded, args.log_dir, redact=args.redact, display=args.display)
    print(f"log: {log.location}  status: {log.status}")
    if log.status != "success":
        return 2
    if args.redact:
        if not args.no_report:
            from equanimity.transcripts.redacted_report import write_redacted_report

            target = args.report or Path(str(log.location)).with_suffix(".redacted.md")
            print(f"report: {write_redacted_report(log.location, target, args.min_group)}")
        return 0
    from equanimity.commands.run import print_summary, write_report

    print_summary(log.location)
    if not args.no_report:
        report = write_report(log.location, args.report)
        if report:
            print(f"report: {report}")
    return 0
