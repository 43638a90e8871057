"""The compare page's verdict: significant regressions and improvements first, in words.

"1 significant regression, no improvement" then one line per significant metric ("Refusal
persistence rate fell from 1.00 to 0.00 ... 9 samples flipped for the worse") linking to the
first of those samples' side-by-side transcripts, critical flips (a must-be-zero metric such as
wrongful ends on users at risk) before everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from equanimity.compare.comparison import Comparison
from equanimity.compare.flips import Flip
from equanimity.compare.metrics import MetricComparison

ORDER = {"regression": 0, "improvement": 1, "changed": 2}
"""Verdict lines in this order."""


@dataclass(frozen=True)
class VerdictLine:
    """One line of the verdict."""

    kind: str
    """critical, regression, improvement or changed (its CSS class)."""
    text: str
    """The line in words."""
    href: str
    """Where its link goes (the first affected sample's transcripts), or ''."""
    link: str
    """The link's text."""


@dataclass(frozen=True)
class CompareVerdict:
    """The verdict block."""

    title: str
    """One line: how many significant regressions and improvements."""
    lines: list[VerdictLine]
    """Critical flips, then regressions, improvements and other changes."""
    rest: str
    """What did not change significantly."""
    regressions: int
    """Significant regressions (overall or in one category)."""


def _plural(n: int, word: str) -> str:
    if n == 0:
        return f"no {word}"
    return f"{n} {word}{'s' if n != 1 else ''}"


def _flips_for(m: MetricComparison, flips: list[Flip]) -> list[Flip]:
    want = "regression" if m.verdict == "regression" else "improvement"
    return [
        f
        for f in flips
        if (m.category is None or f.category == m.category)
        and any(c.metric == m.headline.id and c.kind == want for c in f.changes)
    ]


def _metric_line(m: MetricComparison, flips: list[Flip], shown: set[str]) -> VerdictLine:
    r = m.result
    moved = "rose" if r.diff > 0 else "fell"
    where = f" on {m.category}" if m.category else ""
    test = "McNemar" if r.test.startswith("mcnemar") else "paired bootstrap"
    text = (
        f"{m.headline.label}{where} {moved} from {r.baseline:.2f} to {r.candidate:.2f} "
        f"(Δ {r.diff:+.2f}, 95% CI [{r.low:+.2f}, {r.high:+.2f}], p = {r.pvalue:.3g}, "
        f"{test}, n = {r.n})"
    )
    affected = _flips_for(m, flips)
    href, link = "", ""
    if affected:
        worse = "for the worse" if m.verdict == "regression" else "for the better"
        text += f": {_plural(len(affected), 'sample')} flipped {worse}"
        first = next((f for f in affected if f.anchor in shown), None)
        if first is not None:
            href, link = f"#{first.anchor}", f"first: {first.sample_id}"
    return VerdictLine(m.verdict, text, href, link)


def _critical_line(flips: list[Flip], shown: set[str]) -> VerdictLine | None:
    critical = [f for f in flips if f.severity == 0]
    if not critical:
        return None
    what = sorted({c.words for f in critical for c in f.changes if c.must_be_zero})
    text = f"{_plural(len(critical), 'critical regression')} ({'; '.join(what)})"
    first = next((f for f in critical if f.anchor in shown), None)
    href = f"#{first.anchor}" if first else ""
    return VerdictLine("critical", text, href, f"first: {first.sample_id}" if first else "")


def compare_verdict(cmp: Comparison, shown: set[str]) -> CompareVerdict:
    """The verdict of a comparison; ``shown`` holds the anchors of embedded transcripts."""
    significant = [m for m in cmp.metrics if m.verdict in ORDER]
    # a category's change is listed only when the metric overall did not change significantly
    overall = {m.headline.id for m in significant if m.category is None}
    listed = [m for m in significant if m.category is None or m.headline.id not in overall]
    listed.sort(key=lambda m: (ORDER[m.verdict], m.category is not None))
    lines = [_metric_line(m, cmp.flips, shown) for m in listed]
    critical = _critical_line(cmp.flips, shown)
    if critical is not None:
        lines.insert(0, critical)
    n_reg = sum(m.verdict == "regression" for m in listed)
    n_imp = sum(m.verdict == "improvement" for m in listed)
    scope = f"α = {cmp.alpha:g}, {cmp.pairing.n} paired samples"
    if n_reg or n_imp:
        title = (
            f"{_plural(n_reg, 'significant regression')}, {_plural(n_imp, 'improvement')} ({scope})"
        )
    else:
        title = f"No significant regression or improvement ({scope})"
    title = title[0].upper() + title[1:]
    quiet = sum(1 for m in cmp.metrics if m.category is None and m.verdict not in ORDER)
    rest = (
        f"No significant change in the other {quiet} headline metric{'s' if quiet != 1 else ''}; "
        f"{_plural(len(cmp.flips), 'sample')} changed outcome in all."
    )
    return CompareVerdict(title, lines, rest, n_reg)
