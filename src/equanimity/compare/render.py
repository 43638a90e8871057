"""Render a :class:`Comparison` as a self-contained HTML page or as Markdown (CI summaries).

The HTML page loads nothing: no scripts, no external resources (a strict Content Security
Policy says so), and every piece of model or scenario text is escaped by Jinja's autoescape.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from equanimity.compare.comparison import Comparison
from equanimity.compare.flips import Flip
from equanimity.compare.metrics import MetricComparison
from equanimity.compare.simulators import end_offers
from equanimity.compare.transcripts import read_transcripts

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""Content Security Policy of every generated page: inline styles and data: images only."""

MAX_TRANSCRIPTS = 100
"""Flipped samples whose transcripts are embedded in the HTML (worst first)."""

MAX_MARKDOWN_FLIPS = 50
"""Flipped samples listed in the Markdown summary."""


def fmt(v: float, digits: int = 3) -> str:
    """Format a value for display ('-' for NaN)."""
    return "-" if math.isnan(v) else f"{v:.{digits}f}"


def fmt_diff(v: float) -> str:
    """Format a signed difference for display."""
    return "-" if math.isnan(v) else f"{v:+.3f}"


def fmt_p(p: float) -> str:
    """Format a p-value for display."""
    if math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_ci(low: float, high: float) -> str:
    """Format a 95% interval for display."""
    if math.isnan(low):
        return "-"
    return f"[{low:+.3f}, {high:+.3f}]"


def metric_row(m: MetricComparison) -> dict[str, str]:
    """Return the display strings of one metric comparison."""
    r = m.result
    test: str = r.test
    if test.startswith("mcnemar"):
        test += f" ({r.discordant[0]}↑ {r.discordant[1]}↓)"
    return {
        "metric": m.headline.id,
        "label": m.headline.label,
        "category": m.category or "all",
        "n": str(r.n),
        "unpaired": str(m.unpaired),
        "baseline": fmt(r.baseline),
        "candidate": fmt(r.candidate),
        "diff": fmt_diff(r.diff),
        "ci": fmt_ci(r.low, r.high),
        "test": test,
        "p": fmt_p(r.pvalue),
        "verdict": m.verdict,
        "direction": m.headline.direction,
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_output(path: str | Path, text: str) -> None:
    """Write a report file, creating folders; append when it is the GitHub step summary."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    mode = "a" if summary and Path(summary).resolve() == p.resolve() else "w"
    with p.open(mode, encoding="utf-8") as fh:
        fh.write(text)


def _changes_text(f: Flip) -> str:
    return "; ".join(f"{c.metric} {c.before}→{c.after} ({c.kind})" for c in f.changes)


def render_markdown(cmp: Comparison) -> str:
    """Render a Markdown summary: headline table, per-category details, flipped samples."""
    b, c = cmp.baseline, cmp.candidate
    p = cmp.pairing
    eb, ec = cmp.errored()
    lines = [
        f"## equanimity compare: `{_md(c.model)}` vs baseline `{_md(b.model)}`",
        "",
        f"- Baseline: `{_md(b.path)}` ({_md(b.label)}, status {b.status})",
        f"- Candidate: `{_md(c.path)}` ({_md(c.label)}, status {c.status})",
        f"- End offer: baseline {end_offers(p.base)}, candidate {end_offers(p.cand)}",
        f"- Paired samples: {p.n}; dropped: {p.dropped}; errored: {eb} baseline, {ec} candidate;"
        f" α = {cmp.alpha}",
        "",
        "| Metric | n | Baseline | Candidate | Δ | 95% CI of Δ | Test | p | Verdict |",
        "|---|---:|---:|---:|---:|---|---|---:|---|",
    ]
    overall = [m for m in cmp.metrics if m.category is None]
    for m in overall:
        r = metric_row(m)
        verdict = f"**{r['verdict']}**" if r["verdict"] == "regression" else r["verdict"]
        lines.append(
            f"| {_md(r['label'])} (`{r['metric']}`) | {r['n']} | {r['baseline']} | "
            f"{r['candidate']} | {r['diff']} | {r['ci']} | {r['test']} | {r['p']} | "
            f"{verdict} |"
        )
    per_cat = [m for m in cmp.metrics if m.category is not None]
    if per_cat:
        lines += [
            "",
            "<details><summary>Per category</summary>",
            "",
            "| Metric | Category | n | Baseline | Candidate | Δ | 95% CI | p | Verdict |",
            "|---|---|---:|---:|---:|---:|---|---:|---|",
        ]
        for m in per_cat:
            r = metric_row(m)
            lines.append(
                f"| `{r['metric']}` | {_md(r['category'])} | {r['n']} | "
                f"{r['baseline']} | {r['candidate']} | {r['diff']} | {r['ci']} | "
                f"{r['p']} | {r['verdict']} |"
            )
        lines += ["", "</details>"]
    lines += ["", f"### Flipped samples ({len(cmp.flips)})", ""]
    if cmp.flips:
        lines += ["| Severity | Sample | Category | Outcome | Changes |", "|---|---|---|---|---|"]
        for f in cmp.flips[:MAX_MARKDOWN_FLIPS]:
            lines.append(
                f"| {f.severity_label} | `{_md(f.sample_id)}` #{f.epoch} | "
                f"{_md(f.category)} | {_md(f.baseline_outcome)} → "
                f"{_md(f.candidate_outcome)} | {_md(_changes_text(f))} |"
            )
        if len(cmp.flips) > MAX_MARKDOWN_FLIPS:
            lines.append(f"\n… and {len(cmp.flips) - MAX_MARKDOWN_FLIPS} more (see the HTML).")
    else:
        lines.append("No sample changed outcome.")
    return "\n".join(lines) + "\n"


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>equanimity compare: {{ cand.model }} vs {{ base.model }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:110rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;font-size:.9rem;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.cat td:first-child{padding-left:1.5rem;color:#555}
.regression,.critical{background:#fde2e2}.improvement{background:#e2f5e6}.changed{background:#fff4d6}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.msg{border-left:3px solid #bbb;margin:.4rem 0;padding:.2rem .5rem;overflow-wrap:anywhere}
.text{white-space:pre-wrap}
.msg.user{border-color:#4a7bd0}.msg.assistant{border-color:#3a9b5c}.msg.tool{border-color:#b58a00}
.role{font-size:.75rem;color:#666;text-transform:uppercase}.call{font-family:monospace;color:#8a4b00}
details{margin:.5rem 0}code{background:#f3f3f3;padding:0 .2rem}
</style></head><body>
<h1>Compare: <code>{{ cand.model }}</code> against baseline <code>{{ base.model }}</code></h1>
<table>
<tr><th></th><th>log</th><th>model</th><th>created</th><th>status</th><th>samples</th></tr>
<tr><th>baseline</th><td><code>{{ base.path }}</code></td><td>{{ base.model }}</td>
<td>{{ base.header.eval.created }}</td><td>{{ base.status }}</td>
<td class="num">{{ base.samples|length }}</td></tr>
<tr><th>candidate</th><td><code>{{ cand.path }}</code></td><td>{{ cand.model }}</td>
<td>{{ cand.header.eval.created }}</td><td>{{ cand.status }}</td>
<td class="num">{{ cand.samples|length }}</td></tr>
</table>
<p>End offer: baseline {{ offers[0] }}, candidate {{ offers[1] }}{% if offers[0] != offers[1] %} (the difference below is the offer's effect, paired by scenario){% endif %}.</p>
<p>Paired samples: {{ pairing.n }} (by sample id and epoch).
{% if pairing.dropped %}Dropped (not in both runs, or scenario version changed):
{{ pairing.dropped }}.{% endif %}
Errored: {{ errored[0] }} baseline, {{ errored[1] }} candidate (left out of every metric).
Differences are candidate − baseline; 0/1 metrics use McNemar's test and Newcombe's paired
interval, others a seeded paired bootstrap; verdicts at α = {{ alpha }}.</p>
<h2>Headline metrics</h2>
<table><tr><th>metric</th><th>category</th><th>n</th><th>baseline</th><th>candidate</th>
<th>Δ</th><th>95% CI of Δ</th><th>test</th><th>p</th><th>verdict</th></tr>
{% for r in rows %}<tr class="{{ 'cat' if r.category != 'all' else '' }} {{ r.verdict_class }}">
<td>{% if r.category == 'all' %}<b>{{ r.label }}</b> <code>{{ r.metric }}</code>
{% else %}{{ r.metric }}{% endif %}</td><td>{{ r.category }}</td><td class="num">{{ r.n }}</td>
<td class="num">{{ r.baseline }}</td><td class="num">{{ r.candidate }}</td>
<td class="num">{{ r.diff }}</td><td class="num">{{ r.ci }}</td><td>{{ r.test }}</td>
<td class="num">{{ r.p }}</td><td>{{ r.verdict }}</td></tr>
{% endfor %}</table>
<h2>Flipped samples ({{ flips|length }})</h2>
{% if flips %}<table><tr><th>severity</th><th>sample</th><th>category</th><th>outcome</th>
<th>changes</th><th></th></tr>
{% for f in flips %}<tr class="{{ f.css }}"><td>{{ f.flip.severity_label }}</td>
<td><code>{{ f.flip.sample_id }}</code> #{{ f.flip.epoch }}</td><td>{{ f.flip.category }}</td>
<td>{{ f.flip.baseline_outcome }} → {{ f.flip.candidate_outcome }}</td>
<td>{{ f.changes }}</td>
<td>{% if f.shown %}<a href="#{{ f.flip.anchor }}">transcripts</a>{% endif %}</td></tr>
{% endfor %}</table>{% else %}<p>No sample changed outcome.</p>{% endif %}
{% if transcripts %}<h2>Transcripts of flipped samples</h2>
{% if hidden %}<p>{{ hidden }} more flipped sample(s) not embedded.</p>{% endif %}
{% for t in transcripts %}<section id="{{ t.flip.anchor }}">
<h3><code>{{ t.flip.sample_id }}</code> #{{ t.flip.epoch }} ({{ t.flip.severity_label }})</h3>
<div class="side">{% for side in t.sides %}<div><h4>{{ side.title }}</h4>
{% if side.messages is none %}<p>(transcript unavailable)</p>{% else %}
{% for m in side.messages %}<div class="msg {{ m.role.split(':')[0] }}">\
<div class="role">{{ m.role }}</div><div class="text">{{ m.text }}</div>\
{% for call in m.tool_calls %}<div class="call">→ {{ call }}</div>{% endfor %}</div>
{% endfor %}{% endif %}</div>{% endfor %}</div></section>
{% endfor %}{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
_PAGE = _ENV.from_string(_TEMPLATE)

_CSS = {"regression": "regression", "improvement": "improvement", "changed": "changed"}
_FLIP_CSS = ("critical", "regression", "changed", "improvement")


def render_html(cmp: Comparison, max_transcripts: int = MAX_TRANSCRIPTS) -> str:
    """Render the self-contained HTML comparison page (transcripts of flipped samples embedded)."""
    rows = []
    for m in cmp.metrics:
        r: dict[str, str] = metric_row(m)
        r["verdict_class"] = _CSS.get(m.verdict, "")
        rows.append(r)
    shown = cmp.flips[:max_transcripts]
    flips = [
        {
            "flip": f,
            "changes": _changes_text(f),
            "css": _FLIP_CSS[f.severity],
            "shown": i < max_transcripts,
        }
        for i, f in enumerate(cmp.flips)
    ]
    keys = [(f.sample_id, f.epoch) for f in shown]
    base_msgs = read_transcripts(cmp.baseline.path, keys)
    cand_msgs = read_transcripts(cmp.candidate.path, keys)
    transcripts = []
    for f, bm, cm in zip(shown, base_msgs, cand_msgs, strict=True):
        sides: list[dict[str, object]] = []
        for title, run, outcome, msgs in (
            ("baseline", cmp.baseline, f.baseline_outcome, bm),
            ("candidate", cmp.candidate, f.candidate_outcome, cm),
        ):
            sides.append({"title": f"{title}: {run.model} ({outcome})", "messages": msgs})
        transcripts.append({"flip": f, "sides": sides})
    return _PAGE.render(
        csp=Markup(CSP),
        base=cmp.baseline,
        cand=cmp.candidate,
        pairing=cmp.pairing,
        errored=cmp.errored(),
        alpha=cmp.alpha,
        rows=rows,
        flips=flips,
        transcripts=transcripts,
        hidden=max(0, len(cmp.flips) - len(shown)),
        offers=(end_offers(cmp.pairing.base), end_offers(cmp.pairing.cand)),
    )
