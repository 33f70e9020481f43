"""The week's budget of accepts, shared across topics, and each topic's scores on one common scale.

Topics live on different similarity scales (a broad topic sits closer to every paper than a narrow one),
so a raw similarity cut means something different per topic. Each topic's evidence is calibrated against
the week's own papers: how many standard deviations a paper stands above that topic's background. One
threshold on that scale means the same for every topic. The cap is then shared: each topic with
qualifying papers gets a floor, the rest of the slots go by merit; a topic's `max_papers` bounds it.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel

from brief.config import Topic
from brief.models import TopicCount

MIN_BACKGROUND = 30  # fewer papers than this in a week: too few to measure a topic's background
# measured on a cs.LG/AI and a cs.CV/CL week (MiniLM): a topic's net evidence over unrelated papers
PRIOR_CENTER, PRIOR_SPREAD = 0.16, 0.08
# relevance/10 ≈ P(relevant | calibrated score): fitted on the shipped astro-ph and cs.AI/CV labelled sets
_P_INTERCEPT, _P_SLOPE = -3.2, 1.0


def calibrate(net: np.ndarray) -> np.ndarray:
    """Per topic (column): (evidence − the week's median) / the week's spread, robust to the few matches."""
    net = np.asarray(net, dtype=float)
    if len(net) < MIN_BACKGROUND:
        center, spread = np.full(net.shape[1], PRIOR_CENTER), np.full(net.shape[1], PRIOR_SPREAD)
    else:
        center = np.median(net, axis=0)
        mad = 1.4826 * np.median(np.abs(net - center), axis=0)
        spread = np.maximum(mad, 0.02)
    return (net - center) / spread


def chance_excess(merits: list[float], n_background: int, max_share: float) -> float:
    """The lowest merit a topic's candidates must reach so that at most `max_share` of those above it are
    expected to be there by chance: the false discovery rate of Benjamini and Hochberg, with the week's own
    papers as the null. On the calibrated scale the background is close to a standard normal, so of
    `n_background` papers about n·Q(m) reach merit m by chance; above the cut, that count over the number of
    candidates that reach it stays under `max_share`. A broad topic with many matches keeps a low cut; a
    narrow one with a handful keeps only those that stand out from the week. `inf` when none qualifies."""
    ranked = sorted(merits, reverse=True)
    cut = math.inf
    for rank, merit in enumerate(ranked, start=1):  # step-up: the deepest rank that still holds
        if n_background * 0.5 * math.erfc(merit / math.sqrt(2)) <= max_share * rank:
            cut = merit
    return cut


def probability(merit: float) -> float:
    return 1.0 / (1.0 + math.exp(-(_P_INTERCEPT + _P_SLOPE * merit)))


def relevance(merit: float) -> int:
    """The 1-10 scale the LLM uses, as a calibrated probability: 3 means about 30% of such papers are relevant."""
    return relevance_of(probability(merit))


def relevance_of(p: float) -> int:
    """A probability of relevance on the LLM's 1-10 scale."""
    return int(np.clip(round(10 * p), 1, 10))


class Candidate(BaseModel):
    paper_id: str
    topic: str
    merit: float


def floor_size(cap: int, n_topics: int) -> int:
    """Half the cap is shared evenly among the topics with qualifying papers; the other half goes by merit."""
    return max(1, math.ceil(cap / (2 * n_topics))) if n_topics else 0


def allocate(candidates: list[Candidate], cap: int, topics: list[Topic]) -> tuple[set[str], list[TopicCount]]:
    """Which qualifying candidates fit the week's cap, and per topic: qualifying / accepted / cut."""
    limit = {t.name: t.max_papers for t in topics if t.max_papers is not None}
    by_topic: dict[str, list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: (-c.merit, c.paper_id)):
        by_topic.setdefault(c.topic, []).append(c)
    floor = floor_size(cap, len(by_topic))
    taken: set[str] = set()
    count = dict.fromkeys(by_topic, 0)
    for topic, ranked in sorted(by_topic.items(), key=lambda kv: -kv[1][0].merit):  # strongest topics first
        for c in ranked[:min(floor, limit.get(topic, floor))]:
            if len(taken) < cap:
                taken.add(c.paper_id)
                count[topic] += 1
    for c in sorted(candidates, key=lambda c: (-c.merit, c.paper_id)):
        if len(taken) >= cap:
            break
        if c.paper_id not in taken and count[c.topic] < limit.get(c.topic, cap):
            taken.add(c.paper_id)
            count[c.topic] += 1
    order = [t.name for t in topics] + sorted(set(by_topic) - {t.name for t in topics})
    table = [TopicCount(topic=name, qualifying=len(by_topic.get(name, [])), accepted=count.get(name, 0),
                        cut=len(by_topic.get(name, [])) - count.get(name, 0)) for name in order]
    return taken, table
