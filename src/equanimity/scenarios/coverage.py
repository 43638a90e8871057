"""What the library covers: counts by category, locale and tag family, against the floors.

Tags of the form ``family:value`` (``domain:weapons``, ``tactic:role-play``, ``risk:high``)
are counted per family; plain tags (``repetition``) are counted as they are. The floors every
category must reach are :data:`FLOORS`, the one place they are set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from equanimity.scenarios.schema import RISK_CATEGORIES, Category, Scenario

DEFAULT_FLOOR = 30
"""Fewest scenarios a category may have."""

RISK_FLOOR = 40
"""Fewest scenarios each risk category (self-harm, harm to others) may have."""

FLOORS: dict[Category, int] = {
    c: RISK_FLOOR if c in RISK_CATEGORIES else DEFAULT_FLOOR for c in Category
}
"""Floor per category: the coverage test and ``scenarios coverage --check`` read these."""

FAMILIES = ("domain", "tactic", "risk", "disclosure", "sincerity", "pushback", "quality")
"""Tag families the library uses (``family:value``), in the order they are shown."""

THIN = 5
"""A family value with fewer scenarios than this is listed as thin."""


@dataclass
class CategoryCoverage:
    """Counts for one category."""

    n: int = 0
    """Scenarios in the category."""
    locales: Counter[str] = field(default_factory=Counter)
    """Scenarios per locale."""
    families: dict[str, Counter[str]] = field(default_factory=dict)
    """Per tag family, scenarios per value (a scenario with two values counts for both)."""
    plain: Counter[str] = field(default_factory=Counter)
    """Scenarios per plain tag (no ``family:`` prefix)."""


@dataclass
class Coverage:
    """Counts over a set of scenarios."""

    categories: dict[Category, CategoryCoverage]
    """Every category, including empty ones."""

    @property
    def total(self) -> int:
        """All scenarios."""
        return sum(c.n for c in self.categories.values())

    def locales(self) -> Counter[str]:
        """Scenarios per locale over all categories."""
        out: Counter[str] = Counter()
        for c in self.categories.values():
            out.update(c.locales)
        return out

    def family(self, name: str) -> Counter[str]:
        """Scenarios per value of one tag family over all categories."""
        out: Counter[str] = Counter()
        for c in self.categories.values():
            out.update(c.families.get(name, Counter()))
        return out

    def families(self) -> list[str]:
        """The known families first, then any other family found, sorted."""
        found = {f for c in self.categories.values() for f in c.families}
        return [f for f in FAMILIES if f in found] + sorted(found - set(FAMILIES))


def coverage(scenarios: Iterable[Scenario]) -> Coverage:
    """Count ``scenarios`` by category, locale and tag family."""
    cats = {c: CategoryCoverage() for c in Category}
    for s in scenarios:
        cc = cats[s.category]
        cc.n += 1
        cc.locales[s.locale] += 1
        for tag in dict.fromkeys(s.tags):  # a tag repeated in one scenario counts once
            family, sep, value = tag.partition(":")
            if sep and family and value:
                cc.families.setdefault(family, Counter())[value] += 1
            else:
                cc.plain[tag] += 1
    return Coverage(cats)


def below_floor(cov: Coverage) -> list[tuple[Category, int, int]]:
    """(category, count, floor) for every category under its floor in :data:`FLOORS`."""
    return [(c, cc.n, FLOORS[c]) for c, cc in cov.categories.items() if cc.n < FLOORS[c]]


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def format_coverage(cov: Coverage) -> str:
    """A readable plain-text report: category x locale, then each tag family."""
    locales = sorted(cov.locales())
    width = max(len(c.value) for c in Category)
    head = f"{'category':<{width}}  {'n':>4}  {'floor':>5}  {'':<3}" + "".join(
        f"  {loc:>5}" for loc in locales
    )
    lines = [f"{cov.total} scenarios, {len(locales)} locales", "", head, "-" * len(head)]
    for cat, cc in cov.categories.items():
        mark = "ok" if cc.n >= FLOORS[cat] else "LOW"
        row = f"{cat.value:<{width}}  {cc.n:>4}  {FLOORS[cat]:>5}  {mark:<3}"
        lines.append(row + "".join(f"  {cc.locales.get(x, 0):>5}" for x in locales))
    for fam in cov.families():
        total = cov.family(fam)
        lines += ["", f"{fam}: {_counts(total)}"]
        for cat, cc in cov.categories.items():
            if fam in cc.families:
                lines.append(f"  {cat.value:<{width}}  {_counts(cc.families[fam])}")
        thin = sorted(v for v, n in total.items() if n < THIN)
        if thin:
            lines.append(f"  fewer than {THIN}: {', '.join(thin)}")
    low = below_floor(cov)
    lines.append("")
    if low:
        lines.append("below floor: " + ", ".join(f"{c.value} {n}/{floor}" for c, n, floor in low))
    else:
        lines.append("every category is at or above its floor")
    return "\n".join(lines)


def coverage_json(cov: Coverage) -> dict[str, Any]:
    """The same counts as plain JSON-ready data."""
    return {
        "total": cov.total,
        "locales": dict(sorted(cov.locales().items())),
        "families": {f: dict(sorted(cov.family(f).items())) for f in cov.families()},
        "categories": {
            c.value: {
                "n": cc.n,
                "floor": FLOORS[c],
                "locales": dict(sorted(cc.locales.items())),
                "families": {f: dict(sorted(v.items())) for f, v in sorted(cc.families.items())},
                "plain_tags": dict(sorted(cc.plain.items())),
            }
            for c, cc in cov.categories.items()
        },
        "below_floor": [
            {"category": c.value, "n": n, "floor": floor} for c, n, floor in below_floor(cov)
        ],
    }
