"""The pydantic records every stage passes along: papers, decisions, reviews, links, themes, usage, and the
other types that cross layers (theme facts, citation repairs, query plans, findings, fetch counts). Paper ids
and the citation format generated text uses are in ids.py.

Agents take and return these; reports and evals read them. Keeping them in one module means the product
and its evals can't drift apart.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from brief.config import Criteria, Topic
from brief.names import person_names

AnnounceType = Literal["new", "cross", "replace", "replace-cross"]


class Paper(BaseModel):
    """One paper as fetched. `id` is canonical: arXiv id without version, else `doi:...`, else `title:...`."""

    id: str
    version: int | None = None
    title: str
    abstract: str = ""
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, description="primary first")
    published: date | None = None
    announced: date | None = None
    source: str = ""
    sources: list[str] = Field(default_factory=list, description="every source this record came from")
    url: str | None = None
    pdf_url: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    announce_type: AnnounceType | None = None

    @field_validator("authors")
    @classmethod
    def _names_only(cls, authors: list[str]) -> list[str]:
        return person_names(authors)

    @property
    def primary_category(self) -> str:
        return self.categories[0] if self.categories else "unknown"

    @property
    def primary_archive(self) -> str:
        """The field a paper belongs to: `cs` for cs.CV, `astro-ph` for astro-ph.GA, `q-bio` for q-bio.NC."""
        return self.primary_category.split(".")[0]

    @property
    def is_arxiv(self) -> bool:
        return not self.id.startswith(("doi:", "title:"))

    @property
    def citation(self) -> str:
        """How generated text cites this paper; the synthesiser validates exactly this form."""
        return f"[arXiv:{self.id}]" if self.is_arxiv else f"[{self.id}]"

    def text_for_embedding(self) -> str:
        return f"{self.title}. {self.abstract}"


class Score(BaseModel):
    """Stage 1's local judgement of a paper against every topic."""

    paper_id: str
    score: float = Field(description="learned or similarity score; higher is more relevant")
    similarity: float = Field(description="best cosine similarity to any topic")
    topic: str | None = None
    keyword_hits: list[str] = Field(default_factory=list)
    author_hits: list[str] = Field(default_factory=list)


class Decision(BaseModel):
    """A screening decision: from stage 1 alone, an author match, or the LLM."""

    paper_id: str
    accepted: bool
    stage: Literal["prefilter", "author", "keyword", "llm", "offline", "unscreened"]
    relevance: int = Field(ge=0, le=10)
    novelty: int = Field(ge=0, le=10)
    topic: str | None = None
    reason: str
    score: float = 0.0
    capped: bool = False  # accepted on its merits, then left out by the week's cap: relevant, not shown
    audit_p: float | None = None  # drawn into the audit of the papers below stage 1's cut with this probability


class AuditWeek(BaseModel):
    """A week's stage-1 audit in memory: the judge's accepts among the papers sent, and the random audit drawn
    from the papers below the cut (each with probability `inclusion`)."""

    week: str
    found_above: int = 0
    audited: int = 0
    audit_found: int = 0
    inclusion: float = Field(0.0, ge=0.0, le=1.0)


class TopicCount(BaseModel):
    """One topic's share of the week: papers that passed its threshold, accepted, and cut by the weekly cap;
    offline, `chance`: papers past its calibrated threshold set aside as no more than the week reaches by chance
    (not counted as qualifying)."""

    topic: str
    qualifying: int = 0
    accepted: int = 0
    cut: int = 0
    chance: int = 0

OFFLINE_LEARNED = "offline: learned ranking"  # ScreenStats.ranker when a ranking learned from labels decided offline


class ScreenStats(BaseModel):
    """How stage 1 cut this week, and what the audit of below-cut papers says it missed.

    The audit is a simple random sample of the papers below the cut, screened by the LLM like the rest,
    so `audit_positives / audit_n` estimates the share of accepts below the cut without bias; with the
    accepts found above it, that gives stage 1's recall and a 95% interval.
    """

    prefilter: bool = True
    ranker: str = "topic-similarity"
    trained_on: int = Field(0, description="labelled decisions stage 1 learned from")
    candidates: int = 0
    sent: int = Field(0, description="papers the LLM screened: above the cut, forced, audit, extension")
    share_sent: float = 0.0
    cut_at: float | None = Field(None, description="stage-1 score at the cut")
    cut_by: str = ""
    ranker_auc: float | None = Field(None, description="stage 1's cross-validated AUC on its history")
    history_recall: float | None = Field(None, description="share of the history's accepts stage 1's cut keeps (out of fold)")
    wanted_share: float | None = Field(None, description="the share the recall target needed, when max_share held the cut back")
    recall_aim: float | None = Field(None, description="the recall the cut aimed at on the history's labelled accepts, when earlier audits raised it above the target")
    forced: int = Field(0, description="include-keyword hits sent whatever their score")
    authors: int = Field(0, description="watch-list papers accepted without the LLM")
    extended: int = Field(0, description="papers screened because the audit moved the cut down")
    extended_positives: int = Field(0, description="accepts among them")
    audit_drawn: int = Field(0, description="the audit's papers as drawn, before a band took some above the cut")
    audit_drawn_positives: int = Field(0, description="accepts among them")
    audit_n: int = Field(0, description="the audit's papers still below the final cut: the recall estimate's sample")
    audit_positives: int = 0
    positives_above: int = Field(0, description="LLM accepts among the papers above the (final) cut")
    below_cut: int = Field(0, description="papers left below the final cut (audit included)")
    recall_target: float = 0.95
    recall_estimate: float | None = None
    recall_ci: tuple[float, float] | None = None
    # over the latest weeks' audits (this one's included), each paper weighted by 1 / its inclusion probability
    recall_weeks: int = 0
    recall_pooled: float | None = None
    recall_pooled_ci: tuple[float, float] | None = None
    audit_pooled_n: int = 0
    unscreened: int = 0
    hallucinated_ids: int = 0
    retried_alone: int = 0
    unmatched_topics: int = Field(0, description="verdicts whose topic matched none of the criteria's (not rejects)")
    injection_flags: int = Field(0, description="papers whose text addressed the screener (neutralised)")
    brief_looks: int = Field(0, description="papers first screened on a shortened abstract (low stage-1 scores)")
    rescreened: int = Field(0, description="of those, re-read in full because they might match")
    per_topic: list[TopicCount] = Field(default_factory=list, description="per topic: accepted / qualifying / cut by the cap")
    learned_from: dict[str, int] = Field(default_factory=dict, description="labels stage 1 learned from, by kind")


NOT_STATED = "not stated in the abstract"  # a summary field the abstract gives nothing for
# the same said another way, as a model may ("Not mentioned.", "N/A", "not reported in the paper")
_UNSTATED = re.compile(r"\s*(not\s+(stated|mentioned|reported|given|specified|discussed|described)|none\s+stated|n/?a)"
                       r"(\s+(in|by)\s+the\s+(abstract|paper|text|authors))?\s*\.?\s*", re.IGNORECASE)


def unstated(field: str) -> bool:
    """Whether a summary field only says the abstract doesn't state it (no claim to show, count or quote)."""
    return bool(_UNSTATED.fullmatch(field))


class Summary(BaseModel):
    tldr: str
    problem: str = ""
    method: str = ""
    results: str = ""
    limitations: str = ""


class Review(BaseModel):
    """The reviewer's second look at an accept: confirm or reject, and a structured summary."""

    paper_id: str
    confirmed: bool
    reason: str
    summary: Summary


class Link(BaseModel):
    """A new paper's tie to a paper memory already held, and why they are tied."""

    id: str
    title: str
    week: str
    similarity: float
    shared_authors: list[str] = Field(default_factory=list)
    shared_terms: list[str] = Field(default_factory=list)
    cross_field: bool = False
    reason: str = Field("", description="the strongest evidence for the link, in words")
    tie: str | None = Field(None, description="the model's reading of the tie ('same method', …); None: unread")
    same_work: bool = Field(False, description="the same paper under another id: the preprint of a published paper")


class Theme(BaseModel):
    name: str
    paper_ids: list[str]
    terms: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, description="primary categories of its papers")
    prose: str = ""
    citations: list[str] = Field(default_factory=list)

    @property
    def cross_field(self) -> bool:
        return len({c.split(".")[0] for c in self.categories}) > 1 or len(set(self.categories)) > 2


class StageUsage(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = Field(0.0, description="wall time with at least one call of the stage in flight")
    timed_out: int = Field(0, description="calls given up at their timeout: the server may still have run (and billed) them")
    timed_out_input_tokens: int = Field(0, description="those calls' prompt tokens, estimated (characters / 4)")

    def __add__(self, other: StageUsage) -> StageUsage:
        return StageUsage(
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
            seconds=round(self.seconds + other.seconds, 3),
            timed_out=self.timed_out + other.timed_out,
            timed_out_input_tokens=self.timed_out_input_tokens + other.timed_out_input_tokens,
        )


class Usage(BaseModel):
    """LLM usage per stage, counted from the server's responses (cache hits are not spent tokens)."""

    model: str | None = None
    stages: dict[str, StageUsage] = Field(default_factory=dict)
    embedded: int = Field(0, description="texts embedded this run (cache misses)")
    embed_cache_hits: int = 0
    method: str | None = Field(None, description="the structured-output method the LLM client negotiated")
    price_known: bool = Field(True, description="false: the model has no price in [llm] prices (cost unknown)")

    @property
    def total(self) -> StageUsage:
        total = StageUsage()
        for stage in self.stages.values():
            total = total + stage
        return total

    def merged(self, other: Usage) -> Usage:
        stages = dict(self.stages)
        for name, stage in other.stages.items():
            stages[name] = stages.get(name, StageUsage()) + stage
        return Usage(
            model=other.model or self.model,
            stages=stages,
            embedded=self.embedded + other.embedded,
            embed_cache_hits=self.embed_cache_hits + other.embed_cache_hits,
            method=other.method or self.method,
            price_known=self.price_known and other.price_known,
        )


class FetchCounts(BaseModel):
    announced: int | None = Field(None, description="what the sources said they had, where they say it")
    arrived: int = 0
    unique: int = 0
    duplicates_merged: int = 0
    skipped_records: int = 0
    by_source: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict)
    by_announce_type: dict[str, int] = Field(default_factory=dict)
    by_day: dict[str, int] = Field(default_factory=dict)
    empty_days: list[str] = Field(default_factory=list)


class EarlierPaper(BaseModel):
    id: str
    title: str
    week: str
    similarity: float
    categories: list[str] = Field(default_factory=list)
    linked_from: list[str] = Field(default_factory=list, description="this week's papers that link to it")
    shared_terms: list[str] = Field(default_factory=list)


class Bridge(BaseModel):
    """Two papers from different fields tied by a shared method or problem; `b_week` None = this week."""

    a_id: str
    a_title: str
    a_category: str
    b_id: str
    b_title: str
    b_category: str
    b_week: str | None = None
    shared_terms: list[str] = Field(default_factory=list)
    similarity: float
    across: Literal["archives", "categories"]


class Trend(BaseModel):
    weeks: list[str] = Field(description="oldest first; the last is this week")
    counts: list[int] = Field(description="remembered papers near the theme's centre, per week")
    totals: list[int] = Field(description="all papers memory first saw that week")
    direction: Literal["growing", "shrinking", "steady", "new", "no history"]
    threshold: float

    @property
    def shares(self) -> list[float]:
        return [c / t if t else 0.0 for c, t in zip(self.counts, self.totals)]


class ThemeBrief(Theme):
    """A theme as the briefing shows it: its papers and prose plus the facts computed about it."""

    weight: float = 0.0
    new_ids: list[str] = Field(default_factory=list, description="papers with nothing close in memory")
    earlier: list[EarlierPaper] = Field(default_factory=list)
    bridges: list[Bridge] = Field(default_factory=list)
    trend: Trend | None = None
    parts: int = Field(0, description="LLM drafts merged into the prose (map-reduce); 0 offline")


class CitationRepair(BaseModel):
    """What the validator did to one section: the invalid keys it found, whether the section was
    regenerated once, and which keys it finally removed (empty when the regeneration fixed them)."""

    section: str
    invalid: list[str]
    regenerated: bool
    removed: list[str] = Field(default_factory=list)


class QueryPlan(BaseModel):
    """How a review searches: phrases for memory (by meaning) and arXiv (by words), and the screening topic."""

    theme: str
    description: str
    relevant: str = ""
    not_relevant: str = ""
    queries: list[str] = Field(description="the theme first, then other phrasings")
    keywords: list[str] = Field(default_factory=list)
    nearest_terms: list[str] = Field(default_factory=list, description="distinctive terms of the nearest memory papers")
    facets: list[str] = Field(default_factory=list, description="the parts a composite theme joins (theme_facets)")
    source: Literal["llm", "offline"] = "offline"

    def topic(self) -> Topic:
        """The theme as a single screening topic; its name is the theme, so verdicts name it exactly."""
        return Topic(name=self.theme[:200], description=self.description or self.theme, relevant=self.relevant,
                     not_relevant=self.not_relevant, keywords=self.keywords)

    def criteria(self) -> Criteria:
        """One topic, no watch-list and no keyword overrides: a review judges papers by the theme alone."""
        return Criteria(topics=[self.topic()], interests=f"A literature review of: {self.theme}")


class Claim(BaseModel):
    text: str = Field(description="one sentence citing its papers as [arXiv:ID]")
    papers: list[str] = Field(default_factory=list, description="ids it cites, in order")


class Findings(BaseModel):
    agreements: list[Claim] = Field(default_factory=list)
    contradictions: list[Claim] = Field(default_factory=list)
    open_questions: list[Claim] = Field(default_factory=list)
    source: Literal["llm", "offline"] = "offline"

    def all_text(self) -> list[tuple[str, str]]:
        return [(kind, c.text) for kind in ("agreements", "contradictions", "open_questions") for c in getattr(self, kind)]


class Labels(BaseModel):
    """Embeddings of the papers someone judged (positives / negatives) and how many of each kind: stage 1's
    teaching set, offline and online."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    positives: np.ndarray
    negatives: np.ndarray
    counts: dict[str, int]

    @property
    def empty(self) -> bool:
        return len(self.positives) + len(self.negatives) == 0
