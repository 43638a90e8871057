"""Evidence highlighting: mark in the transcript the passages the scorers' verdicts rest on.

The scorers record their evidence as data: ``Score.metadata["evidence"]`` holds
:class:`~equanimity.records.EvidenceSpan` items (turn, start, end, detector, label), located by
the detectors themselves; :func:`evidence_marks` turns them into marks. Logs written before
that (no score of the sample has the key) fall back to the explanations' quotations:

Scorer explanations quote evidence in single quotes (``turn 2: refused [rule] ('I can't help')``),
shortened by :func:`equanimity.scorers.transcript.quote` (whitespace collapsed, a trailing ``…``
when cut). Quotes may themselves contain apostrophes, so every plausible closing quote is tried
and the longest candidate that occurs in the text wins.

Safety: the marked HTML is built from the raw text by escaping every piece of model text with
:func:`markupsafe.escape`; the only markup emitted is our own ``<mark>`` element. Spans are found
on the raw text (not the escaped one) so a match can never split an HTML entity.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from markupsafe import Markup, escape
from pydantic import ValidationError

from equanimity.records import EVIDENCE_KEY, EvidenceSpan, ReplayRecord
from equanimity.tools import END_TOOL_NAME

_OPENERS = frozenset(" ([:")
_CLOSERS = frozenset(" )];,:")
_TURN = re.compile(r"\bturn (\d+)")
MIN_PHRASE = 2
"""Phrases shorter than this are not highlighted (too unspecific)."""


@dataclass(frozen=True)
class Quote:
    """A quoted phrase in an explanation."""

    scorer: str
    """The scorer whose explanation quotes it."""
    turn: int | None
    """The turn the explanation attributes it to (the last ``turn N`` before it), if any."""
    candidates: tuple[str, ...]
    """Possible phrase readings, longest first (apostrophes make the closing quote ambiguous)."""
    start: int = 0
    """Offset of the opening quote in the explanation."""
    ends: tuple[int, ...] = ()
    """Offset of each candidate's closing quote."""


K = TypeVar("K", bound=Hashable)

Span = tuple[int, int, str]
"""(start, end, scorer) of a marked phrase on the raw text."""


def find_quotes(scorer: str, explanation: str) -> list[Quote]:
    """Every single-quoted phrase in ``explanation`` with its candidate readings."""
    text = explanation
    opens = [i for i, ch in enumerate(text) if ch == "'" and (i == 0 or text[i - 1] in _OPENERS)]
    closes = [
        j
        for j, ch in enumerate(text)
        if ch == "'" and (j + 1 == len(text) or text[j + 1] in _CLOSERS)
    ]
    quotes: list[Quote] = []
    for i in opens:
        ends = tuple(j for j in reversed(closes) if j > i + 1)
        if not ends:
            continue
        turns = _TURN.findall(text, 0, i)
        quotes.append(
            Quote(
                scorer,
                int(turns[-1]) if turns else None,
                tuple(text[i + 1 : j] for j in ends),
                i,
                ends,
            )
        )
    return quotes


@functools.lru_cache(maxsize=4096)
def phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """Return a whitespace-tolerant, case-insensitive pattern for a phrase (None if too short).

    Memoised: stock phrases (refusals, referrals) recur across samples, and ``re``'s own cache
    (512 patterns) is too small for a large report.
    """
    core = phrase.strip().removesuffix("…").strip()
    words = core.split()
    if len("".join(words)) < MIN_PHRASE:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def locate(
    quotes: Iterable[Quote],
    texts: Mapping[K, str],
    turn_of: Mapping[K, int],
) -> dict[K, list[Span]]:
    """Find each quote in ``texts``: first in the texts of its turn, else in any text.

    ``turn_of`` gives the turn index of each text key. For each quote the longest candidate
    reading that occurs is used; every occurrence of it in the chosen texts is marked. A quote
    opening inside an already matched quote of the same explanation is part of that phrase
    (an apostrophe in the quoted text), not a quote of its own.
    """
    marks: dict[K, list[Span]] = {}
    consumed: dict[str, int] = {}
    for q in quotes:
        if q.ends and q.start < consumed.get(q.scorer, -1):
            continue
        for n, cand in enumerate(q.candidates):
            pattern = phrase_pattern(cand)
            if pattern is None:
                continue
            own = [k for k in texts if q.turn is not None and turn_of.get(k) == q.turn]
            found = _mark_all(pattern, own, texts, q.scorer, marks)
            if not found:
                found = _mark_all(pattern, list(texts), texts, q.scorer, marks)
            if found:
                if n < len(q.ends):
                    consumed[q.scorer] = q.ends[n]
                break
    return marks


def _mark_all(
    pattern: re.Pattern[str],
    keys: list[K],
    texts: Mapping[K, str],
    scorer: str,
    marks: dict[K, list[Span]],
) -> bool:
    found = False
    for k in keys:
        for m in pattern.finditer(texts[k]):
            if m.end() > m.start():
                marks.setdefault(k, []).append((m.start(), m.end(), scorer))
                found = True
    return found


TextKey = tuple[str, int, int]
"""``("reply", turn, 0)`` or ``("args", turn, call)``: which text of the transcript."""
REASON_PREFIX = "reason: "
"""How the report shows an ``end_conversation`` call whose only argument is its reason."""


def evidence_marks(
    scores: Mapping[str, Any], record: ReplayRecord, texts: Mapping[TextKey, str]
) -> dict[TextKey, list[Span]]:
    """The spans to mark in ``texts``, from each score's ``metadata["evidence"]``.

    Items that do not validate or fall outside their text are skipped (a log is untrusted
    input). When no score of the sample carries the key (a log from before it existed), the
    quotations in the explanations are located instead (:func:`find_quotes`, :func:`locate`).
    """
    listed = {
        name: md[EVIDENCE_KEY]
        for name, s in scores.items()
        if isinstance(md := getattr(s, "metadata", None), dict) and EVIDENCE_KEY in md
    }
    if not listed:
        quotes: list[Quote] = []
        for name, s in scores.items():
            explanation = getattr(s, "explanation", None)
            if isinstance(explanation, str) and explanation:
                quotes.extend(find_quotes(name, explanation))
        return locate(quotes, texts, {k: k[1] for k in texts})
    end_call = {
        t.index: j
        for t in record.turns
        for j, c in reversed(list(enumerate(t.tool_calls)))
        if c.function == END_TOOL_NAME
    }
    marks: dict[TextKey, list[Span]] = {}
    for name, items in listed.items():
        for raw in items if isinstance(items, list) else []:
            try:
                ev = EvidenceSpan.model_validate(raw)
            except ValidationError:
                continue
            offset = 0
            key: TextKey = ("reply", ev.turn, 0)
            if ev.field == "reason":
                key = ("args", ev.turn, end_call.get(ev.turn, -1))
                offset = len(REASON_PREFIX)
                if not texts.get(key, "").startswith(REASON_PREFIX):
                    continue
            text = texts.get(key)
            start, end = ev.start + offset, ev.end + offset
            if text is not None and offset <= start < end <= len(text):
                marks.setdefault(key, []).append((start, end, name))
    return marks


def highlight(text: str, spans: list[Span] | None) -> Markup:
    """``text`` escaped, with the (merged) spans wrapped in ``<mark class="ev">``."""
    if not spans:
        return Markup(escape(text))
    merged: list[tuple[int, int, set[str]]] = []
    for start, end, scorer in sorted(spans):
        if merged and start <= merged[-1][1]:
            s0, e0, names = merged[-1]
            merged[-1] = (s0, max(e0, end), names | {scorer})
        else:
            merged.append((start, end, {scorer}))
    out: list[str] = []
    pos = 0
    for start, end, names in merged:
        out.append(str(escape(text[pos:start])))
        title = escape("evidence: " + ", ".join(sorted(names)))
        out.append(f'<mark class="ev" title="{title}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
