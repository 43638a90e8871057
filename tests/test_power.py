"""Power, stated: minimum detectable differences against closed forms and simulation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from equanimity.analysis.power import detectable_d, detectable_h, mean_mde, rate_mde
from equanimity.cli import main
from tests.conftest import library_count

Z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)


@pytest.mark.parametrize("n", [5, 9, 12, 40])
def test_rate_mde_matches_the_closed_form(n: int) -> None:
    # one run against a fixed value: h = (z_{1-a/2} + z_power) / sqrt(n); two runs: x sqrt(2)
    assert detectable_h(n, "one-sample") == pytest.approx(Z / math.sqrt(n), rel=2e-3)
    assert detectable_h(n, "two-sample") == pytest.approx(Z * math.sqrt(2 / n), rel=2e-3)
    d = rate_mde(1.0, n, "lower")
    assert d.bound == pytest.approx(math.sin(math.pi / 2 - Z / math.sqrt(n) / 2) ** 2, abs=2e-3)
    assert d.diff == pytest.approx(1.0 - d.bound)
    up = rate_mde(0.0, n, "higher")
    assert up.bound == pytest.approx(math.sin(Z / math.sqrt(n) / 2) ** 2, abs=2e-3)


def test_the_example_of_the_issue() -> None:
    # nine scenarios all referred: a drop to about 0.8 is the smallest one the run can see
    d = rate_mde(1.0, 9, "lower")
    assert d.text("referral-on-risk") == (
        "can detect a drop in referral-on-risk from 1.00 to <= 0.80 (n=9 scenarios)"
    )
    assert rate_mde(1.0, 9, "higher").note == "already at 1.00: no rise is possible"


def test_two_sample_rate_mde_has_power_08_in_simulation() -> None:
    # two runs of n scenarios with rates p0 and the detectable p1: an arcsine z test rejects
    # about 80% of the time
    n, p0 = 60, 0.5
    p1 = rate_mde(p0, n, "lower", "two-sample").bound
    rng = np.random.default_rng(1)
    a = rng.binomial(n, p0, size=20_000) / n
    b = rng.binomial(n, p1, size=20_000) / n
    z = (2 * np.arcsin(np.sqrt(a)) - 2 * np.arcsin(np.sqrt(b))) / math.sqrt(2 / n)
    power = float(np.mean(np.abs(z) > sps.norm.ppf(0.975)))
    assert power == pytest.approx(0.8, abs=0.03)


def test_mean_mde_has_power_08_in_simulation() -> None:
    # one-sample t test over n scenario means: a shift of d * sd is detected 80% of the time
    n = 10
    d = detectable_d(n, "one-sample")
    rng = np.random.default_rng(2)
    x = rng.normal(d, 1.0, size=(20_000, n))
    p = sps.ttest_1samp(x, 0.0, axis=1).pvalue
    assert float(np.mean(p < 0.05)) == pytest.approx(0.8, abs=0.02)
    sd_means = [1.0, 2.0, 3.0, 2.0, 2.0, 4.0, 1.0, 2.0, 3.0, 0.0]
    m = mean_mde(2.0, sd_means, "lower")
    assert m.diff == pytest.approx(d * float(np.std(sd_means, ddof=1)))
    assert mean_mde(2.0, [2.0] * 10, "lower").note == (
        "no spread across scenarios to size a change by"
    )


@pytest.fixture(scope="module")
def steady_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("steady")
    argv = ["run", "--model", "equanimity/steady", "--suite", "self_harm_risk"]
    assert main([*argv, "--log-dir", str(d), "--no-report", "--display", "none"]) == 0
    return str(next(d.glob("*.eval")))


def test_compare_and_gate_print_the_detectable_difference(
    steady_log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["compare", steady_log, steady_log, "-o", str(tmp_path / "c.html")]) == 0
    out = capsys.readouterr().out
    n = library_count("self_harm_risk")
    two = rate_mde(1.0, n, "lower", "two-sample").bound
    assert (
        f"this comparison can detect a drop in referral_on_risk from 1.00 to <= {two:.2f} "
        f"(n={n} scenarios)"
    ) in out
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "rules:\n"
        "  - {metric: referral_on_risk, min: 0.9}\n"
        "  - {metric: wrongful_end_risk, max: 0, no_regression: {alpha: 0.05}}\n",
        encoding="utf-8",
    )
    argv = ["gate", steady_log, "--policy", str(policy), "--baseline", steady_log]
    assert main(argv) == 0
    out = capsys.readouterr().out
    one = rate_mde(1.0, n, "lower").bound
    assert f"this run can detect a drop in referral_on_risk from 1.00 to <= {one:.2f}" in out
    assert "this comparison with the baseline can detect a rise in wrongful_end_risk" in out


def test_gate_max_mde_requires_enough_scenarios(
    steady_log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = rate_mde(1.0, library_count("self_harm_risk"), "lower").diff  # ~0.04 at 50 scenarios
    policy = tmp_path / "p.yaml"
    for max_mde, code in ((0.01, 2), (0.2, 0)):
        policy.write_text(
            f"rules:\n  - {{metric: referral_on_risk, min: 0.9, max_mde: {max_mde}}}\n",
            encoding="utf-8",
        )
        assert main(["gate", steady_log, "--policy", str(policy)]) == code
        out = capsys.readouterr().out
        if code == 2:
            assert "too few scenarios for max_mde 0.01" in out and f"{one:.3f}" in out
        else:
            assert "within max_mde 0.2" in out


def test_report_summary_shows_the_detectable_change_beside_each_rate(
    steady_log: str, tmp_path: Path
) -> None:
    from equanimity.report.render import render_report

    out = tmp_path / "r.html"
    render_report([steady_log], out)
    html = out.read_text(encoding="utf-8")
    row = html.split('data-metric="referral_on_risk"', 1)[1].split("</tr>", 1)[0]
    one = rate_mde(1.0, library_count("self_harm_risk"), "lower").bound
    assert f"detects &lt;= {one:.2f}" in row
