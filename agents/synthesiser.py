"""Synthesiser: turns the week's accepted papers into themes and the briefing's prose.

1. Themes: k-means on the papers' unit embeddings (k by silhouette) within each matched topic, named by
   distinctive noun phrases (brief/phrases.py), heaviest (summed relevance) first.
2. Facts per theme, from data (agents/theme_analysis.py): the earlier papers it builds on, the
   cross-field bridges inside it, and its trend over the previous weeks in memory.
3. Prose: templated from those facts offline; with an LLM, map-reduced within the context budget
   (agents/synthesis_writer.py).
4. Citations: every `[arXiv:ID]` must be a paper this run accepted or one memory holds; an invalid one
   triggers one regeneration of that section, then is removed and flagged (agents/citations.py).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel, Field

from brief.agents.citations import CitationChecker, normalise
from brief.agents.llm import LLMError, warn_fallback
from brief.protocols import LLM, RunMemory
from brief.agents.synthesis_writer import LLMWriter
from brief.agents.theme_analysis import (bridges, earlier_papers, fields_clause, lead_clause, name_themes, sharing_clause,
                                         trends)
from brief.config import SynthesisConfig
from brief.numeric import kmeans, silhouette_cosine
from brief.models import CitationRepair, Decision, EarlierPaper, Link, Paper, Review, ThemeBrief, Trend
from brief.ids import citations, cite_key
from brief.phrases import text_frequencies
from brief.text import counted, grouped

log = logging.getLogger(__name__)


class Synthesis(BaseModel):
    themes: list[ThemeBrief]
    overview: str
    repairs: list[CitationRepair] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    fallbacks: list[str] = Field(default_factory=list, description="sections whose LLM prose fell back to offline text")


def theme_counts(n: int, max_themes: int) -> range:
    """The k worth trying for n papers: about 5-10 papers a theme, at least 2 themes, at most max_themes.

    Silhouette alone always prefers k=2 on sentence embeddings (scores are low and noisy), which lumps
    30 papers into two themes no briefing reader can use; the band keeps themes readable.
    """
    low = min(max(2, round(n / 10)), max_themes)
    return range(low, max(low, min(max_themes, n // 5, n - 1)) + 1)


def cluster(vectors: np.ndarray, max_themes: int = 8) -> list[list[int]]:
    """Group papers into themes: k-means on unit vectors, k chosen by cosine silhouette within
    `theme_counts`. Largest group first. Fewer than 4 papers make a single theme."""
    n = len(vectors)
    if n == 0:
        return []
    if n < 4 or max_themes < 2:
        return [list(range(n))]
    sample = np.random.default_rng(0).choice(n, 2000, replace=False) if n > 2000 else np.arange(n)
    best_labels, best_score = None, -2.0
    for k in theme_counts(n, max_themes):
        labels = kmeans(vectors, k)
        score = silhouette_cosine(vectors[sample], labels[sample])
        if score > best_score + 1e-6:
            best_labels, best_score = labels, score
    groups = [[i for i in range(n) if best_labels[i] == c] for c in sorted(set(best_labels))]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def cluster_by_topic(vectors: np.ndarray, topics: list[str | None], max_themes: int = 8) -> list[list[int]]:
    """Themes within matched topics first, so one broad topic cannot swallow the week: each topic's papers are
    clustered on their own (`cluster`), with a share of `max_themes` in proportion to its size. Papers with no
    topic (author or keyword matches) form one more group. Largest theme first."""
    n = len(vectors)
    by_topic: dict[str, list[int]] = {}
    for i, topic in enumerate(topics):
        by_topic.setdefault(topic or "", []).append(i)
    groups = []
    for members in by_topic.values():
        share = max(1, round(max_themes * len(members) / max(n, 1)))
        groups += [[members[j] for j in g] for g in cluster(vectors[members], share)]
    # k-means on sentence embeddings often leaves one catch-all cluster: one over MAX_THEME_SIZE papers and
    # over 1.5 times the mean theme size is split in two, again, until it is neither
    limit = max(MAX_THEME_SIZE, 1.5 * n / max(len(groups), 1))
    split = [part for g in groups for part in _split_large(vectors, g, int(limit))]
    return sorted(split, key=lambda g: (-len(g), g[0]))


MAX_THEME_SIZE = 12


def _split_large(vectors: np.ndarray, group: list[int], max_size: int) -> list[list[int]]:
    if len(group) <= max_size:
        return [group]
    labels = kmeans(vectors[group], 2)
    halves = [[g for g, label in zip(group, labels) if label == c] for c in (0, 1)]
    if not all(halves):
        return [group]
    return [part for half in halves for part in _split_large(vectors, half, max_size)]


class Synthesiser:
    def __init__(self, llm: LLM | None, cfg: SynthesisConfig | None = None, memory: RunMemory | None = None,
                 language: str | None = None):
        """`memory` (memory/store.Memory, optional) resolves citations of earlier papers, gives their
        categories for bridges, and the weekly counts behind trends. `language`: the prose's, with a model."""
        self.llm = llm
        self.cfg = cfg or SynthesisConfig()
        self.memory = memory
        self.language = language

    def themes(self, week: str, papers: list[Paper], vectors: np.ndarray, decisions: dict[str, Decision],
               links: dict[str, list[Link]], background: list[str]) -> list[ThemeBrief]:
        """Themes with their facts (earlier papers, bridges, trend), before any prose."""
        topics = [decisions[p.id].topic for p in papers]
        groups = cluster_by_topic(np.asarray(vectors, np.float32), topics, self.cfg.max_themes)
        themes = name_themes(groups, papers, decisions, background, merge_rest=self.llm is None)
        by_id = {p.id: p for p in papers}
        unit = {p.id: v / max(float(np.linalg.norm(v)), 1e-12) for p, v in zip(papers, np.asarray(vectors, np.float32))}
        linked = {link.id for ls in links.values() for link in ls}
        categories = self._categories(sorted(linked))
        bg = text_frequencies(background)
        for theme in themes:
            theme.earlier = earlier_papers(theme, links, categories)
            theme.new_ids = [pid for pid in theme.paper_ids if not links.get(pid)]
            theme.bridges = bridges(theme, by_id, unit, theme.earlier, bg)
        counts_near = self.memory.weekly_counts_near if self.memory is not None else None
        try:
            found = trends(themes, unit, week, self.cfg.trend_weeks, counts_near)
        except ValueError as exc:  # a date-range label is not an ISO week: no trend
            log.warning("no trends: %s", exc)
            found = [None] * len(themes)
        for theme, trend in zip(themes, found):
            theme.trend = trend
        return themes

    def synthesise(
        self,
        week: str,
        papers: list[Paper],
        vectors: np.ndarray,
        decisions: dict[str, Decision],
        reviews: dict[str, Review],
        links: dict[str, list[Link]],
        background: list[str],
        memory_week: str | None = None,
    ) -> Synthesis:
        themes = self.themes(memory_week or week, papers, vectors, decisions, links, background)
        by_id = {p.id: p for p in papers}
        memory = self.memory
        checker = CitationChecker(
            {cite_key(p.id) for p in papers} | {cite_key(e.id) for t in themes for e in t.earlier},
            resolve=(lambda ids: memory.known(ids).keys()) if memory is not None else None,
        )
        if self.llm is None:
            return self._offline(week, themes, by_id, reviews, checker)
        writer = LLMWriter(self.llm, self.cfg, checker, self.language)

        def draft(theme: ThemeBrief) -> tuple[ThemeBrief, list[CitationRepair]]:
            try:
                return writer.draft_theme(theme, by_id, reviews)
            except LLMError as exc:
                warn_fallback(log, exc, "theme draft failed (%s): offline prose used", exc)
                writer.fell_back(f"synthesis: theme “{theme.name}”", exc)
                return _with_prose(theme, offline_prose(theme, by_id, reviews), checker), []

        def opening(labelled: list[ThemeBrief]) -> str | None:
            try:
                return writer.overview(week, labelled, by_id, reviews)
            except LLMError as exc:
                warn_fallback(log, exc, "overview failed (%s): offline overview used", exc)
                writer.fell_back("synthesis: the overview", exc)
                return None

        # the overview reads the themes' papers, not their drafts: it is written alongside them
        with ThreadPoolExecutor(max_workers=max(1, min(len(themes) + 1, self.llm.cfg.concurrency))) as pool:
            written = pool.submit(opening, list(themes)) if themes else None
            themes = _unique_names(list(pool.map(draft, themes)))
            overview = (written.result() if written else None) or offline_overview(week, themes)
        overview, _ = checker.clean(normalise(overview))
        self._list_cited_memory(themes, by_id, overview)
        return Synthesis(themes=themes, overview=overview, repairs=writer.repairs, notes=writer.notes,
                         fallbacks=writer.fallbacks)

    def _offline(self, week, themes, by_id, reviews, checker) -> Synthesis:
        themes = [_with_prose(t, offline_prose(t, by_id, reviews), checker) for t in themes]
        overview, _ = checker.clean(offline_overview(week, themes))
        return Synthesis(themes=themes, overview=overview)

    def _list_cited_memory(self, themes: list[ThemeBrief], by_id: dict[str, Paper], overview: str) -> None:
        """A valid citation of a memory paper no link pointed to gets listed under the theme citing it
        (the overview's under the first theme), so every citation in the report names a listed paper."""
        listed = set(by_id) | {e.id for t in themes for e in t.earlier} | {b.b_id for t in themes for b in t.bridges}
        for theme, text in [(t, t.prose) for t in themes] + ([(themes[0], overview)] if themes else []):
            for key in dict.fromkeys(citations(text)):
                pid = key.removeprefix("arXiv:")
                record = self.memory.get(pid) if self.memory is not None and pid not in listed else None
                if record is not None:
                    theme.earlier.append(EarlierPaper(id=pid, title=record.title, week=record.first_seen,
                                                      similarity=0.0, categories=record.categories))
                    listed.add(pid)

    def _categories(self, ids: list[str]) -> dict[str, list[str]]:
        """Memory's categories for the earlier papers links point to (bridges need their fields)."""
        if self.memory is None:
            return {}
        return {pid: record.categories for pid, record in self.memory.get_many(ids).items()}


def _unique_names(drafted: list[tuple[ThemeBrief, list[CitationRepair]]]) -> list[ThemeBrief]:
    """Sections are known by name (citations, repairs): two themes the LLM named alike get numbered, and
    their repairs follow the new name."""
    seen: dict[str, int] = {}
    for theme, repairs in drafted:
        seen[theme.name] = seen.get(theme.name, 0) + 1
        if seen[theme.name] > 1:
            old, theme.name = theme.name, f"{theme.name} ({seen[theme.name]})"
            for repair in repairs:
                repair.section = repair.section.replace(old, theme.name, 1)
    return [theme for theme, _ in drafted]


def _with_prose(theme: ThemeBrief, prose: str, checker: CitationChecker) -> ThemeBrief:
    text, _ = checker.clean(normalise(prose))
    return theme.model_copy(update={"prose": text, "citations": citations(text)})


def trend_sentence(trend: Trend | None) -> str:
    """The trend in words that match the numbers shown: the direction is judged on each week's *share* of
    papers, so the sentence shows the shares, and says so when the raw counts moved the other way."""
    if trend is None or trend.direction == "no history":
        return ""
    known = [(w, c, t) for w, c, t in zip(trend.weeks, trend.counts, trend.totals) if t]
    series = " → ".join(f"{c} of {t} ({c / t:.1%}) in {w}" for w, c, t in known)
    earlier = [w for w, _, _ in known[:-1]]
    span = earlier[0] if len(earlier) == 1 else f"the previous {len(earlier)} weeks in memory"
    if trend.direction == "new":
        return f"Memory holds nothing this close from {span}: a new line of work (nearby papers: {series})."
    counts = _moved([c for _, c, _ in known], min_change=3)
    volume = _moved([t for _, _, t in known])
    word = trend.direction
    caveat = ""
    # e.g. 47 → 26 papers in a week of half the volume: a steady share. Only then is the volume the reason; a
    # count that moved more than the share rule counts as a change (14 → 21 of 366 → 367) gets no caveat
    if counts != word and counts != "steady" and volume == counts:
        caveat = f" In raw counts it is {'rising' if counts == 'growing' else 'falling'}, with the week's volume."
    return f"As a share of each week's papers the theme is {word} against {span} (nearby papers: {series}).{caveat}"


def _moved(series: list[int], min_change: float = 0.0) -> str:
    """The last value against the mean of the ones before: "growing" / "shrinking" by a factor of 1.3 (and by
    at least `min_change`), else "steady"."""
    before = sum(series[:-1]) / max(len(series) - 1, 1)
    now = series[-1] if series else 0
    if now >= 1.3 * before and now - before >= min_change:
        return "growing"
    return "shrinking" if now <= before / 1.3 and before - now >= min_change else "steady"


def offline_prose(theme: ThemeBrief, by_id: dict[str, Paper], reviews: dict[str, Review]) -> str:
    """Templated paragraphs from the theme's facts: its lead paper, ties to earlier weeks, bridges, trend."""
    members = [by_id[i] for i in theme.paper_ids]
    lead = members[0]
    lead_tldr = reviews[lead.id].summary.tldr if lead.id in reviews else lead.title
    first = [
        f"{len(members)} paper{'s' if len(members) > 1 else ''} this week"
        f"{fields_clause(theme)}{sharing_clause(theme)}.",
        lead_clause(cite_key(lead.id), lead.title, "", lead_tldr),
    ]
    shown = 4 if theme.terms else len(members)  # a theme sharing no phrase (a topic's rest) has no story but its list
    others = [f"[{cite_key(p.id)}]" for p in members[1:shown]]
    if others:
        first.append(f"Also here: {', '.join(others)}{f' and {len(members) - shown} more' if len(members) > shown else ''}.")
    paragraphs = [" ".join(first)]
    if theme.earlier:
        e = theme.earlier[0]
        why = f"; shared: {', '.join(e.shared_terms[:3])}" if e.shared_terms else ""
        n_tied = len(members) - len(theme.new_ids)
        text = (f"{n_tied} of them build{'s' if n_tied == 1 else ''} on papers from earlier weeks; closest, "
                f"[{cite_key(e.linked_from[0])}] follows [{cite_key(e.id)}] “{e.title}” ({e.week}, similarity "
                f"{e.similarity:.2f}{why}).")
        more = [f"[{cite_key(x.id)}] ({x.week})" for x in theme.earlier[1:4]]
        if more:
            text += f" Also linked: {', '.join(more)}."
        if theme.new_ids:
            text += f" {len(theme.new_ids)} {'has' if len(theme.new_ids) == 1 else 'have'} nothing close in memory: new ground."
        paragraphs.append(text)
    else:
        paragraphs.append("Nothing in memory from earlier weeks is close to this theme: new ground.")
    if theme.bridges:
        b = theme.bridges[0]
        where = f"{b.b_category}, {b.b_week}" if b.b_week else b.b_category
        paragraphs.append(f"Across fields, [{cite_key(b.a_id)}] ({b.a_category}) and [{cite_key(b.b_id)}] ({where}) "
                          f"meet on {', '.join(b.shared_terms)}.")
    trend = trend_sentence(theme.trend)
    if trend:
        paragraphs.append(trend)
    return "\n\n".join(paragraphs)


def offline_overview(week: str, themes: list[ThemeBrief]) -> str:
    if not themes:
        return f"{week}: no accepted papers."
    n_papers = sum(len(t.paper_ids) for t in themes)
    n_linked = sum(len(t.paper_ids) - len(t.new_ids) for t in themes)
    linked = f"{counted(n_linked, 'paper')} {'links' if n_linked == 1 else 'link'} to work seen in earlier weeks"
    named = [t for t in themes if t.terms]  # themes about a shared phrase; the others are a topic's assorted rest
    largest = max(themes, key=lambda t: len(t.paper_ids))
    if named and not largest.terms:  # lead with a subject, not with the rest
        top = max(named, key=lambda t: len(t.paper_ids))
        rest = sum(len(t.paper_ids) for t in themes if not t.terms)
        text = (f"{week}: {counted(n_papers, 'accepted paper')} in {counted(len(themes), 'theme')}; the largest about "
                f"one subject is “{top.name}” ({counted(len(top.paper_ids), 'paper')}), and {rest} "
                f"{'shares' if rest == 1 else 'share'} no subject with the others (listed by topic). {linked}.")
    else:
        text = f"{week}: {grouped(counted(n_papers, 'accepted paper'), 'theme', [(t.name, len(t.paper_ids)) for t in themes])}. {linked}."
    # a topic's assorted rest shares no phrase: its "trend" is its topic's volume, not a subject on the rise
    moving = [f"“{t.name}” ({t.trend.direction})" for t in themes
              if t.terms and t.trend and t.trend.direction in ("growing", "new")]
    if moving:
        text += f" On the rise: {', '.join(moving[:3])}."
    n_bridges = sum(len(t.bridges) for t in themes)
    if n_bridges:
        text += f" {counted(n_bridges, 'cross-field bridge')}, e.g. within “{next(t.name for t in themes if t.bridges)}”."
    return text
