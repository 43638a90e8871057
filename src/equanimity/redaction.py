"""Keep credentials out of what equanimity writes (logs, reports, comparisons, JUnit).

inspect records a run's model arguments in the log header, dropping only ``api_key`` and
``aws_*``. A provider's other credentials (``-M token=...``, ``-M client_secret=...``, headers
holding ``Authorization``) would be written to every log and travel on to reports and CI
artifacts. :func:`loggable_model_args` removes every argument named like a credential, at any
depth, before the run starts; the provider itself still receives the real values.

Environment variables are never recorded by inspect or equanimity; ``tests/test_secrets.py``
checks both by planting fake keys and searching every file the pipeline writes.
"""

from __future__ import annotations

import re
from typing import Any

SECRET_NAME = re.compile(
    r"api[_-]?key|(?:^|[_-])token(?:$|[_-])|secret|password|passwd|passphrase|credential|"
    r"authorization|private[_-]?key|access[_-]?key|session[_-]?key|cookie|"
    r"(?:^|[_-])auth(?:$|[_-])",
    re.IGNORECASE,
)
"""Names treated as credentials (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``, ``Authorization``,
passwords, cookies, ...), case-insensitively; ``max_tokens`` and ``tokenizer`` are not."""


def is_secret_name(name: str) -> bool:
    """Whether an argument, header or variable called ``name`` holds a credential."""
    return SECRET_NAME.search(name) is not None


def loggable_model_args(model_args: dict[str, Any]) -> dict[str, Any]:
    """``model_args`` without credentials (dropped, also inside nested mappings and lists)."""
    return {k: _clean(v) for k, v in model_args.items() if not is_secret_name(str(k))}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return loggable_model_args(value)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
