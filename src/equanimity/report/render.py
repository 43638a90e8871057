"""Render one self-contained HTML report from one or more inspect logs.

The summary, per-category tables and charts come from sample summaries
(:func:`equanimity.analysis.frame.load_run`); transcripts are then read one at a time (a batch
at a time for a log that is not a local ``.eval`` file, see :mod:`equanimity.report.samples`)
and streamed through the Jinja template straight into the file, so a 10,000-sample report never
holds more than a batch of transcripts.

Safety: autoescape is on for every template; every ``{{ }}`` value additionally passes a
finalizer that escapes it (a no-op on our own markup) and writes ``://`` as ``&#58;//`` so the
file never contains an ``http://`` or ``https://`` string, even when a model reply does. A
Content-Security-Policy allows no network access, and only the report's own style and script
(carrying a per-report nonce) run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from equanimity.analysis.frame import Run, load_run
from equanimity.report.charts import all_charts, run_labels
from equanimity.report.samples import SampleView, anchor_for, sample_views
from equanimity.report.summary import category_rows, headline_rows, run_view
from equanimity.report.verdict import category_words, finding_ids, verdicts

TITLE = "equanimity report"
"""Page title."""

PRICE_NOTE = "USD list prices as of late 2025, see equanimity/report/pricing.py"
"""How the cost estimate was made."""

MARKS = {
    "pass": '<span class="mark mark-pass">&#10003; pass</span>',
    "attention": '<span class="mark mark-attention">&#9888; attention</span>',
    "info": '<span class="mark mark-info">info</span>',
    "n/a": '<span class="mark mark-na">n/a</span>',
}


def csp(nonce: str) -> str:
    """Return the report's Content-Security-Policy: no network, only nonce'd style and script."""
    return (
        f"default-src 'none'; img-src data:; style-src 'nonce-{nonce}'; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
    )


def _control_map() -> dict[int, str]:
    table = {c: chr(0x2400 + c) for c in range(0x20) if chr(c) not in "\t\n\r"}
    table[0x7F] = "\u2421"
    table.update({c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})
    return table


CONTROL_MAP = _control_map()
"""C0/C1 control characters shown as visible symbols (␀, ␛, \\x85): browsers drop or mangle
them raw, so model text would not be shown literally."""

_CONTROL = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(CONTROL_MAP)) + "]")
"""Any character of :data:`CONTROL_MAP` (translating only text that has one is much faster)."""


def _finalize(value: Any) -> Markup:
    if value is None:
        return Markup("")
    text = str(escape(value)).replace("://", "&#58;//")
    if _CONTROL.search(text) is None:
        return Markup(text)
    return Markup(text.translate(CONTROL_MAP))


def _rate(value: float, na: str = "n/a") -> str:
    return na if value is None or math.isnan(value) else f"{value:.3f}"


def _money(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "$0 (offline model)" if value == 0 else f"${value:,.2f}"


def _thousands(value: int) -> str:
    return f"{value:,}"


def environment() -> Environment:
    """Build the Jinja environment: package templates, autoescape on, strict undefined."""
    env = Environment(
        loader=PackageLoader("equanimity.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rate"] = _rate
    env.filters["money"] = _money
    env.filters["thousands"] = _thousands
    env.filters["markbadge"] = lambda m: Markup(MARKS.get(str(m), MARKS["n/a"]))
    return env


def _asset(name: str) -> Markup:
    """Read a template asset inserted verbatim (our own CSS/JS, never data)."""
    return Markup((files("equanimity.report") / "templates" / name).read_text("utf-8"))


def _version() -> str:
    try:
        return metadata.version("equanimity")
    except metadata.PackageNotFoundError:
        return "dev"


def _samples(runs: Sequence[Run]) -> Iterator[SampleView]:
    return itertools.chain.from_iterable(sample_views(r, i) for i, r in enumerate(runs))


def render_report(log_paths: list[str], out: Path) -> Path:
    """Write the HTML report for ``log_paths`` (one summary column per log) to ``out``.

    Raises ``ValueError`` naming the file when a log cannot be read. The file is written to a
    temporary name next to ``out`` and moved into place when complete.
    """
    if not log_paths:
        raise ValueError("no logs given")
    runs = [load_run(p) for p in log_paths]
    views = [run_view(r, i, anchor_for) for i, r in enumerate(runs)]
    categories = sorted({str(c) for r in runs for c in r.samples.get("category", [])})
    outcomes = sorted({str(o) for r in runs for o in r.samples.get("outcome", []) if o and o == o})
    if any(v.errored for v in views):
        outcomes.append("error")
    if any((r.samples["outcome"].isna() & r.samples["error"].isna()).any() for r in runs):
        outcomes.append("none")
    nonce = secrets.token_urlsafe(18)
    headline = headline_rows(runs)
    context: dict[str, Any] = {
        "title": TITLE,
        "generated": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "version": _version(),
        "runs": views,
        "run_labels": run_labels(runs),
        "headline": headline,
        "verdicts": verdicts(runs, run_labels(runs), headline),
        "finding_ids": finding_ids(),
        "category_words": category_words,
        "category_tables": [category_rows(r) for r in runs],
        "charts": all_charts(runs),
        "categories": categories,
        "outcomes": outcomes,
        "total_samples": sum(len(r.samples) for r in runs),
        "samples": _samples(runs),
        "nonce": nonce,
        "csp": Markup(csp(nonce)),  # our own constant: keep its quotes readable
        "css": _asset("report.css"),
        "js": _asset("report.js"),
        "price_note": PRICE_NOTE,
    }
    template = environment().get_template("report.html.j2")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
            for chunk in template.generate(**context):
                fh.write(chunk)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
