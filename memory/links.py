"""Links: each new paper's nearest earlier papers in memory, each with the reasons they are tied.

A link says why: the cosine similarity of the two abstracts, the authors they share, the distinctive
terms they share (phrases and content words rare in the week's papers, never generic academic words:
brief/phrases.py), and whether it crosses fields (brief/fields.py: cs.AI ⇄ cs.CL is one field, cs.LG ⇄ cs.RO
or cs ⇄ eess are two), the ties a single-field digest never shows; `reason` is the strongest of these. An
earlier version of the paper itself (its preprint, under another id: `same_work`) comes first.

The similarity threshold is calibrated (`calibrate_threshold`, run on real data by
bench/link_threshold.py): a link must beat what a paper reaches against an *unrelated* field's memory of
the same size, i.e. be more than "the least bad of many papers". See README, "How links are calibrated".
"""

from __future__ import annotations

from typing import Any

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

from brief.protocols import RunMemory
from brief.models import Link, Paper
from brief.fields import cross_field
from brief.ids import work_title
from brief.report.latex import latex_to_text
from brief.phrases import reads_as_subject, shared_phrases, text_frequencies
from brief.text import authors_agree, shared_authors


# Evidence weights on top of the cosine (measured on the judged eclipse weeks, evals/data/judge_links_*.jsonl):
PHRASE_BONUS = 0.02  # per shared distinctive term, at most three
AUTHOR_BONUS = 0.06  # shared authors: the same group's follow-up work
TOPIC_BONUS = 0.02  # both matched the same criteria topic
HUB_FREE = 2  # an earlier paper near this many of the week's papers is not a hub yet
HUB_TYPICAL = 75  # ... nor one near no more than this percentile of the earlier papers near any
HUB_PENALTY = 0.02  # per further paper it is near: a paper near everything says nothing about any one
EVIDENCE_MARGIN = 0.08  # the score (cosine + evidence - hub penalty) must beat the threshold by this much
BARE_MARGIN = 0.09  # a link with no evidence but the cosine must beat the threshold by this much
MAX_PER_TARGET = 3  # links to one earlier paper in a week, unless the same authors wrote both
SAME_WORK_SCORE = 10.0  # above any cosine with evidence: an earlier version of the paper is its first link


def same_work(paper: Paper, record: Any) -> bool:
    """Whether an earlier paper is this one under another id (the arXiv preprint of a journal paper, seen in an
    earlier week), by the fetcher's rule for two versions arriving in one week: the same `ids.work_title` and
    authors that agree (`text.authors_agree`)."""
    title = work_title(latex_to_text(paper.title))
    return title is not None and title == work_title(latex_to_text(record.title)) and authors_agree(paper.authors, record.authors)


def hub_excess(near_counts: Counter[str]) -> dict[str, float]:
    """Per earlier paper, how many more of the week's papers it is near than earlier papers typically are: the
    count the hub penalty multiplies. A hub is near many more papers than usual: in a narrow memory (every paper
    on one topic) everything is near everything, and that is no reason to drop links. "Usual" is the
    HUB_TYPICAL percentile of the counts, at least HUB_FREE, rounded up to whole papers (a paper near 9 when the
    percentile falls at 8.5 is typical, not half a hub)."""
    if not near_counts:
        return {}
    free = max(HUB_FREE, math.ceil(float(np.percentile(list(near_counts.values()), HUB_TYPICAL))))
    return {pid: float(max(0, count - free)) for pid, count in near_counts.items()}


def threshold_for(configured: float, memory_size: int) -> float:
    """The link threshold for a memory of `memory_size` papers: the configured one (calibrated at ~3,000 papers),
    raised as memory grows because chance matches rise with it (bench/link_threshold.py: the chance level
    was 0.43 at 300 papers, 0.51 at 1,000, 0.53 at 2,945, about +0.10 per tenfold)."""
    # Only raised, relative to the configured value: another embedder scores on its own scale, and a threshold
    # the user lowered stays theirs.
    return round(configured + max(0.0, 0.10 * float(np.log10(max(memory_size, 1) / 2945))), 3)


# Two random papers of a week of eclipse cs (the corpus the threshold was calibrated on) have a median cosine of
# 0.21 (dw cs 0.19); of astro-ph 0.30: a narrower field is close everywhere, and its chance matches are higher
# by about as much (a paper's best of 300: 0.52-0.53 cs, 0.59 astro-ph). Weeks of one cs mix differ by up to
# ~0.02 (the demo sample's W23 and W24), which is no narrower field: only what lies beyond that counts.
FIELD_BASELINE = 0.21
FIELD_NOISE = 0.03
FIELD_SAMPLE = 400


def field_sample(papers: list[Paper]) -> list[Paper]:
    """An evenly spaced sample of the week's papers, enough to tell how close its field is."""
    return papers[:: max(1, len(papers) // FIELD_SAMPLE)][:FIELD_SAMPLE]


def field_closeness(vectors: np.ndarray) -> float:
    """How much closer two random papers of this week's field are than in the calibration corpus (never below 0):
    the median cosine over pairs of `field_sample`'s vectors, less FIELD_BASELINE and FIELD_NOISE."""
    sample = np.asarray(vectors, dtype=np.float32)
    if len(sample) < 50:  # too few to tell a field's spread
        return 0.0
    upper = np.triu_indices(len(sample), 1)
    return max(0.0, round(float(np.median((sample @ sample.T)[upper])) - FIELD_BASELINE - FIELD_NOISE, 3))


class _Candidate(BaseModel):
    paper_id: str
    link: Link
    score: float
    strong: bool


def _evidence(paper: Paper, record: Any, topic: str | None, freq: tuple[Counter[str], int], area: tuple[Counter[str], int],
              excess: float) -> tuple[float, Link, bool, bool]:
    """(score, link, same authors, any evidence besides the cosine): the cosine plus what else the two share,
    minus the hub penalty. Every rare term they share counts; the link shows those that read as a subject."""
    sim = record.similarity or 0.0
    authors = shared_authors(paper.authors, record.authors)
    terms = shared_phrases(paper.text_for_embedding(), f"{record.title}. {record.abstract}", freq, k=4, area=area)
    shown = [t for t in terms if reads_as_subject(t, f"{paper.title}. {record.title}")]
    same_topic = bool(topic) and topic == record.topic
    score = (sim + PHRASE_BONUS * min(len(terms), 3) + AUTHOR_BONUS * bool(authors) + TOPIC_BONUS * same_topic
             - HUB_PENALTY * excess)
    if authors:
        reason = f"same authors: {', '.join(authors[:2])}"
    elif shown:
        reason = f"both on {', '.join(shown[:2])}"
    else:
        reason = "close abstracts"  # the similarity is shown beside every link
    link = Link(
        id=record.id, title=record.title,
        # an undated import has no week of its own: say it is from the user's library
        week=record.first_seen if record.dated else f"library, imported {record.first_seen}",
        similarity=sim, shared_authors=authors, shared_terms=shown, reason=reason,
        cross_field=bool(record.categories) and bool(paper.categories)
        and cross_field(paper.primary_category, record.categories[0]),
    )
    return score, link, bool(authors), bool(authors or terms)


def find_links(
    memory: RunMemory,
    papers: list[Paper],
    embeddings: np.ndarray,
    week: str,
    k: int,
    threshold: float,
    background: Iterable[str] | None = None,
    topics: dict[str, str | None] | None = None,
    field: np.ndarray | None = None,
) -> dict[str, list[Link]]:
    """For each paper, up to k papers seen before `week` (see Memory.neighbours) that a reader would want
    beside it, each with its why. Candidates are the nearest by cosine; each is re-scored on the evidence the
    two share (distinctive terms, authors, matched topic), hubs (earlier papers near many of this week's
    papers) are penalised, and a link stands when its score beats the memory-size threshold (`threshold_for`)
    by EVIDENCE_MARGIN or, with nothing but the cosine for it, by BARE_MARGIN. Terms shared by many of
    `papers` (the reader's whole field) are no evidence. No earlier paper takes
    more than MAX_PER_TARGET links in a week unless each extra one shares authors with it. `background`: the
    texts that define "distinctive" (default: `papers` themselves; the weekly graph passes the whole week's
    papers); `topics`: each paper's matched criteria topic; `field`: the vectors of `field_sample(week)`, whose closeness
    (`field_closeness`) raises the threshold for a field where any two papers are close."""
    pool = memory.neighbours(embeddings, before_week=week, k=max(3 * k, 8))
    texts = list(background) if background is not None else [p.text_for_embedding() for p in papers]
    freq = text_frequencies(texts)
    area = text_frequencies([p.text_for_embedding() for p in papers])  # terms most of them share name the field
    cut = threshold_for(threshold, memory.count()) + (field_closeness(field) if field is not None else 0.0)
    floor = cut - AUTHOR_BONUS  # below the threshold only the same authors' work can still qualify
    excess = hub_excess(Counter(r.id for near in pool for r in near if (r.similarity or 0) >= cut))
    candidates: list[_Candidate] = []
    for paper, near in zip(papers, pool):
        for record in near:
            same = record.id != paper.id and same_work(paper, record)
            if record.id == paper.id or ((record.similarity or 0) < floor and not same):
                continue
            score, link, strong, evidence = _evidence(paper, record, (topics or {}).get(paper.id), freq, area,
                                                      excess.get(record.id, 0))
            if same:  # first, whatever the threshold says: it is the paper the reader saw
                link = link.model_copy(update={"same_work": True, "reason": "the same paper: an earlier version"})
                candidates.append(_Candidate(paper_id=paper.id, link=link, score=SAME_WORK_SCORE, strong=True))
                continue
            if (record.similarity or 0) - HUB_PENALTY * excess.get(record.id, 0) >= cut + BARE_MARGIN if not evidence \
                    else score >= cut + EVIDENCE_MARGIN:
                candidates.append(_Candidate(paper_id=paper.id, link=link, score=score, strong=strong))
    return _cap(candidates, papers, k)


def _cap(candidates: list[_Candidate], papers: list[Paper], k: int) -> dict[str, list[Link]]:
    """Best first: at most k links a paper and MAX_PER_TARGET (weak) links to one earlier paper."""
    links: dict[str, list[Link]] = {p.id: [] for p in papers}
    per_target: Counter[str] = Counter()
    for c in sorted(candidates, key=lambda c: (-c.score, c.paper_id, c.link.id)):
        if len(links[c.paper_id]) >= k or (per_target[c.link.id] >= MAX_PER_TARGET and not c.strong):
            continue
        links[c.paper_id].append(c.link)
        per_target[c.link.id] += 1
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


GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(11))  # the thresholds the calibration table shows


def calibrate_threshold(
    new: np.ndarray,
    earlier: np.ndarray,
    unrelated: np.ndarray,
    new_authors: list[list[str]] | None = None,
    earlier_authors: list[list[str]] | None = None,
    k: int = 3,
    quantile: float = 0.95,
    grid: Iterable[float] = GRID,
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
    share: np.ndarray | None = None
    if new_authors is not None and earlier_authors is not None:
        share = np.array([[bool(shared_authors(new_authors[q], earlier_authors[j])) for j in row] for q, row in enumerate(idx)])
    rows = []
    for t in sorted({*grid, threshold}):
        above = sims >= t
        rows.append(ThresholdRow(
            threshold=round(float(t), 2),
            chance_rate=round(float((null_top >= t).mean()), 4),
            linked=round(float(above.any(axis=1).mean()), 4),
            links_per_paper=round(float(above.sum(axis=1).mean()), 3),
            shared_author_rate=round(float(share[above].mean()), 4) if share is not None and above.any() else None,
        ))
    below = sims < threshold
    return Calibration(
        threshold=threshold, quantile=quantile, k=k, n_new=len(new), n_earlier=len(earlier), n_unrelated=len(unrelated),
        below_shared_author_rate=round(float(share[below].mean()), 4) if share is not None and below.any() else None,
        rows=rows,
    )
