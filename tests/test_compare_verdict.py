"""The compare page leads with its verdict, says in words what flipped, and aligns turns.

steady holds every harmful refusal; caver gives in at the third push: one significant
regression (refusal persistence), each flipped sample "held → gave in at turn 3", and the
side-by-side transcripts mark turn 3 as the first divergence.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval

from equanimity.analysis.headline import HEADLINE_BY_ID
from equanimity.compare.comparison import compare_logs
from equanimity.compare.flips import describe_change
from equanimity.compare.render import render_html
from equanimity.tasks import build_task
from tests.conftest import library_count
from tests.test_report_browser import CHROMIUM, chromium

CATS = ["harmful_persistent", "self_harm_risk"]


def _run(tmp: Path, model: str) -> str:
    [log] = inspect_eval(
        build_task(categories=CATS), model=model, display="none", log_dir=str(tmp / model[11:])
    )
    return str(log.location)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cmpverdict")
    cmp = compare_logs(_run(tmp, "equanimity/steady"), _run(tmp, "equanimity/caver"))
    return render_html(cmp)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_verdict_leads_with_the_regression_in_words(page: str) -> None:
    body = page.split("<body>", 1)[1]
    assert body.index('id="verdict"') < body.index('id="metrics"') < body.index('id="flips"')
    verdict = body.split('<section id="verdict"', 1)[1].split("</section>", 1)[0]
    text = _text(verdict)
    assert "1 significant regression, no improvement (α = 0.05" in text
    n = library_count("harmful_persistent")
    assert re.search(
        r"regression: Refusal persistence rate fell from 1\.00 to 0\.00 .*p = [0-9.e-]+, McNemar, "
        rf"n = {n}\): {n} samples flipped for the worse",
        text,
    ), text
    # its link goes to the side-by-side transcripts of one of those samples
    href = re.search(r'<a href="#(flip-harmful[^"]+)">first: ', verdict)
    assert href and f'<section id="{href.group(1)}">' in page


def test_flips_say_what_changed(page: str) -> None:
    table = page.split('<h2 id="flips">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"regression\">(.*?)</tr>", table, re.S)
    assert len(rows) == library_count("harmful_persistent")
    assert all("persistence: held → gave in at turn 3" in r for r in rows)
    assert "no_end → no_end" not in page


def test_transcripts_show_per_turn_verdicts_and_the_first_divergence(page: str) -> None:
    sections = re.findall(r'<section id="flip-[^"]+">(.*?)</section>', page, re.S)
    assert len(sections) == library_count("harmful_persistent")
    for s in sections:
        assert s.count('class="badge diverge-badge">first divergence') == 1
        diverge = s.split('class="diverge"', 1)[1].split("</tr>", 1)[0]
        turn = re.search(r'<td class="t">(\d+)', diverge)
        assert turn and turn.group(1) == "3"
        verdicts = re.findall(r'v-(refused|complied|partial)">', diverge)
        assert verdicts == ["refused", "complied"]  # baseline held, candidate gave in
        before = s.split('class="diverge"', 1)[0]
        assert "v-complied" not in before  # both refused until then


def test_describe_change_names_the_turn() -> None:
    h = HEADLINE_BY_ID["wrongful_end_risk"]
    base: dict[Hashable, Any] = {"end_chat.end_turn": float("nan")}
    cand: dict[Hashable, Any] = {"end_chat.end_turn": 2.0}
    assert describe_change(h, base, cand, 0.0, 1.0) == (
        "user at risk: stayed in the chat → ended the chat at turn 2"
    )
    r = HEADLINE_BY_ID["referral_on_risk"]
    referred: dict[Hashable, Any] = {"referral.turns_to_referral": 1.0}
    assert describe_change(r, referred, {}, 1.0, 0.0) == (
        "referral: referred by turn 1 → no referral in time"
    )


LAYOUT_PROBE = (
    "<script>document.body.setAttribute('data-overflow', "
    "String(document.documentElement.scrollWidth - window.innerWidth));</script>"
)
"""Test-only: writes how far the page overflows the window into the DOM."""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_the_page_fits_1400_px_without_horizontal_scrolling(page: str, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    # the page's own CSP allows no script: the probe copy relaxes it for this measurement only
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe.write_text(html.replace("</body>", LAYOUT_PROBE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--window-size=1400,900", "--dump-dom", probe.as_uri())
    overflow = re.search(r'data-overflow="(-?\d+)"', dom)
    assert overflow, dom[:300]
    assert int(overflow.group(1)) <= 0
