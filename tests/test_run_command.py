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
