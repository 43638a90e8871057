"""Score recorded conversations with equanimity's scorers, as an ordinary inspect eval.

The task's solver does not generate: it puts the recorded per-turn record into the sample
store, where the replay solver would have written it (the messages are already the sample's
input). The model is ``mockllm/model`` only because inspect needs one; it is built to raise if
anything ever calls it, so a log that succeeds is proof no model was asked anything.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    Model,
    ModelOutput,
    get_model,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import DisplayType

from equanimity.records import REPLAY_STORE_KEY
from equanimity.scenarios.dataset import scenario_metadata
from equanimity.scenarios.schema import Category
from equanimity.scorers.suite import default_scorers
from equanimity.transcripts.convert import (
    TRANSCRIPT_MODEL,
    Conversation,
    build_conversation,
    conversation_id,
)
from equanimity.transcripts.parse import LineError, read_lines, to_messages
from equanimity.transcripts.redact import redact_log

TASK_NAME = "transcripts"
"""Name of the scoring task in the log."""

RECORD_KEY = "equanimity:transcript_record"
"""Sample metadata key carrying the record to the solver (removed by the solver)."""


@dataclass
class LoadedTranscripts:
    """The conversations read from one JSONL file, and the lines that could not be read."""

    path: Path
    """The file read."""
    conversations: list[Conversation] = field(default_factory=list)
    """Conversations ready to score, in file order."""
    errors: list[LineError] = field(default_factory=list)
    """Malformed lines, in file order (each names its line)."""
    lines: int = 0
    """Non-blank lines read."""


def load_transcripts(
    path: str | Path, default_category: Category | None = None, hashed_ids: bool = False
) -> LoadedTranscripts:
    """Read and convert every line of ``path``; bad lines become errors, never exceptions."""
    loaded = LoadedTranscripts(Path(path))
    asyncio.run(_load(loaded, default_category, hashed_ids))
    return loaded


async def _load(
    loaded: LoadedTranscripts, default_category: Category | None, hashed_ids: bool
) -> None:
    seen: dict[str, int] = {}
    for n, obj in read_lines(loaded.path):
        loaded.lines += 1
        if isinstance(obj, LineError):
            loaded.errors.append(obj)
            continue
        try:
            sid = conversation_id(obj, n, hashed_ids)
            if sid in seen:
                raise LineError(n, f"duplicate id (also on line {seen[sid]})")
            raw = await to_messages(obj, n)
            conv = build_conversation(raw, sid, default_category)
        except LineError as exc:
            loaded.errors.append(exc)
            continue
        seen[sid] = n
        loaded.conversations.append(conv)


def conversation_sample(conv: Conversation) -> Sample:
    """Build the sample of one conversation: its messages as input, its record in metadata."""
    metadata = scenario_metadata(conv.scenario)
    metadata["category"] = conv.category
    metadata["transcript"] = {
        "line": conv.line,
        "format": conv.format,
        "category_given": conv.category_given,
        "notes": conv.notes,
    }
    metadata[RECORD_KEY] = conv.record.model_dump(mode="json")
    return Sample(
        id=conv.scenario.id,
        input=list(conv.messages),
        target=conv.scenario.expect.correct_answer or "",
        metadata=metadata,
    )


@solver
def replay_transcript() -> Solver:
    """Put the recorded conversation's per-turn record into the store (no model call)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        record = state.metadata.pop(RECORD_KEY, None)
        if record is None:
            raise ValueError(f"sample {state.sample_id} has no recorded conversation")
        state.store.set(REPLAY_STORE_KEY, record)
        last = next(
            (m for m in reversed(state.messages) if isinstance(m, ChatMessageAssistant)), None
        )
        if last is not None:
            state.output = ModelOutput(
                model=TRANSCRIPT_MODEL,
                choices=[ChatCompletionChoice(message=last, stop_reason="stop")],
            )
        return state

    return solve


def transcripts_task(loaded: LoadedTranscripts) -> Task:
    """Build the inspect task scoring ``loaded`` with :func:`default_scorers`."""
    samples = [conversation_sample(c) for c in loaded.conversations]
    return Task(
        dataset=MemoryDataset(samples, name=loaded.path.stem),
        solver=replay_transcript(),
        scorer=default_scorers(),
        name=TASK_NAME,
        version=1,
        metadata=source_metadata(loaded),
    )


def source_metadata(loaded: LoadedTranscripts) -> dict[str, Any]:
    """Describe the source for the log: file name, counts, malformed lines."""
    return {
        "equanimity_source": "score-transcripts",
        "source_file": loaded.path.name,
        "lines": loaded.lines,
        "conversations": len(loaded.conversations),
        "malformed": [{"line": e.line, "error": e.reason} for e in loaded.errors],
    }


def _never_called(*_: Any) -> ModelOutput:
    raise RuntimeError("score-transcripts must never call a model")


def offline_model() -> Model:
    """``mockllm/model`` wired to raise if it is ever asked to generate."""
    return get_model("mockllm/model", custom_outputs=_never_called)


def score_transcripts(
    loaded: LoadedTranscripts,
    log_dir: str | Path,
    redact: bool = False,
    display: DisplayType = "none",
) -> EvalLog:
    """Score the conversations; return the log written to ``log_dir``.

    With ``redact`` the eval runs in a temporary folder (deleted afterwards) and only the
    redacted copy of its log (:func:`equanimity.transcripts.redact.redact_log`) is written.
    """
    if not loaded.conversations:
        raise ValueError(f"{loaded.path}: no conversation could be read")
    out = Path(log_dir)
    out.mkdir(parents=True, exist_ok=True)
    task = transcripts_task(loaded)
    if not redact:
        log = inspect_eval(
            task, model=offline_model(), log_dir=str(out), display=display, log_realtime=False
        )[0]
        return read_eval_log(log.location)

    with tempfile.TemporaryDirectory(prefix="equanimity-redact-") as tmp:
        first = inspect_eval(
            task, model=offline_model(), log_dir=tmp, display=display, log_realtime=False
        )[0]
        full = read_eval_log(first.location)
        redacted = redact_log(full)
        target = out / Path(first.location).name
        write_eval_log(redacted, str(target))
    return read_eval_log(str(target))
