"""The report's index.html opens in headless Chromium (Debian's `chromium`) without console messages, every
image loads, and a screenshot is taken."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hftx import report as rp

pytest.importorskip("matplotlib")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

# Appended to a copy of the page only: the report itself has no script.
_IMAGE_CHECK = (
    '<script>window.addEventListener("load",()=>{let bad=0;for(const i of document.images){if(!i.naturalWidth)'
    '{bad++;console.error("broken image "+i.getAttribute("src"))}}console.log("hftx-images "+document.images.length'
    '+" broken "+bad)})</script>'
)
_CONSOLE = re.compile(r':CONSOLE(?:\([0-9]+\))?[^\]]*\] "(.*)", source: (\S+)')


def _chromium(page: Path, screenshot: Path) -> list[str]:
    assert CHROMIUM is not None
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--window-size=1200,2400", "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0",
         f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return [m.group(1) for m in _CONSOLE.finditer(out.stderr)]


def test_index_html_in_headless_chromium(tmp_path: Path) -> None:
    from test_report import make_record

    run = tmp_path / "run"
    rp.write_report(make_record(), run)
    shot = tmp_path / "index.png"
    messages = _chromium(run / "index.html", shot)
    assert messages == [], messages  # no console errors (nor anything else: the page has no script)
    assert shot.is_file() and shot.stat().st_size > 50_000
    import matplotlib.image

    pixels = np.asarray(matplotlib.image.imread(shot))
    assert pixels.shape[0] == 2400 and pixels.shape[1] == 1200
    assert float(pixels[..., :3].std()) > 0.05  # not a blank page

    check = run / "_check.html"
    check.write_text((run / "index.html").read_text().replace("</body>", _IMAGE_CHECK + "</body>"))
    messages = _chromium(check, tmp_path / "check.png")
    n_png = len(list(run.glob("*.png")))
    assert messages == [f"hftx-images {n_png} broken 0"], messages


def test_the_checker_sees_a_broken_image(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    f'<img src="missing.png">{_IMAGE_CHECK}</body></html>')
    messages = _chromium(page, tmp_path / "b.png")
    assert messages == ["broken image missing.png", "hftx-images 1 broken 1"], messages
