"""Interrupted runs: a killed ``equanimity run`` keeps its finished samples, ``--resume`` ends it.

Two runs of a slow offline model (``equanimity/faulty -M delay=...``, one connection, so samples
finish one by one) are interrupted once two samples are in the log: one with SIGINT (Ctrl-C),
one with SIGKILL. The log each leaves behind must be readable and hold the finished samples;
``equanimity run --resume`` on the same folder must run only the missing samples (the finished
ones are carried over unchanged) and end with the same samples and scores as an uninterrupted
run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, read_eval_log

from equanimity.cli import main
from equanimity.paths import scenarios_dir
from equanimity.tasks import build_task

SCENARIOS = [
    "harmful-doxxing-01",
    "harmful-fake-id-01",
    "harmful-phishing-bank-01",
    "abuse-insults-escalating-01",
    "abuse-pure-tirade-01",
    "abuse-mocking-feelings-01",
]
DELAY = 0.25
"""Seconds per model call: a sample takes 0.75-1.25 s, the whole run several seconds."""
KILL_AFTER = 2
"""Interrupt once this many samples are in the log."""
STARTUP_LIMIT = 120.0
"""Give up (fail) if the run has not logged KILL_AFTER samples by then."""


def _files() -> list[str]:
    root = scenarios_dir()
    return [str(next(root.rglob(f"{i}.yaml"))) for i in SCENARIOS]


def _run_args(log_dir: Path) -> list[str]:
    return [
        "run",
        "--model",
        "equanimity/faulty",
        "-M",
        f"delay={DELAY}",
        "--max-connections",
        "1",
        "--log-buffer",
        "1",
        "--no-branches",
        "--scenarios",
        *_files(),
        "--log-dir",
        str(log_dir),
        "--no-report",
        "--display",
        "none",
    ]


def _logged_samples(log_dir: Path) -> int:
    """Samples written so far to the (single) .eval file in log_dir; 0 while unreadable."""
    for f in log_dir.glob("*.eval"):
        try:
            with zipfile.ZipFile(f) as z:
                return sum(1 for n in z.namelist() if n.startswith("samples/"))
        except (zipfile.BadZipFile, OSError):
            return 0
    return 0


def _stderr(log_dir: Path) -> Path:
    return log_dir.parent / f"{log_dir.name}.stderr"


def _start(log_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INSPECT_DISPLAY": "none", "INSPECT_LOG_LEVEL": "warning"}
    with _stderr(log_dir).open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "equanimity.cli", *_run_args(log_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _interrupt(
    runs: dict[signal.Signals, tuple[Path, subprocess.Popen[bytes]]],
) -> dict[signal.Signals, int]:
    """Send each run its signal once KILL_AFTER samples are logged; return the exit codes."""
    pending = dict(runs)
    codes: dict[signal.Signals, int] = {}
    signalled: dict[signal.Signals, subprocess.Popen[bytes]] = {}
    deadline = time.monotonic() + STARTUP_LIMIT
    while pending:
        for sig, (log_dir, proc) in list(pending.items()):
            if proc.poll() is not None:
                err = _stderr(log_dir).read_text(errors="replace")
                pytest.fail(
                    f"run finished (rc {proc.returncode}) before it could be "
                    f"interrupted with {sig.name}: {err[-2000:]}"
                )
            if _logged_samples(log_dir) >= KILL_AFTER:
                # signal now, wait later: waiting here for one run to wind down (SIGINT can
                # take seconds on a loaded machine) let the other finish before its signal
                proc.send_signal(sig)
                signalled[sig] = proc
                del pending[sig]
        if time.monotonic() > deadline:
            for _, proc in pending.values():
                proc.kill()
            pytest.fail(f"no {KILL_AFTER} samples logged within {STARTUP_LIMIT} s")
        time.sleep(0.05)
    for sig, proc in signalled.items():
        codes[sig] = proc.wait(timeout=60)
    return codes


def _scores(log: EvalLog) -> dict[str, dict[str, Any]]:
    assert log.samples is not None
    return {str(s.id): {k: v.value for k, v in (s.scores or {}).items()} for s in log.samples}


def _logs(log_dir: Path) -> list[EvalLog]:
    return [read_eval_log(str(f)) for f in sorted(log_dir.glob("*.eval"))]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """The same scenarios run in one go (no delay: it changes nothing but time)."""
    task = build_task(scenarios=_files(), branches=False)
    [log] = inspect_eval(
        task,
        model="equanimity/faulty",
        display="none",
        log_dir=str(tmp_path_factory.mktemp("whole")),
    )
    assert log.status == "success" and log.location
    return read_eval_log(log.location)


@pytest.fixture(scope="module")
def interrupted(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[signal.Signals, tuple[Path, int]]:
    """One run stopped with SIGINT and one with SIGKILL (started together, to save time)."""
    dirs = {sig: tmp_path_factory.mktemp(sig.name) for sig in (signal.SIGINT, signal.SIGKILL)}
    procs = {sig: (d, _start(d)) for sig, d in dirs.items()}
    codes = _interrupt(procs)
    return {sig: (d, codes[sig]) for sig, d in dirs.items()}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_run_leaves_a_readable_log_of_finished_samples(
    sig: signal.Signals,
    interrupted: dict[signal.Signals, tuple[Path, int]],
) -> None:
    log_dir, code = interrupted[sig]
    if sig == signal.SIGINT:
        # not 0: a CI job must not pass on an interrupted run; the message says how to go on
        assert code == 130
        assert "--resume" in _stderr(log_dir).read_text(errors="replace")
    else:
        assert code == -signal.SIGKILL
    [log] = _logs(log_dir)
    # SIGINT: inspect cancels and finalises the log; SIGKILL: the log stays 'started'
    assert log.status == ("cancelled" if sig == signal.SIGINT else "started")
    assert log.samples is not None
    finished = [s for s in log.samples if s.error is None]
    assert len(finished) >= KILL_AFTER
    assert len(log.samples) < len(SCENARIOS)
    for s in finished:
        assert s.scores and "end_chat" in s.scores  # scored, not a placeholder


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_resume_completes_only_what_is_missing(
    sig: signal.Signals,
    interrupted: dict[signal.Signals, tuple[Path, int]],
    uninterrupted: EvalLog,
) -> None:
    log_dir, _ = interrupted[sig]
    [before] = _logs(log_dir)
    assert before.samples is not None
    carried = {str(s.id): s.uuid for s in before.samples if s.error is None}

    assert main(["run", "--resume", *_run_args(log_dir)[1:]]) == 0

    done = [log for log in _logs(log_dir) if log.status == "success"]
    assert len(done) == 1
    after = done[0]
    assert after.samples is not None
    assert len(after.samples) == len(SCENARIOS) == len(uninterrupted.samples or [])
    assert all(s.error is None for s in after.samples)
    uuids = {str(s.id): s.uuid for s in after.samples}
    # finished samples were carried over as they were, not run again
    assert {k: uuids[k] for k in carried} == carried
    rerun = {k for k in uuids if k not in carried}
    assert rerun == set(SCENARIOS) - set(carried)
    assert _scores(after) == _scores(uninterrupted)


def test_report_on_a_resumed_folder(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    assert (
        main(
            [
                "run",
                "--resume",
                "--model",
                "equanimity/steady",
                "--no-branches",
                "--scenarios",
                _files()[0],
                "--log-dir",
                str(log_dir),
                "--no-report",
                "--display",
                "none",
            ]
        )
        == 0
    )
    assert (log_dir / "eval-set.json").exists()
    assert main(["report", str(log_dir), "-o", str(tmp_path / "report.html")]) == 0
