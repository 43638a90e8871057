"""Where the shipped data lives.

In a checkout: the repository's top-level folders; in a wheel: ``equanimity/_data/``.
"""

from __future__ import annotations

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


def scorers_dir() -> Path:
    """Return the folder holding the tunable scorer data (lexicons, resources, rubrics)."""
    return _data_dir("scorers")


def prompts_dir() -> Path:
    """Return the folder holding prompt data (the simulated user's prompt)."""
    return _data_dir("prompts")


def default_results_dir() -> Path:
    """Return the default output folder: ``results/`` under the current directory."""
    return Path("results")
