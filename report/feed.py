"""An Atom feed of every briefing in the report directory: one entry per briefing, newest first.

Rebuilt from the briefings' JSON files on every run, so it always matches the directory (a deleted
briefing drops out). Built with ElementTree, so every piece of text is escaped; control characters XML
forbids are removed. Links are relative to the feed file, which sits beside the briefings.
"""

from __future__ import annotations

import json
import logging
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from brief.models import Summary
from brief.report.briefing import Briefing
from brief.report.paper_view import Announce, authors_shown, link_list, matched_note
from brief.sources.urls import ResourceLink
from brief.report.escape import xml_text
from brief.text import counted

log = logging.getLogger(__name__)
FEED_NAME = "feed.atom"
ATOM = "http://www.w3.org/2005/Atom"


class _ThemeLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    paper_ids: list[str] = Field(default_factory=list)


class _PaperLine(BaseModel):
    """One accepted paper as the feed shows it (fields missing from older briefings default to empty)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    watched_authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    url: str | None = None
    pdf_url: str | None = None
    resources: list[ResourceLink] = Field(default_factory=list)
    announce: Announce | None = None
    topic: str | None = None
    relevance: int = 0
    reason: str = ""
    matched: list[str] = Field(default_factory=list)
    matched_elsewhere: dict[str, list[str]] = Field(default_factory=dict)
    summary: Summary | None = None


class FeedItem(BaseModel):
    """The parts of a briefing JSON the feed shows; lenient, so briefings from older versions still appear."""

    model_config = ConfigDict(extra="ignore")
    week: str
    since: str = ""
    until: str = ""
    generated_at: str
    mode: str = ""
    overview: str = ""
    themes: list[_ThemeLine] = Field(default_factory=list)
    accepted: list[_PaperLine] = Field(default_factory=list)


def load_items(out_dir: Path) -> list[FeedItem]:
    items = []
    for path in sorted(Path(out_dir).glob("*.json")):
        try:
            items.append(FeedItem.model_validate(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, ValidationError):
            log.debug("%s is not a briefing: left out of the feed", path)
    return items


def _entry_html(item: FeedItem) -> str:
    """The entry's content as an HTML fragment (ElementTree escapes it once more inside the feed)."""
    body = ET.Element("div")
    ET.SubElement(body, "p").text = xml_text(item.overview) or "Nothing this week matched your criteria."
    if item.themes:
        themes = ET.SubElement(body, "ol")
        for theme in item.themes:
            ET.SubElement(themes, "li").text = xml_text(f"{theme.name} ({counted(len(theme.paper_ids), 'paper')})")
    if item.accepted:
        papers = ET.SubElement(body, "ul")
        for paper in item.accepted:
            _paper_html(ET.SubElement(papers, "li"), paper)
    return ET.tostring(body, encoding="unicode")


def _paper_html(li: ET.Element, p: _PaperLine) -> None:
    """Title, authors (watch-list in bold), categories, announce type, topic and relevance, links, TL;DR, why."""
    ET.SubElement(li, "b").text = xml_text(p.title)
    shown, more = authors_shown(p.authors, p.watched_authors)
    ET.SubElement(li, "br").tail = xml_text(", ".join(f"{a} (watch-list)" if w else a for a, w in shown)
                                          + (" et al." if more else ""))
    announce = f" · {p.announce.label}{' (inferred)' if p.announce.inferred else ''}" if p.announce else ""
    topic = f" · {p.topic}" if p.topic else ""
    ET.SubElement(li, "br").tail = xml_text(f"{' '.join(p.categories[:3])}{announce}{topic} · relevance {p.relevance}")
    links = link_list(p.url, p.pdf_url, p.resources)
    if links:
        ET.SubElement(li, "br")
    for i, (label, url) in enumerate(links):
        a = ET.SubElement(li, "a", href=url)
        a.text, a.tail = label, (" · " if i < len(links) - 1 else None)
    if p.summary and p.summary.tldr:
        ET.SubElement(li, "br").tail = xml_text(p.summary.tldr)
    if p.reason:
        ET.SubElement(li, "br").tail = xml_text(f"Why: {p.reason}{matched_note(p.reason, p.matched, p.matched_elsewhere)}")


def render_feed(items: list[FeedItem], out_dir: Path, title: str = "brief: research briefings") -> str:
    """Atom 1.0 text for the given briefings (one entry per week; the newest file wins for a repeated week)."""
    latest: dict[str, FeedItem] = {}
    for item in items:
        if item.week not in latest or item.generated_at > latest[item.week].generated_at:
            latest[item.week] = item
    ordered = sorted(latest.values(), key=lambda i: (i.generated_at, i.week), reverse=True)
    base = f"brief-feed:{Path(out_dir).resolve()}"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent, tag, text=None, **attrs):
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            node.text = xml_text(text)
        return node

    sub(feed, "title", title)
    sub(feed, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base)}")
    sub(feed, "updated", ordered[0].generated_at if ordered else "1970-01-01T00:00:00+00:00")
    sub(feed, "generator", "brief")
    sub(feed, "link", rel="self", href=FEED_NAME)
    author = sub(feed, "author")
    sub(author, "name", "brief")
    for item in ordered:
        n_papers = sum(len(t.paper_ids) for t in item.themes)
        entry = sub(feed, "entry")
        sub(entry, "title", f"Research briefing {item.week}: {counted(n_papers, 'paper')} in {counted(len(item.themes), 'theme')}")
        sub(entry, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base}:{item.week}')}")
        sub(entry, "updated", item.generated_at)
        html_file = Path(out_dir) / f"{item.week}.html"
        target = html_file.name if html_file.exists() else f"{item.week}.md"
        # quoted: a week read from a JSON file can't make the link absolute (`javascript:`)
        sub(entry, "link", rel="alternate", href=quote(target), **({"type": "text/html"} if html_file.exists() else {}))
        sub(entry, "summary", item.overview[:1000] or "Nothing this week matched your criteria.", type="text")
        sub(entry, "content", _entry_html(item), type="html")
        if item.mode:
            sub(entry, "category", term=item.mode)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def build_feed(out_dir: Path, current: Briefing | None = None) -> str:
    """The feed of every briefing JSON in `out_dir`, plus `current` (in case its JSON was not written)."""
    items = load_items(out_dir)
    if current is not None:
        items.append(FeedItem.model_validate(current.model_dump(include={"week", "since", "until", "generated_at",
                                                                          "mode", "overview", "themes", "accepted"})))
    return render_feed(items, out_dir)
