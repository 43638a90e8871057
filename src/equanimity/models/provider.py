"""Registration of the ``equanimity`` model API with inspect (via the entry point).

``equanimity/local`` is the real local model (:mod:`equanimity.models.local`),
``equanimity/faulty`` a persona behind an unreliable provider (:mod:`equanimity.models.faulty`),
``equanimity/judge-stub`` an offline keyword judge (:mod:`equanimity.models.judge_stub`);
every other name is a reference persona (:mod:`equanimity.models.reference`).
"""

from __future__ import annotations

from typing import Any, cast

from inspect_ai.model import ModelAPI, modelapi


def create_equanimity_model(model_name: str, **kwargs: Any) -> ModelAPI:
    """Build the model API behind ``equanimity/<model_name>``.

    ``local`` gives the in-process GGUF model; any other name a reference persona (which
    rejects unknown names). Imports are deferred so the personas never need llama-cpp.
    """
    from equanimity.models.local import LOCAL_MODEL_NAME

    if model_name == LOCAL_MODEL_NAME:
        from equanimity.models.local import LocalModelAPI

        return LocalModelAPI(model_name, **kwargs)
    if model_name == "reference-user":
        from equanimity.models.reference_user import ReferenceUserAPI

        return ReferenceUserAPI(model_name, **kwargs)
    if model_name == "judge-stub":
        from equanimity.models.judge_stub import JudgeStubAPI

        return JudgeStubAPI(model_name, **kwargs)
    if model_name == "faulty":
        from equanimity.models.faulty import FaultyModelAPI

        return FaultyModelAPI(model_name, **kwargs)
    from equanimity.models.reference import ReferenceModelAPI

    return ReferenceModelAPI(model_name, **kwargs)


@modelapi(name="equanimity")
def equanimity_provider() -> type[ModelAPI]:
    """``equanimity/<persona>`` reference models and ``equanimity/local``."""
    # inspect calls what this returns with (model_name=..., base_url=..., config=..., **args)
    return cast(type[ModelAPI], create_equanimity_model)
