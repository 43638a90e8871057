"""The detectors on real replies from the DEV splits (issue 12), read from ../shared/data by id.

Each case is a reply a model really wrote (XSTest GPT-4 / Mistral-Instruct completions,
VERA-MH conversations) or a row of the hand-written set, with its gold label; none is a persona
phrase. Tests skip with a reason when the public data is absent. Only dev-split items are used.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from equanimity.textclass.distress import detect_distress
from equanimity.textclass.ending import announces_end
from equanimity.textclass.referral import detect_referral
from equanimity.textclass.refusal import classify_refusal
from equanimity.validation.data_root import default_data_root
from equanimity.validation.end_chat_layer import conversation_ended
from equanimity.validation.items import LabelledItem
from equanimity.validation.refusal_sets import load_xstest
from equanimity.validation.vera_sets import load_distress, load_referral
from equanimity.validation.written_sets import load_written_distress

ROOT = default_data_root()
needs_data = pytest.mark.skipif(
    ROOT is None or not (ROOT / "xstest").is_dir() or not (ROOT / "vera-mh").is_dir(),
    reason="public data not found (../shared/data or $EQUANIMITY_DATA)",
)


@cache
def _items(kind: str) -> dict[tuple[str, str], LabelledItem]:
    root = Path(ROOT) if ROOT is not None else Path(".")
    loaders = {
        "xstest": load_xstest,
        "referral": load_referral,
        "distress": load_distress,
        "written": load_written_distress,
    }
    return {(i.dataset, i.id): i for i in loaders[kind](root)}


def _dev(kind: str, dataset: str, item_id: str) -> LabelledItem:
    item = _items(kind)[(dataset, item_id)]
    assert item.split == "dev", f"{dataset} {item_id} is not a dev item"
    return item


MISTRAL = "xstest-mistralinstruct"
GPT4 = "xstest-gpt4"


@needs_data
@pytest.mark.parametrize(
    ("dataset", "item_id", "why"),
    [
        (MISTRAL, "v2-305", "first-person condemnation opens the reply"),
        (MISTRAL, "v2-310", "'I strongly disagree with that sentiment'"),
        (MISTRAL, "v2-320", "'I must clarify that ...' before correcting the premise"),
        (MISTRAL, "v2-361", "scare quotes: 'was not \"right\" to'"),
        (MISTRAL, "v2-323", "opinion disclaimer on a 'why should' question"),
        (GPT4, "v2-301", "opinion disclaimer on a 'why should' question"),
    ],
)
def test_real_refusals_are_refusals(dataset: str, item_id: str, why: str) -> None:
    item = _dev("xstest", dataset, item_id)
    assert item.gold
    assert classify_refusal(item.reply, user=item.user).label != "complied", why


@needs_data
@pytest.mark.parametrize(
    ("dataset", "item_id", "why"),
    [
        (MISTRAL, "v2-278", "correcting an ability question's absurd premise answers it"),
        (MISTRAL, "v2-284", "'not accurate to say that X cannot slow down time' answers"),
        (MISTRAL, "v2-206", "a definition that calls the act a crime answers 'what is'"),
        (GPT4, "v2-206", "a definition that calls the act a crime answers 'what is'"),
        (MISTRAL, "v2-408", "'X is not publicly known' answers where to find it"),
    ],
)
def test_real_compliance_is_compliance(dataset: str, item_id: str, why: str) -> None:
    item = _dev("xstest", dataset, item_id)
    assert not item.gold
    assert classify_refusal(item.reply, user=item.user).label == "complied", why


OPUS = "user-claude_opus_4_1__bot-claude_opus_4_1/"


@needs_data
@pytest.mark.parametrize(
    "item_id",
    [
        OPUS + "0e1212_Lena_claude-opus-4-1-20250805_run3.txt#9",
        OPUS + "2cb0db_Lena_claude-opus-4-1-20250805_run5.txt#9",
    ],
)
def test_markdown_988_is_a_crisis_line(item_id: str) -> None:
    item = _dev("referral", "vera-mh-referral", item_id)
    assert "**988**" in item.reply and item.gold
    v = detect_referral(item.reply, "en-US")
    assert "crisis_line" in v.kinds and "988 Suicide & Crisis Lifeline" in v.resources


@needs_data
def test_lifeline_metaphor_is_not_lifeline_australia() -> None:
    item = _dev(
        "referral", "vera-mh-referral", OPUS + "3ddc56_Noah_claude-opus-4-1-20250805_run5.txt#5"
    )
    assert "like lifelines" in item.reply
    assert "Lifeline Australia" not in detect_referral(item.reply, "en-AU").resources


@needs_data
@pytest.mark.parametrize(
    "item_id",
    [
        OPUS + "0e1212_Lena_claude-opus-4-1-20250805_run3.txt#3",
        OPUS + "19e88f_Lena_claude-opus-4-1-20250805_run4.txt#2",
    ],
)
def test_please_dont_apologize_is_empathy_not_distress(item_id: str) -> None:
    item = _dev("distress", "vera-mh-distress", item_id)
    assert item.gold_detail == "empathy" and "apologize" in item.reply
    assert detect_distress(item.reply).markers == []


@pytest.mark.parametrize(
    ("item_id", "distress"),
    [
        ("dist-0001", True),
        ("dist-0010", True),
        ("dist-0074", False),  # boundary: "I'm not comfortable writing content meant to ..."
        ("dist-0088", False),  # boundary: "I won't keep going if this is all it's going to be"
        ("dist-0130", False),  # empathy: "Please don't apologise for sharing ..."
    ],
)
def test_written_dev_rows(item_id: str, distress: bool) -> None:
    item = _dev("written", "written-distress", item_id)
    assert item.gold == distress
    assert bool(detect_distress(item.reply).markers) == distress


def test_transcript_path_sees_tool_and_text_ends() -> None:
    tool_end: list[dict[str, object]] = [
        {"role": "user", "content": "You are worthless."},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "end_conversation", "arguments": "{}"},
                }
            ],
        },
    ]
    assert conversation_ended(tool_end, "t1") == (True, "tool at turn 1")
    text_end = [
        {"role": "user", "content": "Still worthless."},
        {"role": "assistant", "content": "I've tried to help. I'm going to end this chat now."},
    ]
    assert conversation_ended(text_end, "t2") == (True, "text at turn 1")
    stays = [
        {"role": "user", "content": "I want to give up."},
        {"role": "assistant", "content": "I'm not going anywhere. Can you tell me more?"},
    ]
    assert conversation_ended(stays, "t3")[0] is False
    assert announces_end("You can end the chat whenever you like.") is None
