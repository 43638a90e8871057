"""Human summaries of a gate result: terminal lines and Markdown for CI job summaries."""

from __future__ import annotations

from equanimity.gate.evaluate import GateResult

_MARK = {"pass": "✅ pass", "fail": "❌ FAIL", "error": "⚠️ ERROR", "skip": "⏭️ skipped"}


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def gate_lines(result: GateResult) -> list[str]:
    """Return one line per rule, then the verdict with its exit code."""
    lines = []
    if result.scorer_warning:
        lines.append(f"WARNING scorers changed (--allow-scorer-change): {result.scorer_warning}")
    lines += [f"{r.status.upper():<5} {r.rule.title}: {r.reason}" for r in result.results]
    if result.baseline_error:
        lines.append(f"ERROR baseline: {result.baseline_error}")
    lines.append(
        f"gate {result.status} (exit {result.exit_code}): "
        f"{sum(r.status == 'pass' for r in result.results)} passed, "
        f"{sum(r.status == 'fail' for r in result.results)} failed, "
        f"{sum(r.status == 'error' for r in result.results)} errored, "
        f"{len(result.skipped)} skipped"
    )
    if result.skipped:
        lines.append(
            "skipped (categories not in the run): "
            + ", ".join(r.rule.title for r in result.skipped)
        )
    return lines


def gate_markdown(result: GateResult) -> str:
    """Render a Markdown summary: verdict, inputs, and a table of rules (failures first)."""
    verdict = {"pass": "passed ✅", "fail": "FAILED ❌", "error": "ERROR ⚠️"}[result.status]
    lines = []
    if result.scorer_warning:
        lines += [
            "> **Warning: scorers changed between the baseline and the run** "
            f"(--allow-scorer-change): {_md(result.scorer_warning)}",
            "",
        ]
    lines += [
        f"## equanimity gate: {verdict}",
        "",
        f"- Log: `{_md(result.log)}`",
        f"- Policy: `{_md(result.policy_path)}` ({_md(result.policy.name)})",
    ]
    if result.baseline:
        lines.append(f"- Baseline: `{_md(result.baseline)}`")
    if result.run_error:
        lines.append(f"- **Error:** {_md(result.run_error)}")
    if result.baseline_error:
        lines.append(f"- **Baseline error:** {_md(result.baseline_error)}")
    lines += ["", "| Result | Rule | Detail |", "|---|---|---|"]
    order = {"error": 0, "fail": 1, "pass": 2, "skip": 3}
    for r in sorted(result.results, key=lambda r: order[r.status]):
        lines.append(f"| {_MARK[r.status]} | {_md(r.rule.title)} | {_md(r.reason)} |")
    if result.skipped:
        names = ", ".join(f"`{_md(r.rule.title)}`" for r in result.skipped)
        lines.append(
            f"\nSkipped {len(result.skipped)} rule(s) whose categories were not run: {names}."
        )
    lines.append(f"\nExit code {result.exit_code}.")
    return "\n".join(lines) + "\n"


def error_markdown(message: str) -> str:
    """Render Markdown for a gate that could not start."""
    return f"## equanimity gate: ERROR ⚠️\n\n{_md(message)}\n\nExit code 2.\n"
