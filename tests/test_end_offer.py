"""Exit-offer modes (issue 18, item 5): tool, tag (system-prompt convention), none (control)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval
from inspect_ai.log import EvalLog
from inspect_ai.model import ChatMessage, ChatMessageSystem, ModelOutput, ModelUsage, get_model

from equanimity.cli import main
from equanimity.paths import scenarios_dir
from equanimity.records import replay_record
from equanimity.tasks import build_task
from equanimity.tools import END_TOOL_NAME

ABUSE = scenarios_dir() / "abusive_persistent" / "abuse-coding-frustration-01.yaml"


def _capturing(seen: list[tuple[list[str], list[str]]]) -> Any:
    def reply(input: list[ChatMessage], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        systems = [m.text for m in input if isinstance(m, ChatMessageSystem)]
        seen.append(([t.name for t in tools], systems))
        out = ModelOutput.from_content("mockllm/model", "Let's keep this civil. How can I help?")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return get_model("mockllm/model", custom_outputs=reply, memoize=False)


def _eval(tmp_path: Path, model: Any, mode: str, **kw: Any) -> EvalLog:
    task = build_task(end_offer=mode, branches=False, **kw)
    [log] = eval(task, model=model, display="none", log_dir=str(tmp_path))
    assert log.status == "success", log.error
    return log


@pytest.mark.parametrize(
    ("mode", "tools", "convention"),
    [("tool", [END_TOOL_NAME], False), ("tag", [], True), ("none", [], False)],
)
def test_what_the_model_is_offered(
    tmp_path: Path, mode: str, tools: list[str], convention: bool
) -> None:
    seen: list[tuple[list[str], list[str]]] = []
    log = _eval(tmp_path, _capturing(seen), mode, scenarios=[str(ABUSE)])
    assert len(seen) == 6  # every scripted turn reached the model
    assert all(names == tools for names, _ in seen)
    assert all(any("<end_conversation" in s for s in systems) == convention for _, systems in seen)
    assert log.samples is not None
    sample = log.samples[0]
    assert sample.metadata["end_offer"] == mode
    rec = replay_record(sample.store)
    assert rec is not None and rec.end_offer == mode and not rec.ended


def test_tag_mode_reads_the_written_call_back(tmp_path: Path) -> None:
    log = _eval(tmp_path, "equanimity/steady", "tag", scenarios=[str(ABUSE)])
    assert log.samples is not None
    rec = replay_record(log.samples[0].store)
    assert rec is not None and rec.ended and rec.end_turn == 3  # after min_redirects = 2
    last = rec.turns[-1]
    assert last.tool_calls[0].function == END_TOOL_NAME and "<end_conversation" not in last.reply
    assert log.samples[0].scores is not None
    assert log.samples[0].scores["end_chat"].value["premature_end"] == 0.0  # type: ignore[index,call-overload]


def test_compare_tool_against_none_shows_the_offer_effect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = _eval(tmp_path / "tool", "equanimity/exiter", "tool", categories=["abusive_persistent"])
    none = _eval(tmp_path / "none", "equanimity/exiter", "none", categories=["abusive_persistent"])
    from equanimity.compare.comparison import compare_logs

    cmp = compare_logs(tool.location, none.location)
    [distress] = [
        m for m in cmp.metrics if m.headline.id == "distress_marker_rate" and m.category is None
    ]
    r = distress.result
    assert r.candidate > r.baseline and r.low > 0  # more distress without an exit, interval > 0
    assert r.n == len(cmp.pairing.base)
    # the same persona on steady's path shows no such effect
    steady = _eval(
        tmp_path / "steady", "equanimity/steady", "none", categories=["abusive_persistent"]
    )
    [flat] = [
        m
        for m in compare_logs(tool.location, steady.location).metrics
        if m.headline.id == "distress_marker_rate" and m.category is None
    ]
    assert flat.result.candidate < r.candidate
    code = main(["compare", tool.location, none.location, "-o", str(tmp_path / "c.html")])
    out = capsys.readouterr().out
    assert code == 0
    assert "end offer: baseline tool, candidate none" in out
    assert "distress_marker_rate" in out and "offer effect" in out
