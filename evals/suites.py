"""The five suites: each turns a replay's trace into named metrics, through the plain functions of metrics.py.

A metric's value is a number, None (undefined on this set: "n/a"), or a string starting with "skipped:"
(it needs something this run lacks, e.g. a model). `SPECS` says which way is better and whether a
baseline check gates on it; per-topic figures and counts are informational.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from brief.evals import metrics as m
from brief.evals.pipeline import Trace

SUITES = ("prefilter", "screening", "reviewer", "synthesis", "cost")
NO_MODEL = "skipped: no model"
Value = float | int | str | None


class Spec(BaseModel):
    better: str | None  # "higher", "lower", or None for counts and context
    gate: bool = True
    amount: bool = False  # tokens and dollars: tolerance is relative, not absolute
    about: str = ""


SPECS: dict[str, Spec] = {
    "prefilter.auc": Spec(better="higher", about="ranking AUC of stage 1, within each week"),
    "prefilter.recall@10%": Spec(better="higher", about="positives in the top 10% of each week's ranking"),
    "prefilter.recall@20%": Spec(better="higher"),
    "prefilter.recall@cut": Spec(better="higher", about="positives in the top llm_share of the ranking"),
    "prefilter.wss@95": Spec(better="higher", about="work saved over sampling at 95% recall"),
    "prefilter.share_sent": Spec(better="lower", about="share stage 1 sends to the LLM (cut + keyword/author hits + audit)"),
    "prefilter.recall_sent": Spec(better="higher", about="positives among the papers sent to the LLM"),
    "prefilter.share_cut": Spec(better="lower", about="share the cut sends on its own (with keyword/author hits, "
                                "without the audit sample)"),
    "prefilter.recall_cut": Spec(better="higher", about="positives among the cut's own papers"),
    "prefilter.share_best@95": Spec(better="lower", about="share the best cut of the same ranking sends for recall 0.95"),
    "prefilter.auc_cold": Spec(better="higher", about="topic similarity alone, for comparison"),
    "prefilter.wss@95_cold": Spec(better="higher"),
    "screening.precision": Spec(better="higher"),
    "screening.recall": Spec(better="higher"),
    "screening.f1": Spec(better="higher"),
    "screening.accepted": Spec(better=None, gate=False),
    "screening.relevance_auc": Spec(better="higher", about="relevance scores ranked against labels"),
    "screening.ece": Spec(better="lower", about="calibration error of relevance/10 as a probability"),
    "screening.brier": Spec(better="lower"),
    "reviewer.agreement": Spec(better="higher", about="share of the screener's accepts confirmed"),
    "reviewer.catch_rate": Spec(better="higher", about="planted off-field papers rejected"),
    "reviewer.false_rejections": Spec(better="lower", about="labelled positives rejected"),
    "reviewer.planted": Spec(better=None, gate=False),
    "synthesis.citation_validity": Spec(better="higher"),
    "synthesis.coverage": Spec(better="higher", about="accepted papers the prose cites"),
    "synthesis.link_quality": Spec(better="higher", about="links whose papers share authors or rare terms"),
    "synthesis.grounding_judge": Spec(better="higher", about="summary sentences an LLM judge finds supported"),
    "synthesis.grounding_lexical": Spec(better="higher", about="lexical overlap with the abstract (no model)"),
    "synthesis.links": Spec(better=None, gate=False),
    "synthesis.themes": Spec(better=None, gate=False),
    "cost.tokens_per_accept": Spec(better="lower", amount=True),
    "cost.usd_per_accept": Spec(better="lower", amount=True),
    "cost.tokens_per_paper": Spec(better="lower", amount=True, about="tokens per screened paper"),
    "cost.calls": Spec(better=None, gate=False),
}
_TOPIC = re.compile(r"^screening\.(precision|recall|f1)\[.*\]$")


def spec(name: str) -> Spec:
    if name in SPECS:
        return SPECS[name]
    if _TOPIC.match(name):
        return Spec(better="higher", gate=False, about="per topic")
    return Spec(better=None, gate=False)


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def prefilter(trace: Trace, llm_share: float) -> dict[str, Value]:
    labels = trace.labels
    ids = [pid for w in trace.stage1 for pid in w.ids]
    y = [labels[pid] for pid in ids]
    groups = [w.week for w in trace.stage1 for _ in w.ids]
    ranks = m.within_group_percentiles(np.concatenate([w.scores for w in trace.stage1]), groups)
    sent = set().union(*(w.sent for w in trace.stage1))
    share, recall_sent = m.share_and_recall_sent(sent, labels)
    # the audit measures the cut's recall: the cut's own figures leave it out, as the best cut has none
    share_cut, recall_cut = m.share_and_recall_sent(sent - set().union(*(w.audit for w in trace.stage1)), labels)
    out: dict[str, Value] = {
        "prefilter.auc": _r(_weekly_auc(trace, "scores")),
        "prefilter.recall@10%": _r(m.recall_at(ranks, y, 0.10)),
        "prefilter.recall@20%": _r(m.recall_at(ranks, y, 0.20)),
        "prefilter.recall@cut": _r(m.recall_at(ranks, y, llm_share)),
        "prefilter.wss@95": _r(m.wss_at(ranks, y, 0.95)),
        "prefilter.share_sent": _r(share),
        "prefilter.recall_sent": _r(recall_sent),
        "prefilter.share_cut": _r(share_cut),
        "prefilter.recall_cut": _r(recall_cut),
        "prefilter.share_best@95": _r(m.share_to_reach(ranks, y, 0.95)),
    }
    if any(w.trained_on for w in trace.stage1):
        cold = m.within_group_percentiles(np.concatenate([w.cold for w in trace.stage1]), groups)
        out["prefilter.auc_cold"] = _r(_weekly_auc(trace, "cold"))
        out["prefilter.wss@95_cold"] = _r(m.wss_at(cold, y, 0.95))
    return out


def _weekly_auc(trace: Trace, attr: str) -> float | None:
    """AUC over within-week pairs, weighted by each week's positive × negative pairs: the ordering that
    matters, since each week is cut on its own."""
    labels = trace.labels
    total, weight = 0.0, 0
    for w in trace.stage1:
        y = np.array([labels[pid] for pid in w.ids])
        value = m.auc(getattr(w, attr), y)
        if value is not None:
            pairs = int(y.sum() * (len(y) - y.sum()))
            total, weight = total + value * pairs, weight + pairs
    return total / weight if weight else None


def screening(trace: Trace) -> dict[str, Value]:
    labels = trace.labels
    decisions = [d for pid, d in trace.decisions.items() if pid in labels]
    prf = m.confusion(decisions, labels)
    cal = m.calibration(decisions, labels)
    out: dict[str, Value] = {
        "screening.precision": _r(prf.precision), "screening.recall": _r(prf.recall), "screening.f1": _r(prf.f1),
        "screening.accepted": prf.tp + prf.fp,
        "screening.relevance_auc": _r(cal.auc), "screening.ece": _r(cal.ece), "screening.brier": _r(cal.brier),
    }
    gold = {i.paper.id: i.topic for i in trace.dataset.items}
    for topic, scores in m.per_topic(decisions, labels, gold, [t.name for t in trace.dataset.criteria.topics]).items():
        out[f"screening.precision[{topic}]"] = _r(scores.precision)
        out[f"screening.recall[{topic}]"] = _r(scores.recall)
        out[f"screening.f1[{topic}]"] = _r(scores.f1)
    return out


def reviewer(trace: Trace) -> dict[str, Value]:
    planted = set(trace.planted)
    real = {pid: d for pid, d in trace.decisions.items() if pid not in planted}
    return {
        "reviewer.agreement": _r(m.agreement(real, trace.reviews)),
        "reviewer.catch_rate": _r(m.catch_rate(trace.reviews, planted)),
        "reviewer.false_rejections": _r(m.false_rejections(trace.reviews, trace.labels)),
        "reviewer.planted": len([pid for pid in planted if pid in trace.reviews]),
    }


def synthesis(trace: Trace) -> dict[str, Value]:
    weeks = trace.weeks
    papers = trace.papers
    valid = cited = 0
    covered = accepted = 0
    for w in weeks:
        keys = m.cited_keys(w.synthesis.themes, w.synthesis.overview)
        share = m.citation_validity(w.synthesis.themes, w.synthesis.overview, w.known,
                                    repaired=sum(len(r.invalid) for r in w.synthesis.repairs))
        n = len(keys) + sum(len(r.invalid) for r in w.synthesis.repairs)
        valid, cited = valid + (share or 0) * n, cited + n
        cov = m.coverage(w.synthesis.themes, w.synthesis.overview, w.accepted)
        covered, accepted = covered + (cov or 0) * len(w.accepted), accepted + len(w.accepted)
    shares = m.document_shares(p.text_for_embedding() for p in papers.values())
    links = {src: ls for w in weeks for src, ls in w.links.items()}
    confirmed = {pid: trace.reviews[pid] for w in weeks for pid in w.accepted}
    return {
        "synthesis.citation_validity": _r(valid / cited) if cited else None,
        "synthesis.coverage": _r(covered / accepted) if accepted else None,
        "synthesis.link_quality": _r(m.link_quality(links, papers, shares)),
        "synthesis.grounding_judge": _judge_score(trace),
        "synthesis.grounding_lexical": _r(m.lexical_grounding(confirmed, papers)),
        "synthesis.links": sum(len(ls) for ls in links.values()),
        "synthesis.themes": sum(len(w.synthesis.themes) for w in weeks),
    }


def _judge_score(trace: Trace) -> Value:
    if trace.usage.model is None:
        return NO_MODEL
    judged = [j for j in trace.judged if j.error is None]
    sentences = sum(j.sentences for j in judged)
    return _r(sum(j.supported for j in judged) / sentences) if sentences else None


def cost(trace: Trace) -> dict[str, Value]:
    if trace.usage.model is None:
        return {k: NO_MODEL for k in ("cost.tokens_per_accept", "cost.usd_per_accept", "cost.tokens_per_paper", "cost.calls")}
    accepted = sum(len(w.accepted) for w in trace.weeks)
    figures = m.cost_per_accept(trace.usage, accepted, len(trace.dataset.items))
    return {
        "cost.tokens_per_accept": _r(figures.tokens_per_accept, 1),
        "cost.usd_per_accept": _r(figures.usd_per_accept, 6),
        "cost.tokens_per_paper": _r(figures.tokens_per_paper, 1),
        "cost.calls": figures.calls,
    }


def compute(suite: str, trace: Trace, llm_share: float) -> dict[str, Value]:
    table: dict[str, Callable[[], dict[str, Value]]] = {
        "prefilter": lambda: prefilter(trace, llm_share),
        "screening": lambda: screening(trace),
        "reviewer": lambda: reviewer(trace),
        "synthesis": lambda: synthesis(trace),
        "cost": lambda: cost(trace),
    }
    return table[suite]()


def details(trace: Trace) -> dict:
    """Context for the JSON: stage 1's rankers per week, calibration bins, per-stage usage, judge misses."""
    labels = trace.labels
    out: dict = {
        "stage1": [{"week": w.week, "papers": len(w.ids), "positives": sum(labels[i] for i in w.ids),
                    "ranker": w.ranker, "trained_on": w.trained_on, "sent": len(w.sent), "audit": len(w.audit)}
                   for w in trace.stage1],
    }
    if trace.decisions:
        out["calibration"] = [b.model_dump() for b in m.calibration(
            [d for pid, d in trace.decisions.items() if pid in labels], labels).bins]
    if trace.usage.stages:
        out["usage"] = {k: v.model_dump() for k, v in trace.usage.stages.items()}
    if trace.judged:
        out["judge"] = {"papers": len(trace.judged), "errors": sum(j.error is not None for j in trace.judged),
                        "unsupported_examples": [s for j in trace.judged for s in j.unsupported][:5]}
    caught = [pid for pid in trace.planted if pid in trace.reviews and not trace.reviews[pid].confirmed]
    if trace.planted:
        out["planted"] = {"papers": len(trace.planted), "caught": caught}
    return out
