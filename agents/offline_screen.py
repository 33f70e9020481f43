"""Offline decisions: stage 1 alone, on the topics' evidence calibrated per topic, nudged by what it learned.

For each paper: the topic whose evidence wins, its calibrated score there (standard deviations above the
week's papers for that topic, plus keyword hits and the labels' nudge), a relevance on the LLM's 1-10 scale
that reads as a probability, and accepted when the score clears `offline_z`, the raw similarity clears the
topic's floor, no "not relevant" note of the topic fits it better than the topic's own items, the score stands
out from what the week's papers reach by chance (`offline_fdr`: a narrow topic with a handful of matches does
not fill its share of the cap with near misses; where nothing of a topic stands out, only the papers naming one
of its keywords stay), and the topic's share of the week's cap has room.

Once stage 1 has learned from enough labels (offline_learning.learned_probability), its calibrated
probability is the relevance instead, and a paper is accepted at the LLM's own bar (`accept_relevance`):
the criteria still name the topic, and a "not relevant" note or an excluded keyword still rejects.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from brief.agents import budget
from brief.agents.offline_learning import adjustment
from brief.agents.topic_evidence import Evidence
from brief.config import Criteria, ScreeningConfig
from brief.models import Labels
from brief.models import Decision, Paper, Score, TopicCount

KEYWORD_Z = 0.5  # calibrated units per keyword hit (at most 3)
CHANCE_BACKGROUND = 300  # papers a week needs before its chance level decides (see _beyond_chance)


def decide(papers: list[Paper], scores: list[Score], evidence: Evidence, vectors: np.ndarray, criteria: Criteria,
           cfg: ScreeningConfig, labels: Labels | None, excluded: list[str | None],
           learned: np.ndarray | None = None) -> tuple[list[Decision], list[TopicCount]]:
    """`learned`: P(relevant) per paper from stage 1's learned ranker, or None (the topics' evidence decides)."""
    z = budget.calibrate(evidence.net)
    nudge = adjustment(labels, vectors) if learned is None else np.zeros(len(papers))
    floors = {t.name: t.threshold if t.threshold is not None else cfg.similarity_threshold for t in criteria.topics}
    decisions, candidates, named = [], [], set()  # named: candidates naming one of their topic's keywords
    for i, (paper, s) in enumerate(zip(papers, scores)):
        t = int(evidence.best[i])
        topic = criteria.topics[t].name
        if s.author_hits and not excluded[i]:
            decisions.append(Decision(paper_id=paper.id, accepted=True, stage="author", relevance=10, novelty=0,
                                      topic=topic, reason=f"author match: {', '.join(s.author_hits)}", score=s.score))
            continue
        support = float(evidence.support[i, t])
        # a paper one of the topic's "not relevant" notes describes better than any of its items is out:
        # on four judged weeks, 1 of 65 such papers was relevant
        described_by_note = evidence.against_notes[i, t] > evidence.best_item[i, t]
        if learned is None:
            merit = float(z[i, t] + KEYWORD_Z * min(len(s.keyword_hits), 3) + nudge[i])
            relevance = budget.relevance(merit)
            qualifies = merit >= cfg.offline_z and support >= floors[topic]
        else:
            p = float(np.clip(learned[i], 1e-6, 1 - 1e-6))
            merit = math.log(p / (1 - p))
            relevance = budget.relevance_of(p)
            qualifies = relevance >= cfg.accept_relevance
        ok = excluded[i] is None and not described_by_note and qualifies
        own = {k.lower() for k in [*criteria.topics[t].keywords, *criteria.include_keywords]}
        hits = [k for k in s.keyword_hits if k.lower() in own]  # another topic's keyword is no reason for this one
        reason = (_reason(excluded[i], topic, merit, support, float(nudge[i]), hits, evidence, i, t)
                  if learned is None or excluded[i] else _learned_reason(topic, float(learned[i]), support, described_by_note))
        if learned is None and not excluded[i] and not qualifies:  # the rule that decided, with its setting
            reason += (f"; below the bar ({merit:.2f} < {cfg.offline_z:g}, [screening] offline_z)" if merit < cfg.offline_z else
                       f"; similarity below the floor {floors[topic]:.2f} (the topic's threshold, else [screening] "
                       "similarity_threshold)")
        decisions.append(Decision(paper_id=paper.id, accepted=ok, stage="offline", novelty=0,
                                  relevance=1 if described_by_note else relevance,
                                  topic=topic if ok else None, score=round(merit, 4), reason=reason))
        if ok:
            candidates.append(budget.Candidate(paper_id=paper.id, topic=topic, merit=merit))
            if set(s.keyword_hits) & {*criteria.include_keywords, *criteria.topics[t].keywords}:
                named.add(paper.id)
    if learned is None:  # a learned probability is its own evidence against chance
        keyworded = {t.name for t in criteria.topics if t.keywords}
        passed = Counter(c.topic for c in candidates)
        candidates = _beyond_chance(candidates, decisions, len(papers), cfg.offline_fdr, named, keyworded)
        passed.subtract(c.topic for c in candidates)
    taken, table = budget.allocate(candidates, cfg.max_accepted, criteria.topics)
    if learned is None:
        for row in table:
            row.chance = passed[row.topic]
    for d in decisions:
        if d.accepted and d.stage == "offline" and d.paper_id not in taken:
            d.accepted, d.capped = False, True
            d.reason += f"; cut by the week's cap ({cfg.max_accepted}, shared across topics)"
    return decisions, table


def _beyond_chance(candidates: list[budget.Candidate], decisions: list[Decision], n: int, max_share: float,
                   named: set[str], keyworded: set[str]) -> list[budget.Candidate]:
    """Each topic keeps the candidates above its false-discovery cut (budget.chance_excess); the others are
    rejected, saying so. A week under CHANCE_BACKGROUND papers keeps them all: the chance level of its tail is
    a guess (a daily feed of 95 papers expects under one chance match above 2.5; the labelled astro-ph and
    cs days lost a third of their recall to the cut), and the calibrated threshold alone decides. A rate of
    1 allows any share of chance matches: no cut.

    Where no candidate of a topic stands out at all, similarity is no evidence: a topic with keywords keeps the
    candidates `named` (naming one of them, evidence the user wrote); one without keeps them all, as the
    calibrated threshold decides (the null can't tell a field feed's bulk topic from chance either)."""
    if n < CHANCE_BACKGROUND or max_share >= 1:
        return candidates
    cuts = {topic: budget.chance_excess([c.merit for c in candidates if c.topic == topic], n, max_share)
            for topic in {c.topic for c in candidates}}
    kept = {c.paper_id for c in candidates if c.merit >= cuts[c.topic]
            or (math.isinf(cuts[c.topic]) and (c.paper_id in named or c.topic not in keyworded))}
    for d in decisions:
        if d.accepted and d.stage == "offline" and d.paper_id not in kept:
            d.reason += ("; nothing this topic matched stood out from chance this week, and it names none of the "
                         "topic's keywords" if math.isinf(cuts[str(d.topic)]) else
                         f"; below the topic's chance level this week (more than {max_share:.0%} of papers "
                         "scoring this high would be there by chance)")
            d.accepted, d.topic = False, None
    return [c for c in candidates if c.paper_id in kept]


def _reason(excluded, topic, merit, support, nudge, keyword_hits: list[str], evidence: Evidence, i: int, t: int) -> str:
    if excluded:
        return f"excluded keyword {excluded!r}"
    why = f"{topic!r}: calibrated score {merit:.1f} (similarity {support:.2f})"
    if evidence.against_notes[i, t] > evidence.best_item[i, t]:
        why += f"; closer to its 'not relevant' notes ({evidence.against_notes[i, t]:.2f})"
    if keyword_hits:
        why += f"; keywords: {', '.join(keyword_hits)}"
    if abs(nudge) >= 0.05:
        why += f"; {'+' if nudge > 0 else '−'}{abs(nudge):.1f} from similar labelled papers"
    return why


def _learned_reason(topic, p: float, support: float, described_by_note: bool) -> str:
    shown = min(p, 0.99)  # a calibrated fit says "near certain", never "certain"
    why = f"{topic!r}: {shown:.0%} likely relevant by stage 1's ranking learned from labelled papers (similarity {support:.2f})"
    return why + ("; closer to the topic's 'not relevant' notes" if described_by_note else "")
