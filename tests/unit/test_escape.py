"""Issue 18, finding 3: an imported DOI or a feed's URL can't plant a link or a remote image in any report.

The Markdown is rendered by a real CommonMark parser (markdown-it, which rich ships) and the HTML parsed, so
the test sees what a reader's viewer would show: no <img>, and every link an http(s) URL or a page of ours.
"""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt

from brief.agents.synthesiser import EarlierPaper
from brief.models import Link, Paper
from brief.report import build_briefing, render
from tests.unit.test_report_render import make_state

EVIL_DOI = "10.1234/y)![track](http://evil.example/p.png <title>"  # the id-list entry
EVIL_DOIS = [EVIL_DOI, "10.1234/z)![t](http://evil.example/q.png)[x](javascript:alert(1))"]
HOSTILE_URLS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "JAVASCRIPT:alert(1)",
                "https://ok.example/a b", 'https://ok.example/"onmouseover=x', " javascript:alert(1)"]


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def ours_or_web(href: str) -> bool:
    return href.startswith(("https://arxiv.org/", "https://doi.org/", "#", "2026-W23.html#")) or href == "https://example.org/paper"


def hostile_briefing(settings):
    state = make_state(settings.out_dir)
    theme = state.themes[0]
    for n, doi in enumerate(EVIL_DOIS):
        evil_id = f"doi:{doi}"
        state.papers.append(Paper(id=evil_id, title=f"An imported paper {n}", abstract="d", authors=["E. Vil"],
                                  categories=["cs.RO"], doi=doi, url="data:text/html,<script>alert(1)</script>"))
        state.decisions[evil_id] = state.decisions["2606.00002"].model_copy(update={"paper_id": evil_id})
        state.reviews[evil_id] = state.reviews["2606.00002"].model_copy(update={"paper_id": evil_id})
        state.links.setdefault("2606.00002", []).append(Link(id=evil_id, title="Earlier import", week="2026-W23", similarity=0.7))
        theme.paper_ids.append(evil_id)
        theme.earlier.append(EarlierPaper(id=evil_id, title="Earlier import", week="2026-W22", similarity=0.6,
                                          categories=["cs.RO"], linked_from=["2606.00002"]))
        theme.prose += f" It builds on [{evil_id}]."
        theme.citations.append(evil_id)
    return build_briefing(state, settings, "gpt-test")


def test_markdown_of_a_hostile_doi_renders_no_image_and_no_foreign_link(settings):
    text = render(hostile_briefing(settings), "md")
    page = MarkdownIt("commonmark").render(text)
    found = tags(page)
    assert not [t for t, _ in found if t == "img"], "no image can be planted"
    hrefs = [a["href"] for t, a in found if t == "a"]
    assert hrefs and all(ours_or_web(h) for h in hrefs), [h for h in hrefs if not ours_or_web(h)]
    assert not [h for h in hrefs if "evil.example" in h and not h.startswith("https://doi.org/")]
    assert "https://doi.org/10.1234/y%29%21%5Btrack%5D%28http%3A//evil.example/p.png%20%3Ctitle%3E" in hrefs


def test_html_of_a_hostile_doi_and_url_links_only_to_the_web(settings):
    page = render(hostile_briefing(settings), "html")
    found = tags(page)
    assert not [t for t, _ in found if t in ("img", "script")]
    hrefs = [a["href"] for t, a in found if t == "a"]
    assert hrefs and all(ours_or_web(h) for h in hrefs), [h for h in hrefs if not ours_or_web(h)]


def test_only_http_urls_become_links():
    from brief.report.escape import md_link, web_url

    for url in HOSTILE_URLS:
        assert web_url(url) == "", url
        assert "](" not in md_link("x", url), url
    assert web_url("https://arxiv.org/abs/2606.00001") == "https://arxiv.org/abs/2606.00001"
    assert md_link("a (b)", "https://e.org/x_(y)") == "[a (b)](https://e.org/x_%28y%29)"
