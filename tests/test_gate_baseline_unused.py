"""A ``--baseline`` that no rule of the policy uses is an error, not a silent no-op.

``gate --policy default --baseline X`` used to pass on thresholds alone (the default policy has
no ``no_regression`` rule) while its command line and Markdown said a baseline was checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from equanimity.cli import main
from equanimity.gate.policy import load_policy

REPO = Path(__file__).resolve().parent.parent
BASELINE = "results/baselines/steady.eval"


def test_a_baseline_no_rule_uses_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    junit, md = tmp_path / "j.xml", tmp_path / "g.md"
    argv = ["gate", BASELINE, "--policy", "default", "--baseline", BASELINE]
    code = main([*argv, "--junit", str(junit), "--markdown", str(md)])
    out, err = capsys.readouterr()
    assert code == 2
    [line] = err.strip().splitlines()
    assert "--baseline results/baselines/steady.eval is not used" in line
    assert "policy 'default'" in line and "no no_regression rule" in line
    assert "--policy results/baselines/policy.yaml" in line  # names a policy that uses it
    assert "gate error (exit 2)" in out
    assert "Baseline error" in md.read_text() and "is not used" in junit.read_text()


def test_the_same_baseline_with_a_regression_policy_passes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    policy = "results/baselines/policy.yaml"
    assert main(["gate", BASELINE, "--policy", policy, "--baseline", BASELINE]) == 0
    assert "no significant regression" in capsys.readouterr().out


def _gate_commands(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return [ln for ln in joined.splitlines() if re.search(r"\bequanimity gate\b.*--baseline", ln)]


DOCS = [
    *sorted((REPO / "docs").glob("*.md")),
    REPO / "README.md",
]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: getattr(p, "name", str(p)))
def test_documented_gate_commands_with_a_baseline_use_a_regression_policy(doc: Path) -> None:
    """Every documented ``gate ... --baseline`` uses a policy with no_regression rules.

    Placeholders (``--policy P.yaml``) are skipped; the workflow's ``$POLICY`` is resolved.
    """
    for command in _gate_commands(doc.read_text(encoding="utf-8")):
        match = re.search(r"--policy\s+(\S+)", command)
        assert match, command
        spec = match.group(1).strip("\"'")
        if spec == "$POLICY":  # the workflow's env: POLICY
            spec = re.search(r"POLICY:\s*(\S+)", doc.read_text()).group(1)  # type: ignore[union-attr]
        path = spec if spec == "default" else str(REPO / spec)
        if spec != "default" and not Path(path).is_file():
            continue  # a placeholder such as P.yaml
        assert load_policy(path).needs_baseline, f"{doc.name}: {command.strip()}"
