"""Text helpers shared by the detectors: normalising, sentences, quotes, spans, content words.

Offsets are preserved: :func:`normalise` replaces one character by one, so a span found in the
normalised text applies to the original reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Span = tuple[int, int]
"""``(start, end)`` character offsets into a reply."""

EVIDENCE_CHARS = 240
"""Longest evidence quote returned (characters)."""

MAX_SCAN_CHARS = 20_000
"""Replies are judged on their first 20,000 characters: the patterns cost ~20 µs per byte, and a
hostile 1 MB reply must not stall a run. Refusals, referrals and distress show early."""

VERDICT_CACHE_SIZE = 4096
"""Verdicts are cached per (text, ...) : the replay solver and several scorers classify the same
reply (the verdict models are frozen, so sharing them is safe)."""

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]*_]*(?=\s|$)|\n+")
_QUOTED = re.compile(r'"[^"\n]{1,400}"')
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> str:
    """Straighten quotes and unusual spaces; one character for one, so offsets still apply.

    Only the first :data:`MAX_SCAN_CHARS` characters are kept.
    """
    return text[:MAX_SCAN_CHARS].translate(_TRANSLATE)


_MD_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,300})\)")
_MD_MARKS = re.compile(r"\*{1,3}|_{2,3}|`+|(?m:^[ \t]{0,3}#{1,6}(?=[ \t]))|(?m:^[ \t]*>)")


def demarkdown(text: str) -> str:
    """``text`` with markdown marks blanked, one space for one character (offsets still apply).

    Bold / italic stars, ``__``, backticks, heading hashes, quote marks at line start, and the
    brackets of ``[label](url)`` links become spaces, so "**988** - call or text" reads as
    "988 - call or text" and "[Crisis Text Line](https://...)" as "Crisis Text Line  https://...".
    """

    def link(m: re.Match[str]) -> str:
        return " " + m.group(1) + "  " + m.group(2) + " "

    out = _MD_LINK.sub(link, text)
    return _MD_MARKS.sub(lambda m: " " * len(m.group()), out)


def overlaps(span: Span, others: Sequence[Span]) -> bool:
    """Whether ``span`` overlaps any of ``others``."""
    return any(span[0] < e and s < span[1] for s, e in others)


def inside(span: Span, others: Sequence[Span]) -> bool:
    """Whether ``span`` lies wholly inside one of ``others``."""
    return any(s <= span[0] and span[1] <= e for s, e in others)


def sentences(text: str) -> list[Span]:
    """Spans of the sentences (and lines) of ``text``, blank ones left out."""
    spans: list[Span] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start : m.end()].strip():
            spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def sentence_of(spans: Sequence[Span], pos: int) -> Span:
    """The sentence span holding offset ``pos`` (``(pos, pos)`` when none does)."""
    for s, e in spans:
        if s <= pos < e:
            return (s, e)
    return (pos, pos)


def quote_span(original: str, spans: Sequence[Span], span: Span) -> Span:
    """Offsets of the evidence quote for ``span``: its sentence, trimmed, clipped around it."""
    s, e = sentence_of(spans, span[0])
    e = max(e, span[1])
    while s < e and original[s].isspace():
        s += 1
    while e > s and original[e - 1].isspace():
        e -= 1
    if e - s > EVIDENCE_CHARS:
        s = max(s, min(span[0] - EVIDENCE_CHARS // 3, e - EVIDENCE_CHARS))
        e = min(e, s + EVIDENCE_CHARS)
        while s < e and original[s].isspace():
            s += 1
        while e > s and original[e - 1].isspace():
            e -= 1
    return (s, e)


def quote(original: str, spans: Sequence[Span], span: Span) -> str:
    """Quote the sentence around ``span`` verbatim from the reply, clipped around the match."""
    s, e = quote_span(original, spans, span)
    return original[s:e]


def quoted_spans(text: str) -> list[Span]:
    """Spans of the double-quoted passages of ``text``."""
    return [(m.start(), m.end()) for m in _QUOTED.finditer(text)]


def drop_quoted(spans: Iterable[Span], quoted: Sequence[Span]) -> list[Span]:
    """``spans`` without those inside a quoted passage."""
    return [s for s in spans if not inside(s, quoted)]


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (an apostrophe inside a word is kept: ``don't``)."""
    return _WORD.findall(normalise(text).lower())


def stem(word: str, suffixes: Sequence[str]) -> str:
    """Cut the first matching suffix (a lone ``s`` not after s, u or i), then a final e or y.

    Each cut happens only when at least three letters remain.
    """
    for suffix in suffixes:
        if suffix == "s" and word[-2:-1] in ("s", "u", "i"):
            continue  # process, status, analysis: not plurals
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word[-1:] in ("e", "y") and len(word) > 3:
        word = word[:-1]
    return word
