"""Reviewer: a second, differently prompted look at every accept, and its structured summary.

Offline, the check compares the paper with the matched topic's "not relevant" notes against its positive
description, and the summary is extracted from the abstract's own sentences by their rhetorical role.
Bounded by construction: one review per accepted paper, no loops.
"""

from __future__ import annotations

import hashlib

import logging
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel

from brief.agents.llm import LLMClient, LLMError, paper_block
from brief.config import Criteria, Topic
from brief.models import Decision, Paper, Review, Summary
from brief.prompts import load as load_prompt
from brief.text import sentences

log = logging.getLogger(__name__)

_CUES = {
    "method": r"\b(we (propose|present|introduce|develop|design|build|study|investigate|formulate)|this (paper|work|study)|our (method|approach|framework|model|system))\b",
    "problem": r"\b(challeng\w*|however|remain\w*|limit\w*|lack\w*|difficult\w*|struggl\w*|bottleneck|costly|expensive|fail\w*|problem)\b",
    "results": r"(\d+(\.\d+)?\s?%|\boutperform\w*|\bachiev\w*|\bimprov\w*|\bstate-of-the-art\b|\bsota\b|\bexperiments?\b|\bresults? (show|demonstrate)|\bsurpass\w*|\bgains?\b)",
    "limitations": r"\b(limitation\w*|future work|does not|do not|cannot|fails? to|restricted to|only (works|applies)|leave\w* .* open)\b",
}


class ReviewVerdict(BaseModel):
    confirmed: bool
    reason: str
    summary: Summary


def _first(candidates: list[str], kind: str, exclude: set[str]) -> str:
    pattern = re.compile(_CUES[kind], re.IGNORECASE)
    return next((s for s in candidates if s not in exclude and pattern.search(s)), "")


def extract_summary(paper: Paper) -> Summary:
    """Pick the abstract's sentences that state its problem, method, results and limitations.

    Every field is a verbatim sentence of the abstract (or empty), so the summary is grounded by
    construction; the tldr is the method sentence, the paper's own statement of what it does.
    """
    sents = sentences(paper.abstract) or ([paper.abstract] if paper.abstract else [])
    method = _first(sents, "method", set())
    method_at = sents.index(method) if method in sents else 0
    problem = _first(sents[: max(method_at, 1)], "problem", {method}) or (sents[0] if sents and sents[0] != method else "")
    results = _first(sents[method_at + 1 :], "results", {method, problem})
    limitations = _first(sents[method_at + 1 :], "limitations", {method, problem, results})
    tldr = method or (sents[0] if sents else paper.title)
    return Summary(
        tldr=_clip(tldr),
        problem=_clip(problem),
        method=_clip(method),
        results=_clip(results),
        limitations=_clip(limitations) or "not stated in the abstract",
    )


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class Reviewer:
    def __init__(self, criteria: Criteria, llm: LLMClient | None, embed=None, margin: float = 0.05):
        self.criteria = criteria
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
        out: dict[str, Review] = {}
        with ThreadPoolExecutor(max_workers=self.llm.cfg.concurrency) as pool:
            for paper, review in zip(accepted, pool.map(lambda p: self._with_llm(p, decisions[p.id]), accepted)):
                out[paper.id] = review
                progress(1)
        return out

    def _offline(self, papers: list[Paper], decisions: dict[str, Decision]) -> dict[str, Review]:
        reviews: dict[str, Review] = {}
        checks = self._negative_margins(papers, decisions)
        for paper in papers:
            decision = decisions[paper.id]
            margin = checks.get(paper.id)
            if decision.stage == "author":
                confirmed, reason = True, "kept: author on the watch-list"
            elif margin is not None and margin > self.margin:
                confirmed = False
                reason = f"closer to {decision.topic!r}'s 'not relevant' notes than to the topic (by {margin:.2f})"
            else:
                confirmed, reason = True, "consistent with the topic; not closer to its 'not relevant' notes"
            reviews[paper.id] = Review(paper_id=paper.id, confirmed=confirmed, reason=reason, summary=extract_summary(paper))
        return reviews

    def _negative_margins(self, papers: list[Paper], decisions: dict[str, Decision]) -> dict[str, float]:
        """similarity(paper, not-relevant notes) − similarity(paper, topic), per paper with such notes."""
        if self.embed is None:
            return {}
        pairs = [(p, self.topic(decisions[p.id].topic)) for p in papers]
        pairs = [(p, t) for p, t in pairs if t is not None and t.not_relevant]
        if not pairs:
            return {}
        paper_vecs = self.embed([p.text_for_embedding() for p, _ in pairs])
        pos = self.embed([t.text() for _, t in pairs])
        neg = self.embed([t.not_relevant for _, t in pairs])
        margins = np.sum(paper_vecs * neg, axis=1) - np.sum(paper_vecs * pos, axis=1)
        return {p.id: float(m) for (p, _), m in zip(pairs, margins)}

    def _with_llm(self, paper: Paper, decision: Decision) -> Review:
        topic = self.topic(decision.topic)
        values = {
            "topic_name": topic.name if topic else "(watch-list author)",
            "topic_description": topic.description if topic else "",
            "topic_relevant": topic.relevant if topic else "",
            "topic_not_relevant": topic.not_relevant if topic else "",
            "paper": paper_block(paper),
        }
        # the topic's text is part of the key: editing a topic's notes re-reviews its papers
        criteria = hashlib.sha256("\x00".join(str(values[k]) for k in values if k.startswith("topic_")).encode()).hexdigest()[:16]
        key = f"{paper.id}v{paper.version or 0}|{decision.topic}|{criteria}"
        try:
            verdict = self.llm.ask(ReviewVerdict, load_prompt("review"), values, stage="review", key=key)
        except LLMError as exc:
            log.warning("review of %s failed (%s): kept with an extracted summary", paper.id, exc)
            return Review(paper_id=paper.id, confirmed=True, reason=f"review failed ({exc}); kept on the screener's word",
                          summary=extract_summary(paper))
        if decision.stage == "author" and not verdict.confirmed:
            verdict.confirmed, verdict.reason = True, "kept: author on the watch-list (reviewer: " + verdict.reason + ")"
        summary, replaced = ground_summary(verdict.summary, paper)
        reason = verdict.reason + (f" [summary {', '.join(replaced)} replaced by the abstract's own words: "
                                   "they stated numbers the abstract does not]" if replaced else "")
        return Review(paper_id=paper.id, confirmed=verdict.confirmed, reason=reason, summary=summary)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def ground_summary(summary: Summary, paper: Paper) -> tuple[Summary, list[str]]:
    """Replace any LLM summary field that states a number the abstract doesn't with the extracted one.

    Invented figures are the most damaging hallucination in a summary and the easiest to catch: every
    number a field states must appear in the title or abstract. Returns (summary, fields replaced).
    """
    source = f"{paper.title} {paper.abstract}"
    known = {n.replace(",", "") for n in _NUMBER.findall(source)}
    extracted = None
    fixed, replaced = summary.model_copy(), []
    for field in ("tldr", "problem", "method", "results", "limitations"):
        value = getattr(fixed, field)
        if any(n.replace(",", "") not in known for n in _NUMBER.findall(value)):
            extracted = extracted or extract_summary(paper)
            setattr(fixed, field, getattr(extracted, field))
            replaced.append(field)
    return fixed, replaced
