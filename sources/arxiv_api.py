"""The arXiv query API: Atom parsing, and a polite, fault-tolerant fetcher built on the `arxiv` client.

Why not `arxiv.Client.results()` as it is: its HTTP call has no timeout; it retries a 400 as if it were
transient and then reports a bare HTTPError, hiding the API's "Error" entry that says what was wrong; its
parser drops that entry silently when it comes with a 200; it stops without a word on an empty first page
even when totalResults says there is more. `ArxivClient` subclasses it (same URL format, session and page
size, so anything that points a client at a server points ours too) and replaces the page fetch; the
paging loop lives in `ArxivSource`, which counts what the API announced against what arrived.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

import arxiv
import feedparser
import requests

from brief.config import ConfigError
from brief.errors import UserError
from brief.models import Paper
from brief.ids import canonical_arxiv_id
from brief.sources._http import RateLimiter, TimeoutSession, get_with_deadline

log = logging.getLogger(__name__)

_ERROR_ID = "arxiv.org/api/errors"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
ARXIV_MIN_INTERVAL = 3.0
_MAX_EMPTY_RUN = 3  # consecutive pages that stay empty after retries before we give up on the rest


class ArxivQueryError(UserError, ValueError):
    """The API rejected the query (its "Error" entry, or a 4xx): retrying can't help; the query must change."""

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(f"arXiv API error: {message}" + (f" ({url})" if url else ""))
        self.message = message
        self.url = url


class ArxivFetchError(RuntimeError):
    """The API kept failing (5xx, timeouts, unreadable pages) through every retry."""


@dataclass
class AtomPage:
    """One API response: its papers plus the opensearch counters paging needs."""

    papers: list[Paper]
    total_results: int | None  # opensearch:totalResults; None when the feed has none
    start_index: int
    items_per_page: int | None
    entries: int  # raw <entry> count, including entries that could not become papers
    skipped: int = 0


def parse_atom_page(xml: str | bytes, source: str = "arxiv") -> AtomPage:
    """Parse an arXiv API Atom document. Raises ArxivQueryError for the API's "Error" pseudo-entry and
    ValueError for a body that is not an Atom feed at all (an HTML error page, a truncated download)."""
    # feedparser treats a str as a possible URL or file name: always hand it bytes.
    feed = feedparser.parse(xml.encode("utf-8") if isinstance(xml, str) else xml)
    head = feed.get("feed", {})
    for entry in feed.entries:
        if _ERROR_ID in str(entry.get("id", "")):
            raise ArxivQueryError(_clean(entry.get("summary")) or _clean(entry.get("title")) or "unknown error")
    if feed.get("bozo") and not feed.entries and "opensearch_totalresults" not in head:
        raise ValueError(f"not an arXiv Atom feed: {feed.get('bozo_exception') or 'no feed element'}")
    papers, skipped = [], 0
    for entry in feed.entries:
        try:
            papers.append(_paper(entry, source))
        except ValueError as exc:
            skipped += 1
            log.warning("skipped arXiv entry %s: %s", entry.get("id", "?"), exc)
    return AtomPage(
        papers=papers,
        total_results=_int(head.get("opensearch_totalresults")),
        start_index=_int(head.get("opensearch_startindex")) or 0,
        items_per_page=_int(head.get("opensearch_itemsperpage")),
        entries=len(feed.entries),
        skipped=skipped,
    )


def parse_atom(xml: str | bytes, source: str = "arxiv") -> list[Paper]:
    """The papers of an arXiv API Atom document (see `parse_atom_page` for the counters and errors)."""
    return parse_atom_page(xml, source).papers


def _paper(entry: Any, source: str) -> Paper:
    arxiv_id, version = canonical_arxiv_id(str(entry.get("id", "")))
    title = _clean(entry.get("title"))
    if not title:  # a title of "0" is a real paper (2104.12255): test emptiness, never truthiness of a value
        raise ValueError("entry has no title")
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    links = entry.get("links", [])
    return Paper(
        id=arxiv_id,
        version=version,
        title=title,
        abstract=_clean(entry.get("summary")),
        authors=[_clean(a.get("name")) for a in entry.get("authors", []) if _clean(a.get("name"))],
        categories=list(dict.fromkeys([primary, *tags] if primary else tags)),
        published=_date(entry.get("published")),
        source=source,
        sources=[source],
        url=next((lk["href"] for lk in links if lk.get("rel") == "alternate"), f"https://arxiv.org/abs/{arxiv_id}"),
        pdf_url=next((lk["href"] for lk in links if lk.get("title") == "pdf"), None),
        doi=_clean(entry.get("arxiv_doi")) or None,
        journal_ref=_clean(entry.get("arxiv_journal_ref")) or None,
        comment=_clean(entry.get("arxiv_comment")) or None,
    )


def _clean(text: object) -> str:
    return " ".join(str(text).split()) if text is not None else ""


def _int(text: object) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def _date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _connection_cause(exc: BaseException) -> str:
    """What a connection error comes down to, in a few words: urllib3's text is a page of nested reprs."""
    text = str(exc)
    for marker, said in (("NameResolutionError", "no DNS: offline?"), ("Name or service not known", "no DNS: offline?"),
                         ("Temporary failure in name resolution", "no DNS: offline?"),
                         ("Connection refused", "connection refused"), ("Network is unreachable", "network unreachable"),
                         ("SSLError", "TLS error"), ("RemoteDisconnected", "the server closed the connection")):
        if marker in text:
            return said
    return type(exc).__name__


class ArxivClient(arxiv.Client):
    """`arxiv.Client` whose page fetch has a deadline, backoff retries and an injectable rate limiter.

    `fetch_page` retries 429/5xx, timeouts, connection errors, unreadable bodies and unexpected empty pages
    (0 entries while start < totalResults, a known API quirk), waiting `backoff * 2**n` (capped) and never
    less than the limiter's interval. A 4xx or an "Error" entry raises ArxivQueryError at once. The inherited
    `results()` also gains a default timeout through the session.
    """

    def __init__(
        self,
        page_size: int = 200,
        *,
        delay_seconds: float = 3.0,
        timeout: float = 30.0,
        num_retries: int = 3,
        backoff: float = 3.0,
        max_backoff: float = 60.0,
        limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(page_size=page_size, delay_seconds=delay_seconds, num_retries=num_retries)
        self._session = TimeoutSession(timeout)
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        # arXiv's terms ask for 3 s between calls: a smaller configured delay is raised to it.
        self.limiter = limiter or RateLimiter(max(delay_seconds, ARXIV_MIN_INTERVAL))
        self.counters: Counter[str] = Counter()

    def fetch_page(self, url: str, start: int = 0, expected_total: int = 0) -> AtomPage:
        """Fetch and parse one page. A page still empty after every retry is returned (the caller records the
        gap and goes on); any other persistent failure raises ArxivFetchError."""
        problem, empty = "", None
        for attempt in range(self.num_retries + 1):
            if attempt:
                self.counters["retries"] += 1
                delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                log.info("arXiv API: %s; retry %d in %.0f s", problem, attempt, delay)
                self.limiter.sleep(delay)
            self.limiter.wait()
            self.counters["requests"] += 1
            outcome = self._attempt(url)
            if isinstance(outcome, str):
                problem = outcome
                continue
            if outcome.entries == 0 and start < max(outcome.total_results or 0, expected_total):
                self.counters["empty_pages"] += 1
                problem, empty = f"empty page at start={start} of {outcome.total_results}", outcome
                continue
            return outcome
        if empty is not None and problem.startswith("empty page"):
            return empty
        raise ArxivFetchError(f"arXiv API failed {self.num_retries + 1} times: {problem}; check the connection "
                              f"(or use --source snapshot:PATH); request: {url[:160]}")

    def _attempt(self, url: str) -> AtomPage | str:
        """One request: the page, or a description of a failure worth retrying. A 4xx raises ArxivQueryError
        with the message of arXiv's "Error" entry when there is one (HTTP 400 for a malformed id list)."""
        try:
            status, body = get_with_deadline(self._session, url, self.timeout)
        except requests.exceptions.Timeout as exc:  # includes DeadlineExceeded and connect timeouts
            return self._problem("timeouts", f"timeout ({exc})")
        except requests.exceptions.ConnectionError as exc:
            return self._problem("connection_errors", f"cannot reach {urlparse(url).hostname} ({_connection_cause(exc)})")
        if status in _RETRY_STATUS:
            return self._problem(f"http_{status}", f"HTTP {status}")
        try:
            page = parse_atom_page(body)
        except ArxivQueryError as exc:
            raise ArxivQueryError(exc.message, url) from None
        except ValueError as exc:
            if status != 200:
                raise ArxivQueryError(f"HTTP {status}", url) from None
            return self._problem("malformed", f"unreadable page ({exc})")
        if status != 200:
            raise ArxivQueryError(f"HTTP {status}", url)
        return page

    def _problem(self, counter: str, message: str) -> str:
        self.counters[counter] += 1
        return message


class _DateWindow(Protocol):
    since: date
    until: date


SortBy = Literal["relevance", "date"]


class ArxivSource:
    """A week's (or any date window's) papers for some categories, plus free searches, from the arXiv API.

    After each call `stats` holds `announced` (the API's totalResults), `arrived` (unique papers received),
    `kept` (returned after filtering), `duplicates`, `gaps` (start offsets whose pages stayed empty) and the
    client's request/retry/timeout counts, so the caller can say when announced and arrived differ.
    """

    def __init__(
        self,
        categories: list[str],
        *,
        name: str = "arxiv",
        primary_only: bool = False,
        page_size: int = 200,
        delay_seconds: float = 3.0,
        timeout: float = 30.0,
        retries: int = 3,
        max_results: int = 30_000,  # the API serves at most 30,000 results of one query
        limiter: RateLimiter | None = None,
        client: ArxivClient | None = None,
    ) -> None:
        if not categories:
            raise ValueError("ArxivSource needs at least one category, e.g. cs.CV")
        self.name = name
        self.categories = list(categories)
        self.primary_only = primary_only
        self.max_results = max_results
        self.client = client or ArxivClient(
            page_size, delay_seconds=delay_seconds, timeout=timeout, num_retries=retries, limiter=limiter
        )
        self.stats: dict[str, Any] = {}
        self.skipped = 0

    @classmethod
    def from_config(cls, cfg: Any, name: str = "arxiv", **overrides: Any) -> ArxivSource:
        """Build from `config.ArxivConfig` (categories, primary_only, page_size, delay, timeout, retries)."""
        if not cfg.categories:  # the constructor refuses none too; here the message names the setting
            raise ConfigError(f"source {name!r}: [arxiv] categories is empty: list at least one, e.g. ['cs.CV']")
        kwargs = dict(primary_only=cfg.primary_only, page_size=cfg.page_size, delay_seconds=cfg.delay_seconds)
        kwargs |= dict(timeout=cfg.timeout_seconds, retries=cfg.retries)
        return cls(list(cfg.categories), name=name, **(kwargs | overrides))

    def query(self, since: date, until: date) -> str:
        cats = " OR ".join(f"cat:{c}" for c in self.categories)
        return f"({cats}) AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"

    def fetch(self, window: _DateWindow) -> list[Paper]:
        return self.fetch_range(window.since, window.until)

    def fetch_range(self, since: date, until: date) -> list[Paper]:
        """Papers first submitted in [since, until] (arXiv's submittedDate, GMT), newest first.

        Papers whose primary category is configured are `new`; cross-lists are `cross`, or dropped when
        `primary_only`."""
        by_date = arxiv.SortCriterion.SubmittedDate
        search = arxiv.Search(self.query(since, until), max_results=None, sort_by=by_date)  # descending
        papers = self._collect(search, limit=None)
        kept = []
        for paper in papers:
            own = any(_in_category(paper.primary_category, c) for c in self.categories)
            if own or not self.primary_only:
                kept.append(paper.model_copy(update={"announce_type": "new" if own else "cross"}))
        self.stats["kept"] = len(kept)
        self.stats["dropped_cross"] = len(papers) - len(kept)
        return kept

    def search(self, query: str, max_results: int = 50, sort: SortBy = "relevance") -> list[Paper]:
        """A free query (arXiv syntax, e.g. `all:"gaussian splatting"`), best or newest first."""
        criteria = {"relevance": arxiv.SortCriterion.Relevance, "date": arxiv.SortCriterion.SubmittedDate}
        if sort not in criteria:
            raise ValueError(f"sort must be 'relevance' or 'date', not {sort!r}")
        search = arxiv.Search(query=query, max_results=max_results, sort_by=criteria[sort])
        papers = self._collect(search, limit=max_results)
        self.stats["kept"] = len(papers)
        return papers

    def fetch_ids(self, ids: list[str]) -> list[Paper]:
        """Papers by arXiv id (any form); ids the API does not know are listed in `stats["missing_ids"]`."""
        papers = self._collect(arxiv.Search(id_list=list(ids), max_results=None), limit=None)
        found = {p.id for p in papers}
        wanted = [_canonical_or_raw(i) for i in ids]
        self.stats["missing_ids"] = [i for i in wanted if i not in found]
        self.stats["kept"] = len(papers)
        return papers

    def _collect(self, search: arxiv.Search, limit: int | None) -> list[Paper]:
        """Page through a search until totalResults (or `limit`) is reached; never stop silently."""
        cap = min(limit, self.max_results) if limit else self.max_results
        page_size = min(self.client.page_size, cap)
        before = Counter(self.client.counters)
        papers: dict[str, Paper] = {}
        gaps: list[int] = []
        start = total = duplicates = skipped = empty_run = 0
        incomplete = False
        while True:
            page = self.client.fetch_page(self.client._format_url(search, start, page_size), start, total)
            total = max(total, page.total_results or 0)
            skipped += page.skipped
            for paper in page.papers:
                if paper.id in papers:
                    duplicates += 1  # windows overlap when papers arrive while we page
                else:
                    papers[paper.id] = paper
            if page.entries == 0:
                if start >= total:
                    break
                gaps.append(start)
                empty_run += 1
                log.warning("arXiv API: page at start=%d of %d stayed empty after retries; skipping it", start, total)
                if empty_run >= _MAX_EMPTY_RUN:
                    log.error("arXiv API: %d empty pages in a row; stopping at %d of %d", empty_run, start, total)
                    incomplete = True
                    break
                start += page_size
                continue
            empty_run = 0
            start += page.entries
            if start >= min(total, cap) or len(papers) >= cap:
                break
        if total > cap and not limit:
            log.warning("arXiv API: %d results announced, stopped at the cap of %d", total, cap)
            incomplete = True
        result = list(papers.values())[:cap]
        expected = min(total, cap)
        if len(papers) < expected:
            log.warning("arXiv API announced %d results but %d arrived", expected, len(papers))
        counters = Counter(self.client.counters)
        counters.subtract(before)
        self.skipped += skipped
        self.stats = {
            "announced": total,
            "arrived": len(papers),
            "kept": len(result),
            "duplicates": duplicates,
            "skipped": skipped,
            "gaps": gaps,
            "incomplete": incomplete or bool(gaps),
            **{k: v for k, v in counters.items() if v},
        }
        return result


def _in_category(category: str, wanted: str) -> bool:
    """`cs.CV` matches `cs.CV`; an archive (`cs`, `astro-ph`) matches all its subject classes."""
    return category == wanted or category.startswith(wanted + ".")


def _canonical_or_raw(raw: str) -> str:
    try:
        return canonical_arxiv_id(raw)[0]
    except ValueError:
        return raw
