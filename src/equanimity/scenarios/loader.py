"""Load and validate scenario YAML files; every error names file, line and field.

:func:`check_file` finds every problem in one file at once (all field errors, all broken
category rules, the id/file-name and folder/category checks, each template variant);
:func:`load_scenario` and :func:`load_scenarios` raise the first one, :func:`validate_all`
reports them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from equanimity.paths import scenarios_dir
from equanimity.scenarios.schema import (
    TURN_ALIASES,
    Branch,
    Category,
    CategoryRuleError,
    Expectations,
    PrefillMessage,
    ReferralRequirement,
    Scenario,
    Stance,
    Turn,
)
from equanimity.scenarios.template import MATRIX_KEY, VARIANT_SEP, expand, is_template
from equanimity.yaml_source import SourceError, YamlDocument, _real_location, read_yaml

ScenarioError = SourceError
"""Raised for any invalid scenario file (a located, one-line message)."""

IMPORTED_DIR = "imported"
"""Folder under ``scenarios/`` for imported suites: opt-in, never part of the library."""

_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): Scenario,
    ("turns",): Turn,
    ("prefill",): PrefillMessage,
    ("expect",): Expectations,
    ("expect", "referral"): ReferralRequirement,
    ("expect", "stance"): Stance,
    ("branch",): Branch,
}
"""The model that validates the mapping at each location (list indexes left out)."""


def library_paths() -> list[Path]:
    """The shipped library: one folder per category (``scenarios/imported/`` is opt-in)."""
    root = scenarios_dir()
    return [root / c.value for c in Category if (root / c.value).is_dir()]


@dataclass
class FileCheck:
    """Everything :func:`check_file` found in one file."""

    path: Path
    """The file checked."""
    scenarios: list[Scenario] = field(default_factory=list)
    """The valid scenarios it holds (one, or a template's expansions); empty on any error."""
    errors: list[SourceError] = field(default_factory=list)
    """Every problem found: id and folder checks first, then the schema's, in its order."""
    template: bool = False
    """Whether the file is a template (declares ``matrix``)."""


def _known_keys(parent: tuple[str | int, ...]) -> list[str]:
    model = _MODELS.get(tuple(p for p in parent if isinstance(p, str)))
    if model is None:
        return []
    keys = list(model.model_fields)
    if model is Turn:
        keys += list(TURN_ALIASES)
    if model is Scenario:
        keys.append(MATRIX_KEY)
    return keys


def _suggest(key: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return close[0] if close else None


def _located(doc: YamlDocument, loc: tuple[str | int, ...], message: str) -> SourceError:
    return SourceError(doc.path, doc.line_of(loc), ".".join(map(str, loc)) or None, message)


def errors_from_validation(doc: YamlDocument, exc: ValidationError) -> list[SourceError]:
    """Every pydantic error as a located :class:`SourceError`; unknown keys get a suggestion.

    A "Field required" error is dropped when an unknown key beside it is suggested as that
    field (``usr:`` → "unknown key 'usr' (did you mean 'user'?)" alone).
    """
    out: list[tuple[tuple[str | int, ...], str, str]] = []  # (loc, kind, message)
    suggested: set[tuple[str | int, ...]] = set()
    for err in exc.errors():
        raw = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, CategoryRuleError):
            for fld, message in ctx_error.problems:
                parts = tuple(int(p) if p.isdigit() else p for p in fld.split("."))
                out.append((_real_location(doc.data, raw + parts), "rule", message))
            continue
        loc = _real_location(doc.data, raw)
        if err["type"] == "extra_forbidden":
            key = str(raw[-1])
            hint = _suggest(key, _known_keys(raw[:-1]))
            message = f"unknown key '{key}'"
            if hint is not None:
                message += f" (did you mean '{hint}'?)"
                suggested.add((*raw[:-1], hint))
            out.append((loc, "unknown", message))
            continue
        if err["type"] == "missing":
            out.append((loc, "missing", err["msg"]))
            continue
        out.append((loc, "field", err["msg"]))
    return [
        _located(doc, loc, message)
        for loc, kind, message in out
        if not (kind == "missing" and loc in suggested)
    ]


def _validate(doc: YamlDocument, data: Any) -> tuple[Scenario | None, list[SourceError]]:
    try:
        return Scenario.model_validate(data), []
    except ValidationError as exc:
        view = YamlDocument(doc.path, data, doc.lines)
        return None, errors_from_validation(view, exc)


def _identity_errors(doc: YamlDocument, path: Path) -> list[SourceError]:
    data = doc.data
    errors: list[SourceError] = []
    sid = data.get("id")
    if isinstance(sid, str) and sid != path.stem:
        errors.append(
            _located(doc, ("id",), f"is '{sid}' but the file is named '{path.name}' (must match)")
        )
    folder = path.parent.name
    cat = data.get("category")
    known = Category.__members__
    if folder in known and isinstance(cat, str) and cat in known and cat != folder:
        errors.append(
            _located(doc, ("category",), f"is '{cat}' but the file is in folder '{folder}'")
        )
    return errors


def check_file(path: str | Path) -> FileCheck:
    """Check one scenario file (or template) and report every problem in it at once."""
    p = Path(path)
    result = FileCheck(p)
    try:
        doc = read_yaml(p)
    except SourceError as exc:
        result.errors.append(exc)
        return result
    if not isinstance(doc.data, dict):
        result.errors.append(
            SourceError(
                doc.path,
                doc.line_of(()),
                None,
                "a scenario file must hold one mapping (id, category, turns, ...)",
            )
        )
        return result
    errors = _identity_errors(doc, p)
    if not is_template(doc):
        scenario, found = _validate(doc, doc.data)
        errors += found
        result.errors = errors
        if scenario is not None and not errors:
            result.scenarios = [scenario]
        return result
    result.template = True
    variants, found = expand(doc)
    errors += found
    by_error: dict[tuple[int | None, str | None, str], list[str]] = {}
    scenarios: list[Scenario] = []
    base_id = doc.data.get("id")
    for v in variants:
        data = dict(v.data)
        if isinstance(base_id, str):
            data["id"] = f"{base_id}{VARIANT_SEP}{v.suffix}"
        scenario, problems = _validate(doc, data)
        for e in problems:
            by_error.setdefault((e.line, e.field, e.message), []).append(v.suffix)
        if scenario is not None:
            scenarios.append(scenario)
    for (line, fld, message), suffixes in by_error.items():
        if len(suffixes) < len(variants):
            more = f" and {len(suffixes) - 1} more" if len(suffixes) > 1 else ""
            message = f"{message} (in variant '{suffixes[0]}'{more})"
        errors.append(SourceError(doc.path, line, fld, message))
    result.errors = errors
    if not result.errors:
        result.scenarios = scenarios
    return result


def load_scenario_file(path: str | Path) -> list[Scenario]:
    """The scenario(s) in one file (a template gives several); raise its first error."""
    checked = check_file(path)
    if checked.errors:
        raise checked.errors[0]
    return checked.scenarios


def load_scenario(path: str | Path) -> Scenario:
    """Load one (non-template) scenario file; raise :class:`ScenarioError` if it is invalid."""
    scenarios = load_scenario_file(path)
    if len(scenarios) != 1:
        raise SourceError(
            path,
            1,
            MATRIX_KEY,
            f"is a template of {len(scenarios)} scenarios; load it with load_scenario_file",
        )
    return scenarios[0]


def scenario_files(path: str | Path) -> list[Path]:
    """All ``*.yaml``/``*.yml`` files under ``path`` (or ``path`` itself), sorted."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise SourceError(p, None, None, "no such file or folder")
    return sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file())


def _duplicate(f: Path, s: Scenario, other: Path, what: str = "also in") -> SourceError:
    try:
        line = read_yaml(f).line_of(("id",))
    except SourceError:
        line = None
    return SourceError(f, line, "id", f"duplicate id '{s.id}' ({what} {other})")


def load_scenarios(
    paths: str | Path | Iterable[str | Path],
    categories: Iterable[str] | None = None,
) -> list[Scenario]:
    """Load every scenario under ``paths``; reject duplicate ids; optionally filter categories."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    wanted = None
    if categories is not None:
        wanted = set(categories)
        unknown = wanted - set(Category.__members__)
        if unknown:
            noun = "category" if len(unknown) == 1 else "categories"
            raise ValueError(
                f"unknown {noun}: {', '.join(sorted(unknown))}"
                f" (known: {', '.join(Category.__members__)})"
            )
    seen: dict[str, Path] = {}
    out: list[Scenario] = []
    for root in paths:
        for f in scenario_files(root):
            for s in load_scenario_file(f):
                if s.id in seen:
                    raise _duplicate(f, s, seen[s.id])
                seen[s.id] = f
                if wanted is None or s.category.value in wanted:
                    out.append(s)
    return out


def library_ids(paths: Iterable[str | Path] | None = None) -> dict[str, Path]:
    """Id → file of every valid scenario in the shipped library (or ``paths``)."""
    ids: dict[str, Path] = {}
    for root in paths if paths is not None else library_paths():
        for f in scenario_files(root):
            for s in check_file(f).scenarios:
                ids.setdefault(s.id, f)
    return ids


def validate_all(
    paths: Iterable[str | Path], library: dict[str, Path] | None = None
) -> tuple[int, list[SourceError]]:
    """Validate every file under ``paths``; return (valid scenarios, errors), never stopping.

    With ``library`` (id → file, see :func:`library_ids`), an id the library already uses in
    another file is an error naming both files.
    """
    ok = 0
    errors: list[SourceError] = []
    seen: dict[str, Path] = {}
    for root in paths:
        try:
            files = scenario_files(root)
        except SourceError as exc:
            errors.append(exc)
            continue
        for f in files:
            checked = check_file(f)
            errors += checked.errors
            for s in checked.scenarios:
                if s.id in seen:
                    errors.append(_duplicate(f, s, seen[s.id]))
                    continue
                other = (library or {}).get(s.id)
                if other is not None and other.resolve() != f.resolve():
                    errors.append(_duplicate(f, s, other, "already used by the library in"))
                    continue
                seen[s.id] = f
                ok += 1
    return ok, errors
