"""The llama.cpp side of ``equanimity/local``: model, KV-cache snapshots, prompts, seeds.

One loaded model per process, its cache of conversation states (KV-cache snapshots), prompt
fitting and per-call seeding. Only this module touches llama-cpp-python (imported when a model is loaded).
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from equanimity.models.local.settings import DEFAULT_SEED, INSTALL_HINT, LocalModelError

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

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
        head = self.head_formatter(messages=cast(Any, messages[:1]))
        head_tokens = self.llm.tokenize(
            head.prompt.encode("utf-8"), add_bos=not head.added_special, special=True
        )
        n = len(head_tokens)
        if 0 < n < len(prompt.tokens) and prompt.tokens[:n] == head_tokens:
            return replace(prompt, system_tokens=n)
        return prompt

    def complete(self, prompt: Prompt, **sampling: Any) -> tuple[dict[str, Any], float, float]:
        """Complete ``prompt``; return the completion dict, the seconds and the CPU seconds taken.

        Neither counts the wait for the lock; the CPU seconds are the process's in the lock
        (llama.cpp's threads included).
        """
        with self.lock:
            start = time.perf_counter()
            cpu = time.process_time()
            try:
                self._position(prompt)
                result = cast(
                    dict[str, Any],
                    self.llm.create_completion(
                        prompt=prompt.tokens,
                        max_tokens=prompt.max_tokens,
                        stop=prompt.stop or None,
                        **sampling,
                    ),
                )
            except BaseException:
                self._live = None
                raise
            self._remember(pinned=False)
            return result, time.perf_counter() - start, time.process_time() - cpu

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
        llm: Any = self.llm  # Llama.reset is untyped
        llm.reset()
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
        response = formatter(messages=cast(Any, messages))
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
