"""arXiv API source: Atom parsing on every recorded response, and the fetcher driven through the real
`arxiv` client against a local server that replays the recordings or scripts faults (fake clock, no
real sleeping)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import arxiv
import feedparser
import pytest

from brief.sources._http import RateLimiter
from brief.sources.arxiv_api import (
    ArxivClient,
    ArxivFetchError,
    ArxivQueryError,
    ArxivSource,
    parse_atom,
    parse_atom_page,
)
from tests.arxiv_fixture import Scripted, atom_feed, serve, serve_with, url_format

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
API = SHARED / "data" / "arxiv_api"
ID_FORM = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _api_dir() -> Path:
    if not (API / "json").is_dir():
        pytest.skip("../shared/data/arxiv_api is not available")
    return API


def _xml(name_prefix: str) -> bytes:
    (path,) = sorted((_api_dir() / "xml").glob(f"{name_prefix}*.xml"))
    return path.read_bytes()


# --- a local API server (tests/arxiv_fixture.py) replaying the recordings ---------------------------------


class Recorded:
    """Replays ../shared/data/arxiv_api/json/*.json, matching the request's query to the recorded URL's."""

    def __init__(self) -> None:
        self.records = []
        for path in sorted((_api_dir() / "json").glob("*.json")):
            rec = json.loads(path.read_text(encoding="utf-8"))
            self.records.append((parse_qs(urlsplit(rec["url"]).query), rec["status_code"], rec["body"]))

    def __call__(self, path: str) -> tuple[int, bytes]:
        query = parse_qs(urlsplit(path).query)
        for recorded, status, body in self.records:
            if recorded == query:
                return status, body.encode("utf-8")
        return 404, f"no recording for {query}".encode()


@pytest.fixture(scope="module")
def recorded() -> Iterator[ThreadingHTTPServer]:
    with serve(Recorded()) as server:
        yield server


class FakeClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_source(
    server: ThreadingHTTPServer, page_size: int, categories: tuple[str, ...] = ("cs.SE",), **kwargs
) -> tuple[ArxivSource, FakeClock]:
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    client = ArxivClient(page_size, timeout=kwargs.pop("timeout", 5.0), num_retries=kwargs.pop("retries", 3), limiter=limiter)
    client.query_url_format = url_format(server)
    return ArxivSource(list(categories), client=client, **kwargs), clock


def assert_polite(source: ArxivSource) -> None:
    gaps = source.client.limiter.gaps()
    assert gaps and all(gap >= 3.0 - 1e-9 for gap in gaps), gaps


# --- parsing every recorded response ------------------------------------------------------------------


def test_every_fixture_entry_has_the_canonical_id_of_its_url():
    total = 0
    for path in sorted((_api_dir() / "xml").glob("*.xml")):
        body = path.read_bytes()
        raw_ids = [e.id for e in feedparser.parse(body).entries]
        total += len(raw_ids)
        if path.name.startswith("id_abc_"):
            with pytest.raises(ArxivQueryError):
                parse_atom(body)
            continue
        page = parse_atom_page(body)
        assert page.entries == len(raw_ids) and page.skipped == 0, path.name
        for raw, paper in zip(raw_ids, page.papers, strict=True):
            assert ID_FORM.fullmatch(paper.id), (path.name, paper.id)
            assert paper.id == re.sub(r"v\d+$", "", raw.split("/abs/")[1])
            assert paper.version == int(raw.rsplit("v", 1)[1])
            assert paper.title and paper.abstract and paper.authors and paper.categories and paper.published
    assert total == 233  # 232 papers and the one "Error" pseudo-entry


def test_primary_category_first_and_optional_fields():
    (paper,) = parse_atom(_xml("id_astro-ph_0601001"))
    assert (paper.id, paper.version, paper.categories) == ("astro-ph/0601001", 1, ["astro-ph"])
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.comment.startswith("62 pages") and paper.doi is None
    assert paper.published == date(2006, 1, 2)
    assert paper.pdf_url == "https://arxiv.org/pdf/astro-ph/0601001v1"
    papers = parse_atom(_xml("q_testing_s0_m100"))
    with_doi = [p for p in papers if p.doi]
    assert len(with_doi) == 32 and all(p.doi.startswith("10.") for p in with_doi)
    for entry, paper in zip(feedparser.parse(_xml("q_testing_s0_m100")).entries, papers):
        assert paper.categories[0] == entry.arxiv_primary_category["term"]
        assert len(paper.categories) == len(set(paper.categories))


def test_title_zero_is_a_paper():
    (paper,) = parse_atom(_xml("id_2104.12255v1"))
    assert (paper.id, paper.version, paper.title) == ("2104.12255", 1, "0")


def test_double_encoded_utf8_in_the_recordings_is_repaired():
    # The recorded bodies hold UTF-8 read as Latin-1 and encoded again ("Ï\x89" for ω); feedparser undoes it.
    papers = {p.id: p for p in parse_atom(_xml("q_testing_s0_m100"))}
    assert papers["2306.03845"].title == "$ω$Test: WebView-Oriented Testing for Android Applications"


def test_error_entry_raises_a_clear_error():
    with pytest.raises(ArxivQueryError, match="incorrect id format for abc") as info:
        parse_atom_page(_xml("id_abc_"))
    assert isinstance(info.value, ValueError) and info.value.message == "incorrect id format for abc"


def test_not_a_feed_is_a_value_error():
    with pytest.raises(ValueError):
        parse_atom_page(b"<html><body>Service Unavailable</body>")


# --- the real arxiv client against the recordings ------------------------------------------------------


def real_client(server: ThreadingHTTPServer, page_size: int = 100) -> arxiv.Client:
    client = arxiv.Client(page_size=page_size, delay_seconds=0, num_retries=0)
    client.query_url_format = url_format(server)
    return client


def test_real_client_pages_and_overlapping_windows_agree(recorded):
    reference = [p.id for p in parse_atom(_xml("q_testing_s0_m100"))]
    search = arxiv.Search(query="testing", max_results=60)
    ids = [r.get_short_id().rsplit("v", 1)[0] for r in real_client(recorded, 10).results(search)]
    assert ids == reference[:60]
    for page_size, offset in ((10, 5), (15, 5), (15, 9)):
        window = arxiv.Search(query="testing", max_results=offset + page_size)
        got = [r.get_short_id().rsplit("v", 1)[0] for r in real_client(recorded, page_size).results(window, offset)]
        assert got == reference[offset : offset + page_size]


def test_our_subclass_keeps_the_inherited_results_api(recorded):
    client = ArxivClient(10, delay_seconds=0, timeout=5)
    client.query_url_format = url_format(recorded)
    assert client._session.timeout == 5  # the inherited path gets a timeout too
    assert len(list(client.results(arxiv.Search(query="testing", max_results=20)))) == 20


def test_real_client_hides_the_error_entry_behind_http_400(recorded):
    with pytest.raises(arxiv.HTTPError) as info:
        list(real_client(recorded).results(arxiv.Search(id_list=["abc"])))
    assert info.value.status == 400


# --- ArxivSource against the recordings ----------------------------------------------------------------


def test_search_pages_through_the_recordings(recorded):
    source, _ = make_source(recorded, page_size=10)
    papers = source.search("testing", max_results=60)
    assert [p.id for p in papers] == [p.id for p in parse_atom(_xml("q_testing_s0_m100"))][:60]
    assert source.stats["announced"] == 214_881 and source.stats["arrived"] == 60
    assert source.stats["requests"] == 6 and not source.stats["gaps"]
    assert_polite(source)


def test_search_with_a_page_as_large_as_the_request(recorded):
    source, _ = make_source(recorded, page_size=200)
    assert len(source.search("testing", max_results=15)) == 15  # asks for max_results=15: s0_m15
    assert source.stats["requests"] == 1


def test_empty_result(recorded):
    source, _ = make_source(recorded, page_size=100)
    assert source.fetch_ids(["0000.0000"]) == []
    assert source.stats["announced"] == 0 and source.stats["requests"] == 1
    assert source.stats["missing_ids"] == ["0000.0000"]


def test_id_list_with_a_missing_id(recorded):
    source, _ = make_source(recorded, page_size=100)
    papers = source.fetch_ids(["0808.05394", "1707.08567"])
    assert [p.id for p in papers] == ["1707.08567"]
    assert source.stats["missing_ids"] == ["0808.05394"]


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("2104.12255v1", ("2104.12255", 1)),
        ("astro-ph/0601001", ("astro-ph/0601001", 1)),
        ("quant-ph/0201082v1", ("quant-ph/0201082", 1)),
        ("hep-ex/0406020v1", ("hep-ex/0406020", 1)),
        ("1605.08386", ("1605.08386", None)),
    ],
)
def test_old_style_and_versioned_ids(recorded, asked, expected):
    source, _ = make_source(recorded, page_size=100)
    (paper,) = source.fetch_ids([asked])
    assert paper.id == expected[0]
    if expected[1] is not None:
        assert paper.version == expected[1]
    assert source.stats["missing_ids"] == []


def test_http_400_error_entry_is_a_clear_error_not_retried(recorded):
    source, _ = make_source(recorded, page_size=100)
    with pytest.raises(ArxivQueryError, match="incorrect id format for abc"):
        source.fetch_ids(["abc"])
    assert source.client.counters["requests"] == 1


# --- faults: a scripted server (arxiv_fixture.Scripted) -----------------------------------------------

ENTRY = re.compile(rb"<entry>.*?</entry>", re.DOTALL)


@pytest.fixture(scope="module")
def entries() -> list[bytes]:
    return ENTRY.findall(_xml("q_testing_s0_m100"))[:25]


@pytest.mark.parametrize("empty_request", [3, 4], ids=["empty-first-page", "empty-middle-page"])
def test_503s_then_an_empty_page_then_data(entries, empty_request):
    script = Scripted(entries, faults={1: "503", 2: "503", empty_request: "empty"})
    with serve(script) as server:
        source, clock = make_source(server, page_size=10, categories=("cs.SE", "cs.LG", "cs.CR"))
        started = time.monotonic()
        papers = source.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
    assert time.monotonic() - started < 5  # nothing really slept
    assert len(papers) == len(entries) == source.stats["announced"] == source.stats["arrived"]
    assert source.stats["http_503"] == 2 and source.stats["empty_pages"] == 1 and source.stats["retries"] == 3
    assert source.stats["requests"] == 6 and not source.stats["gaps"] and not source.stats["incomplete"]
    assert_polite(source)
    assert clock.sleeps[0] >= 3.0  # the first retry waited (backoff), and the limiter never let a call through early
    query = parse_qs(urlsplit(server.paths[-1]).query)
    assert query["search_query"] == ["(cat:cs.SE OR cat:cs.LG OR cat:cs.CR) AND submittedDate:[202606150000 TO 202606212359]"]
    assert query["sortBy"] == ["submittedDate"] and query["sortOrder"] == ["descending"]


def test_a_page_that_stays_empty_is_a_recorded_gap_not_a_silent_stop(entries, caplog):
    with serve(Scripted(entries, empty_at={10})) as server:
        source, _ = make_source(server, page_size=10, retries=2)
        with caplog.at_level(logging.WARNING):
            papers = source.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
    assert len(papers) == 15 and source.stats["announced"] == 25 and source.stats["arrived"] == 15
    assert source.stats["gaps"] == [10] and source.stats["incomplete"]
    assert "announced 25 results but 15 arrived" in caplog.text
    assert_polite(source)


def test_overlapping_pages_are_deduplicated(entries):
    class Shifted(Scripted):  # five new papers arrive while we page: page 2 repeats the end of page 1
        def __call__(self, path: str) -> tuple[int, bytes]:
            query = parse_qs(urlsplit(path).query)
            start = int(query["start"][0])
            shift = 5 if start else 0
            return 200, atom_feed(self.entries[start - shift : start - shift + 10], len(self.entries), start)

    with serve(Shifted(entries)) as server:
        source, _ = make_source(server, page_size=10)
        papers = source.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
    assert len({p.id for p in papers}) == len(papers) == 25 == source.stats["arrived"]
    assert source.stats["duplicates"] == 5


def test_primary_only_and_cross_lists(entries):
    with serve(Scripted(entries)) as server:
        source, _ = make_source(server, page_size=100, categories=("cs.SE",))
        papers = source.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
        strict, _ = make_source(server, page_size=100, categories=("cs.SE",), primary_only=True)
        own = strict.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
    assert len(papers) == 25
    for paper in papers:
        assert paper.announce_type == ("new" if paper.primary_category == "cs.SE" else "cross")
    assert own and all(p.primary_category == "cs.SE" for p in own)
    assert strict.stats["dropped_cross"] == 25 - len(own) > 0


def test_a_slow_response_hits_the_deadline_and_is_retried(entries):
    with serve(Scripted(entries, faults={1: "slow"})) as server:
        source, _ = make_source(server, page_size=100, timeout=0.3)
        papers = source.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
    assert len(papers) == 25 and source.stats["timeouts"] == 1


def test_a_dripping_body_hits_the_whole_request_deadline():
    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(20):  # 20 bytes every 0.1 s: each read is quick, the whole is 2 s
                    self.wfile.write(b" " * 20)
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    with serve_with(Drip) as server:
        source, _ = make_source(server, page_size=10, timeout=0.5, retries=0)
        started = time.monotonic()
        with pytest.raises(ArxivFetchError, match="timeout"):
            source.search("anything", max_results=10)
        assert time.monotonic() - started < 1.5


def test_persistent_503_raises_after_the_retries(entries):
    with serve(Scripted(entries, faults={i: "503" for i in range(1, 10)})) as server:
        source, clock = make_source(server, page_size=10, retries=3)
        with pytest.raises(ArxivFetchError, match="HTTP 503"):
            source.fetch_range(date(2026, 6, 15), date(2026, 6, 21))
    assert source.client.counters["requests"] == 4
    assert clock.sleeps[:3] == [3.0, 6.0, 12.0]  # exponential backoff
    assert_polite(source)


def test_from_config():
    class Cfg:
        categories = ["cs.CV", "cs.RO"]
        primary_only = True
        page_size = 500
        delay_seconds = 3.0
        timeout_seconds = 12.0
        retries = 2

    source = ArxivSource.from_config(Cfg(), name="arxiv-cv")
    assert source.name == "arxiv-cv" and source.primary_only and source.client.page_size == 500
    assert source.client.timeout == 12.0 and source.client.num_retries == 2
    assert ArxivClient(delay_seconds=0.5).limiter.min_interval == 3.0  # arXiv's terms are a floor
    assert source.query(date(2026, 6, 8), date(2026, 6, 14)) == (
        "(cat:cs.CV OR cat:cs.RO) AND submittedDate:[202606080000 TO 202606142359]"
    )
