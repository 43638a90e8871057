"""Render a :class:`Comparison` as a self-contained HTML page or as Markdown (CI summaries).

The HTML page loads nothing: no scripts, no external resources (a strict Content Security
Policy says so), and every piece of model or scenario text is escaped by Jinja's autoescape.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from inspect_ai.log import EvalSample
from jinja2 import Environment
from markupsafe import Markup

from equanimity.compare.comparison import Comparison
from equanimity.compare.flips import Flip
from equanimity.compare.metrics import MetricComparison
from equanimity.compare.sidebyside import align, read_samples, turns_of
from equanimity.compare.simulators import end_offers
from equanimity.compare.transcripts import to_messages
from equanimity.compare.verdict import compare_verdict

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
        "ci": r.interval_text(),
        "test": test,
        "p": fmt_p(r.pvalue),
        "verdict": m.verdict,
        "direction": m.headline.direction,
        "detectable": m.detectable.short() if m.detectable else "-",
        "detectable_text": m.detectable.text(m.headline.id) if m.detectable else "",
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
    return "; ".join(c.words for c in f.changes)


def _markdown_verdict(cmp: Comparison) -> list[str]:
    """The verdict as Markdown: its title in bold, one bullet per line, then a blank line."""
    v = compare_verdict(cmp, set())
    return [f"**{_md(v.title)}**", *(f"- {x.kind}: {_md(x.text)}" for x in v.lines), ""]


def render_markdown(cmp: Comparison) -> str:
    """Render a Markdown summary: headline table, per-category details, flipped samples."""
    b, c = cmp.baseline, cmp.candidate
    p = cmp.pairing
    eb, ec = cmp.errored()
    lines: list[str] = []
    if cmp.scorer_warning:
        lines += [f"> **Warning: scorers changed between the runs:** {_md(cmp.scorer_warning)}", ""]
    lines += [
        f"## equanimity compare: `{_md(c.model)}` vs baseline `{_md(b.model)}`",
        "",
        *_markdown_verdict(cmp),
        f"- Baseline: `{_md(b.path)}` ({_md(b.label)}, status {b.status})",
        f"- Candidate: `{_md(c.path)}` ({_md(c.label)}, status {c.status})",
        f"- End offer: baseline {end_offers(p.base)}, candidate {end_offers(p.cand)}",
        f"- Paired samples: {p.n}; dropped: {p.dropped}; errored: {eb} baseline, {ec} candidate;"
        f" α = {cmp.alpha}",
        "",
        "| Metric | Scenarios | Baseline | Candidate | Δ | 95% CI of Δ | Test | p | Verdict "
        "| Detectable (α 0.05, power 0.8) |",
        "|---|---:|---:|---:|---:|---|---|---:|---|---|",
    ]
    overall = [m for m in cmp.metrics if m.category is None]
    for m in overall:
        r = metric_row(m)
        verdict = f"**{r['verdict']}**" if r["verdict"] == "regression" else r["verdict"]
        lines.append(
            f"| {_md(r['label'])} (`{r['metric']}`) | {r['n']} | {r['baseline']} | "
            f"{r['candidate']} | {r['diff']} | {r['ci']} | {r['test']} | {r['p']} | "
            f"{verdict} | {_md(r['detectable'])} |"
        )
    per_cat = [m for m in cmp.metrics if m.category is not None]
    if per_cat:
        lines += [
            "",
            "<details><summary>Per category</summary>",
            "",
            "| Metric | Category | Scenarios | Baseline | Candidate | Δ | 95% CI | p | Verdict |",
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
        lines += ["| Severity | Sample | Category | What changed |", "|---|---|---|---|"]
        for f in cmp.flips[:MAX_MARKDOWN_FLIPS]:
            lines.append(
                f"| {f.severity_label} | `{_md(f.sample_id)}` #{f.epoch} | "
                f"{_md(f.category)} | {_md(_changes_text(f))} |"
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
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:1rem auto;padding:0 1.2rem;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .45rem;font-size:.88rem;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}
table.metrics{table-layout:fixed}
.regression,.critical{background:#fde2e2}.improvement{background:#e2f5e6}.changed{background:#fff4d6}
.quiet td{color:#666}
.overview{border:1px solid #ccc;border-left:6px solid #2e7d4f;border-radius:4px;padding:.5rem 1rem;
margin:1rem 0}
.overview.attn{border-left-color:#b3261e}
.overview h2{margin:.2rem 0 .5rem;font-size:1.3rem}.overview.attn h2{color:#b3261e}
.overview ul{margin:.2rem 0 .4rem;padding-left:1.2rem}.overview li{margin:.2rem 0;padding:.1rem .3rem}
.note{color:#555}
table.turns{table-layout:fixed}
tr.diverge td{border-top:3px solid #b3261e}
.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .3rem;border-radius:3px;
border:1px solid #999;margin-left:.3rem}
.v-complied,.v-partial,.diverge-badge{border-color:#b3261e;color:#b3261e}
.v-refused{border-color:#2e7d4f;color:#2e7d4f}
.msg{border-left:3px solid #bbb;margin:.3rem 0;padding:.15rem .45rem;overflow-wrap:anywhere}
.text{white-space:pre-wrap;unicode-bidi:isolate}
.msg.user{border-color:#4a7bd0}.msg.assistant{border-color:#3a9b5c}.msg.tool{border-color:#b58a00}
.scorer-warning{background:#fff3cd;border:1px solid #d39e00;padding:.5rem}
.role{font-size:.75rem;color:#666;text-transform:uppercase}.call{font-family:monospace;color:#8a4b00}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
details{margin:.5rem 0}code{background:#f3f3f3;padding:0 .2rem;overflow-wrap:anywhere}
</style></head><body>
{% if scorer_warning %}<p class="scorer-warning" role="alert"><b>Warning: scorers changed between the runs</b> (compared with --allow-scorer-change): {{ scorer_warning }}. Differences below may come from the scorers, not the model.</p>
{% endif %}<h1>Compare: <code>{{ cand.model }}</code> against baseline <code>{{ base.model }}</code></h1>
<section id="verdict" class="overview {{ 'attn' if verdict.regressions or verdict.lines and
verdict.lines[0].kind == 'critical' else 'ok' }}">
<h2>{{ verdict.title }}</h2>
{% if verdict.lines %}<ul>{% for v in verdict.lines %}<li class="{{ v.kind }}">
<strong>{{ v.kind }}:</strong> {{ v.text }}{% if v.href %} — <a href="{{ v.href }}">{{ v.link }}</a>
{% endif %}</li>{% endfor %}</ul>{% endif %}
<p class="note">{{ verdict.rest }} <a href="#flips">Flipped samples</a> ·
<a href="#metrics">all metrics</a> · <a href="#categories">per category</a></p>
</section>
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
Differences are candidate − baseline over scenarios (n: paired scenarios; epochs and branch
replays are averaged within a scenario first). Scenarios that are 0/1 in both runs use
McNemar's test and Newcombe's paired interval, others a sign-flip permutation test with a seeded
bootstrap interval; verdicts at α = {{ alpha }}. “Detectable”: the value the candidate must
reach for the test to see it (α 0.05, power 0.8).</p>
{% macro metric_table(rows, with_category) %}<table class="metrics">
<colgroup><col style="width:{{ 18 if with_category else 34 }}%">{% if with_category %}
<col style="width:16%">{% endif %}<col style="width:5%"><col style="width:9%"><col style="width:9%">
<col style="width:14%"><col style="width:12%"><col style="width:9%"><col style="width:8%"></colgroup>
<tr><th>metric</th>{% if with_category %}<th>category</th>{% endif %}<th>n</th><th>baseline</th>
<th>candidate</th><th>Δ [95% CI]</th><th>p (test)</th><th>verdict</th><th>detectable</th></tr>
{% for r in rows %}<tr class="{{ r.verdict_class or 'quiet' }}">
<td>{% if with_category %}{{ r.metric }}{% else %}<b>{{ r.label }}</b> <code>{{ r.metric }}</code>
{% endif %}</td>{% if with_category %}<td>{{ r.category }}</td>{% endif %}
<td class="num">{{ r.n }}</td><td class="num">{{ r.baseline }}</td>
<td class="num">{{ r.candidate }}</td><td class="num">{{ r.diff }} {{ r.ci }}</td>
<td>{{ r.p }} <span class="note">{{ r.test }}</span></td><td>{{ r.verdict }}</td>
<td title="{{ r.detectable_text }}">{{ r.detectable }}</td></tr>
{% endfor %}</table>{% endmacro %}
<h2 id="metrics">Headline metrics</h2>
{{ metric_table(overall, False) }}
<h2 id="categories">Per category</h2>
<details{% if category_flagged %} open{% endif %}><summary>{{ per_category|length }} rows
({{ category_flagged }} significant, highlighted)</summary>
{{ metric_table(per_category, True) }}</details>
<h2 id="flips">Flipped samples ({{ flips|length }})</h2>
{% if flips %}<table><tr><th style="width:11%">severity</th><th style="width:24%">sample</th>
<th style="width:14%">category</th><th>what changed (baseline → candidate)</th>
<th style="width:8%"></th></tr>
{% for f in flips %}<tr class="{{ f.css }}"><td>{{ f.flip.severity_label }}</td>
<td><code>{{ f.flip.sample_id }}</code> #{{ f.flip.epoch }}</td><td>{{ f.flip.category }}</td>
<td>{{ f.changes }}</td>
<td>{% if f.shown %}<a href="#{{ f.flip.anchor }}">transcripts</a>{% endif %}</td></tr>
{% endfor %}</table>{% else %}<p>No sample changed outcome.</p>{% endif %}
{% if transcripts %}<h2>Transcripts of flipped samples</h2>
{% if hidden %}<p>{{ hidden }} more flipped sample(s) not embedded.</p>{% endif %}
{% for t in transcripts %}<section id="{{ t.flip.anchor }}">
<h3><code>{{ t.flip.sample_id }}</code> #{{ t.flip.epoch }} ({{ t.flip.severity_label }})</h3>
<p>{{ t.changes }}</p>
{% if t.rows %}<table class="turns"><colgroup><col style="width:7rem"><col><col></colgroup>
<tr><th class="t">turn</th><th>baseline: {{ base.model }}
({{ t.flip.baseline_outcome }})</th><th>candidate: {{ cand.model }}
({{ t.flip.candidate_outcome }})</th></tr>
{% for row in t.rows %}<tr{% if row.first_divergence %} class="diverge"
id="{{ t.flip.anchor }}-diverge"{% endif %}><td class="t">{{ row.index }}{% if row.first_divergence %}
<span class="badge diverge-badge">first divergence</span>{% endif %}</td>
{% for side in (row.baseline, row.candidate) %}<td>{% if side is none %}<p class="note">(chat over)</p>
{% else %}<div class="msg user"><div class="role">user{% if side.variant != 'user' %}
({{ side.variant }}){% endif %}</div><div class="text">{{ side.user }}</div></div>
<div class="msg assistant"><div class="role">model <span class="badge
v-{{ side.verdict.split(' ')[0] }}">{{ side.verdict }}</span></div><div class="text">{{ side.reply }}</div>
{% for call in side.tool_calls %}<div class="call">→ {{ call }}</div>{% endfor %}</div>{% endif %}</td>
{% endfor %}</tr>
{% endfor %}</table>
{% else %}<div class="side">{% for side in t.sides %}<div><h4>{{ side.title }}</h4>
{% if side.messages is none %}<p>(transcript unavailable)</p>{% else %}
{% for m in side.messages %}<div class="msg {{ m.role.split(':')[0] }}">\
<div class="role">{{ m.role }}</div><div class="text">{{ m.text }}</div>\
{% for call in m.tool_calls %}<div class="call">→ {{ call }}</div>{% endfor %}</div>
{% endfor %}{% endif %}</div>{% endfor %}</div>{% endif %}</section>
{% endfor %}{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
_PAGE = _ENV.from_string(_TEMPLATE)

_CSS = {"regression": "regression", "improvement": "improvement", "changed": "changed"}
_FLIP_CSS = ("critical", "regression", "changed", "improvement")


def _transcript(
    f: Flip, cmp: Comparison, bs: EvalSample | None, cs: EvalSample | None
) -> dict[str, object]:
    """One flipped sample's transcripts: turn by turn when both have a replay record."""
    bt, ct = turns_of(bs), turns_of(cs)
    rows = align(bt, ct) if bt is not None and ct is not None else None
    sides: list[dict[str, object]] = []
    for title, run, outcome, sample in (
        ("baseline", cmp.baseline, f.baseline_outcome, bs),
        ("candidate", cmp.candidate, f.candidate_outcome, cs),
    ):
        msgs = to_messages(sample.messages) if sample is not None else None
        sides.append({"title": f"{title}: {run.model} ({outcome})", "messages": msgs})
    return {"flip": f, "rows": rows, "sides": sides, "changes": _changes_text(f)}


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
    base_samples = read_samples(cmp.baseline.path, keys)
    cand_samples = read_samples(cmp.candidate.path, keys)
    transcripts = [
        _transcript(f, cmp, bs, cs)
        for f, bs, cs in zip(shown, base_samples, cand_samples, strict=True)
    ]
    per_category = [r for r in rows if r["category"] != "all"]
    return _PAGE.render(
        csp=Markup(CSP),
        base=cmp.baseline,
        cand=cmp.candidate,
        pairing=cmp.pairing,
        errored=cmp.errored(),
        alpha=cmp.alpha,
        verdict=compare_verdict(cmp, {f.anchor for f in shown}),
        overall=[r for r in rows if r["category"] == "all"],
        per_category=per_category,
        category_flagged=sum(1 for r in per_category if r["verdict_class"]),
        flips=flips,
        transcripts=transcripts,
        hidden=max(0, len(cmp.flips) - len(shown)),
        scorer_warning=cmp.scorer_warning,
        offers=(end_offers(cmp.pairing.base), end_offers(cmp.pairing.cand)),
    )
