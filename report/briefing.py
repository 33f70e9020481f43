"""The briefing as data: what every renderer (and the JSON file) shows, built once from the graph state."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field

from brief.agents.synthesiser import CitationRepair
from brief.models import Link, Summary, Theme, Usage


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


class RejectedPaper(BaseModel):
    id: str
    stage: str
    reason: str
    relevance: int = 0


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
    themes: list[Theme]
    accepted: list[AcceptedPaper]
    rejected: list[RejectedPaper]
    citation_repairs: list[CitationRepair]
    usage: Usage

    @property
    def paper(self) -> dict[str, AcceptedPaper]:
        return {p.id: p for p in self.accepted}


def build_briefing(state, settings, model: str | None) -> Briefing:
    decisions, reviews = state.decisions, state.reviews
    accepted = [
        AcceptedPaper(
            id=p.id, title=p.title, authors=p.authors, categories=p.categories, url=p.url,
            relevance=decisions[p.id].relevance, novelty=decisions[p.id].novelty, topic=decisions[p.id].topic,
            reason=decisions[p.id].reason, review=reviews[p.id].reason, summary=reviews[p.id].summary,
            links=state.links.get(p.id, []),
        )
        for p in state.accepted
    ]
    kept = {p.id for p in accepted}
    rejected = []
    for pid, d in decisions.items():
        if pid in kept:
            continue
        if d.accepted and pid in reviews:
            rejected.append(RejectedPaper(id=pid, stage="reviewer", reason=reviews[pid].reason, relevance=d.relevance))
        else:
            rejected.append(RejectedPaper(id=pid, stage=d.stage, reason=d.reason, relevance=d.relevance))
    fc = state.fetch_counts
    counts = Counts(
        fetched=fc.unique if fc else len(state.papers),
        duplicates_merged=fc.duplicates_merged if fc else 0,
        seen_before=len(state.seen_before),
        screened=len(decisions),
        sent_to_llm=sum(1 for d in decisions.values() if d.stage in ("llm", "unscreened") or (d.stage == "author" and model)),
        screener_accepted=sum(d.accepted for d in decisions.values()),
        reviewer_rejected=sum(1 for r in reviews.values() if not r.confirmed),
        accepted=len(accepted),
        unscreened=sum(1 for d in decisions.values() if d.stage == "unscreened"),
        memory_added=state.memory_added,
        memory_total=state.memory_total,
    )
    usage = state.usage.model_copy(update={"model": model})
    return Briefing(
        week=state.week,
        since=state.window.since.isoformat(),
        until=state.window.until.isoformat(),
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        mode=f"llm: {model}" if model else "offline: no LLM",
        criteria_version=settings.criteria_hash(),
        sources=fc.by_source if fc else {},
        counts=counts,
        notes=state.notes,
        overview=state.overview,
        themes=state.themes,
        accepted=accepted,
        rejected=sorted(rejected, key=lambda r: (-r.relevance, r.id)),
        citation_repairs=state.repairs,
        usage=usage,
    )
