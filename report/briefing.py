"""The briefing as data: what every renderer (and the JSON file) shows, built once from the graph state."""

from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from brief.models import OFFLINE_LEARNED, CitationRepair, Link, ScreenStats, Summary, ThemeBrief, Usage
from brief.ids import citations, cite_key, is_arxiv_id
from brief.report.latex import latex_to_text
from brief.report.paper_view import Announce, matched_elsewhere, paper_fields, readable_summary, readable_theme
from brief.sources.urls import ResourceLink

if TYPE_CHECKING:
    from brief.config import Settings
    from brief.graphs.state import WeeklyState


class AcceptedPaper(BaseModel):
    id: str
    title: str
    authors: list[str]
    categories: list[str]
    url: str | None
    relevance: int
    novelty: int
    topic: str | None
    reason: str
    review: str
    summary: Summary
    links: list[Link]
    published: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    pdf_url: str | None = None
    resources: list[ResourceLink] = Field(default_factory=list, description="code, data, model and project links "
                                          "found in the abstract and comments")
    announce: Announce | None = Field(None, description="new / cross-list / replacement; None when the source doesn't say")
    watched_authors: list[str] = Field(default_factory=list, description="authors on the watch-list")
    matched: list[str] = Field(default_factory=list, description="topic and include keywords found in the paper")
    matched_elsewhere: dict[str, list[str]] = Field(default_factory=dict, description="of those, the keywords of "
                                                    "other topics than the paper's, by topic")


class RejectedPaper(BaseModel):
    id: str
    title: str = ""
    stage: str
    reason: str
    relevance: int = 0
    score: float = Field(0.0, description="stage 1's score (offline: the calibrated score), for ranking the rejects")


class Counts(BaseModel):
    fetched: int = 0
    duplicates_merged: int = 0
    seen_before: int = 0
    screened: int = 0
    sent_to_llm: int = 0
    screener_accepted: int = 0
    reviewer_rejected: int = 0
    accepted: int = 0
    unscreened: int = 0
    memory_added: int = 0
    memory_total: int = 0


class SectionCitations(BaseModel):
    section: str
    citations: list[str] = Field(description="keys cited, unique, in order of first citation")


class Briefing(BaseModel):
    week: str
    since: str
    until: str
    generated_at: str
    mode: str = Field(description="'llm: MODEL' or 'offline: no LLM'")
    criteria_version: str
    sources: dict[str, int]
    counts: Counts
    notes: list[str]
    overview: str
    themes: list[ThemeBrief]
    accepted: list[AcceptedPaper]
    rejected: list[RejectedPaper]
    citations: list[SectionCitations] = Field(default_factory=list)
    unresolved_citations: list[str] = Field(default_factory=list, description="keys no listed paper answers: always empty")
    citation_repairs: list[CitationRepair]
    earlier_reports: dict[str, str] = Field(default_factory=dict, description="week → its briefing file in this directory")
    context_budget_tokens: int | None = None
    screening: ScreenStats | None = Field(None, description="stage 1's cut and the audit's recall estimate")
    usage: Usage
    partial: list[str] = Field(default_factory=list, description="why the run is partial; empty when complete")
    timings: dict[str, float] = Field(default_factory=dict, description="wall seconds per graph node, in run order")

    @property
    def paper(self) -> dict[str, AcceptedPaper]:
        return {p.id: p for p in self.accepted}

    @property
    def bridges(self):
        """Every theme's bridges, archive gaps first: the briefing's cross-field section."""
        found = [(t, b) for t in self.themes for b in t.bridges]
        return sorted(found, key=lambda tb: (tb[1].across != "archives", -tb[1].similarity))


def _language_note(settings, model: str | None) -> list[str]:
    language = settings.report.language
    if not language or model:
        return []
    return [f"[report] language = {language!r} applies to what a model writes; this briefing was made offline, so "
            "its summaries and prose are the abstracts' own sentences and templates, in their own language"]


def _announce_note(accepted: list[AcceptedPaper]) -> list[str]:
    arxiv = [p for p in accepted if is_arxiv_id(p.id)]  # a journal or bioRxiv has no cross-lists
    if not arxiv or any(p.announce and not p.announce.inferred for p in arxiv):
        return []
    return ["the source does not record announce types (new / cross-list / replacement): cross-lists are inferred "
            "from the primary category against [arxiv] categories, and nothing is shown where that can't tell"]


def build_briefing(state: WeeklyState, settings: Settings, model: str | None) -> Briefing:
    decisions, reviews = state.decisions, state.reviews
    scores = {s.paper_id: s for s in state.scores}
    categories = list(settings.arxiv.categories)
    accepted = [
        AcceptedPaper(
            id=p.id, authors=p.authors, categories=p.categories,
            relevance=decisions[p.id].relevance, novelty=decisions[p.id].novelty, topic=decisions[p.id].topic,
            reason=decisions[p.id].reason, review=reviews[p.id].reason, summary=readable_summary(reviews[p.id].summary),
            links=[link.model_copy(update={"title": latex_to_text(link.title)}) for link in state.links.get(p.id, [])],
            published=p.published.isoformat() if p.published else None, doi=p.doi, journal_ref=p.journal_ref,
            **paper_fields(p, scores.get(p.id), categories),
            matched_elsewhere=matched_elsewhere(scores[p.id].keyword_hits if p.id in scores else [], decisions[p.id].topic,
                                                settings.criteria),
        )
        for p in state.accepted
    ]
    kept = {p.id for p in accepted}
    rejected = []
    titles = {p.id: latex_to_text(p.title) for p in state.papers}
    for pid, d in decisions.items():
        if pid in kept:
            continue
        if d.accepted and pid in reviews:
            rejected.append(RejectedPaper(id=pid, title=titles.get(pid, ""), stage="reviewer", reason=reviews[pid].reason,
                                          relevance=d.relevance, score=d.score))
        else:
            rejected.append(RejectedPaper(id=pid, title=titles.get(pid, ""), stage=d.stage, reason=d.reason,
                                          relevance=d.relevance, score=d.score))
    fc = state.fetch_counts
    counts = Counts(
        fetched=fc.unique if fc else len(state.papers),
        duplicates_merged=fc.duplicates_merged if fc else 0,
        seen_before=len(state.seen_before),
        screened=sum(1 for d in decisions.values() if d.stage != "unscreened"),
        sent_to_llm=sum(1 for d in decisions.values() if d.stage in ("llm", "unscreened")),
        screener_accepted=sum(d.accepted for d in decisions.values()),
        reviewer_rejected=sum(1 for r in reviews.values() if not r.confirmed),
        accepted=len(accepted),
        unscreened=sum(1 for d in decisions.values() if d.stage == "unscreened"),
        memory_added=state.memory_added,
        memory_total=state.memory_total,
    )
    themes = [readable_theme(t) for t in state.themes]
    sections = [SectionCitations(section="overview", citations=list(dict.fromkeys(citations(state.overview))))]
    sections += [SectionCitations(section=t.name, citations=list(dict.fromkeys(citations(t.prose)))) for t in themes]
    listed = ({cite_key(p.id) for p in accepted} | {cite_key(link.id) for p in accepted for link in p.links}
              | {cite_key(e.id) for t in themes for e in t.earlier} | {cite_key(b.b_id) for t in themes for b in t.bridges})
    unresolved = list(dict.fromkeys(c for s in sections for c in s.citations if c not in listed))
    weeks = {link.week for p in accepted for link in p.links} | {e.week for t in themes for e in t.earlier}
    out = Path(settings.out_dir)
    earlier_reports = {w: f"{w}.html" for w in sorted(weeks) if w != state.week and (out / f"{w}.html").exists()}
    synthesis = settings.synthesis
    return Briefing(
        week=state.week,
        since=state.window.since.isoformat(),
        until=state.window.until.isoformat(),
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        mode=f"llm: {model}" if model else "offline: no LLM",
        criteria_version=settings.criteria_hash(),
        sources=fc.by_source if fc else {},
        counts=counts,
        notes=list(state.notes) + _language_note(settings, model) + _announce_note(accepted),
        overview=latex_to_text(state.overview),
        themes=themes,
        accepted=accepted,
        rejected=sorted(rejected, key=lambda r: (-r.relevance, r.id)),
        citations=sections,
        unresolved_citations=unresolved,
        citation_repairs=state.repairs,
        earlier_reports=earlier_reports,
        context_budget_tokens=synthesis.context_budget_tokens if model else None,
        screening=state.screen_stats,
        usage=state.usage.model_copy(update={"model": model}),
        partial=list(state.partial),
        timings=dict(state.timings),
    )


def offline_screening(b: Briefing) -> str:
    """How an offline run screened, for the briefing's note: the criteria's evidence, or a learned ranking."""
    if b.screening is not None and b.screening.ranker == OFFLINE_LEARNED:
        return "a ranking learned from the labels in memory (the topics named by your criteria)"
    return "embedding similarity to your topics"
