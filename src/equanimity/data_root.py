"""Where the public labelled data sets live: outside the repository, never under ``tests/``.

Public sets (XSTest completions, ...) are not committed: each user keeps a copy and points
equanimity at it. :func:`data_root` resolves the folder: an explicit ``--data DIR``, else the
environment variable :data:`DATA_ENV`, else ``<checkout>/../shared/data`` when present (the
layout CI and the development machines use). Each set's folder there carries a ``SOURCE.md``
(source, licence, label meaning).
"""

from __future__ import annotations

import os
from pathlib import Path

from equanimity.paths import scorers_dir

DATA_ENV = "EQUANIMITY_DATA"
"""Environment variable naming the public data folder."""


def data_root(explicit: Path | None = None) -> Path | None:
    """The public data folder: ``explicit``, else ``$EQUANIMITY_DATA``, else ``../shared/data``.

    Returns None when neither is given and the shared folder does not exist. An explicit or
    environment folder is returned as given (the caller reports it if it is missing).
    """
    if explicit is not None:
        return explicit
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    shared = scorers_dir().parent.parent / "shared" / "data"
    return shared if shared.is_dir() else None


def labelled_dir() -> Path:
    """The labelled replies written for equanimity (``scorers/labelled``), shipped with it."""
    return scorers_dir() / "labelled"
