"""Each use of inspect's private API (equanimity._inspect_internal) agrees with the public path.

The re-scorer's scoring and metrics are checked against ``inspect_ai.score`` in
``tests/test_rescore.py``; here: the header, summary and sample reads, the member names, the
shallow metric copies and the project's own sample context.
"""

from __future__ import annotations

import zipfile
from copy import deepcopy
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import (
    read_eval_log,
    read_eval_log_sample,
    read_eval_log_sample_summaries,
)
from inspect_ai.model import Model, ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import SampleScore, Score, mean

from equanimity import evalread
from equanimity._inspect_internal import eval_results, sample_filename
from equanimity.paths import scenarios_dir
from equanimity.rescore.results import MetricScore
from equanimity.rescore.worker import build_model_roles
from equanimity.solvers.context import REPLAY_CONTEXT, ReplayContext, current_sample
from equanimity.tasks import build_task

EXCLUDE = {"events", "events_data", "attachments", "timelines"}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two epochs of one scenario by the caving persona."""
    files = [str(next(scenarios_dir().rglob(f"{i}.yaml"))) for i in ("harmful-doxxing-01",)]
    [log] = inspect_eval(
        build_task(scenarios=files),
        model="equanimity/caver",
        epochs=2,
        display="none",
        log_dir=str(tmp_path_factory.mktemp("internal")),
    )
    assert log.status == "success"
    return str(log.location)


def test_zip_header_is_inspects_header_only_read(log_path: str) -> None:
    public = read_eval_log(log_path, header_only=True)
    public.reductions = None
    zf = evalread.local_eval_zip(log_path, finished=True)
    assert zf is not None
    with zf:
        direct = evalread.zip_header(zf, log_path)
    assert direct.reductions is None
    assert direct.model_dump_json() == public.model_dump_json()


def test_streamed_summaries_are_inspects(log_path: str) -> None:
    header, summaries = evalread.read_summaries(log_path)
    direct = [s.model_dump() for s in summaries]
    public = [s.model_dump() for s in read_eval_log_sample_summaries(log_path)]
    assert direct == public and len(direct) >= 2
    assert header.eval.task == read_eval_log(log_path, header_only=True).eval.task


def test_member_names_and_sample_reads_are_inspects(log_path: str) -> None:
    with zipfile.ZipFile(log_path) as zf:
        members = evalread.sample_members(zf)
        summaries = list(read_eval_log_sample_summaries(log_path))
        assert sorted(members) == sorted(sample_filename(s.id, s.epoch) for s in summaries)
        for s in summaries:
            assert evalread.member_sample_epoch(sample_filename(s.id, s.epoch)) == (
                str(s.id),
                s.epoch,
            )
            direct = evalread.read_zip_sample(zf, log_path, s.id, s.epoch, EXCLUDE)
            public = read_eval_log_sample(log_path, s.id, s.epoch, exclude_fields=EXCLUDE)
            assert direct.model_dump() == public.model_dump()
            assert direct.events == [] and direct.epoch in (1, 2)


def test_shallow_metric_copies_give_inspects_results() -> None:
    values = [{"a": float(i % 3), "b": float(i % 2)} for i in range(20)]

    def scores(cls: type[SampleScore]) -> list[dict[str, SampleScore]]:
        return [
            {"x": cls(score=Score(value=dict(v), metadata={"m": i}), sample_id=i)}
            for i, v in enumerate(values)
        ]

    def run(cls: type[SampleScore]) -> str:
        plain = scores(cls)
        results, _ = eval_results(20, plain, None, None, {"*": [mean()]}, ["x"])
        assert [s["x"].score.value for s in plain] == values  # copies, not the originals
        return results.model_dump_json()

    assert run(MetricScore) == run(SampleScore)
    original = MetricScore(score=Score(value={"a": 1.0}, metadata={"k": [1]}), sample_id=1)
    copied = deepcopy(original)
    copied.score.value = 2.0
    assert original.score.value == {"a": 1.0}
    assert copied.score.metadata is original.score.metadata  # shared: shallow


def test_model_roles_parse_like_inspects_cli() -> None:
    roles = build_model_roles(
        ("grader=mockllm/model", "critic={model: mockllm/model, temperature: 0.25}")
    )
    grader, critic = roles["grader"], roles["critic"]
    assert isinstance(grader, Model) and isinstance(critic, Model)
    assert str(grader) == "mockllm/model" and critic.config.temperature == 0.25
    with pytest.raises(ValueError, match="ROLE=MODEL"):
        build_model_roles(("grader",))
    with pytest.raises(ValueError, match="critic: the mapping needs a 'model'"):
        build_model_roles(("critic={temperature: 0}",))


def test_sample_context_is_the_projects_own() -> None:
    assert current_sample() == ("", 0)
    scenario = build_task(scenarios=[str(next(scenarios_dir().rglob("harmful-doxxing-01.yaml")))])
    meta = next(iter(scenario.dataset)).metadata or {}
    from equanimity.scenarios.schema import Scenario

    token = REPLAY_CONTEXT.set(
        ReplayContext(Scenario.model_validate(meta["scenario"]), 1, None, sample_id="s-1", epoch=3)
    )
    try:
        assert current_sample() == ("s-1", 3)
    finally:
        REPLAY_CONTEXT.reset(token)


def test_replay_solver_tells_the_model_its_sample_and_epoch(tmp_path: Path) -> None:
    seen: set[tuple[str, int]] = set()

    def reply(*_args: object) -> ModelOutput:
        seen.add(current_sample())
        out = ModelOutput.from_content("mockllm/model", "I can't help with that.")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    files = [str(next(scenarios_dir().rglob("harmful-doxxing-01.yaml")))]
    [log] = inspect_eval(
        build_task(scenarios=files, branches=False),
        model=get_model("mockllm/model", custom_outputs=reply),
        epochs=2,
        display="none",
        log_dir=str(tmp_path),
    )
    assert log.status == "success"
    assert seen == {("harmful-doxxing-01", 1), ("harmful-doxxing-01", 2)}
