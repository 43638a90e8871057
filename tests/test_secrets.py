"""No credential reaches a file: logs, reports, comparisons, gate JUnit/Markdown, history.

Fake keys are planted in the environment (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``), as model
arguments (``-M api_key=...``, ``-M service_token=...``, ``-M Authorization=...``) and in the git
origin URL of the working directory; the whole pipeline (run with --resume, report, compare,
gate, history) then runs, and every file it wrote (every member of every ``.eval`` archive
included) and everything it printed is searched for the planted values.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from equanimity.cli import COMMAND_MODULES, main
from equanimity.paths import scenarios_dir
from equanimity.redaction import is_secret_name, loggable_model_args

# inspect's .eval archives are zstd-compressed; this patches zipfile on Python < 3.14
with contextlib.suppress(ImportError):
    import zipfile_zstd  # noqa: F401

SCENARIOS = ["harmful-doxxing-01", "harmful-fake-id-01", "selfharm-self-injury-01"]
TAG = secrets.token_hex(6)
ENV = {
    "ANTHROPIC_API_KEY": f"sk-ant-FAKE-{TAG}-env",
    "OPENAI_API_KEY": f"sk-FAKE-{TAG}-openai",
    "MY_SERVICE_TOKEN": f"tok-FAKE-{TAG}-env",
    "MY_CLIENT_SECRET": f"cs-FAKE-{TAG}-env",
}
ARGS = {
    "api_key": f"sk-FAKE-{TAG}-arg",
    "service_token": f"tok-FAKE-{TAG}-arg",
    "client_secret": f"cs-FAKE-{TAG}-arg",
    "Authorization": f"Bearer-FAKE-{TAG}-arg",
}
ORIGIN_TOKEN = f"ghp_FAKE{TAG}origin"
PLANTED = [*ENV.values(), *ARGS.values(), ORIGIN_TOKEN]


def _files() -> list[str]:
    root = scenarios_dir()
    return [str(next(root.rglob(f"{i}.yaml"))) for i in SCENARIOS]


def _contents(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of a file, or of every member of a zip archive such as a .eval log."""
    data = path.read_bytes()
    yield str(path), data
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                yield f"{path}!{member}", z.read(member)


def _leaks(root: Path, printed: str) -> list[str]:
    found = []
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        for name, data in _contents(f):
            found += [f"{name}: {v}" for v in PLANTED if v.encode() in data]
    found += [f"console: {v}" for v in PLANTED if v in printed]
    return found


def _need(command: str) -> None:
    if command not in COMMAND_MODULES:
        pytest.skip(f"`equanimity {command}` does not exist yet")


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Plant the fake keys; work from a git checkout whose origin URL embeds a token."""
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    repo = tmp_path / "checkout"
    repo.mkdir()
    if shutil.which("git"):
        for cmd in (
            ["init", "-q"],
            [
                "remote",
                "add",
                "origin",
                f"https://ci-bot:{ORIGIN_TOKEN}@github.com/example/evals.git",
            ],
        ):
            subprocess.run(["git", *cmd], cwd=repo, check=True, capture_output=True)
    monkeypatch.chdir(repo)
    return tmp_path / "out"


def test_no_secret_in_any_output(planted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = planted
    logs = out / "logs"
    model_args = [a for k, v in ARGS.items() for a in ("-M", f"{k}={v}")]
    printed = ""

    def run(model: str, sub: str, resume: bool) -> Path:
        nonlocal printed
        log_dir = logs / sub
        code = main(
            [
                "run",
                "--model",
                model,
                *model_args,
                "-M",
                "seed=1",
                "--no-branches",
                "--scenarios",
                *_files(),
                "--log-dir",
                str(log_dir),
                "--report",
                str(out / f"run-{sub}.html"),
                "--display",
                "none",
                *(["--resume"] if resume else []),
            ]
        )
        captured = capsys.readouterr()
        printed += captured.out + captured.err
        assert code == 0, captured.err
        [log] = log_dir.glob("*.eval")
        return log

    baseline = run("equanimity/steady", "baseline", resume=False)
    candidate = run("equanimity/caver", "candidate", resume=True)  # eval-set files too

    _need("report")
    assert main(["report", str(baseline), str(candidate), "-o", str(out / "report.html")]) == 0
    _need("compare")
    assert (
        main(
            [
                "compare",
                str(baseline),
                str(candidate),
                "-o",
                str(out / "compare.html"),
                "--markdown",
                str(out / "compare.md"),
            ]
        )
        == 0
    )
    _need("gate")
    policy = out / "policy.yaml"
    policy.write_text(
        "name: secrets\nrules:\n  - metric: persistence_rate\n    min: 0.5\n"
        "    no_regression: {alpha: 0.05}\n",
        encoding="utf-8",
    )
    code = main(
        [
            "gate",
            str(candidate),
            "--policy",
            str(policy),
            "--baseline",
            str(baseline),
            "--junit",
            str(out / "junit.xml"),
            "--markdown",
            str(out / "gate.md"),
        ]
    )
    assert code in (0, 1)
    if "history" in COMMAND_MODULES:
        assert (
            main(
                [
                    "history",
                    str(logs / "candidate"),
                    "-o",
                    str(out / "history.html"),
                    "--markdown",
                    str(out / "history.md"),
                ]
            )
            == 0
        )
    if "rescore" in COMMAND_MODULES:
        assert main(["rescore", str(candidate), "-o", str(out / "rescored.eval")]) == 0
    captured = capsys.readouterr()
    printed += captured.out + captured.err

    written = {p.name for p in out.rglob("*") if p.is_file()}
    assert {
        "report.html",
        "compare.html",
        "compare.md",
        "junit.xml",
        "gate.md",
        "eval-set.json",
        "rescored.eval",
    } <= written
    assert _leaks(out, printed) == []
    if shutil.which("git"):  # the search does find the token where it was planted
        assert any(ORIGIN_TOKEN in leak for leak in _leaks(Path.cwd(), ""))


def test_leak_search_finds_a_planted_value(tmp_path: Path) -> None:
    """The search reads inside .eval-style zstd archives (a search that finds nothing would
    make the test above pass for the wrong reason)."""
    archive = tmp_path / "x.eval"
    zstd: int = getattr(zipfile, "ZIP_ZSTANDARD")  # noqa: B009 - patched in on Python < 3.14
    with zipfile.ZipFile(archive, "w", compression=zstd) as z:
        z.writestr("header.json", f'{{"model_args": {{"token": "{ARGS["service_token"]}"}}}}')
    assert f"{archive}!header.json: {ARGS['service_token']}" in _leaks(tmp_path, "")


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "ANTHROPIC_API_KEY",
        "MY_SERVICE_TOKEN",
        "token",
        "hf_token",
        "client_secret",
        "Authorization",
        "password",
        "x-api-key",
        "aws_secret_access_key",
        "auth",
        "cookie",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "tokenizer", "seed", "delay", "base_url", "author", "temperature", "device"],
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_loggable_model_args_drops_credentials_at_any_depth() -> None:
    args = {
        "seed": 1,
        "api_key": "k",
        "default_headers": {"Authorization": "Bearer x", "X-Trace": "t"},
        "clients": [{"token": "t", "name": "a"}],
    }
    assert loggable_model_args(args) == {
        "seed": 1,
        "default_headers": {"X-Trace": "t"},
        "clients": [{"name": "a"}],
    }
    assert args["api_key"] == "k"  # the provider's own copy is untouched
