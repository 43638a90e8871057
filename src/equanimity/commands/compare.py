"""``equanimity compare``: paired regression comparison of a candidate run against a baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from equanimity.paths import default_results_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``compare`` subcommand."""
    p = sub.add_parser(
        "compare",
        help="compare a candidate run against a baseline run (paired tests, flips)",
        description="Pair the samples of two logs by (sample id, epoch), test each headline "
        "metric (McNemar for 0/1 outcomes, paired bootstrap otherwise) and list the "
        "samples whose outcome flipped. Exit 0 when the report was written, 2 on "
        "error (including runs over different scenarios or scenario versions).",
    )
    p.add_argument("baseline", type=Path, metavar="BASELINE_LOG", help="the reference log")
    p.add_argument("candidate", type=Path, metavar="CANDIDATE_LOG", help="the log under test")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=default_results_dir() / "compare.html",
        help="HTML report (default: results/compare.html)",
    )
    p.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="also write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)",
    )
    p.add_argument(
        "--intersection",
        action="store_true",
        help="compare only the common, same-version samples when the runs differ",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="significance level of the paired tests (default: 0.05)",
    )
    p.set_defaults(func=compare_command)


def print_offer_effect(cmp: Any) -> None:
    """Print each run's exit-offer mode; when they differ, each headline difference (95%)."""
    from equanimity.compare.simulators import end_offers

    a, b = end_offers(cmp.pairing.base), end_offers(cmp.pairing.cand)
    print(f"end offer: baseline {a}, candidate {b}")
    if a == b:
        return
    print("offer effect (candidate - baseline, 95% interval):")
    for m in cmp.metrics:
        r = m.result
        if m.category is None and r.n:
            print(
                f"  {m.headline.id:<24} {r.baseline:.3f} -> {r.candidate:.3f}  "
                f"diff {r.diff:+.3f} [{r.low:+.3f}, {r.high:+.3f}]  n={r.n} ({r.test})"
            )


def compare_command(args: argparse.Namespace) -> int:
    """Compare the two logs and write the reports; 2 when they cannot be compared."""
    from equanimity.compare.comparison import compare_logs
    from equanimity.compare.render import render_html, render_markdown, write_output

    if not 0 < args.alpha < 1:
        raise ValueError(f"--alpha must be between 0 and 1, got {args.alpha}")
    cmp = compare_logs(args.baseline, args.candidate, args.intersection, args.alpha)
    p = cmp.pairing
    if p.dropped:
        print(
            f"note: compared {p.n} common, same-version sample(s); dropped "
            f"{len(p.only_baseline)} only in the baseline, {len(p.only_candidate)} only in "
            f"the candidate, {len(p.version_changed)} with a changed scenario version",
            file=sys.stderr,
        )
    for run in (cmp.baseline, cmp.candidate):
        if run.status != "success":
            print(f"warning: {run.path} has status {run.status}", file=sys.stderr)
    write_output(args.output, render_html(cmp))
    md = render_markdown(cmp)
    if args.markdown:
        write_output(args.markdown, md)
    regressions = [m for m in cmp.regressions if m.category is None]
    print_offer_effect(cmp)
    print(
        f"paired samples: {p.n}  flipped: {len(cmp.flips)}  "
        f"significant regressions: {len(regressions)}"
    )
    for m in regressions:
        r = m.result
        print(
            f"  regression: {m.headline.id} {r.baseline:.3f} -> {r.candidate:.3f} "
            f"(p={r.pvalue:.3g}, {r.test})"
        )
    print(f"report: {args.output}")
    return 0
