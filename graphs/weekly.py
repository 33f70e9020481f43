"""The weekly briefing, top to bottom: this file is the table of contents of `brief weekly`.

    fetch → screen → review → remember → link → synthesise → write

Each node reads the state, calls one agent, and returns an update (with a model, the link node has it read
the links memory proposes: agents/link_check.py). Live objects (config, embedder, memory, LLM client) come
from the run context, never from globals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from brief.agents import fetcher
from brief.agents.link_check import LinkChecker
from brief.agents.reviewer import Reviewer
from brief.agents.offline_learning import MIN_POSITIVES, learned_note
from brief.agents.prefilter import LearnedRanker, SimilarityRanker
from brief.agents.recall_history import pooled_recall, with_pooled_recall
from brief.agents.remember import sort_for_memory, writes
from brief.agents.screen_note import screen_note, unread_interests_note
from brief.agents.screener import Screener, learn_ranker, stage1_text
from brief.agents.synthesiser import Synthesiser
from brief.graphs.nodes import Node, graph_of, spent, vectors_of
from brief.graphs.state import RunContext, WeeklyState
from brief.memory.labels import OFFLINE, audit_weeks, judged_labels
from brief.memory.links import field_sample, find_links
from brief.memory.presence import ensure_on_disk
from brief.models import OFFLINE_LEARNED
from brief.report import publish
from brief.text import counted


def _run_id(state: WeeklyState) -> str:
    """The run's checkpoint thread (`weekly:2026-W24:3f2a…`), the same when a crashed run resumes."""
    from langgraph.config import get_config

    try:
        return str(get_config().get("configurable", {}).get("thread_id") or f"weekly:{state.week}")
    except RuntimeError:  # invoked outside a runnable context
        return f"weekly:{state.week}"


def fetch(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    with ctx.reporter.stage("fetch"):
        result = fetcher.fetch(fetcher.build_sources(state.sources, ctx.settings), state.window)
    first_seen = ctx.memory.first_seen([p.id for p in result.papers])
    earlier = [pid for pid, week in first_seen.items() if week < state.memory_week]
    # What memory held before this run writes anything: a remember node redone after a crash still counts
    # only the papers this run added.
    in_memory = [pid for pid, status in ctx.memory.known([p.id for p in result.papers]).items()
                 if status not in ("rejected", "seen", "cut")]
    notes = list(result.notes)
    if earlier:
        notes.append(f"{counted(len(earlier), 'paper was', 'papers were')} already seen in earlier weeks and "
                     f"{'is' if len(earlier) == 1 else 'are'} not screened again")
    return {"papers": result.papers, "fetch_counts": result.counts, "seen_before": earlier, "in_memory": in_memory,
            "notes": notes, "partial": result.failed}


def screen(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    skip = set(state.seen_before)
    candidates = [p for p in state.papers if p.id not in skip]
    # Stage 1's own embedder (the static table): offline, the labels it learns from are memory's vectors,
    # so it ranks with memory's embedder there.
    stage1 = ctx.embedder.stage1 if ctx.llm else ctx.embedder
    topic_texts = [t.text() for t in ctx.settings.criteria.topics]
    earlier = audit_weeks(ctx.memory, state.memory_week) if ctx.llm else []  # what earlier cuts missed
    _, interval = pooled_recall(earlier)  # its upper end: the cut aims higher only by what the audits show for sure
    cfg = ctx.settings.screening  # offline, stage 1 learns from feedback, imports and earlier LLM decisions too
    # (with a model, the ranker below holds what they teach: no second read of memory's vectors)
    labels = judged_labels(ctx.memory, state.memory_week, cfg.history_limit) if ctx.llm is None and cfg.learn else None
    # offline, a learned ranking decides once enough labelled accepts exist (agents/offline_learning.py)
    learns = ctx.llm is not None or (labels is not None and len(labels.positives) >= MIN_POSITIVES)
    topics = stage1.embed(topic_texts)
    ranker = learn_ranker(ctx.memory, topics, ctx.settings, before_week=state.memory_week,
                          embed=stage1.embed if stage1 is not ctx.embedder else None,
                          labelled_share=interval[1] if interval else None) if learns else None
    if stage1 is not ctx.embedder and not isinstance(ranker, LearnedRanker):
        # The table holds its own only in a learned ranking: against the criteria alone (a cold start, too few
        # decisions) it ranks clearly worse than memory's embedder (cgarling AUC 0.737 vs 0.825), and on
        # bench/weekly.py the weeks after such a start sent 41% of the week to the model instead of 28%.
        stage1, topics = ctx.embedder, ctx.embedder.embed(topic_texts)
        ranker = SimilarityRanker(topics)
    with ctx.reporter.stage("embed", len(candidates)):  # stage 1 never sees sentences aimed at the screener
        vectors = stage1.embed([stage1_text(p) for p in candidates]) if candidates else np.zeros((0, 1), np.float32)
    screener = Screener(ctx.settings.criteria, cfg, topics, ctx.llm, ranker=ranker, embed=stage1.embed,
                        labels=labels)
    with ctx.reporter.stage("screen", len(candidates)) as advance:
        result = screener.run(candidates, vectors, seed=state.week, progress=advance)
    if ctx.llm:  # one week's audit says little; the earlier weeks' audits with it say more
        result.stats = with_pooled_recall(result.stats, earlier, state.memory_week)
    decided = result.stats.ranker == OFFLINE_LEARNED
    offline = [learned_note(labels, decided), unread_interests_note(ctx.settings.criteria.interests)]
    notes = ([screen_note(result.stats)] if ctx.llm else [n for n in offline if n]) if candidates else []
    return {"decisions": {d.paper_id: d for d in result.decisions}, "scores": result.scores,
            "screen_stats": result.stats, "notes": notes, "usage": spent(ctx)}


def review(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    n_accepted = sum(d.accepted for d in state.decisions.values())
    reviewer = Reviewer(ctx.settings.criteria, ctx.llm, embed=ctx.embedder.embed, language=ctx.settings.report.language)
    with ctx.reporter.stage("review", n_accepted) as advance:
        reviews = reviewer.review_all([p for p in state.papers if p.id in state.decisions], state.decisions, advance)
    return {"reviews": reviews, "usage": spent(ctx)}


def remember(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """The one node that writes memory: accepted papers to `papers`, screened-out ones to `seen`."""
    ctx = runtime.context
    week = sort_for_memory(state.papers, state.decisions, state.reviews)
    run = _run_id(state)  # each paper's decision history names the run (once, even if this node is redone)
    judged = {} if ctx.llm else {"judged_by": OFFLINE}  # stage 1's own offline decisions are not labels to learn from
    with ctx.reporter.stage("remember", week.total) as advance:
        for write in writes(week, state.decisions, state.reviews, run_id=run, extra=judged):
            # Stage-1 cuts are weak evidence, stored without abstracts. When stage 1 ranked with its own table,
            # memory's embedder never read them: a title's vector (a few tokens) is enough, not a whole abstract.
            cheap = write.status == "cut" and write.papers and ctx.embedder.stage1 is not ctx.embedder
            vectors = ctx.embedder.embed([p.title for p in write.papers]) if cheap else vectors_of(ctx, write.papers)
            ctx.memory.remember(write.papers, vectors, state.memory_week, status=write.status, **write.fields)
            advance(len(write.papers))
    kept = {p.id for p in week.accepted}
    ensure_on_disk(ctx.memory)  # written into a memory dir deleted meanwhile: nothing was saved
    added = len(kept - set(state.in_memory))  # upserts are idempotent: a redone node adds nothing twice
    return {"memory_added": added, "memory_total": ctx.memory.count(), "usage": spent(ctx)}


def link(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    accepted = state.accepted
    cfg = ctx.settings.memory
    with ctx.reporter.stage("link", len(accepted)):
        links = find_links(ctx.memory, accepted, vectors_of(ctx, accepted), state.memory_week, cfg.link_k, cfg.link_threshold,
                           background=[p.text_for_embedding() for p in state.papers],
                           topics={p.id: state.decisions[p.id].topic for p in accepted if p.id in state.decisions},
                           field=vectors_of(ctx, field_sample(state.papers)))
        if not ctx.llm:
            return {"links": links, "usage": spent(ctx)}
        checked = LinkChecker(ctx.llm, ctx.memory.get_many).check(accepted, links)  # only specific ties stay
    return {"links": checked.links, "notes": [n for n in [checked.note()] if n], "usage": spent(ctx)}


def synthesise(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    accepted = state.accepted
    synthesiser = Synthesiser(ctx.llm, ctx.settings.synthesis, memory=ctx.memory, language=ctx.settings.report.language)
    with ctx.reporter.stage("synthesise", None):
        result = synthesiser.synthesise(
            state.week, accepted, vectors_of(ctx, accepted), state.decisions, state.reviews, state.links,
            background=[p.text_for_embedding() for p in state.papers], memory_week=state.memory_week,
        )
    return {"themes": result.themes, "overview": result.overview, "repairs": result.repairs, "notes": result.notes,
            "partial": result.fallbacks, "usage": spent(ctx)}


def write(state: WeeklyState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Reports first (md/json/html, feed, bibtex), then the optional email, which can only add a note."""
    ctx = runtime.context
    with ctx.reporter.stage("write"):
        published = publish(state, ctx.settings, ctx.llm.model_name if ctx.llm else None)
    return {"outputs": [str(p) for p in published.paths], "notes": published.notes, "partial": published.partial}


def build_weekly_graph(wrap: Callable[[Node], Node] = lambda node: node, context_schema: type = RunContext) -> StateGraph[WeeklyState, Any]:
    """The weekly StateGraph (uncompiled): the nodes in order. `wrap`/`context_schema`: see graphs/nodes.py.
    The node table is read when the graph is built, so a test can swap a node for a failing one."""
    nodes: dict[str, Node] = {"fetch": fetch, "screen": screen, "review": review, "remember": remember, "link": link,
                              "synthesise": synthesise, "write": write}
    return graph_of(WeeklyState, context_schema, nodes, wrap, [START, *nodes, END])
