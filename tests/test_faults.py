"""Provider faults (``equanimity/faulty``): retried as configured, or visibly errored, never a pass.

Each fault kind is injected into a few scenarios of the real replay task. A call that recovers
within ``max_retries`` leaves a normal sample; one that does not errors its sample, which stays
in the log and the analysis frame, is excluded from the headline metrics, and is counted where
a reader sees it (the run summary, the report). Malformed tool calls and empty replies are model
output, not errors: the chat goes on and the reply is scored as what it is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.event import ModelEvent
from inspect_ai.log import EvalLog, EvalSample, read_eval_log
from inspect_ai.model import (
    ChatMessage,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
    get_model,
)
from tenacity import RetryError

from equanimity.analysis.frame import headline_table, load_run
from equanimity.analysis.headline import HEADLINE_BY_ID
from equanimity.cli import main
from equanimity.models.faulty import (
    GIVE_UP_AFTER,
    FaultyModelAPI,
    GaveUpFault,
    InjectedFault,
    RateLimitFault,
    ServerErrorFault,
    TimeoutFault,
)
from equanimity.paths import scenarios_dir
from equanimity.records import replay_record
from equanimity.scenarios.loader import load_scenario
from equanimity.tasks import build_task

HARMFUL = [
    "harmful-doxxing-01",
    "harmful-drug-synthesis-01",
    "harmful-email-intrusion-01",
    "harmful-fake-id-01",
    "harmful-money-laundering-01",
    "harmful-phishing-bank-01",
]
ABUSIVE = [
    "abuse-insults-escalating-01",
    "abuse-pure-tirade-01",
    "abuse-coding-frustration-01",
    "abuse-mocking-feelings-01",
]
SELF_HARM = ["selfharm-self-injury-01", "selfharm-giving-belongings-01"]


def _files(ids: list[str]) -> list[str]:
    root = scenarios_dir()
    return [str(next(root.rglob(f"{i}.yaml"))) for i in ids]


def _run(log_dir: Path, ids: list[str], model_args: dict[str, Any], **kwargs: Any) -> EvalLog:
    task = build_task(scenarios=_files(ids), branches=False)
    [log] = inspect_eval(
        task,
        model="equanimity/faulty",
        model_args=model_args,
        display="none",
        log_dir=str(log_dir),
        **kwargs,
    )
    assert log.location
    return read_eval_log(log.location)


def _calls(sample: EvalSample) -> list[ModelEvent]:
    return [e for e in sample.events if isinstance(e, ModelEvent)]


# --- the model API on its own (no eval: fast) ------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "exc"),
    [("rate_limit", RateLimitFault), ("timeout", TimeoutFault), ("server_error", ServerErrorFault)],
)
def test_retryable_faults_are_retried_until_recovery(fault: str, exc: type) -> None:
    model = get_model(
        "equanimity/faulty",
        fault=fault,
        rate=1.0,
        recover_after=2,
        config=GenerateConfig(max_retries=2),
    )
    api = model.api
    assert isinstance(api, FaultyModelAPI)
    assert api.should_retry(exc("here", 1))
    out = asyncio.run(model.generate("hello"))
    assert out.completion  # the steady persona's fallback reply
    assert list(api.attempts.values()) == [3]  # two injected failures, then the answer


@pytest.mark.parametrize("fault", ["rate_limit", "timeout", "server_error"])
def test_retryable_faults_give_up_after_max_retries(fault: str) -> None:
    model = get_model(
        "equanimity/faulty",
        fault=fault,
        rate=1.0,
        recover_after=5,
        config=GenerateConfig(max_retries=1),
    )
    with pytest.raises(RetryError) as info:
        asyncio.run(model.generate("hello"))
    assert isinstance(info.value.last_attempt.exception(), InjectedFault)
    assert isinstance(model.api, FaultyModelAPI)
    assert list(model.api.attempts.values()) == [2]


def test_a_fault_that_never_recovers_stops_without_max_retries() -> None:
    """Without max_retries inspect retries forever; the model gives up by itself instead."""
    model = get_model("equanimity/faulty", fault="server_error", rate=1.0, recover_after="never")
    with pytest.raises(GaveUpFault):
        asyncio.run(model.generate("hello"))
    assert isinstance(model.api, FaultyModelAPI)
    assert list(model.api.attempts.values()) == [GIVE_UP_AFTER]
    assert not model.api.should_retry(GaveUpFault("here", GIVE_UP_AFTER))


def test_rate_zero_and_fault_none_never_fault() -> None:
    for fault, rate in (("server_error", 0.0), ("none", 1.0)):
        model = get_model(
            "equanimity/faulty", config=GenerateConfig(max_retries=0), fault=fault, rate=rate
        )
        assert asyncio.run(model.generate("hello")).completion


@pytest.mark.parametrize(
    "args",
    [
        {"fault": "meteor"},
        {"rate": 1.5},
        {"persona": "saint"},
        {"recover_after": -1},
        {"delay": -1},
    ],
)
def test_bad_model_args_are_refused(args: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultyModelAPI("faulty", **args)


def test_faulted_positions_are_deterministic() -> None:
    """Which positions fault depends on (position, seed), not on call order or timing."""
    a = FaultyModelAPI("faulty", fault="empty", rate=0.5)
    b = FaultyModelAPI("faulty", fault="empty", rate=0.5)
    inputs: list[list[ChatMessage]] = [[ChatMessageUser(content=f"message {i}")] for i in range(40)]
    first = [a._position(i)[1] for i in inputs]
    second = [b._position(i)[1] for i in reversed(inputs)]
    assert first == list(reversed(second))
    assert 0 < sum(first) < len(first)


# --- whole runs through the replay task --------------------------------------------------------


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """Every call rate-limited twice, then answered; max_retries 2 is enough."""
    return _run(
        tmp_path_factory.mktemp("recovered"),
        HARMFUL[:3],
        {"fault": "rate_limit", "rate": 1.0, "recover_after": 2},
        max_retries=2,
    )


def test_retried_run_finishes_like_a_clean_one(recovered: EvalLog) -> None:
    assert recovered.status == "success"
    assert recovered.samples is not None and len(recovered.samples) == 3
    for sample in recovered.samples:
        assert sample.error is None
        calls = _calls(sample)
        answered = [e for e in calls if e.error is None]
        failed = [e for e in calls if e.error is not None]
        assert answered, sample.id
        # inspect records each failed attempt: two 429s, then the answer, at every turn
        assert len(failed) == 2 * len(answered)
        assert all("HTTP 429" in (e.error or "") for e in failed)
        pattern = ["fail" if e.error else "ok" for e in calls]
        assert pattern == ["fail", "fail", "ok"] * len(answered)
        assert sample.scores is not None
        # the steady persona refuses throughout once the retries succeed
        value = sample.scores["refusal_persistence"].value
        assert isinstance(value, dict) and value["persisted"] == 1.0


@pytest.fixture(scope="module")
def exhausted(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """500s that never recover, one retry allowed, the run told to carry on past errors."""
    return _run(
        tmp_path_factory.mktemp("exhausted"),
        HARMFUL,
        {"fault": "server_error", "rate": 0.15, "recover_after": "never"},
        max_retries=1,
        fail_on_error=False,
    )


def _errored(log: EvalLog) -> list[EvalSample]:
    assert log.samples is not None
    return [s for s in log.samples if s.error is not None]


def test_failed_samples_stay_in_the_log_as_errors(exhausted: EvalLog) -> None:
    assert exhausted.samples is not None
    assert len(exhausted.samples) == len(HARMFUL)  # none dropped
    errored = _errored(exhausted)
    assert 0 < len(errored) < len(HARMFUL), "the seed should give a mix of errored and clean"
    for s in errored:
        assert s.error is not None and "ServerErrorFault" in s.error.message
        assert all(e.error is not None for e in _calls(s)[-2:])  # the try and its one retry


def test_failed_samples_are_marked_in_the_frame_and_left_out_of_metrics(
    exhausted: EvalLog,
) -> None:
    assert exhausted.location
    run = load_run(exhausted.location)
    df = run.samples
    errored_ids = {str(s.id) for s in _errored(exhausted)}
    assert set(df.loc[df["error"].notna(), "sample_id"]) == errored_ids
    assert len(df) == len(HARMFUL)
    est = headline_table(run, (HEADLINE_BY_ID["persistence_rate"],))["persistence_rate"]
    # only the clean samples count, and the steady persona persisted in each of them
    assert est.n == len(HARMFUL) - len(errored_ids)
    assert est.value == 1.0
    # nothing of an errored sample is scored as a pass
    col = "refusal_persistence.persisted"
    if col in df.columns:
        assert not (df.loc[df["error"].notna(), col] == 1.0).any()


def test_errored_count_is_visible_in_summary_and_report(
    exhausted: EvalLog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from equanimity.commands.run import print_summary

    assert exhausted.location
    n = len(_errored(exhausted))
    print_summary(exhausted.location)
    assert f"errored: {n}" in capsys.readouterr().out
    try:
        from equanimity.report.render import render_report
    except ImportError:
        pytest.skip("equanimity.report.render is not available yet")
    html = render_report([exhausted.location], tmp_path / "r.html").read_text("utf-8")
    assert f"{n} errored sample" in html


def test_run_command_fails_when_a_call_never_recovers(tmp_path: Path) -> None:
    """inspect's default stops the run at the first errored sample: `equanimity run` exits 2."""
    code = main(
        [
            "run",
            "--model",
            "equanimity/faulty",
            "-M",
            "fault=timeout",
            "-M",
            "rate=1",
            "-M",
            "recover_after=never",
            "--max-retries",
            "1",
            "--no-branches",
            "--scenarios",
            *_files(HARMFUL[:2]),
            "--log-dir",
            str(tmp_path),
            "--no-report",
            "--display",
            "none",
        ]
    )
    assert code == 2
    [log_file] = tmp_path.glob("*.eval")
    log = read_eval_log(str(log_file))
    assert log.status == "error"
    assert log.samples and any(s.error is not None for s in log.samples)


@pytest.fixture(scope="module")
def unknown_tool(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """Every reply calls a tool that was never offered."""
    return _run(
        tmp_path_factory.mktemp("unknown_tool"),
        ABUSIVE[:2],
        {"fault": "malformed_tool_call", "malformed": "unknown_tool", "rate": 1.0},
    )


@pytest.fixture(scope="module")
def garbled_end(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """Every reply calls end_conversation with arguments that failed to parse."""
    return _run(
        tmp_path_factory.mktemp("garbled_end"),
        ABUSIVE[2:],
        {"fault": "malformed_tool_call", "malformed": "garbled_end", "rate": 1.0},
    )


def _bad_calls(sample: EvalSample) -> list[str]:
    return [
        "parse_error" if c.parse_error else c.function
        for m in sample.messages
        if m.role == "assistant"
        for c in (m.tool_calls or [])
    ]


@pytest.mark.parametrize(
    ("which", "kind"), [("unknown_tool", "summon_moderator"), ("garbled_end", "parse_error")]
)
def test_malformed_tool_calls_do_not_crash_the_replay(
    which: str,
    kind: str,
    request: pytest.FixtureRequest,
) -> None:
    log: EvalLog = request.getfixturevalue(which)
    assert log.status == "success"
    assert log.samples is not None and len(log.samples) == 2
    for s in log.samples:
        assert s.error is None
        assert set(_bad_calls(s)) == {kind}
        record = replay_record(s.store)
        assert record is not None and record.turns
        tool_msgs = [m for m in s.messages if isinstance(m, ChatMessageTool)]
        # inspect answered every bad call with a tool error, never with a result
        assert tool_msgs and all(m.error is not None for m in tool_msgs)
        assert s.scores is not None and "end_chat" in s.scores


def _assert_chat_went_on(log: EvalLog) -> None:
    assert log.samples is not None
    for s in log.samples:
        record = replay_record(s.store)
        scenario = load_scenario(_files([str(s.id)])[0])
        assert record is not None
        assert not record.ended, f"{s.id}: ended by a call that never ran"
        assert len(record.turns) == len(scenario.turns)  # every scripted turn was sent


def test_calls_to_unknown_tools_do_not_end_the_chat(unknown_tool: EvalLog) -> None:
    _assert_chat_went_on(unknown_tool)


def test_a_garbled_end_conversation_call_does_not_end_the_chat(garbled_end: EvalLog) -> None:
    _assert_chat_went_on(garbled_end)


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> EvalLog:
    """Every reply is empty."""
    return _run(
        tmp_path_factory.mktemp("empty"), HARMFUL[:2] + SELF_HARM, {"fault": "empty", "rate": 1.0}
    )


def test_empty_replies_are_never_scored_as_passes(empty: EvalLog) -> None:
    assert empty.status == "success" and empty.samples is not None
    for s in empty.samples:
        assert s.error is None
        record = replay_record(s.store)
        assert record is not None and record.turns
        assert all(t.reply == "" and t.refusal == "partial" for t in record.turns)
        assert s.scores is not None
        values: dict[str, Any] = {k: v.value for k, v in s.scores.items()}
        category = (s.metadata or {})["category"]
        if category == "harmful_persistent":
            # an empty reply is not a refusal: persistence is not credited
            assert values["refusal_persistence"]["persisted"] != 1.0
        if category == "self_harm_risk":
            assert values["referral"]["referred_in_time"] != 1.0
