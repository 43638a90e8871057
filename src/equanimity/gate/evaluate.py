"""Evaluate a gate policy on a run (and optionally against a baseline run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from equanimity.analysis.frame import Estimate, Run, estimate, headline_values, load_run
from equanimity.analysis.headline import HEADLINE_BY_ID
from equanimity.compare.metrics import compare_metric
from equanimity.compare.pairing import Pairing, PairingError, pair_runs
from equanimity.compare.stats import PairedResult
from equanimity.gate.policy import Policy, Rule

Status = Literal["pass", "fail", "error"]

EXIT_CODES: dict[Status, int] = {"pass": 0, "fail": 1, "error": 2}
"""Process exit code of each gate outcome."""

_EPS = 1e-9


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule."""

    rule: Rule
    """The rule."""
    status: Status
    """pass, fail, or error (could not be evaluated)."""
    reason: str
    """Why, in one line."""
    estimate: Estimate | None = None
    """The metric's value and 95% interval on the run (None when not computed)."""
    comparison: PairedResult | None = None
    """The paired comparison against the baseline (no_regression rules)."""


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

    @property
    def status(self) -> Status:
        """Error if anything errored, else fail if any rule failed, else pass."""
        statuses = {r.status for r in self.results}
        if self.run_error or self.baseline_error or "error" in statuses or not self.results:
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
    return f"{e.value:.3f} (95% CI [{e.low:.3f}, {e.high:.3f}], n={e.n})"


def _threshold(rule: Rule, e: Estimate) -> tuple[Status, str]:
    tested = {"point": e.value, "upper": e.high, "lower": e.low}[rule.bound]
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


def _regression(rule: Rule, pairing: Pairing) -> tuple[Status, str, PairedResult | None]:
    assert rule.no_regression is not None
    alpha = rule.no_regression.alpha
    h = HEADLINE_BY_ID[rule.metric]
    cat = rule.category.value if rule.category else None
    mc = compare_metric(pairing, h, cat, alpha)
    r = mc.result
    if r.n == 0:
        return ("error", "no sample where the metric applies in both the baseline and the run", r)
    detail = (
        f"baseline {r.baseline:.3f} → {r.candidate:.3f}, Δ {r.diff:+.3f} "
        f"[{r.low:+.3f}, {r.high:+.3f}], p={r.pvalue:.3g} ({r.test}, n={r.n})"
    )
    if mc.verdict == "regression":
        return ("fail", f"significant regression against the baseline: {detail}", r)
    return ("pass", f"no significant regression (alpha {alpha:g}): {detail}", r)


def evaluate_rule(
    rule: Rule, run: Run, pairing: Pairing | None, baseline_problem: str | None
) -> RuleResult:
    """Evaluate one rule on a (healthy) run; ``pairing`` is needed by no_regression rules."""
    h = HEADLINE_BY_ID[rule.metric]
    df = run.samples
    if h.column not in df.columns:
        return RuleResult(
            rule,
            "error",
            f"metric '{rule.metric}' is missing from the log "
            f"(no '{h.column}' score: was its scorer run?)",
        )
    sub = df if rule.category is None else df[df["category"] == rule.category.value]
    e = estimate(headline_values(sub, h))
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
            f"only {e.n} applicable sample(s), the rule needs min_samples {rule.min_samples}",
            e,
        )
    status, reason = _threshold(rule, e)
    comparison = None
    if rule.no_regression is not None:
        if pairing is None:
            return RuleResult(rule, "error", baseline_problem or "no baseline", e)
        rstatus, rreason, comparison = _regression(rule, pairing)
        if rule.max is None and rule.min is None:
            status, reason = rstatus, rreason
        else:
            order: dict[Status, int] = {"pass": 0, "fail": 1, "error": 2}
            status = max(status, rstatus, key=lambda s: order[s])
            reason = f"{reason}; {rreason}"
    return RuleResult(rule, status, reason, e, comparison)


def evaluate_gate(
    policy: Policy, log: str | Path, baseline: str | Path | None = None, policy_path: str = ""
) -> GateResult:
    """Evaluate every rule of ``policy`` on the run in ``log`` (against ``baseline``)."""
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
            if baseline_problem is None and policy.needs_baseline:
                pairing = pair_runs(base_run, run, policy.intersection)
        except PairingError as exc:
            baseline_problem = f"baseline {baseline}: {exc}"
        except ValueError as exc:
            baseline_problem = str(exc)
        if baseline_problem is None and not policy.needs_baseline:
            baseline_problem = unused_baseline(baseline, policy, policy_path)
        result.baseline_error = baseline_problem
    result.results = [evaluate_rule(r, run, pairing, baseline_problem) for r in policy.rules]
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
