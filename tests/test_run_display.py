"""`equanimity run` keeps inspect's progress display but not its final metrics panel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("INSPECT_DISPLAY", None)
    args = [sys.executable, "-m", "equanimity.cli", "run", "--model", "equanimity/caver"]
    args += ["--suite", "harmful_persistent", "--limit", "3", "--no-report"]
    args += ["--log-dir", str(tmp_path), *flags]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def test_only_equanimitys_summary_follows_the_progress(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # inspect's progress display is kept ...
    assert "suite (3 samples): equanimity/caver" in out
    assert "Steps:" in out and "Samples:   3/  3" in out
    # ... its final panel (every metric of every scorer, truncated names) is not
    assert "grouped_" not in out and "equanimit…" not in out and "nan" not in out
    assert "total time:" not in out and "hooks enabled" not in out
    # equanimity's own summary carries what that panel had that is worth keeping
    assert "time: 0:00:" in out and "tokens: " in out
    assert "headline (95% interval over scenarios; n = scenarios):" in out
    assert len(out.splitlines()) < 35, out


def test_the_panel_is_hidden_with_the_full_display_too(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--display", "full")
    assert proc.returncode == 0, proc.stderr
    assert "grouped_" not in proc.stdout
    assert "headline (95% interval over scenarios; n = scenarios):" in proc.stdout
