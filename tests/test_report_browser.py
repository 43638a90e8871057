"""The report in a real browser (headless Chromium): it renders, filters, and runs no hostile code.

Dependency-free: Chromium's ``--dump-dom`` gives the DOM after the page's own script has run
(which applies the filter named in the URL fragment), ``--screenshot`` a picture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from equanimity.report.render import TITLE, render_report
from tests.test_report import CATEGORIES, Collector, hostile_model, parse, run_log

CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)"
    ),
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(tmp: Path, *args: str) -> str:
    assert CHROMIUM is not None
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    logs = [
        run_log(tmp / "steady", "equanimity/steady", CATEGORIES[1:]),
        run_log(tmp / "hostile", hostile_model(), ["abusive_persistent"]),
    ]
    return render_report(logs, tmp / "report.html")


def body_attrs(dom: Collector) -> dict[str, str | None]:
    return next(a for t, a in dom.tags if t == "body")


def test_filter_from_fragment_and_no_hostile_code(report: Path, tmp_path: Path) -> None:
    out = chromium(tmp_path, "--dump-dom", report.as_uri() + "#category=abusive_persistent")
    dom = parse(out)
    body = body_attrs(dom)
    # our own (nonce'd) script ran and applied the filter from the fragment ...
    assert body.get("data-filter") == "abusive_persistent|||||"
    samples = [a for t, a in dom.tags if t == "details" and "sample" in (a.get("class") or "")]
    shown = [a for a in samples if "hidden" not in a]
    assert shown and len(shown) < len(samples)
    assert all(a["data-category"] == "abusive_persistent" for a in shown)
    assert all(a["data-category"] != "abusive_persistent" for a in samples if "hidden" in a)
    assert body.get("data-shown") == str(len(shown))
    # ... while nothing from the model ran or became markup
    assert "data-pwned" not in body
    title = out.split("<title>")[1].split("</title>")[0]
    assert title == TITLE
    assert not any(a.get("id") in ("injected-a", "injected-b") for _, a in dom.tags)
    assert not any(t == "img" and a.get("src") == "x" for t, a in dom.tags)
    assert [t for t, _ in dom.tags].count("style") == 1
    text = "".join(dom.text)
    assert "<script>document.title='PWNED';" in text
    assert "<img src=x onerror=" in text
    # the summary and the charts are in the page
    assert "Headline behaviours" in text
    imgs = [a for t, a in dom.tags if t == "img"]
    assert len(imgs) >= 4 and all((a.get("src") or "").startswith("data:image/png") for a in imgs)


def test_search_from_fragment(report: Path, tmp_path: Path) -> None:
    out = chromium(tmp_path, "--dump-dom", report.as_uri() + "#q=PWNED-REASON")
    dom = parse(out)
    samples = [a for t, a in dom.tags if t == "details" and "sample" in (a.get("class") or "")]
    shown = [a for a in samples if "hidden" not in a]
    assert shown and all(a["data-run"] == "1" for a in shown)
    assert len(shown) < len(samples)


def test_screenshot_shows_the_page(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    chromium(
        tmp_path,
        "--window-size=1280,2200",
        f"--screenshot={shot}",
        report.as_uri() + "#category=abusive_persistent&open=1",
    )
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 2200)
    colours = img.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "the page looks blank"
    red = sum(
        n
        for n, rgb in colours
        if isinstance(rgb, tuple) and rgb[0] > 240 and rgb[1] < 30 and rgb[2] < 30
    )
    assert red < 0.01 * 1280 * 2200, "an injected full-page overlay is visible"
