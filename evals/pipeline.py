"""Replays a labelled set through the real agents, week by week, and keeps what each agent produced.

Per week, in the order a weekly run uses: stage 1 ranks (a ranker fitted only on labelled decisions from
`--history` and, with `--time-split`, earlier weeks: never on the papers being evaluated), the screener
decides, the reviewer takes a second look (with planted off-topic papers slipped in among the accepts),
memory remembers the confirmed accepts, links tie them to earlier weeks, and the synthesiser writes
themes. Only the steps the requested suites need are run.
"""

from __future__ import annotations

import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from brief.agents.prefilter import fit_ranker
from brief.agents.remember import sort_for_memory, writes
from brief.agents.reviewer import Reviewer
from brief.agents.screener import Screener, stage1_text
from brief.models import Labels
from brief.agents.synthesiser import Synthesis, Synthesiser
from brief.config import ScreeningConfig, SynthesisConfig
from brief.evals.datasets import UNDATED, Dataset, Item
from brief.evals.judge import Judged, judge_grounding
from brief.evals.metrics import summary_sentences
from brief.models import Decision, Link, Paper, Review, Usage
from brief.ids import citations
from brief.progress import QuietReporter, Reporter
from brief.protocols import LLM, Embedder

NEEDS = {  # what each suite needs run
    "prefilter": {"rank"},
    "screening": {"rank", "screen"},
    "reviewer": {"rank", "screen", "review"},
    "synthesis": {"rank", "screen", "review", "synthesise"},
    "cost": {"rank", "screen", "review", "synthesise"},
}


@dataclass
class WeekStage1:
    week: str
    ids: list[str]
    scores: np.ndarray  # the stage-1 ranking in effect
    cold: np.ndarray  # topic similarity alone (the cold-start ranker)
    sent: set[str]  # the cut's papers, keyword and author hits, and the audit
    audit: set[str]  # the random sample below the cut that measures its recall
    ranker: str
    trained_on: int


@dataclass
class WeekSynthesis:
    week: str
    accepted: list[str]
    synthesis: Synthesis
    links: dict[str, list[Link]]
    known: set[str]  # ids a citation may resolve to: this week's accepts and what memory held


@dataclass
class Trace:
    dataset: Dataset
    stage1: list[WeekStage1] = field(default_factory=list)
    decisions: dict[str, Decision] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)
    planted: dict[str, Paper] = field(default_factory=dict)
    weeks: list[WeekSynthesis] = field(default_factory=list)
    judged: list[Judged] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, int]:
        return {i.paper.id: i.label for i in self.dataset.items}

    @property
    def papers(self) -> dict[str, Paper]:
        return {**{i.paper.id: i.paper for i in self.dataset.items}, **self.planted}


@dataclass
class Replay:
    """Everything a replay needs that is not the dataset: agents' config, embedder, LLM, options."""

    screening: ScreeningConfig
    embedder: Embedder
    llm: LLM | None = None
    link_k: int = 3
    link_threshold: float = 0.55
    synthesis: SynthesisConfig | None = None
    time_split: bool = False
    judge_limit: int = 40
    judge: LLM | None = None  # the grounding judge's client (`[llm] judge_model`); None: `llm`
    reporter: Reporter = field(default_factory=QuietReporter)


def _text(paper: Paper) -> str:
    """What the weekly run embeds for stage 1 (without sentences addressed to the screener)."""
    return stage1_text(paper)


def embed_items(replay: Replay, papers: list[Paper]) -> dict[str, np.ndarray]:
    """Embeds in chunks so the progress bar moves; the cached embedder makes reruns free."""
    vectors: dict[str, np.ndarray] = {}
    todo = list({p.id: p for p in papers}.values())
    with replay.reporter.stage("embed", len(todo)) as advance:
        for start in range(0, len(todo), 64):
            chunk = todo[start:start + 64]
            for paper, vec in zip(chunk, replay.embedder.embed([_text(p) for p in chunk])):
                vectors[paper.id] = np.asarray(vec, dtype=np.float32)
            advance(len(chunk))
    return vectors


def run(dataset: Dataset, replay: Replay, steps: set[str], history: list[Item], plants: list[Paper]) -> Trace:
    trace = Trace(dataset=dataset)
    criteria = dataset.criteria
    taken = {i.paper.id for i in dataset.items}
    overlap = [i for i in history if i.paper.id in taken]
    if overlap:
        trace.notes.append(f"{len(overlap)} history papers are also in the evaluated set: not trained on")
    history = [i for i in history if i.paper.id not in taken]
    plants = [p for p in plants if p.id not in taken] if "review" in steps else []
    vectors = embed_items(replay, [i.paper for i in dataset.items] + [i.paper for i in history] + plants)
    topic_vectors = replay.embedder.embed([t.text() for t in criteria.topics])
    by_week: dict[str, list[Item]] = {}
    for item in dataset.items:
        by_week.setdefault(item.week, []).append(item)
    weeks = sorted(by_week)
    cfg = replay.screening
    if weeks == [UNDATED]:
        # a pool (e.g. a literature search's results), not a week: no weekly cap, and its own papers are not a
        # chance background (they share the field by construction: the chance cut kept 1 of Kitchenham's 102)
        cfg = cfg.model_copy(update={"max_accepted": max(cfg.max_accepted, len(dataset.items)), "offline_fdr": 1.0})
        trace.notes.append("undated set: screened as one batch, without the weekly cap on accepts or the week's chance cut")
        if replay.time_split:
            trace.notes.append("--time-split needs dated records: ranked without learning")
    plant_weeks = {p.id: weeks[n % len(weeks)] for n, p in enumerate(plants)}
    trace.planted = {p.id: p for p in plants}
    memory_dir = tempfile.TemporaryDirectory(prefix="brief-eval-") if "synthesise" in steps else None
    memory = None
    if memory_dir is not None:
        from brief.memory.store import Memory

        memory = Memory(Path(memory_dir.name) / "chroma", replay.embedder.name)
    try:
        with replay.reporter.stage(f"replay {dataset.name}", len(dataset.items)) as advance:
            for week in weeks:
                train = list(history)
                if replay.time_split and week != UNDATED:
                    train += [i for w in weeks if w < week for i in by_week[w]]
                week_plants = [p for p in plants if plant_weeks[p.id] == week]
                _replay_week(trace, week, by_week[week], train, week_plants, vectors, topic_vectors, cfg, steps, memory, replay)
                advance(len(by_week[week]))
        if "synthesise" in steps and replay.llm is not None:
            trace.judged = _judge(trace, replay)
        if replay.llm is not None:
            trace.usage = replay.llm.meter.take()
        if replay.judge is not None and replay.judge is not replay.llm:
            trace.usage = replay.judge.meter.take().merged(trace.usage)  # the graded model named, the judge's stage counted
    finally:
        if memory_dir is not None:
            del memory
            memory_dir.cleanup()
    return trace


def _replay_week(trace, week, items, train, plants, vectors, topic_vectors, cfg, steps, memory, replay) -> None:
    criteria = trace.dataset.criteria
    ranker = _fit(topic_vectors, train, vectors, criteria, cfg)
    screener = _screener(criteria, cfg, topic_vectors, replay.llm, ranker, embed=replay.embedder.embed,
                         labels=_labels(train, vectors))
    papers = [i.paper for i in items]
    X = np.stack([vectors[p.id] for p in papers])
    trace.stage1.append(_stage1(week, screener, ranker, papers, X, topic_vectors, len(train)))
    if "screen" not in steps:
        return
    decisions = {d.paper_id: d for d in screener.screen(papers, X, seed=week)}
    trace.decisions.update(decisions)
    if "review" not in steps:
        return
    planted = {p.id: _planted_decision(p, vectors[p.id], topic_vectors, criteria, cfg) for p in plants}
    reviewer = Reviewer(criteria, replay.llm, embed=replay.embedder.embed)
    trace.reviews.update(reviewer.review_all(papers + plants, decisions | planted))
    if memory is not None:
        trace.weeks.append(_synthesise(week, papers, X, vectors, decisions, trace.reviews, memory, replay))


def _fit(topic_vectors, train: list[Item], vectors, criteria, cfg):
    """Stage 1's ranker from labelled decisions, fitted as the weekly run fits it from memory's."""
    if not train:
        return fit_ranker(topic_vectors)
    return fit_ranker(topic_vectors, np.stack([vectors[i.paper.id] for i in train]), np.array([i.label for i in train]),
                      texts=[_text(i.paper) for i in train], topic_texts=[t.text() for t in criteria.topics],
                      recall_target=cfg.recall_target)


def _screener(criteria, cfg, topic_vectors, llm, ranker, **optional) -> Screener:
    """The product's screener, given the fitted ranker (and topic evidence, labels)."""
    return Screener(criteria, cfg, topic_vectors, llm, ranker=ranker, **optional)


def _labels(train: list[Item], vectors) -> Labels | None:
    """The earlier weeks' labels as memory would hold them: judged decisions stage 1 learns from offline too."""
    if not train:
        return None
    pos = [vectors[i.paper.id] for i in train if i.label == 1]
    neg = [vectors[i.paper.id] for i in train if i.label != 1]
    dim = len(vectors[train[0].paper.id])
    return Labels(positives=np.stack(pos) if pos else np.zeros((0, dim), np.float32),
                  negatives=np.stack(neg) if neg else np.zeros((0, dim), np.float32), counts={"llm": len(train)})


def _stage1(week, screener, ranker, papers, X, topic_vectors, trained_on) -> WeekStage1:
    """Stage 1's ranking (the screener's own scores, from the ranker in effect) and the papers its cut sends."""
    scores = screener.prefilter(papers, X)
    sent, audit = screener.select_for_llm(scores, seed=week, papers=papers)
    learned = ranker.name != fit_ranker(topic_vectors).name
    return WeekStage1(week=week, ids=[p.id for p in papers], scores=np.array([s.score for s in scores]),
                      cold=(X @ topic_vectors.T).max(axis=1), sent=sent, audit=audit, ranker=ranker.name,
                      trained_on=trained_on if learned else 0)


def _planted_decision(paper, vec, topic_vectors, criteria, cfg) -> Decision:
    """A planted paper reaches the reviewer as an accept filed under its nearest topic."""
    best = int(np.argmax(topic_vectors @ vec))
    return Decision(paper_id=paper.id, accepted=True, stage="offline", relevance=cfg.accept_relevance, novelty=0,
                    topic=criteria.topics[best].name, reason="planted off-topic paper (eval)")


def _synthesise(week, papers, X, vectors, decisions, reviews, memory, replay) -> WeekSynthesis:
    """Remember, link and synthesise as the weekly graph does (one rule: agents/remember.py)."""
    from brief.memory.links import find_links

    label = week if week != UNDATED else "1970-W01"  # memory orders weeks; an undated set is one early week

    def stacked(ps: list[Paper]) -> np.ndarray:
        return np.stack([vectors[p.id] for p in ps]) if ps else np.zeros((0, X.shape[1]), np.float32)

    week_papers = sort_for_memory(papers, decisions, reviews)  # the weekly run's rule (agents/remember.py)
    for write in writes(week_papers, decisions, reviews):
        memory.remember(write.papers, stacked(write.papers), label, status=write.status, **write.fields)
    confirmed = week_papers.accepted
    kept = {p.id for p in confirmed}
    cv = stacked(confirmed)
    links = find_links(memory, confirmed, cv, label, replay.link_k, replay.link_threshold) if confirmed else {}
    synthesiser = Synthesiser(replay.llm, replay.synthesis, memory=memory)
    result = synthesiser.synthesise(week, confirmed, cv, decisions, reviews, links,
                                    background=[p.text_for_embedding() for p in papers], memory_week=label)
    cited = list(dict.fromkeys(c.removeprefix("arXiv:") for text in [t.prose for t in result.themes] + [result.overview]
                               for c in citations(text)))
    known = kept | set(memory.known(cited))
    return WeekSynthesis(week=week, accepted=[p.id for p in confirmed], synthesis=result, links=links, known=known)


def _judge(trace: Trace, replay: Replay) -> list[Judged]:
    """The judge reads up to `judge_limit` confirmed summaries, spread evenly over the set (seeded)."""
    ids = sorted(pid for w in trace.weeks for pid in w.accepted if pid in trace.reviews)
    chosen = sorted(random.Random("judge").sample(ids, min(replay.judge_limit, len(ids))))
    papers = trace.papers
    jobs = [(papers[pid], summary_sentences(trace.reviews[pid].summary)) for pid in chosen]
    jobs = [(paper, sentences) for paper, sentences in jobs if sentences]
    llm = replay.llm
    assert llm is not None  # run() judges only when a model is configured
    with replay.reporter.stage("judge", len(jobs)) as advance, ThreadPoolExecutor(llm.cfg.concurrency) as pool:
        out = []
        for judged in pool.map(lambda job: judge_grounding(replay.judge or llm, *job), jobs):
            out.append(judged)
            advance(1)
    if len(ids) > len(chosen):
        trace.notes.append(f"grounding judge read {len(chosen)} of {len(ids)} summaries (random sample)")
    return out
