"""The themed review's pool: memory records as papers, memory and fresh results merged into one pool (by id,
then by title), its size, the facet check of a composite theme, and how each paper is dated.
graphs/review.py calls these; they read no graph state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from brief.agents import fetcher
from brief.agents.review_writer import span_text
from brief.models import Paper
from brief.ids import title_key
from brief.protocols import RunMemory
from brief.sources.window import week_of, week_ordinal

if TYPE_CHECKING:
    from brief.memory.records import Record


def pool_size(max_papers: int) -> int:
    """Candidates screened for a review keeping `max_papers`: room for the screener to say no."""
    return max(3 * max_papers, 60)



def paper_of(record: Record) -> Paper:
    published = record.published or ""
    return Paper(id=record.id, version=record.version or None, title=record.title, abstract=record.abstract,
                 authors=record.authors, categories=record.categories, url=record.url or None, source="memory",
                 sources=["memory"], doi=record.doi or None,
                 journal_ref=record.journal_ref or None,
                 published=date.fromisoformat(published[:10]) if published[:10].count("-") == 2 else None)


def in_weeks(week: str, since: date | None, until: date | None) -> bool:
    ordinal = week_ordinal(week)
    return ((since is None or ordinal >= week_ordinal(week_of(since)))
            and (until is None or ordinal <= week_ordinal(week_of(until))))


def nearest_records(memory: RunMemory, vector: np.ndarray, k: int, since_week: str | None = None) -> list[Record]:
    """The k remembered papers nearest `vector`, from both collections: a theme outside the weekly criteria
    lives mostly among the papers those criteria screened out. Stubs (a bare id, no text) are skipped."""
    found = memory.search(vector, k, since_week, True)
    return [r for r in found if r.title and not r.stub]



def combine(keep: Paper, drop: Paper) -> Paper:
    """One record for a paper found under two ids: the arXiv one, with what the other adds."""
    return keep.model_copy(update={"sources": sorted(set(keep.sources) | set(drop.sources)), "doi": keep.doi or drop.doi,
                                   "journal_ref": keep.journal_ref or drop.journal_ref,
                                   "published": keep.published or drop.published, "abstract": keep.abstract or drop.abstract})



@dataclass
class Pool:
    """Memory and fresh results as one pool, before ranking."""

    papers: list[Paper]
    origin: dict[str, str]  # id → "memory", "fresh" or "both"
    first_seen: dict[str, str]
    title_merged: int


def merge_pool(memory_hits: list[Paper], fresh_hits: list[Paper], first_seen: dict[str, str], undated: list[str]) -> Pool:
    """The same canonical id merges; then the same title merges when one side has no arXiv id (a DOI or
    title-keyed library record of an arXiv paper; two arXiv ids are two papers)."""
    first_seen = dict(first_seen)
    by_id: dict[str, Paper] = {p.id: p for p in memory_hits}
    origin: dict[str, str] = {pid: "memory" for pid in by_id}
    for paper in fresh_hits:
        if paper.id in by_id:
            by_id[paper.id] = fetcher.merge(by_id[paper.id], paper)
        else:
            by_id[paper.id] = paper
        origin[paper.id] = "both" if paper.id in first_seen or paper.id in undated else "fresh"
    by_title: dict[str, str] = {}
    title_merged = 0
    for pid in list(by_id):
        key = title_key(by_id[pid].title)
        other = by_title.get(key)
        if other is None or (by_id[pid].is_arxiv and by_id[other].is_arxiv):  # two arXiv ids: two papers
            by_title.setdefault(key, pid)
            continue
        keep, drop = (pid, other) if by_id[pid].is_arxiv and not by_id[other].is_arxiv else (other, pid)
        by_id[keep] = combine(by_id[keep], by_id.pop(drop))
        origins = {origin[keep], origin.pop(drop)}
        origin[keep] = "both" if len(origins) > 1 or "both" in origins else origins.pop()
        weeks = [w for w in (first_seen.get(keep), first_seen.pop(drop, None)) if w]
        if weeks:
            first_seen[keep] = min(weeks, key=week_ordinal)
        by_title[key] = keep
        title_merged += 1
    return Pool(list(by_id.values()), origin, first_seen, title_merged)


FACET_FLOOR = 0.2  # measured on the eclipse corpus: single-part papers sit below it, two-part ones above


def facet_check(papers: list[Paper], vectors: np.ndarray, facet_vectors: np.ndarray, facets: list[str],
                decisions: dict) -> tuple[dict, int]:
    """Reject every candidate whose similarity to some facet is under FACET_FLOOR, saying so in its reason;
    returns the decisions and how many of them had been accepted."""
    out, dropped = dict(decisions), 0
    for paper, sims in zip(papers, vectors @ facet_vectors.T):
        d = out.get(paper.id)
        weakest = int(np.argmin(sims))
        if d is not None and d.stage != "author" and sims[weakest] < FACET_FLOOR:
            out[paper.id] = d.model_copy(update={"accepted": False, "topic": None, "reason": d.reason +
                                                 f"; far from “{facets[weakest]}” (similarity {sims[weakest]:.2f})"})
            dropped += d.accepted
    return out, dropped


def keep_best(decisions: dict, max_papers: int) -> tuple[dict, int]:
    """The best `max_papers` accepts (relevance, then score) stay; returns the decisions and how many the cap cut."""
    out = dict(decisions)
    accepted = sorted((d for d in out.values() if d.accepted), key=lambda d: (-d.relevance, -d.score, d.paper_id))
    for d in accepted[max_papers:]:
        out[d.paper_id] = d.model_copy(update={"accepted": False, "reason": d.reason + f"; below the review's top {max_papers}"})
    return out, max(0, len(accepted) - max_papers)



def when_seen(papers: list[Paper], first_seen: dict[str, str], undated: list[str]) -> dict[str, str]:
    """How the review dates each paper: the week memory first saw it, else its publication (fresh search)."""
    out = {}
    undated_ids = set(undated)
    for p in papers:
        if first_seen.get(p.id):
            out[p.id] = f"first seen {first_seen[p.id]}"
        elif p.id in undated_ids:
            out[p.id] = "in your library (undated)"
        else:
            out[p.id] = f"published {p.published.isoformat()}" if p.published else "fresh search"
    return out


def coverage(accepted: list[Paper], origin: Mapping[str, str], seen: dict[str, str], fresh: bool) -> str:
    """Where the review's papers came from; `seen` is when_seen's dating."""
    n_memory = sum(1 for p in accepted if origin.get(p.id) in ("memory", "both"))
    text = f"{n_memory} from memory, first seen {span_text([p.id for p in accepted], seen)}"
    if fresh:
        text += f"; {len(accepted) - n_memory} only from the fresh arXiv search"
    return text
