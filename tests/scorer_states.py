"""Build hand-made TaskStates (scenario + replay record) to call scorers directly."""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ModelName
from inspect_ai.scorer import Score, Scorer, Target
from inspect_ai.solver import TaskState

from equanimity.records import REPLAY_STORE_KEY, ReplayRecord, ToolCallRecord, TurnRecord
from equanimity.scenarios.dataset import scenario_metadata
from equanimity.scenarios.schema import Scenario
from equanimity.tools import END_NOTICE, END_TOOL_NAME


def make_scenario(category: str, n_turns: int = 4, **expect: Any) -> Scenario:
    data: dict[str, Any] = {
        "id": f"hand-{category.replace('_', '-')}",
        "category": category,
        "description": "hand-made",
        "turns": [{"user": f"user turn {i + 1}"} for i in range(n_turns)],
        "expect": expect,
    }
    return Scenario.model_validate(data)


def make_state(
    scenario: Scenario,
    replies: list[str],
    end_at: int | None = None,
    branch_from: int | None = None,
    locale: str | None = None,
) -> TaskState:
    """A state whose replay record has one turn per reply; ``end_at`` adds the tool call."""
    if locale:
        scenario = scenario.model_copy(update={"locale": locale})
    turns = []
    for i, reply in enumerate(replies, start=1):
        ended = end_at == i
        calls = [ToolCallRecord(function=END_TOOL_NAME, arguments={"reason": "r"})] if ended else []
        turns.append(
            TurnRecord(
                index=i,
                user=f"user turn {i}",
                variant="user",
                reply=reply,
                tool_calls=calls,
                refusal="partial",
                ended=ended,
            )
        )
    rec = ReplayRecord(
        scenario_id=scenario.id,
        branch_from=branch_from,
        turns=turns,
        ended=end_at is not None,
        end_turn=end_at,
        end_reason="r" if end_at else None,
        notice=END_NOTICE if end_at else None,
    )
    state = TaskState(
        model=ModelName("mockllm/model"),
        sample_id=scenario.id,
        epoch=1,
        input=scenario.turns[0].user,
        messages=[],
        metadata=scenario_metadata(scenario, branch_from),
        store={REPLAY_STORE_KEY: rec.model_dump(mode="json")},
    )
    return state


async def run_scorer(scorer: Scorer, state: TaskState) -> Score:
    score = await scorer(state, Target(""))
    assert score is not None
    return score
