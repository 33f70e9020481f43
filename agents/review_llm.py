"""The reviewer's transport: a second look at the accepts, a few papers of one topic to a call, cached per paper.

A call carries one topic's notes and up to `[llm] review_batch_size` of its accepts (fewer when `max_tokens.review`
has no room for their answers, or `context_tokens` none for their abstracts), so the instructions and the topic are
sent once for several papers instead of once for each. Answers are read as the screener's are: an id matched
after normalising, or by its number in the batch. Each paper's verdict is validated on its own (a reason, a tldr
that is a sentence) and only a valid one is cached, under the paper's own key, so a re-run costs no call however
the batches fall. A paper of a batch left without a valid verdict is asked again alone, as is every paper of a
batch whose call failed; a paper that still has none gets the reason why (the reviewer keeps it on the
screener's word).
"""

from __future__ import annotations

import hashlib
import logging
import re
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from pydantic import BaseModel, Field

from brief.agents.llm import CallsStopped, LLMError, paper_block, warn_fallback
from brief.agents.llm_protocol import answer_room, match_ids, one_verdict_each, pack
from brief.config import Topic
from brief.models import Paper
from brief.prompts import load as load_prompt
from brief.protocols import LLM

log = logging.getLogger(__name__)
ANSWER_TOKENS = 400  # room one paper's review takes in the answer: a reason and five short summary fields


class SummaryAnswer(BaseModel):
    """The summary as the model is asked for it: every field required (no defaults, for strict mode)."""

    tldr: str
    problem: str
    method: str
    results: str
    limitations: str


class ReviewVerdict(BaseModel):
    """One paper's review: the reason before the decision it supports; no defaults (strict structured output
    rejects them)."""

    id: str = Field(description="the paper's id, copied exactly")
    reason: str
    confirmed: bool
    summary: SummaryAnswer


class ReviewBatch(BaseModel):
    results: list[ReviewVerdict]


def review_problem(verdict: ReviewVerdict) -> str | None:
    """A review is shown only with a reason and a tldr that is a sentence (not "x", not empty)."""
    if not verdict.reason.strip():
        return "no reason given"
    if len(re.findall(r"[^\W\d_]{2,}", verdict.summary.tldr)) < 3:
        return "the tldr is not a sentence"  # never quoted: text that failed validation stays out of the report
    return None


def _answer_problem(answer: ReviewBatch, batch: list[Paper]) -> str | None:
    """An answer with no valid review of a paper of its batch is no answer: asked once more, and not cached.
    (A batch of one is then asked as a single review always was; a batch of several sends only the papers
    left without a valid review back, to be asked alone.)"""
    matched = [v for v, pid in zip(answer.results, match_ids([v.id for v in answer.results], batch)) if pid is not None]
    if not matched:
        return "its reviews name no paper of the batch"
    problems = [review_problem(v) for v in matched]
    return None if None in problems else problems[0]


class BatchReviewer:
    """Reviews accepts through one LLM client, a topic's papers a few to a call; a verdict or a failure reason
    per paper."""

    def __init__(self, llm: LLM, language: str | None = None):
        self.llm = llm
        self.prompt = load_prompt("review", language)
        self._blocks: dict[str, str] = {}  # a paper's escaped block, built once for sizing its batch and sending it

    def review(self, work: list[tuple[Paper, Topic | None]], progress=lambda n=1: None) -> dict[str, ReviewVerdict | str]:
        """A verdict, or why there is none, for each (paper, the topic it was accepted for; None: a watch-list
        author's paper)."""
        topics = {paper.id: topic for paper, topic in work}
        out: dict[str, ReviewVerdict | str] = {}
        todo = []
        for paper, topic in work:
            hit = self.llm.cached(ReviewVerdict, self._paper_key(paper, topic), review_problem)
            if hit is None:
                todo.append(paper)
            else:
                out[paper.id] = hit
        if out:
            self.llm.meter.add("review", 0, 0, cached=True)
            progress(len(out))
        batches = self._batches(todo, topics)
        with ThreadPoolExecutor(max_workers=self.llm.cfg.concurrency) as pool:
            pending = {pool.submit(self._review_batch, batch, topics, False) for batch in batches}
            while pending:  # a batch's papers to ask again alone go out as soon as it returns, not after the round
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done, again = future.result()
                    out.update(done)
                    progress(len(done))
                    pending |= {pool.submit(self._review_batch, [paper], topics, True) for paper in again}
        return out

    def _batches(self, papers: list[Paper], topics: dict[str, Topic | None]) -> list[list[Paper]]:
        """A topic's papers in order, up to `review_batch_size` a call, fewer when their answers would not fit
        `max_tokens.review` or (with `context_tokens` set) the prompt and its answer the server's window."""
        step = max(1, min(self.llm.cfg.review_batch_size, answer_room(self.llm.cfg, "review", ANSWER_TOKENS)))
        window = getattr(self.llm.cfg, "context_tokens", None)
        out: list[list[Paper]] = []
        for name in dict.fromkeys(_name(topics[p.id]) for p in papers):
            group = [p for p in papers if _name(topics[p.id]) == name]
            fixed = (len(self.prompt.system) + len(self.prompt.render_user(**_topic_values(topics[group[0].id]),
                                                                           count=0, papers=""))) / 4
            out += pack(group, step, window, fixed, lambda paper: len(self._block(paper)) / 4 + ANSWER_TOKENS)
        return out

    def _review_batch(self, batch: list[Paper], topics: dict[str, Topic | None],
                      retry: bool) -> tuple[dict[str, ReviewVerdict | str], list[Paper]]:
        """(final verdicts or failure reasons, papers to ask again alone): only a batch of several, on its
        first try, sends papers back."""
        topic = topics[batch[0].id]
        send_back = len(batch) > 1 and not retry
        try:
            answer = self.llm.ask(ReviewBatch, self.prompt, {**_topic_values(topic), "count": len(batch),
                                                             "papers": "\n\n".join(self._block(p) for p in batch)},
                                  stage="review", key=self._batch_key(batch, topic, retry),
                                  wire=one_verdict_each(ReviewBatch, [p.id for p in batch]),
                                  validate=lambda got: _answer_problem(got, batch))
        except LLMError as exc:
            if send_back and not isinstance(exc, CallsStopped):
                return {}, batch
            warn_fallback(log, exc, "review of %s failed (%s)", ", ".join(p.id for p in batch), exc)
            return {p.id: f"review failed ({exc})" for p in batch}, []
        found: dict[str, ReviewVerdict | str] = {}
        for verdict, pid in zip(answer.results, match_ids([v.id for v in answer.results], batch)):
            if pid is not None and not isinstance(found.get(pid), ReviewVerdict):
                mine = verdict.model_copy(update={"id": pid})
                found[pid] = review_problem(mine) or mine
        done: dict[str, ReviewVerdict | str] = {}
        again: list[Paper] = []
        for paper in batch:
            got = found.get(paper.id, "missing from the answer")
            if isinstance(got, ReviewVerdict):
                self.llm.remember(self._paper_key(paper, topic), got)
                done[paper.id] = got
            elif send_back:
                again.append(paper)
            else:
                log.warning("review of %s failed (%s)", paper.id, got)
                done[paper.id] = f"review failed ({got})"
        return done, again

    def _block(self, paper: Paper) -> str:
        # without authors, as screening: a review judges the work, and a name neither confirms nor rejects it
        if paper.id not in self._blocks:
            self._blocks[paper.id] = paper_block(paper, authors=False)
        return self._blocks[paper.id]

    def _paper_key(self, paper: Paper, topic: Topic | None) -> str:
        return self.llm.cache_key(self.prompt, f"paper|{paper.id}v{paper.version or 0}|{_notes_key(topic)}")

    def _batch_key(self, batch: list[Paper], topic: Topic | None, retry: bool) -> str:
        # a re-ask alone is a new question, not the cached failure of the same paper's first ask
        return "|".join(f"{p.id}v{p.version or 0}" for p in batch) + f"|{_notes_key(topic)}" + ("|again" if retry else "")


def _name(topic: Topic | None) -> str:
    return topic.name if topic else "(watch-list author)"


def _topic_values(topic: Topic | None) -> dict[str, str]:
    return {"topic_name": _name(topic), "topic_description": topic.description if topic else "",
            "topic_relevant": topic.relevant if topic else "", "topic_not_relevant": topic.not_relevant if topic else ""}


def _notes_key(topic: Topic | None) -> str:
    """The topic and its notes as part of the question: editing them asks again."""
    values = _topic_values(topic)
    asked = "\x00".join(values[k] for k in ("topic_name", "topic_description", "topic_relevant", "topic_not_relevant"))
    return hashlib.sha256(asked.encode()).hexdigest()[:16]

