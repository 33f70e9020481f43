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
from datetime import date

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from brief.agents import fetcher
from brief.agents.citations import CitationChecker
from brief.agents.planner import Planner, arxiv_query
from brief.agents.review_writer import ReviewWriter, span_text
from brief.agents.reviewer import Reviewer
from brief.agents.screener import Screener, stage1_text
from brief.agents.synthesiser import Synthesiser
from brief.graphs.review_state import FreshStats, MergeStats, ReviewContext, ReviewState
from brief.graphs.state import timed
from brief.graphs.weekly import _spent
from brief.memory.store import Record
from brief.models import Paper, cite_key, title_key
from brief.protocols import RunMemory
from brief.sources.window import week_of, week_ordinal

MAX_FRESH_QUERIES = 3  # phrases searched on arXiv (each twice: by relevance and by date)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def pool_size(max_papers: int) -> int:
    """Candidates screened for a review keeping `max_papers`: room for the screener to say no."""
    return max(3 * max_papers, 60)


def plan(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    ctx = runtime.context
    with ctx.reporter.stage("plan"):
        query_plan, notes = Planner(ctx.llm, ctx.embedder.embed, ctx.memory).plan(state.theme)
    return {"plan": query_plan, "notes": notes, "usage": _spent(ctx)}


def _paper(record: Record) -> Paper:
    published = getattr(record, "published", "") or ""
    return Paper(id=record.id, version=record.version or None, title=record.title, abstract=record.abstract,
                 authors=record.authors, categories=record.categories, url=record.url or None, source="memory",
                 sources=["memory"], doi=getattr(record, "doi", "") or None,
                 journal_ref=getattr(record, "journal_ref", "") or None,
                 published=date.fromisoformat(published[:10]) if published[:10].count("-") == 2 else None)


def _in_weeks(week: str, since: date | None, until: date | None) -> bool:
    ordinal = week_ordinal(week)
    return ((since is None or ordinal >= week_ordinal(week_of(since)))
            and (until is None or ordinal <= week_ordinal(week_of(until))))


def nearest_records(memory: RunMemory, vector: np.ndarray, k: int, since_week: str | None = None) -> list[Record]:
    """The k remembered papers nearest `vector`, from both collections: a theme outside the weekly criteria
    lives mostly among the papers those criteria screened out. Stubs (a bare id, no text) are skipped."""
    found = memory.search(vector, k, since_week, True)
    return [r for r in found if r.title and not r.stub]


def retrieve(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    """Every phrase's nearest memory papers, any week (within --since/--until by first-seen week).
    Undated library imports have no first-seen week of their own: kept, but off the timeline."""
    ctx, req = runtime.context, state.request
    k = min(pool_size(req.max_papers) * 2, 1000)
    since_week = week_of(req.since) if req.since else None
    records: dict[str, Record] = {}
    with ctx.reporter.stage("retrieve", len(state.query_plan.queries)) as advance:
        for vector in ctx.embedder.embed(state.query_plan.queries):
            for record in nearest_records(ctx.memory, vector, k, since_week):
                if _in_weeks(record.first_seen, req.since, req.until):
                    records.setdefault(record.id, record)
            advance(1)
    statuses = Counter(r.status for r in records.values())
    notes = [f"memory: {len(records)} papers near the theme's {len(state.query_plan.queries)} search phrases"
             + (" within the dates" if req.since or req.until else "")
             + (f", {statuses.get('rejected', 0) + statuses.get('cut', 0)} of them screened out by your weekly criteria"
                if statuses.get("rejected", 0) + statuses.get("cut", 0) else "")]
    dated = {r.id: r.first_seen for r in records.values() if getattr(r, "dated", True)}
    return {"memory_hits": [_paper(r) for r in records.values()], "first_seen": dated,
            "undated": [r.id for r in records.values() if r.id not in dated], "notes": notes, "usage": _spent(ctx)}


def route_fresh(state: ReviewState) -> str:
    return "fresh" if state.request.fresh else "merge"


def fresh(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
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
    if stats.failed:
        notes.append(f"fresh search: {len(stats.failed)} of {2 * len(queries)} searches failed; first: {stats.failed[0]}")
    return {"fresh_hits": papers, "fresh_stats": stats, "first_seen": {**state.first_seen, **known}, "notes": notes}


def _combine(keep: Paper, drop: Paper) -> Paper:
    """One record for a paper found under two ids: the arXiv one, with what the other adds."""
    return keep.model_copy(update={"sources": sorted(set(keep.sources) | set(drop.sources)), "doi": keep.doi or drop.doi,
                                   "journal_ref": keep.journal_ref or drop.journal_ref,
                                   "published": keep.published or drop.published, "abstract": keep.abstract or drop.abstract})


def merge(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    """Memory and fresh results as one pool: the same canonical id merges; then the same title merges when
    one side has no arXiv id (a DOI or title-keyed library record of an arXiv paper; two arXiv ids are two
    papers); ranked by similarity to the theme, cut to the pool size."""
    ctx, req = runtime.context, state.request
    first_seen = dict(state.first_seen)
    by_id: dict[str, Paper] = {p.id: p for p in state.memory_hits}
    origin: dict[str, str] = {pid: "memory" for pid in by_id}
    for paper in state.fresh_hits:
        if paper.id in by_id:
            by_id[paper.id] = fetcher.merge(by_id[paper.id], paper)
        else:
            by_id[paper.id] = paper
        origin[paper.id] = "both" if paper.id in first_seen or paper.id in state.undated else "fresh"
    by_title: dict[str, str] = {}
    title_merged = 0
    for pid in list(by_id):
        key = title_key(by_id[pid].title)
        other = by_title.get(key)
        if other is None or (by_id[pid].is_arxiv and by_id[other].is_arxiv):  # two arXiv ids: two papers
            by_title.setdefault(key, pid)
            continue
        keep, drop = (pid, other) if by_id[pid].is_arxiv and not by_id[other].is_arxiv else (other, pid)
        by_id[keep] = _combine(by_id[keep], by_id.pop(drop))
        origins = {origin[keep], origin.pop(drop)}
        origin[keep] = "both" if len(origins) > 1 or "both" in origins else origins.pop()
        weeks = [w for w in (first_seen.get(keep), first_seen.pop(drop, None)) if w]
        if weeks:
            first_seen[keep] = min(weeks, key=week_ordinal)
        by_title[key] = keep
        title_merged += 1
    papers = list(by_id.values())
    with ctx.reporter.stage("rank", len(papers)):
        theme = _unit(ctx.embedder.embed([state.theme]))[0]
        sims = _unit(ctx.embedder.embed([p.text_for_embedding() for p in papers])) @ theme if papers else np.zeros(0)
    ranked = sorted(zip(papers, sims), key=lambda ps: (-float(ps[1]), ps[0].id))[: pool_size(req.max_papers)]
    kept = {p.id for p, _ in ranked}
    stats = MergeStats(memory=len(state.memory_hits), fresh=len(state.fresh_hits),
                       overlap=sum(1 for o in origin.values() if o == "both"), title_merged=title_merged, pool=len(ranked))
    return {"papers": [p for p, _ in ranked], "similarity": {p.id: round(float(s), 4) for p, s in ranked},
            "origin": {pid: o for pid, o in origin.items() if pid in kept},
            "first_seen": {pid: w for pid, w in first_seen.items() if pid in kept}, "merge_stats": stats,
            "usage": _spent(ctx)}


def screen(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    """The weekly screener with the theme as its only topic, every candidate judged (no stage-1 cut: the pool
    is already the nearest papers), at most --max-papers accepted. Offline, a composite theme ("diffusion
    models for robot manipulation") also needs each part: similarity to the whole theme alone lets in papers
    about only one of them. (The LLM reads the whole theme, so its verdicts stand.)"""
    ctx, req = runtime.context, state.request
    if not state.papers:
        return {"notes": ["nothing to screen: neither memory nor the fresh search had papers near the theme"]}
    criteria = state.query_plan.criteria()
    facets = state.query_plan.facets if ctx.llm is None else []
    cfg = ctx.settings.screening.model_copy(update={"prefilter": False, "learn": False, "audit_sample": 0, "extend_rounds": 0,
                                                    "max_accepted": len(state.papers) if facets else req.max_papers})
    with ctx.reporter.stage("embed", len(state.papers)):
        vectors = ctx.embedder.embed([stage1_text(p) for p in state.papers])
        topics = ctx.embedder.embed([t.text() for t in criteria.topics])
    screener = Screener(criteria, cfg, topics, ctx.llm)
    with ctx.reporter.stage("screen", len(state.papers)) as advance:
        result = screener.run(state.papers, vectors, seed=req.slug, progress=advance)
    decisions = {d.paper_id: d for d in result.decisions}
    notes = []
    if facets:
        decisions, dropped = facet_check(state.papers, _unit(vectors), _unit(ctx.embedder.embed(facets)), facets, decisions,
                                         req.max_papers)
        notes.append(f"screening: the theme joins {' + '.join(f'“{f}”' for f in facets)}; {dropped} papers close to "
                     f"only one part were left out (similarity below {FACET_FLOOR} to the other)")
    return {"decisions": decisions, "scores": result.scores, "screen_stats": result.stats, "notes": notes,
            "usage": _spent(ctx)}


FACET_FLOOR = 0.2  # measured on the eclipse corpus: single-part papers sit below it, two-part ones above


def facet_check(papers: list[Paper], vectors: np.ndarray, facet_vectors: np.ndarray, facets: list[str],
                decisions: dict, max_papers: int) -> tuple[dict, int]:
    """Reject accepts whose similarity to some facet is under FACET_FLOOR, then keep the best `max_papers`."""
    out, dropped = dict(decisions), 0
    for paper, sims in zip(papers, vectors @ facet_vectors.T):
        d = out.get(paper.id)
        weakest = int(np.argmin(sims))
        if d is not None and d.accepted and d.stage != "author" and sims[weakest] < FACET_FLOOR:
            out[paper.id] = d.model_copy(update={"accepted": False, "topic": None, "reason": d.reason +
                                                 f"; far from “{facets[weakest]}” (similarity {sims[weakest]:.2f})"})
            dropped += 1
    accepted = sorted((d for d in out.values() if d.accepted), key=lambda d: (-d.relevance, -d.score, d.paper_id))
    for d in accepted[max_papers:]:
        out[d.paper_id] = d.model_copy(update={"accepted": False, "reason": d.reason + f"; below the review's top {max_papers}"})
    return out, dropped


def review(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    ctx = runtime.context
    n_accepted = sum(d.accepted for d in state.decisions.values())
    reviewer = Reviewer(state.query_plan.criteria(), ctx.llm, embed=ctx.embedder.embed)
    with ctx.reporter.stage("review", n_accepted) as advance:
        reviews = reviewer.review_all([p for p in state.papers if p.id in state.decisions], state.decisions, advance)
    return {"reviews": reviews, "usage": _spent(ctx)}


def when_seen(state: ReviewState) -> dict[str, str]:
    """How the review dates each paper: the week memory first saw it, else its publication (fresh search)."""
    out = {}
    undated = set(state.undated)
    for p in state.papers:
        if state.first_seen.get(p.id):
            out[p.id] = f"first seen {state.first_seen[p.id]}"
        elif p.id in undated:
            out[p.id] = "in your library (undated)"
        else:
            out[p.id] = f"published {p.published.isoformat()}" if p.published else "fresh search"
    return out


def coverage(state: ReviewState) -> str:
    accepted = state.accepted
    n_memory = sum(1 for p in accepted if state.origin.get(p.id) in ("memory", "both"))
    text = f"{n_memory} from memory, first seen {span_text([p.id for p in accepted], when_seen(state))}"
    if state.request.fresh:
        text += f"; {len(accepted) - n_memory} only from the fresh arXiv search"
    return text


def synthesise(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    """Sub-themes from the synthesiser's clusters (no trends: the timeline covers time), then the prose.
    Citations may name only the review's own papers, so every one is listed in its references."""
    ctx = runtime.context
    accepted = state.accepted
    vectors = _unit(ctx.embedder.embed([p.text_for_embedding() for p in accepted])) if accepted else np.zeros((0, 1), np.float32)
    checker = CitationChecker({cite_key(p.id) for p in accepted})
    writer = ReviewWriter(ctx.llm, ctx.settings.synthesis, checker, embed=ctx.embedder.embed)
    by_id = {p.id: p for p in accepted}
    with ctx.reporter.stage("synthesise", None):
        themes = Synthesiser(None, ctx.settings.synthesis).themes(
            state.request.slug, accepted, vectors, state.decisions, {}, [p.text_for_embedding() for p in state.papers])
        themes = writer.sections(state.theme, themes, by_id, state.reviews, when_seen(state))
        unit = dict(zip([p.id for p in accepted], vectors))
        found = writer.findings(state.theme, accepted, state.reviews, themes, unit)
        lead = max(accepted, key=lambda p: state.similarity.get(p.id, 0.0)) if accepted else None
        overview = writer.overview(state.theme, themes, found, coverage(state), lead,
                                   state.similarity.get(lead.id) if lead else None)
    return {"themes": themes, "overview": overview, "findings": found, "repairs": writer.repairs, "notes": writer.notes,
            "partial": writer.fallbacks, "usage": _spent(ctx)}


def write(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict:
    from brief.report.review_html import write_review

    ctx = runtime.context
    with ctx.reporter.stage("write"):
        paths = write_review(state, ctx.settings, ctx.llm.model_name if ctx.llm else None)
    return {"outputs": [str(p) for p in paths]}


NODES = {"plan": plan, "retrieve": retrieve, "fresh": fresh, "merge": merge, "screen": screen, "review": review,
         "synthesise": synthesise, "write": write}


def build_review_graph(wrap: Callable = lambda node: node, context_schema: type = ReviewContext) -> StateGraph:
    """The review's StateGraph (uncompiled). `wrap`/`context_schema` let LangGraph Studio run it with a
    JSON context instead of live objects (graphs/studio.py)."""
    graph = StateGraph(ReviewState, context_schema=context_schema)
    for name, node in NODES.items():
        graph.add_node(name, wrap(timed(name, node)))
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "retrieve")
    graph.add_conditional_edges("retrieve", route_fresh, {"fresh": "fresh", "merge": "merge"})
    graph.add_edge("fresh", "merge")
    graph.add_edge("merge", "screen")
    graph.add_edge("screen", "review")
    graph.add_edge("review", "synthesise")
    graph.add_edge("synthesise", "write")
    graph.add_edge("write", END)
    return graph
