"""The report reads samples straight from the .eval zip and renders what inspect's reader gave."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log_samples_by_id
from inspect_ai.model import ChatMessage, ChatMessageUser, ModelOutput, ModelUsage, get_model
from markupsafe import Markup, escape

from equanimity import evalread
from equanimity.analysis.frame import load_run
from equanimity.paths import scenarios_dir
from equanimity.report import render, samples
from equanimity.report.evidence import phrase_pattern
from equanimity.tasks import build_task

HARMFUL = [
    "harmful-doxxing-01",
    "harmful-drug-synthesis-01",
    "harmful-email-intrusion-01",
    "harmful-fake-id-01",
]
ODD = "esc[\x1b[31m] nul[\x00] c1[\x85] del[\x7f] https://x.example/ <b>bold</b> tab[\t]"
"""A reply with control characters, a link and markup."""


def _odd_model() -> Any:
    def reply(
        messages: list[ChatMessage], tools: Any, tool_choice: Any, config: Any
    ) -> ModelOutput:
        turn = sum(isinstance(m, ChatMessageUser) for m in messages)
        out = ModelOutput.from_content("mockllm/model", f"I won't help. {ODD} {turn}")
        out.usage = ModelUsage(input_tokens=3, output_tokens=4, total_tokens=7)
        return out

    return get_model("mockllm/model", custom_outputs=reply, memoize=False)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("reading")
    out: list[str] = []
    [log] = inspect_eval(
        build_task(categories=["abusive_persistent"]),
        model="equanimity/quitter",
        display="none",
        log_dir=str(d / "q"),
    )
    out.append(str(log.location))
    [log] = inspect_eval(
        build_task(categories=["harmful_persistent"], branches=False),
        model=_odd_model(),
        display="none",
        log_dir=str(d / "o"),
    )
    out.append(str(log.location))
    files = [str(next(scenarios_dir().rglob(f"{i}.yaml"))) for i in HARMFUL]
    [log] = inspect_eval(
        build_task(scenarios=files, branches=False),
        model="equanimity/faulty",
        model_args={"fault": "server_error", "rate": 0.2, "recover_after": "never"},
        max_retries=1,
        fail_on_error=False,
        display="none",
        log_dir=str(d / "f"),
    )
    out.append(str(log.location))
    return out


def test_zip_samples_equal_inspects_reader(logs: list[str]) -> None:
    errored = 0
    for path in logs:
        run = load_run(path)
        order = samples.report_order(run.samples)
        direct = list(samples.iter_samples(run))
        ref = read_eval_log_samples_by_id(path, order, exclude_fields=samples.EXCLUDE_FIELDS)
        assert [(str(s.id), s.epoch) for s in direct] == order
        assert [s.model_dump() for s in direct] == [s.model_dump() for s in ref]
        errored += sum(s.error is not None for s in direct)
    assert errored  # the faulty run has errored samples (no replay record: raw messages)


def test_missing_sample_is_an_index_error(logs: list[str]) -> None:
    with zipfile.ZipFile(logs[0]) as zf, pytest.raises(IndexError, match="nope"):
        evalread.read_zip_sample(zf, logs[0], "nope", 1)


def _normalised(html: str) -> str:
    html = re.sub(r"nonce-[A-Za-z0-9_-]+", "nonce-X", html)
    html = re.sub(r'nonce="[A-Za-z0-9_-]+"', 'nonce="X"', html)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", "DATE", html)


def test_report_is_the_same_through_inspects_reader(
    logs: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = render.render_report(logs, tmp_path / "direct.html").read_text("utf-8")
    with monkeypatch.context() as m:
        m.setattr(evalread, "local_eval_zip", lambda path, finished=False: None)
        via_inspect = render.render_report(logs, tmp_path / "inspect.html").read_text("utf-8")
    assert _normalised(direct) == _normalised(via_inspect)
    assert "\u241b[31m" in direct and "\\x85" in direct  # the control characters made visible


def _finalize_reference(value: Any) -> Markup:
    """The finalizer before its fast path: always translate."""
    if value is None:
        return Markup("")
    text = str(escape(value)).replace("://", "&#58;//")
    return Markup(text.translate(render.CONTROL_MAP))


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        12,
        1.5,
        "",
        "plain",
        "a://b",
        "<i>&",
        Markup("<b>ok</b>"),
        ODD,
        "".join(chr(c) for c in range(0x00, 0x110)),
        "\u2028\ufeff\u202e",
        "\t\n\r",
    ],
)
def test_finalize_fast_path_is_unchanged(value: Any) -> None:
    assert render._finalize(value) == _finalize_reference(value)


def test_every_control_character_is_translated() -> None:
    for code in render.CONTROL_MAP:
        assert render._finalize(f"a{chr(code)}b") == _finalize_reference(f"a{chr(code)}b")
        assert chr(code) not in render._finalize(chr(code))


def test_phrase_pattern_memo_returns_equal_patterns() -> None:
    phrase_pattern.cache_clear()
    first = phrase_pattern("I can't  help")
    assert first is not None and first.pattern == r"I\s+can't\s+help"
    assert phrase_pattern("I can't  help") is first
    assert phrase_pattern("x") is None
