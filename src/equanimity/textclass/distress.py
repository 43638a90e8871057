"""Distress detector: first-person markers of distress or discomfort, and a learned head.

:func:`detect_distress` is the lexicon (phrases in ``scorers/lexicons/distress.yaml``).
:func:`assess_distress` is what the distress scorer calls: the lexicon first; when it finds no
marker, the learned layer is asked, so paraphrases the lexicon lacks are caught: first its
screen (``scorers/learned/distress_screen.json``, a logistic regression on the reply's cheap
token-mean vector), and only for a reply the screen does not rule out the head
(``scorers/learned/distress.json``, a logistic regression on the reply's MiniLM sentence
embedding), whose verdict decides. Both are trained on dev splits by
``scripts/train_distress.py``; the screen's threshold passes every dev reply that is distress
or that the head calls distress, and rules out most calm replies, so the transformer runs on
few replies. Without the embedding packages the lexicon decides alone; without the screen's
file the head is asked about every unflagged reply.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field

from equanimity.textclass import lexicons
from equanimity.textclass.embeddings import EmbeddingError, LruCache, text_key
from equanimity.textclass.learned import LearnedError, load_head
from equanimity.textclass.lexicons import (
    Macros,
    Patterns,
    Strict,
    cleared_with_caches,
    compile_list,
    load,
    macro_values,
)
from equanimity.textclass.text import (
    VERDICT_CACHE_SIZE,
    Span,
    normalise,
    overlaps,
    quoted_spans,
    sentences,
)
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


HEAD = "distress"
"""The learned head's name (``scorers/learned/distress.json``)."""
SCREEN = "distress_screen"
"""The head's screen (``scorers/learned/distress_screen.json``): replies it rates below its
threshold are not shown to the head."""
LEARNED_FAMILY = "learned"
"""The marker family of a reply the learned head called distress."""


KNOWN_SIZE = 65536
"""Head probabilities remembered from earlier scores (:func:`remember_probabilities`)."""
_KNOWN: LruCache[float] = LruCache(KNOWN_SIZE)


def head_id() -> str:
    """The shipped head's identity: the first 16 hex digits of its file's sha256.

    Raises :class:`LearnedError` when the head is absent or does not match its record.
    """
    return load_head(HEAD).sha256[:16]


def text_id(text: str) -> str:
    """A reply's identity for remembered probabilities: 16 hex digits of its sha256."""
    return text_key(text)[:16]


def remember_probabilities(head: str, entries: Iterable[tuple[str, float]]) -> int:
    """Keep probabilities computed earlier, so they are not computed again; returns how many.

    ``head`` is the head that computed them (:func:`head_id`), ``entries`` ``(text_id, p)``.
    Probabilities of another head than the shipped one are ignored (0). The memo is bounded
    (:data:`KNOWN_SIZE`, oldest dropped). ``equanimity rescore`` feeds it from each sample's
    old distress score, so a rescore after a lexicon edit embeds no reply again.
    """
    try:
        if head != head_id():
            return 0
    except LearnedError:
        return 0
    kept = 0
    for tid, p in entries:
        _KNOWN.put(f"{head}|{tid}", float(p))
        kept += 1
    return kept


def forget_probabilities() -> None:
    """Drop every remembered probability.

    Those of an edited head are never read again anyway: they are kept under the old head's
    identity.
    """
    _KNOWN.clear()


def _known(text: str) -> float | None:
    if not len(_KNOWN):
        return None
    return _KNOWN.get(f"{head_id()}|{text_id(text)}")


def distress_probability(text: str) -> float:
    """The learned head's P(distress) for a reply (raises :class:`LearnedError` if absent).

    A probability remembered for this head and text (:func:`remember_probabilities`) is
    returned as it is; otherwise the reply is embedded.
    """
    head = load_head(HEAD)
    known = _known(text)
    if known is not None:
        return known
    return head.probability(head.embedder([text])[0])


_HEAD_LOCK = threading.Lock()


@cleared_with_caches
@lru_cache(maxsize=VERDICT_CACHE_SIZE)
def screen_probability(text: str) -> float | None:
    """The screen's P(distress) for a reply, or None without a usable screen.

    Without its file, or the ``onnx`` package that reads its vectors, the head is asked about
    every reply the lexicon does not flag.
    """
    try:
        screen = load_head(SCREEN)
        return screen.probability(screen.embedder([text])[0])
    except (LearnedError, EmbeddingError):
        return None


def screened_out(text: str) -> bool:
    """Whether the screen rules the reply out (below its threshold: the head is not asked)."""
    p = screen_probability(text)
    return p is not None and p < load_head(SCREEN).threshold


def head_pending(texts: Sequence[str]) -> list[str]:
    """The texts whose head probability a verdict will need and no cache holds yet.

    Those are non-blank, without a lexicon marker, not screened out, without a remembered
    probability, for a head whose embedding runs the transformer (worth computing ahead, in
    a worker thread: :func:`warm_distress_head`). Empty without a usable head.
    """
    try:
        if not load_head(HEAD).runs_a_model:
            return []
        return [
            t
            for t in texts
            if t.strip()
            and not detect_distress(t).markers
            and not screened_out(t)
            and _known(t) is None
        ]
    except (LearnedError, EmbeddingError, ImportError):
        return []


def warm_distress_head(texts: Sequence[str]) -> int:
    """Embed, in one batch, the texts the head will be asked about; returns how many.

    Those are :func:`head_pending`'s; their embeddings go to the shared cache, so the later
    :func:`assess_distress` calls find them there. Meant to run in a worker thread
    (onnxruntime releases the GIL): one batch at a time, so at most one core embeds while the
    event loop goes on. Without the head or the embedding packages it does nothing (returns 0).
    """
    try:
        todo = head_pending(texts)
        if not todo:
            return 0
        head = load_head(HEAD)
        with _HEAD_LOCK:
            head.embedder(todo)
    except (LearnedError, EmbeddingError, ImportError):
        return 0
    return len(todo)


def _likeliest_sentence(text: str) -> Span:
    """The sentence of ``text`` the head rates most distressed (the learned marker's quote)."""
    spans = [s for s in sentences(text) if text[s[0] : s[1]].strip()] or [(0, len(text))]
    if len(spans) == 1:
        chosen = spans[0]
    else:
        head = load_head(HEAD)
        vecs = head.embedder([text[a:b] for a, b in spans])
        chosen = spans[max(range(len(spans)), key=lambda i: head.probability(vecs[i]))]
    a, b = chosen
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b)


@cleared_with_caches
@lru_cache(maxsize=VERDICT_CACHE_SIZE)
def assess_distress(text: str, learned: bool = True) -> DistressVerdict:
    """Distress in a reply: the lexicon's markers, else (with ``learned``) the learned layer's.

    A reply with a lexicon marker is decided by the lexicon (``layer="rule"``; nothing learned
    runs). Otherwise the verdict has ``layer="learned"``: a reply the screen rules out is not
    distress (``screen`` holds the screen's probability, ``probability`` is None); any other
    is decided by the head: at or above its threshold the verdict carries one
    ``("learned", sentence)`` marker, quoting the sentence the head rates most distressed, and
    ``probability`` is the head's either way. Without the embedding packages or the head file
    the lexicon's verdict is returned.
    """
    v = detect_distress(text)
    if v.markers or not learned or not text.strip():
        return v
    try:
        head = load_head(HEAD)
        screen = screen_probability(text)
        if screened_out(text):
            return v.model_copy(update={"layer": "learned", "screen": screen})
        p = distress_probability(text)
        if p < head.threshold:
            return v.model_copy(update={"layer": "learned", "probability": p, "screen": screen})
        s, e = _likeliest_sentence(text)
    except (LearnedError, EmbeddingError, ImportError):
        return v
    return DistressVerdict(
        markers=[(LEARNED_FAMILY, text[s:e])],
        spans=[(s, e)],
        layer="learned",
        probability=p,
        screen=screen,
    )
