"""The themed review as data (`ReviewReport`) and its Markdown (its files: `write_review` in review_html.py).

Built once from the review graph's state; the HTML (report/review_html.py) and BibTeX (report/bibtex.py,
which reads the same `accepted` list a briefing has) render the same model. Every citation in the prose
must name a paper in `accepted` (the references): `unresolved_citations` records any that does not.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from brief.models import CitationRepair, Findings, QueryPlan, ScreenStats, ThemeBrief, Usage
from brief.ids import citations, cite_key
from brief.report.briefing import AcceptedPaper, SectionCitations
from brief.report.latex import latex_to_text
from brief.report.markdown import cite_link, md, md_prose, partial_text, summary_md, usage_table
from brief.report.paper_view import readable_summary, readable_theme
from brief.sources.window import week_ordinal, weeks_between
from brief.text import counted, papers_in

if TYPE_CHECKING:
    from brief.config import Settings
    from brief.graphs.review_state import ReviewState

KEY_PAPERS = 10


class ReviewPaper(AcceptedPaper):
    similarity: float = Field(description="cosine similarity of title + abstract to the theme")
    first_seen: str | None = Field(None, description="the week memory first saw it; None for fresh-only papers")
    origin: str = Field("memory", description="memory | fresh | both")
    published_month: str | None = Field(None, description="YYYY-MM: the publication date's, else the arXiv id's")
    subtheme: str | None = None
    cited: int = Field(0, description="citations of it in the review's prose")


class WeekEntry(BaseModel):
    week: str
    count: int
    paper_ids: list[str]
    by_subtheme: dict[str, int] = Field(default_factory=dict)


class MonthEntry(BaseModel):
    month: str
    count: int
    paper_ids: list[str]


class Timeline(BaseModel):
    weeks: list[WeekEntry] = Field(default_factory=list, description="first-seen weeks, first to last, empty ones included")
    published: list[MonthEntry] = Field(default_factory=list, description="publication months, oldest first")
    fresh_only: list[str] = Field(default_factory=list, description="papers memory never saw (fresh search)")
    undated: list[str] = Field(default_factory=list, description="library imports without a date of their own")
    months_from_ids: int = Field(0, description="papers without a date whose month is their arXiv id's")

    @property
    def span_weeks(self) -> int:
        """Weeks from the first to the last week with a paper (inclusive)."""
        return len(self.weeks)

    @property
    def months_caption(self) -> str:
        """The publication-month table's heading, saying where a month came from only when one came from an id."""
        n = self.months_from_ids
        return "By publication month" + (f" (for {counted(n, 'paper')} without a date, the month of"
                                         f" {'its' if n == 1 else 'their'} arXiv id)" if n else "") + ":"


class ReviewCounts(BaseModel):
    memory: int = 0
    fresh: int = 0
    overlap: int = 0
    title_merged: int = 0
    pool: int = 0
    screened: int = 0
    screener_accepted: int = 0
    reviewer_rejected: int = 0
    accepted: int = 0


class ReviewReport(BaseModel):
    theme: str
    slug: str
    generated_at: str
    mode: str
    since: str | None = None
    until: str | None = None
    fresh: bool = False
    plan: QueryPlan | None = None
    counts: ReviewCounts
    fresh_queries: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    overview: str = ""
    themes: list[ThemeBrief] = Field(default_factory=list, description="sub-themes")
    timeline: Timeline
    key_papers: list[str] = Field(default_factory=list, description="ids of the top papers, best first")
    accepted: list[ReviewPaper] = Field(default_factory=list, description="every paper of the review: the references")
    findings: Findings = Field(default_factory=Findings)
    citations: list[SectionCitations] = Field(default_factory=list)
    unresolved_citations: list[str] = Field(default_factory=list)
    citation_repairs: list[CitationRepair] = Field(default_factory=list)
    earlier_reports: dict[str, str] = Field(default_factory=dict, description="unused by reviews (the HTML linker reads it)")
    screening: ScreenStats | None = None
    usage: Usage = Field(default_factory=Usage)
    partial: list[str] = Field(default_factory=list, description="why the run is partial; empty when complete")

    @property
    def week(self) -> str:
        """What BibTeX notes name the collection by (the weekly briefing's week)."""
        return f"review “{self.theme}”"

    @property
    def paper(self) -> dict[str, ReviewPaper]:
        return {p.id: p for p in self.accepted}


def month_of(paper_id: str, published: str | None) -> str | None:
    if published:
        return published[:7]
    match = re.match(r"(\d{2})(\d{2})\.\d{4,5}$", paper_id) or re.match(r"[a-z\-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}$", paper_id)
    if not match:
        return None
    yy = int(match.group(1))
    return f"{2000 + yy if yy < 91 else 1900 + yy}-{match.group(2)}"


def build_timeline(papers: list[ReviewPaper]) -> Timeline:
    seen = [p for p in papers if p.first_seen]
    weeks: list[WeekEntry] = []
    if seen:
        ordered = sorted({p.first_seen for p in seen}, key=week_ordinal)
        for week in weeks_between(ordered[0], ordered[-1]):  # empty weeks belong on a timeline too
            ids = [p.id for p in seen if p.first_seen == week]
            by_sub = Counter(p.subtheme for p in seen if p.first_seen == week and p.subtheme)
            weeks.append(WeekEntry(week=week, count=len(ids), paper_ids=ids, by_subtheme=dict(by_sub)))
    months: dict[str, list[str]] = {}
    for p in papers:
        months.setdefault(p.published_month or "unknown", []).append(p.id)
    published = [MonthEntry(month=m, count=len(ids), paper_ids=ids) for m, ids in sorted(months.items())]
    return Timeline(weeks=weeks, published=published, fresh_only=[p.id for p in papers if p.origin == "fresh"],
                    undated=[p.id for p in papers if not p.first_seen and p.origin != "fresh"],
                    months_from_ids=sum(1 for p in papers if p.published_month and not p.published))


def readable_findings(findings: Findings) -> Findings:
    """Each claim with LaTeX resolved (offline claims quote the papers' own sentences)."""
    return findings.model_copy(update={kind: [c.model_copy(update={"text": latex_to_text(c.text)})
                                              for c in getattr(findings, kind)]
                                       for kind in ("agreements", "contradictions", "open_questions")})


def build_review(state: ReviewState, settings: Settings, model: str | None) -> ReviewReport:
    """The report from the review graph's final state (graphs/review_state.ReviewState)."""
    decisions, reviews = state.decisions, state.reviews
    themes = [readable_theme(t) for t in state.themes]  # LaTeX resolved, as in the weekly briefing
    overview = latex_to_text(state.overview)
    subtheme = {pid: t.name for t in themes for pid in t.paper_ids}
    sections = [SectionCitations(section="overview", citations=list(dict.fromkeys(citations(overview))))]
    sections += [SectionCitations(section=t.name, citations=list(dict.fromkeys(citations(t.prose)))) for t in themes]
    findings = readable_findings(state.findings or Findings())
    sections.append(SectionCitations(section="findings", citations=list(dict.fromkeys(
        c for _, text in findings.all_text() for c in citations(text)))))
    cited = Counter(c for s in [overview, *(t.prose for t in themes), *(t for _, t in findings.all_text())]
                    for c in citations(s))
    papers = []
    for p in state.accepted:
        published = p.published.isoformat() if p.published else None
        papers.append(ReviewPaper(
            id=p.id, title=latex_to_text(p.title), authors=p.authors, categories=p.categories, url=p.url,
            relevance=decisions[p.id].relevance, novelty=decisions[p.id].novelty, topic=decisions[p.id].topic,
            reason=decisions[p.id].reason, review=reviews[p.id].reason, summary=readable_summary(reviews[p.id].summary),
            links=[],
            published=published, doi=p.doi, journal_ref=p.journal_ref, similarity=state.similarity.get(p.id, 0.0),
            first_seen=state.first_seen.get(p.id), origin=state.origin.get(p.id, "memory"),
            published_month=month_of(p.id, published), subtheme=subtheme.get(p.id), cited=cited.get(cite_key(p.id), 0)))
    listed = {cite_key(p.id) for p in papers}
    unresolved = list(dict.fromkeys(c for s in sections for c in s.citations if c not in listed))
    ms, req = state.merge_stats, state.request
    counts = ReviewCounts(
        memory=ms.memory if ms else 0, fresh=ms.fresh if ms else 0, overlap=ms.overlap if ms else 0,
        title_merged=ms.title_merged if ms else 0, pool=len(state.papers), screened=len(decisions),
        screener_accepted=sum(d.accepted for d in decisions.values()),
        reviewer_rejected=sum(1 for r in reviews.values() if not r.confirmed), accepted=len(papers))
    return ReviewReport(
        theme=req.theme, slug=req.slug, generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        mode=f"llm: {model}" if model else "offline: no LLM", since=req.since.isoformat() if req.since else None,
        until=req.until.isoformat() if req.until else None, fresh=req.fresh, plan=state.plan, counts=counts,
        fresh_queries=state.fresh_stats.queries if state.fresh_stats else [], notes=list(state.notes),
        overview=overview, themes=themes, timeline=build_timeline(papers),
        key_papers=[p.id for p in papers[:KEY_PAPERS]], accepted=papers, findings=findings, citations=sections,
        unresolved_citations=unresolved, citation_repairs=list(state.repairs), screening=state.screen_stats,
        usage=state.usage.model_copy(update={"model": model}), partial=list(state.partial))


# -- Markdown ------------------------------------------------------------------------------------------


def when(p: ReviewPaper) -> str:
    if p.first_seen:
        return f"first seen {p.first_seen}"
    return f"fresh search, published {p.published or 'n/a'}" if p.origin == "fresh" else "in your library (undated)"


def author_names(p: ReviewPaper) -> str:
    return ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "") if p.authors else "unknown authors"


def reference_opening(p: ReviewPaper) -> str:
    """The authors as a reference opens: one full stop after them, also after "et al." (never "et al..")."""
    names = author_names(p)
    return names if names.endswith(".") else names + "."


FINDING_TITLES = {
    "llm": ("Agreements", "Open contradictions", "Open questions"),
    "offline": ("Common ground", "Competing approaches (candidate contradictions)", "Open questions (limitations the abstracts state)"),
}
OFFLINE_FINDINGS_NOTE = ("Offline: common ground pairs the closest papers of each sub-theme; competing approaches pair papers "
                         "whose problem statements are close while their methods differ. They are candidates to compare, "
                         "not verified contradictions; an LLM states actual agreements and conflicts.")


def render_review_markdown(r: ReviewReport) -> str:
    c = r.counts
    lines = [f"# Review — {md(r.theme)}", "",
             f"*written by **{md(r.mode)}** · generated {r.generated_at}"
             + (f" · papers from {r.since or '…'} to {r.until or '…'}" if r.since or r.until else "") + "*", ""]
    if r.mode.startswith("offline"):
        lines += ["> Made offline, without an LLM: papers were retrieved and screened by embedding similarity to the "
                  "theme, summaries are sentences extracted from the abstracts, a sub-theme holds the papers about a phrase "
                  "several of them use (the others are listed together), and the prose is templated.", ""]
    if partial_text(r):
        lines += [f"> **{md(partial_text(r))}**", ""]
    lines.append(f"**Searched:** memory {c.memory} candidates" + (f" · fresh arXiv search {c.fresh} unique ({c.overlap} "
                 f"also in memory, merged)" if r.fresh else "") + f" · pool {c.pool} · screened {c.screened}"
                 f" · accepted {c.accepted} ({c.reviewer_rejected} rejected by the reviewer)")
    if r.plan:
        lines.append(f"**Search phrases ({md(r.plan.source)}):** " + "; ".join(md(q) for q in r.plan.queries)
                     + (f" · nearest memory terms: {md(', '.join(r.plan.nearest_terms))}" if r.plan.nearest_terms else ""))
    if r.notes:
        lines += [""] + [f"- {md(n)}" for n in r.notes]
    lines += ["", "## Overview", "", md_prose(r.overview) or "No paper matched the theme."]
    lines += _timeline_md(r)
    if r.themes:
        lines += ["", "## Sub-themes"]
    for i, t in enumerate(r.themes, 1):
        span = [r.paper[pid].first_seen for pid in t.paper_ids if pid in r.paper and r.paper[pid].first_seen]
        lines += ["", f"### {i}. {md(t.name)}", "",
                  f"*{md(papers_in(len(t.paper_ids), t.categories))}"
                  + (f" · first seen {min(span)}" + (f" to {max(span)}" if max(span) != min(span) else "") if span else "")
                  + "*", "", md_prose(t.prose), ""]
        lines += [f"- {md(r.paper[pid].title)} {cite_link(cite_key(pid))} ({md(when(r.paper[pid]))}; similarity "
                  f"{r.paper[pid].similarity:.2f})" for pid in t.paper_ids if pid in r.paper]
    lines += ["", "## Key papers"]
    for pid in r.key_papers:
        p = r.paper[pid]
        lines += ["", f"**{md(p.title)}** — {cite_link(cite_key(p.id))}",
                  "  " + " · ".join(part for part in (md(author_names(p)),
                                                      md(" ".join(p.categories[:3])), md(when(p)), f"similarity {p.similarity:.2f}",
                                                      f"relevance {p.relevance}", f"sub-theme: {md(p.subtheme)}" if p.subtheme else "")
                                       if part),
                  f"  - **TL;DR** {md(p.summary.tldr)}"]
        lines += summary_md(p.summary)
    titles = FINDING_TITLES[r.findings.source]
    for title, kind in zip(titles, ("agreements", "contradictions", "open_questions")):
        claims = getattr(r.findings, kind)
        lines += ["", f"## {title}", ""] + ([f"- {md_prose(cl.text)}" for cl in claims] or ["None found."])
    if r.findings.source == "offline":
        lines += ["", f"*{md(OFFLINE_FINDINGS_NOTE)}*"]
    lines += ["", "## References", ""]
    lines += [f"{i}. {md(reference_opening(p))} **{md(p.title)}**. {cite_link(cite_key(p.id))}"
              + (f" · {md(p.published_month)}" if p.published_month else "") + f" · {md(when(p))}"
              for i, p in enumerate(r.accepted, 1)]
    n = sum(len(s.citations) for s in r.citations)
    lines += ["", "## Citations", "", f"{n} distinct citations across sections; " + (
        "all resolve to papers in the references." if not r.unresolved_citations
        else f"unresolved: {md(', '.join(r.unresolved_citations))}.")]
    lines += [f"- {md(x.section)}: invalid {md(', '.join(x.invalid))} → " + ("regenerated" if x.regenerated else "not regenerated")
              + (f", removed {md(', '.join(x.removed))}" if x.removed else ", fixed by the regeneration") for x in r.citation_repairs]
    lines += ["", "## Usage", "", *usage_table(r)]
    lines += ["", f"Embeddings this run: {r.usage.embedded} computed, {r.usage.embed_cache_hits} from cache."]
    return "\n".join(lines) + "\n"


def _timeline_md(r: ReviewReport) -> list[str]:
    t = r.timeline
    lines = ["", "## Timeline", ""]
    if t.weeks:
        peak = max(w.count for w in t.weeks) or 1
        lines += [f"By the week memory first saw each paper: {counted(t.span_weeks, 'week')}, {t.weeks[0].week} to {t.weeks[-1].week}.", "",
                  "| week | papers | | sub-themes |", "|---|---:|---|---|"]
        lines += [f"| {w.week} | {w.count} | {'█' * max(1, round(12 * w.count / peak)) if w.count else ''} | "
                  + md("; ".join(f"{k} {v}" for k, v in sorted(w.by_subtheme.items(), key=lambda kv: -kv[1]))) + " |"
                  for w in t.weeks]
    else:
        lines.append("No paper of this review is in memory.")
    if t.fresh_only:
        lines += ["", f"{counted(len(t.fresh_only), 'paper')} {'comes' if len(t.fresh_only) == 1 else 'come'} only from the fresh search (memory never saw them)."]
    if t.undated:
        lines += ["", f"{counted(len(t.undated), 'paper')} {'is an undated entry' if len(t.undated) == 1 else 'are undated entries'} of your library (off the weekly timeline)."]
    lines += ["", t.months_caption, "",
              "| month | papers |", "|---|---:|"] + [f"| {m.month} | {m.count} |" for m in t.published]
    return lines

