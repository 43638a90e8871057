r"""A literal prefilter for the lexicon regexes: skip a pattern that cannot match a text.

Most lexicon patterns cannot match most replies, yet Python's ``re`` tries each one at every
position of the text. Each pattern, though, usually requires some literal words: ``\bI
(?:can't|cannot) help\b`` cannot match a text that holds neither ``can't`` nor ``cannot``
(nor ``help``). :func:`required_literals` reads that requirement off the parsed pattern, and
a substring test (``in``, done in C) decides whether the regex needs to run at all.

The test must never skip a pattern that would match, so both sides are folded exactly the way
``re`` compares characters under ``re.IGNORECASE``: a text character matches a literal one when
their simple lower-case forms are equal or are listed together in ``re``'s own table of extra
case equivalences (``ı`` and ``i``, ``ſ`` and ``s``). :func:`fold` maps every character onto the
smallest member of that class, so "the regex could match" implies "the folded literal occurs in
the folded text". tests/test_prefilter.py checks the folding against ``re`` itself over the
whole Basic Multilingual Plane, and the verdicts with and without the prefilter on every
labelled reply. Where the interpreter lacks those tables the prefilter is off (every pattern
runs), and a pattern whose requirement cannot be read simply always runs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_c: Any
_sre_parse: Any
try:  # CPython 3.11+: the parser and case tables behind re.compile (private, stable)
    import _sre

    _c = importlib.import_module("re._constants")
    _sre_parse = importlib.import_module("re._parser")
    _EXTRA_CASES: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES

    ENABLED = True
    """Whether the prefilter is on (the interpreter has ``re``'s parser and case tables)."""
except (ImportError, AttributeError):  # pragma: no cover - another interpreter: no prefilter
    ENABLED = False

Requirement = frozenset[str]
"""Literal strings of which every match of a pattern holds at least one."""

FOLD_TABLE_MAX = 65_536
"""Characters remembered in the folding table; past that, each text gets its own table."""

_FOLD: dict[int, int] = {}
"""Lazily filled ``str.translate`` table for the non-ASCII characters seen so far."""


def _canon(code: int) -> int:
    low = int(_sre.unicode_tolower(code))
    return min((low, *_EXTRA_CASES.get(low, ())))


def fold(text: str) -> str:
    """``text`` with each character replaced by the canonical member of its ``re.I`` class."""
    if text.isascii():
        return text.lower()  # exact for ASCII (checked against the case tables in the tests)
    codes = {ord(ch) for ch in set(text)}
    if len(_FOLD) >= FOLD_TABLE_MAX:  # hostile input with every code point: stop growing
        return text.translate({code: _canon(code) for code in codes})
    for code in codes - _FOLD.keys():
        _FOLD[code] = _canon(code)
    return text.translate(_FOLD)


def _selectivity(clause: Requirement) -> tuple[int, int]:
    """Sort key: a clause whose shortest literal is longer (and with fewer literals) first."""
    return (-min(len(s) for s in clause), len(clause))


def _minimal(literals: Iterable[str]) -> Requirement:
    """Drop every literal that contains another one (a text holding it holds the shorter)."""
    out: list[str] = []
    for s in sorted(set(literals), key=len):
        if not any(t in s for t in out):
            out.append(s)
    return frozenset(out)


def _is_literal_run(items: Any) -> bool:
    return all(op in (_c.LITERAL, _c.AT) for op, _ in items)


def _sequence(items: Any) -> list[Requirement]:
    """Clauses of a parsed sequence: every match holds a literal of each clause."""
    clauses: list[Requirement] = []
    run: list[str] = []

    def close() -> None:
        if run:
            clauses.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is _c.LITERAL:
            run.append(chr(av))
            continue
        if op is _c.AT:  # \b, ^, $: zero width, the literal run goes on
            continue
        if op is _c.SUBPATTERN and _is_literal_run(av[-1]):
            run.extend(chr(a) for o, a in av[-1] if o is _c.LITERAL)
            continue
        close()
        clauses.extend(_element(op, av))
    close()
    return clauses


def _element(op: Any, av: Any) -> list[Requirement]:
    if op is _c.SUBPATTERN:
        return _sequence(av[-1])
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _sequence(av)
    if op is _c.BRANCH:
        # one clause: the union of each alternative's most selective clause
        best: list[Requirement] = []
        for alternative in av[1]:
            clauses = _sequence(alternative)
            if not clauses:
                return []
            best.append(min(clauses, key=_selectivity))
        return [_minimal(s for clause in best for s in clause)]
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low, _high, body = av
        return _sequence(body) if low >= 1 else []
    return []  # character classes, any, lookarounds, back references: no literal


MAX_CLAUSES = 3
"""At most this many clauses are tested per pattern (the most selective ones)."""


def required_literals(pattern: re.Pattern[str]) -> tuple[Requirement, ...]:
    """Clauses of folded literals (see :func:`fold`) that every match of ``pattern`` satisfies.

    Every match holds at least one literal of each clause. Empty when no requirement can be
    read off (the pattern must always be run) or when the prefilter is off. The most selective
    clauses come first, at most :data:`MAX_CLAUSES` of them.
    """
    if not ENABLED:
        return ()
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return ()
    # a case-sensitive match is also a case-insensitive one: folding both sides is safe
    clauses = {_minimal(fold(s) for s in clause) for clause in _sequence(list(parsed))}
    return tuple(sorted(clauses, key=lambda c: (*_selectivity(c), sorted(c))))[:MAX_CLAUSES]


@dataclass(frozen=True)
class Prefiltered:
    """Compiled patterns with their literal requirements."""

    patterns: tuple[re.Pattern[str], ...]
    """The compiled patterns, in lexicon order."""
    requirements: tuple[tuple[tuple[str, ...], ...], ...]
    """Per pattern, its clauses of folded literals (none: always run it)."""

    @classmethod
    def of(cls, patterns: Sequence[re.Pattern[str]]) -> Prefiltered:
        """Read the requirements of each of ``patterns``."""
        reqs = (required_literals(p) for p in patterns)
        return cls(
            tuple(patterns), tuple(tuple(tuple(sorted(clause)) for clause in r) for r in reqs)
        )

    def candidates(self, folded: str) -> list[re.Pattern[str]]:
        """The patterns that could match the text whose :func:`fold` is ``folded``."""
        out: list[re.Pattern[str]] = []
        for pattern, clauses in zip(self.patterns, self.requirements, strict=True):
            for clause in clauses:
                for lit in clause:
                    if lit in folded:
                        break
                else:
                    break  # no literal of this clause: the pattern cannot match
            else:
                out.append(pattern)
        return out
