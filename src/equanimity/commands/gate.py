"""``equanimity gate``: pass/fail a run against a policy (exit 0 pass, 1 fail, 2 error)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``gate`` subcommand."""
    p = sub.add_parser(
        "gate",
        help="check a run against a policy of thresholds (CI gate)",
        description="Evaluate a gate policy on a log. Exit 0 when every rule passes, 1 when a "
        "rule fails, 2 on any error (invalid policy, unreadable log, log status not "
        "success, missing metric, too few samples, baseline rule without --baseline, "
        "--baseline that no rule uses).",
    )
    p.add_argument("log", type=Path, metavar="LOG", help="the run's inspect log")
    p.add_argument(
        "--policy",
        required=True,
        metavar="POLICY",
        help="policy YAML file, or 'default' for the shipped policy",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="LOG",
        help="baseline log for the policy's no_regression rules (an error when it has none: "
        "the default policy has none, results/baselines/policy.yaml has one per rule)",
    )
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    p.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)",
    )
    p.add_argument(
        "--allow-scorer-change",
        action="store_true",
        help="accept a --baseline scored differently from the run (other lexicons, rubrics, "
        "scorer code or judge); the output then says so in its first line",
    )
    p.add_argument(
        "--only-present",
        action="store_true",
        help="gate what was run: skip rules whose categories are absent from the run (listed "
        "as skipped in every output) instead of erroring; a rule with when_absent: error "
        "still errors",
    )
    p.set_defaults(func=gate_command)


def gate_command(args: argparse.Namespace) -> int:
    """Evaluate the policy; write JUnit and Markdown if asked; return the gate's exit code."""
    from equanimity.compare.render import write_output
    from equanimity.gate.evaluate import evaluate_gate
    from equanimity.gate.junit import error_junit, gate_junit
    from equanimity.gate.policy import load_policy, resolve_policy_path
    from equanimity.gate.summary import error_markdown, gate_lines, gate_markdown

    policy_path = str(resolve_policy_path(args.policy))
    try:
        policy = load_policy(args.policy)
    except ValueError as exc:
        message = str(exc)
        print(f"equanimity gate: error: {message}", file=sys.stderr)
        if args.junit:
            write_output(args.junit, error_junit(message, policy_path))
        if args.markdown:
            write_output(args.markdown, error_markdown(message))
        return 2
    result = evaluate_gate(
        policy,
        args.log,
        args.baseline,
        policy_path,
        allow_scorer_change=args.allow_scorer_change,
        only_present=args.only_present,
    )
    for line in gate_lines(result):
        print(line)
    for problem in (result.run_error, result.baseline_error):
        if problem:
            print(f"equanimity gate: error: {problem}", file=sys.stderr)
    if args.junit:
        write_output(args.junit, gate_junit(result))
    if args.markdown:
        write_output(args.markdown, gate_markdown(result))
    return result.exit_code
