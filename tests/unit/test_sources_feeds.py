"""RSS/Atom feeds: arXiv announce types, DOI keys for bioRxiv and journals, fetching with a deadline.

The feed files in tests/fixtures/feeds are SYNTHETIC (hand-written in the published formats)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from brief.ids import title_key
from brief.sources.feeds import FeedError, FeedSource, _split_authors, fetch_feed, parse_feed
from brief.sources.window import Window
from tests.arxiv_fixture import serve

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def load(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def test_arxiv_rss_ids_versions_and_announce_types():
    papers = {p.id: p for p in parse_feed(load("arxiv_cs_cv.rss"), "arXiv cs.CV")}
    expected = {
        "2606.12345": (1, "new"),
        "2606.12001": (1, "cross"),
        "2603.09999": (3, "replace"),
        "2510.00042": (2, "replace-cross"),
        "2606.10000": (1, "new"),
    }
    assert {i: (p.version, p.announce_type) for i, p in papers.items()} == expected
    first = papers["2606.12345"]
    assert first.abstract == "We render event streams with sparse Gaussians. Our method runs in real time."
    assert first.authors == ["Alice Martin", "Bo Chen", "Carla Diaz"]
    assert first.categories == ["cs.CV", "cs.RO"]
    assert first.announced == date(2026, 6, 16)  # pubDate's own day, not shifted to UTC
    assert first.source == "arXiv cs.CV" and first.sources == ["arXiv cs.CV"]
    assert first.url == "https://arxiv.org/abs/2606.12345" and first.is_arxiv
    assert papers["2606.12001"].title == "Learning to Grasp from Video & Language"
    assert papers["2606.10000"].title == "0"


def test_announce_prefix_without_the_arxiv_element():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>math.PR updates on arXiv.org</title>
    <item><title>Random Walks</title><link>https://arxiv.org/abs/2606.00001</link>
    <description>arXiv:2606.00001v2 Announce Type: replace-cross Abstract: Walks, randomly.</description>
    <pubDate>Wed, 17 Jun 2026 00:00:00 -0400</pubDate></item></channel></rss>"""
    (paper,) = parse_feed(rss)
    assert (paper.id, paper.version, paper.announce_type) == ("2606.00001", 2, "replace-cross")
    assert paper.abstract == "Walks, randomly." and paper.source == "math.PR updates on arXiv.org"


def test_biorxiv_items_are_keyed_by_doi():
    papers = parse_feed(load("biorxiv_bioinformatics.rdf"), "bioRxiv (Bioinfo)")
    assert [p.id for p in papers] == ["doi:10.1101/2026.06.14.599001", "doi:10.1101/2026.06.15.599002"]
    first, second = papers
    assert first.doi == "10.1101/2026.06.14.599001"  # from dc:identifier
    assert second.doi == "10.1101/2026.06.15.599002"  # from the link, version suffix dropped
    assert first.authors == ["A. Kovacs", "M. Lindqvist", "C. Okafor"], "given names first, as every other source writes"
    assert first.published == first.announced == date(2026, 6, 16)
    assert not first.is_arxiv and first.citation == "[doi:10.1101/2026.06.14.599001]"


def test_journal_toc_doi_byline_and_title_key():
    papers = parse_feed(load("plos_compbiol.atom"), "PLOS Computational Biology")
    article, correction = papers
    assert article.id == "doi:10.1371/journal.pcbi.1019001"
    assert article.abstract.startswith("Immunotherapy response varies widely.")  # "by ..." byline dropped
    assert "<i>" not in article.abstract and "ODE models" in article.abstract
    assert article.authors == ["Rosa Ortega", "Samuel Park"]
    assert article.published == date(2026, 6, 18)
    assert correction.id == title_key("Correction: Neural Field Models of Cortical Waves")


def test_doi_in_prism_and_guid_is_lowercased():
    rss = b"""<?xml version="1.0"?><rss version="2.0" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
    <channel><title>medRxiv</title>
    <item><title>A</title><link>https://example.org/a</link><prism:doi>10.1101/2026.06.01.26300001</prism:doi></item>
    <item><title>B</title><link>https://example.org/b</link><guid>https://doi.org/10.1371/JOURNAL.PONE.0300001</guid></item>
    </channel></rss>"""
    assert [p.id for p in parse_feed(rss)] == ["doi:10.1101/2026.06.01.26300001", "doi:10.1371/journal.pone.0300001"]


def test_a_journals_item_type_is_not_shown_as_a_field():
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Nature Methods</title>
    <entry><title>Integrated multimodal single-cell analysis</title><id>https://doi.org/10.1038/s41592-026-02871-4</id>
    <link href="https://www.nature.com/articles/s41592-026-02871-4"/><updated>2026-11-25T00:00:00Z</updated>
    <category term="Article"/><category term="Bioinformatics"/><category term="News &amp; Views"/></entry></feed>"""
    (paper,) = parse_feed(atom)
    assert paper.categories == ["Bioinformatics"]


def test_items_without_title_are_skipped_and_garbage_is_an_error(caplog):
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
    <item><description>no title here</description></item><item><title>Kept</title></item></channel></rss>"""
    assert [p.title for p in parse_feed(rss)] == ["Kept"]
    assert "no title" in caplog.text
    with pytest.raises(FeedError):
        parse_feed(b"\x00\x01 definitely not xml")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Alice Martin, Bo Chen and Carla Diaz", ["Alice Martin", "Bo Chen", "Carla Diaz"]),
        ("Smith, J.; Jones, B. K.", ["Smith, J.", "Jones, B. K."]),
        ("Smith, J., Jones, B.-K.", ["Smith, J.", "Jones, B.-K."]),
        ("Wei Xu, Li", ["Wei Xu", "Li"]),
    ],
)
def test_author_strings(text, names):
    assert _split_authors(text) == names


@pytest.fixture(scope="module")
def feed_server():
    """arXiv's cs.CV RSS at any path but /missing (a 404)."""

    def answer(path: str) -> tuple[int, bytes]:
        if path == "/undated":
            return 200, re.sub(rb"<pubDate>[^<]*</pubDate>", b"", load("arxiv_cs_cv.rss"))
        return (404, b"") if path == "/missing" else (200, load("arxiv_cs_cv.rss"))

    with serve(answer, content_type="application/rss+xml") as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def test_fetch_feed_over_http(feed_server):
    papers = fetch_feed(f"{feed_server}/rss/cs.CV", timeout=5)
    assert len(papers) == 5 and papers[0].source == "cs.CV updates on arXiv.org"
    with pytest.raises(FeedError, match="HTTP 404"):
        fetch_feed(f"{feed_server}/missing", timeout=5)


def test_a_feed_on_disk_is_read_from_its_file_url(tmp_path):
    """A feed another tool writes to disk (file://) reads as the same feed served over HTTP; a missing file
    is a FeedError naming it, not the HTTP library's "no connection adapters"."""
    (tmp_path / "cs cv.rss").write_bytes(load("arxiv_cs_cv.rss"))
    papers = fetch_feed((tmp_path / "cs cv.rss").as_uri(), timeout=5)
    assert len(papers) == 5 and papers[0].source == "cs.CV updates on arXiv.org"
    with pytest.raises(FeedError, match=r"gone\.rss: No such file or directory"):
        fetch_feed((tmp_path / "gone.rss").as_uri(), timeout=5)


def test_an_undated_item_belongs_to_a_recent_window_only(feed_server):
    """Undated items (journal TOCs) are new as of the fetch: kept by a window reaching the last seven days, left
    out of an older week asked for again."""
    today = date(2026, 6, 24)
    source = FeedSource("toc", f"{feed_server}/undated", timeout=5, today=today)
    assert len(source.fetch(Window(since=date(2026, 6, 15), until=date(2026, 6, 21)))) == 5  # last week
    assert source.stats["undated"] == 5
    assert source.fetch(Window(since=date(2026, 5, 4), until=date(2026, 5, 10))) == []  # weeks before


def test_feed_source_filters_to_the_window_and_survives_a_dead_feed(feed_server):
    source = FeedSource("arxiv-cv", f"{feed_server}/rss/cs.CV", timeout=5)
    assert len(source.fetch(Window(since=date(2026, 6, 15), until=date(2026, 6, 21)))) == 5
    assert source.fetch(Window(since=date(2026, 6, 22), until=date(2026, 6, 28))) == []
    assert source.stats == {"arrived": 5, "kept": 0, "undated": 0}
    dead = FeedSource("dead", f"{feed_server}/missing", timeout=5)
    assert dead.fetch(Window(since=date(2026, 6, 15), until=date(2026, 6, 21))) == []
    assert "HTTP 404" in dead.stats["error"]
