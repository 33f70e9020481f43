"""Eval metrics on hand-computed cases: each figure below was worked out on paper."""

import pytest

from brief.evals import metrics as m
from brief.models import Decision, Link, Paper, Review, StageUsage, Summary, Theme, Usage


def decision(pid: str, accepted: bool, relevance: int = 5, topic: str | None = None) -> Decision:
    return Decision(paper_id=pid, accepted=accepted, stage="offline", relevance=relevance, novelty=0,
                    topic=topic, reason="test")


def review(pid: str, confirmed: bool, **summary) -> Review:
    return Review(paper_id=pid, confirmed=confirmed, reason="test", summary=Summary(tldr=summary.pop("tldr", "t"), **summary))


def test_auc_counts_pairs_and_ties():
    assert m.auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0
    assert m.auc([0.1, 0.9, 0.5], [1, 0, 0]) == 0.0
    assert m.auc([0.5, 0.5], [1, 0]) == 0.5
    assert m.auc([0.3, 0.2], [0, 0]) is None, "undefined without positives"


def test_recall_at_share_of_the_ranking():
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    labels = [1, 0, 1, 0, 0, 0, 0, 1, 0, 0]
    assert m.recall_at(scores, labels, 0.1) == pytest.approx(1 / 3)
    assert m.recall_at(scores, labels, 0.3) == pytest.approx(2 / 3)
    assert m.recall_at(scores, labels, 1.0) == 1.0


def test_wss_at_95_reads_until_95_percent_of_positives():
    # 20 papers, 4 positives at ranks 1, 2, 3 and 10: 95% of 4 → all 4 needed → read 10 of 20
    labels = [1, 1, 1] + [0] * 6 + [1] + [0] * 10
    scores = list(range(20, 0, -1))
    assert m.wss_at(scores, labels, 0.95) == pytest.approx(10 / 20 - 0.05)
    # a perfect ranking of 2 positives in 10: read 2, save 0.8 - 0.05
    assert m.wss_at([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(0.75)


def test_the_best_cut_of_a_ranking_sends_what_it_reads_to_reach_the_recall():
    labels = [1, 1, 1] + [0] * 6 + [1] + [0] * 10  # positives at ranks 1, 2, 3 and 10 of 20
    scores = list(range(20, 0, -1))
    assert m.share_to_reach(scores, labels, 0.95) == pytest.approx(10 / 20)  # 95% of 4: all 4
    assert m.share_to_reach(scores, labels, 0.75) == pytest.approx(3 / 20)
    assert m.share_to_reach(scores, [0] * 20) is None


def test_percentiles_rank_within_each_group():
    ranks = m.within_group_percentiles([10, 20, 1, 2, 3], ["a", "a", "b", "b", "b"])
    assert list(ranks) == pytest.approx([0.5, 1.0, 1 / 3, 2 / 3, 1.0])


def test_share_and_recall_of_what_stage_one_sends():
    share, recall = m.share_and_recall_sent({"a", "b"}, {"a": 1, "b": 0, "c": 1, "d": 0})
    assert (share, recall) == (0.5, 0.5)


def test_confusion_precision_recall_f1():
    labels = {"a": 1, "b": 1, "c": 0, "d": 0, "e": 1}
    prf = m.confusion([decision("a", True), decision("b", False), decision("c", True), decision("d", False),
                       decision("e", True), decision("unlabelled", True)], labels)
    assert (prf.tp, prf.fp, prf.fn, prf.tn) == (2, 1, 1, 1)
    assert prf.precision == pytest.approx(2 / 3) and prf.recall == pytest.approx(2 / 3)
    assert prf.f1 == pytest.approx(2 / 3)
    nothing = m.confusion([decision("a", False)], {"a": 1})
    assert nothing.precision is None and nothing.recall == 0 and nothing.f1 == 0.0


def test_per_topic_precision_by_filed_topic_recall_by_gold_topic():
    labels = {"a": 1, "b": 0, "c": 1, "d": 1}
    gold = {"a": "T1", "c": "T1", "d": "T2", "b": None}
    decisions = [decision("a", True, topic="T2"), decision("b", True, topic="T1"), decision("c", False),
                 decision("d", True, topic="T2")]
    out = m.per_topic(decisions, labels, gold, ["T1", "T2"])
    assert out["T1"].precision == 0.0 and out["T1"].recall == 0.5  # a found (filed under T2), c missed
    assert out["T2"].precision == 1.0 and out["T2"].recall == 1.0
    assert out["T1"].f1 == 0.0


def test_calibration_of_relevance_as_probability():
    labels = {"a": 1, "b": 0, "c": 1, "d": 0}
    cal = m.calibration([decision("a", True, 10), decision("b", True, 10), decision("c", False, 0),
                         decision("d", False, 0)], labels)
    # relevance 10 → p 1.0, observed 0.5; relevance 0 → p 0, observed 0.5: ECE 0.5, Brier 0.5
    assert cal.ece == pytest.approx(0.5) and cal.brier == pytest.approx(0.5) and cal.auc == 0.5
    assert [(b.relevance, b.n, b.positive_rate) for b in cal.bins] == [(0, 2, 0.5), (10, 2, 0.5)]


def test_reviewer_agreement_catch_rate_and_false_rejections():
    decisions = {"a": decision("a", True), "b": decision("b", True), "p": decision("p", True), "x": decision("x", False)}
    reviews = {"a": review("a", True), "b": review("b", False), "p": review("p", False)}
    assert m.agreement(decisions, reviews, exclude={"p"}) == 0.5
    assert m.catch_rate(reviews, {"p"}) == 1.0
    assert m.false_rejections(reviews, {"a": 1, "b": 1, "p": 0}) == 0.5
    assert m.catch_rate(reviews, set()) is None


def test_citation_validity_and_coverage():
    themes = [Theme(name="t", paper_ids=["1", "2"], prose="A [arXiv:2601.00001] and [arXiv:2601.00002] vs [arXiv:9999.99999].")]
    overview = "See [arXiv:2601.00001]."
    known = {"2601.00001", "2601.00002"}
    assert m.citation_validity(themes, overview, known) == pytest.approx(3 / 4)
    assert m.citation_validity(themes, overview, known, repaired=2) == pytest.approx(3 / 6)
    assert m.coverage(themes, overview, ["2601.00001", "2601.00002", "2601.00003", "2601.00004"]) == 0.5
    assert m.coverage([], "", []) is None


def test_link_quality_needs_a_shared_author_or_a_rare_term():
    a = Paper(id="1", title="Gaussian splatting for SLAM", abstract="We fuse gaussian splatting with visual odometry.", authors=["Ann Lee"])
    b = Paper(id="2", title="Splatting maps", abstract="Dense gaussian splatting maps for robots.", authors=["Bo Chen"])
    c = Paper(id="3", title="A survey", abstract="We review robots and learning.", authors=["A. Lee"])
    d = Paper(id="4", title="Other", abstract="We study robots and learning broadly.", authors=["Cy Dee"])
    papers = {p.id: p for p in (a, b, c, d)}
    background = [p.text_for_embedding() for p in papers.values()] + ["filler text about weather"] * 200
    shares = m.document_shares(background)

    def link(pid: str) -> Link:
        return Link(id=pid, title="", week="2026-W01", similarity=0.7)

    assert m.link_is_explained(a, b, shares), "shares the rare term 'gaussian splatting'"
    assert not m.link_is_explained(c, d, {t: 0.5 for t in shares}), "only common terms, different authors"
    assert m.link_is_explained(Paper(id="5", title="x", authors=["Ann Lee"]), a, {}), "same author"
    common = {t: (0.001 if "splatting" in t else 0.5) for t in shares}
    assert m.link_quality({"1": [link("2")], "3": [link("4")]}, papers, common) == 0.5
    assert m.link_quality({}, papers, shares) is None


def test_summary_sentences_skip_placeholders_and_repeats():
    s = Summary(tldr="We propose X for Y tasks today.", method="We propose X for Y tasks today.",
                results="It gains 5 points. It is fast on big inputs.", limitations="not stated in the abstract")
    assert m.summary_sentences(s) == ["We propose X for Y tasks today.", "It gains 5 points.", "It is fast on big inputs."]


def test_lexical_support_rejects_invented_numbers_and_foreign_words():
    abstract = "We propose GlassGrasp, a diffusion policy for transparent objects, with a 23% higher success rate."
    assert m.lexical_support("GlassGrasp is a diffusion policy for transparent objects.", abstract)
    assert not m.lexical_support("GlassGrasp improves success by 45%.", abstract), "45% is not in the abstract"
    assert not m.lexical_support("A quantum chemistry solver for molecular orbitals.", abstract)
    paper = Paper(id="1", title="t", abstract=abstract)
    reviews = {"1": review("1", True, tldr="GlassGrasp is a diffusion policy for transparent objects.",
                           results="Success rises by 45%.")}
    assert m.lexical_grounding(reviews, {"1": paper}) == 0.5


def test_cost_per_accept_counts_only_the_products_stages():
    usage = Usage(model="m", stages={
        "screen": StageUsage(calls=4, input_tokens=1000, output_tokens=200, cost_usd=0.01),
        "review": StageUsage(calls=2, input_tokens=300, output_tokens=100, cost_usd=0.002),
        "judge": StageUsage(calls=9, input_tokens=9000, output_tokens=900, cost_usd=0.5),
    })
    figures = m.cost_per_accept(usage, accepted=4, screened=16)
    assert figures.calls == 6 and figures.tokens_per_accept == 400 and figures.tokens_per_paper == 100
    assert figures.usd_per_accept == pytest.approx(0.003)
    assert m.cost_per_accept(usage, accepted=0, screened=0).tokens_per_accept is None
    unpriced = usage.model_copy(update={"price_known": False})
    assert m.cost_per_accept(unpriced, accepted=4, screened=16).usd_per_accept is None, "unknown, not $0"


def test_a_models_own_not_stated_wording_is_no_claim():
    from brief.evals.metrics import summary_sentences

    summary = Summary(tldr="We grasp glass.", problem="N/A", results="Not mentioned.",
                      limitations="Not stated explicitly, but grasps fail on wet glass.")
    assert summary_sentences(summary) == ["We grasp glass.", "Not stated explicitly, but grasps fail on wet glass."]
