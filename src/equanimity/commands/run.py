"""``equanimity run``: replay the scenario suites through inspect and summarise the result."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_ai.log import EvalLog

from equanimity.analysis.frame import category_table, headline_table, load_run
from equanimity.analysis.headline import HEADLINES
from equanimity.paths import default_results_dir

if TYPE_CHECKING:
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
    p.add_argument("--suite", nargs="+", metavar="CATEGORY", help="only these categories")
    p.add_argument("--scenarios", nargs="+", type=Path, help="scenario files or folders")
    p.add_argument("--limit", type=int, help="at most N samples")
    p.add_argument("--epochs", type=int, default=1, help="repeat each sample K times")
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
    from inspect_ai import eval as inspect_eval
    from inspect_ai import eval_set

    from equanimity.tasks import EVAL_DEFAULTS, build_task, quiet_display

    task = build_task(
        categories=args.suite,
        scenarios=[str(p) for p in args.scenarios] if args.scenarios else None,
        branches=not args.no_branches,
    )
    common: dict[str, Any] = dict(
        EVAL_DEFAULTS,
        score_display=True if args.live_metrics else EVAL_DEFAULTS["score_display"],
        model=_model(args.model, _kv(args.model_arg, "model argument")),
        model_roles=_kv(args.model_role, "model role") or None,
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
    if args.resume:
        _, logs = eval_set([task], log_dir=str(args.log_dir), **common)
    else:
        logs = inspect_eval(task, log_dir=str(args.log_dir), **common)
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
        if log.status != "success":
            code = 2
            if log.error is not None:
                print(f"error: {log.error.message}", file=sys.stderr)
        print_summary(log.location)
        if not args.no_report:
            report_path = write_report(log.location, args.report)
            if report_path:
                print(f"report: {report_path}")
    return code


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
    print(f"model: {run.model}   samples: {len(df)}   errored: {errors}")
    if df.empty:
        return
    table = category_table(df, SUMMARY_COLUMNS)
    table.columns = [c.split(".")[-1] for c in table.columns]
    with _pd_options():
        print("\nper category (rate over the samples each applies to):")
        print(table.round(2).to_string(na_rep="-"))
    kappas = judge_agreement(run.header)
    if kappas:
        print(
            "\njudge-rule agreement (Cohen's kappa): "
            + ", ".join(f"{k} {v:.2f}" for k, v in kappas.items())
        )
    print("\nheadline (95% interval):")
    for h in HEADLINES:
        e = headline_table(run, (h,))[h.id]
        if e.n == 0:
            continue
        mark = ""
        if h.threshold is not None and not math.isnan(e.value):
            ok = e.value <= h.threshold if h.direction == "lower" else e.value >= h.threshold
            mark = "ok" if ok else "ATTENTION"
        print(
            f"  {h.behaviour:<24} {h.label:<40} {e.value:6.3f}  "
            f"[{e.low:.3f}, {e.high:.3f}]  n={e.n:<4} {mark}"
        )


def judge_agreement(header: EvalLog) -> dict[str, float]:
    """Cohen's kappa between the judge and the rule layer, per scorer (when a grader judged)."""
    out: dict[str, float] = {}
    for sc in header.results.scores if header.results else []:
        m = sc.metrics.get("equanimity/judge_kappa")
        if m is not None and not math.isnan(float(m.value)):
            out[sc.scorer] = float(m.value)
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
