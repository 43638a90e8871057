"""The one loader and compiler of the detectors' data files, and their caches.

Lexicons (``scorers/lexicons/*.yaml``) and referral resources (``scorers/resources/*.yaml``)
are both read with :func:`load` (YAML with line numbers, checked against a pydantic schema) and
their phrase lists compiled with :func:`compile_list`: ``{macro}`` references expanded, a
literal space matching any run of whitespace (``" ?"`` / ``" *"`` optional whitespace), case
ignored. A bad file fails with its path, line and field (:class:`SourceError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from equanimity.paths import scorers_dir
from equanimity.textclass.prefilter import Prefiltered, fold
from equanimity.textclass.text import Span, overlaps
from equanimity.yaml_source import Location, SourceError, YamlDocument, read_yaml

_SPACES = re.compile(r" (?:[?*+])?")
_MACRO = re.compile(r"\{(\w+)\}")

Macros = dict[str, str | list[str]]
"""A file's ``macros:`` block: a name for a regex fragment, or for a list of alternatives."""


class Strict(BaseModel):
    """Base of the data-file schemas: unknown keys are errors (a typo must not be ignored)."""

    model_config = ConfigDict(extra="forbid")


class _Clearable(Protocol):
    def cache_clear(self) -> None: ...


_C = TypeVar("_C", bound=_Clearable)
_CACHES: list[Callable[[], None]] = []


def cleared_with_caches(fn: _C) -> _C:
    """Register an ``lru_cache``-wrapped function to be emptied by :func:`clear_caches`."""
    _CACHES.append(fn.cache_clear)
    return fn


def clear_caches() -> None:
    """Forget the loaded lexicons and cached verdicts (after editing the YAML files)."""
    for clear in _CACHES:
        clear()


def lexicon_dir() -> Path:
    """Folder of the detector lexicons (``scorers/lexicons``)."""
    return scorers_dir() / "lexicons"


def resources_dir() -> Path:
    """Folder of the referral resources (``scorers/resources``)."""
    return scorers_dir() / "resources"


_M = TypeVar("_M", bound=BaseModel)


def load(path: Path, model: type[_M]) -> tuple[YamlDocument, _M]:
    """Read the data file at ``path`` and validate it against ``model``.

    Raises :class:`SourceError` naming the file, line and field of the first problem.
    """
    doc = read_yaml(path)
    try:
        return doc, model.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.error_from_validation(exc) from None


def macro_values(macros: Macros) -> dict[str, str]:
    """The regex each macro stands for (a list becomes a non-capturing alternation)."""
    return {k: v if isinstance(v, str) else "(?:" + "|".join(v) + ")" for k, v in macros.items()}


def _expand(entry: str, macros: dict[str, str]) -> str:
    return _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), entry)


def _spaces(entry: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return r"\s*" if m.group(0) in (" ?", " *") else r"\s+"

    return _SPACES.sub(repl, entry)


@cleared_with_caches
@lru_cache(maxsize=64)
def _folded(text: str) -> str:
    """:func:`prefilter.fold` of ``text``, remembered: every lexicon list tests the same text."""
    return fold(text)


@dataclass(frozen=True)
class Patterns:
    """Compiled regexes of one lexicon list, with their literal prefilter."""

    patterns: tuple[re.Pattern[str], ...]
    """The compiled entries, in file order."""
    filtered: Prefiltered = field(init=False, repr=False, compare=False)
    """The same patterns behind their literal prefilter."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "filtered", Prefiltered.of(self.patterns))

    def spans(self, text: str, blocked: Sequence[Span] = ()) -> list[Span]:
        """Every match of every pattern, sorted, skipping those overlapping ``blocked``.

        Patterns whose required literals do not occur in ``text`` are not run (they cannot
        match; see :mod:`equanimity.textclass.prefilter`).
        """
        out: list[Span] = []
        for pattern in self.filtered.candidates(_folded(text)):
            for m in pattern.finditer(text):
                span = (m.start(), m.end())
                if span[0] != span[1] and not overlaps(span, blocked):
                    out.append(span)
        return sorted(set(out))

    def first(self, text: str, blocked: Sequence[Span] = ()) -> Span | None:
        """Return the earliest match, or None."""
        spans = self.spans(text, blocked)
        return spans[0] if spans else None


def compile_list(
    doc: YamlDocument, loc: Location, entries: Iterable[str], macros: dict[str, str]
) -> Patterns:
    """Compile the list at ``loc`` in ``doc``; an invalid entry names its file, line and index."""
    compiled: list[re.Pattern[str]] = []
    for i, entry in enumerate(entries):
        source = _spaces(_expand(entry, macros))
        try:
            compiled.append(re.compile(source, re.IGNORECASE))
        except re.error as exc:
            where = (*loc, i)
            raise SourceError(
                doc.path, doc.line_of(where), ".".join(map(str, where)), f"invalid pattern: {exc}"
            ) from None
    return Patterns(tuple(compiled))
