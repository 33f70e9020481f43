"""RSS/Atom feeds (arXiv RSS, bioRxiv/medRxiv, journal tables of contents) as Paper records.

arXiv RSS items carry the id, version and announce type only inside their description
(`arXiv:2606.12345v1 Announce Type: new Abstract: ...`), so they are parsed out here; the announce type says
whether an item is a new paper, a cross-list, or a replacement, which the briefing must not count as news.
Everything else is keyed by DOI (`doi:10.1101/...`, lowercased, wherever the feed hides it: dc:identifier,
prism:doi, link or guid) so the same preprint arriving from two feeds merges; failing that, by title.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname
from xml.sax import SAXException

import feedparser
import requests

from brief.models import Paper
from brief.ids import canonical_arxiv_id, title_key
from brief.sources._http import get_with_deadline

log = logging.getLogger(__name__)

_ANNOUNCE = re.compile(
    r"^\s*arXiv:(?P<id>\S+?)\s+Announce\s+Type:\s*(?P<type>[a-z\-]+)\s*(?:Abstract:\s*)?(?P<abstract>.*)$",
    re.DOTALL | re.IGNORECASE,
)
_ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>&?#]+")
_TAG = re.compile(r"<[^>]+>")
# markup inside a word or name ("<i>BRCA1</i>", "<i>bla</i>NDM", "MultiVI-2</b>,"): removed without a space
_INLINE_TAG = re.compile(r"(?i)</?(?:i|b|em|strong|sub|sup|span|a|u|sc|small|code|font|tt|var|mml:[a-z]+)\b[^<>]*>")
# A journal's item type given as a category ("Article", "News & Views"): what kind of item, not its field. A
# notice's type ("Author Correction", "Retraction") stays: the fetcher sets notices aside by it.
_ITEM_TYPES = frozenset({
    "article", "research article", "research articles", "original article", "research paper", "research",
    "letter", "letters", "brief communication", "report", "reports", "review", "review article", "reviews",
    "perspective", "perspectives", "news", "news & views", "news and views", "editorial", "comment",
    "correspondence", "commentary", "matters arising", "journal article", "preprint", "new results",
    "contradictory results", "confirmatory results",
})
_INITIALS = re.compile(r"^(?:[A-Z](?:[a-z]?\.)?[\s\-]*)+$")  # "J.", "A. B.", "J.-P.", "Ch.", not "Li"


class FeedError(RuntimeError):
    """A feed could not be fetched or is not RSS/Atom."""


def parse_feed(content: str | bytes, source_name: str | None = None) -> list[Paper]:
    """Papers of an RSS/Atom document. `source_name` defaults to the feed's own title.

    Raises FeedError when the document is not a feed at all; items without a title are skipped with a
    warning (they can't be keyed or shown)."""
    return read_feed(content, source_name)[0]


def read_feed(content: str | bytes, source_name: str | None = None) -> tuple[list[Paper], str | None]:
    """`parse_feed`, and what was wrong with a document read only in part (malformed or cut off mid-item)."""
    # feedparser treats a str as a possible URL or file name: always hand it bytes.
    feed = feedparser.parse(content.encode("utf-8") if isinstance(content, str) else content)
    if not feed.entries and not feed.get("version"):
        # an HTML page (a login wall, an error page) parses as an empty feed with no RSS/Atom version
        raise FeedError(f"not an RSS/Atom feed ({feed.get('bozo_exception') or 'no RSS or Atom element'})")
    source = source_name or _clean(feed.feed.get("title")) or "feed"
    papers = []
    for entry in feed.entries:
        try:
            papers.append(_paper(entry, source))
        except ValueError as exc:
            log.warning("skipped feed item %r from %s: %s", entry.get("title", "?"), source, exc)
    problem = None
    if isinstance(feed.get("bozo_exception"), SAXException):  # not an encoding override: the XML itself broke
        problem = f"malformed XML ({feed.bozo_exception}): {len(papers)} item(s) read before the error"
    return papers, problem


def _download(url: str, timeout: float, session: requests.Session | None) -> bytes:
    if url.lower().startswith("file:"):  # a feed another tool writes to disk
        path = Path(url2pathname(urlparse(url).path))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise FeedError(f"{url}: {exc.strerror or exc}") from exc
    try:
        status, body = get_with_deadline(session or requests.Session(), url, timeout)
    except requests.RequestException as exc:
        raise FeedError(f"{url}: {exc}") from exc
    if status != 200:
        raise FeedError(f"{url}: HTTP {status}")
    return body


def fetch_feed(
    url: str, timeout: float = 30.0, source_name: str | None = None, session: requests.Session | None = None
) -> list[Paper]:
    """Download and parse a feed within `timeout` seconds for the whole request; raises FeedError."""
    return parse_feed(_download(url, timeout, session), source_name)


class _DateWindow(Protocol):
    since: date
    until: date


class FeedSource:
    """One configured feed, filtered to a date window. A failed download is logged and recorded in
    `stats["error"]` rather than raised, so one dead feed does not sink the week's briefing."""

    def __init__(self, name: str, url: str, timeout: float = 30.0, session: requests.Session | None = None,
                 today: date | None = None):
        self.name = name
        self.url = url
        self.timeout = timeout
        self.session = session
        self.today = today
        self.stats: dict[str, Any] = {}
        self.skipped = 0

    def fetch(self, window: _DateWindow) -> list[Paper]:
        try:
            papers, problem = read_feed(_download(self.url, self.timeout, self.session), self.name)
        except FeedError as exc:
            log.error("feed %s failed: %s", self.name, exc)
            self.stats = {"error": str(exc), "arrived": 0}
            return []
        if problem:
            log.error("feed %s is %s", self.name, problem)
        # an item without a date (journal TOCs often give none) is new as of this fetch: it belongs to a window that
        # reaches the last seven days, not to an older week asked for again
        recent = window.until >= (self.today or date.today()) - timedelta(days=7)
        kept, undated = [], 0
        for paper in papers:
            day = paper.announced or paper.published
            undated += day is None
            if (day is None and recent) or (day is not None and window.since <= day <= window.until):
                kept.append(paper)
        self.stats = {"arrived": len(papers), "kept": len(kept), "undated": undated,
                      **({"error": f"{self.url}: {problem}"} if problem else {})}
        return kept


def _paper(entry: Any, source: str) -> Paper:
    title = _clean(entry.get("title"))
    if not title:
        raise ValueError("item has no title")
    description = _text(entry.get("summary") or entry.get("description") or "")
    match = _ANNOUNCE.match(description)
    if match or _arxiv_link(entry):
        return _arxiv_paper(entry, source, title, match, description)
    day = _entry_date(entry)
    authors = _authors(entry)
    doi = _find_doi(entry)
    return Paper(
        id=f"doi:{doi}" if doi else title_key(title),
        title=title,
        abstract=_drop_byline(description, authors),
        authors=authors,
        categories=_fields(entry),
        published=day,
        announced=day,
        source=source,
        sources=[source],
        url=entry.get("link"),
        doi=doi,
    )


def _fields(entry: Any) -> list[str]:
    """The item's categories, less those naming its type rather than its field."""
    terms = (_clean(tag.get("term")) for tag in entry.get("tags", []))
    return [t for t in terms if t and t.lower() not in _ITEM_TYPES]


def _arxiv_paper(entry: Any, source: str, title: str, match: re.Match[str] | None, description: str) -> Paper:
    raw_id = match.group("id") if match else _arxiv_link(entry) or ""
    arxiv_id, version = canonical_arxiv_id(raw_id)
    kind = (entry.get("arxiv_announce_type") or (match.group("type") if match else "") or "").strip().lower()
    if kind and kind not in _ANNOUNCE_TYPES:
        log.warning("unknown announce type %r for %s", kind, arxiv_id)
    return Paper(
        id=arxiv_id,
        version=version,
        title=title,
        abstract=_clean(match.group("abstract")) if match else description,
        authors=_authors(entry),
        categories=_fields(entry),
        announced=_entry_date(entry),
        source=source,
        sources=[source],
        url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}" + (f"v{version}" if version else ""),
        announce_type=kind if kind in _ANNOUNCE_TYPES else None,
    )


def _arxiv_link(entry: Any) -> str | None:
    """An arXiv id from the item's guid (`oai:arXiv.org:2606.12345v1`) or abs link, if it has one."""
    for raw in (entry.get("id"), entry.get("link")):
        if raw and "arxiv.org" in raw.lower():
            candidate = re.sub(r"^oai:arxiv\.org:", "", raw.strip(), flags=re.IGNORECASE)
            try:
                canonical_arxiv_id(candidate)
                return candidate
            except ValueError:
                continue
    return None


def _find_doi(entry: Any) -> str | None:
    """The DOI wherever the feed put it, lowercased; bioRxiv's version suffix (`...123456v2`) removed."""
    fields = ("prism_doi", "dc_identifier", "id", "link", "guid")
    links = [lk.get("href") for lk in entry.get("links", [])]
    for raw in [entry.get(f) for f in fields] + links:
        found = _DOI.search(str(raw or ""))
        if found:
            doi = found.group(0).rstrip(".,;)").lower()
            if doi.startswith("10.1101/"):
                doi = re.sub(r"v\d+$", "", doi)
            return doi
    return None


def _authors(entry: Any) -> list[str]:
    names = [_clean(a.get("name")) for a in entry.get("authors", []) if _clean(a.get("name"))]
    if len(names) == 1:
        return _split_authors(names[0])
    return names


def _split_authors(text: str) -> list[str]:
    """`A Smith, B Jones and C Wu` or `Smith, J.; Jones, B.` or `Smith, J., Jones, B.` → one name each."""
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()]
    parts = [p.strip() for p in re.split(r",|\band\b", text) if p.strip()]
    names: list[str] = []
    for part in parts:
        if names and _INITIALS.match(part) and "," not in names[-1]:
            names[-1] = f"{names[-1]}, {part}"  # "Smith, J." split at its comma
        else:
            names.append(part)
    return names


def _drop_byline(abstract: str, authors: list[str]) -> str:
    """PLOS summaries open with `by A, B, C` before the abstract: drop it when it names the authors."""
    if authors and abstract.lower().startswith("by ") and authors[0].split()[-1] in abstract[:400]:
        head, _, rest = abstract.partition("\n\n")
        if rest:
            return _clean(rest)
    return _clean(abstract)


def _entry_date(entry: Any) -> date | None:
    """The item's own calendar date (an arXiv pubDate of `... 00:00 -0400` is that day in New York)."""
    for key in ("published", "dc_date", "prism_publicationdate", "updated", "date"):
        raw = entry.get(key)
        if not raw:
            continue
        try:
            return parsedate_to_datetime(raw).date()
        except (TypeError, ValueError, IndexError):
            pass
        try:
            return datetime.fromisoformat(raw.strip()[:10]).date()
        except ValueError:
            continue
    return None


def _text(markup: str) -> str:
    """HTML description → plain text with paragraph breaks kept as blank lines (for `_drop_byline`)."""
    text = re.sub(r"(?i)</p\s*>|<br\s*/?>", "\n\n", markup)
    text = html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", text)))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _clean(text: object) -> str:
    """One line of feed text (a title, a name): entities read, inline markup ("<i>BRCA1</i>") dropped."""
    return " ".join(_INLINE_TAG.sub("", html.unescape(str(text))).split()) if text is not None else ""
