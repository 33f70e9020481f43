"""Screener: decides which of the week's papers match the user's criteria.

Stage 1 is local and cheap: every paper is scored against every topic (embedding similarity, keywords,
the author watch-list). Offline, stage 1 decides alone. With an LLM, only the top of stage 1's ranking
(plus watch-list and keyword hits, plus a small random audit sample from below the cut) goes to the LLM
in batches; papers cut at stage 1 keep their score and reason.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel, Field

from brief.agents.llm import BudgetExceeded, LLMClient, LLMError, paper_block
from brief.config import Criteria, ScreeningConfig, Topic
from brief.models import Decision, Paper, Score
from brief.prompts import load as load_prompt

log = logging.getLogger(__name__)


class PaperVerdict(BaseModel):
    id: str
    relevance: int = Field(description="1-10, per the rubric")
    novelty: int = Field(description="1-10, per the rubric")
    topic: str = Field(description="exact topic name, or 'none'")
    reason: str = Field(description="one sentence")


class ScreenBatch(BaseModel):
    results: list[PaperVerdict]


def _norm_name(name: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", name.lower()).split())


def _has(text: str, phrase: str) -> bool:
    return re.search(r"\b" + re.escape(phrase.lower()) + r"\b", text) is not None


def similarity_to_relevance(similarity: float) -> int:
    """Map cosine similarity onto the LLM's 1-10 scale (0.15 → 1, 0.60 → 10) so reports read alike."""
    return int(np.clip(round(1 + 9 * (similarity - 0.15) / 0.45), 1, 10))


class Screener:
    def __init__(self, criteria: Criteria, cfg: ScreeningConfig, topic_vectors: np.ndarray, llm: LLMClient | None):
        self.criteria = criteria
        self.cfg = cfg
        self.topic_vectors = topic_vectors
        self.llm = llm
        self._watch = {_norm_name(a) for a in criteria.authors}

    # -- stage 1 ---------------------------------------------------------------------------------------

    def prefilter(self, papers: list[Paper], vectors: np.ndarray) -> list[Score]:
        sims = vectors @ self.topic_vectors.T if len(papers) else np.zeros((0, len(self.criteria.topics)))
        scores = []
        for paper, row in zip(papers, sims):
            text = f"{paper.title} {paper.abstract}".lower()
            best = int(np.argmax(row))
            topic = self.criteria.topics[best]
            hits = [k for t in self.criteria.topics for k in t.keywords if _has(text, k)]
            hits += [k for k in self.criteria.include_keywords if _has(text, k)]
            authors = [a for a in paper.authors if _norm_name(a) in self._watch]
            score = float(row[best]) + 0.03 * min(len(set(hits)), 3)
            scores.append(
                Score(paper_id=paper.id, score=round(score, 4), similarity=round(float(row[best]), 4),
                      topic=topic.name, keyword_hits=sorted(set(hits)), author_hits=authors)
            )
        return scores

    def _threshold(self, topic_name: str | None) -> float:
        topic = next((t for t in self.criteria.topics if t.name == topic_name), None)
        return topic.threshold if topic and topic.threshold is not None else self.cfg.similarity_threshold

    def _excluded(self, paper: Paper) -> str | None:
        text = f"{paper.title} {paper.abstract}".lower()
        return next((k for k in self.criteria.exclude_keywords if _has(text, k)), None)

    # -- decisions -------------------------------------------------------------------------------------

    def screen(self, papers: list[Paper], vectors: np.ndarray, seed: str = "", progress=lambda n=1: None) -> list[Decision]:
        scores = self.prefilter(papers, vectors)
        if self.llm is None:
            return self._offline(papers, scores)
        return self._with_llm(papers, scores, seed, progress)

    def _offline(self, papers: list[Paper], scores: list[Score]) -> list[Decision]:
        decisions = []
        for paper, s in zip(papers, scores):
            excluded = self._excluded(paper)
            if s.author_hits and not excluded:
                decisions.append(Decision(paper_id=paper.id, accepted=True, stage="author", relevance=10, novelty=0,
                                          topic=s.topic, reason=f"author match: {', '.join(s.author_hits)}", score=s.score))
                continue
            ok = excluded is None and s.score >= self._threshold(s.topic)
            why = (f"excluded keyword {excluded!r}" if excluded else
                   f"similarity {s.similarity:.2f} to {s.topic!r}" + (f", keywords: {', '.join(s.keyword_hits)}" if s.keyword_hits else ""))
            decisions.append(Decision(paper_id=paper.id, accepted=ok, stage="offline", relevance=similarity_to_relevance(s.score),
                                      novelty=0, topic=s.topic if ok else None, reason=why, score=s.score))
        return self._cap(decisions)

    def _cap(self, decisions: list[Decision]) -> list[Decision]:
        accepted = sorted((d for d in decisions if d.accepted and d.stage != "author"), key=lambda d: (-d.relevance, -d.score))
        for d in accepted[self.cfg.max_accepted:]:
            d.accepted = False
            d.reason += f"; below this week's top {self.cfg.max_accepted}"
        return decisions

    def select_for_llm(self, scores: list[Score], seed: str) -> tuple[set[str], set[str]]:
        """The ids stage 2 sees: the top share of the ranking, every watch-list/keyword hit, and an audit sample."""
        ranked = sorted(scores, key=lambda s: -s.score)
        n_top = max(1, int(round(len(ranked) * self.cfg.llm_share)))
        chosen = {s.paper_id for s in ranked[:n_top]}
        chosen |= {s.paper_id for s in ranked if s.author_hits or s.keyword_hits}
        below = [s.paper_id for s in ranked if s.paper_id not in chosen]
        audit = set(random.Random(seed).sample(below, min(self.cfg.audit_sample, len(below))))
        return chosen | audit, audit

    def _with_llm(self, papers: list[Paper], scores: list[Score], seed: str, progress) -> list[Decision]:
        by_id = {p.id: p for p in papers}
        score_of = {s.paper_id: s for s in scores}
        send, audit = self.select_for_llm(scores, seed)
        decisions: dict[str, Decision] = {}
        for paper in papers:
            s = score_of[paper.id]
            excluded = self._excluded(paper)
            if excluded or paper.id not in send:
                reason = f"excluded keyword {excluded!r}" if excluded else f"below stage-1 cut (similarity {s.similarity:.2f})"
                decisions[paper.id] = Decision(paper_id=paper.id, accepted=False, stage="prefilter",
                                               relevance=similarity_to_relevance(s.score), novelty=0, reason=reason, score=s.score)
        queue = sorted((p for p in papers if p.id not in decisions), key=lambda p: -score_of[p.id].score)
        size = self.llm.cfg.batch_size
        batches = [queue[i:i + size] for i in range(0, len(queue), size)]
        with ThreadPoolExecutor(max_workers=self.llm.cfg.concurrency) as pool:
            for batch, verdicts in zip(batches, pool.map(self._screen_batch, batches)):
                for paper in batch:
                    decisions[paper.id] = self._decide(paper, verdicts.get(paper.id), score_of[paper.id])
                progress(len(batch))
        for paper in papers:
            d = decisions[paper.id]
            if paper.id in audit:
                d.reason = "[audit sample] " + d.reason
            if score_of[paper.id].author_hits and d.stage != "unscreened":
                d.accepted, d.stage = True, "author"
                d.reason = f"author match: {', '.join(score_of[paper.id].author_hits)}; " + d.reason
        return self._cap([decisions[p.id] for p in papers])

    def _decide(self, paper: Paper, verdict: PaperVerdict | str | None, score: Score) -> Decision:
        if not isinstance(verdict, PaperVerdict):
            return Decision(paper_id=paper.id, accepted=False, stage="unscreened", relevance=0, novelty=0,
                            reason=f"unscreened: {verdict or 'no verdict'}", score=score.score)
        relevance, novelty = int(np.clip(verdict.relevance, 1, 10)), int(np.clip(verdict.novelty, 1, 10))
        topic = verdict.topic if any(t.name == verdict.topic for t in self.criteria.topics) else None
        accepted = relevance >= self.cfg.accept_relevance and topic is not None
        return Decision(paper_id=paper.id, accepted=accepted, stage="llm", relevance=relevance, novelty=novelty,
                        topic=topic, reason=verdict.reason[:400], score=score.score)

    def _screen_batch(self, batch: list[Paper]) -> dict[str, PaperVerdict | str]:
        """One batched call; hallucinated ids are ignored, missing ones retried alone once."""
        got = self._ask(batch)
        if isinstance(got, str):
            if len(batch) == 1:
                return {batch[0].id: got}
            results: dict[str, PaperVerdict | str] = {}
            for paper in batch:
                results.update(self._screen_batch([paper]))
            return results
        wanted = {p.id for p in batch}
        verdicts = {v.id: v for v in got.results if v.id in wanted}
        for stray in {v.id for v in got.results} - wanted:
            log.warning("screener answered for id %r that was not in its batch: ignored (hallucinated)", stray)
        for paper in batch:
            if paper.id not in verdicts and len(batch) > 1:
                retry = self._ask([paper])
                verdicts[paper.id] = next((v for v in getattr(retry, "results", []) if v.id == paper.id),
                                          retry if isinstance(retry, str) else "missing from the answer twice")
            elif paper.id not in verdicts:
                verdicts[paper.id] = "missing from the answer"
        return verdicts

    def _ask(self, batch: list[Paper]) -> ScreenBatch | str:
        prompt = load_prompt("screen")
        key = "|".join(f"{p.id}v{p.version or 0}" for p in batch) + "|" + self._criteria_key()
        values = {
            "interests": self.criteria.interests or "(none given)",
            "topics": topics_text(self.criteria.topics),
            "count": len(batch),
            "papers": "\n\n".join(paper_block(p) for p in batch),
        }
        try:
            return self.llm.ask(ScreenBatch, prompt, values, stage="screen", key=key)
        except BudgetExceeded as exc:
            return str(exc)
        except LLMError as exc:
            log.warning("screening batch failed: %s", exc)
            return str(exc)

    def _criteria_key(self) -> str:
        return hashlib.sha256(self.criteria.model_dump_json().encode()).hexdigest()[:16]


def topics_text(topics: list[Topic]) -> str:
    lines = []
    for i, t in enumerate(topics, 1):
        lines.append(f"{i}. {t.name}: {t.description}")
        if t.relevant:
            lines.append(f"   - Relevant: {t.relevant}")
        if t.not_relevant:
            lines.append(f"   - Not relevant: {t.not_relevant}")
    return "\n".join(lines)
