"""Where the shipped data lives.

In a checkout: the repository's top-level folders; in a wheel: ``equanimity/_data/``.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

_PACKAGE_DIR = Path(str(files("equanimity")))
_REPO_ROOT = _PACKAGE_DIR.parent.parent


def _data_dir(name: str) -> Path:
    bundled = _PACKAGE_DIR / "_data" / name
    if bundled.is_dir():
        return bundled
    return _REPO_ROOT / name


def scenarios_dir() -> Path:
    """Return the folder holding the shipped scenario library."""
    return _data_dir("scenarios")


SCORERS_DIR_ENV = "EQUANIMITY_SCORERS_DIR"
"""Environment variable naming another scorer data folder (a tuned copy, or a test's)."""


def scorers_dir() -> Path:
    """Return the folder holding the tunable scorer data (lexicons, resources, rubrics).

    ``$EQUANIMITY_SCORERS_DIR`` overrides it (read at each call).
    """
    override = os.environ.get(SCORERS_DIR_ENV)
    if override:
        return Path(override)
    return _data_dir("scorers")


def prompts_dir() -> Path:
    """Return the folder holding prompt data (the simulated user's prompt)."""
    return _data_dir("prompts")


def default_results_dir() -> Path:
    """Return the default output folder: ``results/`` under the current directory."""
    return Path("results")
