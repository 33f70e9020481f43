"""The grounding judge: an LLM checks each summary sentence against the paper's abstract.

Used by the synthesis suite when a model is configured; offline, the suite reports a lexical-overlap
score instead, labelled as such. The verdict is a pydantic model, so a malformed answer is retried
by the LLM layer and never half-parsed.
"""

from __future__ import annotations

import hashlib
import html

from pydantic import BaseModel, Field

from brief.agents.llm import LLMError, paper_block
from brief.protocols import LLM
from brief.models import Paper
from brief.prompts import load as load_prompt


class SentenceVerdict(BaseModel):
    index: int = Field(description="the sentence's number as given")
    reason: str = Field(description="one short sentence")  # before the verdict it supports
    supported: bool


class GroundingVerdict(BaseModel):
    verdicts: list[SentenceVerdict]


class Judged(BaseModel):
    """One paper's judged summary: how many of its sentences the judge found supported."""

    paper_id: str
    sentences: int
    supported: int
    unsupported: list[str] = Field(default_factory=list)
    error: str | None = None


def judge_grounding(llm: LLM, paper: Paper, sentences: list[str]) -> Judged:
    """Verdicts for `sentences` against `paper`'s abstract; a sentence the judge skips counts unsupported."""
    numbered = "\n".join(f"{i}. {html.escape(s)}" for i, s in enumerate(sentences, 1))
    key = f"{paper.id}v{paper.version or 0}|" + hashlib.sha256(numbered.encode()).hexdigest()[:16]
    try:
        verdict = llm.ask(GroundingVerdict, load_prompt("judge_grounding"), {"paper": paper_block(paper), "sentences": numbered},
                          stage="judge", key=key)
    except LLMError as exc:
        return Judged(paper_id=paper.id, sentences=len(sentences), supported=0, error=str(exc))
    ok = {v.index for v in verdict.verdicts if v.supported and 1 <= v.index <= len(sentences)}
    return Judged(paper_id=paper.id, sentences=len(sentences), supported=len(ok),
                  unsupported=[s for i, s in enumerate(sentences, 1) if i not in ok])
