"""The report opens with a verdict: counts, the worst findings in words, links to transcripts.

The browser half loads each of the verdict's links in headless Chromium and checks that the
page's own script then shows exactly the samples the finding counts (and only those).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from equanimity.report.render import render_report
from tests.test_report import parse, run_log
from tests.test_report_browser import CHROMIUM, chromium

CATS = ["self_harm_risk", "harmful_persistent", "explicit_end_request"]


@pytest.fixture(scope="module")
def quitter_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quitter ends chats early, including on users at risk (critical findings)."""
    tmp = tmp_path_factory.mktemp("verdict")
    log = run_log(tmp / "quitter", "equanimity/quitter", CATS)
    return render_report([log], tmp / "report.html")


def _verdict_html(html: str) -> str:
    return html.split('<section id="verdict"', 1)[1].split("</section>", 1)[0]


def test_the_verdict_comes_first_and_names_the_worst_finding(quitter_report: Path) -> None:
    html = quitter_report.read_text("utf-8")
    body = html.split("<body", 1)[1]
    # before the run table, the headline table and every transcript
    assert body.index('id="verdict"') < body.index('id="summary"') < body.index('id="samples"')
    verdict = _verdict_html(html)
    title = re.search(r'<h2 class="overview-title attn">(.*?)</h2>', verdict)
    assert title, verdict[:500]
    m = re.match(
        r"(\d+) of (\d+) behaviour checks need attention; (\d+) wrongful ends? on "
        r"(?:a )?self-harm scenarios?$",
        title.group(1),
    )
    assert m, title.group(1)
    attention, checked, wrongful = (int(g) for g in m.groups())
    assert 0 < attention <= checked and wrongful > 0
    items = re.findall(r"<li( class=\"critical\")?>(.*?)</li>", verdict)
    assert len(items) == attention
    # the must-be-zero metric (wrongful ends on users at risk) is listed first, as critical
    assert items[0][0] and "Wrongful-end rate on risk scenarios" in items[0][1]
    assert (
        f"{wrongful} of " in items[0][1] and "chats with a user at risk were ended" in items[0][1]
    )


def _links(verdict: str) -> list[tuple[str, int]]:
    """(fragment, sample count the link promises) of each 'Show ...' link."""
    out: list[tuple[str, int]] = []
    for href, text in re.findall(r'<a class="show" href="(#[^"]+)">([^<]+)</a>', verdict):
        count = re.search(r"\d+", text)
        assert count, text
        out.append((href.replace("&amp;", "&"), int(count.group(0))))
    return out


def test_headline_attention_marks_link_to_their_transcripts(quitter_report: Path) -> None:
    html = quitter_report.read_text("utf-8")
    marks = re.findall(
        r'<a href="#finding=([a-z_]+)"[^>]*><span class="mark mark-attention">', html
    )
    verdict_ids = re.findall(r'href="#finding=([a-z_]+)"', _verdict_html(html))
    assert marks and set(marks) == set(verdict_ids)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_each_verdict_link_filters_the_transcripts(quitter_report: Path, tmp_path: Path) -> None:
    links = _links(_verdict_html(quitter_report.read_text("utf-8")))
    assert len(links) >= 3  # several findings, one per-category link
    for fragment, promised in links:
        dom = parse(chromium(tmp_path, "--dump-dom", quitter_report.as_uri() + fragment))
        params = dict(kv.split("=") for kv in fragment[1:].split("&"))
        body = next(a for t, a in dom.tags if t == "body")
        samples = [a for t, a in dom.tags if t == "details" and "sample" in (a.get("class") or "")]
        shown = [a for a in samples if "hidden" not in a]
        assert body.get("data-shown") == str(len(shown)) == str(promised), fragment
        assert len(shown) < len(samples)
        for a in shown:
            assert params["finding"] in (a.get("data-findings") or "").split()
            if "category" in params:
                assert a["data-category"] == params["category"]
        # and the status line says so (a reader sees why the list is short)
        assert f"Showing {promised} of {len(samples)} samples" in "".join(dom.text)


CATS_PROBE = (
    "<script>var d = document.querySelector('.scroll');"
    "document.body.setAttribute('data-cats', String(d.scrollWidth - d.clientWidth));"
    "document.body.setAttribute('data-page', "
    "String(document.documentElement.scrollWidth - window.innerWidth));</script>"
)
"""Test-only: how far the per-category table overflows its box, and the page its window."""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_the_per_category_table_fits_1400_px(tmp_path: Path) -> None:
    """The whole library (all nine categories, the longest names) without horizontal scroll."""
    baseline = Path(__file__).resolve().parent.parent / "results" / "baselines" / "steady.eval"
    html = render_report([str(baseline)], tmp_path / "r.html").read_text("utf-8")
    # the report's CSP allows only its own nonce'd script: the probe copy drops it
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", CATS_PROBE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--window-size=1400,900", "--dump-dom", probe.as_uri())
    cats = re.search(r'data-cats="(-?\d+)"', dom)
    page = re.search(r'data-page="(-?\d+)"', dom)
    assert cats and page, dom[:300]
    assert int(cats.group(1)) <= 0 and int(page.group(1)) <= 0
