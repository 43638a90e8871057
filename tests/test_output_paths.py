"""`report`, `compare` and `history` write next to their log and never replace a file silently.

As `rescore` does: an existing output is an error (exit 2) naming it, unless `--overwrite`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from equanimity.cli import main

REPO = Path(__file__).resolve().parent.parent
STEADY = REPO / "results" / "baselines" / "steady.eval"


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with two copies of the committed baseline log; cwd has a main-job report."""
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(STEADY, folder / "A.eval")
    shutil.copy(STEADY, folder / "B.eval")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "report.html").write_text("the main job's report")
    return folder


def test_report_writes_next_to_the_log(logs: Path) -> None:
    assert main(["report", str(logs / "A.eval")]) == 0
    assert (logs / "A.html").is_file()
    assert Path("results/report.html").read_text() == "the main job's report"


def test_report_refuses_to_replace_a_file(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (logs / "A.html").write_text("earlier")
    assert main(["report", str(logs / "A.eval")]) == 2
    err = capsys.readouterr().err
    assert f"{logs / 'A.html'} already exists; pass --overwrite" in err
    assert (logs / "A.html").read_text() == "earlier"
    assert main(["report", str(logs / "A.eval"), "-o", "results/report.html"]) == 2
    assert Path("results/report.html").read_text() == "the main job's report"
    assert main(["report", str(logs / "A.eval"), "--overwrite"]) == 0
    assert (logs / "A.html").read_text() != "earlier"


def test_report_of_a_folder_or_several_logs(logs: Path) -> None:
    assert main(["report", str(logs)]) == 0
    assert (logs / "report.html").is_file()
    assert main(["report", str(logs / "A.eval"), str(logs / "B.eval")]) == 2  # same default
    assert main(["report", str(logs / "A.eval"), str(logs / "B.eval"), "-o", "ab.html"]) == 0


def test_compare_writes_next_to_the_candidate_and_refuses_to_replace(logs: Path) -> None:
    assert main(["compare", str(logs / "A.eval"), str(logs / "B.eval")]) == 0
    out = logs / "B-compare.html"
    assert out.is_file()
    before = out.stat().st_mtime_ns
    assert main(["compare", str(logs / "A.eval"), str(logs / "B.eval")]) == 2
    assert out.stat().st_mtime_ns == before
    assert main(["compare", str(logs / "A.eval"), str(logs / "B.eval"), "--overwrite"]) == 0


def test_history_writes_into_the_folder_and_refuses_to_replace(logs: Path) -> None:
    assert main(["history", str(logs)]) == 0
    assert (logs / "history.html").is_file()
    assert main(["history", str(logs)]) == 2
    assert main(["history", str(logs), "--overwrite"]) == 0
