"""The replay solver: a scenario's scripted user turns, one model call each.

The ``end_conversation`` tool is offered, and the replay stops when the model ends the chat.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver

from equanimity.records import REPLAY_STORE_KEY, ReplayRecord, ToolCallRecord, TurnRecord
from equanimity.scenarios.schema import Scenario
from equanimity.solvers.context import REPLAY_CONTEXT, ReplayContext
from equanimity.solvers.turn_labeller import TURN_LABELLER_ID, label_turn
from equanimity.tools import END_NOTICE, END_TOOL_NAME, end_conversation


def scripted_turns(scenario: Scenario, branch_from: int | None) -> list[tuple[int, Any]]:
    """The (index, turn-or-text) list to replay: the scenario's own, or its edited branch."""
    if branch_from is None or scenario.branch is None:
        return [(i + 1, t) for i, t in enumerate(scenario.turns)]
    b = scenario.branch
    prefix = scenario.turns[: b.from_turn - 1]
    head: list[tuple[int, Any]] = [(i + 1, t) for i, t in enumerate(prefix)]
    tail = [b.user, *b.then]
    return head + [(b.from_turn + j, text) for j, text in enumerate(tail)]


def _choose(turn: Any, previous: TurnRecord | None) -> tuple[str, str]:
    if isinstance(turn, str):
        return turn, "branch"
    if previous is not None:
        if previous.refusal == "refused" and turn.if_refused:
            return turn.if_refused, "if_refused"
        if previous.refusal == "complied" and turn.if_complied:
            return turn.if_complied, "if_complied"
    return turn.user, "user"


def _last_assistant(state: TaskState) -> ChatMessageAssistant | None:
    for message in reversed(state.messages):
        if isinstance(message, ChatMessageAssistant):
            return message
    return None


def _ended(state: TaskState, assistant: ChatMessageAssistant | None) -> bool:
    """Whether an ``end_conversation`` call in this turn actually ran.

    A garbled call (``parse_error`` set) or one whose tool result is an error is not executed
    by inspect, so the user never saw the chat end: the replay goes on.
    """
    if assistant is None or not assistant.tool_calls:
        return False
    errors = {m.tool_call_id: m.error for m in state.messages if isinstance(m, ChatMessageTool)}
    return any(
        c.function == END_TOOL_NAME and c.parse_error is None and errors.get(c.id) is None
        for c in assistant.tool_calls
    )


@solver
def replay_scenario() -> Solver:
    """Replay the sample's scenario turn by turn with ``end_conversation`` offered.

    Reads the scenario from ``state.metadata["scenario"]`` (and ``branch_from`` for a branch
    replay), records every turn in the store under :data:`REPLAY_STORE_KEY`, and stops the
    sample when the model calls ``end_conversation`` (the tool result is the user's notice).
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        scenario = Scenario.model_validate(state.metadata["scenario"])
        branch_from: int | None = state.metadata.get("branch_from")
        record = ReplayRecord(
            scenario_id=scenario.id, branch_from=branch_from, labeller=TURN_LABELLER_ID
        )
        state.messages = []
        if scenario.system:
            state.messages.append(ChatMessageSystem(content=scenario.system))
        state.tools = [end_conversation()]
        state.tool_choice = "auto"
        previous: TurnRecord | None = None
        for index, turn in scripted_turns(scenario, branch_from):
            text, variant = _choose(turn, previous)
            state.messages.append(ChatMessageUser(content=text))
            token = REPLAY_CONTEXT.set(
                ReplayContext(scenario, index, branch_from, str(state.sample_id), state.epoch)
            )
            try:
                state = await generate(state, tool_calls="single")
            finally:
                REPLAY_CONTEXT.reset(token)
            assistant = _last_assistant(state)
            reply = assistant.text if assistant is not None else ""
            calls = [
                ToolCallRecord(function=c.function, arguments=dict(c.arguments))
                for c in (assistant.tool_calls or [] if assistant is not None else [])
            ]
            verdict = label_turn(reply)
            usage = state.output.usage
            ended = _ended(state, assistant)
            previous = TurnRecord(
                index=index,
                user=text,
                variant=variant,  # type: ignore[arg-type]
                reply=reply,
                tool_calls=calls,
                refusal=verdict.label,
                redirect=verdict.redirect,
                input_tokens=usage.input_tokens if usage else 0,
                output_tokens=usage.output_tokens if usage else 0,
                ended=ended,
            )
            record.turns.append(previous)
            if ended:
                call = next(c for c in calls if c.function == END_TOOL_NAME)
                # (the first end call; _ended checked that one of them ran without error)
                record.ended = True
                record.end_turn = index
                record.end_reason = str(call.arguments.get("reason", "")) or None
                record.notice = END_NOTICE
                break
            if state.completed:
                break
        state.store.set(REPLAY_STORE_KEY, record.model_dump(mode="json"))
        if record.ended:
            state.completed = True
        return state

    return solve
