"""What a week leaves in memory: the one rule, used by the weekly graph's remember node and the evals replay.

Confirmed accepts (the screener accepted, the reviewer confirmed; best first) go to memory's `papers`;
the papers a judge screened out go to `seen` as rejected; the papers stage 1 cut unjudged go to `seen` as
cut (never screened twice, weak evidence for learning); papers left unscreened are not remembered, so the
next run screens them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brief.models import Decision, Paper, Review


@dataclass
class Remembered:
    accepted: list[Paper]
    rejected: list[Paper]
    cut: list[Paper]

    @property
    def total(self) -> int:
        return len(self.accepted) + len(self.rejected) + len(self.cut)


def confirmed(papers: list[Paper], decisions: dict[str, Decision], reviews: dict[str, Review]) -> list[Paper]:
    """Papers the screener accepted and the reviewer confirmed, best first."""
    keep = [p for p in papers if decisions.get(p.id) and decisions[p.id].accepted
            and reviews.get(p.id) and reviews[p.id].confirmed]
    return sorted(keep, key=lambda p: (-decisions[p.id].relevance, -decisions[p.id].score))


def sort_for_memory(papers: list[Paper], decisions: dict[str, Decision], reviews: dict[str, Review]) -> Remembered:
    accepted = confirmed(papers, decisions, reviews)
    kept = {p.id for p in accepted}
    rejected = [p for p in papers if p.id in decisions and p.id not in kept
                and decisions[p.id].stage not in ("unscreened", "prefilter")]
    cut = [p for p in papers if p.id in decisions and decisions[p.id].stage == "prefilter"]
    return Remembered(accepted, rejected, cut)


@dataclass
class Write:
    """One memory.remember call: these papers, under this status, with these fields."""

    papers: list[Paper]
    status: str
    fields: dict[str, Any]


def writes(sorted_: Remembered, decisions: dict[str, Decision], reviews: dict[str, Review], run_id: str = "",
           extra: dict[str, Any] | None = None) -> list[Write]:
    """What to write, in order: accepts with topic and summary, rejects with topic, cuts bare. `extra` (e.g.
    who judged) goes with the judged ones only, and so do their marks (memory.labels reads them): `capped`, a
    reject the week's cap left out (the judge found it relevant, and stage 1 learns it as such); `audit_p`,
    the probability it was drawn into the audit below stage 1's cut (0: it was not); `stage`, who decided.
    The caller writes them (a graph's remember node is the only node that writes memory)."""
    accepted, rejected = sorted_.accepted, sorted_.rejected
    marks = {p.id: {"capped": decisions[p.id].capped, "audit_p": decisions[p.id].audit_p or 0.0,
                    "stage": decisions[p.id].stage} for p in accepted + rejected}
    return [
        Write(accepted, "accepted", {"topics": {p.id: decisions[p.id].topic or "" for p in accepted},
                                     "tldrs": {p.id: reviews[p.id].summary.tldr for p in accepted},
                                     "run_id": run_id, "extra": extra, "marks": marks}),
        Write(rejected, "rejected", {"topics": {p.id: decisions[p.id].topic or "" for p in rejected},
                                     "run_id": run_id, "extra": extra, "marks": marks}),
        Write(sorted_.cut, "cut", {"run_id": run_id, "abstracts": False}),
    ]
