"""The ``equanimity`` model API: ``equanimity/<persona>`` reference models (offline, instant)."""

from __future__ import annotations

from typing import Any, cast

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from equanimity.models.personas import (
    PERSONAS,
    Persona,
    choose_act,
    end_reason,
    fallback_reply,
    render,
)
from equanimity.models.tool_convention import render_call
from equanimity.solvers.context import REPLAY_CONTEXT
from equanimity.tools import END_TOOL_NAME


def _usage(messages: list[ChatMessage], text: str) -> ModelUsage:
    # word counts stand in for tokens: no tokenizer download, stable across runs
    n_in = sum(len(m.text.split()) for m in messages)
    n_out = len(text.split())
    return ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)


_DEFAULT_CONFIG = GenerateConfig()


class ReferenceModelAPI(ModelAPI):
    """A deterministic persona; ``-M seed=N`` varies the phrasing it picks."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = _DEFAULT_CONFIG,
        seed: int = 0,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        if model_name not in PERSONAS:
            raise ValueError(
                f"unknown reference model 'equanimity/{model_name}' "
                f"(known: {', '.join(PERSONAS)}, local)"
            )
        self.persona = cast(Persona, model_name)
        self.seed = int(seed)

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Reply as the persona would at this point of the replay."""
        ctx = REPLAY_CONTEXT.get()
        name = f"equanimity/{self.persona}"
        if ctx is None:
            text = fallback_reply(self.seed)
            return ModelOutput.from_content(name, text).model_copy(
                update={"usage": _usage(input, text)}
            )
        act = choose_act(self.persona, ctx)
        text = render(self.persona, act, ctx, self.seed)
        offered = any(t.name == END_TOOL_NAME for t in tools)
        if act.end and ctx.end_offer == "tag":  # the written convention, in the reply text
            text = f"{text}\n{render_call(end_reason(act))}"
        if act.end and offered:
            output = ModelOutput.for_tool_call(
                name, END_TOOL_NAME, {"reason": end_reason(act)}, content=text
            )
        else:
            output = ModelOutput.from_content(name, text)
        output.usage = _usage(input, text)
        return output

    def max_connections(self) -> int:
        """Instant in-process model: allow many concurrent samples."""
        return 1000
