"""Score chunks of a log's samples, in this process or in each process of a pool.

Each process opens the source log once, builds the scorers and models once, and scores the
chunks of sample members it is given, returning them serialised and ready to write.
"""

from __future__ import annotations

import gc
import zipfile
from dataclasses import dataclass
from typing import Any

import anyio
import yaml
import zstandard
from inspect_ai.log import EvalLog
from inspect_ai.model import GenerateConfig, Model, get_model
from inspect_ai.scorer import Scorer
from inspect_ai.util import registry_info

from equanimity.rescore.errors import RescoreError
from equanimity.rescore.results import implicit_reducer
from equanimity.rescore.sample import ScoredSample, ScoringContext, rescore_sample
from equanimity.scorers.suite import default_scorers

ZSTD_LEVEL = 3
"""zstd level of the samples written (inspect's: ``compresslevel=None`` means 3)."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to score samples of one log (picklable)."""

    log_path: str
    """The source ``.eval`` log."""
    header: EvalLog
    """Its header."""
    scorer_names: tuple[str, ...]
    """The equanimity scorers to run, in order."""
    model_roles: tuple[str, ...]
    """``ROLE=MODEL`` bindings as given on the command line (``grader=...``)."""
    concurrency: int
    """Samples scored at once in one process (above 1 only helps with a grader)."""
    reduce: bool
    """Reduce each sample's scores here (single epoch, implicit reducer)."""


def unqualified_name(obj: object) -> str:
    """A registered object's name without its package (``equanimity/end_chat`` → ``end_chat``)."""
    return registry_info(obj).name.rsplit("/", 1)[-1]


def scorer_names() -> list[str]:
    """Names of the equanimity scorers that can be re-run, in their usual order."""
    return [unqualified_name(s) for s in default_scorers()]


def log_scorer_options(header: EvalLog) -> dict[str, Any]:
    """The judge options the log's run used (absent: the defaults).

    ``judge_audit_rate`` (the audit share) and, where a run recorded one, ``judge_cascade``,
    from the task args (``inspect eval -T``), else the task metadata (``equanimity run``).
    """
    args = {**(header.eval.metadata or {}), **(header.eval.task_args or {})}
    out: dict[str, Any] = {}
    rate = args.get("judge_audit_rate")
    if isinstance(rate, int | float) and not isinstance(rate, bool) and 0.0 <= rate <= 1.0:
        out["audit_rate"] = float(rate)
    cascade = args.get("judge_cascade")
    if isinstance(cascade, bool):
        out["cascade"] = cascade
    return out


def build_scorers(names: tuple[str, ...], **options: Any) -> list[Scorer]:
    """The named equanimity scorers (current code), in the order given.

    ``options`` go to :func:`default_scorers` (``audit_rate``, ``cascade``; e.g. the log's own,
    :func:`log_scorer_options`); without them the defaults.
    """
    by_name = {unqualified_name(s): s for s in default_scorers(**options)}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(
            f"unknown scorer(s) {', '.join(unknown)}; choose from {', '.join(by_name)}"
        )
    return [by_name[n] for n in names]


def _role_model(role: str, value: Any) -> Model:
    """One role's model from its parsed value: a model name, or a mapping as inspect takes."""
    if isinstance(value, str) and value.strip():
        return get_model(value.strip(), memoize=False)
    if isinstance(value, dict):
        params = dict(value)
        name = params.pop("model", None)
        model_args = params.pop("model_args", {}) or {}
        if not isinstance(name, str) or not name:
            raise ValueError(f"--model-role {role}: the mapping needs a 'model' name")
        if not isinstance(model_args, dict):
            raise ValueError(f"--model-role {role}: model_args must be a mapping")
        try:
            config = GenerateConfig(**params)
        except Exception as exc:  # pydantic's ValidationError: name the role, one line
            detail = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"--model-role {role}: invalid generate config ({detail})") from None
        return get_model(name, config=config, memoize=False, **model_args)
    raise ValueError(f"--model-role {role}: expected a model name or a mapping, got {value!r}")


def build_model_roles(specs: tuple[str, ...]) -> dict[str, Model | list[Model]]:
    """Models for ``ROLE=MODEL`` bindings, in inspect's ``--model-role`` syntax.

    ``ROLE=PROVIDER/MODEL``, or ``ROLE={model: ..., temperature: ..., model_args: {...}}``
    (YAML or JSON; generate config fields at the top level). One model per role.
    """
    roles: dict[str, Model | list[Model]] = {}
    for spec in specs:
        role, sep, raw = spec.partition("=")
        role = role.strip().replace("-", "_")
        if not sep or not role:
            raise ValueError(f"--model-role {spec!r}: expected ROLE=MODEL")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ValueError(f"--model-role {role}: not a model name or a YAML mapping") from None
        roles[role] = _role_model(role, value)
    return roles


def active_model(header: EvalLog) -> Model:
    """The evaluated model, rebuilt from the header as inspect does, or a stand-in.

    The scorers never call it (the judge uses the ``grader`` role); a provider that cannot be
    built here (no API key, package missing) is replaced by inspect's ``mockllm/model``.
    """
    ev = header.eval
    try:
        return get_model(
            model=ev.model,
            config=header.plan.config.merge(ev.model_generate_config),
            base_url=ev.model_base_url,
            **ev.model_args,
        )
    except Exception:
        return get_model("mockllm/model")


class ChunkScorer:
    """Scores chunks of one log's samples in the current process."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self._zip = zipfile.ZipFile(spec.log_path)
        self.ctx = ScoringContext(
            header=spec.header,
            scorers=build_scorers(spec.scorer_names, **log_scorer_options(spec.header)),
            model=active_model(spec.header),
            model_roles=build_model_roles(spec.model_roles),
            compressor=zstandard.ZstdCompressor(level=ZSTD_LEVEL),
            reducer=implicit_reducer() if spec.reduce else None,
        )

    def score(self, members: list[str]) -> list[ScoredSample]:
        """Re-score the named sample members, in order."""
        return anyio.run(self._score, members)

    async def _score(self, members: list[str]) -> list[ScoredSample]:
        out: list[ScoredSample | None] = [None] * len(members)

        async def one(i: int) -> None:
            name = members[i]
            try:
                raw = self._zip.read(name)
                out[i] = await rescore_sample(name, raw, self.ctx)
            except (OSError, zipfile.BadZipFile, zstandard.ZstdError, ValueError) as exc:
                # a damaged member or a sample inspect cannot read (pydantic's errors are
                # ValueErrors): one line naming the log and the member
                detail = (str(exc).splitlines() or [type(exc).__name__])[0]
                raise RescoreError(f"{self.spec.log_path}: {name}: {detail}") from None

        if self.spec.concurrency <= 1:
            for i in range(len(members)):
                await one(i)
        else:
            limiter = anyio.CapacityLimiter(self.spec.concurrency)

            async def limited(i: int) -> None:
                async with limiter:
                    await one(i)

            try:
                async with anyio.create_task_group() as tg:
                    for i in range(len(members)):
                        tg.start_soon(limited, i)
            except ExceptionGroup as group:  # the first failure, as when scoring in turn
                raise group.exceptions[0] from None
        return [s for s in out if s is not None]

    def close(self) -> None:
        """Close the source log."""
        self._zip.close()


_WORKER: ChunkScorer | None = None


def init_worker(spec: WorkerSpec) -> None:
    """Pool initialiser: open the log and build the scorers once per process."""
    global _WORKER
    _WORKER = ChunkScorer(spec)
    # what was inherited or built so far lives until the process ends: keep the cyclic
    # collector from walking it again and again while samples come and go
    gc.freeze()


def score_chunk(members: list[str]) -> list[ScoredSample]:
    """Pool task: re-score one chunk of sample members."""
    if _WORKER is None:
        raise RuntimeError("worker not initialised")
    return _WORKER.score(members)
