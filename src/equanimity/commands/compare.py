"""``equanimity compare``: paired regression comparison of a candidate run against a baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from equanimity.commands.outputs import add_output_arguments, next_to, output_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``compare`` subcommand."""
    p = sub.add_parser(
        "compare",
        help="compare a candidate run against a baseline run (paired tests, flips)",
        description="Pair the samples of two logs by (sample id, epoch), test each headline "
        "metric over scenarios (McNemar when every scenario is 0/1 in both runs, a sign-flip "
        "permutation test on scenario means otherwise) and list the "
        "samples whose outcome flipped. Exit 0 when the report was written, 2 on "
        "error (including runs over different scenarios or scenario versions, and runs "
        "scored differently: see --allow-scorer-change).",
    )
    p.add_argument("baseline", type=Path, metavar="BASELINE_LOG", help="the reference log")
    p.add_argument("candidate", type=Path, metavar="CANDIDATE_LOG", help="the log under test")
    add_output_arguments(p, "next to the candidate: CAND.eval -> CAND-compare.html")
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
    p.add_argument(
        "--allow-scorer-change",
        action="store_true",
        help="compare even when the logs were scored differently (other lexicons, rubrics, "
        "scorer code or judge); the report then says so in its first line",
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
    output = output_path(args.output, next_to(args.candidate, "-compare.html"), args.overwrite)
    cmp = compare_logs(
        args.baseline, args.candidate, args.intersection, args.alpha, args.allow_scorer_change
    )
    if cmp.scorer_warning:
        print(f"WARNING: compared anyway (--allow-scorer-change): {cmp.scorer_warning}")
    p = cmp.pairing
    if p.dropped:
        print(
            f"note: compared {p.n} common, same-version sample(s); dropped "
            f"{len(p.only_baseline)} only in the baseline, {len(p.only_candidate)} only in "
            f"the candidate, {len(p.version_changed)} with a changed scenario version, "
            f"{len(p.content_changed)} with changed scenario content",
            file=sys.stderr,
        )
    for run in (cmp.baseline, cmp.candidate):
        if run.status != "success":
            print(f"warning: {run.path} has status {run.status}", file=sys.stderr)
    write_output(output, render_html(cmp))
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
    print("power (alpha 0.05, power 0.8, over the paired scenarios):")
    for m in cmp.metrics:
        if m.category is None and m.result.n and m.detectable is not None:
            print(f"  {m.detectable.sentence('this comparison', m.headline.id)}")
    print(f"report: {output}")
    return 0
