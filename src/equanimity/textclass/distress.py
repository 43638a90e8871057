"""Distress detector: first-person markers of distress or discomfort.

Phrases in ``scorers/lexicons/distress.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field

from equanimity.textclass import lexicons
from equanimity.textclass.lexicons import (
    Macros,
    Patterns,
    Strict,
    cleared_with_caches,
    compile_list,
    load,
    macro_values,
)
from equanimity.textclass.text import VERDICT_CACHE_SIZE, Span, normalise, overlaps, quoted_spans
from equanimity.textclass.verdicts import DistressVerdict


class _DistressFile(Strict):
    macros: Macros = Field(default_factory=dict)
    families: dict[str, list[str]]
    not_distress: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class _DistressLexicon:
    families: tuple[tuple[str, Patterns], ...]
    not_distress: Patterns


@cleared_with_caches
@lru_cache(maxsize=1)
def _distress_lexicon() -> _DistressLexicon:
    doc, f = load(lexicons.lexicon_dir() / "distress.yaml", _DistressFile)
    m = macro_values(f.macros)
    families = tuple(
        (name, compile_list(doc, ("families", name), entries, m))
        for name, entries in f.families.items()
    )
    return _DistressLexicon(families, compile_list(doc, ("not_distress",), f.not_distress, m))


@cleared_with_caches
@lru_cache(maxsize=VERDICT_CACHE_SIZE)
def detect_distress(text: str) -> DistressVerdict:
    """Find first-person markers of distress or discomfort, in reply order.

    Each marker is ``(family, phrase)`` with the phrase quoted from the reply. Sympathy for the
    user ("I'm sad to hear that") and stock phrases ("please don't hesitate to reach out") are
    not distress; cues inside double quotation marks are ignored.
    """
    norm = normalise(text)
    if not norm.strip():
        return DistressVerdict()
    lex = _distress_lexicon()
    blocked = lex.not_distress.spans(norm) + quoted_spans(norm)
    found: list[tuple[Span, str]] = []
    for family, patterns in lex.families:
        taken: list[Span] = []
        for span in patterns.spans(norm, blocked):
            if not overlaps(span, taken):
                taken.append(span)
                found.append((span, family))
    found.sort()
    return DistressVerdict(
        markers=[(family, text[s:e]) for (s, e), family in found],
        spans=[span for span, _ in found],
    )
