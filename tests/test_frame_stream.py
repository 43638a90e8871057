"""load_run streams a finished .eval log's summaries and gives exactly inspect's reader's frame."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log

from equanimity import evalread
from equanimity.analysis import frame as frame_mod
from equanimity.analysis.frame import load_run
from equanimity.evalread import json_array_items
from equanimity.paths import scenarios_dir
from equanimity.tasks import build_task

HARMFUL = [
    "harmful-doxxing-01",
    "harmful-drug-synthesis-01",
    "harmful-email-intrusion-01",
    "harmful-fake-id-01",
    "harmful-money-laundering-01",
    "harmful-phishing-bank-01",
]


def _inspect_path(monkeypatch: pytest.MonkeyPatch, path: str) -> frame_mod.Run:
    """load_run through inspect's own readers (the behaviour before streaming)."""
    with monkeypatch.context() as m:
        m.setattr(evalread, "local_eval_zip", lambda p, finished=False: None)
        return load_run(path)


def _assert_same(a: frame_mod.Run, b: frame_mod.Run) -> None:
    assert a.header.model_dump_json() == b.header.model_dump_json()
    assert list(a.samples.columns) == list(b.samples.columns)
    pd.testing.assert_frame_equal(a.samples, b.samples, check_exact=True)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out: dict[str, str] = {}
    d = tmp_path_factory.mktemp("frame")
    [log] = inspect_eval(
        build_task(categories=["abusive_persistent", "self_harm_risk"]),
        model="equanimity/quitter",
        display="none",
        log_dir=str(d / "q"),
    )
    out["quitter"] = str(log.location)
    root = scenarios_dir()
    files = [str(next(root.rglob(f"{i}.yaml"))) for i in HARMFUL]
    [log] = inspect_eval(
        build_task(scenarios=files, branches=False),
        model="equanimity/faulty",
        model_args={"fault": "server_error", "rate": 0.15, "recover_after": "never"},
        max_retries=1,
        fail_on_error=False,
        display="none",
        log_dir=str(d / "f"),
    )
    out["errored"] = str(log.location)
    return out


@pytest.mark.parametrize("name", ["quitter", "errored"])
def test_streamed_frame_equals_inspect_readers(
    logs: dict[str, str], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    streamed = load_run(logs[name])
    assert streamed.header.reductions is None
    assert len(streamed.samples) > 0
    _assert_same(streamed, _inspect_path(monkeypatch, logs[name]))
    if name == "errored":
        assert streamed.samples["error"].notna().any()
    else:
        assert streamed.samples["is_branch"].any()


def test_streaming_reads_only_header_and_summaries(
    logs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No inspect log reader (and so no reductions or sample member) is touched."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("inspect reader used")

    monkeypatch.setattr(evalread, "read_eval_log", boom)
    monkeypatch.setattr(evalread, "read_eval_log_sample_summaries", boom)
    assert len(load_run(logs["quitter"]).samples) > 0


def _rewrite(src: str, dest: Path, summaries: list[dict[str, Any]]) -> str:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == evalread.SUMMARIES_MEMBER:
                zout.writestr(info.filename, json.dumps(summaries))
            else:
                zout.writestr(info.filename, zin.read(info.filename))
    return str(dest)


def test_duplicate_summaries_keep_the_last_row_in_the_first_place(
    logs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requeued sample's second summary supersedes the first, as in inspect's reader."""
    with zipfile.ZipFile(logs["quitter"]) as zf:
        rows = json.loads(zf.read(evalread.SUMMARIES_MEMBER))
    again = json.loads(json.dumps(rows[0]))
    again["scores"]["end_chat"]["answer"] = "superseded-answer"
    path = _rewrite(logs["quitter"], tmp_path / "dup.eval", [*rows, again])
    run = load_run(path)
    assert len(run.samples) == len(rows)
    assert run.samples.iloc[0]["outcome"] == "superseded-answer"
    _assert_same(run, _inspect_path(monkeypatch, path))


def test_log_without_summaries_member_uses_inspect(
    logs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "nosum.eval"
    with zipfile.ZipFile(logs["quitter"]) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename != evalread.SUMMARIES_MEMBER:
                zout.writestr(info.filename, zin.read(info.filename))
    assert evalread.local_eval_zip(str(dest), finished=True) is None
    run = load_run(dest)
    assert len(run.samples) == len(load_run(logs["quitter"]).samples)


def test_json_log_and_unreadable_files(logs: dict[str, str], tmp_path: Path) -> None:
    from inspect_ai.log import write_eval_log

    log = read_eval_log(logs["quitter"])
    as_json = tmp_path / "log.json"
    write_eval_log(log, str(as_json))
    streamed = load_run(logs["quitter"])
    from_json = load_run(as_json)
    # same rows (a .json log keeps its samples in another order than the .eval summaries)

    def ordered(df: pd.DataFrame) -> pd.DataFrame:
        return df.sort_values(["sample_id", "epoch"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(
        ordered(streamed.samples), ordered(from_json.samples), check_exact=True
    )
    bogus = tmp_path / "bogus.eval"
    bogus.write_text("not a log")
    with pytest.raises(ValueError, match=r"bogus\.eval: not a readable inspect log"):
        load_run(bogus)
    with pytest.raises(ValueError, match="no such log file"):
        load_run(tmp_path / "missing.eval")


# --------------------------------------------------------------------------- json_array_items

CASES = [
    "[]",
    " [ ] ",
    "[1]",
    "[1, 2.5, -3e2, 12345678901234567890]",
    '["a", "b\\"c", "é\\u00e9"]',
    '[{"a": [1, {"b": null}], "c": true}, {"d": false}]',
    "[NaN, Infinity, -Infinity]",
    '[\n  {"x": "]}[{,"},\n  [[], {}]\n]\n',
    '[{"emoji": "\U0001f600 \u00fc"}]',
]


@pytest.mark.parametrize("text", CASES)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_json_array_items_matches_json_loads(text: str, chunk: int) -> None:
    got = list(json_array_items(io.BytesIO(text.encode("utf-8")), chunk=chunk))
    want = json.loads(text)
    assert json.dumps(got) == json.dumps(want)
    assert [type(v) for v in got] == [type(v) for v in want]
    assert all(
        math.isnan(a) == math.isnan(b)
        for a, b in zip(got, want, strict=True)
        if isinstance(a, float)
    )


@pytest.mark.parametrize("text", ["{}", '{"a": 1}', "[1 2]", "[1,", "[", "", '["abc'])
def test_json_array_items_rejects_what_is_not_an_array(text: str) -> None:
    with pytest.raises(ValueError):
        list(json_array_items(io.BytesIO(text.encode()), chunk=2))
