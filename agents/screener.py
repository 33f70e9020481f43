"""Screener: decides which of the week's papers match the user's criteria, in two stages.

Stage 1 is local and cheap: every paper is scored against every topic (a ranker learned from memory's
decisions, or topic similarity on a cold start; plus keywords and the author watch-list). Offline,
stage 1 decides alone. With an LLM, only the papers above stage 1's cut go to the LLM (plus include-keyword
hits and a small random audit sample from below the cut, which measures what the cut missed); watch-list
authors are accepted without a call; papers cut at stage 1 keep their score and reason.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from brief.agents import budget, offline_screen
from brief.agents.audit_bands import AuditBands
from brief.agents.offline_learning import learned_probability
from brief.protocols import LLM, RunMemory
from brief.agents.prefilter import Ranker, SimilarityRanker, fit_ranker, neutralise
from brief.agents.screen_llm import BatchScreener, PaperVerdict, first_look_bars, is_no_topic, match_topic
from brief.agents.screen_pool import ScreenPool
from brief.agents.topic_evidence import TopicEvidence
from brief.config import Criteria, ScreeningConfig, Settings, Topic
from brief.models import OFFLINE_LEARNED, Decision, Labels, Paper, Score, ScreenStats, TopicCount
from brief.text import WatchList



@functools.lru_cache(maxsize=1024)
def _phrase(phrase: str) -> re.Pattern:
    return re.compile(r"\b" + re.escape(phrase.lower()) + r"\b")


def _has(text: str, phrase: str) -> bool:
    """`phrase` as whole words in `text` (both lower case); the substring test first, as most texts lack it."""
    return phrase.lower() in text and _phrase(phrase).search(text) is not None


def similarity_to_relevance(similarity: float) -> int:
    """Map cosine similarity onto the LLM's 1-10 scale (0.15 → 1, 0.60 → 10) so reports read alike."""
    return int(np.clip(round(1 + 9 * (similarity - 0.15) / 0.45), 1, 10))


def stage1_text(paper: Paper) -> str:
    """What stage 1 embeds and matches: title and abstract without sentences addressed to the screener."""
    return neutralise(paper.text_for_embedding())[0]


class Plan(BaseModel):
    """Which papers stage 2 sees, and why."""

    send: list[str] = Field(default_factory=list, description="above the cut or forced, best first")
    forced: list[str] = Field(default_factory=list)
    audit: list[str] = Field(default_factory=list)
    below: list[str] = Field(default_factory=list, description="below the cut and not audited, best first")
    authors: list[str] = Field(default_factory=list)
    excluded: dict[str, str] = Field(default_factory=dict)
    cut: float | None = None
    cut_by: str = ""
    ranker_auc: float | None = None
    history_recall: float | None = None
    wanted_share: float | None = None
    recall_aim: float | None = None


class ScreenResult(BaseModel):
    decisions: list[Decision]
    scores: list[Score]
    stats: ScreenStats


class Screener:
    def __init__(self, criteria: Criteria, cfg: ScreeningConfig, topic_vectors: np.ndarray, llm: LLM | None,
                 ranker: Ranker | None = None, embed=None, labels: Labels | None = None):
        self.criteria = criteria
        self.cfg = cfg
        self.topic_vectors = topic_vectors
        self.llm = llm
        self.ranker = ranker or SimilarityRanker(topic_vectors)
        self.evidence = TopicEvidence(criteria.topics, embed, topic_vectors)
        self.labels = labels
        self._per_topic: list[TopicCount] = []
        self._watch = WatchList(criteria.authors)
        self._flagged: set[str] = set()
        self._brief_only: set[str] = set()
        self._rescreened = 0

    # -- stage 1 ---------------------------------------------------------------------------------------

    def prefilter(self, papers: list[Paper], vectors: np.ndarray) -> list[Score]:
        """Score every paper; `vectors` should embed `stage1_text(paper)` so injected instructions can't count."""
        if not papers:
            return []
        cleaned = [neutralise(p.text_for_embedding()) for p in papers]
        self._flagged = {p.id for p, (_, flagged) in zip(papers, cleaned) if flagged or neutralise(", ".join(p.authors))[1]}
        texts = [c for c, _ in cleaned]
        sims = np.asarray(vectors) @ self.topic_vectors.T
        self._evidence = self.evidence.score(vectors)
        base = sims.max(axis=1) if isinstance(self.ranker, SimilarityRanker) else self.ranker.score(vectors, texts)
        bonus = self.ranker.keyword_bonus
        scores = []
        for paper, text, value, best, support in zip(papers, texts, base, self._evidence.best, self._evidence.support):
            low = text.lower()
            hits = {k for t in self.criteria.topics for k in t.keywords if _has(low, k)}
            hits |= {k for k in self.criteria.include_keywords if _has(low, k)}
            authors = [a for a in paper.authors if a in self._watch]
            scores.append(Score(paper_id=paper.id, score=round(float(value) + bonus * min(len(hits), 3), 4),
                                similarity=round(float(support[best]), 4), topic=self.criteria.topics[best].name,
                                keyword_hits=sorted(hits), author_hits=authors))
        return scores

    def _threshold(self, topic_name: str | None) -> float:
        topic = next((t for t in self.criteria.topics if t.name == topic_name), None)
        return topic.threshold if topic and topic.threshold is not None else self.cfg.similarity_threshold

    def _excluded(self, text: str) -> str | None:
        low = text.lower()
        return next((k for k in self.criteria.exclude_keywords if _has(low, k)), None)

    def _included(self, score: Score) -> bool:
        return bool(set(score.keyword_hits) & set(self.criteria.include_keywords))

    # -- decisions -------------------------------------------------------------------------------------

    def screen(self, papers: list[Paper], vectors: np.ndarray, seed: str = "", progress=lambda n=1: None) -> list[Decision]:
        return self.run(papers, vectors, seed, progress).decisions

    def run(self, papers: list[Paper], vectors: np.ndarray, seed: str = "", progress=lambda n=1: None) -> ScreenResult:
        if not papers:  # a week with nothing new: nothing to rank or learn a cut from
            return ScreenResult(decisions=[], scores=[], stats=ScreenStats(
                prefilter=False, ranker="none: no new papers", recall_target=self.cfg.recall_target))
        scores = self.prefilter(papers, vectors)
        if self.llm is None:
            excluded = [self._excluded(stage1_text(p)) for p in papers]
            probability = learned_probability(self.ranker, np.array([s.score for s in scores]))
            decisions, self._per_topic = offline_screen.decide(papers, scores, self._evidence, vectors, self.criteria,
                                                               self.cfg, self.labels, excluded, probability)
            learned = self.labels.counts if self.labels is not None else {}
            ranker = (OFFLINE_LEARNED if probability is not None
                      else "offline: topic evidence" + (" + labels" if sum(learned.values()) else ""))
            stats = ScreenStats(prefilter=False, ranker=ranker,
                                trained_on=sum(learned.values()), candidates=len(papers), learned_from=learned,
                                authors=sum(d.stage == "author" for d in decisions), recall_target=self.cfg.recall_target,
                                per_topic=self._per_topic)
            return ScreenResult(decisions=decisions, scores=scores, stats=stats)
        result = self._with_llm(papers, scores, seed, progress)
        result.stats.per_topic = self._per_topic
        return result

    def _cap(self, decisions: list[Decision]) -> list[Decision]:
        """The week's cap on the LLM's accepts, shared across topics (budget.allocate); authors are never cut."""
        candidates = [budget.Candidate(paper_id=d.paper_id, topic=d.topic or "", merit=d.relevance + 0.01 * math.tanh(d.score))
                      for d in decisions if d.accepted and d.stage != "author"]
        taken, self._per_topic = budget.allocate(candidates, self.cfg.max_accepted, self.criteria.topics)
        for d in decisions:
            if d.accepted and d.stage != "author" and d.paper_id not in taken:
                d.accepted, d.capped = False, True
                d.reason += f"; cut by the week's cap ({self.cfg.max_accepted}, shared across topics)"
        return decisions

    def plan(self, papers: list[Paper], scores: list[Score], seed: str) -> Plan:
        """Stage 1's cut: learned for the recall target when the ranker has one, else a share of the ranking."""
        plan = Plan()
        text_of = {p.id: stage1_text(p) for p in papers}
        text_of.update({s.paper_id: "" for s in scores if s.paper_id not in text_of})
        ranked = []
        for s in sorted(scores, key=lambda s: (-s.score, s.paper_id)):
            excluded = self._excluded(text_of[s.paper_id])
            if excluded:
                plan.excluded[s.paper_id] = excluded
            elif s.author_hits:
                plan.authors.append(s.paper_id)
            else:
                ranked.append(s)
        if not self.cfg.prefilter:
            plan.send, plan.cut_by = [s.paper_id for s in ranked], "no prefilter: every paper to the LLM"
            return plan
        n = len(ranked)
        cut = self.ranker.cut
        if cut is not None and n:
            wanted = sum(1 for s in ranked if s.score >= round(cut, 4))  # scores are stored rounded
            lo, hi = math.ceil(self.cfg.min_share * n), max(1, math.floor(self.cfg.max_share * n))
            n_top = min(max(wanted, lo), hi)
            aim = self.ranker.recall_aim
            if aim is not None and aim > self.cfg.recall_target + 5e-4:  # earlier audits raised it (learn_ranker)
                plan.recall_aim = aim
            raised = (f", aimed at {aim:.3f} of its labelled accepts: earlier audits found accepts below earlier cuts"
                      if plan.recall_aim else "")
            plan.cut_by = (f"learned cut for recall {self.cfg.recall_target:.2f} ({self.ranker.n_examples} "
                           f"decisions{raised}), kept within {self.cfg.min_share:.0%}-{self.cfg.max_share:.0%} of the week")
            # the history's recall at the cut this week used: the learned one, unless a share limit moved it
            fit = self.ranker.history_fit(cut if n_top == wanted else ranked[n_top - 1].score)
            if fit is not None:
                plan.ranker_auc, plan.history_recall = round(fit[0], 4), round(fit[1], 4)
            if wanted > hi:  # max_share held the cut back: the recall target is out of reach this week
                plan.wanted_share = round(wanted / n, 4)
        else:
            n_top = max(1, int(round(n * self.cfg.llm_share))) if n else 0
            plan.cut_by = f"cold start: the top {self.cfg.llm_share:.0%} by topic similarity"
        top = [s.paper_id for s in ranked[:n_top]]
        rest = ranked[n_top:]
        plan.cut = ranked[n_top - 1].score if n_top > 0 else None
        plan.forced = [s.paper_id for s in rest if self._included(s)]
        forced = set(plan.forced)
        below = [s.paper_id for s in rest if s.paper_id not in forced]
        plan.send = top + plan.forced
        audit = set(random.Random(f"audit|{seed}").sample(below, min(self.cfg.audit_sample, len(below))))
        plan.audit = [pid for pid in below if pid in audit]
        plan.below = [pid for pid in below if pid not in audit]
        return plan

    def select_for_llm(self, scores: list[Score], seed: str, papers: list[Paper] | None = None) -> tuple[set[str], set[str]]:
        """The ids stage 2 sees (audit included) and the audit sample, without calling the LLM."""
        plan = self.plan(papers or [], scores, seed)
        return set(plan.send) | set(plan.audit), set(plan.audit)

    def _with_llm(self, papers: list[Paper], scores: list[Score], seed: str, progress) -> ScreenResult:
        by_id = {p.id: p for p in papers}
        score_of = {s.paper_id: s for s in scores}
        plan = self.plan(papers, scores, seed)
        batcher = BatchScreener(self.llm, {"interests": self.criteria.interests or "(none given)",
                                           "topics": topics_text(self.criteria.topics), **self._thresholds()},
                                self._criteria_key(), topics=[t.name for t in self.criteria.topics],
                                accept_relevance=self.cfg.accept_relevance)
        first = plan.send + plan.audit
        ranked = [pid for pid in plan.send if pid not in set(plan.forced)]
        n_brief = int(round(len(ranked) * self.cfg.brief_band)) if self.cfg.prefilter else 0
        low = ranked[len(ranked) - n_brief:]
        full = [pid for pid in plan.send if pid not in set(low)]
        bands = AuditBands(plan.send, plan.below, plan.audit, score_of, self.cfg.extend_rounds if self.cfg.prefilter else 0,
                           self.cfg.recall_target, len(papers))
        decisions: dict[str, Decision] = {}
        brief = low + plan.audit if self.cfg.prefilter else list(plan.audit)

        def settled(ids: list[str]) -> None:
            decisions.update({pid: self._decide(by_id[pid], pool.verdicts.get(pid), score_of[pid]) for pid in ids})
            band = bands.next_band(decisions)
            if band:  # into the same pool, while the rest of the screen is still out
                brief.extend(band)
                # with a cost cap, the papers above the cut are read before a band that might use up the budget
                pool.add([], [by_id[pid] for pid in band], ahead=batcher.llm.cfg.max_cost_usd is None)

        pool = self._pool(batcher, progress, settled)
        pool.add([by_id[pid] for pid in full], [by_id[pid] for pid in brief], lead=plan.audit)  # the bands wait on the audit
        pool.run()
        again = set(pool.reread)
        self._brief_only = {pid for pid in brief if pid not in again and len(by_id[pid].abstract) > self.cfg.brief_chars}
        self._rescreened = len(pool.reread)
        above, below, audit, extended = bands.above, bands.below, bands.audit, bands.extended
        plan.cut = bands.cut if bands.cut is not None else plan.cut
        for pid in below:
            s = score_of[pid]
            decisions[pid] = Decision(paper_id=pid, accepted=False, stage="prefilter", relevance=similarity_to_relevance(s.similarity),
                                      novelty=0, score=s.score, reason=self._cut_reason(s, plan.cut))
        progress(len(below))
        for pid, word in plan.excluded.items():
            s = score_of[pid]
            decisions[pid] = Decision(paper_id=pid, accepted=False, stage="prefilter", relevance=similarity_to_relevance(s.similarity),
                                      novelty=0, score=s.score, reason=f"excluded keyword {word!r}")
        for pid in plan.authors:
            s = score_of[pid]
            decisions[pid] = Decision(paper_id=pid, accepted=True, stage="author", relevance=10, novelty=0, topic=s.topic,
                                      score=s.score, reason=f"author match: {', '.join(s.author_hits)}")
        for pid in plan.audit:
            decisions[pid].reason = "[audit sample] " + decisions[pid].reason
        for pid in audit:  # still below the final cut: a uniform draw from the papers there
            decisions[pid].audit_p = round(len(audit) / (len(audit) + len(below)), 6)
        for pid in self._brief_only & set(decisions):
            if decisions[pid].stage == "llm":
                decisions[pid].reason = "[first look, shortened abstract] " + decisions[pid].reason
        for pid in self._flagged & set(decisions):
            decisions[pid].reason += " [its text addressed the screener: ignored]"
        recall, ci = bands.recall(decisions)
        sent = len(first) + extended
        stats = ScreenStats(
            prefilter=self.cfg.prefilter, ranker=self.ranker.name, trained_on=self.ranker.n_examples,
            candidates=len(papers), sent=sent, share_sent=round(sent / len(papers), 4) if papers else 0.0,
            cut_at=plan.cut, cut_by=plan.cut_by, ranker_auc=plan.ranker_auc, history_recall=plan.history_recall,
            wanted_share=plan.wanted_share, recall_aim=plan.recall_aim, forced=len(plan.forced), authors=len(plan.authors), extended=extended,
            extended_positives=sum(decisions[p].accepted for p in bands.bands),
            audit_drawn=len(plan.audit), audit_drawn_positives=sum(decisions[p].accepted for p in plan.audit),
            audit_n=len(audit), audit_positives=sum(decisions[p].accepted for p in audit),
            positives_above=sum(decisions[p].accepted for p in above), below_cut=len(below) + len(audit),
            recall_target=self.cfg.recall_target, recall_estimate=recall, recall_ci=ci,
            unscreened=sum(d.stage == "unscreened" for d in decisions.values()), hallucinated_ids=batcher.stats.hallucinated_ids,
            retried_alone=batcher.stats.retried_alone, injection_flags=len(self._flagged),
            unmatched_topics=batcher.stats.unmatched_topics,
            brief_looks=len(self._brief_only) + self._rescreened, rescreened=self._rescreened,
        )
        ordered = self._cap([decisions[p.id] for p in papers])
        return ScreenResult(decisions=ordered, scores=scores, stats=stats)

    def _pool(self, batcher: BatchScreener, progress, on_settled: Callable[[list[str]], None]) -> ScreenPool:
        """The screening pool: papers sent as `brief` are screened first on their abstract's opening (those with
        low stage-1 scores), and re-read in full, once, when that first look finds they might match but can't
        tell (or fails); a first look sure of its match is taken as it is."""
        chars = self.cfg.brief_chars
        bars = self._thresholds()

        def needs_full_read(paper: Paper, verdict: PaperVerdict | str) -> bool:
            if len(paper.abstract) <= chars:
                return False
            return not isinstance(verdict, PaperVerdict) or bars["reread"] <= verdict.relevance < bars["sure"]

        return ScreenPool(batcher, chars, needs_full_read, progress, on_settled)

    def _thresholds(self) -> dict[str, int]:
        """The numbers the screening prompt states, from config: the accept bar and what a first look leads to."""
        return {"accept": self.cfg.accept_relevance, **first_look_bars(self.cfg.accept_relevance)}

    def _cut_reason(self, s: Score, cut: float | None) -> str:
        where = f"below stage-1 cut: score {s.score:.2f}" + (f" < {cut:.2f}" if cut is not None else "")
        return f"{where} ({self.ranker.name}); nearest topic {s.topic!r} at similarity {s.similarity:.2f}"

    def _decide(self, paper: Paper, verdict: PaperVerdict | str | None, score: Score) -> Decision:
        if not isinstance(verdict, PaperVerdict):
            return Decision(paper_id=paper.id, accepted=False, stage="unscreened", relevance=0, novelty=0,
                            reason=f"unscreened: {verdict or 'no verdict'}", score=score.score)
        relevance, novelty = int(np.clip(verdict.relevance, 1, 10)), int(np.clip(verdict.novelty, 1, 10))
        topic = match_topic(verdict.topic, [t.name for t in self.criteria.topics])
        if topic is None and relevance >= self.cfg.accept_relevance and not is_no_topic(verdict.topic):
            # the transport re-asks such answers; one that got here is reported, never a silent reject
            return Decision(paper_id=paper.id, accepted=False, stage="unscreened", relevance=0, novelty=0, score=score.score,
                            reason="unscreened: answered a topic that matches no topic of the criteria")
        accepted = relevance >= self.cfg.accept_relevance and topic is not None
        return Decision(paper_id=paper.id, accepted=accepted, stage="llm", relevance=relevance, novelty=novelty,
                        topic=topic, reason=verdict.reason[:400], score=score.score)

    def _criteria_key(self) -> str:
        return hashlib.sha256(self.criteria.model_dump_json().encode()).hexdigest()[:16]


def learn_ranker(memory: RunMemory, topic_vectors: np.ndarray, settings: Settings, before_week: str | None = None,
                 embed: Callable[[list[str]], np.ndarray] | None = None, labelled_share: float | None = None) -> Ranker:
    """Stage 1's ranker from the decisions `memory` holds (first seen before `before_week`).

    `embed`: stage 1's own embedder when it is not memory's (the static table): the history's texts are
    embedded with it (what memory stores is only read, never mixed with its vectors). `labelled_share`: the
    share of all accepts the history's labels hold, as the earlier weeks' audits bound it (the upper end of
    their pooled recall's interval): the accepts earlier cuts missed were never labelled, so the cut aims that
    much higher on the labelled ones. Topic similarity on a cold start, when learning is off, or when memory
    can't give its history.
    """
    cfg = settings.screening
    if not cfg.learn or not cfg.prefilter:
        return SimilarityRanker(topic_vectors)
    kw = {"embeddings": False} if embed is not None else {}
    _ids, vectors, labels, weights, texts = memory.labelled_history(
        cfg.history_limit, before_week=before_week, feedback_weight=cfg.feedback_weight, cut_weight=cfg.cut_weight, **kw)
    if len(labels) == 0 or (embed is None and vectors.shape[1] != topic_vectors.shape[1]):
        return SimilarityRanker(topic_vectors)
    judged = weights >= min(0.5, cfg.feedback_weight)  # LLM decisions, feedback, imports: not the unjudged cuts
    keep, weights = thin_cuts(weights, judged)
    texts = [neutralise(texts[i])[0] for i in keep]
    vectors = np.asarray(embed(texts), dtype=np.float32) if embed is not None else vectors[keep]
    repeats = 3 if len(keep) <= 3000 else 2  # a big history: fewer fits, and more positives steady its cut
    return fit_ranker(topic_vectors, vectors, labels[keep], weights, texts=texts,
                      topic_texts=[t.text() for t in settings.criteria.topics],
                      recall_target=min(1.0, cfg.recall_target / labelled_share) if labelled_share else cfg.recall_target,
                      repeats=repeats, judged=judged[keep])


def thin_cuts(weights: np.ndarray, judged: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Keep every judged example, and at most as many never-judged stage-1 cuts (evenly spread, so newest
    and oldest alike), their weight scaled up to stand for the rest: the fit stays fast as memory grows."""
    mask = weights >= 0.5 if judged is None else np.asarray(judged, dtype=bool)
    judged, cuts = np.flatnonzero(mask), np.flatnonzero(~mask)
    room = max(len(judged), 50)
    if len(cuts) <= room:
        return np.arange(len(weights)), weights
    chosen = cuts[np.linspace(0, len(cuts) - 1, room).astype(int)]
    keep = np.sort(np.concatenate([judged, chosen]))
    thinned = weights[keep].copy()
    thinned[np.isin(keep, chosen)] *= len(cuts) / room
    return keep, thinned


def topics_text(topics: list[Topic]) -> str:
    lines = []
    for i, t in enumerate(topics, 1):
        lines.append(f"{i}. {t.name}: {t.description}")
        if t.relevant:
            lines.append(f"   - Relevant: {t.relevant}")
        if t.not_relevant:
            lines.append(f"   - Not relevant: {t.not_relevant}")
    return "\n".join(lines)
