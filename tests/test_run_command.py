"""`equanimity run` eval options: what it passes to inspect and records in the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from equanimity.cli import main


@pytest.mark.parametrize(("flags", "expected"), [([], False), (["--live-metrics"], True)])
def test_live_metrics_are_off_unless_asked(
    tmp_path: Path, flags: list[str], expected: bool
) -> None:
    code = main(
        [
            "run",
            "--model",
            "equanimity/steady",
            "--suite",
            "explicit_end_request",
            "--no-branches",
            "--limit",
            "2",
            "--log-dir",
            str(tmp_path),
            "--no-report",
            "--display",
            "none",
            *flags,
        ]
    )
    assert code == 0
    [log_file] = tmp_path.glob("*.eval")
    log = read_eval_log(str(log_file), header_only=True)
    assert log.eval.config.score_display is expected
    assert log.results is not None and log.results.scores  # final metrics are computed anyway


@pytest.mark.parametrize("rate", ["-0.1", "1.5"])
def test_an_audit_rate_outside_0_1_is_refused(
    tmp_path: Path, rate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--model", "equanimity/steady", "--audit-rate", rate, "--log-dir", str(tmp_path)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--audit-rate must be between 0 and 1" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.eval"))  # nothing ran


def test_an_undefined_kappa_is_kept_not_hidden() -> None:
    import math
    from types import SimpleNamespace
    from typing import Any, cast

    from inspect_ai.log import EvalLog

    from equanimity.commands.run import judge_agreement

    def scorer(name: str, kappa: float, n: float) -> Any:
        metrics = {
            "equanimity/judge_kappa": SimpleNamespace(value=kappa),
            "equanimity/judge_kappa_n": SimpleNamespace(value=n),
        }
        return SimpleNamespace(scorer=name, metrics=metrics)

    scores = [
        scorer("referral", math.nan, 12),
        scorer("refusal", 0.5, 30),
        scorer("x", math.nan, 0),
    ]
    header = cast(EvalLog, SimpleNamespace(results=SimpleNamespace(scores=scores)))
    out = judge_agreement(header)
    assert set(out) == {"referral", "refusal"}  # no sample at all: nothing to say
    assert math.isnan(out["referral"][0]) and out["referral"][1] == 12
    assert out["refusal"] == (0.5, 30)
