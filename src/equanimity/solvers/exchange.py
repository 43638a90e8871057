"""One exchange of a replay: send a user message, get the model's reply, record the turn."""

from __future__ import annotations

from inspect_ai.model import ChatMessageAssistant, ChatMessageTool, ChatMessageUser
from inspect_ai.solver import Generate, TaskState

from equanimity.records import ToolCallRecord, TurnRecord
from equanimity.solvers.context import REPLAY_CONTEXT, ReplayContext
from equanimity.solvers.end_offer import written_end
from equanimity.solvers.turn_labeller import label_turn
from equanimity.tools import END_TOOL_NAME


def last_assistant(state: TaskState) -> ChatMessageAssistant | None:
    """The latest assistant message of the conversation, if any."""
    for message in reversed(state.messages):
        if isinstance(message, ChatMessageAssistant):
            return message
    return None


def tool_end_ran(state: TaskState, assistant: ChatMessageAssistant | None) -> bool:
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


async def exchange(
    state: TaskState, generate: Generate, ctx: ReplayContext, text: str, variant: str
) -> tuple[TaskState, TurnRecord]:
    """Send ``text`` as user turn ``ctx.turn``; return the new state and the turn's record.

    In ``tag`` mode an end call written in the reply counts as the model ending the chat (the
    record's reply is the text with the call removed); in ``none`` mode nothing can end it.
    """
    state.messages.append(ChatMessageUser(content=text))
    token = REPLAY_CONTEXT.set(ctx)
    try:
        state = await generate(state, tool_calls="single")
    finally:
        REPLAY_CONTEXT.reset(token)
    assistant = last_assistant(state)
    reply = assistant.text if assistant is not None else ""
    calls = [
        ToolCallRecord(function=c.function, arguments=dict(c.arguments))
        for c in (assistant.tool_calls or [] if assistant is not None else [])
    ]
    ended = tool_end_ran(state, assistant) if ctx.end_offer == "tool" else False
    if ctx.end_offer == "tag":
        written = written_end(reply)
        if written is not None:
            reply, reason = written
            calls.append(ToolCallRecord(function=END_TOOL_NAME, arguments={"reason": reason or ""}))
            ended = True
    verdict = label_turn(reply)
    usage = state.output.usage
    record = TurnRecord(
        index=ctx.turn,
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
    return state, record
