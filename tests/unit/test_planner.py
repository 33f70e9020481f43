"""The review planner: arXiv query syntax, the offline plan from memory's own vocabulary, and the LLM plan
through the real client against the scripted server (including its fallback when the LLM fails)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr

from brief.agents.fetcher import build_sources, fetch
from brief.agents.llm import LLMClient
from brief.agents.planner import Planner, arxiv_query, theme_facets, theme_keywords
from brief.memory import open_embedder, open_memory
from brief.sources.window import parse_week
from brief.text import terms
from tests.handlers import plan_handler
from tests.scripted_llm import Fault, ScriptedLLMServer

THEME = "robot manipulation"


def test_arxiv_query_requires_every_content_word_and_keeps_acronyms():
    assert arxiv_query("KV cache compression") == 'all:"kv" AND all:"cache" AND all:"compression"'
    assert arxiv_query("diffusion models for robot manipulation") == 'all:"diffusion" AND all:"robot" AND all:"manipulation"'
    assert arxiv_query("3D Gaussian splatting") == 'all:"3d" AND all:"gaussian" AND all:"splatting"'
    assert arxiv_query('vision-language-action "models"') == 'all:"vision-language-action"'
    dated = arxiv_query("KV cache", date(2026, 6, 1), date(2026, 6, 30))
    assert dated == '(all:"kv" AND all:"cache") AND submittedDate:[202606010000 TO 202606302359]'
    assert arxiv_query("KV cache", since=date(2026, 6, 1)).endswith("TO 209912312359]")


def test_theme_keywords_are_phrases_as_written():
    assert theme_keywords("diffusion models for robot manipulation") == ["robot manipulation"]
    assert theme_keywords("medical image segmentation") == ["medical image", "image segmentation"]
    assert theme_keywords("transformers") == ["transformers"]


def test_theme_facets_split_a_composite_theme_once():
    assert theme_facets("diffusion models for robot manipulation") == ["diffusion models", "robot manipulation"]
    assert theme_facets("3D Gaussian splatting for SLAM") == ["3D Gaussian splatting", "SLAM"]
    assert theme_facets("LLM agents with tool use in the wild") == ["LLM agents", "tool use in the wild"]
    for single in ("KV cache compression", "vision and language models", "in context learning", "models for"):
        assert theme_facets(single) == [], single


@pytest.fixture
def memory_and_embedder(settings):
    """Real Chroma in tmp_path holding the first 60 papers of the bundled W24 sample."""
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name)
    papers = fetch(build_sources(["sample"], settings), parse_week("2026-W24")).papers[:60]
    memory.remember(papers, embedder.embed([p.text_for_embedding() for p in papers]), "2026-W24", status="imported")
    return memory, embedder, papers


def test_offline_plan_is_the_theme_and_its_nearest_memory_terms(memory_and_embedder):
    memory, embedder, papers = memory_and_embedder
    plan, notes = Planner(None, embedder.embed, memory).plan(THEME)
    assert notes == [] and plan.source == "offline"
    assert plan.queries[0] == THEME and len(plan.queries) == 1 + min(3, len(plan.nearest_terms))
    assert plan.nearest_terms, "memory's nearest papers give terms"
    vocabulary = {t for p in papers for t in terms(p.text_for_embedding())}
    assert set(plan.nearest_terms) <= vocabulary, "every nearest term is memory's own vocabulary"
    assert not set(plan.nearest_terms) & set(terms(THEME)), "the theme's own terms are not repeated as 'nearest'"
    topic = plan.criteria().topics[0]
    assert (topic.name, plan.criteria().authors, plan.keywords) == (THEME, [], ["robot manipulation"])


def test_offline_plan_on_an_empty_memory_is_the_theme(settings):
    embedder = open_embedder(settings)
    plan, _ = Planner(None, embedder.embed, open_memory(settings, embedder.name)).plan(THEME)
    assert (plan.queries, plan.nearest_terms) == ([THEME], [])


def _llm(settings, base_url: str) -> LLMClient:
    cfg = settings.llm.model_copy(update={"base_url": base_url, "api_key": SecretStr("k"), "model": "scripted",
                                          "max_retries": 0, "timeout_seconds": 20})
    return LLMClient(cfg, settings.data_dir / "llm-cache.sqlite")


def test_llm_plan_is_cleaned_and_grounded_in_memory(settings, memory_and_embedder):
    memory, embedder, _ = memory_and_embedder
    with ScriptedLLMServer(handlers={"ReviewPlan": plan_handler}) as srv:
        plan, notes = Planner(_llm(settings, srv.base_url), embedder.embed, memory).plan(THEME)
        (request,) = [r for r in srv.requests if r.schema_name == "ReviewPlan"]
    nearest_title = memory.search(embedder.embed([THEME])[0], 1, None, True)[0].title
    assert " ".join(nearest_title.split())[:200] in request.user, "the LLM sees the nearest memory titles"
    assert notes == [] and plan.source == "llm"
    assert plan.queries == [THEME, f"{THEME} benchmark", "learned policies for it"], "de-duplicated, theme first"
    assert plan.keywords == ["manipulation", "grasping"], "blank keywords dropped"
    topic = plan.criteria().topics[0]
    assert (topic.name, topic.description, topic.not_relevant) == (THEME, f"Papers about {THEME}.", "papers that only mention it")


def test_llm_failure_falls_back_to_the_offline_plan(settings, memory_and_embedder):
    memory, embedder, _ = memory_and_embedder
    with ScriptedLLMServer(handlers={"ReviewPlan": plan_handler}, faults=lambda attempt, req: Fault("500")) as srv:
        plan, notes = Planner(_llm(settings, srv.base_url), embedder.embed, memory).plan(THEME)
        assert srv.attempts >= 1
    assert plan.source == "offline" and plan.queries[0] == THEME
    assert len(notes) == 1 and notes[0].startswith("planning: the LLM failed")
