"""Synthesiser: groups the week's accepted papers into themes and writes the briefing's prose.

Themes are clusters of the papers' embeddings (k-means on unit vectors), named by their distinctive
terms offline or by the LLM when one is configured. Every `[arXiv:ID]` the prose cites is checked
against the papers this run accepted and the papers memory holds: an invalid citation triggers one
regeneration of that section, then is removed and flagged.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel, Field

from brief.agents.llm import LLMClient, LLMError
from brief.models import Decision, Link, Paper, Review, Theme
from brief.prompts import load as load_prompt
from brief.text import distinctive_terms, document_frequencies

log = logging.getLogger(__name__)
CITATION = re.compile(r"\[(arXiv:[^\]\s]+|doi:[^\]\s]+|title:[0-9a-f]+)\]")


class ThemeDraft(BaseModel):
    name: str = Field(description="at most 6 words")
    text: str = Field(description="2-4 short paragraphs citing papers as [arXiv:ID]")


class Overview(BaseModel):
    text: str


class CitationRepair(BaseModel):
    section: str
    invalid: list[str]
    regenerated: bool
    removed: list[str] = Field(default_factory=list)


class Synthesis(BaseModel):
    themes: list[Theme]
    overview: str
    repairs: list[CitationRepair] = Field(default_factory=list)


def cluster(vectors: np.ndarray, max_themes: int = 8) -> list[list[int]]:
    """Group papers into themes: k-means on unit vectors, k (2..max) chosen by cosine silhouette.

    Largest group first. Fewer than 4 papers make a single theme: splitting them says nothing.
    """
    n = len(vectors)
    if n == 0:
        return []
    if n < 4:
        return [list(range(n))]
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best_labels, best_score = None, -2.0
    for k in range(2, min(max_themes, n - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(vectors)
        score = silhouette_score(vectors, labels, metric="cosine")
        if score > best_score + 1e-6:
            best_labels, best_score = labels, score
    groups = [[i for i in range(n) if best_labels[i] == c] for c in sorted(set(best_labels))]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def citations(text: str) -> list[str]:
    return [m.group(1) for m in CITATION.finditer(text)]


def strip_invalid(text: str, allowed: set[str]) -> tuple[str, list[str]]:
    removed = [c for c in citations(text) if c not in allowed]
    for bad in set(removed):
        text = text.replace(f"[{bad}]", "")
    return re.sub(r"[ \t]{2,}", " ", text).replace(" .", ".").replace(" ,", ","), removed


def cite_key(paper_id: str) -> str:
    return paper_id if paper_id.startswith(("doi:", "title:")) else f"arXiv:{paper_id}"


class Synthesiser:
    def __init__(self, llm: LLMClient | None, resolve=lambda ids: set()):
        """`resolve(ids)` returns which of the ids memory holds: citations of those are valid too."""
        self.llm = llm
        self.resolve = resolve

    def synthesise(
        self,
        week: str,
        papers: list[Paper],
        vectors: np.ndarray,
        decisions: dict[str, Decision],
        reviews: dict[str, Review],
        links: dict[str, list[Link]],
        background: list[str],
    ) -> Synthesis:
        bg = document_frequencies(background)
        themes: list[Theme] = []
        for group in cluster(vectors):
            members = sorted((papers[i] for i in group), key=lambda p: -decisions[p.id].relevance)
            terms = distinctive_terms([p.text_for_embedding() for p in members], bg, k=4)
            name = " · ".join(t.title() for t in terms[:3]) or members[0].title[:60]
            themes.append(Theme(name=name, paper_ids=[p.id for p in members], terms=terms,
                                categories=sorted({p.primary_category for p in members})))
        themes.sort(key=lambda t: -sum(decisions[i].relevance for i in t.paper_ids))
        allowed = {cite_key(p.id) for p in papers} | {cite_key(link.id) for ls in links.values() for link in ls}
        by_id = {p.id: p for p in papers}
        if self.llm is None:
            for theme in themes:
                theme.prose = offline_prose(theme, by_id, reviews, links)
                theme.citations = citations(theme.prose)
            return Synthesis(themes=themes, overview=offline_overview(week, themes, links))
        return self._with_llm(week, themes, by_id, reviews, links, allowed)

    def _invalid(self, cited: list[str], allowed: set[str]) -> list[str]:
        """Cited keys that resolve neither to this run's papers nor to memory (which is asked once)."""
        unknown = [c for c in dict.fromkeys(cited) if c not in allowed]
        in_memory = self.resolve([c.removeprefix("arXiv:") for c in unknown]) if unknown else set()
        allowed |= {cite_key(i) for i in in_memory}
        return [c for c in unknown if c not in allowed]

    def _with_llm(self, week, themes, by_id, reviews, links, allowed) -> Synthesis:
        repairs: list[CitationRepair] = []

        def draft(theme: Theme) -> tuple[Theme, CitationRepair | None]:
            values = {
                "terms": ", ".join(theme.terms),
                "papers": "\n".join(_paper_line(by_id[i], reviews.get(i)) for i in theme.paper_ids),
                "earlier": "\n".join(_earlier_lines(theme, links)) or "(none)",
            }
            key = "|".join(theme.paper_ids)
            try:
                result = self.llm.ask(ThemeDraft, load_prompt("synthesise_theme"), values, stage="synthesise", key=key)
            except LLMError as exc:
                log.warning("theme draft failed (%s): offline prose used", exc)
                return theme.model_copy(update={"prose": offline_prose(theme, by_id, reviews, links)}), None
            repair = None
            invalid = self._invalid(citations(result.text), allowed)
            if invalid:
                values["earlier"] += "\n\nYour previous draft cited keys that do not exist: " + ", ".join(invalid) + ". Use only the keys listed above."
                try:
                    result = self.llm.ask(ThemeDraft, load_prompt("synthesise_theme"), values, stage="synthesise", key=key + "|repair")
                except LLMError:
                    pass
                text, removed = strip_invalid(result.text, allowed)
                repair = CitationRepair(section=theme.name, invalid=invalid, regenerated=True, removed=removed)
                result = ThemeDraft(name=result.name, text=text)
            prose = result.text
            return theme.model_copy(update={"name": result.name.strip()[:80] or theme.name, "prose": prose,
                                            "citations": citations(prose)}), repair

        with ThreadPoolExecutor(max_workers=self.llm.cfg.concurrency) as pool:
            drafted = list(pool.map(draft, themes))
        themes = [t for t, _ in drafted]
        repairs = [r for _, r in drafted if r]
        drafts = "\n\n".join(f"## {t.name}\n{t.prose}" for t in themes)
        try:
            overview = self.llm.ask(Overview, load_prompt("synthesise_overview"), {"week": week, "drafts": drafts},
                                    stage="synthesise", key=week + "|" + "|".join(i for t in themes for i in t.paper_ids)).text
        except LLMError as exc:
            log.warning("overview failed (%s): offline overview used", exc)
            overview = offline_overview(week, themes, links)
        self._invalid(citations(overview), allowed)
        overview, removed = strip_invalid(overview, allowed)
        if removed:
            repairs.append(CitationRepair(section="overview", invalid=removed, regenerated=False, removed=removed))
        return Synthesis(themes=themes, overview=overview, repairs=repairs)


def _paper_line(paper: Paper, review: Review | None) -> str:
    tldr = review.summary.tldr if review else paper.abstract[:300]
    return f"- [{cite_key(paper.id)}] {paper.title} ({paper.primary_category}): {tldr}"


def _earlier_lines(theme: Theme, links: dict[str, list[Link]]) -> list[str]:
    seen: dict[str, Link] = {}
    for pid in theme.paper_ids:
        for link in links.get(pid, []):
            seen.setdefault(link.id, link)
    return [f"- [{cite_key(l.id)}] {l.title} (first seen {l.week})" for l in seen.values()]


def offline_prose(theme: Theme, by_id: dict[str, Paper], reviews: dict[str, Review], links: dict[str, list[Link]]) -> str:
    """A templated paragraph built from the theme's data: its fields, lead paper, and ties to earlier weeks."""
    members = [by_id[i] for i in theme.paper_ids]
    lead = members[0]
    lead_tldr = reviews[lead.id].summary.tldr if lead.id in reviews else lead.title
    parts = [
        f"{len(members)} paper{'s' if len(members) > 1 else ''} this week"
        f" ({', '.join(theme.categories)}), sharing {', '.join(theme.terms[:3]) or 'a common method'}.",
        f"Leading it, [{cite_key(lead.id)}] “{lead.title}”: {lead_tldr}",
    ]
    others = [f"[{cite_key(p.id)}]" for p in members[1:4]]
    if others:
        parts.append(f"Also here: {', '.join(others)}{' and more' if len(members) > 4 else ''}.")
    tied = [(p, link) for p in members for link in links.get(p.id, [])[:1]]
    if tied:
        p, link = max(tied, key=lambda pl: pl[1].similarity)
        why = f", sharing {', '.join(link.shared_terms[:3])}" if link.shared_terms else ""
        parts.append(
            f"{len({p.id for p, _ in tied})} of them connect to earlier weeks; closest, [{cite_key(p.id)}] "
            f"follows [{cite_key(link.id)}] ({link.week}, similarity {link.similarity:.2f}{why})."
        )
    else:
        parts.append("Nothing in memory from earlier weeks is close to this theme: new ground.")
    return " ".join(parts)


def offline_overview(week: str, themes: list[Theme], links: dict[str, list[Link]]) -> str:
    n_papers = sum(len(t.paper_ids) for t in themes)
    n_linked = sum(1 for t in themes for i in t.paper_ids if links.get(i))
    cross = [t.name for t in themes if len(t.categories) > 1]
    text = (f"{week}: {n_papers} accepted papers in {len(themes)} themes; the largest is "
            f"“{themes[0].name}” ({len(themes[0].paper_ids)} papers)." if themes else f"{week}: no accepted papers.")
    if themes:
        text += f" {n_linked} papers link to work seen in earlier weeks."
        if cross:
            text += f" Themes crossing categories: {', '.join(cross[:3])}."
    return text
