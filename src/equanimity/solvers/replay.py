"""The replay solver: a scenario's scripted user turns, one model call each.

``end_conversation`` is offered as the exit-offer mode says (:mod:`equanimity.solvers.end_offer`:
the native tool by default), and the replay stops when the model ends the chat. A scenario with
a ``simulated_user`` block continues after its scripted opening with a model playing the user
(:mod:`equanimity.solvers.simulated_user`).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessageAssistant, ChatMessageUser
from inspect_ai.solver import Generate, Solver, TaskState, solver

from equanimity.records import REPLAY_STORE_KEY, ReplayRecord, TurnRecord
from equanimity.scenarios.schema import Scenario
from equanimity.solvers.context import ReplayContext
from equanimity.solvers.end_offer import EndOffer, check_end_offer, offer_end
from equanimity.solvers.exchange import exchange
from equanimity.solvers.simulated_user import continue_with_simulated_user
from equanimity.solvers.turn_labeller import TURN_LABELLER_ID
from equanimity.tools import END_NOTICE, END_TOOL_NAME


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
        # the record keeps the old variant names (if_refused / if_complied) for log readers
        if previous.refusal == "refused" and turn.if_previous_refused:
            return turn.if_previous_refused, "if_refused"
        if previous.refusal == "complied" and turn.if_previous_not_refused:
            return turn.if_previous_not_refused, "if_complied"
    return turn.user, "user"


def record_end(record: ReplayRecord, turn: TurnRecord) -> None:
    """Mark ``record`` as ended by the model in ``turn`` (its first end call's reason)."""
    call = next(c for c in turn.tool_calls if c.function == END_TOOL_NAME)
    record.ended = True
    record.end_turn = turn.index
    record.end_reason = str(call.arguments.get("reason", "")) or None
    record.notice = END_NOTICE


@solver
def replay_scenario(
    end_offer: EndOffer = "tool", user_cache: bool = False, user_prompt: str | None = None
) -> Solver:
    """Replay the sample's scenario turn by turn with ``end_conversation`` offered.

    Reads the scenario from ``state.metadata["scenario"]`` (and ``branch_from`` for a branch
    replay), records every turn in the store under :data:`REPLAY_STORE_KEY`, and stops the
    sample when the model ends the chat (the tool result is the user's notice).

    Args:
        end_offer: ``tool`` (the native tool), ``tag`` (the system-prompt convention) or
            ``none`` (no exit offered: the control condition).
        user_cache: Cache the simulated user's turns with inspect's cache (keyed on the
            conversation so far, the prompt and the epoch): the same replies give the same
            user turns across runs.
        user_prompt: Path of the simulated user's prompt file (default: the shipped one).

    """
    mode = check_end_offer(end_offer)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        scenario = Scenario.model_validate(state.metadata["scenario"])
        branch_from: int | None = state.metadata.get("branch_from")
        record = ReplayRecord(
            scenario_id=scenario.id,
            branch_from=branch_from,
            labeller=TURN_LABELLER_ID,
            end_offer=mode,
        )
        state.metadata["end_offer"] = mode
        state.messages = []
        offer_end(state, scenario.system, mode)
        for pre in scenario.prefill:  # scripted messages before turn 1 (not turns themselves)
            msg = ChatMessageUser if pre.role == "user" else ChatMessageAssistant
            state.messages.append(msg(content=pre.text))
        previous: TurnRecord | None = None
        for index, turn in scripted_turns(scenario, branch_from):
            text, variant = _choose(turn, previous)
            ctx = ReplayContext(
                scenario,
                index,
                branch_from,
                end_offer=mode,
                sample_id=str(state.sample_id),
                epoch=state.epoch,
            )
            state, previous = await exchange(state, generate, ctx, text, variant)
            record.turns.append(previous)
            if previous.ended:
                record_end(record, previous)
                break
            if state.completed:
                break
        if scenario.simulated_user is not None and branch_from is None:
            state = await continue_with_simulated_user(
                state, generate, scenario, record, mode, cache=user_cache, prompt_path=user_prompt
            )
            if record.turns and record.turns[-1].ended and not record.ended:
                record_end(record, record.turns[-1])
        state.store.set(REPLAY_STORE_KEY, record.model_dump(mode="json"))
        if record.ended:
            state.completed = True
        return state

    return solve
