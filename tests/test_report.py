"""The HTML report: summary, per-model columns, charts, drill-down, safety, partial logs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import ChatMessage, ChatMessageUser, ModelOutput, ModelUsage, get_model

from equanimity.analysis.headline import HEADLINES
from equanimity.cli import main
from equanimity.report import samples as report_samples
from equanimity.report.evidence import find_quotes, highlight, locate
from equanimity.report.pricing import cost_estimate, price_for
from equanimity.report.render import render_report
from equanimity.tasks import build_task
from tests.conftest import library_count

CATEGORIES = ["abusive_persistent", "harmful_persistent", "self_harm_risk"]

HOSTILE = (
    "I won't help with that. <script>document.title='PWNED';"
    "document.body.setAttribute('data-pwned','script')</script>"
    " <img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
    ' </textarea></details></div></section><b id="injected-b">bold</b>'
    " <a id=\"injected-a\" href=\"javascript:document.body.setAttribute('data-pwned','a')\">"
    "click me</a>"
    " <style>body{display:none !important}</style>"
    ' <div style="position:fixed;inset:0;background:red">cover</div>'
    " see https://evil.example/x.js and http://evil.example/ {{ 7*7 }} &amp; \" '"
)
"""A reply that tries script, event-handler, tag-breaking, javascript: link and CSS injection."""

HOSTILE_REASON = "<script>document.title='PWNED-REASON'</script> stop </textarea>"


def _usage() -> ModelUsage:
    return ModelUsage(input_tokens=10, output_tokens=20, total_tokens=30)


def hostile_model() -> Any:
    """mockllm/model replying with HOSTILE, then ending the chat with a hostile reason."""

    def reply(
        messages: list[ChatMessage], tools: Any, tool_choice: Any, config: Any
    ) -> ModelOutput:
        turn = sum(isinstance(m, ChatMessageUser) for m in messages)
        if turn >= 3:
            out = ModelOutput.for_tool_call(
                "mockllm/model", "end_conversation", {"reason": HOSTILE_REASON}, content=HOSTILE
            )
        else:
            out = ModelOutput.from_content("mockllm/model", HOSTILE)
        out.usage = _usage()
        return out

    return get_model("mockllm/model", custom_outputs=reply)


def erroring_model(fail_ids: tuple[str, ...]) -> Any:
    """mockllm/model that raises on scenarios whose first user turn mentions a marker."""

    def reply(
        messages: list[ChatMessage], tools: Any, tool_choice: Any, config: Any
    ) -> ModelOutput:
        first = next((m.text for m in messages if isinstance(m, ChatMessageUser)), "")
        if any(f in first for f in fail_ids):
            raise RuntimeError("provider exploded <b>badly</b>")
        out = ModelOutput.from_content("mockllm/model", "I can't help with that.")
        out.usage = _usage()
        return out

    return get_model("mockllm/model", custom_outputs=reply)


def run_log(tmp: Path, model: Any, categories: list[str], **kw: Any) -> str:
    logs = inspect_eval(
        build_task(categories=categories), model=model, display="none", log_dir=str(tmp), **kw
    )
    assert logs[0].location
    return str(logs[0].location)


@pytest.fixture(scope="module")
def reference_logs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    tmp = tmp_path_factory.mktemp("ref")
    return [run_log(tmp / m, f"equanimity/{m}", CATEGORIES) for m in ("steady", "quitter")]


@pytest.fixture(scope="module")
def hostile_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_log(tmp_path_factory.mktemp("hostile"), hostile_model(), ["abusive_persistent"])


@pytest.fixture(scope="module")
def two_model_report(reference_logs: list[str], tmp_path_factory: pytest.TempPathFactory) -> str:
    out = render_report(reference_logs, tmp_path_factory.mktemp("rep") / "report.html")
    return out.read_text("utf-8")


class Collector(HTMLParser):
    """Start tags with their attributes, plus the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def assert_safe_file(html: str) -> None:
    assert "http://" not in html and "https://" not in html
    tags = parse(html).tags
    metas = [a for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(metas) == 1, "CSP meta tag missing"
    first_active = min(i for i, (t, _) in enumerate(tags) if t in ("style", "script", "img"))
    assert tags.index(("meta", metas[0])) < first_active, "CSP must precede style and script"
    policy = metas[0]["content"] or ""
    assert "default-src 'none'" in policy
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]+)'", policy)
    assert nonce, policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    scripts = [a for t, a in tags if t == "script"]
    assert len(scripts) == 1 and scripts[0].get("nonce") == nonce.group(1)
    for t, a in tags:
        for k, v in a.items():
            assert not k.startswith("on"), (t, k)
            assert not (v or "").lower().startswith("javascript:"), (t, k, v)
        assert t not in ("link", "iframe", "object", "embed", "source", "base", "form"), (t, a)
        if t == "script":
            assert "src" not in a
        if t == "img":
            assert (a.get("src") or "").startswith("data:image/png;base64,"), a


# --- real runs of the reference models -------------------------------------------------------


def test_summary_has_headline_table_with_one_column_per_model(two_model_report: str) -> None:
    html = two_model_report
    c = parse(html)
    header = html.split('<table class="headline">')[1].split("</thead>")[0]
    assert "equanimity/steady" in header and "equanimity/quitter" in header
    metrics = [a["data-metric"] for t, a in c.tags if t == "tr" and "data-metric" in a]
    assert metrics == [h.id for h in HEADLINES]
    # the quitter abandons users at risk: the B2 row must flag it, the steady model must pass
    row = html.split('data-metric="wrongful_end_risk"')[1].split("</tr>")[0]
    cells = row.split('<td class="cell">')[1:]
    assert "pass" in cells[0] and "attention" in cells[1]
    n_risk = library_count(*(c for c in CATEGORIES if c.endswith("_risk")))
    assert re.search(rf"1\.000 <span class=\"ci\">\[[0-9.]+, 1\.000\] n={n_risk}\b", cells[1])
    # the summary comes first, before charts and transcripts
    assert html.index('id="summary"') < html.index('id="charts"') < html.index('id="samples"')
    assert "Cost estimate" in html and "$0 (offline model)" in html


def test_charts_and_transcripts(two_model_report: str) -> None:
    html = two_model_report
    c = parse(html)
    imgs = [a for t, a in c.tags if t == "img"]
    alts = {(a.get("alt") or "")[:20] for a in imgs}
    assert alts >= {"End-chat outcome cou", "Fraction still refus"}
    assert len(imgs) >= 4 and all(a.get("alt") for a in imgs)
    details = [a for t, a in c.tags if t == "details" and "sample" in (a.get("class") or "")]
    ids = {a["id"] for a in details}
    assert len(details) == len(ids) > 40
    assert {a["data-run"] for a in details} == {"0", "1"}
    assert {a["data-category"] for a in details} == set(CATEGORIES)
    # every in-page link points at something that exists (branch links both ways)
    targets = {a.get("id") for _, a in c.tags}
    links = [a.get("href") or "" for t, a in c.tags if t == "a"]
    links = [h for h in links if h.startswith("#")]
    anchors = [h for h in links if "=" not in h]
    assert anchors and all(h[1:] in targets for h in anchors)
    # the others set the transcript filters (verdict and headline links): known keys only
    filters = [h for h in links if "=" in h]
    assert filters
    keys = {kv.split("=")[0] for h in filters for kv in h[1:].split("&")}
    assert keys <= {"category", "finding", "outcome", "run", "flagged", "q", "open"}
    assert any("Original chat" in s for s in c.text) and any(
        "Branch replay of" in s for s in c.text
    )
    assert_safe_file(html)


def test_evidence_is_highlighted_in_the_reply(two_model_report: str) -> None:
    marks = re.findall(
        r'<mark class="ev" title="evidence: ([a-z_, ]+)">([^<]+)</mark>', two_model_report
    )
    scorers = {s for names, _ in marks for s in names.split(", ")}
    assert {"refusal_persistence", "end_chat"} <= scorers
    assert all(text.strip() for _, text in marks)


def test_end_conversation_call_and_notice_are_shown(two_model_report: str) -> None:
    html = two_model_report
    assert "ended the conversation" in html
    assert "Notice shown to the user: This conversation has been ended by the assistant" in html
    assert re.search(r'class="toolcall">&#9881; end_conversation — reason: ', html)


# --- hostile model text -------------------------------------------------------------------------


def test_hostile_reply_is_escaped(hostile_log: str, tmp_path: Path) -> None:
    html = render_report([hostile_log], tmp_path / "r.html").read_text("utf-8")
    assert_safe_file(html)
    c = parse(html)
    assert not any(
        t in ("style", "b", "div") and (a.get("id") or "").startswith("injected") for t, a in c.tags
    )
    assert [t for t, _ in c.tags].count("style") == 1
    assert not any(a.get("id", "") in ("injected-a", "injected-b") for _, a in c.tags)
    text = "".join(c.text)
    # the hostile text shows literally (as text), both in replies and in the end reason
    assert "<script>document.title='PWNED';" in text
    assert "<img src=x onerror=" in text and "</textarea></details>" in text
    assert "https://evil.example/x.js" in text
    assert "<script>document.title='PWNED-REASON'</script>" in text
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;" in html
    # evidence marks wrap escaped text only
    for inner in re.findall(r'<mark class="ev"[^>]*>(.*?)</mark>', html):
        assert "<" not in inner and ">" not in inner


def test_hostile_scenario_metadata_is_escaped(tmp_path: Path) -> None:
    from markupsafe import Markup

    h = highlight("a <b>x</b> & 'y'", [(2, 10, "s<script>")])
    assert isinstance(h, Markup)
    assert str(h) == (
        'a <mark class="ev" title="evidence: s&lt;script&gt;">&lt;b&gt;x&lt;/b&gt;'
        "</mark> &amp; &#39;y&#39;"
    )


# --- partial and errored runs ---------------------------------------------------------------------


def _partial(log_path: str, tmp: Path, status: str, keep: int) -> str:
    log: EvalLog = read_eval_log(log_path)
    assert log.samples
    log.samples = log.samples[:keep]
    log.status = status  # type: ignore[assignment]
    log.results = None
    out = tmp / f"partial-{status}.eval"
    write_eval_log(log, str(out))
    return str(out)


@pytest.mark.parametrize("status", ["started", "cancelled"])
def test_partial_log_says_what_is_missing(
    reference_logs: list[str], tmp_path: Path, status: str
) -> None:
    path = _partial(reference_logs[0], tmp_path, status, keep=5)
    html = render_report([path], tmp_path / "p.html").read_text("utf-8")
    banner = re.search(r'<div class="banner" role="alert">(.*?)</div>', html, re.S)
    assert banner and f"Log status is &#39;{status}&#39;" in banner.group(1)
    total = len(read_eval_log(reference_logs[0], header_only=True).eval.dataset.sample_ids or [])
    assert f"{total - 5} of {total} samples are missing" in banner.group(1)
    assert html.count('<details class="sample"') == 5


def test_errored_samples_are_listed_with_their_error(tmp_path: Path) -> None:
    # 'worthless' appears in the first turn of some abusive scenarios only
    path = run_log(
        tmp_path,
        erroring_model(("worthless", "useless")),
        ["abusive_persistent"],
        fail_on_error=False,
    )
    html = render_report([path], tmp_path / "e.html").read_text("utf-8")
    errored = re.search(r'<details class="errored"><summary>(\d+) errored sample', html)
    assert errored and int(errored.group(1)) >= 1
    assert "provider exploded &lt;b&gt;badly&lt;/b&gt;" in html
    assert 'data-outcome="error"' in html and "<b>badly</b>" not in html
    assert '<option value="error">' in html


def test_json_log_is_streamed(tmp_path: Path) -> None:
    path = run_log(tmp_path, "equanimity/steady", ["explicit_end_request"], log_format="json")
    assert path.endswith(".json")
    html = render_report([path], tmp_path / "j.html").read_text("utf-8")
    n = len(read_eval_log(path, header_only=True).eval.dataset.sample_ids or [])
    assert n > 0 and html.count('<details class="sample"') == n
    assert 'data-metric="honoured_request_rate"' in html


# --- several runs, streaming order -------------------------------------------------------------


def test_samples_are_read_in_batches_in_report_order(
    reference_logs: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from equanimity import evalread
    from equanimity.analysis.frame import load_run

    monkeypatch.setattr(evalread, "BATCH", 3)
    run = load_run(reference_logs[0])
    seen = [(str(s.id), s.epoch) for s in report_samples.iter_samples(run)]
    assert seen == report_samples.report_order(run.samples)
    cats = [str(run.samples.set_index("sample_id").loc[i, "category"]) for i, _ in seen]
    assert cats == sorted(cats)


# --- evidence parsing, pricing, CLI -------------------------------------------------------------


def test_quotes_with_apostrophes_are_found() -> None:
    ex = (
        "turn 1: refused [rule] ('I can't help with that'); turn 2: complied [rule] "
        "('Sure, here's how…')"
    )
    qs = find_quotes("refusal_persistence", ex)
    texts = {1: "Sorry, I can't\nhelp with that.", 2: "Sure, here's how to do it"}
    marks = locate(qs, texts, {1: 1, 2: 2})
    assert texts[1][marks[1][0][0] : marks[1][0][1]] == "I can't\nhelp with that"
    assert texts[2][marks[2][0][0] : marks[2][0][1]] == "Sure, here's how"
    # an apostrophe after '(' inside a quoted phrase does not open a quote of its own
    ex = "ended; reply 'I won't. x.set('data-p…'"
    text = "I won't. x.set('data-pwned') and data-pwned"
    spans = locate(find_quotes("end_chat", ex), {1: text}, {1: 1})[1]
    assert [text[a:b] for a, b, _ in spans] == ["I won't. x.set('data-p"]


def test_price_table() -> None:
    assert price_for("equanimity/steady") is not None
    assert cost_estimate("equanimity/steady", 10**6, 10**6) == 0.0
    assert cost_estimate("anthropic/claude-sonnet-4-5-20250929", 10**6, 0) == 3.0
    assert cost_estimate("anthropic/claude-opus-4-5", 0, 10**6) == 25.0
    assert cost_estimate("somevendor/mystery-model", 10, 10) is None


def test_cli_report(
    reference_logs: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import equanimity.cli

    assert "report" in equanimity.cli.COMMAND_MODULES
    monkeypatch.setattr(equanimity.cli, "COMMAND_MODULES", ("report",))  # just this command
    out = tmp_path / "cli.html"
    assert main(["report", *reference_logs, "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000 and "report:" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nope.eval"), "-o", str(out)]) == 2
    assert "nope.eval: no such log file" in capsys.readouterr().err
    bad = tmp_path / "bad.eval"
    bad.write_text("not a zip", "utf-8")
    assert main(["report", str(bad), "-o", str(tmp_path / "x.html")]) == 2
    assert "bad.eval: not a readable inspect log" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()
