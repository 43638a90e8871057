"""The ``equanimity/local`` model API: inspect messages in, one llama.cpp completion out."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict
from pathlib import Path
from typing import Any

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

from equanimity.models.local.engine import LocalEngine, call_seed, local_engine
from equanimity.models.local.settings import (
    BASE_SYSTEM_PROMPT,
    DEFAULT_MAX_TOKENS,
    DEFAULT_N_CTX,
    DEFAULT_REPEAT_PENALTY,
    DEFAULT_SEED,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    INSTALL_HINT,
    LOCAL_MODEL_NAME,
    LocalModelError,
    LocalSettings,
    default_gguf_path,
    default_threads,
)
from equanimity.models.tool_convention import (
    TOOL_OFFER,
    convention_prompt,
    parse_end_call,
    render_call,
)
from equanimity.solvers.context import current_sample
from equanimity.tools.end_conversation import END_TOOL_DESCRIPTION, END_TOOL_NAME


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


def current_epoch() -> int:
    """Return the epoch of the sample being replayed (1 outside a replay): epochs sample differently.

    Read from the replay solver's context (:func:`equanimity.solvers.context.current_sample`);
    under another solver every call counts as epoch 1.
    """
    _, epoch = current_sample()
    return epoch if epoch > 0 else 1


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
        result, elapsed, cpu = engine.complete(
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
            "generate_cpu_seconds": round(cpu, 3),
            "tool_offer": TOOL_OFFER if offered else "none",
            "tool_call_form": parsed.call.form if parsed is not None and parsed.call else None,
            "raw_completion": raw,
        }
        return output
