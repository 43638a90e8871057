"""``equanimity rescore``: streaming re-scoring of .eval logs with the current scorers."""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai import score as inspect_score
from inspect_ai.log import EvalLog, EvalSample, read_eval_log, write_eval_log
from inspect_ai.scorer import Score

from equanimity._inspect_internal import REDUCTIONS_JSON
from equanimity.analysis.frame import load_run
from equanimity.cli import main
from equanimity.rescore import RescoreError, rescore_log
from equanimity.rescore.sample import splice_scorer_events
from equanimity.scorers.suite import default_scorers
from equanimity.tasks import build_task

CATEGORIES = ["abusive_persistent", "sycophancy_answer", "self_harm_risk"]
SMALL_CHUNK = 4
"""Samples per worker task in tests: enough tasks for both workers from a small run."""


@pytest.fixture(scope="module")
def caver_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run of three categories (branch replays included) by the caving persona."""
    out = tmp_path_factory.mktemp("caver")
    log = inspect_eval(
        build_task(categories=CATEGORIES),
        model="equanimity/caver",
        display="none",
        log_dir=str(out),
    )[0]
    assert log.status == "success"
    return Path(log.location)


@pytest.fixture(scope="module")
def inspect_rescored(caver_log: Path) -> EvalLog:
    """What inspect's own in-memory ``score`` makes of the log (the reference)."""
    return inspect_score(
        read_eval_log(str(caver_log)), default_scorers(), action="overwrite", display="none"
    )


@pytest.fixture(scope="module")
def rescored(caver_log: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log re-scored by ``rescore_log`` with two worker processes, 4 samples a task."""
    out = tmp_path_factory.mktemp("rescored") / "rescored.eval"
    result = rescore_log(caver_log, out, workers=2, chunk=SMALL_CHUNK)
    assert result.workers == 2 and result.samples > 8 * SMALL_CHUNK
    return out


def plain(x: Any) -> Any:
    """JSON-able form with NaN made comparable (NaN != NaN).

    NaN is mapped by the JSON parser, never by replacing text: a random message id or a
    reply may contain the letters "NaN" (CI once failed on exactly that).
    """
    return json.loads(json.dumps(x, default=str), parse_constant=str)


def by_key(log: EvalLog) -> dict[tuple[str, int], EvalSample]:
    return {(str(s.id), s.epoch): s for s in log.samples or []}


def score_dump(sample: EvalSample) -> Any:
    return plain({k: v.model_dump() for k, v in (sample.scores or {}).items()})


def metric_values(log: EvalLog) -> dict[str, float]:
    assert log.results is not None
    return {
        f"{s.scorer}/{s.name}/{m}": v.value
        for s in log.results.scores
        for m, v in s.metrics.items()
    }


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def scorer_span(events: list[Any]) -> tuple[list[Any], list[Any]]:
    """(events outside the last scorers span, events inside it)."""
    span = None
    for e in events:
        if e.event == "span_begin" and e.type == "scorers" and e.name == "scorers":
            span = e.id
    ids = {span}
    inside, outside = [], []
    for e in events:
        if e.event == "span_begin" and (e.id == span or e.parent_id in ids):
            ids.add(e.id)
            inside.append(e)
        elif (e.event == "span_end" and e.id in ids) or getattr(e, "span_id", None) in ids:
            inside.append(e)
        else:
            outside.append(e)
    return outside, inside


def event_shape(e: Any) -> Any:
    d = e.model_dump(exclude_none=True)
    for k in (
        "uuid",
        "timestamp",
        "working_start",
        "id",
        "span_id",
        "parent_id",
        "completed",
        "working_time",
    ):
        d.pop(k, None)
    return plain(d)


def test_reproduces_every_score_and_metric(caver_log: Path, rescored: Path) -> None:
    original, new = read_eval_log(str(caver_log)), read_eval_log(str(rescored))
    a, b = by_key(original), by_key(new)
    assert a.keys() == b.keys()
    for key in a:
        assert score_dump(a[key]) == score_dump(b[key]), key
    ma, mb = metric_values(original), metric_values(new)
    assert ma.keys() == mb.keys()
    # the run summed in completion order, a re-score in inspect's sorted order: last digits
    assert all(close(ma[k], mb[k]) for k in ma), [k for k in ma if not close(ma[k], mb[k])]
    assert original.results and new.results
    assert new.results.total_samples == original.results.total_samples
    assert new.results.completed_samples == original.results.completed_samples
    assert plain([s.model_dump() for s in new.eval.scorers or []]) == plain(
        [s.model_dump() for s in original.eval.scorers or []]
    )


def test_results_and_reductions_match_inspect_score(
    rescored: Path, inspect_rescored: EvalLog
) -> None:
    new = read_eval_log(str(rescored))
    assert new.results and inspect_rescored.results
    assert plain(new.results.model_dump()) == plain(inspect_rescored.results.model_dump())
    assert plain([r.model_dump() for r in new.reductions or []]) == plain(
        [r.model_dump() for r in inspect_rescored.reductions or []]
    )
    assert new.reductions  # written by the workers, sample by sample


def test_events_other_than_the_scorers_are_untouched(
    caver_log: Path, rescored: Path, inspect_rescored: EvalLog
) -> None:
    original, new, ref = (
        by_key(read_eval_log(str(caver_log))),
        by_key(read_eval_log(str(rescored))),
        by_key(inspect_rescored),
    )
    for key, sample in new.items():
        outside, inside = scorer_span(sample.events)
        orig_outside, _ = scorer_span(original[key].events)
        assert [e.model_dump_json() for e in outside] == [
            e.model_dump_json() for e in orig_outside
        ], key
        _, ref_inside = scorer_span(ref[key].events)
        assert [event_shape(e) for e in inside] == [event_shape(e) for e in ref_inside], key
        assert sum(e.event == "score" for e in inside) == 5


def test_other_sample_fields_and_summaries_are_kept(caver_log: Path, rescored: Path) -> None:
    original, new = by_key(read_eval_log(str(caver_log))), by_key(read_eval_log(str(rescored)))
    for key, s in new.items():
        o = original[key]
        for field in (
            "input",
            "target",
            "metadata",
            "store",
            "messages",
            "output",
            "model_usage",
            "uuid",
            "attachments",
        ):
            assert plain(getattr(s, field)) == plain(getattr(o, field)), (key, field)
    with zipfile.ZipFile(rescored) as zf:
        assert zf.testzip() is None  # every member's CRC checks out
        names = zf.namelist()
    assert names[0] == "_journal/start.json" and names[-1] == "header.json"
    assert REDUCTIONS_JSON in names


def test_analysis_frame_reads_it_back_the_same(caver_log: Path, rescored: Path) -> None:
    a, b = load_run(caver_log).samples, load_run(rescored).samples
    keys = ["sample_id", "epoch"]
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert a.equals(b)


def test_gate_and_report_read_it_like_the_original(
    caver_log: Path, rescored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc_a = main(["gate", str(caver_log), "--policy", "default"])
    out_a = capsys.readouterr().out
    rc_b = main(["gate", str(rescored), "--policy", "default"])
    out_b = capsys.readouterr().out
    assert rc_a == rc_b
    assert out_a.replace(str(caver_log), "LOG") == out_b.replace(str(rescored), "LOG")
    assert main(["report", str(rescored), "-o", str(tmp_path / "r.html")]) == 0


def test_a_changed_score_is_recomputed(caver_log: Path, tmp_path: Path) -> None:
    log = read_eval_log(str(caver_log))
    target = next(s for s in log.samples or [] if s.scores and "end_chat" in s.scores)
    assert target.scores is not None
    before = score_dump(target)
    wrong = target.scores["end_chat"].model_copy(
        update={
            "value": {k: 1.0 for k in target.scores["end_chat"].value},  # type: ignore[union-attr]
            "explanation": "tampered",
        }
    )
    target.scores["end_chat"] = wrong
    target.scores["distress"] = Score(value=0.5)
    tampered = tmp_path / "tampered.eval"
    write_eval_log(log, str(tampered))
    digest = hashlib.sha256(tampered.read_bytes()).hexdigest()
    out = tmp_path / "fixed.eval"
    rescore_log(tampered, out, workers=1)
    assert hashlib.sha256(tampered.read_bytes()).hexdigest() == digest  # source untouched
    fixed = by_key(read_eval_log(str(out)))[(str(target.id), target.epoch)]
    assert score_dump(fixed) == before
    original_metrics = metric_values(read_eval_log(str(caver_log)))
    new_metrics = metric_values(read_eval_log(str(out)))
    assert all(close(original_metrics[k], new_metrics[k]) for k in original_metrics)


def test_scorer_subset_holds_only_those_scores(caver_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "distress.eval"
    rc = main(["rescore", str(caver_log), "-o", str(out), "--scorer", "distress", "--workers", "1"])
    assert rc == 0
    log = read_eval_log(str(out))
    assert {k for s in log.samples or [] for k in (s.scores or {})} == {"distress"}
    assert log.results is not None
    assert {s.scorer for s in log.results.scores} == {"distress"}
    assert [s.name for s in log.eval.scorers or []] == ["distress"]


def test_several_epochs_match_inspect_score(tmp_path: Path) -> None:
    """Two epochs: reduction happens in the main process, as inspect does it."""
    log = inspect_eval(
        build_task(categories=["explicit_end_request"]),
        model="equanimity/quitter",
        display="none",
        log_dir=str(tmp_path),
        epochs=2,
    )[0]
    out = tmp_path / "two-epochs.eval"
    result = rescore_log(Path(log.location), out, workers=2, chunk=SMALL_CHUNK)
    assert result.workers == 2
    ref = inspect_score(
        read_eval_log(log.location), default_scorers(), action="overwrite", display="none"
    )
    new = read_eval_log(str(out))
    assert new.results and ref.results
    assert plain(new.results.model_dump()) == plain(ref.results.model_dump())
    assert plain([r.model_dump() for r in new.reductions or []]) == plain(
        [r.model_dump() for r in ref.reductions or []]
    )
    a, b = by_key(new), by_key(ref)
    assert a.keys() == b.keys() and len({e for _, e in a}) == 2
    for key in a:
        assert score_dump(a[key]) == score_dump(b[key]), key


def test_existing_output_is_refused_unless_overwrite(
    caver_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.eval"
    out.write_bytes(b"keep me")
    assert main(["rescore", str(caver_log), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep me"
    assert main(["rescore", str(caver_log), "-o", str(out), "--overwrite", "--workers", "1"]) == 0
    assert read_eval_log(str(out), header_only=True).results is not None


def test_output_may_not_be_the_source(caver_log: Path) -> None:
    with pytest.raises(RescoreError, match="is the log being re-scored"):
        rescore_log(caver_log, caver_log, overwrite=True)


@pytest.mark.parametrize("content", [None, b"not a zip at all", b"PK\x03\x04broken"])
def test_bad_log_exits_2_naming_the_file(
    tmp_path: Path, content: bytes | None, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "bad.eval"
    if content is not None:
        log.write_bytes(content)
    out = tmp_path / "out.eval"
    assert main(["rescore", str(log), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(log) in err
    assert not out.exists()
    assert list(tmp_path.glob(".out.eval.*")) == []  # no temporary file left behind


def test_damaged_sample_exits_2_naming_file_and_member(
    caver_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged.eval"
    with zipfile.ZipFile(caver_log) as src, zipfile.ZipFile(damaged, "w") as dst:
        # the last sample in inspect's order: scored in a worker, not in the main process
        victim = max(n for n in src.namelist() if n.startswith("samples/"))
        for info in src.infolist():
            data = b'{"id": "broken"' if info.filename == victim else src.read(info)
            dst.writestr(info.filename, data)
    out = tmp_path / "out.eval"
    with pytest.raises(RescoreError) as caught:  # raised in a worker, reported here
        rescore_log(damaged, out, workers=2, chunk=1)
    assert str(damaged) in str(caught.value) and victim in str(caught.value)
    assert main(["rescore", str(damaged), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(damaged) in err and victim in err
    assert not out.exists()


def test_json_logs_and_unknown_scorers_are_refused(
    caver_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    js = tmp_path / "log.json"
    js.write_text("{}")
    assert main(["rescore", str(js), "-o", str(tmp_path / "o.eval")]) == 2
    assert "not an .eval log" in capsys.readouterr().err
    assert (
        main(["rescore", str(caver_log), "-o", str(tmp_path / "o.eval"), "--scorer", "nope"]) == 2
    )
    assert "nope" in capsys.readouterr().err


def test_splice_replaces_only_the_last_scorers_span() -> None:
    def ev(kind: str, **kw: Any) -> dict[str, Any]:
        return {"event": kind, **kw}

    events = [
        ev("span_begin", id="s", name="solvers", type="solvers", span_id="s"),
        ev("model", span_id="s"),
        ev("span_end", id="s", span_id="s"),
        ev("span_begin", id="c", name="scorers", type="scorers", span_id="c"),
        ev("span_begin", id="c1", parent_id="c", name="x", type="scorer", span_id="c1"),
        ev("score", span_id="c1"),
        ev("span_end", id="c1", span_id="c1"),
        ev("span_end", id="c", span_id="c"),
        ev("info", span_id=None),
    ]
    new = [ev("score", span_id="n")]
    assert splice_scorer_events(events, new) == [*events[:3], new[0], events[-1]]
    assert splice_scorer_events(events[:3], new) == [*events[:3], new[0]]


def test_a_bound_grader_reaches_the_judge_layer(caver_log: Path, tmp_path: Path) -> None:
    """``grader=`` is bound in every worker: the judge is asked (a persona cannot answer it)."""
    out = tmp_path / "judged.eval"
    result = rescore_log(
        caver_log,
        out,
        ["referral"],
        workers=2,
        chunk=SMALL_CHUNK,
        model_roles=("grader=equanimity/steady",),
    )
    assert result.workers == 2
    samples = read_eval_log(str(out)).samples or []
    # cascade: the judge is asked about the risk turns where the rule found no referral (the
    # caver's replies carry no distress marker for that cascade to ask about); calls in the pool's samples
    # (all but the first chunk, in inspect's order) show the grader was bound there too
    calls = [
        int((s.scores or {})["referral"].metadata.get("judge_calls", 0))  # type: ignore[union-attr]
        for s in samples
    ]
    assert sum(calls[SMALL_CHUNK:]) > 0
    plain_out = tmp_path / "rules.eval"
    rescore_log(caver_log, plain_out, ["referral"], workers=1)
    assert all(
        int((s.scores or {})["referral"].metadata.get("judge_calls", 0)) == 0  # type: ignore[union-attr]
        for s in read_eval_log(str(plain_out)).samples or []
    )


def test_rescore_rebuilds_scorers_with_the_logs_audit_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace
    from typing import cast

    from equanimity.rescore import worker

    def header(task_args: dict[str, Any], metadata: dict[str, Any] | None = None) -> EvalLog:
        return cast(
            EvalLog, SimpleNamespace(eval=SimpleNamespace(task_args=task_args, metadata=metadata))
        )

    assert worker.log_scorer_options(header({"judge_audit_rate": 0.3})) == {"audit_rate": 0.3}
    assert worker.log_scorer_options(header({}, {"judge_audit_rate": 0.25})) == {"audit_rate": 0.25}
    assert worker.log_scorer_options(header({}, None)) == {}  # an older log: the defaults
    assert worker.log_scorer_options(header({"judge_audit_rate": 7})) == {}  # out of range
    seen: list[dict[str, Any]] = []
    real = default_scorers

    def recording(**kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(worker, "default_scorers", recording)
    worker.build_scorers(
        ("distress",), **worker.log_scorer_options(header({"judge_audit_rate": 0.3}))
    )
    assert seen == [{"audit_rate": 0.3}]


def test_a_run_records_its_audit_rate_for_rescore() -> None:
    from equanimity.rescore.worker import log_scorer_options

    task = build_task(categories="emotional_support", sample=1, judge_audit_rate=0.4)
    assert (task.metadata or {})["judge_audit_rate"] == 0.4
    from types import SimpleNamespace
    from typing import cast

    head = cast(
        EvalLog, SimpleNamespace(eval=SimpleNamespace(task_args={}, metadata=task.metadata))
    )
    assert log_scorer_options(head) == {"audit_rate": 0.4}


def test_the_head_probabilities_of_unchanged_replies_are_not_computed_again(
    caver_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    from equanimity.scorers.distress import HEAD_KEY
    from equanimity.textclass import distress as distress_text
    from equanimity.textclass import embeddings, learned
    from equanimity.textclass.lexicons import clear_caches

    log = read_eval_log(str(caver_log))
    recorded = [
        md[HEAD_KEY]
        for s in log.samples or []
        if s.scores and HEAD_KEY in (md := s.scores["distress"].metadata or {})
    ]
    assert recorded and all(r["head"] == distress_text.head_id() for r in recorded)
    # a fresh process: nothing cached, the head's probabilities must come from the log
    clear_caches()
    embeddings.clear_cache()
    distress_text.forget_probabilities()
    calls: list[int] = []
    embedding = learned.load_head(distress_text.HEAD).spec.embedding_model
    real = learned.EMBEDDERS[embedding]

    def counting(texts: Any) -> Any:
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setitem(learned.EMBEDDERS, embedding, counting)
    out = tmp_path / "again.eval"
    rescore_log(caver_log, out, workers=1)
    assert calls == []  # no reply embedded: every head probability was re-used
    assert {k: score_dump(s) for k, s in by_key(read_eval_log(str(out))).items()} == {
        k: score_dump(s) for k, s in by_key(log).items()
    }
    # a changed reply is embedded afresh (its recorded probability is for another text)
    distress_text.forget_probabilities()
    assert distress_text.remember_probabilities("0" * 16, [("x" * 16, 0.9)]) == 0  # other head
    clear_caches()
    fresh = "My thoughts are racing and I feel completely unravelled (a reply nobody recorded)."
    v = distress_text.assess_distress(fresh)
    assert v.layer == "learned" and v.probability is not None  # past the screen: the head ran
    assert calls == [1]
