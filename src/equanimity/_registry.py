"""inspect_ai entry point: registers equanimity's tasks and model providers."""

# ruff: noqa: F401
from equanimity.models.provider import equanimity_provider
from equanimity.tasks import risk, suite, sycophancy, welfare
