"""Scorer provenance: a content hash and a readable version of everything that decides a score.

A run is measured by its scorers as much as by its model: a lexicon edit between two runs would
otherwise show up in ``compare`` as a "regression" of the model. ``equanimity run`` and
``equanimity rescore`` write :func:`scorer_provenance` into the eval's metadata (key
:data:`METADATA_KEY`); ``compare`` and ``gate --baseline`` refuse two logs whose provenance
differs (:func:`scorer_change`), naming each component that differs, unless the user passes
``--allow-scorer-change``. A log without provenance (made before it was recorded) counts as
different; ``equanimity rescore`` brings it onto the current scorers.

What is hashed is listed once, in :data:`SOURCES`; a new kind of component (learned weights in
their own place, a user simulator) is one more function there:

- every file under the scorer data folder (:func:`equanimity.paths.scorers_dir`: lexicons,
  resources, rubrics, and any learned weights kept there), by content;
- the source of the scoring code: the ``.py`` files of each module in :data:`CODE_MODULES` that
  exists (found with importlib, so text-classification or labeller packages count as soon as
  they are there);
- the judge: the model bound to the ``grader`` role, with its generate settings and arguments
  (credentials removed), or "none";
- scoring settings (the judge cascade).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from equanimity import __version__
from equanimity.paths import scorers_dir

METADATA_KEY = "equanimity_scorer_provenance"
"""Key of the provenance record in an eval log's ``eval.metadata``."""

SCHEMA = 1
"""Version of the provenance record's layout."""

CODE_MODULES = (
    "equanimity.scorers",
    "equanimity.textclass",
    "equanimity.solvers.turn_labeller",
)
"""Modules or packages whose source decides a score (those not installed are skipped)."""

GRADER_ROLE = "grader"
"""The model role of the judge layer."""


@dataclass(frozen=True)
class Settings:
    """What the components describe besides files: the judge binding and scoring options."""

    model_roles: Mapping[str, Any]
    """Model roles bound for scoring (``grader``: a model name, a dict spec, or a Model)."""
    cascade: bool = True
    """Whether the judge sees only turns the rule layer is unsure of."""


Component = tuple[str, str, str]
"""(name, sha256 of the content, human-readable version)."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(root: Path) -> Iterator[Path]:
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not any(
            part.startswith(".") or part == "__pycache__" for part in rel.parts
        ):
            yield p


def scorer_data(_: Settings) -> list[Component]:
    """Every file under the scorer data folder, by content."""
    root = scorers_dir()
    out: list[Component] = []
    for p in _files(root):
        data = p.read_bytes()
        name = p.relative_to(root).as_posix()
        out.append((name, _sha(data), f"{len(data)} bytes"))
    return out


def scoring_code(_: Settings) -> list[Component]:
    """The ``.py`` source of every module in :data:`CODE_MODULES` that exists."""
    out: list[Component] = []
    for module in CODE_MODULES:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        prefix = "code/" + module.replace(".", "/")
        if spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                base = Path(folder)
                for p in _files(base):
                    if p.suffix == ".py":
                        rel = p.relative_to(base).as_posix()
                        out.append((f"{prefix}/{rel}", _sha(p.read_bytes()), __version__))
        elif spec.origin and spec.origin.endswith(".py"):
            out.append((prefix + ".py", _sha(Path(spec.origin).read_bytes()), __version__))
    return out


def describe_model(model: Any) -> dict[str, Any]:
    """A JSON-able description of a bound model: name, generate settings, arguments."""
    if model is None:
        return {"model": None}
    if isinstance(model, list):
        return describe_model(model[0] if model else None)
    if isinstance(model, str):
        return {"model": model, "config": {}, "model_args": {}}
    if isinstance(model, Mapping):
        spec = dict(model)
        name = spec.pop("model", None)
        args = spec.pop("model_args", {}) or {}
        return {"model": name, "config": _json(spec), "model_args": _loggable(args)}
    config = getattr(model, "config", None)
    dumped = config.model_dump(exclude_none=True) if config is not None else {}
    return {
        "model": str(model),
        "config": _json(dumped),
        "model_args": _loggable(getattr(model, "model_args", {}) or {}),
    }


def _loggable(args: Mapping[str, Any]) -> dict[str, Any]:
    from equanimity.redaction import loggable_model_args

    return dict(_json(loggable_model_args(dict(args))))


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def judge_model(settings: Settings) -> list[Component]:
    """The model bound to the ``grader`` role and its settings (or none: rule layer only)."""
    described = describe_model(settings.model_roles.get(GRADER_ROLE))
    text = json.dumps(described, sort_keys=True)
    if described["model"] is None:
        return [("judge", _sha(text.encode()), "none (rule layer only)")]
    readable = described["model"]
    if described.get("config"):
        readable += " " + json.dumps(described["config"], sort_keys=True)
    return [("judge", _sha(text.encode()), readable)]


def scoring_settings(settings: Settings) -> list[Component]:
    """Scoring options that change verdicts (the judge cascade)."""
    text = json.dumps({"cascade": settings.cascade}, sort_keys=True)
    return [("settings", _sha(text.encode()), f"cascade={settings.cascade}")]


SOURCES: tuple[Callable[[Settings], list[Component]], ...] = (
    scorer_data,
    scoring_code,
    judge_model,
    scoring_settings,
)
"""Everything that decides a score, one function per kind of component."""


def scorer_provenance(
    model_roles: Mapping[str, Any] | None = None, cascade: bool = True
) -> dict[str, Any]:
    """The provenance record written into a log's metadata (JSON-able)."""
    settings = Settings(model_roles or {}, cascade)
    components = {
        name: {"sha256": sha, "version": version}
        for source in SOURCES
        for name, sha, version in source(settings)
    }
    digest = _sha(json.dumps(components, sort_keys=True).encode())
    return {
        "schema": SCHEMA,
        "digest": digest,
        "version": f"equanimity {__version__}, scorers {digest[:12]}",
        "components": components,
    }


def read_provenance(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The provenance record in an eval's metadata, or None when the log has none."""
    record = (metadata or {}).get(METADATA_KEY)
    if isinstance(record, dict) and isinstance(record.get("components"), dict):
        return record
    return None


def _short(sha: str | None) -> str:
    return "absent" if sha is None else f"{sha[:4]}…"


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Each component that differs between two records, in name order.

    E.g. ``lexicons/refusal.yaml (sha256 ab12… vs cd34…)``.
    """
    ca, cb = a.get("components", {}), b.get("components", {})
    out = []
    for name in sorted(set(ca) | set(cb)):
        sa = (ca.get(name) or {}).get("sha256")
        sb = (cb.get(name) or {}).get("sha256")
        if sa != sb:
            if name in ("judge", "settings"):
                va = (ca.get(name) or {}).get("version", "absent")
                vb = (cb.get(name) or {}).get("version", "absent")
                out.append(f"{name} ({va} vs {vb})")
            else:
                out.append(f"{name} (sha256 {_short(sa)} vs {_short(sb)})")
    return out


def scorer_change(
    baseline_metadata: Mapping[str, Any] | None,
    candidate_metadata: Mapping[str, Any] | None,
    baseline_path: str,
    candidate_path: str,
) -> str | None:
    """Why two logs were scored differently (one line), or None when their scorers match."""
    a, b = read_provenance(baseline_metadata), read_provenance(candidate_metadata)
    missing = [p for p, rec in ((baseline_path, a), (candidate_path, b)) if rec is None]
    if missing:
        logs = " and ".join(missing)
        return (
            f"scorers unknown: {logs} record(s) no scorer provenance (made before equanimity "
            "recorded it), so the scorers cannot be shown to match; bring the log onto the "
            "current scorers with `equanimity rescore LOG -o NEW.eval`"
        )
    assert a is not None and b is not None
    if a.get("digest") == b.get("digest"):
        return None
    diff = differences(a, b)
    more = f", … ({len(diff) - 5} more)" if len(diff) > 5 else ""
    return (
        f"scorers differ: {', '.join(diff[:5])}{more} (baseline vs candidate); re-score both "
        "with the same scorers (`equanimity rescore`)"
    )
