"""Load and validate scenario YAML files; every error names file, line and field."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from equanimity.scenarios.schema import Category, CategoryRuleError, Scenario
from equanimity.yaml_source import SourceError, YamlDocument, read_yaml

ScenarioError = SourceError
"""Raised for any invalid scenario file (a located, one-line message)."""


def _scenario_from_document(doc: YamlDocument) -> Scenario:
    if not isinstance(doc.data, dict):
        raise SourceError(
            doc.path,
            doc.line_of(()),
            None,
            "a scenario file must hold one mapping (id, category, turns, ...)",
        )
    try:
        return Scenario.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, CategoryRuleError):
            loc = tuple(int(p) if p.isdigit() else p for p in ctx_error.field.split("."))
            return _raise(doc, loc, str(ctx_error))
        raise doc.error_from_validation(exc) from None


def _raise(doc: YamlDocument, loc: tuple[str | int, ...], message: str) -> Scenario:
    raise SourceError(doc.path, doc.line_of(loc), ".".join(map(str, loc)), message)


def load_scenario(path: str | Path) -> Scenario:
    """Load one scenario file; raise :class:`ScenarioError` if it is invalid."""
    doc = read_yaml(path)
    scenario = _scenario_from_document(doc)
    folder = Path(path).parent.name
    if folder in Category.__members__ and folder != scenario.category.value:
        _raise(
            doc,
            ("category",),
            f"is '{scenario.category.value}' but the file is in folder '{folder}'",
        )
    return scenario


def scenario_files(path: str | Path) -> list[Path]:
    """All ``*.yaml``/``*.yml`` files under ``path`` (or ``path`` itself), sorted."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise SourceError(p, None, None, "no such file or folder")
    return sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file())


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
            s = load_scenario(f)
            if s.id in seen:
                doc = read_yaml(f)
                raise SourceError(
                    f, doc.line_of(("id",)), "id", f"duplicate id '{s.id}' (also in {seen[s.id]})"
                )
            seen[s.id] = f
            if wanted is None or s.category.value in wanted:
                out.append(s)
    return out


def validate_all(paths: Iterable[str | Path]) -> tuple[int, list[SourceError]]:
    """Validate every file under ``paths``; return (valid count, errors) without stopping early."""
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
            try:
                s = load_scenario(f)
            except SourceError as exc:
                errors.append(exc)
                continue
            if s.id in seen:
                doc = read_yaml(f)
                errors.append(
                    SourceError(
                        f,
                        doc.line_of(("id",)),
                        "id",
                        f"duplicate id '{s.id}' (also in {seen[s.id]})",
                    )
                )
                continue
            seen[s.id] = f
            ok += 1
    return ok, errors
