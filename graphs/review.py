"""The themed review, top to bottom: this file is the table of contents of `brief review "THEME"`.

    plan → retrieve → (fresh, only with --fresh) → merge → screen → review → synthesise → write

plan: search phrases and a one-topic criterion for the theme (agents/planner.py). retrieve: the nearest
papers in memory, any week. fresh: arXiv searched by relevance and by date, per phrase. merge: one record
per paper (canonical id, then title), ranked by similarity to the theme. screen and review: the weekly
agents, judging against the theme alone. synthesise: sub-themes (the synthesiser's clusters) and the
review's prose with validated citations (agents/review_writer.py). write: md/html/json/bib named by the
theme's slug. A review only reads memory: fresh results are never remembered, so a review cannot change
what the weekly screener learns from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from brief.agents import fetcher
from brief.agents.citations import CitationChecker
from brief.agents.planner import Planner, arxiv_query
from brief.agents.review_pool import (FACET_FLOOR, coverage, facet_check, in_weeks, keep_best, merge_pool, nearest_records,
                                      paper_of, pool_size, when_seen)
from brief.agents.review_writer import ReviewWriter
from brief.agents.reviewer import Reviewer
from brief.agents.screener import Screener, stage1_text
from brief.agents.synthesiser import Synthesiser
from brief.agents.theme_evidence import criteria_note, theme_background, theme_check
from brief.graphs.nodes import Node, graph_of, spent, unit
from brief.graphs.review_state import FreshStats, MergeStats, ReviewContext, ReviewState
from brief.memory.store import Record
from brief.models import Paper, TopicCount
from brief.ids import cite_key
from brief.sources.window import week_of

MAX_FRESH_QUERIES = 3  # phrases searched on arXiv (each twice: by relevance and by date)


def plan(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    ctx = runtime.context
    with ctx.reporter.stage("plan"):
        query_plan, notes = Planner(ctx.llm, ctx.embedder.embed, ctx.memory).plan(state.theme)
    return {"plan": query_plan, "notes": notes, "usage": spent(ctx)}


def retrieve(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Every phrase's nearest memory papers, any week (within --since/--until by first-seen week).
    Undated library imports have no first-seen week of their own: kept, but off the timeline."""
    ctx, req = runtime.context, state.request
    k = min(pool_size(req.max_papers) * 2, 1000)
    since_week = week_of(req.since) if req.since else None
    records: dict[str, Record] = {}
    with ctx.reporter.stage("retrieve", len(state.query_plan.queries)) as advance:
        for vector in ctx.embedder.embed(state.query_plan.queries):
            for record in nearest_records(ctx.memory, vector, k, since_week):
                if in_weeks(record.first_seen, req.since, req.until):
                    records.setdefault(record.id, record)
            advance(1)
    statuses = Counter(r.status for r in records.values())
    notes = [f"memory: {len(records)} papers near the theme's {len(state.query_plan.queries)} search phrases"
             + (" within the dates" if req.since or req.until else "")
             + (f", {statuses.get('rejected', 0) + statuses.get('cut', 0)} of them screened out by your weekly criteria"
                if statuses.get("rejected", 0) + statuses.get("cut", 0) else "")]
    dated = {r.id: r.first_seen for r in records.values() if r.dated}
    return {"memory_hits": [paper_of(r) for r in records.values()], "first_seen": dated,
            "undated": [r.id for r in records.values() if r.id not in dated], "notes": notes, "usage": spent(ctx)}


def route_fresh(state: ReviewState) -> str:
    return "fresh" if state.request.fresh else "merge"


def fresh(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """arXiv, by relevance and by date, for the first phrases; a failed search is a note, never the end."""
    from brief.sources.arxiv_api import ArxivFetchError, ArxivQueryError, ArxivSource

    ctx, req = runtime.context, state.request
    source = ctx.search or ArxivSource.from_config(ctx.settings.arxiv, name="arxiv-search")
    queries = [arxiv_query(q, req.since, req.until) for q in state.query_plan.queries[:MAX_FRESH_QUERIES]]
    stats = FreshStats(queries=queries)
    by_id: dict[str, Paper] = {}
    with ctx.reporter.stage("search", 2 * len(queries)) as advance:
        for query in queries:
            for sort in ("relevance", "date"):
                try:
                    got = source.search(query, max_results=req.limit, sort=sort)
                except (ArxivQueryError, ArxivFetchError) as exc:
                    stats.failed.append(f"{query} (by {sort}): {exc}"[:300])
                    continue
                finally:
                    advance(1)
                stats.searches += 1
                stats.arrived += len(got)
                for paper in got:
                    by_id[paper.id] = fetcher.merge(by_id[paper.id], paper) if paper.id in by_id else paper
    papers = [p for p in by_id.values() if p.published is None
              or ((req.since is None or p.published >= req.since) and (req.until is None or p.published <= req.until))]
    known = ctx.memory.first_seen([p.id for p in papers])
    stats.unique, stats.known = len(papers), len(known)
    notes = [f"fresh search: {stats.arrived} results from {stats.searches} arXiv searches, {stats.unique} unique, "
             f"{stats.known} already in memory"]
    partial = []
    if stats.failed:
        notes.append(f"fresh search: {len(stats.failed)} of {2 * len(queries)} searches failed; first: {stats.failed[0]}")
        partial.append(f"{len(stats.failed)} of {2 * len(queries)} fresh arXiv searches failed: the review may miss "
                       "recent papers (see its notes)")
    return {"fresh_hits": papers, "fresh_stats": stats, "first_seen": {**state.first_seen, **known}, "notes": notes,
            "partial": partial}


def merge(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Memory and fresh results as one pool (agents/review_pool.merge_pool), ranked by similarity to the
    theme, cut to the pool size."""
    ctx, req = runtime.context, state.request
    pool = merge_pool(state.memory_hits, state.fresh_hits, state.first_seen, state.undated)
    papers = pool.papers
    with ctx.reporter.stage("rank", len(papers)):
        theme = unit(ctx.embedder.embed([state.theme]))[0]
        sims = unit(ctx.embedder.embed([p.text_for_embedding() for p in papers])) @ theme if papers else np.zeros(0)
    ranked = sorted(zip(papers, sims), key=lambda ps: (-float(ps[1]), ps[0].id))[: pool_size(req.max_papers)]
    kept = {p.id for p, _ in ranked}
    stats = MergeStats(memory=len(state.memory_hits), fresh=len(state.fresh_hits),
                       overlap=sum(1 for o in pool.origin.values() if o == "both"), title_merged=pool.title_merged,
                       pool=len(ranked))
    return {"papers": [p for p, _ in ranked], "similarity": {p.id: round(float(s), 4) for p, s in ranked},
            "origin": {pid: o for pid, o in pool.origin.items() if pid in kept},
            "first_seen": {pid: w for pid, w in pool.first_seen.items() if pid in kept}, "merge_stats": stats,
            "usage": spent(ctx)}


def screen(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """The weekly screener with the theme as its only topic, every candidate judged (no stage-1 cut: the pool
    is already the nearest papers), at most --max-papers accepted. Offline, each candidate is then judged
    against the theme itself (agents/theme_evidence.py): similarity calibrated against the theme's
    neighbourhood in memory and the theme's specific words, so fewer papers qualify when fewer are on it. A
    composite theme ("diffusion models for robot manipulation") also needs each part: similarity to the whole
    theme alone lets in papers about only one of them. (The LLM reads the whole theme, so its verdicts stand.)"""
    ctx, req = runtime.context, state.request
    if not state.papers:
        return {"notes": ["nothing to screen: neither memory nor the fresh search had papers near the theme"]}
    criteria = state.query_plan.criteria()
    offline = ctx.llm is None
    facets = state.query_plan.facets if offline else []
    cfg = ctx.settings.screening.model_copy(update={"prefilter": False, "learn": False, "audit_sample": 0, "extend_rounds": 0,
                                                    "max_accepted": len(state.papers) if offline else req.max_papers})
    with ctx.reporter.stage("embed", len(state.papers)):
        vectors = ctx.embedder.embed([stage1_text(p) for p in state.papers])
        topics = ctx.embedder.embed([t.text() for t in criteria.topics])
    screener = Screener(criteria, cfg, topics, ctx.llm)
    with ctx.reporter.stage("screen", len(state.papers)) as advance:
        result = screener.run(state.papers, vectors, seed=req.slug, progress=advance)
    decisions = {d.paper_id: d for d in result.decisions}
    if not offline:
        return {"decisions": decisions, "scores": result.scores, "screen_stats": result.stats, "usage": spent(ctx)}
    with ctx.reporter.stage("judge"):
        background = theme_background(state.theme, unit(ctx.embedder.embed([state.theme]))[0], ctx.memory)
        decisions, qualified = theme_check(state.papers, state.similarity, background, decisions, cfg.offline_z,
                                           cfg.similarity_threshold)
    notes = []
    if facets:
        decisions, dropped = facet_check(state.papers, unit(vectors), unit(ctx.embedder.embed(facets)), facets, decisions)
        qualified -= dropped
        notes.append(f"screening: the theme joins {' + '.join(f'“{f}”' for f in facets)}; {dropped} papers close to "
                     f"only one part were left out (similarity below {FACET_FLOOR} to the other)")
    decisions, cut = keep_best(decisions, req.max_papers)
    notes.append(f"screening: {qualified} of the {len(state.papers)} candidates qualified ("
                 f"{criteria_note(background, cfg.offline_z, cfg.similarity_threshold)}); "
                 + (f"the cap of {req.max_papers} (--max-papers) cut {cut}" if cut else f"all within the cap of {req.max_papers}"))
    stats = result.stats.model_copy(update={"per_topic": [TopicCount(topic=criteria.topics[0].name, qualifying=qualified,
                                                                     accepted=qualified - cut, cut=cut)]})
    return {"decisions": decisions, "scores": result.scores, "screen_stats": stats, "notes": notes, "usage": spent(ctx)}


def review(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    ctx = runtime.context
    n_accepted = sum(d.accepted for d in state.decisions.values())
    reviewer = Reviewer(state.query_plan.criteria(), ctx.llm, embed=ctx.embedder.embed)
    with ctx.reporter.stage("review", n_accepted) as advance:
        reviews = reviewer.review_all([p for p in state.papers if p.id in state.decisions], state.decisions, advance)
    return {"reviews": reviews, "usage": spent(ctx)}


def synthesise(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Sub-themes from the synthesiser's clusters (no trends: the timeline covers time), then the prose.
    Citations may name only the review's own papers, so every one is listed in its references."""
    ctx = runtime.context
    accepted = state.accepted
    vectors = unit(ctx.embedder.embed([p.text_for_embedding() for p in accepted])) if accepted else np.zeros((0, 1), np.float32)
    checker = CitationChecker({cite_key(p.id) for p in accepted})
    writer = ReviewWriter(ctx.llm, ctx.settings.synthesis, checker, embed=ctx.embedder.embed)
    by_id = {p.id: p for p in accepted}
    seen = when_seen(state.papers, state.first_seen, state.undated)
    with ctx.reporter.stage("synthesise", None):
        on_theme = {pid: d.model_copy(update={"topic": state.theme}) for pid, d in state.decisions.items()}  # one rest list
        themes = Synthesiser(None, ctx.settings.synthesis).themes(
            state.request.slug, accepted, vectors, on_theme, {}, [p.text_for_embedding() for p in state.papers])
        themes = writer.sections(state.theme, themes, by_id, state.reviews, seen)
        by_vector = dict(zip([p.id for p in accepted], vectors))
        found = writer.findings(state.theme, accepted, state.reviews, themes, by_vector)
        lead = max(accepted, key=lambda p: state.similarity.get(p.id, 0.0)) if accepted else None
        where = coverage(accepted, state.origin, seen, state.request.fresh)
        overview = writer.overview(state.theme, themes, found, where, lead, state.similarity.get(lead.id) if lead else None)
    return {"themes": themes, "overview": overview, "findings": found, "repairs": writer.repairs, "notes": writer.notes,
            "partial": writer.fallbacks, "usage": spent(ctx)}


def write(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    from brief.report.review_html import write_review

    ctx = runtime.context
    with ctx.reporter.stage("write"):
        paths = write_review(state, ctx.settings, ctx.llm.model_name if ctx.llm else None)
    return {"outputs": [str(p) for p in paths]}


NODES: dict[str, Node] = {"plan": plan, "retrieve": retrieve, "fresh": fresh, "merge": merge, "screen": screen, "review": review,
         "synthesise": synthesise, "write": write}


def build_review_graph(wrap: Callable[[Node], Node] = lambda node: node, context_schema: type = ReviewContext) -> StateGraph[ReviewState, Any]:
    """The review's StateGraph (uncompiled): the nodes in order, the fresh search only with --fresh.
    `wrap`/`context_schema`: see graphs/nodes.py."""
    graph = graph_of(ReviewState, context_schema, NODES, wrap, [START, "plan", "retrieve"],
                     ["fresh", "merge", "screen", "review", "synthesise", "write", END])
    graph.add_conditional_edges("retrieve", route_fresh, {"fresh": "fresh", "merge": "merge"})
    return graph
