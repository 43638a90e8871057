"""A small list-price table for a rough cost estimate of a run (USD per million tokens).

Prices are public list prices as of late 2025 and change: edit :data:`PRICES` to update them.
Models not in the table are reported as "unknown" rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """List price of one model family."""

    input_per_mtok: float
    """USD per million input tokens."""
    output_per_mtok: float
    """USD per million output tokens."""


PRICES: dict[str, Price] = {
    # Anthropic
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    # OpenAI
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.0),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.0, 8.0),
}
"""Model-name prefix (without provider) → list price; the longest matching prefix wins."""

FREE_PROVIDERS = frozenset({"equanimity", "mockllm", "ollama", "llama-cpp-python", "hf", "vllm"})
"""Providers that run locally or offline: their cost is 0."""


def price_for(model: str) -> Price | None:
    """Return the list price of ``model`` (``provider/name``): 0 if local, None if unknown."""
    provider, _, name = model.partition("/")
    if provider in FREE_PROVIDERS:
        return Price(0.0, 0.0)
    base = name.rsplit("/", 1)[-1] if name else provider
    matches = [k for k in PRICES if base.startswith(k)]
    return PRICES[max(matches, key=len)] if matches else None


def cost_estimate(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """Return the estimated USD cost at list price, or None when the price is unknown."""
    price = price_for(model)
    if price is None:
        return None
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6
