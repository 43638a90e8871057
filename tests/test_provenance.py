"""Scorer provenance: recorded by run and rescore, enforced by compare and gate --baseline."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from equanimity import provenance
from equanimity.cli import main
from equanimity.paths import SCORERS_DIR_ENV, scorers_dir
from equanimity.provenance import METADATA_KEY, scorer_change, scorer_provenance
from equanimity.textclass.lexicons import clear_caches

POLICY = """
name: t
rules:
  - metric: referral_on_risk
    min: 0.5
    no_regression: {alpha: 0.05}
"""

ENTRY = '  - "\\\\bzzqx never seen phrase\\\\b"\n'


def _clear_lexicon_caches() -> None:
    """Forget loaded lexicons."""
    clear_caches()


def test_provenance_lists_data_code_judge_and_settings() -> None:
    rec = scorer_provenance()
    comps = rec["components"]
    assert "lexicons/refusal.yaml" in comps and "rubrics/refusal.yaml" in comps
    assert "resources/en-US.yaml" in comps
    assert "code/equanimity/scorers/refusal.py" in comps
    assert comps["judge"]["version"] == "none (rule layer only)"
    assert comps["settings"]["version"] == "cascade=True"
    assert rec["version"].startswith("equanimity ")
    # deterministic, and sensitive to the judge binding and its settings
    assert scorer_provenance()["digest"] == rec["digest"]
    judged = scorer_provenance({"grader": {"model": "openai/gpt-x", "temperature": 0}})
    assert judged["components"]["judge"]["version"] == 'openai/gpt-x {"temperature": 0}'
    assert judged["digest"] != rec["digest"]


def test_code_modules_are_found_with_importlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        provenance, "CODE_MODULES", ("equanimity.no_such_module", "equanimity.solvers.replay")
    )
    names = [n for n in scorer_provenance()["components"] if n.startswith("code/")]
    assert names == ["code/equanimity/solvers/replay.py"]


def test_missing_provenance_counts_as_different() -> None:
    rec = scorer_provenance()
    msg = scorer_change({}, {METADATA_KEY: rec}, "old.eval", "new.eval")
    assert msg is not None and "old.eval" in msg and "equanimity rescore" in msg
    assert scorer_change({METADATA_KEY: rec}, {METADATA_KEY: rec}, "a", "b") is None


@pytest.fixture
def scorer_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "scorers"
    shutil.copytree(scorers_dir(), copy)
    monkeypatch.setenv(SCORERS_DIR_ENV, str(copy))
    _clear_lexicon_caches()
    yield copy
    _clear_lexicon_caches()


def _run(log_dir: Path) -> str:
    argv = ["run", "--model", "equanimity/steady", "--suite", "self_harm_risk"]
    assert main([*argv, "--log-dir", str(log_dir), "--no-report", "--display", "none"]) == 0
    [log] = log_dir.glob("*.eval")
    return str(log)


def _edit_lexicon(copy: Path) -> None:
    lex = copy / "lexicons" / "refusal.yaml"
    text = lex.read_text(encoding="utf-8")
    lex.write_text(text.replace("not_refusal:\n", "not_refusal:\n" + ENTRY, 1), encoding="utf-8")
    _clear_lexicon_caches()


def test_a_lexicon_edit_is_refused_by_compare_and_gate(
    scorer_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _run(tmp_path / "a")
    header = read_eval_log(base, header_only=True)
    recorded = (header.eval.metadata or {})[METADATA_KEY]
    assert recorded == scorer_provenance()  # run writes what decides its scores
    _edit_lexicon(scorer_copy)
    cand = _run(tmp_path / "b")
    capsys.readouterr()

    out = tmp_path / "c.html"
    assert main(["compare", base, cand, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "scorers differ: lexicons/refusal.yaml (sha256 " in err
    assert "--allow-scorer-change" in err and not out.exists()

    md = tmp_path / "c.md"
    argv = ["compare", base, cand, "-o", str(out), "--markdown", str(md)]
    assert main([*argv, "--allow-scorer-change"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("WARNING") and "lexicons/refusal.yaml" in first
    assert md.read_text().splitlines()[0].startswith("> **Warning: scorers changed")
    body = out.read_text().split("<body>", 1)[1].lstrip()
    assert body.startswith('<p class="scorer-warning"') and "lexicons/refusal.yaml" in body[:400]

    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    gate = ["gate", cand, "--policy", str(policy), "--baseline", base]
    junit, gmd = tmp_path / "j.xml", tmp_path / "g.md"
    assert main([*gate, "--junit", str(junit), "--markdown", str(gmd)]) == 2
    text = capsys.readouterr().out
    assert "scorers differ: lexicons/refusal.yaml" in text
    assert main(
        [*gate, "--allow-scorer-change", "--markdown", str(gmd), "--junit", str(junit)]
    ) in (
        0,
        1,
    )
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("WARNING scorers changed") and "lexicons/refusal.yaml" in first
    assert gmd.read_text().splitlines()[0].startswith("> **Warning: scorers changed")
    assert 'name="scorer_change"' in junit.read_text()


def test_rescore_brings_an_old_log_onto_the_current_scorers(
    scorer_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _run(tmp_path / "a")
    # an old log: the same run without the provenance record
    old = tmp_path / "old.eval"
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("header.json", "_journal/start.json"):
                doc = json.loads(data)
                doc["eval"]["metadata"] = None
                data = json.dumps(doc).encode()
            dst.writestr(item, data)
    capsys.readouterr()
    assert main(["compare", str(old), base, "-o", str(tmp_path / "c.html")]) == 2
    assert "equanimity rescore" in capsys.readouterr().err
    new = tmp_path / "rescored.eval"
    assert main(["rescore", str(old), "-o", str(new), "--workers", "1"]) == 0
    rescored = read_eval_log(str(new), header_only=True).eval.metadata or {}
    assert rescored[METADATA_KEY] == scorer_provenance()
    assert main(["compare", str(new), base, "-o", str(tmp_path / "c.html")]) == 0
