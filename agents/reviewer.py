"""Reviewer: a second, differently prompted look at every accept, and its structured summary.

Offline, the check compares the paper with the matched topic's "not relevant" notes against the topic's
evidence, and rejects accepts far from every topic (another field); the summary is extracted from the abstract's
own sentences by their rhetorical role (agents/summary_roles.py).
Bounded by construction: each accepted paper is reviewed once (a topic's papers a few to a call, agents/review_llm.py),
and asked again alone at most once; no loops.
"""

from __future__ import annotations

import logging

from brief.agents.review_llm import BatchReviewer
from brief.protocols import LLM
from brief.agents.topic_evidence import TopicEvidence
from brief.config import Criteria, Topic
from brief.agents.summary_roles import extract_summary, ground_summary
from brief.models import Decision, Paper, Review, Summary

log = logging.getLogger(__name__)
OFF_FIELD = 0.25  # below this best similarity to any topic's evidence, an accept is from another field


class Reviewer:
    def __init__(self, criteria: Criteria, llm: LLM | None, embed=None, margin: float = 0.05,
                 language: str | None = None):
        self.criteria = criteria
        self.language = language  # [report] language: the LLM's summary is written in it
        self.llm = llm
        self.embed = embed
        self.margin = margin

    def topic(self, name: str | None) -> Topic | None:
        return next((t for t in self.criteria.topics if t.name == name), None)

    def review_all(self, papers: list[Paper], decisions: dict[str, Decision], progress=lambda n=1: None) -> dict[str, Review]:
        accepted = [p for p in papers if decisions[p.id].accepted]
        if self.llm is None:
            reviews = self._offline(accepted, decisions)
            progress(len(accepted))
            return reviews
        return self._with_llm(self.llm, accepted, decisions, progress)

    def _offline(self, papers: list[Paper], decisions: dict[str, Decision]) -> dict[str, Review]:
        reviews: dict[str, Review] = {}
        doubts = self._doubts(papers, decisions)
        for paper in papers:
            decision = decisions[paper.id]
            if decision.stage == "author":
                confirmed, reason = True, "kept: author on the watch-list"
            elif paper.id in doubts:
                confirmed, reason = False, doubts[paper.id]
            else:
                confirmed, reason = True, "consistent with the topic; not closer to its 'not relevant' notes"
            reviews[paper.id] = Review(paper_id=paper.id, confirmed=confirmed, reason=reason, summary=extract_summary(paper))
        return reviews

    def _doubts(self, papers: list[Paper], decisions: dict[str, Decision]) -> dict[str, str]:
        """Why an accept fails the offline check: its matched topic's "not relevant" notes fit it better
        than the topic does (by more than `margin`), or it is far from every topic (another field)."""
        names = [t.name for t in self.criteria.topics]
        pairs = [(p, names.index(decisions[p.id].topic)) for p in papers
                 if decisions[p.id].stage != "author" and decisions[p.id].topic in names]
        if self.embed is None or not pairs:
            return {}
        topic_vectors = self.embed([t.text() for t in self.criteria.topics])
        evidence = TopicEvidence(self.criteria.topics, self.embed, topic_vectors)
        found = evidence.score(self.embed([p.text_for_embedding() for p, _ in pairs]))
        out = {}
        for i, (paper, t) in enumerate(pairs):
            support, against = found.best_item[i, t], found.against_notes[i, t]
            if against - support > self.margin:
                out[paper.id] = f"closer to {names[t]!r}'s 'not relevant' notes than to the topic (by {against - support:.2f})"
            elif found.support[i].max() < OFF_FIELD:
                out[paper.id] = f"far from every topic (best similarity {found.support[i].max():.2f}): another field"
        return out

    def _with_llm(self, llm: LLM, papers: list[Paper], decisions: dict[str, Decision], progress) -> dict[str, Review]:
        verdicts = BatchReviewer(llm, self.language).review([(p, self.topic(decisions[p.id].topic)) for p in papers],
                                                                 progress)
        reviews = {}
        for paper in papers:
            verdict = verdicts.get(paper.id, "missing from the answer")
            if isinstance(verdict, str):
                reviews[paper.id] = Review(paper_id=paper.id, confirmed=True, summary=extract_summary(paper),
                                           reason=f"{verdict}; kept on the screener's word")
                continue
            confirmed, reason = verdict.confirmed, verdict.reason
            if decisions[paper.id].stage == "author" and not confirmed:
                confirmed, reason = True, "kept: author on the watch-list (reviewer: " + reason + ")"
            summary, replaced = ground_summary(Summary(**verdict.summary.model_dump()), paper, self.language)
            reason += (f" [summary {', '.join(replaced)} replaced by the abstract's own words: they "
                       "stated numbers the abstract does not, or results without an outcome]" if replaced else "")
            reviews[paper.id] = Review(paper_id=paper.id, confirmed=confirmed, reason=reason, summary=summary)
        return reviews
