"""Where ``validate-scorers`` looks for the public labelled data (``--data DIR``).

Order: the ``--data`` argument; else the environment variable ``EQUANIMITY_DATA``; else
``../shared/data`` beside the checkout (the folder the project's tests and CI read); else
``../shared/data`` relative to the current folder. Public data is never copied into the
repository: point ``--data`` at your own copy (each set's ``SOURCE.md`` says where it comes from).
"""

from __future__ import annotations

import os
from pathlib import Path

from equanimity.paths import scorers_dir

ENV_VAR = "EQUANIMITY_DATA"
"""Environment variable naming the data folder when ``--data`` is not given."""


def default_data_root() -> Path | None:
    """The data folder to use without ``--data``; None when no candidate exists."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    for candidate in (
        scorers_dir().parent.parent / "shared" / "data",
        Path("..") / "shared" / "data",
    ):
        if candidate.is_dir():
            return candidate
    return None


def resolve_data_root(arg: Path | None) -> Path:
    """The data folder for ``arg`` (``--data``), else the default.

    Raises ``FileNotFoundError`` with a one-line message when the folder does not exist.
    """
    root = arg if arg is not None else default_data_root()
    if root is None:
        raise FileNotFoundError(
            f"no data folder: pass --data DIR or set {ENV_VAR} (expected ../shared/data)"
        )
    if not root.is_dir():
        raise FileNotFoundError(f"data folder {root} does not exist")
    return root
