"""The review graph's request, state and run context (`brief review "THEME"`).

Like the weekly graph: the state holds data (checkpointed, so a crashed review resumes) and the context
holds live objects. The review context adds the arXiv search client, so tests and Studio can point
`--fresh` at any server.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from brief.graphs.state import RunContext, RunState
from brief.models import Findings, Paper, QueryPlan, ThemeBrief

if TYPE_CHECKING:
    from brief.sources.arxiv_api import ArxivSource

Origin = Literal["memory", "fresh", "both"]


def slug(theme: str, limit: int = 60) -> str:
    """File-name form of a theme (ASCII, ≤ limit chars): `KV cache compression` → `kv-cache-compression`.
    A theme the ASCII words don't spell out whole (another script, punctuation, accents, cut for length) gets
    a short hash of the theme too, so `机器人操作` and `扩散模型` are two files, not one `theme`."""
    ascii_text = unicodedata.normalize("NFKD", theme).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if words and len(words) <= limit and re.fullmatch(r"[A-Za-z0-9 -]+", theme):
        return words
    digest = hashlib.sha256(" ".join(theme.casefold().split()).encode()).hexdigest()[:8]
    room = limit - len(digest) - 1
    cut = words[:room].rsplit("-", 1)[0] if len(words) > room else words
    return f"{cut.strip('-') or 'theme'}-{digest}"


class ReviewRequest(BaseModel):
    """What the user asked for: the theme and the CLI's knobs."""

    theme: str = Field(min_length=1, max_length=300)
    fresh: bool = Field(False, description="also search arXiv, and merge the results with memory")
    limit: int = Field(25, ge=1, le=500, description="results per arXiv search (each query: by relevance and by date)")
    since: date | None = Field(None, description="papers first seen (memory) or published (fresh) on or after")
    until: date | None = None
    max_papers: int = Field(30, ge=1, le=200, description="papers the review keeps, best first")

    @field_validator("theme")
    @classmethod
    def _one_line(cls, theme: str) -> str:
        flat = " ".join(theme.split())
        if not flat:
            raise ValueError("the theme is empty")
        return flat

    @model_validator(mode="after")
    def _ordered(self) -> ReviewRequest:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"--until {self.until} is before --since {self.since}")
        return self

    @property
    def slug(self) -> str:
        return slug(self.theme)


class FreshStats(BaseModel):
    """What the arXiv search brought, counted so the report can say how memory and the search overlap."""

    searches: int = 0
    arrived: int = Field(0, description="results over all searches, repeats included")
    unique: int = 0
    known: int = Field(0, description="of the unique results, papers memory already held")
    failed: list[str] = Field(default_factory=list, description="searches that failed, with why")
    queries: list[str] = Field(default_factory=list, description="the arXiv queries sent")


class MergeStats(BaseModel):
    memory: int = Field(0, description="candidates retrieved from memory")
    fresh: int = Field(0, description="unique fresh results within the dates")
    overlap: int = Field(0, description="papers both memory and the search returned (merged into one record)")
    title_merged: int = Field(0, description="records merged by title (same paper under another id)")
    pool: int = Field(0, description="candidates kept for screening, most similar to the theme first")


class ReviewState(RunState):
    request: ReviewRequest
    plan: QueryPlan | None = None
    memory_hits: list[Paper] = Field(default_factory=list, description="retrieved from memory, any week")
    fresh_hits: list[Paper] = Field(default_factory=list)
    fresh_stats: FreshStats | None = None
    first_seen: dict[str, str] = Field(default_factory=dict, description="id → the week memory first saw it")
    undated: list[str] = Field(default_factory=list, description="library imports without a date of their own")
    papers: list[Paper] = Field(default_factory=list, description="the merged pool, most similar first")
    origin: dict[str, Origin] = Field(default_factory=dict)
    similarity: dict[str, float] = Field(default_factory=dict, description="cosine similarity to the theme")
    merge_stats: MergeStats | None = None
    themes: list[ThemeBrief] = Field(default_factory=list, description="the review's sub-themes")
    findings: Findings | None = None

    @property
    def theme(self) -> str:
        return self.request.theme

    @property
    def query_plan(self) -> QueryPlan:
        """The plan; every node after `plan` reads it."""
        if self.plan is None:
            raise RuntimeError("the review graph ran a node before `plan`")
        return self.plan

    @property
    def accepted(self) -> list[Paper]:
        """Papers the screener accepted and the reviewer confirmed, best first."""
        keep = [p for p in self.papers if self.decisions.get(p.id) and self.decisions[p.id].accepted
                and self.reviews.get(p.id) and self.reviews[p.id].confirmed]
        return sorted(keep, key=lambda p: (-self.decisions[p.id].relevance, -self.similarity.get(p.id, 0.0), p.id))


@dataclass
class ReviewContext(RunContext):
    """The weekly run context plus the arXiv client `--fresh` searches with (None: built from [arxiv])."""

    search: ArxivSource | None = None
