"""Link check: with a model, every proposed link is read as a reader would, and only specific ties stay.

memory/links.py proposes each new paper's earlier papers from what vectors and shared terms show. Those
cannot tell "the same specific problem, method or benchmark" from "the same broad area": a blind reading
judge called 11 of 30 offline links related and 18 loose (evals/data/judge/links-W24-W25), and no offline
score separated the two. A model reading both papers can. One call a new paper, its proposed links together
(the opening of each abstract: the problem and the method are stated there); a link the model calls "same
area only" or "unrelated" is dropped, the others show the model's reason. An answer that fails validation
(an unknown id, a tie outside the list, an empty reason, no verdict at all) is asked once more, then the paper
keeps its links unchecked and the run says so. An answer that leaves some ids out keeps the verdicts it gives
(weak models do this: SmolLM2 drops one of two), and the ones it left out are asked about on their own, once;
what is still unanswered stays unchecked.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

from brief.agents.llm import LLMError, paper_block, warn_fallback
from brief.agents.llm_protocol import norm_id, one_verdict_each, verdicts_problem
from brief.agents.review_pool import paper_of
from brief.models import Link, Paper
from brief.prompts import load as load_prompt
from brief.protocols import LLM

if TYPE_CHECKING:
    from brief.memory.records import Record

log = logging.getLogger(__name__)

SPECIFIC = ("same problem", "same method", "same benchmark or data")
TIES = (*SPECIFIC, "same area only", "unrelated")
EXCERPT_CHARS = 500  # of each abstract: where the problem and the method are stated
REASON_CHARS = 200


def _tie(answer: str) -> str | None:
    """A tie as models write it ("Same method", "same_benchmark", "same dataset") → one of TIES, or None."""
    words = " ".join(str(answer).lower().replace("_", " ").replace("-", " ").split())
    for tie in TIES:
        if words == tie or words.startswith(tie.split(" or ")[0]):
            return tie
    return {"same data": "same benchmark or data", "same dataset": "same benchmark or data",
            "same area": "same area only"}.get(words)


class TieVerdict(BaseModel):
    """One earlier paper's tie to the new one; the reason before the tie it supports, no defaults (strict mode)."""

    id: str = Field(description="the earlier paper's id, copied exactly")
    reason: str = Field(description="one short phrase")
    tie: str = Field(description="one of: " + "; ".join(TIES))

    @field_validator("tie")
    @classmethod
    def _known_tie(cls, value: str) -> str:
        tie = _tie(value)
        if tie is None:
            raise ValueError(f"tie must be one of {', '.join(TIES)}")
        return tie


class LinkCheck(BaseModel):
    results: list[TieVerdict]


class CheckResult(BaseModel):
    links: dict[str, list[Link]]
    read: int = 0  # proposed links the model read
    ties: dict[str, int] = Field(default_factory=dict)  # verdicts by tie
    unchecked: int = 0  # proposed links shown unchecked (no valid verdict for them)

    def note(self) -> str | None:
        """What the model did to the week's links, for the briefing's notes."""
        if not self.read and not self.unchecked:
            return None
        kept = sum(self.ties.get(t, 0) for t in SPECIFIC)
        dropped = ", ".join(f"{self.ties[t]} {t}" for t in TIES[3:] if self.ties.get(t))
        text = (f"links: the model read {self.read} proposed links and kept the {kept} that share a specific problem, "
                f"method or benchmark" + (f" (dropped: {dropped})" if dropped else ""))
        if self.unchecked:
            text += f"; {self.unchecked} link(s) stay unchecked (the model gave no valid verdict for them)"
        return text


class LinkChecker:
    def __init__(self, llm: LLM, earlier: Callable[[list[str]], dict[str, Record]]):
        """`earlier(ids)`: the memory records (title, authors, categories, abstract) of those it holds."""
        self.llm = llm
        self.earlier = earlier
        self.prompt = load_prompt("link_check")

    def check(self, papers: list[Paper], proposed: dict[str, list[Link]]) -> CheckResult:
        """The links a model finds specific, each with its reason; a link it gave no valid verdict for stays."""
        # an earlier version of the paper itself (memory/links.same_work) is no tie to read: it stays, first
        kept = {pid: [link for link in ls if link.same_work] for pid, ls in proposed.items()}
        links = {pid: [link for link in ls if not link.same_work] for pid, ls in proposed.items()}
        asked = [p for p in papers if links.get(p.id)]
        out = CheckResult(links=dict(proposed))
        # one read of memory before the calls, so they all go out at once
        records = self.earlier(sorted({link.id for p in asked for link in links[p.id]}))
        blocks = {link.id: paper_block(paper_of(records[link.id]) if link.id in records else
                                       Paper(id=link.id, title=link.title), EXCERPT_CHARS)
                  for p in asked for link in links[p.id]}
        with ThreadPoolExecutor(max_workers=max(1, self.llm.cfg.concurrency)) as pool:
            for paper, verdicts in zip(asked, pool.map(lambda p: self._verdicts(p, links[p.id], blocks), asked)):
                out.read += len(verdicts)
                out.unchecked += len(links[paper.id]) - len(verdicts)
                out.ties = dict(Counter(out.ties) + Counter(v.tie for v in verdicts.values()))
                out.links[paper.id] = kept[paper.id] + [
                    link if link.id not in verdicts else
                    link.model_copy(update={"tie": verdicts[link.id].tie, "reason": _reason(verdicts[link.id])})
                    for link in links[paper.id] if link.id not in verdicts or verdicts[link.id].tie in SPECIFIC]
        return out

    def _verdicts(self, paper: Paper, links: list[Link], blocks: dict[str, str]) -> dict[str, TieVerdict]:
        """Verdicts by link id: all the links asked together, then the ones the answer left out on their own."""
        verdicts = self._ask(paper, links, blocks, complete=False)
        if verdicts and (left := [link for link in links if link.id not in verdicts]):
            verdicts |= self._ask(paper, left, blocks, complete=True)
        return verdicts

    def _ask(self, paper: Paper, links: list[Link], blocks: dict[str, str], complete: bool) -> dict[str, TieVerdict]:
        ids = [link.id for link in links]
        earlier = "\n".join(blocks[link.id] for link in links)
        values = {"paper": paper_block(paper, EXCERPT_CHARS), "count": len(ids), "earlier": earlier}
        key = f"{paper.id}v{paper.version or 0}|{','.join(sorted(ids))}"
        try:
            answer = self.llm.ask(LinkCheck, self.prompt, values, stage="link", key=key,
                                  wire=one_verdict_each(LinkCheck, ids, tie=list(TIES)),
                                  validate=lambda a: verdicts_problem(a, ids, complete))
        except LLMError as exc:
            warn_fallback(log, exc, "link check of %s failed (%s): %d link(s) stay unchecked", paper.id, exc, len(ids))
            return {}
        by_norm = {norm_id(i): i for i in ids}
        return {by_norm[norm_id(v.id)]: v for v in answer.results}


def _reason(verdict: TieVerdict) -> str:
    """The model's phrase as the link's reason: one line, clipped, after the tie it names."""
    text = " ".join(verdict.reason.split())
    if len(text) > REASON_CHARS:
        text = text[:REASON_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return f"{verdict.tie}: {text}"
