"""A re-scored log says so in its metadata, and `history` counts its run once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from equanimity.cli import main
from equanimity.compare.history import load_history
from equanimity.rescore import RESCORE_METADATA_KEY, rescore_of

REPO = Path(__file__).resolve().parent.parent
STEADY = REPO / "results" / "baselines" / "steady.eval"


def test_rescore_is_recorded_and_history_skips_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    original = logs / "run.eval"
    shutil.copy(STEADY, original)
    rescored = logs / "run-rescored.eval"
    assert main(["rescore", str(original), "-o", str(rescored), "--workers", "1"]) == 0
    header = read_eval_log(str(rescored), header_only=True)
    mark = (header.eval.metadata or {})[RESCORE_METADATA_KEY]
    assert mark["source"] == "run.eval" and "end_chat" in mark["scorers"]
    assert rescore_of(header) == "run.eval"
    assert rescore_of(read_eval_log(str(original), header_only=True)) is None

    history = load_history(logs)
    assert [Path(e.run.path).name for e in history.entries] == ["run.eval"]
    assert any("run-rescored.eval: a re-scoring of run.eval" in s for s in history.skipped)
    assert main(["history", str(logs)]) == 0
    assert "runs: 1 " in capsys.readouterr().out


def test_readme_inspect_examples_use_one_log_dir() -> None:
    """`inspect eval` examples name the folder the `inspect view` example shows."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    views = set(re.findall(r"inspect view --log-dir (\S+)", text))
    evals = [ln for ln in text.splitlines() if re.search(r"^\s*inspect eval ", ln)]
    assert views and evals
    for line in evals:
        found = re.search(r"--log-dir (\S+)", line)
        assert found and found.group(1) in views, line
