"""The error a re-scoring reports (one line, naming the file): exit 2 from the CLI."""

from __future__ import annotations


class RescoreError(ValueError):
    """The log cannot be re-scored: missing or damaged log or sample, bad output or option."""
