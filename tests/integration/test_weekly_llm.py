"""The weekly graph with the LLM backend: the real ChatOpenAI over HTTP to a scripted server."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from brief.agents.fetcher import build_sources, fetch
from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.scripted_llm import ScriptedLLMServer

TOPIC = "Robot manipulation learning"


@pytest.fixture
def week_labels(settings):
    """Relevance 8 for the W24 sample papers about grasping or manipulation, 2 for the rest."""
    papers = fetch(build_sources(["sample"], settings), parse_week("2026-W24")).papers
    return {p.id: 8 if any(w in p.title.lower() for w in ("manipulat", "grasp", "dexter")) else 2 for p in papers}


def llm_settings(settings, base_url: str):
    llm = settings.llm.model_copy(update={"base_url": base_url, "api_key": SecretStr("test-key"), "model": "scripted",
                                          "max_retries": 0, "timeout_seconds": 20})
    return settings.model_copy(update={"llm": llm})


def test_llm_backend_counts_the_servers_usage(settings, week_labels):
    with ScriptedLLMServer(handlers=brief_handlers(week_labels, TOPIC)) as srv:
        s = llm_settings(settings, srv.base_url)
        result = run_weekly(s, parse_week("2026-W24"), ["sample"])
        report = json.loads((s.out_dir / "2026-W24.json").read_text())

        assert report["mode"] == "llm: scripted"
        total = result.state.usage.total
        assert total.calls == srv.calls > 0
        assert total.input_tokens == srv.prompt_tokens
        assert total.output_tokens == srv.completion_tokens
        assert set(report["usage"]["stages"]) >= {"screen", "review", "synthesise"}
        assert "| screen |" in (s.out_dir / "2026-W24.md").read_text()

        wanted = {pid for pid, rel in week_labels.items() if rel >= 6}
        by_llm = {p["id"] for p in report["accepted"] if not p["reason"].startswith("author match")}
        assert by_llm and by_llm <= wanted, "the LLM's verdicts decide, except for watch-list authors"
        assert all(p["summary"]["tldr"].startswith("Scripted summary") for p in report["accepted"])
        screened = [r for r in srv.requests if r.schema_name == "ScreenBatch"]
        # Full abstracts go batch_size to a call; the shortened first look at the low band packs 3x as many.
        assert all(len(r.paper_ids) <= 3 * s.llm.batch_size for r in screened)
        assert any(len(r.paper_ids) > 1 for r in screened), "papers are batched"
        assert sum(len(r.paper_ids) for r in screened) < len(week_labels), "stage 1 cut some papers"

        calls_before = srv.calls
        again = run_weekly(s, parse_week("2026-W24"), ["sample"])
        assert srv.calls == calls_before, "a rerun is served from the LLM cache"
        assert again.state.usage.total.calls == 0 and again.state.usage.total.cached_calls > 0
        assert [p.id for p in again.state.accepted] == [p.id for p in result.state.accepted]


def test_junk_prose_falls_back_to_the_offline_text_labelled_and_the_run_is_partial(settings, week_labels):
    junk = {**brief_handlers(week_labels, TOPIC), "ThemeDraft": lambda req: {"name": "x", "text": "x"},
            "Overview": lambda req: {"text": "x"}}
    with ScriptedLLMServer(handlers=junk) as srv:
        s = llm_settings(settings, srv.base_url)
        state = run_weekly(s, parse_week("2026-W24"), ["sample"]).state
        page = (s.out_dir / "2026-W24.md").read_text()
        asked = srv.calls
        # the same model asked the same questions at once: the remembered failures, not a third and fourth ask
        again = run_weekly(s, parse_week("2026-W24"), ["sample"]).state
        repeat_calls = srv.calls - asked
        fresh = s.model_copy(update={"llm": s.llm.model_copy(update={"use_cache": False})})
        run_weekly(fresh, parse_week("2026-W24"), ["sample"])
        no_cache_calls = srv.calls - asked - repeat_calls
    assert state.themes and all(t.name != "x" and t.prose != "x" for t in state.themes)
    assert state.overview != "x" and state.overview.startswith("2026-W24: ")
    assert len(state.partial) == len(state.themes) + 1, state.partial
    assert page.count("the offline text is shown instead") == len(state.partial) and "failed validation twice" in page
    assert repeat_calls == 0 and again.usage.total.calls == 0
    assert len(again.partial) == len(state.partial) and all("remembered from an earlier run" in r for r in again.partial)
    assert again.overview.startswith("2026-W24: "), "still the offline overview, labelled"
    assert no_cache_calls >= 2 * (len(state.themes) + 1), "--no-cache asks every failed question again, twice"


def test_stage1_with_the_static_table_starts_cold_on_memory_s_embedder_and_memory_keeps_its_own(settings, week_labels):
    """With `[screening] embedder = "static"`, stage 1 ranks with the distilled table once it learns from earlier decisions
    (tests/unit/test_screener_history.py); a first week, with nothing to learn from, ranks by similarity to the criteria
    with memory's embedder, where the table is weak. Memory's vectors all come from memory's embedder (cut papers by
    their title, without their abstract as a document), so memory still refuses any other."""
    import numpy as np

    from brief.agents.screener import stage1_text
    from brief.memory import open_embedder
    from brief.memory.presence import chroma_path
    from brief.memory.store import Memory, MemoryStoreError

    with ScriptedLLMServer(handlers=brief_handlers(week_labels, TOPIC)) as srv:
        s = llm_settings(settings, srv.base_url)
        s = s.model_copy(update={"screening": s.screening.model_copy(update={"embedder": "static"})})
        result = run_weekly(s, parse_week("2026-W24"), ["sample"])
    embedder = open_embedder(s)
    assert embedder.stage1.name.startswith("minilm-l6-static-") and embedder.name.startswith("minilm-l6-int8-onnx")
    assert list(s.cache_dir.glob("minilm-l6-static-*.npy")), "the table was distilled into the cache dir"
    papers = {p.id: p for p in result.state.papers}
    plain = [sc for sc in result.state.scores if not sc.keyword_hits and not sc.author_hits]
    week = embedder.embed([stage1_text(papers[sc.paper_id]) for sc in result.state.scores])  # as stage 1 embedded them
    row = {sc.paper_id: i for i, sc in enumerate(result.state.scores)}
    similarity = (week @ embedder.embed([t.text() for t in s.criteria.topics]).T).max(axis=1)
    assert len(plain) > 20 and all(abs(sc.score - similarity[row[sc.paper_id]]) < 1e-3 for sc in plain), \
        "a cold start ranks by cosine to the criteria in memory's embedder, not the table's"
    memory = Memory(chroma_path(s), embedder.name)
    cut = [pid for pid, d in result.state.decisions.items() if d.stage == "prefilter"]
    judged = [pid for pid, d in result.state.decisions.items() if d.stage == "llm" and not d.accepted]
    assert cut and judged
    got = memory.seen.get(ids=cut[:5], include=["embeddings", "metadatas"])
    assert [memory.get(pid).abstract for pid in got["ids"]] == [""] * len(got["ids"]), "no abstracts stored for papers stage 1 cut"
    titles = embedder.embed([m["title"] for m in got["metadatas"]])
    assert np.allclose(np.asarray(got["embeddings"]), titles, atol=1e-5), "their vectors: memory's, of the title"
    assert all(memory.get(pid).abstract for pid in judged[:3]), "judged papers keep theirs"
    with pytest.raises(MemoryStoreError):
        Memory(chroma_path(s), embedder.stage1.name)
