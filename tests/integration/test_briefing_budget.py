"""Must-show 3: a 3,000-paper week through the whole compiled graph with the scripted LLM; every synthesis
request stays within the configured context budget (tokens estimated as chars/4, as the server counts).

The window is 2026-05-25 .. 06-08 of the eclipse0922 corpus (≈3,000 unique cs.LG/CV/AI/RO papers, a heavy
week for a broad reader). Screening, review, memory and linking run for real against the scripted server;
the accept cap is raised so synthesis gets hundreds of papers and has to trim and map-reduce.
"""

from __future__ import annotations

import json
import re

from pydantic import SecretStr

from brief.agents.fetcher import build_sources, fetch
from brief.agents.llm import LLMClient
from brief.sources.window import parse_range
from tests.briefing_helpers import hash_settings, make_context, run_week
from tests.handlers import brief_handlers
from tests.scripted_llm import ScriptedLLMServer

KEY = re.compile(r"\[(arXiv:[^\]\s]+)\]")
BUDGET = 2000  # small enough that the biggest theme of a 250-paper week is drafted in parts
WORDS = ("robot", "manipulat", "grasp", "locomotion", "navigation", "gaussian splatting", "slam", "world model",
         "point cloud", "embodied", "vision-language-action")


def theme(req) -> dict:
    section = "Partial drafts:" if "Partial drafts:" in req.user else "This week's papers:"
    body = req.user.split(section, 1)[-1].split("Earlier papers from memory", 1)[0]
    keys = list(dict.fromkeys(KEY.findall(body)))
    return {"name": f"Theme of {len(keys)} keys", "text": " ".join(f"[{k}] moves the theme forward." for k in keys[:6])}


def overview(req) -> dict:
    keys = KEY.findall(req.user)
    return {"text": "A heavy week" + (f", led by [{keys[0]}]." if keys else ".")}


def test_a_3000_paper_week_keeps_every_synthesis_call_within_budget(settings, shared):
    corpus = shared / "corpus" / "eclipse0922_en_csLG-csCV-csAI-csRO"
    source = f"snapshot:{corpus}"
    window = parse_range("2026-05-25", "2026-06-08")
    s = hash_settings(settings, max_accepted=400, llm_share=0.5)
    papers = fetch(build_sources([source], s), window).papers
    assert len(papers) >= 3000
    labels = {p.id: 8 if any(w in (p.title + " " + p.abstract).lower() for w in WORDS) else 2 for p in papers}

    handlers = {**brief_handlers(labels, "Robot manipulation learning"), "ThemeDraft": theme, "Overview": overview}
    with ScriptedLLMServer(handlers=handlers) as srv:
        llm_cfg = s.llm.model_copy(update={"base_url": srv.base_url, "api_key": SecretStr("k"), "model": "scripted",
                                           "max_retries": 0, "timeout_seconds": 30, "requests_per_minute": 1e6,
                                           "batch_size": 20})
        s = s.model_copy(update={"llm": llm_cfg, "synthesis": s.synthesis.model_copy(
            update={"context_budget_tokens": BUDGET, "output_reserve_tokens": 600})})
        state = run_week(make_context(s, llm=LLMClient(llm_cfg, None)), window, [source])
        synthesis = [r for r in srv.requests if r.schema_name in ("ThemeDraft", "Overview")]

    assert len(state.papers) >= 3000 and len(state.accepted) >= 250
    assert synthesis, "synthesis went through the LLM"
    tokens = [r.prompt_chars / 4 for r in synthesis]
    assert max(tokens) <= BUDGET, f"largest synthesis prompt {max(tokens):.0f} tokens > {BUDGET}"
    parts = [r for r in synthesis if "of this theme's papers: write about these papers only" in r.user]
    merges = [r for r in synthesis if "Partial drafts:" in r.user]
    assert parts and merges, "big themes were drafted in parts and merged"
    assert any("…" in r.user.split("This week's papers:", 1)[-1] for r in synthesis if r.schema_name == "ThemeDraft"), \
        "paper summaries were trimmed rather than the call failing"
    seen = {k for r in synthesis for k in KEY.findall(r.user.split("This week's papers:", 1)[-1].split("Earlier papers", 1)[0])}
    assert {f"arXiv:{p.id}" for p in state.accepted} <= seen, "every accepted paper reached some synthesis call"

    report = json.loads((s.out_dir / f"{window.label}.json").read_text())
    assert report["context_budget_tokens"] == BUDGET and report["unresolved_citations"] == []
    assert any(t["parts"] > 1 for t in report["themes"])
    assert any("drafted in" in n for n in report["notes"])
    print(f"\n{len(state.papers)} papers, {len(state.accepted)} accepted, themes of {[len(t.paper_ids) for t in state.themes]}; "
          f"{len(synthesis)} synthesis calls ({len(parts)} parts, {len(merges)} merges); "
          f"largest prompt {max(tokens):.0f} of {BUDGET} tokens")
