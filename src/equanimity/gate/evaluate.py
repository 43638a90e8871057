"""Evaluate a gate policy on a run (and optionally against a baseline run)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from equanimity.analysis.frame import (
    Estimate,
    Run,
    estimate_headline,
    headline_scenarios,
    load_run,
)
from equanimity.analysis.headline import HEADLINE_BY_ID, Headline
from equanimity.analysis.power import Detectable, mean_mde, rate_mde, worse_direction
from equanimity.compare.metrics import compare_metric
from equanimity.compare.pairing import Pairing, PairingError, pair_runs
from equanimity.compare.stats import PairedResult
from equanimity.gate.policy import Policy, Rule
from equanimity.provenance import scorer_change

Status = Literal["pass", "fail", "error"]
RuleStatus = Literal["pass", "fail", "error", "skip"]

EXIT_CODES: dict[Status, int] = {"pass": 0, "fail": 1, "error": 2}
"""Process exit code of each gate outcome (a skipped rule does not count)."""

_EPS = 1e-9


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule."""

    rule: Rule
    """The rule."""
    status: RuleStatus
    """pass, fail, error (could not be evaluated), or skip (its categories are not in the
    run, and the rule or ``--only-present`` says to skip it)."""
    reason: str
    """Why, in one line."""
    estimate: Estimate | None = None
    """The metric's value and 95% interval on the run (None when not computed)."""
    comparison: PairedResult | None = None
    """The paired comparison against the baseline (no_regression rules)."""
    detectable: Detectable | None = None
    """The smallest change the rule could detect (alpha 0.05, power 0.8)."""


@dataclass
class GateResult:
    """Every rule's outcome, and the overall verdict."""

    policy: Policy
    """The policy evaluated."""
    policy_path: str
    """Where the policy came from."""
    log: str
    """The candidate log."""
    baseline: str | None
    """The baseline log, if any."""
    results: list[RuleResult] = field(default_factory=list)
    """One result per rule, in policy order."""
    run_error: str | None = None
    """A problem with the log itself (every rule then errors with it)."""
    baseline_error: str | None = None
    """A problem with the ``--baseline`` log given (the gate then errors)."""
    scorer_warning: str | None = None
    """How the baseline's scorers differ from the run's, when allowed (shown first)."""

    @property
    def skipped(self) -> list[RuleResult]:
        """Rules skipped because their categories are absent from the run."""
        return [r for r in self.results if r.status == "skip"]

    @property
    def status(self) -> Status:
        """Error if anything errored or every rule was skipped; else fail or pass."""
        statuses = {r.status for r in self.results} - {"skip"}
        if self.run_error or self.baseline_error or "error" in statuses or not statuses:
            return "error"
        return "fail" if "fail" in statuses else "pass"

    @property
    def exit_code(self) -> int:
        """0 pass, 1 a rule failed, 2 error."""
        return EXIT_CODES[self.status]


def _run_problem(run: Run, what: str) -> str | None:
    if run.status != "success":
        return f"{run.path}: {what} log status is '{run.status}', not 'success'"
    df = run.samples
    if df.empty:
        return f"{run.path}: {what} log has no samples"
    if df["error"].notna().all():
        return f"{run.path}: every {what} sample errored ({len(df)})"
    return None


def _fmt_est(e: Estimate) -> str:
    return f"{e.value:.3f} (95% CI {e.interval_text()}, n={e.n} scenarios)"


def _threshold(rule: Rule, e: Estimate) -> tuple[Status, str]:
    tested = {"point": e.value, "upper": e.high, "lower": e.low}[rule.bound]
    if math.isnan(tested):
        return ("error", f"no {rule.bound} bound to test: 95% CI {e.interval_text()}")
    if rule.max is not None:
        ok = tested <= rule.max + _EPS
        op = "<=" if ok else ">"
        return (
            "pass" if ok else "fail",
            f"{rule.bound} {tested:.3f} {op} max {rule.max:g}; value {_fmt_est(e)}",
        )
    if rule.min is not None:
        ok = tested >= rule.min - _EPS
        op = ">=" if ok else "<"
        return (
            "pass" if ok else "fail",
            f"{rule.bound} {tested:.3f} {op} min {rule.min:g}; value {_fmt_est(e)}",
        )
    return ("pass", f"value {_fmt_est(e)}")


def _power(rule: Rule, d: Detectable) -> tuple[Status, str]:
    """The power statement of a rule, and whether it meets the rule's ``max_mde``."""
    subject = "this comparison with the baseline" if d.design == "two-sample" else "this run"
    text = d.sentence(subject, rule.metric)
    if rule.max_mde is None:
        return ("pass", text)
    if math.isnan(d.diff):
        return ("error", f"max_mde {rule.max_mde:g} cannot be checked: {text}")
    if d.diff > rule.max_mde + _EPS:
        return (
            "error",
            f"too few scenarios for max_mde {rule.max_mde:g}: {text} "
            f"(a difference of {d.diff:.3f}); run more scenarios",
        )
    return ("pass", f"{text} (within max_mde {rule.max_mde:g})")


def _regression(
    rule: Rule, pairing: Pairing
) -> tuple[Status, str, PairedResult | None, Detectable | None]:
    assert rule.no_regression is not None
    alpha = rule.no_regression.alpha
    h = HEADLINE_BY_ID[rule.metric]
    cat = rule.category.value if rule.category else None
    mc = compare_metric(pairing, h, cat, alpha)
    r = mc.result
    if r.n == 0:
        return (
            "error",
            "no scenario where the metric applies in both the baseline and the run",
            r,
            None,
        )
    detail = (
        f"baseline {r.baseline:.3f} → {r.candidate:.3f}, Δ {r.diff:+.3f} "
        f"{r.interval_text()}, p={r.pvalue:.3g} ({r.test}, n={r.n} scenarios)"
    )
    if mc.verdict == "regression":
        return ("fail", f"significant regression against the baseline: {detail}", r, mc.detectable)
    return ("pass", f"no significant regression (alpha {alpha:g}): {detail}", r, mc.detectable)


def rule_categories(rule: Rule) -> frozenset[str] | None:
    """The categories a rule covers (None: any category)."""
    if rule.category is not None:
        return frozenset({rule.category.value})
    return HEADLINE_BY_ID[rule.metric].applies_in


def absent(rule: Rule, run: Run) -> str | None:
    """Why the rule's categories are absent from the run (None when some sample is in them).

    Every sample counts, errored or not: a category whose samples all errored is present (and
    its rule errors), so a run that lost a category is never waved through.
    """
    df = run.samples
    h = HEADLINE_BY_ID[rule.metric]
    cats = rule_categories(rule)
    scope = df if cats is None else df[df["category"].isin(cats)]
    if h.id == "branch_ok_rate":
        scope = scope[scope["is_branch"].astype(bool)]
        if scope.empty:
            return "no branch replay in the run"
    if not scope.empty:
        return None
    return f"no sample of {', '.join(sorted(cats or ()))} in the run"


def evaluate_rule(
    rule: Rule,
    run: Run,
    pairing: Pairing | None,
    baseline_problem: str | None,
    only_present: bool = False,
) -> RuleResult:
    """Evaluate one rule on a (healthy) run; ``pairing`` is needed by no_regression rules.

    A rule whose categories are absent from the run is skipped when it says
    ``when_absent: skip`` (or ``only_present`` and it does not say ``error``), else errors.
    """
    h = HEADLINE_BY_ID[rule.metric]
    df = run.samples
    missing = absent(rule, run)
    if missing is not None:
        skip = rule.when_absent == "skip" or (only_present and rule.when_absent is None)
        if skip:
            how = "--only-present" if rule.when_absent is None else "when_absent: skip"
            return RuleResult(rule, "skip", f"skipped ({how}): {missing}")
        hint = "" if rule.when_absent == "error" else " (gate --only-present skips such rules)"
        return RuleResult(rule, "error", f"{missing}: the rule's categories were not run{hint}")
    if h.column not in df.columns:
        return RuleResult(
            rule,
            "error",
            f"metric '{rule.metric}' is missing from the log "
            f"(no '{h.column}' score: was its scorer run?)",
        )
    sub = df if rule.category is None else df[df["category"] == rule.category.value]
    e = estimate_headline(sub, h)
    if e.n == 0:
        where = f" in category '{rule.category.value}'" if rule.category else ""
        scope = sub if h.categories is None else sub[sub["category"].isin(h.categories)]
        errored = int(scope["error"].notna().sum())
        return RuleResult(
            rule,
            "error",
            f"no applicable, non-errored samples for '{rule.metric}'{where} "
            f"({len(scope)} sample(s) in scope, {errored} errored, the rest "
            "not scored for this metric)",
        )
    if e.n < rule.min_samples:
        return RuleResult(
            rule,
            "error",
            f"only {e.n} applicable scenario(s), the rule needs min_samples {rule.min_samples}",
            e,
        )
    status, reason = _threshold(rule, e)
    comparison = None
    order: dict[Status, int] = {"pass": 0, "fail": 1, "error": 2}
    detectable = detectable_in_run(h, e, sub)
    if rule.no_regression is not None:
        if pairing is None:
            return RuleResult(rule, "error", baseline_problem or "no baseline", e)
        rstatus, rreason, comparison, paired = _regression(rule, pairing)
        detectable = paired or detectable
        if rule.max is None and rule.min is None:
            status, reason = rstatus, rreason
        else:
            status = max(status, rstatus, key=lambda s: order[s])
            reason = f"{reason}; {rreason}"
    pstatus, preason = _power(rule, detectable)
    status = max(status, pstatus, key=lambda s: order[s])
    return RuleResult(rule, status, f"{reason}; {preason}", e, comparison, detectable)


def detectable_in_run(h: Headline, e: Estimate, sub: pd.DataFrame) -> Detectable:
    """The change from the run's value its scenarios could detect (one-sample design)."""
    worse = worse_direction(h.direction)
    if h.kind == "rate":
        return rate_mde(e.value, e.n, worse)
    return mean_mde(e.value, headline_scenarios(sub, h).tolist(), worse)


def evaluate_gate(
    policy: Policy,
    log: str | Path,
    baseline: str | Path | None = None,
    policy_path: str = "",
    allow_scorer_change: bool = False,
    only_present: bool = False,
) -> GateResult:
    """Evaluate every rule of ``policy`` on the run in ``log`` (against ``baseline``).

    A baseline scored differently from the run (see :mod:`equanimity.provenance`) is an error
    unless ``allow_scorer_change``, in which case :attr:`GateResult.scorer_warning` says how.
    """
    result = GateResult(policy, policy_path, str(log), str(baseline) if baseline else None)
    try:
        run = load_run(log)
    except ValueError as exc:
        return _all_error(result, str(exc))
    problem = _run_problem(run, "run")
    if problem:
        return _all_error(result, problem)
    pairing: Pairing | None = None
    baseline_problem: str | None = None
    if baseline is None:
        baseline_problem = (
            "this rule compares against a baseline: pass --baseline LOG "
            "(or drop no_regression from the rule)"
        )
    else:
        try:
            base_run = load_run(baseline)
            baseline_problem = _run_problem(base_run, "baseline")
            if baseline_problem is None:
                change = scorer_change(
                    base_run.header.eval.metadata, run.header.eval.metadata, base_run.path, run.path
                )
                if change and not allow_scorer_change:
                    baseline_problem = (
                        f"baseline {baseline}: {change}; or pass --allow-scorer-change"
                    )
                result.scorer_warning = change if allow_scorer_change else None
            if baseline_problem is None and policy.needs_baseline:
                pairing = pair_runs(base_run, run, policy.intersection)
        except PairingError as exc:
            baseline_problem = f"baseline {baseline}: {exc}"
        except ValueError as exc:
            baseline_problem = str(exc)
        if baseline_problem is None and not policy.needs_baseline:
            baseline_problem = unused_baseline(baseline, policy, policy_path)
        result.baseline_error = baseline_problem
    result.results = [
        evaluate_rule(r, run, pairing, baseline_problem, only_present) for r in policy.rules
    ]
    return result


BASELINE_POLICY = Path("results") / "baselines" / "policy.yaml"
"""The example policy with no_regression rules (the default rules plus a baseline check)."""


def unused_baseline(baseline: str | Path, policy: Policy, policy_path: str) -> str:
    """The error for a ``--baseline`` that no rule of the policy compares against.

    Without it the gate would pass or fail on thresholds alone while the command line says
    it checked for regressions (as ``--policy default --baseline X`` did).
    """
    where = f" ({policy_path})" if policy_path else ""
    suggestion = (
        f"--policy {BASELINE_POLICY} (the default rules, each with no_regression)"
        if BASELINE_POLICY.is_file()
        else "a policy whose rules have no_regression: {alpha: 0.05}"
    )
    return (
        f"--baseline {baseline} is not used: policy '{policy.name}'{where} has no "
        f"no_regression rule, so no regression check would run; use {suggestion}, "
        "or drop --baseline"
    )


def _all_error(result: GateResult, message: str) -> GateResult:
    result.run_error = message
    result.results = [RuleResult(r, "error", message) for r in result.policy.rules]
    return result
