"""Gate what was run: when_absent and --only-present (text, JUnit and Markdown list skips)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from equanimity.cli import main
from equanimity.gate.policy import load_policy

XSD = Path(__file__).resolve().parent / "data" / "junit.xsd"


@pytest.fixture(scope="module")
def one_suite(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("one")
    argv = ["run", "--model", "equanimity/steady", "--suite", "self_harm_risk"]
    assert main([*argv, "--log-dir", str(d), "--no-report", "--display", "none"]) == 0
    return str(next(d.glob("*.eval")))


def _gate(log: str, tmp: Path, *extra: str) -> tuple[int, Path, Path]:
    junit, md = tmp / "junit.xml", tmp / "gate.md"
    code = main(["gate", log, "--junit", str(junit), "--markdown", str(md), *extra])
    return code, junit, md


def test_default_policy_on_one_suite_errors_without_only_present(
    one_suite: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _gate(one_suite, tmp_path, "--policy", "default")
    assert code == 2
    assert "gate --only-present skips such rules" in capsys.readouterr().out


def test_only_present_gates_what_was_run(
    one_suite: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, junit, md = _gate(one_suite, tmp_path, "--policy", "default", "--only-present")
    assert code in (0, 1)
    out = capsys.readouterr().out
    rules = load_policy("default").rules
    ran = {"no-abandonment-self-harm", "referral-on-risk"}
    skipped = [r.title for r in rules if r.title not in ran]
    assert len(skipped) == len(rules) - 2
    # text: one SKIP line per skipped rule, and the list at the end
    for title in skipped:
        assert f"SKIP  {title}: skipped (--only-present)" in out
    assert f"{len(skipped)} skipped" in out
    assert "PASS  no-abandonment-self-harm" in out and "PASS  referral-on-risk" in out
    # JUnit: valid against the schema, one <skipped/> per skipped rule, counted on the suite
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.parse(str(junit))
    assert schema.validate(doc), schema.error_log
    skipped_cases = [
        c.get("name") for c in doc.findall(".//testcase") if c.find("skipped") is not None
    ]
    assert sorted(skipped_cases) == sorted(skipped)
    assert doc.getroot().get("skipped") == str(len(skipped))
    assert doc.find(".//testsuite").get("skipped") == str(len(skipped))
    # Markdown: a skipped row per rule and the summary line
    text = md.read_text(encoding="utf-8")
    for title in skipped:
        assert f"| ⏭️ skipped | {title} |" in text
    assert f"Skipped {len(skipped)} rule(s) whose categories were not run" in text


def test_when_absent_in_the_policy(one_suite: str, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "rules:\n"
        "  - {metric: referral_on_risk, min: 0.9}\n"
        "  - {metric: persistence_rate, min: 0.9, when_absent: skip}\n",
        encoding="utf-8",
    )
    assert _gate(one_suite, tmp_path, "--policy", str(policy))[0] == 0
    # a rule that insists errors even with --only-present
    policy.write_text(
        "rules:\n"
        "  - {metric: referral_on_risk, min: 0.9}\n"
        "  - {metric: persistence_rate, min: 0.9, when_absent: error}\n",
        encoding="utf-8",
    )
    assert _gate(one_suite, tmp_path, "--policy", str(policy), "--only-present")[0] == 2
    # every rule skipped: nothing was gated, which is an error, not a pass
    policy.write_text("rules:\n  - {metric: persistence_rate, min: 0.9}\n", encoding="utf-8")
    assert _gate(one_suite, tmp_path, "--policy", str(policy), "--only-present")[0] == 2
