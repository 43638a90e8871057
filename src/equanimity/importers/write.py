"""What an importer produces, and writing it as scenario YAML files (one per scenario)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from equanimity.scenarios.schema import Scenario


@dataclass(frozen=True)
class Skipped:
    """A source record that was not converted."""

    line: int
    """1-based line of the record in the source file."""
    reason: str
    """Short reason, used to count skips (e.g. ``answer too long``)."""
    detail: str = ""
    """Longer explanation for the message printed to the user."""

    def message(self, source: str | Path) -> str:
        """Return a one-line message naming the file and line."""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{source}:{self.line}: skipped: {self.reason}{extra}"


@dataclass(frozen=True)
class Imported:
    """One converted record."""

    scenario: Scenario
    """The scenario built from it (already validated)."""
    line: int
    """1-based line of the record in the source file."""
    header: tuple[str, ...]
    """Comment lines written at the top of the file (provenance and licence)."""


@dataclass
class ImportResult:
    """Everything an importer made of one source file."""

    source: Path
    """The file read."""
    imported: list[Imported] = field(default_factory=list)
    """Converted records, in source order."""
    skipped: list[Skipped] = field(default_factory=list)
    """Records left out, in source order."""

    def skip_counts(self) -> Counter[str]:
        """How many records were skipped for each reason."""
        return Counter(s.reason for s in self.skipped)

    def summary(self) -> str:
        """One line: converted and skipped counts, with the skip reasons counted."""
        counts = self.skip_counts()
        reasons = ", ".join(f"{r}: {n}" for r, n in sorted(counts.items()))
        tail = f" ({reasons})" if reasons else ""
        return f"{len(self.imported)} converted, {len(self.skipped)} skipped{tail}"


def scenario_yaml(scenario: Scenario, header: Sequence[str] = ()) -> str:
    """Return the YAML text of a scenario, with ``header`` as leading comment lines."""
    data: dict[str, Any] = scenario.model_dump(mode="json", exclude_none=True)
    for key in ("tags", "prefill"):
        if not data.get(key):
            data.pop(key, None)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return comments + dump_yaml(data)


def dump_yaml(data: Any) -> str:
    """Plain block YAML the project's loader accepts: no anchors or aliases, keys in order."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


class _Dumper(yaml.SafeDumper):
    """Safe dumper writing multi-line strings as literal blocks (readable prompts).

    It never writes anchors or aliases: a value repeated in the data (the same turn twice, a
    shared list) is written out in full each time, since the project's loader rejects aliases.
    """

    def ignore_aliases(self, data: Any) -> bool:
        """Never alias: repeated values are written in full."""
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # PyYAML falls back to quotes where "|" can't hold it
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def write_scenarios(
    imported: Iterable[Imported], out_dir: str | Path, force: bool = False
) -> list[Path]:
    """Write one ``<id>.yaml`` per scenario into ``out_dir`` (created if missing).

    Refuses (``FileExistsError``, before writing anything) to replace an existing file unless
    ``force`` is set.
    """
    out = Path(out_dir)
    items = list(imported)
    targets = [out / f"{item.scenario.id}.yaml" for item in items]
    if not force:
        existing = [t for t in targets if t.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise FileExistsError(f"{existing[0]} already exists{more} (use --force to overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    for item, target in zip(items, targets, strict=True):
        target.write_text(scenario_yaml(item.scenario, item.header), encoding="utf-8")
    return targets


def slug(text: str) -> str:
    """Lowercase id fragment: letters, digits, ``_``, ``.`` and ``-`` only."""
    out = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p) or "x"
