"""The HTML briefing in a real headless Chromium: screenshots at 1280 and 400 px, and no horizontal overflow
on a phone (the usage table may scroll inside its own box; nothing else may be wider than the screen).

Run with `pytest --suite browser` (needs the Debian package `chromium`; .ci/steps/40-browser.sh installs it).
Chromium's headless window can't be narrower than 500 px, so the page is measured inside a 400 px iframe;
a script in the outer page (the briefing's own CSP forbids scripts) writes the measurement into the title.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from brief.sources.window import parse_week
from tests.briefing_helpers import hash_settings, make_context, run_week

pytestmark = pytest.mark.browser

_PROBE = """<!doctype html><html><head><title>probe</title></head><body style="margin:0">
<iframe id="f" src="{page}" style="border:0;width:{width}px;height:2000px"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {{
  const d = document.getElementById("f").contentDocument, vw = d.documentElement.clientWidth;
  const wide = [...d.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > vw + 1 && !e.closest(".scroll"))
    .slice(0, 8).map(e => e.tagName + "." + e.className + " " + (e.textContent || "").slice(0, 40));
  const h1 = d.querySelector("h1").getBoundingClientRect().height;
  const lineHeight = parseFloat(getComputedStyle(d.querySelector("h1")).lineHeight);
  document.title = JSON.stringify({{scrollWidth: d.documentElement.scrollWidth, viewport: vw, wide: wide,
                                   titleLines: Math.round(h1 / lineHeight)}});
}});
</script></body></html>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        pytest.fail("no chromium on PATH: apt-get install chromium (.ci/steps/40-browser.sh does)")
    return found


def headless(*args: str) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def measure(page, width: int) -> dict:
    probe = page.parent / f"probe-{width}.html"
    probe.write_text(_PROBE.format(page=page.name, width=width), encoding="utf-8")
    out = headless("--allow-file-access-from-files", "--window-size=1280,2100", "--virtual-time-budget=5000",
                   "--dump-dom", probe.as_uri())
    found = re.search(r"<title>(\{.*?\})</title>", out.stdout)
    assert found, f"no measurement in the dumped DOM: {out.stderr[-500:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module")
def briefing_html(tmp_path_factory, cache_dir):
    from brief.config_file import load_settings

    tmp = tmp_path_factory.mktemp("browser")
    base = load_settings(None, env={})
    settings = hash_settings(base.model_copy(update={
        "out_dir": tmp / "briefings",
        "memory": base.memory.model_copy(update={"dir": tmp / "memory", "cache_dir": cache_dir})}))
    ctx = make_context(settings)
    run_week(ctx, parse_week("2026-W23"), ["sample"])
    run_week(ctx, parse_week("2026-W24"), ["sample"])
    page = settings.out_dir / "2026-W24.html"
    assert page.exists()
    return page


@pytest.mark.parametrize("width", [1280, 400])
def test_screenshot_and_no_horizontal_overflow(briefing_html, width):
    shot = briefing_html.parent / f"screenshot-{width}.png"
    out = headless(f"--screenshot={shot}", f"--window-size={width},2000", briefing_html.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, out.stderr[-500:]
    m = measure(briefing_html, width)
    assert m["scrollWidth"] <= m["viewport"], f"{width}px: page is {m['scrollWidth']}px wide; too wide: {m['wide']}"
    assert not m["wide"], m["wide"]
    assert m["titleLines"] <= 2, f"the title wraps over {m['titleLines']} lines at {width}px"
