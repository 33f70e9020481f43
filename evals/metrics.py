"""Eval metrics: plain functions over the records the agents produce (Decision, Review, Theme, Link, Usage).

Every function returns None when the metric is undefined on its input (no positives, nothing accepted),
so a report can say "n/a" rather than print a misleading 0 or 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel

from brief.agents.prefilter import share_for_recall
from brief.models import Decision, Link, Paper, Review, Summary, Theme, Usage, unstated
from brief.ids import citations, cite_key
from brief.numeric import roc_auc
from brief.text import terms, tokens

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?%?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


# -- ranking (stage 1) ---------------------------------------------------------------------------------

def _ranked_labels(scores: Sequence[float], labels: Sequence[int]) -> np.ndarray:
    """Labels in ranking order, best score first; ties keep input order (deterministic)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    return np.asarray(labels, dtype=int)[order]


def auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Ranking AUC: the chance a random positive outranks a random negative (ties count half)."""
    y = np.asarray(labels, dtype=int)
    if y.sum() == 0 or y.sum() == len(y):
        return None
    return roc_auc(y, np.asarray(scores, dtype=float))


def recall_at(scores: Sequence[float], labels: Sequence[int], share: float) -> float | None:
    """Share of positives in the top `share` of the ranking (at least one paper)."""
    ranked = _ranked_labels(scores, labels)
    if ranked.sum() == 0:
        return None
    k = max(1, int(round(len(ranked) * share)))
    return float(ranked[:k].sum() / ranked.sum())


def share_to_reach(scores: Sequence[float], labels: Sequence[int], recall: float = 0.95) -> float | None:
    """The share the best cut of this ranking sends for `recall` (stage 1's `share_for_recall`), None without
    positives (its 0.0 there would read as a perfect ranking)."""
    y = np.asarray(labels, dtype=int)
    return share_for_recall(np.asarray(scores, dtype=float), y, recall) if y.sum() else None


def wss_at(scores: Sequence[float], labels: Sequence[int], recall: float = 0.95) -> float | None:
    """Work saved over sampling at `recall` (Cohen et al. 2006): share of papers left unread when reading
    in ranking order until `recall` of the positives are found, minus the 1 − recall random reading saves."""
    share = share_to_reach(scores, labels, recall)
    return None if share is None else 1 - share - (1 - recall)


def within_group_percentiles(scores: Sequence[float], groups: Sequence[str]) -> np.ndarray:
    """Each score's rank within its group as a share in (0, 1], 1 = the group's best.

    Stage 1 ranks one week at a time (and may use a different learned model each week), so pooled
    ranking metrics compare papers by their standing within their own week.
    """
    scores = np.asarray(scores, dtype=float)
    out = np.zeros(len(scores))
    groups = np.asarray(groups)
    for group in np.unique(groups):
        idx = np.flatnonzero(groups == group)
        order = np.argsort(np.argsort(scores[idx], kind="stable"), kind="stable")
        out[idx] = (order + 1) / len(idx)
    return out


def share_and_recall_sent(sent: set[str], labels: Mapping[str, int]) -> tuple[float | None, float | None]:
    """(share of papers stage 1 sends on, share of positives among them): the cut's cost and its recall."""
    if not labels:
        return None, None
    positives = [pid for pid, y in labels.items() if y]
    share = sum(1 for pid in labels if pid in sent) / len(labels)
    return share, (sum(1 for pid in positives if pid in sent) / len(positives) if positives else None)


# -- screening -----------------------------------------------------------------------------------------

class PRF(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.fn)

    @property
    def f1(self) -> float | None:
        return f1_score(self.precision, self.recall)


def ratio(hits: int, misses: int) -> float | None:
    """hits / (hits + misses); None when there were none."""
    return hits / (hits + misses) if hits + misses else None


def f1_score(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:  # nothing accepted: f1 is 0 when positives existed, else undefined
        return 0.0 if recall == 0 else None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def confusion(decisions: Iterable[Decision], labels: Mapping[str, int]) -> PRF:
    """Accepted vs labelled positive, over the decisions that have a label."""
    out = PRF()
    for d in decisions:
        if d.paper_id not in labels:
            continue
        y = labels[d.paper_id]
        key = ("tp" if y else "fp") if d.accepted else ("fn" if y else "tn")
        setattr(out, key, getattr(out, key) + 1)
    return out


class TopicScores(BaseModel):
    """Precision over the accepts the screener filed under a topic; recall over the positives the labeller
    matched to it (accepted under any topic: the reader sees the paper either way)."""

    filed_positive: int = 0
    filed_negative: int = 0
    found: int = 0
    missed: int = 0

    @property
    def precision(self) -> float | None:
        return ratio(self.filed_positive, self.filed_negative)

    @property
    def recall(self) -> float | None:
        return ratio(self.found, self.missed)

    @property
    def f1(self) -> float | None:
        return f1_score(self.precision, self.recall)


def per_topic(decisions: Iterable[Decision], labels: Mapping[str, int], gold: Mapping[str, str | None],
              topics: Sequence[str]) -> dict[str, TopicScores]:
    out = {t: TopicScores() for t in topics}
    accepted = set()
    for d in decisions:
        if d.accepted:
            accepted.add(d.paper_id)
            if d.topic in out and d.paper_id in labels:
                if labels[d.paper_id]:
                    out[d.topic].filed_positive += 1
                else:
                    out[d.topic].filed_negative += 1
    for pid, topic in gold.items():
        if topic in out and labels.get(pid):
            if pid in accepted:
                out[topic].found += 1
            else:
                out[topic].missed += 1
    return out


class CalibrationBin(BaseModel):
    relevance: int
    n: int
    positive_rate: float


class Calibration(BaseModel):
    ece: float | None
    brier: float | None
    auc: float | None
    bins: list[CalibrationBin]


def calibration(decisions: Iterable[Decision], labels: Mapping[str, int]) -> Calibration:
    """How well relevance (0-10, read as a probability r/10) matches the share of labelled positives.

    ECE: the gap between stated and observed rates, averaged over relevance values weighted by count.
    """
    pairs = [(d.relevance, labels[d.paper_id]) for d in decisions if d.paper_id in labels]
    if not pairs:
        return Calibration(ece=None, brier=None, auc=None, bins=[])
    rel = np.array([r for r, _ in pairs], dtype=float)
    y = np.array([t for _, t in pairs], dtype=float)
    bins = []
    ece = 0.0
    for value in sorted(set(rel.astype(int))):
        mask = rel == value
        rate = float(y[mask].mean())
        bins.append(CalibrationBin(relevance=int(value), n=int(mask.sum()), positive_rate=round(rate, 4)))
        ece += mask.sum() / len(y) * abs(value / 10 - rate)
    return Calibration(ece=float(ece), brier=float(np.mean((rel / 10 - y) ** 2)), auc=auc(rel, y.astype(int)), bins=bins)


# -- reviewer ------------------------------------------------------------------------------------------

def agreement(decisions: Mapping[str, Decision], reviews: Mapping[str, Review], exclude: set[str] = frozenset()) -> float | None:
    """Share of the screener's accepts the reviewer confirmed."""
    accepted = [pid for pid, d in decisions.items() if d.accepted and pid in reviews and pid not in exclude]
    return sum(reviews[pid].confirmed for pid in accepted) / len(accepted) if accepted else None


def catch_rate(reviews: Mapping[str, Review], planted: set[str]) -> float | None:
    """Share of planted off-topic papers (handed to the reviewer as accepts) that it rejected."""
    seen = [pid for pid in planted if pid in reviews]
    return sum(not reviews[pid].confirmed for pid in seen) / len(seen) if seen else None


def false_rejections(reviews: Mapping[str, Review], labels: Mapping[str, int]) -> float | None:
    """Share of labelled positives the reviewer rejected (what a second look costs in recall)."""
    positives = [pid for pid, r in reviews.items() if labels.get(pid)]
    return sum(not reviews[pid].confirmed for pid in positives) / len(positives) if positives else None


# -- synthesis -----------------------------------------------------------------------------------------

def cited_keys(themes: Iterable[Theme], overview: str) -> list[str]:
    return [c for t in themes for c in citations(t.prose)] + citations(overview)


def citation_validity(themes: Sequence[Theme], overview: str, known_ids: set[str], repaired: int = 0) -> float | None:
    """Share of the citations the synthesiser produced that resolve to a paper of this run or memory.

    `repaired` counts invalid citations it produced and had to regenerate or strip: they count as invalid.
    """
    known = {cite_key(i) for i in known_ids}
    cited = cited_keys(themes, overview)
    total = len(cited) + repaired
    return sum(c in known for c in cited) / total if total else None


def coverage(themes: Sequence[Theme], overview: str, accepted_ids: Iterable[str]) -> float | None:
    """Share of the accepted papers the briefing's prose actually discusses (cites)."""
    accepted = {cite_key(i) for i in accepted_ids}
    if not accepted:
        return None
    return len(accepted & set(cited_keys(themes, overview))) / len(accepted)


def _norm_author(name: str) -> str:
    return " ".join(name.lower().replace(".", " ").split())


def link_is_explained(a: Paper, b: Paper, document_share: Mapping[str, float], rare: float = 0.02) -> bool:
    """Two papers share an author, or a term that fewer than `rare` of the background documents use."""
    if {_norm_author(x) for x in a.authors} & {_norm_author(x) for x in b.authors}:
        return True
    common = set(terms(a.text_for_embedding())) & set(terms(b.text_for_embedding()))
    return any(document_share.get(t, 0.0) < rare for t in common)


def link_quality(links: Mapping[str, list[Link]], papers: Mapping[str, Paper], document_share: Mapping[str, float]) -> float | None:
    """Share of links whose two papers share authors or distinctive terms (recomputed, not read from the Link)."""
    pairs = [(papers[src], papers[link.id]) for src, ls in links.items() for link in ls
             if src in papers and link.id in papers]
    return sum(link_is_explained(a, b, document_share) for a, b in pairs) / len(pairs) if pairs else None


def document_shares(texts: Iterable[str]) -> dict[str, float]:
    counts: dict[str, int] = {}
    n = 0
    for text in texts:
        n += 1
        for term in set(terms(text)):
            counts[term] = counts.get(term, 0) + 1
    return {t: c / n for t, c in counts.items()} if n else {}


def summary_sentences(summary: Summary) -> list[str]:
    """The summary's claims, one per sentence, without "not stated" placeholders or repeats."""
    out: list[str] = []
    for field in (summary.tldr, summary.problem, summary.method, summary.results, summary.limitations):
        if not field or unstated(field):
            continue
        for sentence in _SENTENCE_END.split(" ".join(field.split())):
            if sentence and sentence not in out:
                out.append(sentence)
    return out


def lexical_support(sentence: str, abstract: str, min_overlap: float = 0.6) -> bool:
    """A sentence is lexically supported when most of its content words occur in the abstract and every
    number it states does. A cheap, clearly weaker stand-in for a judge: it can't see paraphrase or negation."""
    words = set(tokens(sentence))
    source = set(tokens(abstract))
    numbers = set(_NUMBER.findall(sentence))
    if numbers - set(_NUMBER.findall(abstract)):
        return False
    return not words or len(words & source) / len(words) >= min_overlap


def lexical_grounding(reviews: Mapping[str, Review], papers: Mapping[str, Paper]) -> float | None:
    """Share of summary sentences lexically supported by their paper's abstract."""
    checks = [lexical_support(s, papers[pid].abstract) for pid, r in reviews.items() if pid in papers
              for s in summary_sentences(r.summary)]
    return sum(checks) / len(checks) if checks else None


# -- cost ----------------------------------------------------------------------------------------------

class CostFigures(BaseModel):
    calls: int
    input_tokens: int
    output_tokens: int
    usd: float
    tokens_per_accept: float | None
    usd_per_accept: float | None
    tokens_per_paper: float | None


def cost_per_accept(usage: Usage, accepted: int, screened: int, stages: Sequence[str] = ("screen", "review", "synthesise")) -> CostFigures:
    """Tokens and dollars the product's own LLM stages spent, per paper that reached the briefing; dollars
    None when the model has no price (`[llm] prices`): unknown, not free."""
    spent = [usage.stages[s] for s in stages if s in usage.stages]
    tokens_in = sum(s.input_tokens for s in spent)
    tokens_out = sum(s.output_tokens for s in spent)
    usd = sum(s.cost_usd for s in spent)
    return CostFigures(
        calls=sum(s.calls for s in spent), input_tokens=tokens_in, output_tokens=tokens_out, usd=round(usd, 6),
        tokens_per_accept=(tokens_in + tokens_out) / accepted if accepted else None,
        usd_per_accept=usd / accepted if accepted and usage.price_known else None,
        tokens_per_paper=(tokens_in + tokens_out) / screened if screened else None,
    )
