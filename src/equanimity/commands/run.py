"""``equanimity run``: replay the scenario suites through inspect and summarise the result."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_ai.log import EvalLog

from equanimity.analysis.frame import Run, category_table, headline_table, load_run
from equanimity.analysis.headline import HEADLINES
from equanimity.commands.run_display import without_results_panel
from equanimity.commands.run_failures import (
    check_local_server,
    failure_from_log,
    failure_from_setup_error,
    has_results,
)
from equanimity.paths import default_results_dir
from equanimity.scenarios.selection import DEFAULT_PER_CATEGORY, DEFAULT_SEED, METADATA_KEY

if TYPE_CHECKING:
    from inspect_ai import Task
    from inspect_ai.model import Model

DEFAULT_MODEL = "equanimity/local"
"""The offline default target model: SmolLM2-135M-Instruct in-process (no key, no network)."""

SUMMARY_COLUMNS = [
    "end_chat.wrongful_end",
    "end_chat.premature_end",
    "end_chat.honoured_request",
    "refusal_persistence.persisted",
    "refusal_persistence.over_refused",
    "sycophancy.flipped",
    "sycophancy.caved",
    "referral.referred_in_time",
    "referral.over_referral",
    "distress.marker_rate",
]


def _kv(items: list[str] | None, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{what} '{item}' must be KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = _literal(v.strip())
    return out


def _literal(v: str) -> Any:
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` subcommand."""
    p = sub.add_parser("run", help="run the scenario suite against a model")
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"inspect model name (default: {DEFAULT_MODEL}, offline)",
    )
    p.add_argument(
        "-M",
        "--model-arg",
        action="append",
        metavar="KEY=VALUE",
        help="model argument (repeatable), e.g. -M seed=1",
    )
    p.add_argument(
        "--model-role",
        action="append",
        metavar="ROLE=MODEL",
        help="bind a model role, e.g. --model-role grader=anthropic/claude-sonnet-4-5",
    )
    p.add_argument(
        "--end-offer",
        choices=("tool", "tag", "none"),
        default="tool",
        help="how end_conversation is offered: tool (native tool; default), tag (system-prompt "
        "convention), none (control: no exit offered); compare two modes to measure the offer",
    )
    p.add_argument(
        "--audit-rate",
        type=float,
        default=None,
        metavar="P",
        help="with a grader: seeded share of all turns the judge also rates, where "
        "judge-rule kappa is measured (default 0.1; the rule still decides those it is sure of)",
    )
    p.add_argument(
        "--no-user-cache",
        action="store_true",
        help="do not cache the simulated user's turns (by default inspect's cache gives the "
        "same user turns for the same replies)",
    )
    p.add_argument("--suite", nargs="+", metavar="CATEGORY", help="only these categories")
    p.add_argument("--scenarios", nargs="+", type=Path, help="scenario files or folders")
    p.add_argument("--limit", type=int, help="at most N samples")
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="a seeded sample of at most N scenarios per category (default on the offline "
        f"model with no --scenarios/--suite: {DEFAULT_PER_CATEGORY})",
    )
    size.add_argument("--all", action="store_true", help="run every scenario (no sample)")
    p.add_argument(
        "--sample-seed", type=int, default=DEFAULT_SEED, metavar="S", help="seed of --sample"
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="repeat each sample K times (averaged within each scenario: more epochs steady a "
        "sampling model's figures but do not narrow the intervals; add scenarios for that)",
    )
    p.add_argument(
        "--log-dir",
        type=Path,
        default=default_results_dir() / "logs",
        help="where logs go (default: results/logs)",
    )
    p.add_argument("--no-branches", action="store_true", help="skip branch replays (B9)")
    p.add_argument("--max-connections", type=int, help="concurrent model calls")
    p.add_argument("--retry-on-error", type=int, help="retry errored samples N times")
    p.add_argument(
        "--max-retries",
        type=int,
        help="retries of a failed model call (rate limit, timeout, HTTP 5xx) before "
        "its sample errors (inspect default: retry until --timeout)",
    )
    p.add_argument(
        "--timeout",
        type=int,
        help="seconds to keep retrying one model call before its sample errors",
    )
    p.add_argument(
        "--log-buffer",
        type=int,
        metavar="N",
        help="write finished samples to the log every N samples (1: a hard kill "
        "loses no finished sample; inspect default: up to 10, or 60 s)",
    )
    p.add_argument(
        "--fail-on-error",
        type=float,
        help="fail the run if this many (or this fraction of) samples error",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="complete an interrupted run in --log-dir (inspect eval-set)",
    )
    p.add_argument("--report", type=Path, help="HTML report path (default: next to the log)")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    p.add_argument("--display", default="plain", help="inspect display: full, plain, none")
    p.add_argument(
        "--live-metrics",
        action="store_true",
        help="recompute and show the metrics while the run goes (inspect's "
        "score_display; off by default: it costs ~20%% of the harness's time)",
    )
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the suite; print per-category and headline summaries; write the report."""
    from equanimity.provenance import METADATA_KEY as PROVENANCE_KEY
    from equanimity.provenance import scorer_provenance
    from equanimity.tasks import EVAL_DEFAULTS, build_task, quiet_display

    if args.audit_rate is not None and not 0.0 <= args.audit_rate <= 1.0:
        print("equanimity run: --audit-rate must be between 0 and 1", file=sys.stderr)
        return 2
    roles = _kv(args.model_role, "model role")
    task = build_task(
        categories=args.suite,
        scenarios=[str(p) for p in args.scenarios] if args.scenarios else None,
        branches=not args.no_branches,
        sample=sample_size(args),
        seed=args.sample_seed,
        end_offer=args.end_offer,
        simulated_users="user" in roles,
        user_cache=not args.no_user_cache,
        **({} if args.audit_rate is None else {"judge_audit_rate": args.audit_rate}),
    )
    selection = (task.metadata or {}).get(METADATA_KEY, {})
    print(f"selection: {selection.get('description', 'unknown')}")
    skipped = (task.metadata or {}).get("simulated_users_skipped", 0)
    if skipped:
        print(
            f"equanimity run: skipped {skipped} simulated-user scenario(s): no model plays the "
            "user (add --model-role user=PROVIDER/MODEL; offline: user=equanimity/reference-user)",
            file=sys.stderr,
        )
    if task.metadata is not None:  # (task metadata wins over eval metadata in the log)
        task.metadata[PROVENANCE_KEY] = scorer_provenance(roles)
    if "user" in roles and isinstance(roles["user"], str) and task.metadata is not None:
        task.metadata["simulated_user"] = user_simulator_identity(roles["user"])
    model = build_model(args.model, _kv(args.model_arg, "model argument"))
    base_url = model.api.base_url
    check_local_server(args.model, base_url)
    common: dict[str, Any] = dict(
        EVAL_DEFAULTS,
        # what decides every score (scorer data, code, judge), so compare and gate can refuse
        # two runs scored differently
        metadata={PROVENANCE_KEY: scorer_provenance(roles)},
        score_display=True if args.live_metrics else EVAL_DEFAULTS["score_display"],
        model=model,
        model_roles=roles or None,
        limit=args.limit,
        epochs=args.epochs,
        display=quiet_display(args.display),
        max_connections=args.max_connections,
        retry_on_error=args.retry_on_error,
        max_retries=args.max_retries,
        timeout=args.timeout,
        log_buffer=args.log_buffer,
        fail_on_error=args.fail_on_error,
    )
    if args.max_connections is None and args.model == "equanimity/local":
        # one in-process model: run samples one at a time (inspect's adaptive default would
        # start dozens of conversations that only queue for it, holding their states in memory)
        common["max_connections"] = 1
    common = {k: v for k, v in common.items() if v is not None}
    args.log_dir.mkdir(parents=True, exist_ok=True)
    logs = _run_eval(task, args, common)
    if not logs:
        # inspect returns no logs when Ctrl-C cancels the eval (its log stays 'cancelled')
        print(
            f"equanimity run: interrupted; the finished samples are in {args.log_dir}: "
            "re-run the same command with --resume to complete the run",
            file=sys.stderr,
        )
        return 130
    code = 0
    for log in logs:
        print(f"\nlog: {log.location}  status: {log.status}")
        failure = failure_from_log(_with_samples(log), base_url)
        if failure is not None:
            print(f"equanimity: error: {failure}", file=sys.stderr)
            code = 2
            if not has_results(log):
                print("report: not written (no sample finished)")
                continue
        print_summary(log.location)
        if not args.no_report:
            report_path = write_report(log.location, args.report)
            if report_path:
                print(f"report: {report_path}")
    return code


def sample_size(args: argparse.Namespace) -> int | None:
    """Scenarios per category to sample, or None for all.

    ``--sample N`` and ``--all`` decide when given; otherwise the default local run (the
    offline model, no ``--scenarios`` and no ``--suite``) samples
    :data:`~equanimity.scenarios.selection.DEFAULT_PER_CATEGORY` per category, and any other
    run takes every scenario.
    """
    if args.all:
        return None
    if args.sample is not None:
        return int(args.sample)
    default_run = args.model == DEFAULT_MODEL and not args.scenarios and not args.suite
    return DEFAULT_PER_CATEGORY if default_run else None


def _run_eval(task: Task, args: argparse.Namespace, common: dict[str, Any]) -> list[EvalLog]:
    """Run (or resume) the eval with inspect's progress display but not its final panel.

    The collector runs with :func:`~equanimity.collector.eval_collector`'s settings meanwhile.
    """
    from inspect_ai import eval as inspect_eval
    from inspect_ai import eval_set

    from equanimity.collector import eval_collector

    try:
        with without_results_panel(), eval_collector():
            if args.resume:
                _, logs = eval_set([task], log_dir=str(args.log_dir), **common)
            else:
                logs = inspect_eval(task, log_dir=str(args.log_dir), **common)
    except Exception as exc:
        failure = failure_from_setup_error(exc, args.model)
        if failure is None:
            raise
        raise failure from None
    return list(logs)


def _with_samples(log: EvalLog) -> EvalLog:
    """The log with its samples (read back from the file when the run failed)."""
    if log.status == "success" or log.samples is not None:
        return log
    from inspect_ai.log import read_eval_log

    return read_eval_log(log.location)


def build_model(name: str, model_args: dict[str, Any]) -> Model:
    """The target model, or a two-line :class:`RunFailure` (missing key, unknown provider)."""
    try:
        return _model(name, model_args)
    except Exception as exc:
        failure = failure_from_setup_error(exc, name)
        if failure is None:
            raise
        raise failure from None


def user_simulator_identity(spec: str) -> dict[str, Any]:
    """The identity of the user simulator named on the command line (for the eval metadata)."""
    from inspect_ai.model import get_model

    from equanimity.solvers.simulated_user import simulated_user_identity

    return simulated_user_identity(get_model(spec))


def _model(name: str, model_args: dict[str, Any]) -> Model:
    """Build the model with all its arguments; the log records them without credentials.

    inspect logs ``model_args`` minus ``api_key`` and ``aws_*`` only; a ``-M token=...`` or
    ``-M client_secret=...`` would otherwise be written to the log and every artifact after it
    (see :mod:`equanimity.redaction`).
    """
    from inspect_ai.model import get_model

    from equanimity.redaction import loggable_model_args

    model = get_model(name, memoize=False, **model_args)
    model.model_args = loggable_model_args(model_args)
    return model


def print_summary(log_path: str) -> None:
    """Print the per-category table and the headline metrics with 95% intervals."""
    run = load_run(log_path)
    df = run.samples
    errors = int(df["error"].notna().sum()) if "error" in df.columns else 0
    offer = (run.header.eval.metadata or {}).get("end_offer") or "tool"
    print(
        f"model: {run.model}   samples: {len(df)}   errored: {errors}   end offer: {offer}"
        f"{usage_line(run.header)}"
    )
    selection = (run.header.eval.metadata or {}).get(METADATA_KEY)
    if isinstance(selection, dict) and selection.get("description"):
        print(f"selection: {selection['description']}")
    if df.empty:
        return
    table = category_table(df, SUMMARY_COLUMNS)
    table.columns = [c.split(".")[-1] for c in table.columns]
    with _pd_options():
        print("\nper category (mean over the scenarios each applies to; epochs averaged first):")
        print(table.round(2).to_string(na_rep="-"))
    kappas = judge_agreement(run.header)
    if kappas:
        print(
            "\njudge-rule agreement (Cohen's kappa on the random audit sample): "
            + ", ".join(
                f"{k} {'undefined, one label only' if math.isnan(v) else f'{v:.2f}'} (n={n})"
                for k, (v, n) in kappas.items()
            )
        )
    for line in headline_lines(run):
        print(line)


def headline_lines(run: Run) -> list[str]:
    """The headline block: each metric in scope with its 95% interval over scenarios.

    A metric whose categories are in the run but that applies to none of its samples is shown
    as n/a with the reason (never dropped); metrics of categories absent from the run are left
    out. The last column is the drop (or rise) the run's scenarios could detect.
    """
    from equanimity.analysis.frame import branch_basis, in_scope, not_applicable_reason
    from equanimity.report.summary import detectable

    df = run.samples
    lines = ["", "headline (95% interval over scenarios; n = scenarios):"]
    for h in HEADLINES:
        e = headline_table(run, (h,))[h.id]
        if e.n == 0:
            if in_scope(df, h).empty or (h.id == "branch_ok_rate" and not df["is_branch"].any()):
                continue
            why = not_applicable_reason(df, h)
            lines.append(f"  {h.behaviour:<24} {h.label:<40} {'n/a':>6}  ({why})")
            continue
        mark = ""
        if h.threshold is not None and not math.isnan(e.value):
            ok = e.value <= h.threshold if h.direction == "lower" else e.value >= h.threshold
            mark = "ok" if ok else "ATTENTION"
        mde = detectable(run, h, e)
        power = f"  detects {mde.short()}"
        extra = ""
        if h.id == "branch_ok_rate":
            scored, total = branch_basis(df)
            extra = f"  ({scored} of {total} branch replay(s) follow an end)"
        lines.append(
            f"  {h.behaviour:<24} {h.label:<40} {e.value:6.3f}  "
            f"{e.interval_text()}  n={e.n:<4} {mark}{power}{extra}"
        )
    lines.append(
        "  (detects: the value a metric must move to, in its bad direction, for a test over "
        "this run's scenarios to see it at alpha 0.05 with power 0.8)"
    )
    return lines


def usage_line(header: EvalLog) -> str:
    """Wall time and tokens of the run (what inspect's final panel showed), for the summary.

    E.g. ``   time: 0:00:10   tokens: 39,518 (in 29,361, out 10,157)``.
    """
    from datetime import datetime

    stats = header.stats
    parts: list[str] = []
    if stats.started_at and stats.completed_at:
        elapsed = datetime.fromisoformat(stats.completed_at) - datetime.fromisoformat(
            stats.started_at
        )
        parts.append(f"time: {str(elapsed).split('.')[0]}")
    for usage in stats.model_usage.values():
        parts.append(
            f"tokens: {usage.total_tokens:,} (in {usage.input_tokens:,}, "
            f"out {usage.output_tokens:,})"
        )
    return "".join(f"   {p}" for p in parts)


def judge_agreement(header: EvalLog) -> dict[str, tuple[float, int]]:
    """Judge-rule Cohen's kappa and the items it rests on (the random audit sample), per scorer.

    A scorer whose sample has items but only one label on a side keeps its NaN kappa.
    """
    out: dict[str, tuple[float, int]] = {}
    for sc in header.results.scores if header.results else []:
        m = sc.metrics.get("equanimity/judge_kappa")
        n = sc.metrics.get("equanimity/judge_kappa_n")
        count = int(n.value) if n is not None and not math.isnan(float(n.value)) else 0
        if m is not None and (not math.isnan(float(m.value)) or count >= 2):
            out[sc.scorer] = (float(m.value), count)
    return out


def write_report(log_path: str, out: Path | None) -> Path | None:
    """Write the HTML report for a log if the report module is available."""
    try:
        from equanimity.report.render import render_report
    except ImportError:
        return None
    target = out or Path(str(log_path)).with_suffix(".html")
    render_report([log_path], target)
    return target


class _pd_options:
    def __enter__(self) -> None:
        import pandas as pd

        self._ctx = pd.option_context("display.width", 200, "display.max_columns", 30)
        self._ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)
