"""Ending detector: whether a reply announces, in its text, that the assistant ends the chat.

Phrases in ``scorers/lexicons/ending.yaml``. For recorded conversations without an
``end_conversation`` tool call (plain-text chat logs), this is how an end can be seen at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field

from equanimity.textclass import lexicons
from equanimity.textclass.lexicons import Patterns, Strict, cleared_with_caches, compile_list, load
from equanimity.textclass.text import VERDICT_CACHE_SIZE, Span, demarkdown, normalise, quoted_spans


class _EndingFile(Strict):
    patterns: list[str]
    not_ending: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class _EndingLexicon:
    patterns: Patterns
    not_ending: Patterns


@cleared_with_caches
@lru_cache(maxsize=1)
def _ending_lexicon() -> _EndingLexicon:
    doc, f = load(lexicons.lexicon_dir() / "ending.yaml", _EndingFile)
    return _EndingLexicon(
        compile_list(doc, ("patterns",), f.patterns, {}),
        compile_list(doc, ("not_ending",), f.not_ending, {}),
    )


@cleared_with_caches
@lru_cache(maxsize=VERDICT_CACHE_SIZE)
def announces_end(text: str) -> Span | None:
    """The span of the first first-person announcement that the assistant ends the chat.

    None when there is none; announcements inside double quotation marks do not count.
    """
    norm = demarkdown(normalise(text))
    lex = _ending_lexicon()
    blocked = lex.not_ending.spans(norm) + quoted_spans(norm)
    return lex.patterns.first(norm, blocked)
