"""``equanimity/faulty``: a reference persona whose provider misbehaves, on purpose and on cue.

It answers like a persona (``steady`` by default) but injects one kind of fault into a
deterministic share of the model calls, so that retries, errored samples, malformed tool calls,
empty replies and interrupted runs can be tested offline. Model arguments (``-M key=value``):

- ``fault``: ``rate_limit`` (HTTP 429), ``timeout``, ``server_error`` (HTTP 500),
  ``malformed_tool_call``, ``empty`` (an empty reply) or ``none`` (the default).
- ``rate``: share of (sample, turn) positions that fault, 0 to 1 (default 0.3).
- ``recover_after``: failing attempts before a faulted position answers normally (default 1;
  ``never`` keeps failing). The exception faults are retryable (``should_retry``), so inspect
  retries them up to ``max_retries``; a position that is still failing errors its sample.
- ``malformed``: the kind of malformed tool call: ``unknown_tool`` (a call to a function that
  was not offered), ``garbled_end`` (an ``end_conversation`` call whose arguments failed to
  parse) or ``mixed`` (either, by position; the default).
- ``backoff``: seconds between retries (default 0; inspect's own default starts at 3 s).
- ``delay``: seconds to sleep in every call (default 0; for interruption tests).
- ``persona``: the persona answered with (default ``steady``); ``seed`` as for the personas.

Which positions fault is a pure function of (scenario, branch, epoch, turn, seed) and the
attempt number of that position, never of timing or of the order samples run in.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from typing import Any, Literal, get_args

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    RetryDecision,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo
from tenacity import wait_fixed
from tenacity.wait import WaitBaseT

from equanimity.models.personas import PERSONAS
from equanimity.models.reference import ReferenceModelAPI
from equanimity.solvers.context import REPLAY_CONTEXT, current_sample
from equanimity.tools import END_TOOL_NAME

FAULTY_MODEL_NAME = "faulty"
"""Model name of the fault-injecting provider (``equanimity/faulty``)."""

Fault = Literal["none", "rate_limit", "timeout", "server_error", "malformed_tool_call", "empty"]
FAULTS: tuple[str, ...] = get_args(Fault)
"""Accepted values of the ``fault`` model argument."""

MALFORMED = ("mixed", "unknown_tool", "garbled_end")
"""Accepted values of the ``malformed`` model argument."""

_DEFAULT_CONFIG = GenerateConfig()

GIVE_UP_AFTER = 100
"""Attempts at one position after which the fault stops being retryable (a safety stop for a
run without ``max_retries``, where inspect would otherwise retry forever)."""


class InjectedFault(Exception):
    """A provider error raised on purpose by ``equanimity/faulty``."""

    kind: str = "fault"
    status_code: int | None = None

    def __init__(self, where: str, attempt: int) -> None:
        self.where = where
        self.attempt = attempt
        code = f"HTTP {self.status_code} " if self.status_code else ""
        super().__init__(f"injected {code}{self.kind} at {where} (attempt {attempt})")


class RateLimitFault(InjectedFault):
    """HTTP 429: too many requests (retried as a rate limit)."""

    kind = "rate_limit"
    status_code = 429


class TimeoutFault(InjectedFault):
    """The provider did not answer in time (retried as transient)."""

    kind = "timeout"


class ServerErrorFault(InjectedFault):
    """HTTP 500: internal server error (retried as transient)."""

    kind = "server_error"
    status_code = 500


class GaveUpFault(InjectedFault):
    """Raised after :data:`GIVE_UP_AFTER` attempts at one position; not retryable."""

    kind = "gave_up"


_EXCEPTIONS: dict[str, type[InjectedFault]] = {
    "rate_limit": RateLimitFault,
    "timeout": TimeoutFault,
    "server_error": ServerErrorFault,
}


def _current_sample() -> tuple[str, int]:
    """(sample id, epoch) of the sample being replayed, ``("", 0)`` outside a replay."""
    return current_sample()


def _unit(key: str) -> float:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _recover_after(value: Any) -> int | None:
    if isinstance(value, str) and value.lower() == "never":
        return None
    n = int(value)
    if n < 0:
        raise ValueError(f"recover_after must be >= 0 or 'never', not {value!r}")
    return n


class FaultyModelAPI(ModelAPI):
    """A reference persona behind a deliberately unreliable provider (see the module doc)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = _DEFAULT_CONFIG,
        fault: str = "none",
        rate: float = 0.3,
        recover_after: int | str = 1,
        malformed: str = "mixed",
        backoff: float = 0.0,
        delay: float = 0.0,
        persona: str = "steady",
        seed: int = 0,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        if fault not in FAULTS:
            raise ValueError(f"unknown fault '{fault}' (known: {', '.join(FAULTS)})")
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
        if malformed not in MALFORMED:
            raise ValueError(f"unknown malformed '{malformed}' (known: {', '.join(MALFORMED)})")
        if persona not in PERSONAS:
            raise ValueError(f"unknown persona '{persona}' (known: {', '.join(PERSONAS)})")
        if float(backoff) < 0 or float(delay) < 0:
            raise ValueError("backoff and delay must be >= 0")
        self.fault = fault
        self.rate = float(rate)
        self.recover_after = _recover_after(recover_after)
        self.malformed = malformed
        self.backoff = float(backoff)
        self.delay = float(delay)
        self.seed = int(seed)
        self.inner = ReferenceModelAPI(persona, config=config, seed=seed)
        self.attempts: Counter[str] = Counter()

    def _position(self, input: list[ChatMessage]) -> tuple[str, bool]:
        """Where this call is (a stable key) and whether that position is faulted."""
        sample_id, epoch = _current_sample()
        ctx = REPLAY_CONTEXT.get()
        if ctx is not None:
            where = f"{ctx.scenario.id}|branch={ctx.branch_from}|epoch={epoch}|turn={ctx.turn}"
        else:
            text = "\n".join(m.text for m in input)
            where = f"{sample_id}|epoch={epoch}|input={hashlib.sha256(text.encode()).hexdigest()}"
        faulted = self.fault != "none" and _unit(f"{self.seed}|{where}") < self.rate
        return where, faulted

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Answer like the persona, or inject this position's fault."""
        if self.delay:
            await asyncio.sleep(self.delay)
        where, faulted = self._position(input)
        attempt = self.attempts[where]
        self.attempts[where] += 1
        if faulted and (self.recover_after is None or attempt < self.recover_after):
            if self.fault in _EXCEPTIONS:
                if attempt + 1 >= GIVE_UP_AFTER:
                    raise GaveUpFault(where, attempt + 1)
                raise _EXCEPTIONS[self.fault](where, attempt + 1)
            if self.fault == "empty":
                return _with_usage(ModelOutput.from_content(self._name, ""), input, "")
            return self._malformed_tool_call(input, where)
        return await self.inner.generate(input, tools, tool_choice, config)

    def _malformed_tool_call(self, input: list[ChatMessage], where: str) -> ModelOutput:
        """Build a reply whose tool call cannot run.

        A garbled ``end_conversation`` call or a call to a function that does not exist, as
        ``-M malformed`` says (``mixed``: chosen by position).
        """
        text = "Let me think about how to answer that."
        digest = hashlib.sha256(where.encode()).hexdigest()[:8]
        output = ModelOutput.from_content(self._name, text)
        garbled = {"garbled_end": True, "unknown_tool": False}.get(
            self.malformed, int(digest, 16) % 2 == 1
        )
        if garbled:
            call = ToolCall(
                id=f"bad-{digest}",
                function=END_TOOL_NAME,
                arguments={},
                parse_error="Expecting ',' delimiter: line 1 column 12 (char 11)",
            )
        else:
            call = ToolCall(
                id=f"bad-{digest}", function="summon_moderator", arguments={"urgency": "high"}
            )
        output.choices[0].message.tool_calls = [call]
        output.choices[0].stop_reason = "tool_calls"
        return _with_usage(output, input, text)

    @property
    def _name(self) -> str:
        return f"equanimity/{FAULTY_MODEL_NAME}"

    def should_retry(self, ex: Exception) -> bool | RetryDecision:
        """Injected 429s are rate limits, timeouts and 500s transient; nothing else retries."""
        if isinstance(ex, RateLimitFault):
            return RetryDecision.rate_limit()
        if isinstance(ex, (TimeoutFault, ServerErrorFault)):
            return RetryDecision.transient()
        return False

    def retry_wait(self) -> WaitBaseT | None:
        """Wait a fixed, short time between retries (``-M backoff=SECONDS``, default 0).

        inspect's own backoff is exponential, starting at 3 s.
        """
        return wait_fixed(self.backoff)

    def max_connections(self) -> int:
        """In-process model: allow many concurrent samples."""
        return 1000


def _with_usage(output: ModelOutput, input: list[ChatMessage], text: str) -> ModelOutput:
    n_in = sum(len(m.text.split()) for m in input)
    n_out = len(text.split())
    output.usage = ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
    return output
