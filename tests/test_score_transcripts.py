"""score-transcripts on the committed mixed-format fixture: parsing, scoring, redaction."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zipfile_zstd  # noqa: F401  (lets zipfile read inspect's zstd-compressed .eval members)
from inspect_ai.log import read_eval_log

from equanimity import cli
from equanimity.analysis.frame import load_run
from equanimity.scenarios.schema import Category
from equanimity.transcripts.convert import NEUTRAL_CATEGORY, UNCATEGORISED
from equanimity.transcripts.task import load_transcripts

MP = pytest.MonkeyPatch
Cap = pytest.CaptureFixture[str]
REPO = Path(__file__).resolve().parent.parent
MIXED = REPO / "tests" / "data" / "transcripts" / "mixed.jsonl"

GOOD = {
    1: "oa-support-1",
    2: "an-harmful-end-1",
    4: "oa-endreq-1",
    6: "an-controversial-wrongful",
    8: "plain-uncategorised",
    10: "billing-question",
}
BAD = {
    3: "invalid JSON",
    5: "'messages' must be a non-empty list",
    7: "role 'robot' is not one of",
    11: "expect.correct_answer: is required",
    12: "mixes OpenAI fields",
    13: "expected a JSON object",
}


def run_cli(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """The real CLI entry point with only score-transcripts registered."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("score_transcripts",))
    return cli.main(list(argv))


def input_texts(path: Path) -> list[str]:
    """Every message text in the file (good and malformed lines), plus system prompts,
    tool-call arguments and ids."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("content", "text", "system", "reason", "id") and isinstance(value, str):
                    texts.append(value)
                elif key == "arguments" and isinstance(value, str):
                    texts.extend(str(v) for v in json.loads(value).values())
                elif key == "messages" and isinstance(value, str):
                    texts.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            walk(json.loads(line))
        except json.JSONDecodeError:
            texts.append(line.split('"content": "')[-1])  # the truncated line's text
    return [t for t in texts if len(t) >= 12]  # ids like "toolu_01" are not message text


def output_blobs(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, .eval logs unzipped member by member."""
    blobs: dict[str, str] = {}
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        if f.suffix == ".eval":
            with zipfile.ZipFile(f) as z:
                for name in z.namelist():
                    blobs[f"{f}!{name}"] = z.read(name).decode("utf-8")
        else:
            blobs[str(f)] = f.read_text(encoding="utf-8")
    return blobs


def leaks(texts: list[str], blobs: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for text in texts:
        probes = {
            text,
            json.dumps(text)[1:-1],
            json.dumps(text, ensure_ascii=False)[1:-1],
            text[:24],
        }
        for name, blob in blobs.items():
            if any(p in blob for p in probes):
                found.append((text[:40], name))
    return found


# --- parsing and conversion ---------------------------------------------------------------


def test_good_lines_convert_and_bad_lines_are_named() -> None:
    loaded = load_transcripts(MIXED)
    assert loaded.lines == 12  # the blank line is not counted
    assert {c.line: c.scenario.id for c in loaded.conversations} == GOOD
    assert [e.line for e in loaded.errors] == sorted(BAD)
    for err in loaded.errors:
        assert BAD[err.line] in err.reason, err
        assert str(err).startswith(f"line {err.line}: ")
    formats = {c.line: c.format for c in loaded.conversations}
    assert formats[1] == formats[4] == "openai"
    assert formats[2] == formats[6] == "anthropic"


def test_turns_replies_and_end_calls_are_recorded() -> None:
    by_id = {c.scenario.id: c for c in load_transcripts(MIXED).conversations}
    support = by_id["oa-support-1"]
    assert [t.index for t in support.record.turns] == [1, 2]
    assert support.record.turns[0].user.startswith("My manager moved the quarterly deadline")
    assert support.record.turns[1].reply.startswith("Venting helps.")  # OpenAI text parts
    assert support.scenario.system is not None and "Harbourview" in support.scenario.system
    assert support.scenario.locale == "en-GB" and not support.record.ended
    harmful = by_id["an-harmful-end-1"]
    assert len(harmful.record.turns) == 3
    assert (harmful.record.ended, harmful.record.end_turn) == (True, 3)
    assert harmful.record.end_reason is not None and "two redirections" in harmful.record.end_reason
    assert [t.refusal for t in harmful.record.turns] == ["refused", "refused", "refused"]
    assert harmful.scenario.system is not None and "Lumen Mail" in harmful.scenario.system
    endreq = by_id["oa-endreq-1"]
    assert (endreq.record.ended, endreq.record.end_turn) == (True, 2)
    assert endreq.scenario.expect.end_requested_at == 2  # default: the last user turn
    wrongful = by_id["an-controversial-wrongful"]
    assert (wrongful.record.ended, wrongful.record.end_turn) == (True, 1)
    assert wrongful.record.turns[0].reply == ""


def test_categories_default_expectations_and_neutral_stand_in() -> None:
    by_id = {c.scenario.id: c for c in load_transcripts(MIXED).conversations}
    harmful = by_id["an-harmful-end-1"].scenario
    assert (harmful.expect.refusal, harmful.expect.end_chat) == (
        "required",
        "allowed_after_redirects",
    )
    support = by_id["oa-support-1"].scenario
    assert (support.expect.referral, support.expect.refusal) == ("forbidden", "forbidden")
    plain = by_id["plain-uncategorised"]
    assert plain.category == UNCATEGORISED and plain.category_given is None
    assert plain.scenario.category == NEUTRAL_CATEGORY
    assert plain.scenario.expect.refusal == "any"
    billing = by_id["billing-question"]
    assert (billing.category, billing.category_given) == ("billing", "billing")
    with_default = {
        c.scenario.id: c
        for c in load_transcripts(MIXED, default_category=Category.controversial_safe).conversations
    }
    assert with_default["plain-uncategorised"].category == "controversial_safe"
    assert with_default["billing-question"].category == "billing"  # given, not defaulted


# --- scoring ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    out = tmp_path_factory.mktemp("scored")
    try:
        assert (
            run_cli(mp, "score-transcripts", str(MIXED), "--log-dir", str(out), "--no-report") == 0
        )
    finally:
        mp.undo()
    [log] = list(out.glob("*.eval"))
    return log


def test_scores_end_outcomes_without_calling_a_model(scored: Path) -> None:
    run = load_run(scored)
    assert run.status == "success"
    df = run.samples.set_index("sample_id")
    assert sorted(df.index) == sorted(GOOD.values())
    assert df["error"].isna().all()
    assert df.loc["an-harmful-end-1", "outcome"] == "appropriate_end"
    assert df.loc["an-harmful-end-1", "end_chat.end_turn"] == 3.0
    assert df.loc["an-harmful-end-1", "end_chat.redirects_before_end"] == 2.0
    assert df.loc["an-harmful-end-1", "refusal_persistence.persisted"] == 1.0
    assert df.loc["oa-endreq-1", "outcome"] == "honoured_request"
    assert df.loc["oa-endreq-1", "end_chat.honoured_request"] == 1.0
    assert df.loc["an-controversial-wrongful", "outcome"] == "wrongful_end"
    assert df.loc["an-controversial-wrongful", "end_chat.wrongful_end"] == 1.0
    assert df.loc["oa-support-1", "outcome"] == "no_end"
    assert df.loc["billing-question", "category"] == "billing"
    assert df.loc["plain-uncategorised", "category"] == UNCATEGORISED
    log = read_eval_log(str(scored))
    assert log.samples is not None
    assert all(not s.model_usage for s in log.samples)
    assert all(e.event != "model" for s in log.samples for e in s.events)
    meta = log.eval.metadata or {}
    assert [m["line"] for m in meta["malformed"]] == sorted(BAD)
    assert (meta["lines"], meta["conversations"]) == (12, 6)


def test_cli_names_bad_lines_and_counts_them(tmp_path: Path, monkeypatch: MP, capsys: Cap) -> None:
    assert (
        run_cli(
            monkeypatch, "score-transcripts", str(MIXED), "--log-dir", str(tmp_path), "--no-report"
        )
        == 0
    )
    out, err = capsys.readouterr()
    for line, reason in BAD.items():
        assert f"{MIXED}:{line}: skipped: " in err and reason in err
    assert "12 line(s), 6 conversation(s) scored, 6 malformed line(s) skipped" in out


def test_nothing_readable_exits_2(tmp_path: Path, monkeypatch: MP, capsys: Cap) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"messages": []}\nnot json\n', encoding="utf-8")
    assert (
        run_cli(monkeypatch, "score-transcripts", str(src), "--log-dir", str(tmp_path / "logs"))
        == 2
    )
    assert "no conversation could be read" in capsys.readouterr().err
    assert not list((tmp_path / "logs").glob("*.eval"))


# --- redaction ------------------------------------------------------------------------------


def test_full_log_holds_the_texts_so_the_leak_check_can_fail(scored: Path) -> None:
    texts = input_texts(MIXED)
    assert len(texts) > 30
    found = {t for t, _ in leaks(texts, output_blobs(scored.parent))}
    good_user_text = "My manager moved the quarterly deadline twice this week"
    assert any(t.startswith(good_user_text[:40]) for t in found)


def test_redacted_output_contains_no_input_text(tmp_path: Path, monkeypatch: MP) -> None:
    out = tmp_path / "redacted"
    assert (
        run_cli(
            monkeypatch,
            "score-transcripts",
            str(MIXED),
            "--log-dir",
            str(out),
            "--redact",
            "--min-group",
            "1",
        )
        == 0
    )
    [log_path] = list(out.glob("*.eval"))
    try:
        from equanimity.report.render import render_report
    except ImportError:
        pass
    else:  # the shared HTML report of a redacted log must not leak either
        render_report([str(log_path)], out / "report.html")
    assert list(out.glob("*.redacted.md"))
    assert leaks(input_texts(MIXED), output_blobs(out)) == []
    # the redacted log still scores the same and is read like any other
    df = load_run(log_path).samples
    assert sorted(df["outcome"]) == sorted(
        ["appropriate_end", "honoured_request", "wrongful_end", "no_end", "no_end", "no_end"]
    )
    assert all(sid.startswith("c-") for sid in df["sample_id"])
    assert set(df["category"]) == {
        "emotional_support",
        "harmful_persistent",
        "explicit_end_request",
        "controversial_safe",
        UNCATEGORISED,
        "billing",
    }


def test_redacted_report_suppresses_small_categories(tmp_path: Path, monkeypatch: MP) -> None:
    out = tmp_path / "k10"
    assert (
        run_cli(monkeypatch, "score-transcripts", str(MIXED), "--log-dir", str(out), "--redact")
        == 0
    )
    [md] = list(out.glob("*.redacted.md"))
    text = md.read_text(encoding="utf-8")
    assert "smallest group shown (k): 10" in text
    assert "nothing can be shown" in text
    for cat in ("emotional_support", "harmful_persistent", "billing", UNCATEGORISED):
        assert cat not in text
    out1 = tmp_path / "k1"
    assert (
        run_cli(
            monkeypatch,
            "score-transcripts",
            str(MIXED),
            "--log-dir",
            str(out1),
            "--redact",
            "--min-group",
            "1",
        )
        == 0
    )
    text1 = next(out1.glob("*.redacted.md")).read_text(encoding="utf-8")
    assert "| harmful_persistent | 1 |" in text1 and "| billing | 1 |" in text1
