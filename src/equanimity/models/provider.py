"""Registration of the ``equanimity`` model API with inspect (via the entry point)."""

from __future__ import annotations

from inspect_ai.model import ModelAPI, modelapi


@modelapi(name="equanimity")
def equanimity_provider() -> type[ModelAPI]:
    """``equanimity/<persona>`` reference models."""
    from equanimity.models.reference import ReferenceModelAPI

    return ReferenceModelAPI
