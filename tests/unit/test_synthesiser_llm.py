"""The LLM synthesiser against the scripted OpenAI-compatible server (real ChatOpenAI over HTTP):
invented citations are regenerated once then removed, and map-reduce keeps every call within budget."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pydantic import SecretStr

from brief.agents.llm import LLMClient
from brief.agents.synthesiser import Synthesiser
from brief.config import LLMConfig, SynthesisConfig
from brief.models import Decision, Paper, Review, Summary
from brief.ids import citations
from tests.scripted_llm import ScriptedLLMServer

KEY = re.compile(r"\[(arXiv:[^\]\s]+)\]")
INVENTED = "arXiv:9999.99999"


def listed_keys(req, start: str, end: str = "Earlier papers from memory") -> list[str]:
    body = req.user.split(start, 1)[-1].split(end, 1)[0]
    return list(dict.fromkeys(KEY.findall(body)))


def honest(req) -> dict:
    section = "Partial drafts:" if "Partial drafts:" in req.user else "This week's papers:"
    keys = listed_keys(req, section)
    return {"name": "Scripted theme", "text": " ".join(f"Work [{k}] advances it." for k in keys[:5]) or "None."}


def overview(req) -> dict:
    keys = KEY.findall(req.user)
    return {"text": f"This week, led by [{keys[0]}]." if keys else "Quiet week."}


def inventing(stubborn: bool):
    """Cites a paper that does not exist; on the regeneration (which names the bad key) fixes it unless stubborn."""
    def handler(req) -> dict:
        draft = honest(req)
        if "do not exist" not in req.user or stubborn:
            draft["text"] += f" A rival [{INVENTED}] and arXiv:8888.88888v2 disagree."
        return draft
    return handler


def week(n: int, rng, themes: int = 2):
    centres = rng.normal(size=(themes, 24))
    papers, vectors = [], []
    for i in range(n):
        c = i % themes
        papers.append(Paper(id=f"2606.{i:05d}", title=f"Paper {i} on subject {c} " + "with a long descriptive title " * 2,
                            abstract=("An abstract sentence about the method and results. " * 12), categories=["cs.RO"]))
        vectors.append(centres[c] + rng.normal(scale=0.1, size=24))
    vectors = np.asarray(vectors, np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="llm", relevance=7, novelty=5, reason="r") for p in papers}
    reviews = {p.id: Review(paper_id=p.id, confirmed=True, reason="ok",
                            summary=Summary(tldr="A long summary of what the paper does and finds. " * 6)) for p in papers}
    return papers, vectors, decisions, reviews


def client(srv, **kw) -> LLMClient:
    cfg = LLMConfig(model="scripted", base_url=srv.base_url, api_key=SecretStr("k"), max_retries=0, timeout_seconds=20,
                    requests_per_minute=100000, concurrency=4, structured_output="json_schema", **kw)
    return LLMClient(cfg, cache_path=None)


@pytest.mark.parametrize("stubborn", [False, True])
def test_an_invented_citation_is_regenerated_once_then_removed(stubborn):
    papers, vectors, decisions, reviews = week(3, np.random.default_rng(0), themes=1)  # under 4: one theme
    with ScriptedLLMServer(handlers={"ThemeDraft": inventing(stubborn), "Overview": overview}) as srv:
        result = Synthesiser(client(srv), SynthesisConfig()).synthesise(
            "2026-W24", papers, vectors, decisions, reviews, {}, [p.text_for_embedding() for p in papers])
        drafts = [r for r in srv.requests if r.schema_name == "ThemeDraft"]
    assert len(drafts) == 2, "one draft, one regeneration"
    assert "9999.99999" in drafts[1].user and "do not exist" in drafts[1].user, "the regeneration names the bad keys"
    (theme,) = result.themes
    assert INVENTED not in theme.prose and "8888" not in theme.prose
    assert set(citations(theme.prose)) <= {f"arXiv:{p.id}" for p in papers} and theme.citations
    (repair,) = result.repairs
    assert repair.section == "Scripted theme" and repair.invalid == [INVENTED, "arXiv:8888.88888"]
    assert repair.regenerated
    assert repair.removed == ([INVENTED, "arXiv:8888.88888"] if stubborn else [])


def test_a_big_theme_is_map_reduced_within_the_budget():
    papers, vectors, decisions, reviews = week(240, np.random.default_rng(1))
    cfg = SynthesisConfig(context_budget_tokens=3000, output_reserve_tokens=600, max_themes=2)
    with ScriptedLLMServer(handlers={"ThemeDraft": honest, "Overview": overview}) as srv:
        result = Synthesiser(client(srv), cfg).synthesise(
            "2026-W24", papers, vectors, decisions, reviews, {}, [p.text_for_embedding() for p in papers])
        requests = list(srv.requests)
    assert requests and max(r.prompt_chars / 4 for r in requests) <= cfg.context_budget_tokens
    parts = [r for r in requests if "Part " in r.user and "of this theme's papers" in r.user]
    merges = [r for r in requests if "Partial drafts:" in r.user]
    assert len(parts) >= 4 and merges, "drafted in parts, then merged"
    assert all(t.parts > 1 for t in result.themes)
    assert {len(t.paper_ids) for t in result.themes} == {120}
    assert sum(len(r.paper_ids) for r in parts) == 0  # synthesis lines are not <paper> blocks
    cited_in_parts = {k for r in parts for k in KEY.findall(r.user.split("This week's papers:")[1])}
    assert cited_in_parts == {f"arXiv:{p.id}" for p in papers}, "every paper was seen by some part"
    assert any("drafted in" in n for n in result.notes)
    assert not result.repairs


def test_themes_named_alike_get_numbered_and_their_repairs_follow():
    papers, vectors, decisions, reviews = week(8, np.random.default_rng(2), themes=2)
    with ScriptedLLMServer(handlers={"ThemeDraft": inventing(stubborn=True), "Overview": overview}) as srv:
        result = Synthesiser(client(srv), SynthesisConfig()).synthesise(
            "2026-W24", papers, vectors, decisions, reviews, {}, [p.text_for_embedding() for p in papers])
    names = [t.name for t in result.themes]
    assert sorted(names) == ["Scripted theme", "Scripted theme (2)"]
    assert sorted(r.section for r in result.repairs) == sorted(names)
    for theme in result.themes:
        (repair,) = [r for r in result.repairs if r.section == theme.name]
        assert repair.removed and INVENTED not in theme.prose


def test_the_overview_is_written_alongside_the_theme_drafts_from_their_papers():
    """Not a reduce over the drafts: the overview goes out with them (one round of model latency less) and reads
    every theme's papers (keys, titles, summaries) with the theme's figures, never a draft's text."""
    papers, vectors, decisions, reviews = week(8, np.random.default_rng(3), themes=2)
    with ScriptedLLMServer(handlers={"ThemeDraft": honest, "Overview": overview}, latency=0.4) as srv:
        result = Synthesiser(client(srv), SynthesisConfig()).synthesise(
            "2026-W24", papers, vectors, decisions, reviews, {}, [p.text_for_embedding() for p in papers])
        requests = list(srv.requests)
    drafts = [r for r in requests if r.schema_name == "ThemeDraft"]
    (asked,) = [r for r in requests if r.schema_name == "Overview"]
    assert len(drafts) == len(result.themes) == 2
    assert asked.arrived - min(r.arrived for r in drafts) < 0.2, "sent before any draft was answered"
    assert set(KEY.findall(asked.user)) == {f"arXiv:{p.id}" for p in papers}
    assert all(p.title[:40] in asked.user for p in papers) and "A long summary of what the paper does" in asked.user
    assert asked.user.count("## ") == 2 and "(4 papers; trend:" in asked.user
    assert "Scripted theme" not in asked.user and "advances it" not in asked.user, "no draft text"
    assert result.overview.startswith("This week, led by [arXiv:2606.")


def test_a_fallback_for_an_answer_cut_short_says_so_not_that_it_failed_twice():
    """A real-model QA run read "its answer failed validation twice (… answer cut short at 1200 tokens …)" for
    an overview asked once (a cut answer is never asked again)."""
    papers, vectors, decisions, reviews = week(3, np.random.default_rng(0), themes=1)
    rambling = {"text": "This week, " + "a long aside " * 300}  # far past the room of 120 tokens
    with ScriptedLLMServer(handlers={"ThemeDraft": honest, "Overview": lambda r: rambling}) as srv:
        result = Synthesiser(client(srv, max_tokens={"synthesise": 120, "default": 120}), SynthesisConfig()).synthesise(
            "2026-W24", papers, vectors, decisions, reviews, {}, [p.text_for_embedding() for p in papers])
        asked = sum(r.schema_name == "Overview" for r in srv.requests)
    assert asked == 1 and result.fallbacks, result.fallbacks
    assert "its answer was cut short" in result.fallbacks[0] and "twice" not in result.fallbacks[0], result.fallbacks
