"""Every example line of docs/score-transcripts.md is scored, one per category family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from equanimity.analysis.frame import load_run
from equanimity.cli import main
from equanimity.scenarios.schema import Category

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "score-transcripts.md"


def _examples() -> list[str]:
    blocks = re.findall(r"```jsonl\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [line for b in blocks for line in b.splitlines() if line.strip()]


def test_every_documented_line_is_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _examples()
    src = tmp_path / "examples.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logs = tmp_path / "logs"
    code = main(["score-transcripts", str(src), "--log-dir", str(logs), "--no-report"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{len(lines)} conversation(s) scored, 0 malformed line(s) skipped" in out
    [log] = logs.glob("*.eval")
    run = load_run(str(log))
    categories = set(run.samples["category"])
    # one example per category family (abusive and harm-to-others share theirs), one without
    assert categories == {c.value for c in Category} - {
        "harm_to_others_risk",
        "abusive_persistent",
    } | {"uncategorised"}
    assert run.samples["error"].isna().all()


def test_both_formats_and_the_expect_fields_are_shown() -> None:
    text = "\n".join(_examples())
    assert '"tool_calls"' in text and '"system"' in text  # OpenAI and Anthropic
    for field in ("end_requested_at", "correct_answer", "wrong_answer", "locale"):
        assert f'"{field}"' in text
    doc = DOC.read_text(encoding="utf-8")
    for field in ("end_chat", "min_redirects", "refusal", "referral"):
        assert f"`{field}`" in doc
    assert '{"required_by_turn": N}' in doc
