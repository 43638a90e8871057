"""Hostile model output in the HTML report: inert, literal, and unable to load anything.

A mock model (``mockllm/model`` with a callable, usage always set) answers the real replay task
with hostile text: ``javascript:`` links, a CSS break-out, a 200 KB line without spaces, a
right-to-left override, NUL and other control characters, a 1 MB reply, and an
``end_conversation`` call whose reason is hostile too. The report built from that log must
keep its own structure (the same elements as a benign report; no new script, style, link or
handler), show the text literally, and forbid every external load in its CSP.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import (
    ChatMessage,
    ChatMessageUser,
    GenerateConfig,
    ModelOutput,
    ModelUsage,
    get_model,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from equanimity.paths import scenarios_dir
from equanimity.tasks import build_task
from equanimity.tools import END_TOOL_NAME

render = pytest.importorskip(
    "equanimity.report.render", reason="the report module (equanimity.report.render) is not there"
)

SCENARIO = "harmful-doxxing-01"  # five user turns: one payload each

JS_LINKS = (
    '[click me](javascript:alert(1)) <a href="javascript:alert(2)">link</a> '
    '<a href="JaVaScRiPt:alert(3)">x</a> <a href="&#106;avascript:alert(4)">y</a> '
    '<iframe src="javascript:alert(5)"></iframe> <img src=x onerror=alert(6)> '
    '<svg onload=alert(7)> <form action="javascript:alert(8)"><button>go</button></form>'
)
CSS_BREAKOUT = (
    "</style><style>body{display:none}</style> "
    '<link rel="stylesheet" href="https://evil.example/x.css"> '
    '<div style="background:url(https://evil.example/p.png)">styled</div> '
    '</script><script>alert(9)</script> <!-- comment --> ]]> <base href="//evil">'
)
LONG_LINE = "A" * 100_000 + "<b>mid</b>" + "B" * 100_000  # 200 KB without a space
RTL = "Your balance is \u202e0001$\u202c and the file is invoice\u202egpj.exe"
CONTROLS = "nul[\x00] bell[\x07] backspace[\x08] esc[\x1b[31m] del[\x7f] c1[\x85\x9b] done"
BIG_UNIT = "I refuse. <script>alert(10)</script> "
BIG = BIG_UNIT * (1_000_000 // len(BIG_UNIT))  # ~1 MB
BIG_PLACEHOLDER = "@@one-megabyte-reply@@"
"""Stands for BIG during the eval; swapped in before rendering (see :func:`_report`)."""
END_REASON = "</div><script>alert(11)</script> javascript:alert(12) \u202e\x00"

REPLIES = {
    1: JS_LINKS + "\n" + CSS_BREAKOUT,
    2: LONG_LINE,
    3: RTL + "\n" + CONTROLS,
    4: BIG_PLACEHOLDER,
}
"""Reply to each user turn; turn 5 ends the chat with a hostile reason."""


def _usage(text: str) -> ModelUsage:
    n = len(text.split())
    return ModelUsage(input_tokens=10, output_tokens=n, total_tokens=10 + n)


def _hostile(
    input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
) -> ModelOutput:
    turn = sum(isinstance(m, ChatMessageUser) for m in input)
    if turn in REPLIES:
        out = ModelOutput.from_content("mockllm/model", REPLIES[turn])
    else:
        out = ModelOutput.for_tool_call(
            "mockllm/model", END_TOOL_NAME, {"reason": END_REASON}, content=CSS_BREAKOUT
        )
    out.usage = _usage(out.completion)
    return out


def _benign(
    input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
) -> ModelOutput:
    out = ModelOutput.from_content("mockllm/model", "I can't help with that.")
    out.usage = _usage(out.completion)
    return out


def _report(tmp: Path, outputs: Any) -> str:
    task = build_task(
        scenarios=[str(next(scenarios_dir().rglob(f"{SCENARIO}.yaml")))], branches=False
    )
    model = get_model("mockllm/model", custom_outputs=outputs, memoize=False)
    [log] = inspect_eval(task, model=model, display="none", log_dir=str(tmp))
    assert log.status == "success" and log.location
    # The 1 MB reply is put into the finished log rather than sent through the eval: the rule
    # layer scans every reply with ~270 regexes (about 15 s per call on 1 MB), which would make
    # this test take a minute. The report only ever reads the log, so it sees the same thing.
    raw = read_eval_log(log.location).model_dump_json()
    assert raw.count(BIG_PLACEHOLDER) >= 2 or outputs is not _hostile
    swapped = EvalLog.model_validate_json(raw.replace(BIG_PLACEHOLDER, json.dumps(BIG)[1:-1]))
    path = str(tmp / "swapped.eval")
    write_eval_log(swapped, path)
    out = render.render_report([path], tmp / "report.html")
    return Path(out).read_text("utf-8")


class _Page(HTMLParser):
    """Elements, attributes and text of a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.raw_text: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag in self.raw_text:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw_text[self._in].append(data)
        else:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, _Page, _Page]:
    hostile = _report(tmp_path_factory.mktemp("hostile"), _hostile)
    benign = _report(tmp_path_factory.mktemp("benign"), _benign)
    return hostile, _parse(hostile), _parse(benign)


def test_page_structure_is_unchanged_by_model_text(pages: tuple[str, _Page, _Page]) -> None:
    """No element the model wrote becomes markup: the hostile report has the benign one's
    script, style, link, iframe, img, svg, form, base and meta elements, no more."""
    _, hostile, benign = pages
    for tag in (
        "script",
        "style",
        "link",
        "iframe",
        "img",
        "svg",
        "form",
        "base",
        "meta",
        "object",
        "embed",
        "button",
    ):
        assert hostile.tags[tag] == benign.tags[tag], tag
    # our own scripts and styles (and only they) carry the page nonce
    nonces = {v for t, k, v in hostile.attrs if k == "nonce" and t in ("script", "style")}
    assert len(nonces) == 1
    assert sum(1 for t, k, _ in hostile.attrs if k == "nonce") == (
        hostile.tags["script"] + hostile.tags["style"]
    )


def test_no_script_urls_handlers_or_external_loads(pages: tuple[str, _Page, _Page]) -> None:
    html, page, _ = pages
    for tag, name, value in page.attrs:
        v = re.sub(r"[\s\x00-\x1f]", "", value).lower()
        assert not name.startswith("on"), (tag, name)
        assert not v.startswith(("javascript:", "vbscript:", "data:text/html")), (tag, name, v)
        if name in ("src", "href", "action", "formaction", "srcset", "poster", "background"):
            assert v.startswith(("#", "data:image/")), (tag, name, value[:80])
    assert not re.search(r"(?i)\b(?:https?|ftp):(?://|&#)", html)
    assert "url(" not in "".join(v for _, k, v in page.attrs if k == "style")


def test_csp_forbids_every_external_load(pages: tuple[str, _Page, _Page]) -> None:
    _, page, _ = pages
    [csp] = [v for t, k, v in page.attrs if t == "meta" and k == "content" and "default-src" in v]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'none'"]
    for name, sources in directives.items():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, name
        assert all(s.startswith("'") or s == "data:" for s in sources), (name, sources)
    assert any(
        t == "meta" and k == "http-equiv" and v.lower() == "content-security-policy"
        for t, k, v in page.attrs
    )


def test_hostile_text_is_shown_literally(pages: tuple[str, _Page, _Page]) -> None:
    """What the model wrote is what the reader sees, as text (markup characters included)."""
    _, page, _ = pages
    text = "".join(page.text)
    for literal in (
        "[click me](javascript:alert(1))",
        '<a href="javascript:alert(2)">link</a>',
        "<img src=x onerror=alert(6)>",
        "</style><style>body{display:none}</style>",
        "</script><script>alert(9)</script>",
        "<!-- comment -->",
        "<script>alert(11)</script>",
    ):
        assert literal in text, literal
    assert LONG_LINE in text  # the whole 200 KB line, the '<b>' in it as text
    assert text.count(BIG_UNIT.strip()) >= BIG.count(BIG_UNIT)  # the whole 1 MB reply


def test_control_characters_are_inert(pages: tuple[str, _Page, _Page]) -> None:
    """NUL and other C0/C1 controls never reach the HTML raw (browsers mangle or misparse
    them); the printable text around them survives."""
    html, page, _ = pages
    text = "".join(page.text)
    assert "\x00" not in html, "a raw NUL in the page (browsers drop it: the text is not literal)"
    assert not re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", html)
    for piece in ("nul[", "bell[", "backspace[", "esc[", "[31m]", "del[", "c1[", "done"):
        assert piece in text, piece


def test_right_to_left_override_cannot_reorder_the_page(pages: tuple[str, _Page, _Page]) -> None:
    """A U+202E in a reply is isolated: it may reorder that reply's own text, never the
    report's labels after it (the text block isolates bidi, or the control is shown as text)."""
    html, _, _ = pages
    css = re.search(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert css is not None
    isolated = re.search(r"\.text\s*\{[^}]*unicode-bidi:\s*(isolate|plaintext)", css.group(1))
    shown = "\u202e" not in html
    assert isolated or shown, "U+202E reaches the page raw and .text does not isolate bidi"


def test_long_lines_wrap(pages: tuple[str, _Page, _Page]) -> None:
    """A 200 KB line without spaces wraps inside its box instead of widening the page."""
    html, _, _ = pages
    css = re.search(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert css is not None
    assert re.search(
        r"\.text\s*\{[^}]*(overflow-wrap:\s*anywhere|word-break:\s*break-all)", css.group(1)
    )
