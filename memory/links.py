"""Links: each new paper's nearest earlier papers in memory, each with the reasons they are tied.

A link says why: the cosine similarity of the two abstracts, the authors they share, the distinctive
terms they share (rare in the week's papers, so "model" or "results" never count), and whether it
crosses fields (different primary archive: cs ↔ eess, astro-ph ↔ physics), the ties a single-field
digest never shows.

The similarity threshold is calibrated (`calibrate_threshold`, run on real data by
bench/link_threshold.py): a link must beat what a paper reaches against an *unrelated* field's memory of
the same size, i.e. be more than "the least bad of many papers". See README, "How links are calibrated".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

from brief.memory.store import Memory
from brief.models import Link, Paper
from brief.text import document_frequencies, shared_terms

COMMON_SHARE = 0.1  # a term in more than this share of the background documents is not distinctive


def author_keys(name: str) -> tuple[str, str]:
    """(full key, short key) of a name: `Jürgen A. Schmidt` → ("jurgen a schmidt", "j schmidt"). Short keys
    let "J. Schmidt" (a .bib abbreviation) match "Jürgen Schmidt"; full keys are compared first. Accents
    are dropped, other scripts kept."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    parts = re.sub(r"[^\w\- ]+", " ", plain.replace(".", " ")).split()
    if not parts:
        return "", ""
    return " ".join(parts), f"{parts[0][0]} {parts[-1]}"


def _abbreviated(full: str) -> bool:
    return bool(full) and len(full.split()[0]) == 1


def shared_authors(mine: list[str], theirs: list[str]) -> list[str]:
    """My authors who also wrote the other paper (full names equal, or one side abbreviated to an initial)."""
    keys = [author_keys(a) for a in theirs]
    their_full = {full for full, _ in keys if full}
    their_short = {short for full, short in keys if full}
    their_abbreviated = {short for full, short in keys if _abbreviated(full)}
    out = []
    for name in mine:
        full, short = author_keys(name)
        if full and (full in their_full or short in their_abbreviated or (_abbreviated(full) and short in their_short)):
            out.append(name)
    return out


def distinctive_shared_terms(a: str, b: str, background: tuple, k: int = 4) -> list[str]:
    df, n = background
    limit = max(2, COMMON_SHARE * n) if n >= 20 else None
    candidates = shared_terms(a, b, background, k=k * 3)
    return [t for t in candidates if limit is None or df.get(t, 0) <= limit][:k]


def find_links(
    memory: Memory,
    papers: list[Paper],
    embeddings: np.ndarray,
    week: str,
    k: int,
    threshold: float,
    background: Iterable[str] | None = None,
) -> dict[str, list[Link]]:
    """For each paper, up to k papers seen before `week` (see Memory.neighbours) with cosine ≥ threshold,
    each with its why. `background`: the texts that define "distinctive" (default: `papers` themselves;
    the weekly graph passes the whole week's papers)."""
    candidates = memory.neighbours(embeddings, before_week=week, k=k * 2)
    texts = list(background) if background is not None else [p.text_for_embedding() for p in papers]
    freq = document_frequencies(texts)
    links: dict[str, list[Link]] = {}
    for paper, near in zip(papers, candidates):
        chosen = []
        for record in near:
            if record.id == paper.id or (record.similarity or 0) < threshold:
                continue
            chosen.append(
                Link(
                    id=record.id,
                    title=record.title,
                    # an undated import has no week of its own: say it is from the user's library
                    week=record.first_seen if record.dated else f"library, imported {record.first_seen}",
                    similarity=record.similarity or 0.0,
                    shared_authors=shared_authors(paper.authors, record.authors),
                    shared_terms=distinctive_shared_terms(
                        paper.text_for_embedding(), f"{record.title}. {record.abstract}", freq, k=4
                    ),
                    cross_field=bool(record.categories) and bool(paper.categories)
                    and record.primary_archive != paper.primary_archive,
                )
            )
            if len(chosen) == k:
                break
        links[paper.id] = chosen
    return links


# -- calibration ---------------------------------------------------------------------------------------


class ThresholdRow(BaseModel):
    threshold: float
    chance_rate: float = Field(description="share of new papers whose best match in the unrelated memory reaches it")
    linked: float = Field(description="share of new papers with at least one earlier link at this threshold")
    links_per_paper: float = Field(description="mean links per new paper (at most k)")
    shared_author_rate: float | None = Field(None, description="share of those links whose papers share an author")


class Calibration(BaseModel):
    threshold: float
    quantile: float
    k: int
    n_new: int
    n_earlier: int
    n_unrelated: int
    below_shared_author_rate: float | None = Field(None, description="the same share among top-k candidates below the threshold")
    rows: list[ThresholdRow]


def _top(queries: np.ndarray, pool: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k cosine (rows are unit vectors): (similarities, indices), best first."""
    sims = queries @ pool.T
    k = min(k, pool.shape[0])
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(sims, idx, axis=1)
    order = np.argsort(-part, axis=1)
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(idx, order, axis=1)


def calibrate_threshold(
    new: np.ndarray,
    earlier: np.ndarray,
    unrelated: np.ndarray,
    new_authors: list[list[str]] | None = None,
    earlier_authors: list[list[str]] | None = None,
    k: int = 3,
    quantile: float = 0.95,
    grid: Iterable[float] = tuple(round(0.30 + 0.05 * i, 2) for i in range(11)),
) -> Calibration:
    """The link threshold: the lowest 0.01 step that at most 1 - `quantile` of the new papers reach with
    their best match in an unrelated field's memory (`unrelated`, ideally as large as `earlier`). Above it a link is unlikely
    to be the least-bad match among many papers: at 0.95, 1 new paper in 20 gets one chance link.

    The table shows, per threshold, that chance rate, how many new papers get links from the real
    earlier memory, and, as independent evidence that the links are real, how often linked papers share
    an author (against the same rate below the threshold)."""
    new, earlier, unrelated = (np.asarray(x, dtype=np.float32) for x in (new, earlier, unrelated))
    null_top = _top(new, unrelated, 1)[0][:, 0].astype(np.float64)
    steps = np.round(np.arange(-100, 101) / 100, 2)  # the lowest 0.01 step that at most 1 - quantile reach
    threshold = float(next(t for t in steps if (null_top >= t).mean() <= 1 - quantile + 1e-9))
    sims, idx = _top(new, earlier, k)
    sims = sims.astype(np.float64)
    authored = new_authors is not None and earlier_authors is not None
    share = None
    if authored:
        share = np.array([[bool(shared_authors(new_authors[q], earlier_authors[j])) for j in row] for q, row in enumerate(idx)])
    rows = []
    for t in sorted({*grid, threshold}):
        above = sims >= t
        rows.append(ThresholdRow(
            threshold=round(float(t), 2),
            chance_rate=round(float((null_top >= t).mean()), 4),
            linked=round(float(above.any(axis=1).mean()), 4),
            links_per_paper=round(float(above.sum(axis=1).mean()), 3),
            shared_author_rate=round(float(share[above].mean()), 4) if authored and above.any() else None,
        ))
    below = sims < threshold
    return Calibration(
        threshold=threshold, quantile=quantile, k=k, n_new=len(new), n_earlier=len(earlier), n_unrelated=len(unrelated),
        below_shared_author_rate=round(float(share[below].mean()), 4) if authored and below.any() else None,
        rows=rows,
    )
