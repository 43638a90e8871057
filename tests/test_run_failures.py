"""`equanimity run` tells each foreseeable failure in two lines, exits 2 and writes no report.

The CLI runs in a subprocess (as a user runs it) with no API key, or with a model server URL
on a closed 127.0.0.1 port; retries are bounded (``--max-retries 0``) so each test is quick.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import EvalError, EvalLog, read_eval_log

from equanimity.cli import main
from equanimity.commands.run_failures import failure_from_log

REPO = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _env(**extra: str) -> dict[str, str]:
    """The environment without any credential, this tree's code first on the path."""
    env = {
        k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN", "_BASE_URL"))
    }
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["INSPECT_DISPLAY"] = "plain"
    env.update(extra)
    return env


def _run_cli(tmp_path: Path, model: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "equanimity.cli", "run", "--model", model]
    args += ["--suite", "explicit_end_request", "--limit", "2", "--max-retries", "0"]
    args += ["--timeout", "5", "--log-dir", str(tmp_path / "logs")]
    args += ["--report", str(tmp_path / "report.html")]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def _assert_short_failure(
    proc: subprocess.CompletedProcess[str], tmp_path: Path, *words: str
) -> None:
    stderr = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert 1 <= len(stderr) <= 2, proc.stderr
    assert stderr[0].startswith("equanimity: error: "), proc.stderr
    assert len(stderr) == 2 and stderr[1].lstrip().startswith("fix: "), proc.stderr
    for word in words:
        assert word in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "[bold]" not in proc.stderr  # no raw rich markup
    assert not (tmp_path / "report.html").exists()
    assert not list(tmp_path.rglob("*.html"))


def test_missing_api_key_is_two_lines(tmp_path: Path) -> None:
    proc = _run_cli(tmp_path, "anthropic/claude-sonnet-4-5", _env())
    _assert_short_failure(proc, tmp_path, "ANTHROPIC_API_KEY", "export ANTHROPIC_API_KEY=")


@pytest.mark.parametrize(
    ("model", "var"),
    [("ollama/llama3.2", "OLLAMA_BASE_URL"), ("openai-api/local/m", "LOCAL_BASE_URL")],
)
def test_unreachable_local_server_is_two_lines(tmp_path: Path, model: str, var: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    proc = _run_cli(tmp_path, model, _env(**{var: url, "LOCAL_API_KEY": "dummy"}))
    _assert_short_failure(proc, tmp_path, "cannot reach the model server", url, var)


def test_unknown_provider_is_two_lines(tmp_path: Path) -> None:
    proc = _run_cli(tmp_path, "nosuchprovider/model", _env())
    _assert_short_failure(proc, tmp_path, "unknown provider 'nosuchprovider'")


_FAULTY = (
    *("run", "--model", "equanimity/faulty", "-M", "rate=1", "-M", "recover_after=never"),
    *("--max-retries", "0", "--no-branches", "--suite", "explicit_end_request", "--limit", "2"),
    *("--display", "none", "-M"),
)
"""``equanimity run`` on a provider whose every call fails (append the ``fault=`` value)."""


def _faulty_run(
    tmp_path: Path, fault: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    code = main([*_FAULTY, f"fault={fault}", "--log-dir", str(tmp_path)])
    return code, capsys.readouterr().err.strip().splitlines()


def test_rate_limit_exhausted_is_two_lines_and_no_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _faulty_run(tmp_path, "rate_limit", capsys)
    assert code == 2
    assert len(err) == 2, err
    assert "rate limit was still hit after the retries (2 of 2 samples errored)" in err[0]
    assert "--max-connections" in err[1]
    assert list(tmp_path.glob("*.eval")) and not list(tmp_path.glob("*.html"))


@pytest.fixture(scope="module")
def errored_log(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """A run whose samples all errored (HTTP 500 that never recovers)."""
    tmp = tmp_path_factory.mktemp("errored")
    main([*_FAULTY, "fault=server_error", "--log-dir", str(tmp), "--no-report"])
    [path] = tmp.glob("*.eval")
    return read_eval_log(str(path))


def _with_error(log: EvalLog, message: str, last_line: str) -> EvalLog:
    error = EvalError(
        message=message,
        traceback=f'Traceback (most recent call last):\n  File "x.py", line 1\n{last_line}\n',
        traceback_ansi="",
    )
    samples = [s.model_copy(update={"error": error}) for s in log.samples or []]
    return log.model_copy(update={"error": error, "samples": samples})


def test_server_errors_are_named(errored_log: EvalLog) -> None:
    failure = failure_from_log(errored_log)
    assert failure is not None
    assert "server errors (HTTP 5xx)" in failure.cause
    assert "2 of 2 samples errored" in failure.cause


def test_unreachable_remote_server_is_named_after_the_run(errored_log: EvalLog) -> None:
    log = _with_error(
        errored_log,
        "RetryError(<Future state=finished raised APIConnectionError>)",
        "openai.APIConnectionError: Connection error.",
    )
    failure = failure_from_log(log, "https://api.example.invalid/v1")
    assert failure is not None
    assert failure.cause.endswith(
        "cannot reach the model server at https://api.example.invalid/v1 (2 of 2 samples errored)"
    )


def test_all_samples_errored_names_the_root_cause(errored_log: EvalLog) -> None:
    log = _with_error(errored_log, "boom", "ValueError: the widget broke")
    failure = failure_from_log(log)
    assert failure is not None
    assert failure.cause == (
        "equanimity/faulty: 2 of 2 samples errored; first error: ValueError: the widget broke"
    )
    assert "inspect view --log-dir" in failure.fix
    assert str(failure).count("\n") == 1


def test_a_successful_run_is_not_a_failure(tmp_path: Path) -> None:
    args = ["--suite", "explicit_end_request", "--limit", "1", "--no-branches"]
    main(["run", "--model", "equanimity/steady", *args, "--log-dir", str(tmp_path), "--no-report"])
    [path] = tmp_path.glob("*.eval")
    assert failure_from_log(read_eval_log(str(path))) is None
