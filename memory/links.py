"""Links: each new paper's nearest earlier papers in memory, each with the reasons they are tied."""

from __future__ import annotations

import numpy as np

from brief.memory.store import Memory
from brief.models import Link, Paper
from brief.text import document_frequencies, shared_terms


def _norm(name: str) -> str:
    return " ".join(name.lower().replace(".", " ").split())


def find_links(
    memory: Memory,
    papers: list[Paper],
    embeddings: np.ndarray,
    week: str,
    k: int,
    threshold: float,
) -> dict[str, list[Link]]:
    """For each paper, up to k papers first seen before `week` with cosine similarity ≥ threshold.

    Shared authors and shared distinctive terms say why two papers are tied; `cross_field` marks ties
    across primary archives (cs ↔ eess, astro-ph ↔ physics), the links a single-field digest never shows.
    """
    candidates = memory.neighbours(embeddings, before_week=week, k=k * 2)
    background = document_frequencies(p.text_for_embedding() for p in papers)
    links: dict[str, list[Link]] = {}
    for paper, near in zip(papers, candidates):
        own_authors = {_norm(a): a for a in paper.authors}
        chosen = []
        for record in near:
            if record.id == paper.id or (record.similarity or 0) < threshold:
                continue
            chosen.append(
                Link(
                    id=record.id,
                    title=record.title,
                    week=record.first_seen,
                    similarity=record.similarity or 0.0,
                    shared_authors=[own_authors[n] for n in own_authors if n in {_norm(a) for a in record.authors}],
                    shared_terms=shared_terms(
                        paper.text_for_embedding(), f"{record.title}. {record.abstract}", background, k=4
                    ),
                    cross_field=bool(record.categories) and record.primary_archive != paper.primary_archive,
                )
            )
            if len(chosen) == k:
                break
        links[paper.id] = chosen
    return links
