"""`brief review --fresh` with the LLM: the real ChatOpenAI against the scripted server, the real arXiv
client against a local Atom server whose results overlap memory (same ids, and one paper memory holds
under a DOI). Fresh results must merge with memory papers without duplicates, and memory stays untouched."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from html import escape
from http.server import ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from brief.agents.planner import arxiv_query
from brief.graphs.review_state import ReviewRequest
from brief.memory import open_embedder, open_memory
from brief.models import Paper
from brief.app.runner import run_review
from brief.sources._http import RateLimiter
from brief.sources.arxiv_api import ArxivClient, ArxivSource
from tests.arxiv_fixture import atom_feed, queries, serve, url_format
from tests.handlers import review_handlers
from tests.integration.review_helpers import check_written_review, memory_snapshot, seeded_settings
from tests.scripted_llm import ScriptedLLMServer, ScriptedRequest

THEME = "robot manipulation learning"
SLUG = "robot-manipulation-learning"
DOI_ID = "doi:10.5555/brief.review.tactile"
NEW = [
    ("2606.99001", "Tactile Diffusion Policies for Dexterous Robot Manipulation",
     "We propose a diffusion policy that conditions robot manipulation actions on tactile images, learning dexterous "
     "in-hand reorientation from 200 demonstrations and improving success by 18% over visual policies."),
    ("2606.99002", "Scaling Imitation Learning for Bimanual Robot Manipulation",
     "We study how imitation learning for bimanual robot manipulation scales with demonstrations, and find that "
     "policy success grows log-linearly with data across 12 household tasks."),
    ("2606.99003", "Learning Contact-Rich Robot Manipulation from Play Data",
     "We learn contact-rich robot manipulation skills from unstructured play data with a goal-conditioned policy, "
     "evaluated on insertion and wiping tasks in the real world."),
]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, cache_dir):
    """Memory from the sample, plus the third new paper held under a DOI (as a library import would)."""
    settings = seeded_settings(tmp_path_factory.mktemp("review-fresh"), cache_dir)
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name)
    _, title, abstract = NEW[2]
    library = Paper(id=DOI_ID, title=title, abstract=abstract, authors=["A. Author"], doi="10.5555/brief.review.tactile")
    memory.remember([library], embedder.embed([library.text_for_embedding()]), "2026-W23", status="imported")
    nearest = memory.search(embedder.embed([THEME])[0], 3, None, False)
    return settings, [r for r in nearest if r.id != DOI_ID]


def entry(pid: str, version: int, title: str, abstract: str, published: str) -> bytes:
    return (f"<entry><id>http://arxiv.org/abs/{pid}v{version}</id><updated>{published}T00:00:00Z</updated>"
            f"<published>{published}T00:00:00Z</published><title>{escape(title)}</title><summary>{escape(abstract)}</summary>"
            "<author><name>Ada Lovelace</name></author><author><name>Alan Turing</name></author>"
            '<arxiv:primary_category term="cs.RO"/><category term="cs.RO"/><category term="cs.LG"/>'
            f'<link href="http://arxiv.org/abs/{pid}v{version}" rel="alternate" type="text/html"/></entry>').encode()


def arxiv_server(body: bytes, status: int = 200) -> AbstractContextManager[ThreadingHTTPServer]:
    """Answers every query with `body`; `queries(server)` lists what was asked."""
    return serve(lambda _path: (status, body))


def search_client(server: ThreadingHTTPServer) -> ArxivSource:
    client = ArxivClient(100, timeout=5, num_retries=0, limiter=RateLimiter(0.0))
    client.query_url_format = url_format(server)
    return ArxivSource(["cs.RO"], client=client)


def llm_settings(settings, base_url: str):
    llm = settings.llm.model_copy(update={"base_url": base_url, "api_key": SecretStr("test-key"), "model": "scripted",
                                          "max_retries": 0, "timeout_seconds": 20})
    return settings.model_copy(update={"llm": llm})


def test_fresh_results_merge_with_memory_without_duplicates(seeded):
    settings, in_memory = seeded
    before = memory_snapshot(settings)
    overlap = {r.id: r for r in in_memory}
    entries = [entry(r.id, 3, r.title, r.abstract, "2026-06-02") for r in in_memory]
    entries += [entry(pid, 1, title, abstract, "2026-06-18") for pid, title, abstract in NEW]
    labels = {**{r.id: 8 for r in in_memory}, **{pid: 8 for pid, _, _ in NEW}}
    with ScriptedLLMServer(handlers=review_handlers(labels, THEME)) as srv, arxiv_server(atom_feed(entries)) as arxiv:
        s = llm_settings(settings, srv.base_url)
        result = run_review(s, ReviewRequest(theme=THEME, fresh=True, limit=10, max_papers=12), search=search_client(arxiv))
        schemas = {r.schema_name for r in srv.requests}
    state = result.state

    ids = [p.id for p in state.papers]
    assert len(ids) == len(set(ids)), "one record per paper in the merged pool"
    assert DOI_ID not in ids, "the DOI record of an arXiv paper merged into it by title"
    stats = state.fresh_stats
    assert stats.searches == 6 and stats.arrived == 6 * len(entries) and stats.unique == len(entries)
    assert stats.known == len(in_memory) and not stats.failed
    assert state.merge_stats.overlap == len(in_memory) + 1 and state.merge_stats.title_merged == 1
    by_id = {p.id: p for p in state.papers}
    for pid, record in overlap.items():
        assert state.origin[pid] == "both" and state.first_seen[pid] == record.first_seen, "memory keeps first-seen"
        assert by_id[pid].version == 3 and by_id[pid].published.isoformat() == "2026-06-02", "the newer version's record"
    assert [state.origin[pid] for pid, _, _ in NEW] == ["fresh", "fresh", "both"]
    assert state.first_seen[NEW[2][0]] == "2026-W23" and by_id[NEW[2][0]].doi == "10.5555/brief.review.tactile"
    assert not {pid for pid, _, _ in NEW[:2]} & set(state.first_seen)

    asked = queries(arxiv)
    sorts = {q["sortBy"][0] for q in asked}
    assert sorts == {"relevance", "submittedDate"} and len(asked) == 6
    sent = {q["search_query"][0] for q in asked}
    assert sent == {arxiv_query(q) for q in state.plan.queries[:3]} == set(stats.queries)
    assert 'all:"robot" AND all:"manipulation" AND all:"learning"' in sent

    report = check_written_review(result.outputs, SLUG)
    assert report["mode"] == "llm: scripted" and report["fresh"] is True
    accepted = {p["id"]: p for p in report["accepted"]}
    assert set(labels) <= set(accepted), "every fresh and overlapping paper the LLM accepted is in the review once"
    assert set(report["timeline"]["fresh_only"]) == {NEW[0][0], NEW[1][0]}
    assert {accepted[pid]["origin"] for pid in overlap} == {"both"}
    assert schemas >= {"ReviewPlan", "ScreenBatch", "ReviewBatch", "ThemeDraft", "ReviewFindings", "Overview"}
    assert set(report["usage"]["stages"]) >= {"plan", "screen", "review", "synthesise"}
    assert report["findings"]["source"] == "llm" and report["findings"]["agreements"]
    assert all(len(c["papers"]) >= 2 for c in report["findings"]["agreements"] + report["findings"]["contradictions"])
    assert memory_snapshot(settings) == before, "fresh results are never remembered"


def test_a_failing_search_and_an_invented_citation_still_give_a_review(seeded):
    settings, _ = seeded

    def inventing(req: ScriptedRequest) -> dict:
        return {"agreements": ["[arXiv:2601.00001] and [arXiv:2601.00002] agree on everything."],
                "contradictions": [], "open_questions": ["Nobody knows [arXiv:2601.00003]."]}

    handlers = {**review_handlers({}, THEME, default=8), "ReviewFindings": inventing}
    with ScriptedLLMServer(handlers=handlers) as srv, arxiv_server(b"<html>Service Unavailable</html>", status=503) as arxiv:
        s = llm_settings(settings, srv.base_url)
        result = run_review(s, ReviewRequest(theme=THEME, fresh=True, limit=5, max_papers=6), search=search_client(arxiv))
    state = result.state
    assert state.fresh_stats.searches == 0 and len(state.fresh_stats.failed) == 6
    assert any(n.startswith("fresh search: 6 of 6 searches failed") for n in state.notes)
    assert state.partial == ["6 of 6 fresh arXiv searches failed: the review may miss recent papers (see its notes)"], \
        "a review that could not search is labelled partial (exit 3), not a clean run"
    assert state.accepted and all(state.origin[p.id] == "memory" for p in state.accepted)
    report = check_written_review(result.outputs, SLUG)
    (repair,) = [r for r in report["citation_repairs"] if r["section"] == "findings"]
    assert repair["regenerated"] and set(repair["removed"]) == {"arXiv:2601.00001", "arXiv:2601.00002", "arXiv:2601.00003"}
    assert report["findings"]["agreements"] == [], "an agreement left without two real papers is dropped"
    assert report["findings"]["open_questions"] == [], "so is a question citing nothing real"
    assert json.dumps(report).count("2601.0000") == 2 * 3, "invented keys survive only in the repair record"
